//! Review (复查) and re-review (复核): the petitioner asks the unit one level up within 30 days of the
//! reply, which decides within 30 days (art. 35); then the next level up, within 30 days each way, the
//! time of a hearing (听证) not counted (art. 36, art. 36 ¶2). Hearings may be held while handling too.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClaimRoute, Decision, MatterEvent, PetitionMatter, Stage, Step};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::UnitId;
use crate::rule::Rule;

/// What a review or re-review decided of the opinion before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewOutcome {
    /// The earlier opinion stands.
    Upheld,
    /// The earlier opinion is changed.
    Changed,
    /// The earlier opinion is revoked and the matter handled anew.
    Revoked,
}

impl ReviewOutcome {
    /// The outcome's stable name: `upheld`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewOutcome::Upheld => "upheld",
            ReviewOutcome::Changed => "changed",
            ReviewOutcome::Revoked => "revoked",
        }
    }
}

impl PetitionMatter {
    /// The petitioner asks for review within the window after the handling reply (art. 35); recorded by
    /// the reviewing unit or the petition office.
    pub(super) fn request_review(&self, step: Step<'_>, reviewing_unit: &UnitId) -> Decision {
        let open = self.stage == Stage::Replied && self.route == Some(ClaimRoute::PetitionRoute);
        // Final by this window's lapse: refused naming the day it closed, as before finality was recorded.
        if open || self.final_by(DeadlineKind::ReviewRequest) {
            self.require_window(
                DeadlineKind::ReviewRequest,
                step.today,
                step.rules,
                "a review request",
            )?;
        }
        if !open {
            self.require_stage(&[], "a review request", Rule::Art35)?;
        }
        step.unit("reviewing_unit", reviewing_unit, UnitRequirement::Any)?;
        self.require_one_level_up(
            step,
            reviewing_unit,
            &self.responsible_unit,
            Rule::Art35,
            "review",
        )?;
        if step.unit != reviewing_unit && Some(step.unit) != self.office.as_ref() {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "record a review request",
            });
        }
        Ok(vec![MatterEvent::ReviewRequested {
            at: step.at,
            reviewing_unit: reviewing_unit.clone(),
        }])
    }

    /// Refuses unless `unit` is the one the directory names as reviewer of `below`: review is by the unit
    /// one level up from the responsible unit (art. 35), re-review by the one above the reviewer (art. 36).
    fn require_one_level_up(
        &self,
        step: Step<'_>,
        unit: &UnitId,
        below: &Option<UnitId>,
        rule: Rule,
        what: &str,
    ) -> Result<(), DomainError> {
        let directory = &step.rules.directory;
        let Some(below) = below else {
            return Err(self.refuse(rule, format!("no unit decided before the {what}")));
        };
        let Some(expected) = directory.reviewer_of(below) else {
            return Err(self.refuse(
                rule,
                format!("the directory names no unit above `{below}` for a {what}"),
            ));
        };
        if unit == expected {
            return Ok(());
        }
        let name = |id: &UnitId| {
            directory
                .name_of(id)
                .unwrap_or("not in the directory")
                .to_owned()
        };
        Err(self.refuse(
            rule,
            format!(
                "a {what} of `{below}` ({}) is by the unit one level up, `{expected}` ({}), not `{unit}` ({})",
                name(below),
                name(expected),
                name(unit)
            ),
        ))
    }

    /// The reviewing unit issues its opinion, once no hearing is open (art. 35).
    pub(super) fn issue_review_opinion(&self, step: Step<'_>, outcome: ReviewOutcome) -> Decision {
        self.require_stage(&[Stage::UnderReview], "a review opinion", Rule::Art35)?;
        DomainError::require_unit(
            step.unit,
            &self.reviewing_unit,
            "issue another unit's review opinion",
        )?;
        if self.hearing.is_some() {
            return Err(self.refuse(Rule::Art35, "the hearing is still open"));
        }
        Ok(vec![MatterEvent::ReviewOpinionIssued {
            at: step.at,
            outcome,
        }])
    }

    /// The petitioner asks for re-review within the window after the review reply (art. 36), by a unit
    /// above both the responsible and the reviewing unit.
    pub(super) fn request_re_review(&self, step: Step<'_>, re_reviewing_unit: &UnitId) -> Decision {
        let open = self.stage == Stage::ReviewReplied;
        if open || self.final_by(DeadlineKind::ReReviewRequest) {
            self.require_window(
                DeadlineKind::ReReviewRequest,
                step.today,
                step.rules,
                "a re-review request",
            )?;
        }
        if !open {
            self.require_stage(&[], "a re-review request", Rule::Art36)?;
        }
        step.unit("re_reviewing_unit", re_reviewing_unit, UnitRequirement::Any)?;
        self.require_one_level_up(
            step,
            re_reviewing_unit,
            &self.reviewing_unit,
            Rule::Art36,
            "re-review",
        )?;
        if step.unit != re_reviewing_unit && Some(step.unit) != self.office.as_ref() {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "record a re-review request",
            });
        }
        Ok(vec![MatterEvent::ReReviewRequested {
            at: step.at,
            re_reviewing_unit: re_reviewing_unit.clone(),
        }])
    }

    /// The re-reviewing unit issues its opinion, once no hearing is open (art. 36).
    pub(super) fn issue_re_review_opinion(
        &self,
        step: Step<'_>,
        outcome: ReviewOutcome,
    ) -> Decision {
        self.require_stage(&[Stage::UnderReReview], "a re-review opinion", Rule::Art36)?;
        DomainError::require_unit(
            step.unit,
            &self.re_reviewing_unit,
            "issue another unit's re-review opinion",
        )?;
        if self.hearing.is_some() {
            return Err(self.refuse(Rule::Art36P2, "the hearing is still open"));
        }
        Ok(vec![MatterEvent::ReReviewOpinionIssued {
            at: step.at,
            outcome,
        }])
    }

    /// Opens a hearing, organised by the unit deciding at this stage; one at a time (art. 36 ¶2).
    pub(super) fn open_hearing(&self, step: Step<'_>) -> Decision {
        let organiser = match self.stage {
            Stage::Handling => &self.responsible_unit,
            Stage::UnderReview => &self.reviewing_unit,
            Stage::UnderReReview => &self.re_reviewing_unit,
            _ => {
                return Err(self.refuse(
                    Rule::Art36P2,
                    format!("no hearing while the matter is {}", self.stage),
                ));
            }
        };
        DomainError::require_unit(step.unit, organiser, "organise a hearing on this matter")?;
        if self.hearing.is_some() {
            return Err(self.refuse(Rule::Art36P2, "a hearing is already open"));
        }
        Ok(vec![MatterEvent::HearingOpened {
            at: step.at,
            organiser: step.unit.clone(),
        }])
    }

    /// Closes the open hearing, by its organiser.
    pub(super) fn close_hearing(&self, step: Step<'_>) -> Decision {
        if self.hearing.is_none() {
            return Err(self.refuse(Rule::Art36P2, "no hearing is open"));
        }
        DomainError::require_unit(step.unit, &self.hearing, "close another unit's hearing")?;
        Ok(vec![MatterEvent::HearingClosed { at: step.at }])
    }

    pub(super) fn review_requested(&mut self, at: DateTime<Utc>, reviewing_unit: &UnitId) {
        self.stage = Stage::UnderReview;
        self.reviewing_unit = Some(reviewing_unit.clone());
        self.meet_clock(DeadlineKind::ReviewRequest, legal_date(at));
        self.start_clock(DeadlineKind::ReviewOpinion, legal_date(at));
    }

    pub(super) fn review_opinion_issued(&mut self, at: DateTime<Utc>, outcome: ReviewOutcome) {
        self.stage = Stage::ReviewOpinionIssued;
        self.review_outcome = Some(outcome);
        self.meet_clock(DeadlineKind::ReviewOpinion, legal_date(at));
    }

    pub(super) fn re_review_requested(&mut self, at: DateTime<Utc>, re_reviewing_unit: &UnitId) {
        self.stage = Stage::UnderReReview;
        self.re_reviewing_unit = Some(re_reviewing_unit.clone());
        self.meet_clock(DeadlineKind::ReReviewRequest, legal_date(at));
        self.start_clock(DeadlineKind::ReReviewOpinion, legal_date(at));
    }

    pub(super) fn re_review_opinion_issued(&mut self, at: DateTime<Utc>, outcome: ReviewOutcome) {
        self.stage = Stage::ReReviewOpinionIssued;
        self.re_review_outcome = Some(outcome);
        self.meet_clock(DeadlineKind::ReReviewOpinion, legal_date(at));
    }

    /// A hearing during re-review stops the re-review clock (art. 36 ¶2).
    pub(super) fn hearing_opened(&mut self, at: DateTime<Utc>, organiser: &UnitId) {
        self.hearing = Some(organiser.clone());
        self.hearings += 1;
        if self.stage == Stage::UnderReReview
            && let Some(d) = self.deadlines.get_mut(&DeadlineKind::ReReviewOpinion)
        {
            d.pause(legal_date(at));
        }
    }

    pub(super) fn hearing_closed(&mut self, at: DateTime<Utc>) {
        self.hearing = None;
        if let Some(d) = self.deadlines.get_mut(&DeadlineKind::ReReviewOpinion) {
            d.resume(legal_date(at));
        }
    }
}
