//! Acceptance by class and route, channelling, accusations, suggestions, non-acceptance (arts. 28–31).

use super::*;

#[test]
fn given_a_claim_for_litigation_when_accepted_then_it_is_channelled_naming_the_channel() {
    let mut s = accepted_claim();
    let mut s2 = Scenario::new();
    s2.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m2",
            ClaimClass::Claim,
            IntakeFindings::default(),
        )),
    )
    .ok(
        "2026-03-03",
        OFFICE,
        MatterAction::Forward {
            to: u(BUREAU),
            territorial_unit: None,
        },
    )
    .ok("2026-03-04", BUREAU, MatterAction::Receive);
    let missing_channel = s2.when(
        "2026-03-05",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Claim,
            route: Some(ClaimRoute::Litigation),
            channel: None,
            accused_unit: None,
        },
    );
    assert!(matches!(
        missing_channel,
        Err(DomainError::Invalid {
            field: "channel",
            ..
        })
    ));
    s2.ok(
        "2026-03-05",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Claim,
            route: Some(ClaimRoute::Litigation),
            channel: Some("Binhai People's Court, case filing division".into()),
            accused_unit: None,
        },
    );
    assert_eq!(s2.state.stage, Stage::Channelled);
    assert!(s2.state.stage.is_closed());
    assert!(!s2.state.deadlines.contains_key(&DeadlineKind::Handling));
    // The petition-route matter, by contrast, is still open.
    assert!(!s.state.stage.is_closed());
    assert!(s.when("2026-03-07", BUREAU, MatterAction::Receive).is_err());
}

#[test]
fn given_an_accusation_when_accepted_then_it_goes_to_discipline_and_the_accused_never_sees_the_petitioners()
 {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m3",
            ClaimClass::Accusation,
            IntakeFindings::default(),
        )),
    )
    .ok(
        "2026-03-03",
        OFFICE,
        MatterAction::Assign {
            to: u(BUREAU),
            territorial_unit: None,
        },
    )
    .ok("2026-03-04", BUREAU, MatterAction::Receive);
    let no_accused = s.when(
        "2026-03-05",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Accusation,
            route: None,
            channel: None,
            accused_unit: None,
        },
    );
    assert!(matches!(
        no_accused,
        Err(DomainError::Invalid {
            field: "accused_unit",
            ..
        })
    ));
    s.ok(
        "2026-03-05",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Accusation,
            route: None,
            channel: None,
            accused_unit: Some(u(TOWN)),
        },
    );
    assert_eq!(s.state.stage, Stage::ReferredToDiscipline);
    assert!(s.state.is_accusation());
    assert!(!s.state.petitioners_visible_to(&u(TOWN)));
    assert!(s.state.petitioners_visible_to(&u(BUREAU)));
}

#[test]
fn given_a_suggestion_when_answered_then_it_closes_without_a_review_window() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m4",
            ClaimClass::Suggestion,
            IntakeFindings::default(),
        )),
    )
    .ok(
        "2026-03-03",
        OFFICE,
        MatterAction::Assign {
            to: u(BUREAU),
            territorial_unit: None,
        },
    )
    .ok("2026-03-04", BUREAU, MatterAction::Receive)
    .ok(
        "2026-03-05",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Suggestion,
            route: None,
            channel: None,
            accused_unit: None,
        },
    )
    .ok(
        "2026-03-20",
        BUREAU,
        MatterAction::DeliverReply {
            delivered_on: d("2026-03-20"),
        },
    );
    assert_eq!(s.state.stage, Stage::Answered);
    assert!(!s.state.deadlines.contains_key(&DeadlineKind::ReviewRequest));
    let (rule, _, _) = refused_rule(s.when(
        "2026-03-25",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    ));
    assert_eq!(rule, Rule::Art35);
}

#[test]
fn given_a_received_matter_when_not_accepted_then_the_competent_channel_must_be_named() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m5",
            ClaimClass::Claim,
            IntakeFindings::default(),
        )),
    )
    .ok(
        "2026-03-03",
        OFFICE,
        MatterAction::Assign {
            to: u(BUREAU),
            territorial_unit: None,
        },
    )
    .ok("2026-03-04", BUREAU, MatterAction::Receive);
    let blank = s.when(
        "2026-03-05",
        BUREAU,
        MatterAction::NotAccept {
            reason: "arbitration award exists".into(),
            competent_channel: " ".into(),
        },
    );
    assert!(matches!(
        blank,
        Err(DomainError::Invalid {
            field: "competent_channel",
            ..
        })
    ));
    s.ok(
        "2026-03-05",
        BUREAU,
        MatterAction::NotAccept {
            reason: "arbitration award exists".into(),
            competent_channel: "enforcement at the court".into(),
        },
    );
    assert_eq!(s.state.stage, Stage::NotAccepted);
}
