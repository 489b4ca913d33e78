//! The annual report's figures (统计): which recorded events count as which figure, when a legal limit was
//! kept ("on time"), and which assigned matters count as collective (集体) or priority (重点). Pure: the
//! ledger API gathers the items and event counts of a period and unit, and asks here what they mean.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::aggregate::Rules;
use crate::clock::{Deadline, DeadlineKind, HolidayCalendar};
use crate::dispute::RiskLevel;
use crate::petition::{
    COLLECTIVE_THRESHOLD, ClaimRoute, IntakeOutcome, PetitionMatter, ReviewOutcome, Stage,
};

/// A figure counted from recorded events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Figure {
    /// Disputes reported, by screening or by the police.
    DisputesReported,
    /// Risk assessments made.
    RisksAssessed,
    /// Warnings (预警) issued.
    WarningsIssued,
    /// Disputes assigned to units for resolution.
    DisputesAssigned,
    /// Resolution reports (化解报告) submitted, on a dispute or by a joint handling.
    ResolutionReports,
    /// Resolutions verified.
    ResolutionsVerified,
    /// Supervision orders (督办函) issued.
    SupervisionOrdersIssued,
    /// Escalations of supervision orders.
    SupervisionEscalations,
    /// Petition matters registered.
    MattersRegistered,
    /// Petition matters accepted (受理).
    MattersAccepted,
    /// Matters concluded after re-review (依法终结).
    MattersConcluded,
    /// Matters final after a lapsed window.
    MattersFinal,
    /// Repeat petitions not accepted again (art. 36 ¶3).
    RepeatPetitionsRefused,
    /// Handling extensions (art. 34).
    HandlingExtensions,
    /// Reviews requested (art. 35).
    ReviewsRequested,
    /// Re-reviews requested (art. 36).
    ReReviewsRequested,
    /// Joint handlings opened.
    JointHandlingsOpened,
    /// Supervision proposals (督办建议) the deadline watch made.
    SupervisionProposals,
    /// Proposals a supervisor issued.
    SupervisionProposalsIssued,
    /// Proposals a supervisor dismissed.
    SupervisionProposalsDismissed,
}

impl Figure {
    /// The figure an event counts towards, by its type without the agency (`matter.registered`,
    /// `dispute.warned`); `None` for events no figure counts.
    pub fn of_event(aggregate_and_name: &str) -> Option<Figure> {
        Some(match aggregate_and_name {
            "dispute.reported" => Figure::DisputesReported,
            "dispute.assessed" => Figure::RisksAssessed,
            "dispute.warned" => Figure::WarningsIssued,
            "dispute.assigned" => Figure::DisputesAssigned,
            "dispute.resolution_reported" | "joint_handling.resolution_report_submitted" => {
                Figure::ResolutionReports
            }
            "dispute.resolution_verified" => Figure::ResolutionsVerified,
            "supervision_order.issued" => Figure::SupervisionOrdersIssued,
            "supervision_order.escalated" => Figure::SupervisionEscalations,
            "matter.registered" => Figure::MattersRegistered,
            "matter.accepted" => Figure::MattersAccepted,
            "matter.concluded" => Figure::MattersConcluded,
            "matter.became_final" => Figure::MattersFinal,
            "matter.not_accepted_again" => Figure::RepeatPetitionsRefused,
            "matter.handling_extended" => Figure::HandlingExtensions,
            "matter.review_requested" => Figure::ReviewsRequested,
            "matter.re_review_requested" => Figure::ReReviewsRequested,
            "joint_handling.opened" => Figure::JointHandlingsOpened,
            "deadline_watch.supervision_proposed" => Figure::SupervisionProposals,
            "deadline_watch.proposal_issued" => Figure::SupervisionProposalsIssued,
            "deadline_watch.proposal_dismissed" => Figure::SupervisionProposalsDismissed,
            _ => return None,
        })
    }

