//! The deadline watch (期限预警) of one ledger item: the thresholds its legal deadlines passed — due soon,
//! due today, overdue — each recorded once, and the supervision proposals (督办建议) made from an overdue
//! duty, a breached obligation or an order left unanswered, each issued or dismissed by a person at the
//! joint meeting office. Nothing here issues an order: a proposal is a recorded suggestion.
//!
//! Kept in the political-legal committee's store, one stream per watched item
//! (`deadline_watch-<item key>`), so the watch's history never grows with the district's.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::{DeadlineKind, HolidayCalendar, Period, legal_date};
use crate::error::DomainError;
use crate::ids::{ItemRef, SupervisionOrderId, UnitId};
use crate::rule::Rule;
use crate::supervision::{EscalationLevel, ORDER_FEEDBACK, OrderAction, SupervisionReason};

/// How far ahead "due soon" is announced unless a district configures otherwise: three working days.
pub const DUE_SOON: Period = Period::working(3);

/// Longest reason a supervisor gives for dismissing a proposal.
pub const MAX_REASON_CHARS: usize = 2000;

/// A point in a deadline's life the watch announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Within the due-soon period before the last day.
    DueSoon,
    /// The last day.
    DueToday,
    /// Past the last day, the duty not met.
    Overdue,
}

impl Threshold {
    /// The stable name, as events and the APIs spell it: `due_soon`.
    pub fn as_str(self) -> &'static str {
        match self {
            Threshold::DueSoon => "due_soon",
            Threshold::DueToday => "due_today",
            Threshold::Overdue => "overdue",
        }
    }

    /// The threshold an open deadline due `due_on` stands at on `today`, if any: due soon from the day
    /// `due_soon` (counted back in its own way) before the last day.
    pub fn on(
        due_on: NaiveDate,
        today: NaiveDate,
        calendar: &HolidayCalendar,
        due_soon: Period,
    ) -> Option<Threshold> {
        if today > due_on {
            Some(Threshold::Overdue)
        } else if today == due_on {
            Some(Threshold::DueToday)
        } else if calendar.due(today, due_soon) >= due_on {
            Some(Threshold::DueSoon)
        } else {
            None
        }
    }
}

/// What a supervision proposal arises from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum ProposalSource {
    /// A unit's legal duty on the item passed its last day.
    OverdueDeadline {
        /// Which deadline.
        deadline: DeadlineKind,
        /// Its last day.
        due_on: NaiveDate,
    },
    /// A unit breached an obligation of an agreement on the matter (art. 33).
    BreachedObligation {
        /// The agreement.
        agreement_id: String,
        /// The obligation.
        obligation_id: String,
    },
    /// The supervised unit did not answer the order (the item) by its due date: escalate (arts. 39–40).
    UnansweredOrder {
        /// The order's due date.
        due_on: NaiveDate,
    },
}

impl ProposalSource {
    /// The rule the proposal rests on.
    pub fn rule(&self) -> Rule {
        match self {
            ProposalSource::OverdueDeadline { deadline, .. } => deadline.rule(),
            ProposalSource::BreachedObligation { .. } => Rule::Art33,
            ProposalSource::UnansweredOrder { .. } => Rule::Arts39To40,
        }
    }

    /// The source's stable name: `overdue_deadline`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProposalSource::OverdueDeadline { .. } => "overdue_deadline",
            ProposalSource::BreachedObligation { .. } => "breached_obligation",
            ProposalSource::UnansweredOrder { .. } => "unanswered_order",
        }
    }

    /// True when issuing the proposal escalates the order it is about rather than issuing a new one.
    pub fn escalates(&self) -> bool {
        matches!(self, ProposalSource::UnansweredOrder { .. })
    }

    /// Why, in Chinese and English, for the supervisor and the unit.
    fn reason(&self, item: &ItemRef, unit: &UnitId) -> String {
        let item = item.key();
        match self {
            ProposalSource::OverdueDeadline { deadline, due_on } => format!(
                "{item} 的{}期限已于 {due_on} 届满，{unit} 未履行（{}）。The {deadline} deadline of {item} \
                 fell due on {due_on} and {unit} has not met it ({}).",
                deadline_zh(*deadline),
                deadline.rule(),
                deadline.rule()
            ),
            ProposalSource::BreachedObligation {
                agreement_id,
                obligation_id,
            } => format!(
                "{unit} 未履行 {item} 协议 {agreement_id} 的第 {obligation_id} 项义务（art. 33）。{unit} \
                 breached obligation {obligation_id} of agreement {agreement_id} on {item} (art. 33)."
            ),
            ProposalSource::UnansweredOrder { due_on } => format!(
                "督办函 {item} 已于 {due_on} 到期，{unit} 未反馈，建议升级督办（arts. 39–40）。Order {item} \
                 fell due on {due_on} without an answer from {unit}: escalate (arts. 39–40)."
            ),
        }
    }
}

