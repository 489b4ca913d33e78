//! Where a matter stands in the procedure, and which stages close it or bar the same facts.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The matter's stage. [`Stage::is_closed`] says which are closed (办结).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Nothing recorded yet.
    #[default]
    Unregistered,
    /// Registered by the petition office; to be forwarded or assigned (art. 22).
    Registered,
    /// Forwarded (转送) to the responsible unit.
    Forwarded,
    /// Assigned (交办) to the responsible unit.
    Assigned,
    /// Received by the responsible unit.
    Received,
    /// The responsible unit objected to the routing; the petition office decides.
    RoutingObjected,
    /// Accepted and being handled.
    Handling,
    /// The handling opinion is issued, not yet delivered.
    OpinionIssued,
    /// The handling opinion is delivered; the review window runs.
    Replied,
    /// Under review by the unit one level up.
    UnderReview,
    /// The review opinion is issued, not yet delivered.
    ReviewOpinionIssued,
    /// The review opinion is delivered; the re-review window runs.
    ReviewReplied,
    /// Under re-review.
    UnderReReview,
    /// The re-review opinion is issued, not yet delivered.
    ReReviewOpinionIssued,
    /// Concluded after re-review (依法终结): not accepted again on the same facts.
    Concluded,
    /// Final: a review or re-review window lapsed. Not accepted again on the same facts.
    Final,
    /// Channelled into litigation, arbitration, Party appeal, administrative or the unit's own procedure.
    Channelled,
    /// Diverted at intake by the petition office.
    Diverted,
    /// Not accepted (不予受理), naming the competent channel.
    NotAccepted,
    /// An accusation referred to discipline inspection.
    ReferredToDiscipline,
    /// A suggestion answered.
    Answered,
    /// A repeat petition merged into its open original.
    Merged,
    /// A repeat petition on a concluded matter, not accepted again (不再受理, art. 36 ¶3).
    NotAcceptedAgain,
}

impl Stage {
    /// Every stage, in the order of the procedure.
    pub const ALL: [Stage; 23] = [
        Stage::Unregistered,
        Stage::Registered,
        Stage::Forwarded,
        Stage::Assigned,
        Stage::Received,
        Stage::RoutingObjected,
        Stage::Handling,
        Stage::OpinionIssued,
        Stage::Replied,
        Stage::UnderReview,
        Stage::ReviewOpinionIssued,
        Stage::ReviewReplied,
        Stage::UnderReReview,
        Stage::ReReviewOpinionIssued,
        Stage::Concluded,
        Stage::Final,
        Stage::Channelled,
        Stage::Diverted,
        Stage::NotAccepted,
        Stage::ReferredToDiscipline,
        Stage::Answered,
        Stage::Merged,
        Stage::NotAcceptedAgain,
    ];

    /// True when the matter is closed (办结).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Concluded
                | Stage::Final
                | Stage::Channelled
                | Stage::Diverted
                | Stage::NotAccepted
                | Stage::ReferredToDiscipline
                | Stage::Answered
                | Stage::Merged
                | Stage::NotAcceptedAgain
        )
    }

    /// True when the same facts may never be accepted again (art. 36 ¶3).
    pub fn bars_same_facts(self) -> bool {
        matches!(self, Stage::Concluded | Stage::Final)
    }

    /// The stage's stable name, as events, the ledger and the APIs spell it: `under_re_review`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Unregistered => "unregistered",
            Stage::Registered => "registered",
            Stage::Forwarded => "forwarded",
            Stage::Assigned => "assigned",
            Stage::Received => "received",
            Stage::RoutingObjected => "routing_objected",
            Stage::Handling => "handling",
            Stage::OpinionIssued => "opinion_issued",
            Stage::Replied => "replied",
            Stage::UnderReview => "under_review",
            Stage::ReviewOpinionIssued => "review_opinion_issued",
            Stage::ReviewReplied => "review_replied",
            Stage::UnderReReview => "under_re_review",
            Stage::ReReviewOpinionIssued => "re_review_opinion_issued",
            Stage::Concluded => "concluded",
            Stage::Final => "final",
            Stage::Channelled => "channelled",
            Stage::Diverted => "diverted",
            Stage::NotAccepted => "not_accepted",
            Stage::ReferredToDiscipline => "referred_to_discipline",
            Stage::Answered => "answered",
            Stage::Merged => "merged",
            Stage::NotAcceptedAgain => "not_accepted_again",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stage_is_named_as_serde_names_it() {
        for stage in Stage::ALL {
            assert_eq!(serde_json::to_value(stage).unwrap(), stage.as_str());
        }
    }
}