    /// The figure's stable name in the statistics: `warnings_issued`.
    pub fn as_str(self) -> &'static str {
        match self {
            Figure::DisputesReported => "disputes_reported",
            Figure::RisksAssessed => "risks_assessed",
            Figure::WarningsIssued => "warnings_issued",
            Figure::DisputesAssigned => "disputes_assigned",
            Figure::ResolutionReports => "resolution_reports",
            Figure::ResolutionsVerified => "resolutions_verified",
            Figure::SupervisionOrdersIssued => "supervision_orders_issued",
            Figure::SupervisionEscalations => "supervision_escalations",
            Figure::MattersRegistered => "matters_registered",
            Figure::MattersAccepted => "matters_accepted",
            Figure::MattersConcluded => "matters_concluded",
            Figure::MattersFinal => "matters_final",
            Figure::RepeatPetitionsRefused => "repeat_petitions_refused",
            Figure::HandlingExtensions => "handling_extensions",
            Figure::ReviewsRequested => "reviews_requested",
            Figure::ReReviewsRequested => "re_reviews_requested",
            Figure::JointHandlingsOpened => "joint_handlings_opened",
            Figure::SupervisionProposals => "supervision_proposals",
            Figure::SupervisionProposalsIssued => "supervision_proposals_issued",
            Figure::SupervisionProposalsDismissed => "supervision_proposals_dismissed",
        }
    }
}

/// Whether a limit was kept, as it stands on `today`: `Some(true)` met by its due date, `Some(false)` met
/// late or past due unmet, `None` still running.
pub fn on_time(deadline: &Deadline, calendar: &HolidayCalendar, today: NaiveDate) -> Option<bool> {
    let due = deadline.due(calendar);
    match deadline.met_on {
        Some(met) => Some(met <= due),
        None if today > due => Some(false),
        None => None,
    }
}

/// A collective matter (集体): five or more people.
pub fn is_collective(collective_size: u32) -> bool {
    collective_size >= COLLECTIVE_THRESHOLD
}

/// A priority matter (重点): its risk assessed high or major.
pub fn is_priority(risk: Option<RiskLevel>) -> bool {
    risk.is_some_and(|r| r >= RiskLevel::High)
}

/// A rate, 0 when nothing was counted.
fn rate(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// What the petition matters active in a period say of notices, handling, extensions and reviews.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MatterTally {
    /// Notices of receipt due, and of those sent on time (art. 23).
    pub notices: (u64, u64),
    /// Handling periods ended, and of those kept (art. 34).
    pub handled: (u64, u64),
    /// Claims on the petition route, and of those extended.
    pub extended: (u64, u64),
    /// Review outcomes, and re-review outcomes.
    pub review_outcomes: BTreeMap<ReviewOutcome, u64>,
    /// Re-review outcomes.
    pub re_review_outcomes: BTreeMap<ReviewOutcome, u64>,
}

impl MatterTally {
    /// Counts `matter` as it stands on `today`.
    pub fn add(&mut self, matter: &PetitionMatter, calendar: &HolidayCalendar, today: NaiveDate) {
        let kept = |kind: DeadlineKind| {
            let d = matter.deadlines.get(&kind)?;
            on_time(d, calendar, today)
        };
        let count = |pair: &mut (u64, u64), ok: Option<bool>| {
            if let Some(ok) = ok {
                pair.0 += 1;
                pair.1 += u64::from(ok);
            }
        };
        count(&mut self.notices, kept(DeadlineKind::ReceiptNotice));
        count(&mut self.handled, kept(DeadlineKind::Handling));
        if matter.route == Some(ClaimRoute::PetitionRoute) {
            count(&mut self.extended, Some(matter.extended));
        }
        if let Some(outcome) = matter.review_outcome {
            *self.review_outcomes.entry(outcome).or_default() += 1;
        }
        if let Some(outcome) = matter.re_review_outcome {
            *self.re_review_outcomes.entry(outcome).or_default() += 1;
        }
    }

    /// The report's rates: on-time notice and handling, extension, review and re-review overturn.
    pub fn rates(&self) -> [(&'static str, f64); 5] {
        let overturn = |outcomes: &BTreeMap<ReviewOutcome, u64>| {
            let all: u64 = outcomes.values().sum();
            let upheld = outcomes.get(&ReviewOutcome::Upheld).copied().unwrap_or(0);
            rate(all - upheld, all)
        };
        [
            ("on_time_notice_rate", rate(self.notices.1, self.notices.0)),
            (
                "on_time_handling_rate",
                rate(self.handled.1, self.handled.0),
            ),
            ("extension_rate", rate(self.extended.1, self.extended.0)),
            ("review_overturn_rate", overturn(&self.review_outcomes)),
            (
                "re_review_overturn_rate",
                overturn(&self.re_review_outcomes),
            ),
        ]
    }
}

/// Registrations of a period by what intake found (初信初访 and 重信重访), each counted once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IntakeTally {
    /// First petitions, flagged ones included until a clerk decides.
    pub first_petitions: u64,
    /// Repeat petitions: merged, not accepted again, or new matters in an original's entry.
    pub repeat_petitions: u64,
    /// Repeats merged into their open original: counted once, in the original.
    pub repeats_merged: u64,
    /// Repeats that became new matters in the original's entry (new facts).
    pub repeats_as_new_matters: u64,
    /// Registrations flagged as possible repeats that no clerk has decided yet.
    pub possible_repeats_undecided: u64,
}

