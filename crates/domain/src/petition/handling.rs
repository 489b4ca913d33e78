//! Handling a claim on the petition route: 60 days from acceptance, extended once by at most 30 with
//! approval and the reason told (art. 34), ending in a written handling opinion (信访处理意见书, art. 32) —
//! supported, explained or not supported — and, when supported, its implementation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    ClaimRoute, Decision, MAX_REASON_CHARS, MatterEvent, PetitionMatter, ReviewOutcome, Stage, Step,
};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{UnitId, text};
use crate::rule::Rule;

/// Most days one handling extension may add (art. 34).
pub const MAX_EXTENSION_DAYS: u32 = 30;

/// The written handling opinion's outcome (信访处理意见书, art. 32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandlingOutcome {
    /// 支持: supported.
    Supported,
    /// 解释说明: explained.
    Explained,
    /// 不予支持: not supported.
    NotSupported,
}

impl PetitionMatter {
    /// Extends handling once, within the period, by 1 to 30 days (art. 34).
    pub(super) fn extend_handling(
        &self,
        step: Step<'_>,
        days: u32,
        approver: &UnitId,
        reason: &str,
    ) -> Decision {
        self.require_stage(&[Stage::Handling], "an extension", Rule::Art34)?;
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "extend another unit's handling",
        )?;
        if self.route != Some(ClaimRoute::PetitionRoute) {
            return Err(self.refuse(
                Rule::Art34,
                "only a claim on the petition route has a handling period",
            ));
        }
        if self.extended {
            return Err(self.refuse(Rule::Art34, "handling may be extended once only"));
        }
        if days == 0 || days > MAX_EXTENSION_DAYS {
            return Err(DomainError::invalid(
                "days",
                format!("1 to {MAX_EXTENSION_DAYS} days (art. 34)"),
            ));
        }
        step.unit("approver", approver, UnitRequirement::Any)?;
        text("reason", reason, MAX_REASON_CHARS)?;
        if let Some(handling) = self.deadlines.get(&DeadlineKind::Handling) {
            let due = handling.due(&step.rules.calendar);
            if step.today > due {
                return Err(DomainError::Refused {
                    rule: Rule::Art34,
                    stage: self.stage.as_str().to_owned(),
                    reason: format!(
                        "an extension must be approved within the period, which ended on {due}"
                    ),
                    deadline: Some(due),
                });
            }
        }
        Ok(vec![MatterEvent::HandlingExtended {
            at: step.at,
            days,
            approver: approver.clone(),
            reason: reason.to_owned(),
        }])
    }

    /// Issues the written handling opinion of a claim on the petition route, once no hearing is open.
    pub(super) fn issue_handling_opinion(
        &self,
        step: Step<'_>,
        outcome: HandlingOutcome,
    ) -> Decision {
        self.require_stage(&[Stage::Handling], "a handling opinion", Rule::Art32)?;
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "issue another unit's opinion",
        )?;
        if self.route != Some(ClaimRoute::PetitionRoute) {
            return Err(self.refuse(
                Rule::Art32,
                "a handling opinion answers a claim on the petition route",
            ));
        }
        if self.hearing.is_some() {
            return Err(self.refuse(Rule::Art32, "the hearing is still open"));
        }
        Ok(vec![MatterEvent::HandlingOpinionIssued {
            at: step.at,
            outcome,
        }])
    }

    /// Records, once, that a supported claim whose opinion was delivered (and not changed on review) was
    /// implemented.
    pub(super) fn record_implementation(&self, step: Step<'_>) -> Decision {
        DomainError::require_unit(
            step.unit,
            &self.responsible_unit,
            "record another unit's implementation",
        )?;
        let supported = self.handling_outcome == Some(HandlingOutcome::Supported)
            && !matches!(
                self.review_outcome,
                Some(ReviewOutcome::Changed | ReviewOutcome::Revoked)
            );
        if !supported || self.replies.is_empty() {
            return Err(self.refuse(
                Rule::Art32,
                "only a supported claim whose opinion was delivered is implemented",
            ));
        }
        if self.implemented {
            return Err(self.refuse(Rule::Art32, "the implementation is already recorded"));
        }
        Ok(vec![MatterEvent::ImplementationRecorded { at: step.at }])
    }

    pub(super) fn handling_extended(&mut self, days: u32) {
        self.extended = true;
        if let Some(d) = self.deadlines.get_mut(&DeadlineKind::Handling) {
            d.extended_by += days;
        }
    }

    pub(super) fn handling_opinion_issued(&mut self, at: DateTime<Utc>, outcome: HandlingOutcome) {
        self.stage = Stage::OpinionIssued;
        self.handling_outcome = Some(outcome);
        self.meet_clock(DeadlineKind::Handling, legal_date(at));
    }
}
