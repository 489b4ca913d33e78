//! Given/when/then tests of the deadline watch: thresholds once each, proposals from each source,
//! issue and dismiss as recorded steps.

use super::*;
use crate::ids::MatterId;
use crate::testing::{self, d};

const OFFICE: &str = "binhai.joint_meeting_office";
const BUREAU: &str = "binhai.housing_bureau";

type Scenario = testing::Scenario<DeadlineWatch>;

fn matter() -> ItemRef {
    ItemRef::PetitionMatter(MatterId::from("PM1"))
}

fn threshold(threshold: Threshold, deadline: DeadlineKind, due_on: &str) -> WatchAction {
    WatchAction::RecordThreshold {
        item: matter(),
        deadline,
        due_on: d(due_on),
        threshold,
        duty_of: Some(UnitId::from(BUREAU)),
    }
}

#[test]
fn given_a_deadline_then_its_threshold_is_due_soon_three_working_days_before_then_due_then_overdue()
{
    let calendar = HolidayCalendar::china().unwrap();
    // given handling due Monday 2026-11-30
    let due = d("2026-11-30");
    let on = |day: &str| Threshold::on(due, d(day), &calendar, DUE_SOON);
    // then Tuesday the 24th is four working days before, Wednesday the 25th three: due soon from then
    assert_eq!(on("2026-11-24"), None);
    assert_eq!(on("2026-11-25"), Some(Threshold::DueSoon));
    assert_eq!(on("2026-11-29"), Some(Threshold::DueSoon));
    assert_eq!(on("2026-11-30"), Some(Threshold::DueToday));
    assert_eq!(on("2026-12-01"), Some(Threshold::Overdue));
}

#[test]
fn given_a_threshold_recorded_when_it_is_recorded_again_then_it_is_refused_and_a_new_due_date_is_new()
 {
    let mut s = Scenario::new();
    let due_soon = threshold(Threshold::DueSoon, DeadlineKind::Handling, "2026-11-30");
    let events = s.when("2026-11-25", OFFICE, due_soon.clone()).unwrap();
    assert_eq!(events.len(), 1, "due soon proposes nothing");
    // when the same threshold of the same deadline comes again, then it is refused
    assert!(s.when("2026-11-26", OFFICE, due_soon).is_err());
    // and the deadline extended to a new date is watched anew
    s.when(
        "2026-11-26",
        OFFICE,
        threshold(Threshold::DueSoon, DeadlineKind::Handling, "2026-12-30"),
    )
    .unwrap();
    assert_eq!(s.state.passed.len(), 2);
}

#[test]
fn given_an_overdue_duty_then_a_supervision_of_its_unit_is_proposed_citing_the_deadlines_article() {
    let mut s = Scenario::new();
    let events = s
        .when(
            "2026-12-01",
            OFFICE,
            threshold(Threshold::Overdue, DeadlineKind::Handling, "2026-11-30"),
        )
        .unwrap();
    let WatchEvent::SupervisionProposed {
        number,
        unit,
        article,
        reason,
        source,
        ..
    } = &events[1]
    else {
        panic!("{events:?}")
    };
    assert_eq!(
        (*number, unit.0.as_str(), article.as_str()),
        (1, BUREAU, "art. 34")
    );
    assert!(
        reason.contains("2026-11-30") && reason.contains("办理"),
        "{reason}"
    );
    assert!(!source.escalates());
    assert_eq!(s.state.proposals[0].status, ProposalStatus::Open);
    // and a petitioner's window that lapses (no unit's duty) proposes nothing
    let events = s
        .when(
            "2026-12-01",
            OFFICE,
            WatchAction::RecordThreshold {
                item: matter(),
                deadline: DeadlineKind::ReviewRequest,
                due_on: d("2026-11-30"),
                threshold: Threshold::Overdue,
                duty_of: None,
            },
        )
        .unwrap();
    assert_eq!(events.len(), 1);
}

#[test]
fn given_an_order_unanswered_by_its_due_date_then_escalation_is_proposed() {
    let mut s = Scenario::new();
    let order = ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1"));
    let events = s
        .when(
            "2026-12-01",
            OFFICE,
            WatchAction::RecordThreshold {
                item: order,
                deadline: DeadlineKind::SupervisionFeedback,
                due_on: d("2026-11-30"),
                threshold: Threshold::Overdue,
                duty_of: Some(UnitId::from(BUREAU)),
            },
        )
        .unwrap();
    assert!(matches!(
        &events[1],
        WatchEvent::SupervisionProposed { source: ProposalSource::UnansweredOrder { .. }, article, .. }
            if article == "arts. 39–40"
    ));
    assert!(s.state.proposals[0].source.escalates());
}

#[test]
fn given_a_breach_then_it_is_proposed_once_and_the_unit_must_be_in_the_directory() {
    let mut s = Scenario::new();
    let breach = |unit: &str| WatchAction::ProposeForBreach {
        item: matter(),
        unit: UnitId::from(unit),
        agreement_id: "A1".into(),
        obligation_id: "1".into(),
    };
    assert!(matches!(
        s.when("2026-12-01", OFFICE, breach("binhai.nowhere")),
        Err(DomainError::Invalid { field: "unit", .. })
    ));
    let events = s.when("2026-12-01", OFFICE, breach(BUREAU)).unwrap();
    assert!(
        matches!(&events[0], WatchEvent::SupervisionProposed { article, .. } if article == "art. 33")
    );
    assert!(s.when("2026-12-02", OFFICE, breach(BUREAU)).is_err());
}

