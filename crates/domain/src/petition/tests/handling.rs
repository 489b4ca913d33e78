//! Handling: the 60-day period, its one extension, and implementation (arts. 32, 34).

use super::*;

#[test]
fn given_a_claim_on_the_petition_route_when_accepted_then_handling_is_due_in_60_days() {
    let s = accepted_claim();
    assert_eq!(s.state.stage, Stage::Handling);
    // Accepted Fri 2026-03-06: day 60 is Tue 2026-05-05, in the Labour Day holiday → Wed 05-06.
    assert_eq!(due(&s, DeadlineKind::Handling), d("2026-05-06"));
    assert!(
        s.state.deadlines[&DeadlineKind::ReceiptNotice]
            .met_on
            .is_some()
    );
}

#[test]
fn given_handling_when_extended_once_by_30_days_then_a_second_extension_is_refused_citing_art_34() {
    let mut s = accepted_claim();
    let extend = |days| MatterAction::ExtendHandling {
        days,
        approver: u(DISTRICT_GOV),
        reason: "site audit pending".into(),
    };
    assert!(matches!(
        s.when("2026-04-20", BUREAU, extend(31)),
        Err(DomainError::Invalid { field: "days", .. })
    ));
    s.ok("2026-04-20", BUREAU, extend(30));
    // 60 + 30 days from 2026-03-06 is Thu 2026-06-04.
    assert_eq!(due(&s, DeadlineKind::Handling), d("2026-06-04"));
    let (rule, _, reason) = refused_rule(s.when("2026-05-20", BUREAU, extend(10)));
    assert_eq!(rule, Rule::Art34);
    assert!(reason.contains("once"), "{reason}");
}

#[test]
fn given_handling_past_its_due_date_when_an_extension_is_asked_then_it_is_refused() {
    let mut s = accepted_claim();
    let (rule, deadline, _) = refused_rule(s.when(
        "2026-05-07",
        BUREAU,
        MatterAction::ExtendHandling {
            days: 10,
            approver: u(DISTRICT_GOV),
            reason: "late".into(),
        },
    ));
    assert_eq!((rule, deadline), (Rule::Art34, Some(d("2026-05-06"))));
}

#[test]
fn given_a_supported_claim_when_delivered_then_implementation_is_recorded_once() {
    let mut s = accepted_claim();
    s.ok(
        "2026-04-01",
        BUREAU,
        MatterAction::IssueHandlingOpinion {
            outcome: HandlingOutcome::Supported,
        },
    );
    assert!(
        s.when("2026-04-02", BUREAU, MatterAction::RecordImplementation)
            .is_err(),
        "not before delivery"
    );
    s.ok(
        "2026-04-02",
        BUREAU,
        MatterAction::DeliverReply {
            delivered_on: d("2026-04-02"),
        },
    )
    .ok("2026-04-30", BUREAU, MatterAction::RecordImplementation);
    assert!(s.state.implemented);
    assert!(
        s.when("2026-05-01", BUREAU, MatterAction::RecordImplementation)
            .is_err()
    );
}
