//! Given/when/then tests of the dispute procedure.

use proptest::prelude::*;

use super::*;
use crate::testing::{self, d};

const COMMITTEE: &str = "binhai.political_legal_committee";
const STATION: &str = "binhai.police.xingang";
const BUREAU: &str = "binhai.housing_bureau";
const TOWN: &str = "binhai.xingang_subdistrict";

type Scenario = testing::Scenario<Dispute>;

fn reported_by_police() -> Scenario {
    let mut s = Scenario::new();
    s.when(
        "2026-05-11",
        STATION,
        DisputeAction::Report {
            dispute_id: DisputeId::from("d1"),
            source: DisputeSource::Policing,
            title: "Owners block a site gate over delayed flats".into(),
            category: "housing".into(),
            territory: UnitId::from(TOWN),
            parties: vec![PersonRef::from("p-7")],
            collective_size: 40,
        },
    )
    .unwrap();
    s
}

#[test]
fn given_a_report_when_its_territory_is_a_department_or_a_typo_then_the_territory_field_is_named() {
    for territory in [BUREAU, "binhai.xingnag_subdistrict"] {
        let mut s = Scenario::new();
        let reported = s.when(
            "2026-05-11",
            STATION,
            DisputeAction::Report {
                dispute_id: DisputeId::from("d1"),
                source: DisputeSource::Policing,
                title: "业主围堵工地大门".into(),
                category: "housing".into(),
                territory: UnitId::from(territory),
                parties: vec![],
                collective_size: 1,
            },
        );
        match reported {
            Err(DomainError::Invalid { field, reason }) => {
                assert_eq!(field, "territory");
                assert!(reason.contains(territory), "{reason}");
            }
            other => panic!("{territory}: {other:?}"),
        }
    }
}

#[test]
fn given_a_police_reported_dispute_when_assessed_high_then_a_warning_and_an_assignment_follow() {
    let mut s = reported_by_police();
    assert_eq!(s.state.reporting_unit, Some(UnitId::from(STATION)));
    assert!(
        matches!(
            s.when("2026-05-12", COMMITTEE, DisputeAction::Warn),
            Err(DomainError::Refused { .. })
        ),
        "no warning before assessment"
    );
    s.when(
        "2026-05-12",
        COMMITTEE,
        DisputeAction::Assess {
            level: RiskLevel::High,
        },
    )
    .unwrap();
    s.when("2026-05-12", COMMITTEE, DisputeAction::Warn)
        .unwrap();
    assert!(
        s.when("2026-05-12", COMMITTEE, DisputeAction::Warn)
            .is_err(),
        "one warning per level"
    );
    s.when(
        "2026-05-13",
        COMMITTEE,
        DisputeAction::Assign {
            responsible_unit: UnitId::from(BUREAU),
            territorial_unit: UnitId::from(TOWN),
            due_on: d("2026-06-12"),
        },
    )
    .unwrap();
    assert_eq!(s.state.stage, DisputeStage::Assigned);
    let deadline = s.state.resolution_deadline.clone().unwrap();
    assert_eq!(
        deadline.due(&Rules::shipped().unwrap().calendar),
        d("2026-06-12")
    );
}

#[test]
fn given_a_low_risk_when_a_warning_is_asked_then_it_is_refused() {
    let mut s = reported_by_police();
    s.when(
        "2026-05-12",
        COMMITTEE,
        DisputeAction::Assess {
            level: RiskLevel::Low,
        },
    )
    .unwrap();
    assert!(matches!(
        s.when("2026-05-12", COMMITTEE, DisputeAction::Warn),
        Err(DomainError::Refused { .. })
    ));
}