impl IntakeTally {
    /// Counts a registration as it stands.
    pub fn add(&mut self, matter: &PetitionMatter) {
        let (outcome, _) = matter.intake();
        match outcome {
            IntakeOutcome::FirstPetition => self.first_petitions += 1,
            IntakeOutcome::PossibleRepeat => {
                self.first_petitions += 1;
                self.possible_repeats_undecided += 1;
            }
            IntakeOutcome::Merged => {
                self.repeat_petitions += 1;
                self.repeats_merged += 1;
            }
            IntakeOutcome::NotAcceptedAgain => self.repeat_petitions += 1,
            IntakeOutcome::RepeatNewMatter => {
                self.repeat_petitions += 1;
                self.repeats_as_new_matters += 1;
            }
        }
    }

    /// The figures by name.
    pub fn figures(&self) -> [(&'static str, u64); 5] {
        [
            ("first_petitions", self.first_petitions),
            ("repeat_petitions", self.repeat_petitions),
            ("repeat_petitions_merged", self.repeats_merged),
            (
                "repeat_petitions_as_new_matters",
                self.repeats_as_new_matters,
            ),
            (
                "possible_repeats_undecided",
                self.possible_repeats_undecided,
            ),
        ]
    }
}

/// The ages the backlog of open repeat matters (清仓见底) is counted by, in days since registration:
/// each bucket's name and its last day (the last has none).
pub const BACKLOG_AGES: [(&str, Option<i64>); 4] = [
    ("open_repeat_matters_up_to_90_days", Some(90)),
    ("open_repeat_matters_91_to_180_days", Some(180)),
    ("open_repeat_matters_181_to_365_days", Some(365)),
    ("open_repeat_matters_over_365_days", None),
];

/// The backlog of open repeat matters on `today`, by age: of `matters` (each in an entry that the same
/// petitioners petitioned more than once), those still open; a lapsed window counts as final, not open.
pub fn repeat_backlog<'a>(
    matters: impl IntoIterator<Item = &'a PetitionMatter>,
    rules: &Rules,
    today: NaiveDate,
) -> [(&'static str, u64); 5] {
    let mut by_age = [0u64; BACKLOG_AGES.len()];
    for matter in matters {
        if matter.stage_on(rules, today).is_closed() || matter.stage == Stage::Unregistered {
            continue;
        }
        let Some(registered) = matter.registered_on else {
            continue;
        };
        let age = (today - registered).num_days();
        let bucket = BACKLOG_AGES
            .iter()
            .position(|(_, last)| last.is_none_or(|last| age <= last))
            .unwrap_or(BACKLOG_AGES.len() - 1);
        by_age[bucket] += 1;
    }
    [
        ("open_repeat_matters", by_age.iter().sum()),
        (BACKLOG_AGES[0].0, by_age[0]),
        (BACKLOG_AGES[1].0, by_age[1]),
        (BACKLOG_AGES[2].0, by_age[2]),
        (BACKLOG_AGES[3].0, by_age[3]),
    ]
}

/// Matters lawfully concluded or final in a period whose lapse was never recorded (a window that ran
/// out unused is final from the day after its last day, recorded or not): recorded conclusions are
/// counted from their events.
pub fn lapsed_unrecorded_in<'a>(
    matters: impl IntoIterator<Item = &'a PetitionMatter>,
    rules: &Rules,
    (from, to): (NaiveDate, NaiveDate),
    today: NaiveDate,
) -> u64 {
    matters
        .into_iter()
        .filter(|m| m.final_on.is_none())
        .filter_map(|m| m.closed_on(rules, today))
        .filter(|day| (from..=to.min(today)).contains(day))
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::HolidayCalendar;
    use crate::testing::d;

    #[test]
    fn given_event_types_then_each_counts_towards_its_figure_once() {
        assert_eq!(
            Figure::of_event("dispute.warned"),
            Some(Figure::WarningsIssued)
        );
        assert_eq!(
            Figure::of_event("joint_handling.resolution_report_submitted"),
            Some(Figure::ResolutionReports)
        );
        assert_eq!(Figure::of_event("matter.received"), None);
        assert_eq!(
            Figure::SupervisionOrdersIssued.as_str(),
            "supervision_orders_issued"
        );
    }

    #[test]
    fn given_a_limit_then_on_time_is_met_by_its_due_date_late_or_still_running() {
        // given a 15-day notice clock from 2026-03-04 (due 2026-03-19)
        let calendar = HolidayCalendar::china().unwrap();
        let mut clock = Deadline::statutory(DeadlineKind::ReceiptNotice, d("2026-03-04")).unwrap();
        // then, unmet, it runs until its due date and is late after it
        assert_eq!(on_time(&clock, &calendar, d("2026-03-19")), None);
        assert_eq!(on_time(&clock, &calendar, d("2026-03-20")), Some(false));
        // when met on the due date, then it was kept whatever the day asked
        clock.met_on = Some(d("2026-03-19"));
        assert_eq!(on_time(&clock, &calendar, d("2026-12-01")), Some(true));
    }

    #[test]
    fn given_matters_then_collective_is_five_people_and_priority_is_high_risk() {
        assert!(!is_collective(4) && is_collective(5));
        assert!(!is_priority(None) && !is_priority(Some(RiskLevel::Medium)));
        assert!(is_priority(Some(RiskLevel::High)) && is_priority(Some(RiskLevel::Major)));
    }

    #[test]
    fn given_review_outcomes_then_the_overturn_rate_counts_all_but_upheld() {
        let tally = MatterTally {
            review_outcomes: BTreeMap::from([
                (ReviewOutcome::Upheld, 3),
                (ReviewOutcome::Changed, 1),
            ]),
            ..MatterTally::default()
        };
        let rates = tally.rates();
        assert_eq!(rates[3], ("review_overturn_rate", 0.25));
        assert_eq!(rates[4], ("re_review_overturn_rate", 0.0));
    }

    #[test]
    fn given_registrations_then_first_and_repeat_petitions_are_each_counted_once_by_what_intake_found()
     {
        // given a first petition, a flagged one, a merged repeat and one with new facts
        let first = PetitionMatter {
            first_petition: true,
            stage: Stage::Registered,
            ..PetitionMatter::default()
        };
        let flagged = PetitionMatter {
            possible_repeat_of: Some("m1".into()),
            ..first.clone()
        };
        let merged = PetitionMatter {
            stage: Stage::Merged,
            linked_to: Some("m1".into()),
            ..PetitionMatter::default()
        };
        let new_facts = PetitionMatter {
            stage: Stage::Registered,
            linked_to: Some("m1".into()),
            ..PetitionMatter::default()
        };
        // when tallied
        let mut tally = IntakeTally::default();
        for m in [&first, &flagged, &merged, &new_facts] {
            tally.add(m);
        }
        // then the flagged one is a first petition until a clerk decides
        assert_eq!(
            tally.figures(),
            [
                ("first_petitions", 2),
                ("repeat_petitions", 2),
                ("repeat_petitions_merged", 1),
                ("repeat_petitions_as_new_matters", 1),
                ("possible_repeats_undecided", 1),
            ]
        );
    }

    #[test]
    fn given_open_and_closed_repeat_matters_then_the_backlog_counts_the_open_ones_by_age() {
        let rules = Rules::shipped().unwrap();
        let open_since = |day: &str| PetitionMatter {
            stage: Stage::Handling,
            registered_on: Some(d(day)),
            ..PetitionMatter::default()
        };
        let closed = PetitionMatter {
            stage: Stage::Concluded,
            ..open_since("2025-01-01")
        };
        let matters = [
            open_since("2026-11-30"),
            open_since("2026-09-02"), // 90 days before 2026-12-01
            open_since("2026-09-01"),
            open_since("2025-12-01"),
            open_since("2024-06-01"),
            closed,
        ];
        assert_eq!(
            repeat_backlog(&matters, &rules, d("2026-12-01")),
            [
                ("open_repeat_matters", 5),
                ("open_repeat_matters_up_to_90_days", 2),
                ("open_repeat_matters_91_to_180_days", 1),
                ("open_repeat_matters_181_to_365_days", 1),
                ("open_repeat_matters_over_365_days", 1),
            ]
        );
    }
}
