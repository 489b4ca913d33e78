//! Given/when/then tests of supervision orders and their escalation.

use proptest::prelude::*;

use super::*;
use crate::ids::MatterId;
use crate::testing::{self, at, d};

const OFFICE: &str = "binhai.joint_meeting_office";
const TOWN: &str = "binhai.xingang_subdistrict";

type Scenario = testing::Scenario<SupervisionOrder>;

fn issued() -> Scenario {
    let mut s = Scenario::new();
    s.when(
        "2026-06-01",
        OFFICE,
        OrderAction::Issue {
            order_id: SupervisionOrderId::from("o1"),
            subject: ItemRef::PetitionMatter(MatterId::from("m1")),
            to_unit: UnitId::from(TOWN),
            due_on: d("2026-06-15"),
            reason: SupervisionReason::AgreementBreach {
                agreement_id: "a1".into(),
            },
            requirements: "pay the agreed wages and report".into(),
        },
    )
    .unwrap();
    s
}

#[test]
fn given_an_order_when_escalated_up_the_ladder_then_it_reaches_an_accountability_recommendation() {
    let mut s = issued();
    s.when("2026-06-02", TOWN, OrderAction::Acknowledge)
        .unwrap();
    for level in [
        EscalationLevel::Interview,
        EscalationLevel::PublicNotice,
        EscalationLevel::ListedSupervision,
        EscalationLevel::BackwardInvestigation,
        EscalationLevel::AccountabilityRecommendation,
    ] {
        s.when(
            "2026-06-20",
            OFFICE,
            OrderAction::Escalate {
                level,
                note: "no feedback".into(),
            },
        )
        .unwrap();
    }
    assert_eq!(
        s.state.escalation,
        Some(EscalationLevel::AccountabilityRecommendation)
    );
    let down = s.when(
        "2026-06-21",
        OFFICE,
        OrderAction::Escalate {
            level: EscalationLevel::Interview,
            note: "x".into(),
        },
    );
    let Err(DomainError::Refused { rule, .. }) = down else {
        panic!("{down:?}")
    };
    assert_eq!(rule, Rule::Arts39To40);
    assert!(
        s.state
            .feedback_deadline
            .as_ref()
            .unwrap()
            .is_overdue(&Rules::shipped().unwrap().calendar, d("2026-06-20"))
    );
    assert!(s.replays());
}

#[test]
fn given_feedback_when_rejected_then_a_new_due_date_runs_and_acceptance_closes_the_order() {
    let mut s = issued();
    assert!(matches!(
        s.when(
            "2026-06-05",
            OFFICE,
            OrderAction::SubmitFeedback {
                summary: "x".into()
            }
        ),
        Err(DomainError::NotAuthorized { .. })
    ));
    s.when(
        "2026-06-05",
        TOWN,
        OrderAction::SubmitFeedback {
            summary: "half paid".into(),
        },
    )
    .unwrap();
    s.when(
        "2026-06-06",
        OFFICE,
        OrderAction::RejectFeedback {
            reason: "pay in full".into(),
            due_on: d("2026-06-30"),
        },
    )
    .unwrap();
    assert_eq!(s.state.rejections, 1);
    assert_eq!(
        s.state
            .feedback_deadline
            .as_ref()
            .unwrap()
            .due(&Rules::shipped().unwrap().calendar),
        d("2026-06-30")
    );
    assert!(
        s.when(
            "2026-06-20",
            OFFICE,
            OrderAction::RecordAdoption { adopted: true }
        )
        .is_err(),
        "only once closed"
    );
    s.when(
        "2026-06-20",
        TOWN,
        OrderAction::SubmitFeedback {
            summary: "paid in full".into(),
        },
    )
    .unwrap();
    s.when("2026-06-21", OFFICE, OrderAction::AcceptFeedback)
        .unwrap();
    s.when(
        "2026-06-21",
        OFFICE,
        OrderAction::RecordAdoption { adopted: true },
    )
    .unwrap();
    assert_eq!(s.state.stage, OrderStage::Closed);
    assert!(
        s.when(
            "2026-06-22",
            OFFICE,
            OrderAction::Escalate {
                level: EscalationLevel::Interview,
                note: "x".into()
            }
        )
        .is_err()
    );
}

#[test]
fn given_an_order_to_itself_then_the_field_is_named() {
    let r = SupervisionOrder::default().decide(
        &OrderCommand {
            at: at("2026-06-01"),
            unit: UnitId::from(TOWN),
            action: OrderAction::Issue {
                order_id: SupervisionOrderId::from("o1"),
                subject: ItemRef::PetitionMatter(MatterId::from("m1")),
                to_unit: UnitId::from(TOWN),
                due_on: d("2026-06-15"),
                reason: SupervisionReason::Risk,
                requirements: "x".into(),
            },
        },
        &Rules::shipped().unwrap(),
    );
    assert!(matches!(
        r,
        Err(DomainError::Invalid {
            field: "to_unit",
            ..
        })
    ));
}

proptest! {
    #[test]
    fn replaying_the_accepted_events_rebuilds_the_state(steps in prop::collection::vec((0u8..8, any::<bool>(), 0u8..10), 0..40)) {
        let mut s = issued();
        let mut day = d("2026-06-01");
        for (kind, by_issuer, gap) in steps {
            day = day + chrono::Days::new(u64::from(gap));
            let unit = if by_issuer { OFFICE } else { TOWN };
            let action = match kind {
                0 => OrderAction::Acknowledge,
                1 => OrderAction::SubmitFeedback { summary: "done".into() },
                2 => OrderAction::AcceptFeedback,
                3 => OrderAction::RejectFeedback { reason: "no".into(), due_on: day + chrono::Days::new(10) },
                4 => OrderAction::Escalate { level: EscalationLevel::PublicNotice, note: "x".into() },
                5 => OrderAction::Escalate { level: EscalationLevel::Interview, note: "x".into() },
                6 => OrderAction::RecordAdoption { adopted: gap % 2 == 0 },
                _ => OrderAction::Escalate { level: EscalationLevel::AccountabilityRecommendation, note: "x".into() },
            };
            let _ = s.when(&day.to_string(), unit, action);
        }
        prop_assert!(s.replays());
    }
}
