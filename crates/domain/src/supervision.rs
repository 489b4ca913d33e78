//! Supervision orders (督办函, arts. 39–40): issued to a unit about a ledger item with a due date,
//! acknowledged, answered with feedback that the issuer accepts or rejects, and escalated up a ladder —
//! interview (约谈), public notice (通报), listed supervision (挂牌督办), backward investigation (倒查),
//! accountability recommendation (追责建议). Whether the order's suggestions were adopted is recorded.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::{Deadline, DeadlineKind, HolidayCalendar, Period, days_between, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{ItemRef, SupervisionOrderId, UnitId, id_field, text};
use crate::rule::Rule;

/// Why an order was issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SupervisionReason {
    /// A legal limit was missed.
    Overdue {
        /// Which.
        deadline: DeadlineKind,
    },
    /// An agency breached a mediation or settlement agreement (art. 33).
    AgreementBreach {
        /// The agreement.
        agreement_id: String,
    },
    /// A risk needs the unit's attention.
    Risk,
    /// Repeated petitions on the same matter.
    RepeatPetitions,
    /// Anything else, said in the requirements.
    Other,
}

/// The escalation ladder, lowest to highest (arts. 39–40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    /// 约谈.
    Interview,
    /// 通报.
    PublicNotice,
    /// 挂牌督办.
    ListedSupervision,
    /// 倒查.
    BackwardInvestigation,
    /// 追责建议.
    AccountabilityRecommendation,
}

impl EscalationLevel {
    /// The next level up the ladder, `None` at the top.
    pub fn next(self) -> Option<Self> {
        match self {
            EscalationLevel::Interview => Some(EscalationLevel::PublicNotice),
            EscalationLevel::PublicNotice => Some(EscalationLevel::ListedSupervision),
            EscalationLevel::ListedSupervision => Some(EscalationLevel::BackwardInvestigation),
            EscalationLevel::BackwardInvestigation => {
                Some(EscalationLevel::AccountabilityRecommendation)
            }
            EscalationLevel::AccountabilityRecommendation => None,
        }
    }

    /// The stable name, as events and the APIs spell it: `listed_supervision`.
    pub fn as_str(self) -> &'static str {
        match self {
            EscalationLevel::Interview => "interview",
            EscalationLevel::PublicNotice => "public_notice",
            EscalationLevel::ListedSupervision => "listed_supervision",
            EscalationLevel::BackwardInvestigation => "backward_investigation",
            EscalationLevel::AccountabilityRecommendation => "accountability_recommendation",
        }
    }
}

/// Stages of an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStage {
    /// Nothing recorded yet.
    #[default]
    Unissued,
    /// Issued, not yet acknowledged.
    Issued,
    /// Acknowledged by the unit.
    Acknowledged,
    /// Feedback awaits the issuer's decision.
    FeedbackSubmitted,
    /// Feedback accepted: closed.
    Closed,
}

impl OrderStage {
    /// The stage's stable name, as events and the APIs spell it: `feedback_submitted`.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStage::Unissued => "unissued",
            OrderStage::Issued => "issued",
            OrderStage::Acknowledged => "acknowledged",
            OrderStage::FeedbackSubmitted => "feedback_submitted",
            OrderStage::Closed => "closed",
        }
    }
}

/// A command to a supervision order.
pub type OrderCommand = Command<OrderAction>;

/// The acts on a supervision order.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderAction {
    /// Issue the order.
    Issue {
        /// Id.
        order_id: SupervisionOrderId,
        /// The ledger item concerned.
        subject: ItemRef,
        /// The supervised unit.
        to_unit: UnitId,
        /// Feedback due by.
        due_on: NaiveDate,
        /// Why.
        reason: SupervisionReason,
        /// What the unit must do.
        requirements: String,
    },
    /// The supervised unit acknowledges.
    Acknowledge,
    /// The supervised unit reports what it did.
    SubmitFeedback {
        /// What was done.
        summary: String,
    },
    /// The issuer accepts the feedback: the order is closed.
    AcceptFeedback,
    /// The issuer rejects the feedback with a new due date.
    RejectFeedback {
        /// Why.
        reason: String,
        /// New due date.
        due_on: NaiveDate,
    },
    /// The issuer escalates.
    Escalate {
        /// The new level: above the current one.
        level: EscalationLevel,
        /// Why.
        note: String,
    },
    /// Record whether the order's suggestions were adopted.
    RecordAdoption {
        /// Adopted.
        adopted: bool,
    },
}

/// The period a unit has to answer an order issued from a supervision proposal unless the supervisor
/// sets a date: the Regulations set none, so the district's practice for written feedback, ten working
/// days.
pub const ORDER_FEEDBACK: Period = Period::working(10);

