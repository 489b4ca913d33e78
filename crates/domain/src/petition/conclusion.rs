//! Lawful conclusion (依法终结): a matter is final once the petitioner's review or re-review window lapsed
//! unused, and concluded once the re-review opinion is delivered (`delivery`); either way the
//! same facts are not accepted again (art. 36 ¶3, checked at `intake`).

use chrono::{DateTime, NaiveDate, Utc};

use super::{Decision, MatterEvent, PetitionMatter, ReplyKind, Stage, Step};
use crate::aggregate::Rules;
use crate::clock::{DeadlineKind, legal_date};
use crate::error::DomainError;
use crate::rule::Rule;

impl PetitionMatter {
    /// Records that the petitioner's window lapsed unused, by a party, only after its last day.
    pub(super) fn record_finality(&self, step: Step<'_>) -> Decision {
        let Some(window) = self.petitioner_window() else {
            return Err(self.refuse(
                Rule::Art35,
                format!(
                    "no petitioner window runs while the matter is {}",
                    self.stage
                ),
            ));
        };
        if !self.parties().contains(step.unit) {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "record finality of this matter",
            });
        }
        let Some(closes) = self.deadlines.get(&window) else {
            return Err(self.refuse(window.rule(), format!("no {window} window was started")));
        };
        let last_day = closes.due(&step.rules.calendar);
        if step.today <= last_day {
            return Err(DomainError::Refused {
                rule: window.rule(),
                stage: self.stage.as_str().to_owned(),
                reason: format!("the {window} window is open until {last_day}"),
                deadline: Some(last_day),
            });
        }
        Ok(vec![MatterEvent::BecameFinal {
            at: step.at,
            window,
            lapsed_after: last_day,
        }])
    }

    /// The day the matter became final or was concluded, on `today`: recorded, or the day after an
    /// unused window's last day when the lapse is not recorded yet.
    pub fn closed_on(&self, rules: &Rules, today: NaiveDate) -> Option<NaiveDate> {
        if self.final_on.is_some() {
            return self.final_on;
        }
        let window = self.petitioner_window()?;
        let last_day = self.deadlines.get(&window)?.due(&rules.calendar);
        (self.stage_on(rules, today) == Stage::Final)
            .then(|| last_day.succ_opt())
            .flatten()
    }

    /// Whether the matter was recorded final by the lapse of petitioner window `window` (the review
    /// window unless a re-review window was ever opened).
    pub(super) fn final_by(&self, window: DeadlineKind) -> bool {
        self.stage == Stage::Final
            && match window {
                DeadlineKind::ReviewRequest => {
                    self.deadlines.contains_key(&DeadlineKind::ReviewRequest)
                        && !self.deadlines.contains_key(&DeadlineKind::ReReviewRequest)
                }
                other => self.deadlines.contains_key(&other),
            }
    }

    /// Concluded on the day the re-review opinion was delivered.
    pub(super) fn concluded(&mut self, at: DateTime<Utc>) {
        self.stage = Stage::Concluded;
        let delivered = self
            .replies
            .iter()
            .rev()
            .find(|(kind, _)| *kind == ReplyKind::ReReview)
            .map(|(_, on)| *on);
        self.final_on = Some(delivered.unwrap_or_else(|| legal_date(at)));
    }

    /// Final from the day after the lapsed window's last day.
    pub(super) fn became_final(&mut self, lapsed_after: NaiveDate) {
        self.stage = Stage::Final;
        self.final_on = lapsed_after.succ_opt();
    }
}
