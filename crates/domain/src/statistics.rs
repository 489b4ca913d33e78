//! The annual report's figures (统计): which recorded events count as which figure, when a legal limit was
//! kept ("on time"), and which assigned matters count as collective (集体) or priority (重点). Pure: the
//! ledger API gathers the items and event counts of a period and unit, and asks here what they mean.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use crate::clock::{Deadline, DeadlineKind, HolidayCalendar};
use crate::dispute::RiskLevel;
use crate::petition::{COLLECTIVE_THRESHOLD, ClaimRoute, PetitionMatter, ReviewOutcome};

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
        let calendar = HolidayCalendar::china();
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
}
