//! Routing: forwarding, receipt and routing objections (arts. 22–23).

use super::*;

#[test]
fn given_a_registered_matter_when_forwarded_then_it_stays_open_with_the_responsible_unit_named() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m1",
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
    );
    assert_eq!(s.state.stage, Stage::Forwarded);
    assert!(
        !s.state.stage.is_closed(),
        "forwarding never closes a matter"
    );
    assert_eq!(s.state.responsible_unit, Some(u(BUREAU)));
    assert_eq!(
        s.state.deadlines[&DeadlineKind::ForwardOrAssign].met_on,
        Some(d("2026-03-03"))
    );
}

#[test]
fn given_a_forwarded_matter_when_another_unit_receives_it_then_it_is_not_authorized() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m1",
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
    );
    let result = s.when("2026-03-04", TOWN, MatterAction::Receive);
    assert!(matches!(result, Err(DomainError::NotAuthorized { .. })));
}

#[test]
fn given_a_received_matter_when_the_unit_objects_within_5_working_days_then_upheld_returns_it_to_the_office()
 {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m1",
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
    // Received Wed 03-04: five working days end Wed 03-11.
    assert_eq!(due(&s, DeadlineKind::RoutingObjection), d("2026-03-11"));
    s.ok(
        "2026-03-11",
        BUREAU,
        MatterAction::ObjectToRouting {
            reason: "land matters belong to the town".into(),
        },
    )
    .ok(
        "2026-03-12",
        OFFICE,
        MatterAction::DecideRoutingObjection { upheld: true },
    );
    assert_eq!(s.state.stage, Stage::Registered);
    assert_eq!(s.state.responsible_unit, None);
    assert_eq!(
        due(&s, DeadlineKind::ForwardOrAssign),
        d("2026-03-27"),
        "a fresh art. 22 period from the decision"
    );
}

#[test]
fn given_a_received_matter_when_the_objection_comes_on_the_6th_working_day_then_it_is_refused_citing_art_23()
 {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m1",
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
    let (rule, deadline, reason) = refused_rule(s.when(
        "2026-03-12",
        BUREAU,
        MatterAction::ObjectToRouting {
            reason: "not ours".into(),
        },
    ));
    assert_eq!(rule, Rule::Art23P3);
    assert_eq!(deadline, Some(d("2026-03-11")));
    assert!(reason.contains("2026-03-11"), "{reason}");
}

#[test]
fn given_an_objection_when_not_upheld_then_the_unit_must_proceed() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration(
            "m1",
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
    .ok("2026-03-04", BUREAU, MatterAction::Receive)
    .ok(
        "2026-03-05",
        BUREAU,
        MatterAction::ObjectToRouting {
            reason: "not ours".into(),
        },
    )
    .ok(
        "2026-03-06",
        OFFICE,
        MatterAction::DecideRoutingObjection { upheld: false },
    );
    assert_eq!(s.state.stage, Stage::Received);
    assert_eq!(s.state.responsible_unit, Some(u(BUREAU)));
}
