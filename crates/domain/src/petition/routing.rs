//! Routing: the petition office forwards (转送) or assigns (交办) a registered matter within 15 days
//! (art. 22), or diverts it out of the procedure; the responsible unit receives it, tells the petitioner
//! within 15 days (art. 23), and may object within 5 working days that it is not its own (art. 23 ¶3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Decision, MAX_REASON_CHARS, MatterEvent, PetitionMatter, Stage, Step};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{UnitId, text};
use crate::rule::Rule;

/// Why the petition office sends a matter out of the petition procedure at intake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Diversion {
    /// Litigation-related: to the political-legal organs (诉访分离).
    LitigationRelated,
    /// An accusation: to discipline inspection (art. 30).
    Accusation,
    /// A claim for another statutory procedure (routes 2–4).
    OtherProcedure,
}

impl PetitionMatter {
    /// Forwards (`assign` false) or assigns the matter to its responsible unit (art. 22).
    pub(super) fn route(
        &self,
        step: Step<'_>,
        assign: bool,
        to: &UnitId,
        territorial_unit: &Option<UnitId>,
    ) -> Decision {
        self.require_stage(&[Stage::Registered], "routing", Rule::Art22)?;
        DomainError::require_unit(
            step.unit,
            &self.office,
            "route a matter it did not register",
        )?;
        step.unit("to", to, UnitRequirement::Any)?;
        if let Some(territorial) = territorial_unit {
            step.unit("territorial_unit", territorial, UnitRequirement::Territory)?;
        }
        if Some(to) == self.office.as_ref() {
            return Err(DomainError::invalid(
                "to",
                "a matter is routed to another unit",
            ));
        }
        let (at, to, territorial_unit) = (step.at, to.clone(), territorial_unit.clone());
        Ok(vec![if assign {
            MatterEvent::Assigned {
                at,
                to,
                territorial_unit,
            }
        } else {
            MatterEvent::Forwarded {
                at,
                to,
                territorial_unit,
            }
        }])
    }

    /// Sends the matter out of the petition procedure at intake, naming the competent channel.
    pub(super) fn divert(
        &self,
        step: Step<'_>,
        diversion: Diversion,
        to: &UnitId,
        channel: &str,
    ) -> Decision {
        self.require_stage(&[Stage::Registered], "diversion", Rule::Art22)?;
        DomainError::require_unit(
            step.unit,
            &self.office,
            "divert a matter it did not register",
        )?;
        step.unit("to", to, UnitRequirement::Any)?;
        text("channel", channel, MAX_REASON_CHARS)?;
        Ok(vec![MatterEvent::Diverted {
            at: step.at,
            diversion,
            to: to.clone(),
            channel: channel.to_owned(),
        }])
    }

    /// The responsible unit records receipt; the art. 23 clocks start.
    pub(super) fn receive(&self, step: Step<'_>) -> Decision {
        self.require_stage(&[Stage::Forwarded, Stage::Assigned], "receipt", Rule::Art23)?;
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "receive a matter not routed to it",
        )?;
        Ok(vec![MatterEvent::Received { at: step.at }])
    }

    /// The written notice of receipt and route (art. 23), once, after receipt and before the matter closes.
    pub(super) fn send_receipt_notice(&self, step: Step<'_>) -> Decision {
        if self.receipt_notice_sent {
            return Err(self.refuse(Rule::Art23, "the notice of receipt was already sent"));
        }
        if matches!(
            self.stage,
            Stage::Registered | Stage::Forwarded | Stage::Assigned
        ) || self.stage.is_closed()
        {
            return Err(self.refuse(
                Rule::Art23,
                format!("no notice of receipt while the matter is {}", self.stage),
            ));
        }
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "send the notice of receipt",
        )?;
        Ok(vec![MatterEvent::ReceiptNoticeSent { at: step.at }])
    }

    /// The responsible unit objects to the routing within 5 working days of receipt (art. 23 ¶3).
    pub(super) fn object_to_routing(&self, step: Step<'_>, reason: &str) -> Decision {
        self.require_stage(&[Stage::Received], "a routing objection", Rule::Art23P3)?;
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "object to another unit's routing",
        )?;
        text("reason", reason, MAX_REASON_CHARS)?;
        if let Some(window) = self.deadlines.get(&DeadlineKind::RoutingObjection) {
            let (today, closed_on) = (step.today, window.due(&step.rules.calendar));
            if today > closed_on {
                return Err(DomainError::Refused {
                    rule: Rule::Art23P3,
                    stage: self.stage.as_str().to_owned(),
                    reason: format!(
                        "an objection on {today} is too late: the 5 working days from receipt ended on {closed_on}"
                    ),
                    deadline: Some(closed_on),
                });
            }
        }
        Ok(vec![MatterEvent::RoutingObjected {
            at: step.at,
            reason: reason.to_owned(),
        }])
    }

    /// The petition office decides an objection; upheld, the matter comes back to it for routing.
    pub(super) fn decide_routing_objection(&self, step: Step<'_>, upheld: bool) -> Decision {
        self.require_stage(
            &[Stage::RoutingObjected],
            "deciding an objection",
            Rule::Art23P3,
        )?;
        DomainError::require_unit(step.unit, &self.office, "decide a routing objection")?;
        Ok(vec![MatterEvent::RoutingObjectionDecided {
            at: step.at,
            upheld,
        }])
    }

    pub(super) fn routed(
        &mut self,
        stage: Stage,
        at: DateTime<Utc>,
        to: &UnitId,
        territorial_unit: &Option<UnitId>,
    ) {
        self.stage = stage;
        self.responsible_unit = Some(to.clone());
        self.territorial_unit = territorial_unit.clone();
        self.meet_clock(DeadlineKind::ForwardOrAssign, legal_date(at));
    }

    pub(super) fn diverted(&mut self, at: DateTime<Utc>, to: &UnitId) {
        self.stage = Stage::Diverted;
        self.responsible_unit = Some(to.clone());
        self.meet_clock(DeadlineKind::ForwardOrAssign, legal_date(at));
    }

    pub(super) fn received(&mut self, at: DateTime<Utc>) {
        self.stage = Stage::Received;
        self.start_clock(DeadlineKind::ReceiptNotice, legal_date(at));
        self.start_clock(DeadlineKind::RoutingObjection, legal_date(at));
    }

    pub(super) fn receipt_notice_sent(&mut self, at: DateTime<Utc>) {
        self.receipt_notice_sent = true;
        self.meet_clock(DeadlineKind::ReceiptNotice, legal_date(at));
    }

    pub(super) fn routing_objected(&mut self, at: DateTime<Utc>) {
        self.stage = Stage::RoutingObjected;
        self.meet_clock(DeadlineKind::RoutingObjection, legal_date(at));
    }

    pub(super) fn routing_objection_decided(&mut self, at: DateTime<Utc>, upheld: bool) {
        if !upheld {
            self.stage = Stage::Received;
            return;
        }
        // Back to the petition office, which routes anew within a fresh art. 22 period.
        self.stage = Stage::Registered;
        self.responsible_unit = None;
        self.territorial_unit = None;
        self.receipt_notice_sent = false;
        self.deadlines.remove(&DeadlineKind::ReceiptNotice);
        self.deadlines.remove(&DeadlineKind::RoutingObjection);
        self.start_clock(DeadlineKind::ForwardOrAssign, legal_date(at));
    }
}
