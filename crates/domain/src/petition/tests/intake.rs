//! Intake: registration, its clock, and repeat petitions found against their original (art. 22, art. 36 ¶3).

use super::*;

#[test]
fn given_a_petition_when_registered_then_the_art_22_clock_runs_15_days_from_receipt() {
    let mut s = Scenario::new();
    let events = s
        .when(
            "2026-03-02",
            OFFICE,
            MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
        )
        .unwrap();
    assert_eq!(events.len(), 1);
    assert!(matches!(
        &events[0],
        MatterEvent::Registered {
            first_petition: true,
            linked_to: None,
            ..
        }
    ));
    assert_eq!(s.state.stage, Stage::Registered);
    assert_eq!(due(&s, DeadlineKind::ForwardOrAssign), d("2026-03-17"));
}

#[test]
fn given_an_open_original_when_the_same_petitioner_comes_again_then_the_petition_is_merged_into_its_root()
 {
    let original = MatterSummary {
        matter_id: MatterId::from("m9"),
        root: MatterId::from("m1"),
        stage: Stage::Handling,
    };
    let mut s = Scenario::new();
    let events = s
        .when(
            "2026-04-01",
            OFFICE,
            MatterAction::Register(registration(
                "m10",
                ClaimClass::Claim,
                PriorPetition::SameMatter {
                    original,
                    new_facts: false,
                },
            )),
        )
        .unwrap();
    assert!(
        matches!(&events[0], MatterEvent::Registered { first_petition: false, linked_to: Some(root), .. } if root.as_str() == "m1")
    );
    assert!(
        matches!(&events[1], MatterEvent::MergedIntoOriginal { original, .. } if original.as_str() == "m1"),
        "one root, never a tree"
    );
    assert_eq!(s.state.stage, Stage::Merged);
}

#[test]
fn given_a_concluded_original_when_the_same_facts_come_again_then_they_are_not_accepted_again_citing_art_36()
 {
    let original = MatterSummary {
        matter_id: MatterId::from("m1"),
        root: MatterId::from("m1"),
        stage: Stage::Concluded,
    };
    let mut s = Scenario::new();
    let events = s
        .when(
            "2026-07-01",
            OFFICE,
            MatterAction::Register(registration(
                "m11",
                ClaimClass::Claim,
                PriorPetition::SameMatter {
                    original,
                    new_facts: false,
                },
            )),
        )
        .unwrap();
    let MatterEvent::NotAcceptedAgain { notice, .. } = &events[1] else {
        panic!("expected NotAcceptedAgain, got {events:?}");
    };
    assert!(notice.contains("article 36 paragraph 3"), "{notice}");
    assert_eq!(s.state.stage, Stage::NotAcceptedAgain);
    assert!(
        s.when(
            "2026-07-02",
            OFFICE,
            MatterAction::Assign {
                to: u(BUREAU),
                territorial_unit: None
            }
        )
        .is_err()
    );
}

#[test]
fn given_a_concluded_original_when_new_facts_come_then_a_new_matter_is_linked_to_the_old() {
    let original = MatterSummary {
        matter_id: MatterId::from("m1"),
        root: MatterId::from("m1"),
        stage: Stage::Final,
    };
    let mut s = Scenario::new();
    s.ok(
        "2026-07-01",
        OFFICE,
        MatterAction::Register(registration(
            "m12",
            ClaimClass::Claim,
            PriorPetition::SameMatter {
                original,
                new_facts: true,
            },
        )),
    );
    assert_eq!(s.state.stage, Stage::Registered);
    assert_eq!(s.state.linked_to, Some(MatterId::from("m1")));
    assert!(!s.state.first_petition);
}

#[test]
fn given_a_registration_when_fields_are_bad_then_the_field_is_named() {
    let mut s = Scenario::new();
    let mut r = registration("m1", ClaimClass::Claim, PriorPetition::None);
    r.petitioners.clear();
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r)),
        Err(DomainError::Invalid {
            field: "petitioners",
            ..
        })
    ));
    let mut r = registration("m1", ClaimClass::Claim, PriorPetition::None);
    r.title = "x".repeat(MAX_TITLE_CHARS + 1);
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r)),
        Err(DomainError::Invalid { field: "title", .. })
    ));
    let mut r = registration("m1", ClaimClass::Claim, PriorPetition::None);
    r.collective_size = 1;
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r)),
        Err(DomainError::Invalid {
            field: "collective_size",
            ..
        })
    ));
    assert_eq!(
        s.state,
        PetitionMatter::default(),
        "a refused command changes nothing"
    );
}