/// Everything that happens to a supervision order.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum OrderEvent {
    /// Issued.
    Issued {
        at: DateTime<Utc>,
        /// Id.
        order_id: SupervisionOrderId,
        /// Issuer.
        issuer: UnitId,
        /// Subject.
        subject: ItemRef,
        /// Supervised unit.
        to_unit: UnitId,
        /// Due by.
        due_on: NaiveDate,
        /// Why.
        reason: SupervisionReason,
        /// Requirements.
        requirements: String,
    },
    /// Acknowledged.
    Acknowledged { at: DateTime<Utc> },
    /// Feedback submitted.
    FeedbackSubmitted {
        at: DateTime<Utc>,
        /// Summary.
        summary: String,
    },
    /// Feedback accepted; closed.
    FeedbackAccepted { at: DateTime<Utc> },
    /// Feedback rejected.
    FeedbackRejected {
        at: DateTime<Utc>,
        /// Why.
        reason: String,
        /// New due date.
        due_on: NaiveDate,
    },
    /// Escalated.
    Escalated {
        at: DateTime<Utc>,
        /// New level.
        level: EscalationLevel,
        /// Why.
        note: String,
    },
    /// Adoption recorded.
    AdoptionRecorded {
        at: DateTime<Utc>,
        /// Adopted.
        adopted: bool,
    },
}

impl DomainEvent for OrderEvent {
    const AGGREGATE: &'static str = "supervision_order";

    fn name(&self) -> &'static str {
        match self {
            OrderEvent::Issued { .. } => "issued",
            OrderEvent::Acknowledged { .. } => "acknowledged",
            OrderEvent::FeedbackSubmitted { .. } => "feedback_submitted",
            OrderEvent::FeedbackAccepted { .. } => "feedback_accepted",
            OrderEvent::FeedbackRejected { .. } => "feedback_rejected",
            OrderEvent::Escalated { .. } => "escalated",
            OrderEvent::AdoptionRecorded { .. } => "adoption_recorded",
        }
    }
}

/// The state of a supervision order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SupervisionOrder {
    /// Id (none until issued).
    pub order_id: Option<SupervisionOrderId>,
    /// Stage.
    pub stage: OrderStage,
    /// Issuer (the joint meeting office or the political-legal committee).
    pub issuer: Option<UnitId>,
    /// Subject.
    pub subject: Option<ItemRef>,
    /// Supervised unit.
    pub to_unit: Option<UnitId>,
    /// Why.
    pub reason: Option<SupervisionReason>,
    /// Feedback clock.
    pub feedback_deadline: Option<Deadline>,
    /// Current escalation level.
    pub escalation: Option<EscalationLevel>,
    /// Rejected feedbacks.
    pub rejections: u32,
    /// Whether suggestions were adopted, once recorded.
    pub adopted: Option<bool>,
}

impl SupervisionOrder {
    /// True when the supervised unit's feedback is past its due date on `today` and the order is open.
    pub fn is_overdue(&self, calendar: &HolidayCalendar, today: NaiveDate) -> bool {
        self.stage != OrderStage::Closed
            && self
                .feedback_deadline
                .as_ref()
                .is_some_and(|d| d.is_overdue(calendar, today))
    }

    fn refuse(&self, reason: impl Into<String>) -> DomainError {
        DomainError::refused(Rule::Arts39To40, self.stage.as_str(), reason)
    }
}

fn feedback_clock(at: DateTime<Utc>, due_on: NaiveDate) -> Deadline {
    let started = legal_date(at);
    Deadline::start(
        DeadlineKind::SupervisionFeedback,
        started,
        Period::calendar(days_between(started, due_on)),
    )
}

impl Aggregate for SupervisionOrder {
    type Action = OrderAction;
    type Event = OrderEvent;

