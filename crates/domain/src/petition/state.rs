//! The state of a petition matter, and the checks every step shares (stage, window, clocks).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    Agreement, ClaimClass, ClaimRoute, HandlingOutcome, MatterSummary, ReplyKind, ReviewOutcome,
    Stage,
};
use crate::aggregate::Rules;
use crate::clock::{Deadline, DeadlineKind};
use crate::error::DomainError;
use crate::ids::{MatterId, PersonRef, UnitId};
use crate::rule::Rule;

/// The state of a petition matter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PetitionMatter {
    /// The matter (empty until registered).
    pub matter_id: Option<MatterId>,
    /// Stage as recorded (see [`PetitionMatter::stage_on`] for lapsed windows).
    pub stage: Stage,
    /// The registering petition office.
    pub office: Option<UnitId>,
    /// Title.
    pub title: String,
    /// Petitioners.
    pub petitioners: Vec<PersonRef>,
    /// Collective size.
    pub collective_size: u32,
    /// Territory.
    pub territory: Option<UnitId>,
    /// Receipt number.
    pub receipt_number: String,
    /// Digest of the query code.
    pub query_code_digest: String,
    /// Class as accepted (or as registered, before acceptance).
    pub class: Option<ClaimClass>,
    /// Route of an accepted claim.
    pub route: Option<ClaimRoute>,
    /// Responsible unit (属事).
    pub responsible_unit: Option<UnitId>,
    /// Territorial unit (属地).
    pub territorial_unit: Option<UnitId>,
    /// Reviewing unit.
    pub reviewing_unit: Option<UnitId>,
    /// Re-reviewing unit.
    pub re_reviewing_unit: Option<UnitId>,
    /// The accused unit of an accusation: never shown the petitioners.
    pub accused_unit: Option<UnitId>,
    /// First petition (初信初访).
    pub first_petition: bool,
    /// The root this matter is linked to.
    pub linked_to: Option<MatterId>,
    /// Legal clocks by kind.
    pub deadlines: BTreeMap<DeadlineKind, Deadline>,
    /// Whether the one extension was used.
    pub extended: bool,
    /// Outcome of the handling opinion.
    pub handling_outcome: Option<HandlingOutcome>,
    /// Outcome of the review.
    pub review_outcome: Option<ReviewOutcome>,
    /// Outcome of the re-review.
    pub re_review_outcome: Option<ReviewOutcome>,
    /// Delivered replies.
    pub replies: Vec<(ReplyKind, NaiveDate)>,
    /// The organiser of an open hearing.
    pub hearing: Option<UnitId>,
    /// Hearings held.
    pub hearings: u32,
    /// Agreements by id.
    pub agreements: BTreeMap<String, Agreement>,
    /// Whether a supported claim was implemented.
    pub implemented: bool,
    /// Whether the notice of receipt was sent.
    pub receipt_notice_sent: bool,
    /// The day it was registered. (These later fields are left out of a snapshot while unset, so the
    /// ledger's stored states, decoded on every list, stay the size they were.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registered_on: Option<NaiveDate>,
    /// The category of the problem filed at intake (问题类别).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The unit the petition is about, named at intake (被反映单位).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respondent: Option<UnitId>,
    /// The earlier matter intake flagged this one as a possible repeat of, until a clerk decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub possible_repeat_of: Option<MatterId>,
    /// The notice given when the same facts were not accepted again (art. 36 ¶3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
    /// The day it became final or was concluded, as recorded (see [`PetitionMatter::closed_on`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_on: Option<NaiveDate>,
}

impl PetitionMatter {
    /// The unit whose duty `kind` is on this matter; `None` for a petitioner's window (review or
    /// re-review request) and a unit's option (routing objection), which nobody is supervised for.
    pub fn duty_of(&self, kind: DeadlineKind) -> Option<&UnitId> {
        match kind {
            DeadlineKind::ForwardOrAssign => self.office.as_ref(),
            DeadlineKind::ReceiptNotice | DeadlineKind::Handling => self.responsible_unit.as_ref(),
            DeadlineKind::ReviewOpinion => self.reviewing_unit.as_ref(),
            DeadlineKind::ReReviewOpinion => self.re_reviewing_unit.as_ref(),
            DeadlineKind::RoutingObjection
            | DeadlineKind::ReviewRequest
            | DeadlineKind::ReReviewRequest
            | DeadlineKind::Resolution
            | DeadlineKind::SupervisionFeedback => None,
        }
    }

    /// True when a unit's duty on the matter is past its last day, unmet, on `today` (a petitioner's
    /// lapsed window is no one's delay).
    pub fn is_overdue(&self, calendar: &crate::clock::HolidayCalendar, today: NaiveDate) -> bool {
        self.deadlines
            .values()
            .any(|d| self.duty_of(d.kind).is_some() && d.is_overdue(calendar, today))
    }