#[test]
fn given_an_assigned_dispute_when_resolved_then_verification_by_another_unit_closes_it() {
    let mut s = reported_by_police();
    s.when(
        "2026-05-13",
        COMMITTEE,
        DisputeAction::Assign {
            responsible_unit: UnitId::from(BUREAU),
            territorial_unit: UnitId::from(TOWN),
            due_on: d("2026-06-12"),
        },
    )
    .unwrap();
    s.when(
        "2026-05-20",
        STATION,
        DisputeAction::RecordMediation { agreed: false },
    )
    .unwrap();
    assert!(matches!(
        s.when(
            "2026-06-01",
            STATION,
            DisputeAction::ReportResolution {
                summary: "done".into()
            }
        ),
        Err(DomainError::NotAuthorized { .. })
    ));
    s.when(
        "2026-06-01",
        BUREAU,
        DisputeAction::ReportResolution {
            summary: "delivery schedule agreed".into(),
        },
    )
    .unwrap();
    assert!(
        matches!(
            s.when(
                "2026-06-02",
                BUREAU,
                DisputeAction::VerifyResolution {
                    accepted: true,
                    note: "ok".into()
                }
            ),
            Err(DomainError::NotAuthorized { .. })
        ),
        "a unit does not verify its own resolution"
    );
    s.when(
        "2026-06-02",
        COMMITTEE,
        DisputeAction::VerifyResolution {
            accepted: false,
            note: "owners not consulted".into(),
        },
    )
    .unwrap();
    assert_eq!(
        s.state.stage,
        DisputeStage::Assigned,
        "a rejected resolution goes back to the units"
    );
    s.when(
        "2026-06-08",
        TOWN,
        DisputeAction::ReportResolution {
            summary: "owners' meeting held".into(),
        },
    )
    .unwrap();
    s.when(
        "2026-06-09",
        COMMITTEE,
        DisputeAction::VerifyResolution {
            accepted: true,
            note: "checked on site".into(),
        },
    )
    .unwrap();
    assert_eq!(s.state.stage, DisputeStage::Verified);
    assert!(s.state.stage.is_closed());
    assert_eq!(s.state.resolution_reports, 2);
    assert_eq!(s.state.mediations, (1, 0));
}

#[test]
fn given_an_assignment_when_the_due_date_is_not_in_the_future_then_the_field_is_named() {
    let mut s = reported_by_police();
    let r = s.when(
        "2026-05-13",
        COMMITTEE,
        DisputeAction::Assign {
            responsible_unit: UnitId::from(BUREAU),
            territorial_unit: UnitId::from(TOWN),
            due_on: d("2026-05-13"),
        },
    );
    assert!(matches!(
        r,
        Err(DomainError::Invalid {
            field: "due_on",
            ..
        })
    ));
}

proptest! {
    #[test]
    fn replaying_the_accepted_events_rebuilds_the_state(steps in prop::collection::vec((0u8..9, 0usize..4, 0u8..10), 0..40)) {
        let units = [COMMITTEE, STATION, BUREAU, TOWN];
        let mut s = reported_by_police();
        let mut day = d("2026-05-11");
        for (kind, unit, gap) in steps {
            day = day + chrono::Days::new(u64::from(gap));
            let action = match kind {
                0 => DisputeAction::Assess { level: RiskLevel::Medium },
                1 => DisputeAction::Assess { level: RiskLevel::Major },
                2 => DisputeAction::Warn,
                3 => DisputeAction::Assign { responsible_unit: UnitId::from(BUREAU), territorial_unit: UnitId::from(TOWN), due_on: day + chrono::Days::new(30) },
                4 => DisputeAction::RecordMediation { agreed: gap % 2 == 0 },
                5 => DisputeAction::ReportResolution { summary: "done".into() },
                6 => DisputeAction::VerifyResolution { accepted: gap % 2 == 0, note: "checked".into() },
                7 => DisputeAction::Close { reason: "resolved on the spot".into() },
                _ => DisputeAction::Assess { level: RiskLevel::Low },
            };
            let _ = s.when(&day.to_string(), units[unit], action);
        }
        prop_assert_eq!(Dispute::replay(&s.history), s.state);
    }
}
