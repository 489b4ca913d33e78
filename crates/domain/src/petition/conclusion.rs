//! Lawful conclusion (依法终结): a matter is final once the petitioner's review or re-review window lapsed
//! unused, and concluded once the re-review opinion is delivered (`delivery`); either way the
//! same facts are not accepted again (art. 36 ¶3, checked at `intake`).

use super::{Decision, MatterEvent, PetitionMatter, Step};
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
}