/// The Chinese name of a deadline, for proposals' reasons.
fn deadline_zh(kind: DeadlineKind) -> &'static str {
    match kind {
        DeadlineKind::ForwardOrAssign => "转送交办",
        DeadlineKind::ReceiptNotice => "告知",
        DeadlineKind::RoutingObjection => "异议",
        DeadlineKind::Handling => "办理",
        DeadlineKind::ReviewRequest => "复查申请",
        DeadlineKind::ReviewOpinion => "复查意见",
        DeadlineKind::ReReviewRequest => "复核申请",
        DeadlineKind::ReReviewOpinion => "复核意见",
        DeadlineKind::Resolution => "化解",
        DeadlineKind::SupervisionFeedback => "督办反馈",
    }
}

/// Where a proposal stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ProposalStatus {
    /// Awaiting a supervisor.
    Open,
    /// Issued as (or escalated) this order.
    Issued {
        /// The order.
        order_id: SupervisionOrderId,
        /// The day.
        on: NaiveDate,
    },
    /// Dismissed.
    Dismissed {
        /// Why.
        reason: String,
        /// The day.
        on: NaiveDate,
    },
}

/// A proposed supervision order or escalation step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proposal {
    /// Its number within the item's watch, from 1.
    pub number: u32,
    /// What it arises from.
    pub source: ProposalSource,
    /// The unit to supervise.
    pub unit: UnitId,
    /// Why, in words.
    pub reason: String,
    /// The day it was proposed.
    pub proposed_on: NaiveDate,
    /// Where it stands.
    pub status: ProposalStatus,
}

/// What a supervisor decides when issuing a proposal: left empty, the proposal's defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IssueTerms {
    /// The due date of a new order's feedback; [`ORDER_FEEDBACK`] from today if none.
    pub due_on: Option<NaiveDate>,
    /// What the unit must do; the proposal's reason if none.
    pub requirements: Option<String>,
    /// The level an escalation goes to; the next one up if none.
    pub escalate_to: Option<EscalationLevel>,
}

impl Proposal {
    /// The step issuing this proposal of `item` takes, on `today`: a new order `order_id` to the
    /// proposal's unit, or the escalation of the order `item` is (whose level is `current`).
    pub fn issue(
        &self,
        item: &ItemRef,
        order_id: SupervisionOrderId,
        today: NaiveDate,
        current: Option<EscalationLevel>,
        terms: IssueTerms,
        rules: &Rules,
    ) -> OrderAction {
        let requirements = terms
            .requirements
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| self.reason.clone());
        let due_on = terms
            .due_on
            .unwrap_or_else(|| rules.calendar.due(today, ORDER_FEEDBACK));
        let reason = match &self.source {
            ProposalSource::UnansweredOrder { .. } => {
                let level = terms.escalate_to.unwrap_or(match current {
                    None => EscalationLevel::Interview,
                    Some(level) => level.next().unwrap_or(level),
                });
                return OrderAction::Escalate {
                    level,
                    note: requirements,
                };
            }
            ProposalSource::OverdueDeadline { deadline, .. } => SupervisionReason::Overdue {
                deadline: *deadline,
            },
            ProposalSource::BreachedObligation { agreement_id, .. } => {
                SupervisionReason::AgreementBreach {
                    agreement_id: agreement_id.clone(),
                }
            }
        };
        OrderAction::Issue {
            order_id,
            subject: item.clone(),
            to_unit: self.unit.clone(),
            due_on,
            reason,
            requirements,
        }
    }
}

/// A proposal's id, as the APIs name it: `<item key>/<number>`.
pub fn proposal_id(item: &ItemRef, number: u32) -> String {
    format!("{}/{number}", item.key())
}

/// The item and number a proposal id names.
pub fn parse_proposal_id(id: &str) -> Option<(ItemRef, u32)> {
    let (item, number) = id.rsplit_once('/')?;
    Some((
        ItemRef::from_key(item)?,
        number.parse().ok().filter(|n| *n > 0)?,
    ))
}

/// One item's watch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineWatch {
    /// The item watched, once anything is recorded.
    pub item: Option<ItemRef>,
    /// The thresholds recorded: (deadline, its due date then, threshold).
    pub passed: BTreeSet<(DeadlineKind, NaiveDate, Threshold)>,
    /// Every proposal, in number order.
    pub proposals: Vec<Proposal>,
}

/// A command to an item's watch.
pub type WatchCommand = Command<WatchAction>;