    /// The stage on `today`: a reply whose petitioner window has lapsed makes the matter final even before
    /// [`MatterAction::RecordFinality`](super::MatterAction::RecordFinality) records it.
    pub fn stage_on(&self, rules: &Rules, today: NaiveDate) -> Stage {
        let Some(window) = self.petitioner_window() else {
            return self.stage;
        };
        match self.deadlines.get(&window) {
            Some(d) if today > d.due(&rules.calendar) => Stage::Final,
            _ => self.stage,
        }
    }

    /// The root of this matter's links.
    pub fn root(&self) -> Option<MatterId> {
        self.linked_to.clone().or_else(|| self.matter_id.clone())
    }

    /// What another matter's intake needs to know of this one, on `today`.
    pub fn summary(&self, rules: &Rules, today: NaiveDate) -> Option<MatterSummary> {
        Some(MatterSummary {
            matter_id: self.matter_id.clone()?,
            root: self.root()?,
            stage: self.stage_on(rules, today),
            receipt_number: self.receipt_number.clone(),
            petitioners: self.petitioners.clone(),
            category: self.category.clone(),
            concerns: [&self.respondent, &self.accused_unit, &self.responsible_unit]
                .into_iter()
                .flatten()
                .cloned()
                .collect(),
            registered_on: self.registered_on?,
            closed_on: self.closed_on(rules, today),
            agreements: self.agreements.clone(),
        })
    }

    /// Every unit that takes part in the matter at its current stage.
    pub fn parties(&self) -> BTreeSet<UnitId> {
        [
            &self.office,
            &self.responsible_unit,
            &self.territorial_unit,
            &self.reviewing_unit,
            &self.re_reviewing_unit,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }

    /// Whether `unit` needs to know who the petitioners are (PIPL arts. 6, 28: the least access the
    /// purpose needs): the petition office, the responsible unit, the reviewing and re-reviewing units
    /// and a hearing's organiser — never the accused unit, wherever in the procedure it was named.
    pub fn needs_to_know_petitioners(&self, unit: &UnitId) -> bool {
        let handles = [
            &self.office,
            &self.responsible_unit,
            &self.reviewing_unit,
            &self.re_reviewing_unit,
            &self.hearing,
        ]
        .into_iter()
        .any(|u| u.as_ref() == Some(unit));
        handles && self.petitioners_visible_to(unit)
    }

    /// Whether `unit` may ever be shown the petitioners: never the accused unit of an accusation (art. 30).
    pub fn petitioners_visible_to(&self, unit: &UnitId) -> bool {
        self.accused_unit.as_ref() != Some(unit)
    }

    /// True when the matter is an accusation, whose petitioner fields are protected.
    pub fn is_accusation(&self) -> bool {
        self.class == Some(ClaimClass::Accusation)
    }

    pub(super) fn refuse(&self, rule: Rule, reason: impl Into<String>) -> DomainError {
        DomainError::refused(rule, self.stage, reason)
    }

    pub(super) fn require_stage(
        &self,
        allowed: &[Stage],
        action: &str,
        rule: Rule,
    ) -> Result<(), DomainError> {
        if allowed.contains(&self.stage) {
            Ok(())
        } else {
            Err(self.refuse(
                rule,
                format!("{action} is not allowed while the matter is {}", self.stage),
            ))
        }
    }

    /// A petitioner's window: refused after its last day, citing the rule and the date it closed.
    pub(super) fn require_window(
        &self,
        kind: DeadlineKind,
        today: NaiveDate,
        rules: &Rules,
        action: &str,
    ) -> Result<(), DomainError> {
        let Some(window) = self.deadlines.get(&kind) else {
            return Err(self.refuse(kind.rule(), format!("{action}: no {kind} window is open")));
        };
        let closed_on = window.due(&rules.calendar);
        if today > closed_on {
            return Err(DomainError::Refused {
                rule: kind.rule(),
                stage: Stage::Final.as_str().to_owned(),
                reason: format!(
                    "{action} on {today} is too late: the {kind} window closed on {closed_on}, the matter is final"
                ),
                deadline: Some(closed_on),
            });
        }
        Ok(())
    }

    /// The window a petitioner may still use at this stage: review after the handling reply of a claim on
    /// the petition route, re-review after the review reply.
    pub(super) fn petitioner_window(&self) -> Option<DeadlineKind> {
        match self.stage {
            Stage::Replied if self.route == Some(ClaimRoute::PetitionRoute) => {
                Some(DeadlineKind::ReviewRequest)
            }
            Stage::ReviewReplied => Some(DeadlineKind::ReReviewRequest),
            _ => None,
        }
    }

    /// Starts the statutory clock `kind` from `on` (the day not counted).
    pub(super) fn start_clock(&mut self, kind: DeadlineKind, on: NaiveDate) {
        if let Some(d) = Deadline::statutory(kind, on) {
            self.deadlines.insert(kind, d);
        }
    }

    /// Records that the limit `kind` was met on `on`; the first meeting counts.
    pub(super) fn meet_clock(&mut self, kind: DeadlineKind, on: NaiveDate) {
        if let Some(d) = self.deadlines.get_mut(&kind) {
            d.met_on.get_or_insert(on);
        }
    }
}
