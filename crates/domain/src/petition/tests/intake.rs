//! Intake: registration, its clock, and repeat petitions found against their original (art. 22, art. 36 ¶3).

use super::*;

#[test]
fn given_a_petition_when_registered_then_the_art_22_clock_runs_15_days_from_receipt() {
    let mut s = Scenario::new();
    let events = s
        .when(
            "2026-03-02",
            OFFICE,
            MatterAction::Register(registration(
                "m1",
                ClaimClass::Claim,
                IntakeFindings::default(),
            )),
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

/// An earlier matter of petitioner p-001 about the bureau, filed under labour (劳动保障).
fn earlier(id: &str, root: &str, stage: Stage) -> MatterSummary {
    MatterSummary {
        matter_id: MatterId::from(id),
        root: MatterId::from(root),
        stage,
        receipt_number: format!("BH-2026-{id}"),
        petitioners: vec![PersonRef::from("p-001")],
        category: Some("劳动保障".into()),
        concerns: [u(BUREAU)].into(),
        registered_on: d("2026-01-05"),
        closed_on: stage.bars_same_facts().then(|| d("2026-05-20")),
        agreements: Default::default(),
    }
}

fn found(earlier: Vec<MatterSummary>, new_facts: bool) -> IntakeFindings {
    IntakeFindings {
        earlier,
        same_matter_as: None,
        new_facts,
    }
}

#[test]
fn given_an_open_matter_on_the_same_claim_when_the_same_petitioner_comes_again_then_it_is_merged_into_its_root()
 {
    // given p-001's open matter m9 (itself linked to m1) about the bureau, filed under labour
    let mut s = Scenario::new();
    // when p-001 petitions again about the bureau under labour, nobody naming the original
    let events = s
        .when(
            "2026-04-01",
            OFFICE,
            MatterAction::Register(registration(
                "m10",
                ClaimClass::Claim,
                found(vec![earlier("m9", "m1", Stage::Handling)], false),
            )),
        )
        .unwrap();
    // then it joins the root and closes at intake: one entry, counted once
    assert!(
        matches!(&events[0], MatterEvent::Registered { first_petition: false, linked_to: Some(root), .. } if root.as_str() == "m1")
    );
    assert!(
        matches!(events.last(), Some(MatterEvent::MergedIntoOriginal { original, .. }) if original.as_str() == "m1"),
        "one root, never a tree"
    );
    assert_eq!(s.state.stage, Stage::Merged);
}

#[test]
fn given_a_concluded_matter_when_the_same_facts_come_again_then_the_notice_cites_art_36_the_receipt_and_the_day()
 {
    // given p-001's matter m1 on the same claim, concluded on 2026-05-20
    let mut s = Scenario::new();
    // when p-001 brings the same facts again
    let events = s
        .when(
            "2026-07-01",
            OFFICE,
            MatterAction::Register(registration(
                "m11",
                ClaimClass::Claim,
                found(vec![earlier("m1", "m1", Stage::Concluded)], false),
            )),
        )
        .unwrap();
    // then they are not accepted again, with a notice naming the article, the receipt and the day
    let Some(MatterEvent::NotAcceptedAgain { notice, .. }) = events.last() else {
        panic!("expected NotAcceptedAgain, got {events:?}");
    };
    for part in [
        "article 36 paragraph 3",
        "第三十六条第三款",
        "BH-2026-m1",
        "2026年05月20日",
        "2026-05-20",
    ] {
        assert!(notice.contains(part), "{part} missing from {notice}");
    }
    assert_eq!(s.state.stage, Stage::NotAcceptedAgain);
    assert_eq!(s.state.notice.as_deref(), Some(notice.as_str()));
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
fn given_a_final_matter_when_new_facts_come_then_a_new_matter_is_linked_to_the_old() {
    let mut s = Scenario::new();
    s.ok(
        "2026-07-01",
        OFFICE,
        MatterAction::Register(registration(
            "m12",
            ClaimClass::Claim,
            found(vec![earlier("m1", "m1", Stage::Final)], true),
        )),
    );
    assert_eq!(s.state.stage, Stage::Registered);
    assert_eq!(s.state.linked_to, Some(MatterId::from("m1")));
    assert!(!s.state.first_petition);
}

#[test]
fn given_the_same_petitioner_when_the_claim_is_another_unit_then_it_is_a_first_petition() {
    // given p-001's matter about another bureau, filed under labour
    let mut other = earlier("m1", "m1", Stage::Handling);
    other.concerns = [u(TOWN)].into();
    let mut s = Scenario::new();
    // when p-001 petitions about the bureau
    let events = s
        .when(
            "2026-04-01",
            OFFICE,
            MatterAction::Register(registration(
                "m13",
                ClaimClass::Claim,
                found(vec![other], false),
            )),
        )
        .unwrap();
    // then it is a first petition, unflagged
    assert_eq!(events.len(), 1);
    assert!(s.state.first_petition && s.state.possible_repeat_of.is_none());
}

#[test]
fn given_the_same_petitioner_and_unit_when_the_category_differs_then_it_is_flagged_and_the_clerk_decides()
 {
    // given p-001's concluded matter m1 about the bureau, filed under housing
    let mut housing = earlier("m1", "m1", Stage::Concluded);
    housing.category = Some("住房城建".into());
    let mut s = Scenario::new();
    // when p-001 petitions about the bureau under labour
    let events = s
        .when(
            "2026-07-01",
            OFFICE,
            MatterAction::Register(registration(
                "m14",
                ClaimClass::Claim,
                found(vec![housing.clone()], false),
            )),
        )
        .unwrap();
    // then it is registered as a first petition, flagged as a possible repeat of m1
    assert!(
        matches!(&events[1], MatterEvent::PossibleRepeatFlagged { of, receipt_number, .. } if of.as_str() == "m1" && receipt_number == "BH-2026-m1")
    );
    assert!(s.state.first_petition);
    assert_eq!(s.state.possible_repeat_of, Some(MatterId::from("m1")));
    // and only the office decides, against the flagged original
    assert!(matches!(
        s.when(
            "2026-07-02",
            BUREAU,
            MatterAction::DismissRepeat {
                reason: "另一诉求".into()
            }
        ),
        Err(DomainError::NotAuthorized { .. })
    ));
    let mut wrong = housing.clone();
    wrong.matter_id = MatterId::from("m7");
    assert!(matches!(
        s.when(
            "2026-07-02",
            OFFICE,
            MatterAction::ConfirmRepeat {
                original: wrong,
                new_facts: false
            }
        ),
        Err(DomainError::Invalid {
            field: "original",
            ..
        })
    ));
    // when the clerk confirms it: the same facts on a concluded matter are not accepted again
    s.ok(
        "2026-07-02",
        OFFICE,
        MatterAction::ConfirmRepeat {
            original: housing,
            new_facts: false,
        },
    );
    assert_eq!(s.state.stage, Stage::NotAcceptedAgain);
    assert!(!s.state.first_petition && s.state.possible_repeat_of.is_none());
    assert_eq!(s.state.linked_to, Some(MatterId::from("m1")));
}

#[test]
fn given_a_flagged_registration_when_the_clerk_dismisses_the_flag_then_it_stays_a_first_petition() {
    let mut labour_unit_unknown = earlier("m1", "m1", Stage::Handling);
    labour_unit_unknown.concerns.clear();
    let mut r = registration(
        "m15",
        ClaimClass::Claim,
        found(vec![labour_unit_unknown], false),
    );
    r.respondent = None;
    let mut s = Scenario::new();
    // the same category and no unit named: intake cannot tell
    s.ok("2026-04-01", OFFICE, MatterAction::Register(r));
    assert_eq!(s.state.possible_repeat_of, Some(MatterId::from("m1")));
    s.ok(
        "2026-04-02",
        OFFICE,
        MatterAction::DismissRepeat {
            reason: "不同用人单位".into(),
        },
    );
    assert!(s.state.first_petition && s.state.possible_repeat_of.is_none());
    assert_eq!(s.state.stage, Stage::Registered);
    // a second dismissal has nothing to dismiss
    assert!(
        s.when(
            "2026-04-02",
            OFFICE,
            MatterAction::DismissRepeat { reason: "x".into() }
        )
        .is_err()
    );
}

#[test]
fn given_an_open_and_a_concluded_matter_on_the_claim_when_the_petitioner_comes_again_then_the_open_one_takes_it()
 {
    let mut s = Scenario::new();
    s.ok(
        "2026-07-01",
        OFFICE,
        MatterAction::Register(registration(
            "m16",
            ClaimClass::Claim,
            found(
                vec![
                    earlier("m1", "m1", Stage::Concluded),
                    earlier("m8", "m8", Stage::Handling),
                ],
                false,
            ),
        )),
    );
    assert_eq!(s.state.stage, Stage::Merged);
    assert_eq!(s.state.linked_to, Some(MatterId::from("m8")));
}

#[test]
fn given_the_clerk_names_the_original_when_registered_then_that_original_decides() {
    let mut s = Scenario::new();
    s.ok(
        "2026-07-01",
        OFFICE,
        MatterAction::Register(registration(
            "m17",
            ClaimClass::Claim,
            IntakeFindings {
                earlier: vec![],
                same_matter_as: Some(earlier("m1", "m1", Stage::Final)),
                new_facts: false,
            },
        )),
    );
    assert_eq!(s.state.stage, Stage::NotAcceptedAgain);
}

#[test]
fn given_sealed_personal_data_when_registered_then_it_is_recorded_in_the_same_decision_for_petitioners_only()
 {
    let sealed = |who: &str| SealedPersonalData {
        person_ref: PersonRef::from(who),
        fields: vec![PersonalField::Name, PersonalField::IdNumber],
        sealed_identity: "c2VhbGVk".into(),
        sealed_narrative: None,
        derived_under: "hmac:0011".into(),
    };
    let mut r = registration("m18", ClaimClass::Claim, IntakeFindings::default());
    r.personal_data = vec![sealed("p-009")];
    let mut s = Scenario::new();
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r.clone())),
        Err(DomainError::Invalid {
            field: "personal_data",
            ..
        })
    ));
    r.personal_data = vec![sealed("p-001"), sealed("p-002")];
    let events = s
        .when("2026-03-02", OFFICE, MatterAction::Register(r))
        .unwrap();
    assert!(matches!(events[0], MatterEvent::Registered { .. }));
    assert!(
        events[1..]
            .iter()
            .all(|e| matches!(e, MatterEvent::PersonalDataRecorded { .. }))
    );
    assert_eq!(events.len(), 3);
}

#[test]
fn given_a_registration_when_fields_are_bad_then_the_field_is_named() {
    let mut s = Scenario::new();
    let mut r = registration("m1", ClaimClass::Claim, IntakeFindings::default());
    r.petitioners.clear();
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r)),
        Err(DomainError::Invalid {
            field: "petitioners",
            ..
        })
    ));
    let mut r = registration("m1", ClaimClass::Claim, IntakeFindings::default());
    r.title = "x".repeat(MAX_TITLE_CHARS + 1);
    assert!(matches!(
        s.when("2026-03-02", OFFICE, MatterAction::Register(r)),
        Err(DomainError::Invalid { field: "title", .. })
    ));
    let mut r = registration("m1", ClaimClass::Claim, IntakeFindings::default());
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