/// The acts on an item's watch.
#[derive(Debug, Clone, PartialEq)]
pub enum WatchAction {
    /// Record that a deadline of `item` reached `threshold`; an overdue duty of a unit also proposes
    /// supervising it (an unanswered order: escalating it).
    RecordThreshold {
        /// The item.
        item: ItemRef,
        /// Which deadline.
        deadline: DeadlineKind,
        /// Its last day as counted now.
        due_on: NaiveDate,
        /// The threshold reached.
        threshold: Threshold,
        /// The unit whose duty it is, when it is a unit's (not a petitioner's window).
        duty_of: Option<UnitId>,
    },
    /// Propose supervising a unit for a breached obligation.
    ProposeForBreach {
        /// The matter.
        item: ItemRef,
        /// The unit in breach.
        unit: UnitId,
        /// The agreement.
        agreement_id: String,
        /// The obligation.
        obligation_id: String,
    },
    /// A supervisor issued proposal `number` as `order_id` (or escalated that order).
    Issue {
        /// The proposal.
        number: u32,
        /// The order issued or escalated.
        order_id: SupervisionOrderId,
    },
    /// A supervisor dismissed proposal `number`.
    Dismiss {
        /// The proposal.
        number: u32,
        /// Why.
        reason: String,
    },
}

/// Everything recorded on an item's watch. `at` is the instant it was recorded.
#[allow(missing_docs)] // `at`, documented above
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// A deadline reached a threshold.
    ThresholdPassed {
        at: DateTime<Utc>,
        /// The item.
        item: ItemRef,
        /// Which deadline.
        deadline: DeadlineKind,
        /// Its last day.
        due_on: NaiveDate,
        /// The threshold.
        threshold: Threshold,
        /// The article the deadline enforces, for readers of the stream.
        article: String,
    },
    /// A supervision order or escalation was proposed.
    SupervisionProposed {
        at: DateTime<Utc>,
        /// The item.
        item: ItemRef,
        /// Its number.
        number: u32,
        /// What it arises from.
        #[serde(flatten)]
        source: ProposalSource,
        /// The unit to supervise.
        unit: UnitId,
        /// The article it rests on.
        article: String,
        /// Why.
        reason: String,
    },
    /// A proposal was issued.
    ProposalIssued {
        at: DateTime<Utc>,
        /// Its number.
        number: u32,
        /// The order.
        order_id: SupervisionOrderId,
    },
    /// A proposal was dismissed.
    ProposalDismissed {
        at: DateTime<Utc>,
        /// Its number.
        number: u32,
        /// Why.
        reason: String,
    },
}

impl DomainEvent for WatchEvent {
    const AGGREGATE: &'static str = "deadline_watch";

    fn name(&self) -> &'static str {
        match self {
            WatchEvent::ThresholdPassed { .. } => "threshold_passed",
            WatchEvent::SupervisionProposed { .. } => "supervision_proposed",
            WatchEvent::ProposalIssued { .. } => "proposal_issued",
            WatchEvent::ProposalDismissed { .. } => "proposal_dismissed",
        }
    }
}

impl DeadlineWatch {
    fn refuse(reason: impl Into<String>) -> DomainError {
        DomainError::refused(Rule::Arts39To40, "watching", reason)
    }

    /// The open proposal `number`, or a refusal naming why not.
    pub fn open_proposal(&self, number: u32) -> Result<&Proposal, DomainError> {
        let proposal = self
            .proposals
            .iter()
            .find(|p| p.number == number)
            .ok_or_else(|| DomainError::invalid("proposal_id", format!("no proposal {number}")))?;
        match &proposal.status {
            ProposalStatus::Open => Ok(proposal),
            ProposalStatus::Issued { order_id, on } => Err(Self::refuse(format!(
                "proposal {number} was issued as {order_id} on {on}"
            ))),
            ProposalStatus::Dismissed { on, .. } => Err(Self::refuse(format!(
                "proposal {number} was dismissed on {on}"
            ))),
        }
    }

    fn check_item(&self, item: &ItemRef) -> Result<(), DomainError> {
        match &self.item {
            Some(watched) if watched != item => Err(DomainError::invalid(
                "item",
                format!("this watch is {}'s, not {}'s", watched.key(), item.key()),
            )),
            _ => Ok(()),
        }
    }

    fn propose(
        &self,
        at: DateTime<Utc>,
        item: &ItemRef,
        source: ProposalSource,
        unit: UnitId,
    ) -> WatchEvent {
        let number = u32::try_from(self.proposals.len()).unwrap_or(u32::MAX - 1) + 1;
        WatchEvent::SupervisionProposed {
            at,
            item: item.clone(),
            number,
            reason: source.reason(item, &unit),
            article: source.rule().citation().to_owned(),
            source,
            unit,
        }
    }

