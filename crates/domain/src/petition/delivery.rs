//! Delivery (送达) of a written reply — the handling opinion or a suggestion's answer, the review opinion,
//! the re-review opinion. The day of delivery starts the petitioner's next window (arts. 35–36); delivering
//! the re-review opinion concludes the matter.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{ClaimClass, Decision, MatterEvent, PetitionMatter, Stage, Step};
use crate::clock::DeadlineKind;
use crate::error::DomainError;
use crate::rule::Rule;

/// Which written reply was delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// The handling opinion, or the answer to a suggestion.
    Handling,
    /// The review opinion.
    Review,
    /// The re-review opinion.
    ReReview,
}

impl ReplyKind {
    /// The stable name, as events and the APIs spell it: `re_review`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyKind::Handling => "handling",
            ReplyKind::Review => "review",
            ReplyKind::ReReview => "re_review",
        }
    }
}

impl PetitionMatter {
    /// Delivers the pending written reply, by the unit that wrote it, on a day not after today.
    pub(super) fn deliver_reply(&self, step: Step<'_>, delivered_on: NaiveDate) -> Decision {
        let (reply, by) = match self.stage {
            Stage::OpinionIssued => (ReplyKind::Handling, &self.responsible_unit),
            Stage::Handling if self.class == Some(ClaimClass::Suggestion) => {
                (ReplyKind::Handling, &self.responsible_unit)
            }
            Stage::ReviewOpinionIssued => (ReplyKind::Review, &self.reviewing_unit),
            Stage::ReReviewOpinionIssued => (ReplyKind::ReReview, &self.re_reviewing_unit),
            _ => {
                return Err(self.refuse(
                    Rule::Art32,
                    format!(
                        "no written reply is pending while the matter is {}",
                        self.stage
                    ),
                ));
            }
        };
        DomainError::require_unit(step.unit, by, "deliver another unit's reply")?;
        let today = step.today;
        if delivered_on > today {
            return Err(DomainError::invalid(
                "delivered_on",
                format!("{delivered_on} is after today, {today}"),
            ));
        }
        // A reply is delivered on or after the day it was written: its window (arts. 35–36) counts from
        // delivery, so a delivery dated before the opinion would open a window on a day that cannot be.
        let (opinion, rule) = match reply {
            ReplyKind::Handling => (DeadlineKind::Handling, Rule::Art32),
            ReplyKind::Review => (DeadlineKind::ReviewOpinion, Rule::Art35),
            ReplyKind::ReReview => (DeadlineKind::ReReviewOpinion, Rule::Art36),
        };
        if let Some(written_on) = self.deadlines.get(&opinion).and_then(|d| d.met_on)
            && delivered_on < written_on
        {
            return Err(self.refuse(
                rule,
                format!(
                    "delivered_on {delivered_on} is before the {} opinion was issued on \
                     {written_on}: a reply is delivered on or after the day it is written",
                    reply.as_str().replace('_', "-")
                ),
            ));
        }
        let mut events = vec![MatterEvent::ReplyDelivered {
            at: step.at,
            reply,
            delivered_on,
        }];
        if reply == ReplyKind::ReReview {
            events.push(MatterEvent::Concluded { at: step.at });
        }
        Ok(events)
    }

    pub(super) fn reply_delivered(&mut self, reply: ReplyKind, delivered_on: NaiveDate) {
        self.replies.push((reply, delivered_on));
        match reply {
            ReplyKind::Handling if self.class == Some(ClaimClass::Suggestion) => {
                self.stage = Stage::Answered
            }
            ReplyKind::Handling => {
                self.stage = Stage::Replied;
                self.start_clock(DeadlineKind::ReviewRequest, delivered_on);
            }
            ReplyKind::Review => {
                self.stage = Stage::ReviewReplied;
                self.start_clock(DeadlineKind::ReReviewRequest, delivered_on);
            }
            ReplyKind::ReReview => {}
        }
    }
}