    fn decide(
        &self,
        command: &OrderCommand,
        rules: &Rules,
    ) -> Result<Vec<OrderEvent>, DomainError> {
        let at = command.at;
        let today = legal_date(at);
        let unit = &command.unit;
        use OrderAction as A;
        if !matches!(command.action, A::Issue { .. }) && self.order_id.is_none() {
            return Err(self.refuse("the order is not issued"));
        }
        Ok(vec![match &command.action {
            A::Issue {
                order_id,
                subject,
                to_unit,
                due_on,
                reason,
                requirements,
            } => {
                if self.order_id.is_some() {
                    return Err(self.refuse("already issued"));
                }
                id_field("order_id", order_id.as_str())?;
                rules
                    .directory
                    .require("to_unit", to_unit, today, UnitRequirement::Any)?;
                if to_unit == unit {
                    return Err(DomainError::invalid(
                        "to_unit",
                        "a unit does not supervise itself",
                    ));
                }
                text("requirements", requirements, 4000)?;
                if *due_on <= today {
                    return Err(DomainError::invalid(
                        "due_on",
                        format!("{due_on} is not after today, {today}"),
                    ));
                }
                OrderEvent::Issued {
                    at,
                    order_id: order_id.clone(),
                    issuer: unit.clone(),
                    subject: subject.clone(),
                    to_unit: to_unit.clone(),
                    due_on: *due_on,
                    reason: reason.clone(),
                    requirements: requirements.clone(),
                }
            }
            A::Acknowledge => {
                DomainError::require_unit(
                    unit,
                    &self.to_unit,
                    "acknowledge an order addressed to another unit",
                )?;
                if self.stage != OrderStage::Issued {
                    return Err(self.refuse("only an issued order is acknowledged"));
                }
                OrderEvent::Acknowledged { at }
            }
            A::SubmitFeedback { summary } => {
                DomainError::require_unit(
                    unit,
                    &self.to_unit,
                    "answer an order addressed to another unit",
                )?;
                if !matches!(self.stage, OrderStage::Issued | OrderStage::Acknowledged) {
                    return Err(self.refuse("feedback is not expected now"));
                }
                text("summary", summary, 4000)?;
                OrderEvent::FeedbackSubmitted {
                    at,
                    summary: summary.clone(),
                }
            }
            A::AcceptFeedback => {
                DomainError::require_unit(
                    unit,
                    &self.issuer,
                    "decide feedback on another unit's order",
                )?;
                if self.stage != OrderStage::FeedbackSubmitted {
                    return Err(self.refuse("no feedback awaits a decision"));
                }
                OrderEvent::FeedbackAccepted { at }
            }
            A::RejectFeedback { reason, due_on } => {
                DomainError::require_unit(
                    unit,
                    &self.issuer,
                    "decide feedback on another unit's order",
                )?;
                if self.stage != OrderStage::FeedbackSubmitted {
                    return Err(self.refuse("no feedback awaits a decision"));
                }
                text("reason", reason, 2000)?;
                if *due_on <= today {
                    return Err(DomainError::invalid(
                        "due_on",
                        format!("{due_on} is not after today, {today}"),
                    ));
                }
                OrderEvent::FeedbackRejected {
                    at,
                    reason: reason.clone(),
                    due_on: *due_on,
                }
            }
            A::Escalate { level, note } => {
                DomainError::require_unit(unit, &self.issuer, "escalate another unit's order")?;
                if self.stage == OrderStage::Closed {
                    return Err(self.refuse("a closed order is not escalated"));
                }
                if self.escalation.is_some_and(|current| *level <= current) {
                    return Err(self.refuse(format!(
                        "escalation goes up the ladder: {level:?} is not above {:?}",
                        self.escalation
                    )));
                }
                text("note", note, 2000)?;
                OrderEvent::Escalated {
                    at,
                    level: *level,
                    note: note.clone(),
                }
            }
            A::RecordAdoption { adopted } => {
                DomainError::require_unit(
                    unit,
                    &self.issuer,
                    "record adoption on another unit's order",
                )?;
                if self.stage != OrderStage::Closed {
                    return Err(self.refuse("adoption is recorded once the order is closed"));
                }
                if self.adopted.is_some() {
                    return Err(self.refuse("adoption is already recorded"));
                }
                OrderEvent::AdoptionRecorded {
                    at,
                    adopted: *adopted,
                }
            }
        }])
    }

    fn evolve(mut self, event: &OrderEvent) -> Self {
        match event {
            OrderEvent::Issued {
                at,
                order_id,
                issuer,
                subject,
                to_unit,
                due_on,
                reason,
                ..
            } => {
                self.order_id = Some(order_id.clone());
                self.stage = OrderStage::Issued;
                self.issuer = Some(issuer.clone());
                self.subject = Some(subject.clone());
                self.to_unit = Some(to_unit.clone());
                self.reason = Some(reason.clone());
                self.feedback_deadline = Some(feedback_clock(*at, *due_on));
            }
            OrderEvent::Acknowledged { .. } => self.stage = OrderStage::Acknowledged,
            OrderEvent::FeedbackSubmitted { at, .. } => {
                self.stage = OrderStage::FeedbackSubmitted;
                if let Some(d) = &mut self.feedback_deadline {
                    d.met_on.get_or_insert(legal_date(*at));
                }
            }
            OrderEvent::FeedbackAccepted { .. } => self.stage = OrderStage::Closed,
            OrderEvent::FeedbackRejected { at, due_on, .. } => {
                self.stage = OrderStage::Acknowledged;
                self.rejections += 1;
                self.feedback_deadline = Some(feedback_clock(*at, *due_on));
            }
            OrderEvent::Escalated { level, .. } => self.escalation = Some(*level),
            OrderEvent::AdoptionRecorded { adopted, .. } => self.adopted = Some(*adopted),
        }
        self
    }
}

#[cfg(test)]
mod tests;