#[test]
fn given_open_proposals_when_issued_or_dismissed_then_each_is_recorded_once() {
    // given two proposals
    let mut s = Scenario::new();
    s.when(
        "2026-12-01",
        OFFICE,
        threshold(Threshold::Overdue, DeadlineKind::Handling, "2026-11-30"),
    )
    .unwrap();
    s.when(
        "2026-12-01",
        OFFICE,
        threshold(
            Threshold::Overdue,
            DeadlineKind::ReceiptNotice,
            "2026-11-20",
        ),
    )
    .unwrap();
    // when the first is issued and the second dismissed
    let issue = WatchAction::Issue {
        number: 1,
        order_id: SupervisionOrderId::from("SO9"),
    };
    s.when("2026-12-02", OFFICE, issue.clone()).unwrap();
    let dismiss = |reason: &str| WatchAction::Dismiss {
        number: 2,
        reason: reason.into(),
    };
    assert!(matches!(
        s.when("2026-12-02", OFFICE, dismiss(" ")),
        Err(DomainError::Invalid {
            field: "reason",
            ..
        })
    ));
    s.when("2026-12-02", OFFICE, dismiss("告知已补发")).unwrap();
    // then each stands as decided, and neither can be decided again
    assert!(matches!(
        &s.state.proposals[0].status,
        ProposalStatus::Issued { order_id, on } if order_id.0 == "SO9" && *on == d("2026-12-02")
    ));
    assert!(matches!(
        &s.state.proposals[1].status,
        ProposalStatus::Dismissed { .. }
    ));
    let err = s.when("2026-12-03", OFFICE, issue).unwrap_err();
    assert!(err.to_string().contains("issued as SO9"), "{err}");
    assert!(s.when("2026-12-03", OFFICE, dismiss("again")).is_err());
    assert!(matches!(
        s.when(
            "2026-12-03",
            OFFICE,
            WatchAction::Issue {
                number: 7,
                order_id: SupervisionOrderId::from("x")
            }
        ),
        Err(DomainError::Invalid {
            field: "proposal_id",
            ..
        })
    ));
}

#[test]
fn proposal_ids_name_their_item_and_number() {
    let id = proposal_id(&matter(), 3);
    assert_eq!(id, "petition_matter:PM1/3");
    assert_eq!(parse_proposal_id(&id), Some((matter(), 3)));
    assert_eq!(parse_proposal_id("petition_matter:PM1/0"), None);
    assert_eq!(parse_proposal_id("nothing/1"), None);
}

#[test]
fn given_a_breach_proposal_when_issued_then_the_order_goes_to_the_unit_answered_in_ten_working_days()
 {
    // given the bureau's breach of obligation o2 of agreement a1, proposed and issued on Monday
    // 2026-09-28 (before the National Day holiday)
    let mut s = Scenario::new();
    s.when(
        "2026-09-28",
        OFFICE,
        WatchAction::ProposeForBreach {
            item: matter(),
            unit: UnitId::from(BUREAU),
            agreement_id: "a1".into(),
            obligation_id: "o2".into(),
        },
    )
    .unwrap();
    let order = s.state.proposals[0].issue(
        &matter(),
        SupervisionOrderId::from("o9"),
        d("2026-09-28"),
        None,
        IssueTerms::default(),
        &s.rules,
    );
    // then it is the bureau's, for agreement a1, due ten working days later (holidays not counted)
    let OrderAction::Issue {
        to_unit,
        due_on,
        reason,
        requirements,
        ..
    } = &order
    else {
        panic!("{order:?}");
    };
    assert_eq!(to_unit.as_str(), BUREAU);
    assert_eq!(
        reason,
        &SupervisionReason::AgreementBreach {
            agreement_id: "a1".into()
        }
    );
    assert!(
        requirements.contains("o2") && requirements.contains("art. 33"),
        "{requirements}"
    );
    assert_eq!(
        *due_on,
        d("2026-10-16"),
        "Saturday 10 October is a working day"
    );
    // and the supervisor's own date and requirements win
    let terms = IssueTerms {
        due_on: Some(d("2026-10-09")),
        requirements: Some("三日内书面说明".into()),
        escalate_to: None,
    };
    let order = s.state.proposals[0].issue(
        &matter(),
        SupervisionOrderId::from("o9"),
        d("2026-09-28"),
        None,
        terms,
        &s.rules,
    );
    assert!(
        matches!(order, OrderAction::Issue { due_on, requirements, .. }
        if due_on == d("2026-10-09") && requirements == "三日内书面说明")
    );
}

#[test]
fn given_an_unanswered_order_proposal_when_issued_then_it_escalates_one_level_up_unless_told() {
    let mut s = Scenario::new();
    let order = ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1"));
    s.when(
        "2026-12-01",
        OFFICE,
        WatchAction::RecordThreshold {
            item: order.clone(),
            deadline: DeadlineKind::SupervisionFeedback,
            due_on: d("2026-11-30"),
            threshold: Threshold::Overdue,
            duty_of: Some(UnitId::from(BUREAU)),
        },
    )
    .unwrap();
    let p = &s.state.proposals[0];
    let id = SupervisionOrderId::from("SO1");
    let issue = |current, to| {
        p.issue(
            &order,
            id.clone(),
            d("2026-12-02"),
            current,
            IssueTerms {
                escalate_to: to,
                ..IssueTerms::default()
            },
            &s.rules,
        )
    };
    assert!(matches!(
        issue(None, None),
        OrderAction::Escalate {
            level: EscalationLevel::Interview,
            ..
        }
    ));
    assert!(matches!(
        issue(Some(EscalationLevel::Interview), None),
        OrderAction::Escalate {
            level: EscalationLevel::PublicNotice,
            ..
        }
    ));
    assert!(matches!(
        issue(None, Some(EscalationLevel::ListedSupervision)),
        OrderAction::Escalate {
            level: EscalationLevel::ListedSupervision,
            ..
        }
    ));
}
