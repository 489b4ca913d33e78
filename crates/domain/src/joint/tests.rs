//! Given/when/then tests of joint handling.

use super::*;
use crate::ids::DisputeId;
use crate::testing::{self, at, d, u};

const LEAD: &str = "binhai.xingang_subdistrict";
const STATION: &str = "binhai.police.xingang";
const JUDICIAL: &str = "binhai.judicial.xingang";
const COMMITTEE: &str = "binhai.political_legal_committee";

type Scenario = testing::Scenario<JointHandling>;

fn opened() -> Scenario {
    let mut s = Scenario::new();
    s.when(
        "2026-05-14",
        COMMITTEE,
        JointAction::Open {
            joint_handling_id: JointHandlingId::from("j1"),
            subject: ItemRef::Dispute(DisputeId::from("d1")),
            lead_unit: u(LEAD),
            co_handlers: vec![
                (u(STATION), CoHandlerRole::PoliceStation),
                (u(JUDICIAL), CoHandlerRole::JudicialOffice),
            ],
            political_legal_committee: u(COMMITTEE),
        },
    )
    .unwrap();
    s
}

#[test]
fn given_a_dispute_when_a_joint_handling_opens_then_every_unit_and_the_committee_are_informed_at_once()
 {
    let history = opened().history;
    let JointEvent::Opened { informed, .. } = &history[0] else {
        panic!("{history:?}")
    };
    assert_eq!(
        informed,
        &vec![u(LEAD), u(STATION), u(JUDICIAL), u(COMMITTEE)]
    );
}

#[test]
fn given_an_open_joint_handling_when_tasks_are_done_and_reported_then_the_lead_closes_it() {
    let mut s = opened();
    assert!(
        matches!(
            s.when(
                "2026-05-15",
                STATION,
                JointAction::AddTask {
                    task_id: "t1".into(),
                    unit: u(STATION),
                    description: "mediate".into(),
                    due_on: d("2026-05-25")
                }
            ),
            Err(DomainError::NotAuthorized { .. })
        ),
        "the lead adds tasks"
    );
    s.when(
        "2026-05-15",
        LEAD,
        JointAction::AddTask {
            task_id: "t1".into(),
            unit: u(STATION),
            description: "mediate between owners and developer".into(),
            due_on: d("2026-05-25"),
        },
    )
    .unwrap();
    assert!(
        s.when("2026-05-16", STATION, JointAction::ClosePart)
            .is_err(),
        "not with an open task"
    );
    s.when(
        "2026-05-18",
        STATION,
        JointAction::RecordProgress {
            task_id: "t1".into(),
            note: "first session held".into(),
        },
    )
    .unwrap();
    s.when(
        "2026-05-22",
        STATION,
        JointAction::CompleteTask {
            task_id: "t1".into(),
        },
    )
    .unwrap();
    s.when("2026-05-22", STATION, JointAction::ClosePart)
        .unwrap();
    assert!(
        s.when("2026-05-23", LEAD, JointAction::Close).is_err(),
        "closing needs the resolution report"
    );
    s.when(
        "2026-05-24",
        LEAD,
        JointAction::SubmitResolutionReport {
            summary: "agreement signed, gate reopened".into(),
        },
    )
    .unwrap();
    s.when("2026-05-25", LEAD, JointAction::Close).unwrap();
    assert!(s.state.closed);
    assert_eq!(s.state.tasks["t1"].done_on, Some(d("2026-05-22")));
    assert!(
        s.when(
            "2026-05-26",
            LEAD,
            JointAction::SubmitResolutionReport {
                summary: "again".into()
            }
        )
        .is_err()
    );
    assert!(s.replays());
}

#[test]
fn given_an_opening_when_a_unit_appears_twice_then_the_field_is_named() {
    let mut s = JointHandling::default();
    let r = s.decide(
        &JointCommand {
            at: at("2026-05-14"),
            unit: u(COMMITTEE),
            action: JointAction::Open {
                joint_handling_id: JointHandlingId::from("j1"),
                subject: ItemRef::Dispute(DisputeId::from("d1")),
                lead_unit: u(LEAD),
                co_handlers: vec![(u(LEAD), CoHandlerRole::TerritorialUnit)],
                political_legal_committee: u(COMMITTEE),
            },
        },
        &Rules::shipped().unwrap(),
    );
    assert!(matches!(
        r,
        Err(DomainError::Invalid {
            field: "co_handlers",
            ..
        })
    ));
    s = s.clone();
    assert_eq!(s, JointHandling::default());
}

#[test]
fn given_units_named_without_their_part_then_each_takes_the_part_its_kind_plays() {
    // Given the shipped directory's station, judicial office, sub-district and bureau
    let directory = Rules::shipped().unwrap().directory;
    let part = |id: &str| CoHandlerRole::of_kind(directory.get(&u(id)).unwrap().kind);
    // Then each takes the part its kind plays in a joint handling
    assert_eq!(part("binhai.police.tanggu"), CoHandlerRole::PoliceStation);
    assert_eq!(
        part("binhai.judicial.tanggu"),
        CoHandlerRole::JudicialOffice
    );
    assert_eq!(
        part("binhai.tribunal.tanggu"),
        CoHandlerRole::PeoplesTribunal
    );
    assert_eq!(
        part("binhai.tanggu_subdistrict"),
        CoHandlerRole::TerritorialUnit
    );
    assert_eq!(
        part("binhai.human_resources_bureau"),
        CoHandlerRole::Department
    );
}