    fn record_threshold(
        &self,
        at: DateTime<Utc>,
        item: &ItemRef,
        deadline: DeadlineKind,
        due_on: NaiveDate,
        threshold: Threshold,
        duty_of: Option<&UnitId>,
    ) -> Result<Vec<WatchEvent>, DomainError> {
        self.check_item(item)?;
        if self.passed.contains(&(deadline, due_on, threshold)) {
            return Err(Self::refuse(format!(
                "the {deadline} deadline due {due_on} was already recorded {}",
                threshold.as_str()
            )));
        }
        let mut events = vec![WatchEvent::ThresholdPassed {
            at,
            item: item.clone(),
            deadline,
            due_on,
            threshold,
            article: deadline.rule().citation().to_owned(),
        }];
        if let (Threshold::Overdue, Some(unit)) = (threshold, duty_of) {
            let source = if deadline == DeadlineKind::SupervisionFeedback {
                ProposalSource::UnansweredOrder { due_on }
            } else {
                ProposalSource::OverdueDeadline { deadline, due_on }
            };
            events.push(self.propose(at, item, source, unit.clone()));
        }
        Ok(events)
    }
}

impl Aggregate for DeadlineWatch {
    type Action = WatchAction;
    type Event = WatchEvent;

    fn decide(
        &self,
        command: &WatchCommand,
        rules: &Rules,
    ) -> Result<Vec<WatchEvent>, DomainError> {
        let at = command.at;
        match &command.action {
            WatchAction::RecordThreshold {
                item,
                deadline,
                due_on,
                threshold,
                duty_of,
            } => self.record_threshold(at, item, *deadline, *due_on, *threshold, duty_of.as_ref()),
            WatchAction::ProposeForBreach {
                item,
                unit,
                agreement_id,
                obligation_id,
            } => {
                self.check_item(item)?;
                rules.directory.require(
                    "unit",
                    unit,
                    legal_date(at),
                    crate::UnitRequirement::Any,
                )?;
                let source = ProposalSource::BreachedObligation {
                    agreement_id: agreement_id.clone(),
                    obligation_id: obligation_id.clone(),
                };
                if self
                    .proposals
                    .iter()
                    .any(|p| p.source == source && p.unit == *unit)
                {
                    return Err(Self::refuse(format!(
                        "the breach of obligation {obligation_id} of agreement {agreement_id} was \
                         already proposed"
                    )));
                }
                Ok(vec![self.propose(at, item, source, unit.clone())])
            }
            WatchAction::Issue { number, order_id } => {
                self.open_proposal(*number)?;
                Ok(vec![WatchEvent::ProposalIssued {
                    at,
                    number: *number,
                    order_id: order_id.clone(),
                }])
            }
            WatchAction::Dismiss { number, reason } => {
                self.open_proposal(*number)?;
                crate::ids::text("reason", reason, MAX_REASON_CHARS)?;
                Ok(vec![WatchEvent::ProposalDismissed {
                    at,
                    number: *number,
                    reason: reason.trim().to_owned(),
                }])
            }
        }
    }

    fn evolve(mut self, event: &WatchEvent) -> Self {
        match event {
            WatchEvent::ThresholdPassed {
                item,
                deadline,
                due_on,
                threshold,
                ..
            } => {
                self.item.get_or_insert_with(|| item.clone());
                self.passed.insert((*deadline, *due_on, *threshold));
            }
            WatchEvent::SupervisionProposed {
                at,
                item,
                number,
                source,
                unit,
                reason,
                ..
            } => {
                self.item.get_or_insert_with(|| item.clone());
                self.proposals.push(Proposal {
                    number: *number,
                    source: source.clone(),
                    unit: unit.clone(),
                    reason: reason.clone(),
                    proposed_on: legal_date(*at),
                    status: ProposalStatus::Open,
                });
            }
            WatchEvent::ProposalIssued {
                at,
                number,
                order_id,
            } => self.settle(
                *number,
                ProposalStatus::Issued {
                    order_id: order_id.clone(),
                    on: legal_date(*at),
                },
            ),
            WatchEvent::ProposalDismissed { at, number, reason } => self.settle(
                *number,
                ProposalStatus::Dismissed {
                    reason: reason.clone(),
                    on: legal_date(*at),
                },
            ),
        }
        self
    }
}

impl DeadlineWatch {
    fn settle(&mut self, number: u32, status: ProposalStatus) {
        if let Some(p) = self.proposals.iter_mut().find(|p| p.number == number) {
            p.status = status;
        }
    }
}

#[cfg(test)]
mod tests;
