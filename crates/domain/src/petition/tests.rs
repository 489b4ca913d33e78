//! Given/when/then tests of the petition procedure, and property tests over random command sequences.

use chrono::NaiveDate;

use super::*;
use crate::clock::HolidayCalendar;
use crate::testing::{self, at, d, u};

const OFFICE: &str = "binhai.petition_office";
const BUREAU: &str = "binhai.human_resources_bureau";
const TOWN: &str = "binhai.xingang_subdistrict";
const DISTRICT_GOV: &str = "binhai.district_government";
const CITY_GOV: &str = "tianjin.city_government";

fn registration(id: &str, class: ClaimClass, prior: PriorPetition) -> Registration {
    Registration {
        matter_id: MatterId::from(id),
        channel: Channel::Visit,
        claim_class: class,
        title: "Unpaid wages at a port construction site".into(),
        petitioners: vec![PersonRef::from("p-001"), PersonRef::from("p-002")],
        collective_size: 23,
        territory: u(TOWN),
        receipt_number: format!("BH-2026-{id}"),
        query_code_digest: "5f1c0e…".into(),
        accused_unit: None,
        prior,
    }
}

type Scenario = testing::Scenario<PetitionMatter>;

fn due(s: &Scenario, kind: DeadlineKind) -> NaiveDate {
    s.state.deadlines[&kind].due(&s.rules.calendar)
}

/// A claim registered on 2026-03-02, assigned to the bureau, received and accepted on the petition route.
fn accepted_claim() -> Scenario {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
    )
    .ok(
        "2026-03-03",
        OFFICE,
        MatterAction::Assign {
            to: u(BUREAU),
            territorial_unit: Some(u(TOWN)),
        },
    )
    .ok("2026-03-04", BUREAU, MatterAction::Receive)
    .ok("2026-03-05", BUREAU, MatterAction::SendReceiptNotice)
    .ok(
        "2026-03-06",
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Claim,
            route: Some(ClaimRoute::PetitionRoute),
            channel: None,
            accused_unit: None,
        },
    );
    s
}

/// An accepted claim whose handling opinion was delivered on `delivered`.
fn replied(delivered: &str) -> Scenario {
    let mut s = accepted_claim();
    s.ok(
        "2026-04-01",
        BUREAU,
        MatterAction::IssueHandlingOpinion {
            outcome: HandlingOutcome::NotSupported,
        },
    )
    .ok(
        delivered,
        BUREAU,
        MatterAction::DeliverReply {
            delivered_on: d(delivered),
        },
    );
    s
}

fn refused_rule(
    result: Result<Vec<MatterEvent>, DomainError>,
) -> (&'static str, Option<NaiveDate>, String) {
    match result {
        Err(DomainError::Refused {
            rule,
            deadline,
            reason,
            ..
        }) => (rule, deadline, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

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
fn given_a_registered_matter_when_forwarded_then_it_stays_open_with_the_responsible_unit_named() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
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
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
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
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
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
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
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
    assert_eq!(rule, "art. 23 ¶3");
    assert_eq!(deadline, Some(d("2026-03-11")));
    assert!(reason.contains("2026-03-11"), "{reason}");
}

#[test]
fn given_an_objection_when_not_upheld_then_the_unit_must_proceed() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
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
    assert_eq!(rule, "art. 34");
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
    assert_eq!((rule, deadline), ("art. 34", Some(d("2026-05-06"))));
}

#[test]
fn given_a_claim_for_litigation_when_accepted_then_it_is_channelled_naming_the_channel() {
    let mut s = accepted_claim();
    let mut s2 = Scenario::new();
    s2.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration("m2", ClaimClass::Claim, PriorPetition::None)),
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
            PriorPetition::None,
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
            PriorPetition::None,
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
    assert_eq!(rule, "art. 35");
}

#[test]
fn given_a_received_matter_when_not_accepted_then_the_competent_channel_must_be_named() {
    let mut s = Scenario::new();
    s.ok(
        "2026-03-02",
        OFFICE,
        MatterAction::Register(registration("m5", ClaimClass::Claim, PriorPetition::None)),
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

#[test]
fn given_a_delivered_reply_when_review_is_asked_on_day_30_then_accepted_and_on_day_31_refused_citing_art_35()
 {
    // Delivered Mon 2026-03-16: day 30 is Wed 2026-04-15.
    let mut on_time = replied("2026-03-16");
    assert_eq!(due(&on_time, DeadlineKind::ReviewRequest), d("2026-04-15"));
    on_time.ok(
        "2026-04-15",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    );
    assert_eq!(on_time.state.stage, Stage::UnderReview);
    assert_eq!(due(&on_time, DeadlineKind::ReviewOpinion), d("2026-05-15"));

    let mut late = replied("2026-03-16");
    let (rule, deadline, reason) = refused_rule(late.when(
        "2026-04-16",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    ));
    assert_eq!(rule, "art. 35");
    assert_eq!(deadline, Some(d("2026-04-15")));
    assert!(reason.contains("closed on 2026-04-15"), "{reason}");
}

#[test]
fn given_a_reply_delivered_so_that_day_30_falls_in_the_national_day_holiday_then_the_window_runs_to_the_next_working_day()
 {
    let mut s = accepted_claim();
    s.ok(
        "2026-04-01",
        BUREAU,
        MatterAction::IssueHandlingOpinion {
            outcome: HandlingOutcome::Explained,
        },
    )
    .ok(
        "2026-04-02",
        BUREAU,
        MatterAction::DeliverReply {
            delivered_on: d("2026-04-02"),
        },
    );
    // Not the holiday case yet: day 30 from 04-02 is Sat 05-02 (Labour Day) → Wed 05-06.
    assert_eq!(due(&s, DeadlineKind::ReviewRequest), d("2026-05-06"));
    s.ok(
        "2026-05-06",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    );

    let mut autumn = replied("2026-09-03");
    // Day 30 from Thu 09-03 is Sat 10-03, inside National Day (10-01..07): the window runs to Thu 10-08.
    assert_eq!(due(&autumn, DeadlineKind::ReviewRequest), d("2026-10-08"));
    autumn.ok(
        "2026-10-08",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    );
}

#[test]
fn given_a_review_window_ending_on_a_swapped_working_saturday_then_the_saturday_is_the_last_day() {
    // Delivered Thu 2026-09-10: day 30 is Sat 2026-10-10, a working day by swap.
    let mut s = replied("2026-09-10");
    assert_eq!(due(&s, DeadlineKind::ReviewRequest), d("2026-10-10"));
    let (_, deadline, _) = refused_rule(s.when(
        "2026-10-12",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    ));
    assert_eq!(deadline, Some(d("2026-10-10")));
}

#[test]
fn given_a_lapsed_review_window_then_the_matter_is_final_and_finality_can_be_recorded_only_after_it()
 {
    let mut s = replied("2026-03-16");
    assert_eq!(s.state.stage_on(&s.rules, d("2026-04-15")), Stage::Replied);
    assert_eq!(s.state.stage_on(&s.rules, d("2026-04-16")), Stage::Final);
    let (_, deadline, _) = refused_rule(s.when("2026-04-10", BUREAU, MatterAction::RecordFinality));
    assert_eq!(deadline, Some(d("2026-04-15")));
    s.ok("2026-04-16", BUREAU, MatterAction::RecordFinality);
    assert_eq!(s.state.stage, Stage::Final);
    assert!(s.state.stage.bars_same_facts());
}

#[test]
fn given_a_claim_when_taken_through_review_re_review_and_a_hearing_then_it_is_concluded() {
    let mut s = replied("2026-03-16");
    s.ok(
        "2026-04-01",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    )
    .ok(
        "2026-04-20",
        DISTRICT_GOV,
        MatterAction::IssueReviewOpinion {
            outcome: ReviewOutcome::Upheld,
        },
    )
    .ok(
        "2026-04-21",
        DISTRICT_GOV,
        MatterAction::DeliverReply {
            delivered_on: d("2026-04-21"),
        },
    );
    assert_eq!(s.state.stage, Stage::ReviewReplied);
    s.ok(
        "2026-05-11",
        CITY_GOV,
        MatterAction::RequestReReview {
            re_reviewing_unit: u(CITY_GOV),
        },
    );
    assert_eq!(due(&s, DeadlineKind::ReReviewOpinion), d("2026-06-10"));

    // A 7-day hearing stops the re-review clock (art. 36 ¶2).
    s.ok("2026-05-20", CITY_GOV, MatterAction::OpenHearing);
    let blocked = s.when(
        "2026-05-21",
        CITY_GOV,
        MatterAction::IssueReReviewOpinion {
            outcome: ReviewOutcome::Upheld,
        },
    );
    assert!(blocked.is_err(), "no opinion while the hearing is open");
    s.ok("2026-05-27", CITY_GOV, MatterAction::CloseHearing);
    assert_eq!(due(&s, DeadlineKind::ReReviewOpinion), d("2026-06-17"));

    s.ok(
        "2026-06-15",
        CITY_GOV,
        MatterAction::IssueReReviewOpinion {
            outcome: ReviewOutcome::Upheld,
        },
    );
    let events = s
        .when(
            "2026-06-16",
            CITY_GOV,
            MatterAction::DeliverReply {
                delivered_on: d("2026-06-16"),
            },
        )
        .unwrap();
    assert!(matches!(events.last(), Some(MatterEvent::Concluded { .. })));
    assert_eq!(s.state.stage, Stage::Concluded);
    assert!(s.state.stage.is_closed() && s.state.stage.bars_same_facts());
    assert_eq!(s.state.hearings, 1);
    assert_eq!(PetitionMatter::replay(&s.history), s.state);
}

#[test]
fn given_a_review_when_the_responsible_unit_is_named_as_reviewer_then_it_is_refused() {
    let mut s = replied("2026-03-16");
    let r = s.when(
        "2026-04-01",
        BUREAU,
        MatterAction::RequestReview {
            reviewing_unit: u(BUREAU),
        },
    );
    assert!(matches!(
        r,
        Err(DomainError::Invalid {
            field: "reviewing_unit",
            ..
        })
    ));
}

#[test]
fn given_a_re_review_window_when_the_request_is_late_then_it_is_refused_citing_art_36() {
    let mut s = replied("2026-03-16");
    s.ok(
        "2026-04-01",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    )
    .ok(
        "2026-04-20",
        DISTRICT_GOV,
        MatterAction::IssueReviewOpinion {
            outcome: ReviewOutcome::Upheld,
        },
    )
    .ok(
        "2026-04-21",
        DISTRICT_GOV,
        MatterAction::DeliverReply {
            delivered_on: d("2026-04-21"),
        },
    );
    // Day 30 from Tue 04-21 is Thu 05-21.
    let (rule, deadline, _) = refused_rule(s.when(
        "2026-05-22",
        CITY_GOV,
        MatterAction::RequestReReview {
            re_reviewing_unit: u(CITY_GOV),
        },
    ));
    assert_eq!((rule, deadline), ("art. 36", Some(d("2026-05-21"))));
    assert_eq!(s.state.stage_on(&s.rules, d("2026-05-22")), Stage::Final);
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

#[test]
fn given_an_agreement_when_an_agency_breaches_an_obligation_then_a_supervision_order_is_due() {
    let mut s = accepted_claim();
    let obligations = vec![
        Obligation {
            obligation_id: "pay".into(),
            obligor: Obligor::Unit(u(TOWN)),
            description: "advance the unpaid wages from the guarantee fund".into(),
            due_on: d("2026-04-30"),
        },
        Obligation {
            obligation_id: "withdraw".into(),
            obligor: Obligor::Petitioner(PersonRef::from("p-001")),
            description: "withdraw the complaint once paid".into(),
            due_on: d("2026-05-10"),
        },
    ];
    s.ok(
        "2026-03-20",
        BUREAU,
        MatterAction::RecordAgreement {
            agreement_id: "a1".into(),
            kind: AgreementKind::Mediation,
            obligations,
        },
    );
    let events = s
        .when(
            "2026-05-02",
            BUREAU,
            MatterAction::RecordObligationBreached {
                agreement_id: "a1".into(),
                obligation_id: "pay".into(),
            },
        )
        .unwrap();
    assert!(
        matches!(&events[0], MatterEvent::ObligationBreached { supervision_due_for: Some(unit), .. } if unit == &u(TOWN))
    );
    let again = s.when(
        "2026-05-03",
        BUREAU,
        MatterAction::RecordObligationMet {
            agreement_id: "a1".into(),
            obligation_id: "pay".into(),
        },
    );
    assert!(again.is_err(), "a settled obligation is not settled again");
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

#[test]
fn events_serialise_with_a_stable_tag_and_type() {
    let s = replied("2026-03-16");
    for e in &s.history {
        let json = serde_json::to_value(e).unwrap();
        assert_eq!(json["event"], e.name());
        assert_eq!(serde_json::from_value::<MatterEvent>(json).unwrap(), *e);
    }
    assert_eq!(
        s.history[0].event_type(crate::Agency::Petition),
        "petition.matter.registered"
    );
}

#[test]
fn parties_name_every_unit_involved() {
    let mut s = replied("2026-03-16");
    s.ok(
        "2026-04-01",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    );
    let parties: Vec<String> = s.state.parties().into_iter().map(|u| u.0).collect();
    assert_eq!(
        parties,
        vec![
            DISTRICT_GOV.to_owned(),
            BUREAU.to_owned(),
            OFFICE.to_owned(),
            TOWN.to_owned()
        ]
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const UNITS: [&str; 5] = [OFFICE, BUREAU, TOWN, DISTRICT_GOV, CITY_GOV];

    fn action(kind: u8, n: u32) -> MatterAction {
        let to = u(if n.is_multiple_of(3) { TOWN } else { BUREAU });
        match kind % 20 {
            0 => MatterAction::Forward {
                to,
                territorial_unit: None,
            },
            1 => MatterAction::Assign {
                to,
                territorial_unit: Some(u(TOWN)),
            },
            2 => MatterAction::Receive,
            3 => MatterAction::SendReceiptNotice,
            4 => MatterAction::ObjectToRouting {
                reason: "not ours".into(),
            },
            5 => MatterAction::DecideRoutingObjection {
                upheld: n.is_multiple_of(2),
            },
            6 | 7 => MatterAction::Accept {
                class: ClaimClass::Claim,
                route: Some(ClaimRoute::PetitionRoute),
                channel: None,
                accused_unit: None,
            },
            8 => MatterAction::ExtendHandling {
                days: 1 + n % 40,
                approver: u(DISTRICT_GOV),
                reason: "audit".into(),
            },
            9 => MatterAction::IssueHandlingOpinion {
                outcome: HandlingOutcome::NotSupported,
            },
            10 => MatterAction::DeliverReply {
                delivered_on: d("2026-01-01"),
            },
            11 => MatterAction::RequestReview {
                reviewing_unit: u(DISTRICT_GOV),
            },
            12 => MatterAction::IssueReviewOpinion {
                outcome: ReviewOutcome::Upheld,
            },
            13 => MatterAction::RequestReReview {
                re_reviewing_unit: u(CITY_GOV),
            },
            14 => MatterAction::OpenHearing,
            15 => MatterAction::CloseHearing,
            16 => MatterAction::IssueReReviewOpinion {
                outcome: ReviewOutcome::Upheld,
            },
            17 => MatterAction::RecordFinality,
            18 if n.is_multiple_of(4) => MatterAction::Divert {
                diversion: Diversion::LitigationRelated,
                to,
                channel: "court".into(),
            },
            18 => MatterAction::Accept {
                class: ClaimClass::Claim,
                route: Some(ClaimRoute::AdministrativeProcedure),
                channel: Some("administrative reconsideration".into()),
                accused_unit: None,
            },
            _ => MatterAction::NotAccept {
                reason: "no".into(),
                competent_channel: "arbitration".into(),
            },
        }
    }

    /// The unit that would naturally take `action` in the matter's current stage.
    fn natural_actor(m: &PetitionMatter, action: &MatterAction) -> UnitId {
        let or = |x: &Option<UnitId>, d: &str| x.clone().unwrap_or_else(|| u(d));
        match action {
            MatterAction::Forward { .. }
            | MatterAction::Assign { .. }
            | MatterAction::Divert { .. }
            | MatterAction::DecideRoutingObjection { .. }
            | MatterAction::RecordFinality => u(OFFICE),
            MatterAction::RequestReview { .. } | MatterAction::IssueReviewOpinion { .. } => {
                u(DISTRICT_GOV)
            }
            MatterAction::RequestReReview { .. } | MatterAction::IssueReReviewOpinion { .. } => {
                u(CITY_GOV)
            }
            MatterAction::DeliverReply { .. }
            | MatterAction::OpenHearing
            | MatterAction::CloseHearing => match m.stage {
                Stage::ReviewOpinionIssued | Stage::UnderReview => {
                    or(&m.reviewing_unit, DISTRICT_GOV)
                }
                Stage::ReReviewOpinionIssued | Stage::UnderReReview => {
                    or(&m.re_reviewing_unit, CITY_GOV)
                }
                _ => or(&m.responsible_unit, BUREAU),
            },
            _ => or(&m.responsible_unit, BUREAU),
        }
    }

    /// Runs commands drawn from `steps` after a registration: mostly by the unit that would take them and
    /// a few days apart, sometimes by any unit or after a long pause, so walks reach every stage and also
    /// stray from the procedure.
    fn run(steps: &[(u8, usize, u32, u8)]) -> Scenario {
        let mut s = Scenario::new();
        s.ok(
            "2026-01-05",
            OFFICE,
            MatterAction::Register(registration("m1", ClaimClass::Claim, PriorPetition::None)),
        );
        let mut day = d("2026-01-05");
        for &(kind, unit, n, gap) in steps {
            let gap = if gap < 50 { gap % 8 } else { gap };
            day = day + chrono::Days::new(u64::from(gap));
            let mut a = action(kind, n);
            if let MatterAction::DeliverReply { delivered_on } = &mut a {
                *delivered_on = day;
            }
            let actor = if unit < 4 {
                natural_actor(&s.state, &a)
            } else {
                u(UNITS[n as usize % UNITS.len()])
            };
            let _ = s.when(&day.to_string(), actor.as_str(), a);
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn replaying_the_accepted_events_rebuilds_the_state(steps in prop::collection::vec((any::<u8>(), 0usize..5, 0u32..100, 0u8..60), 0..80)) {
            let s = run(&steps);
            prop_assert_eq!(PetitionMatter::replay(&s.history), s.state.clone());
            let through_json: Vec<MatterEvent> = s.history.iter()
                .map(|e| serde_json::from_value(serde_json::to_value(e).unwrap()).unwrap())
                .collect();
            prop_assert_eq!(PetitionMatter::replay(&through_json), s.state);
        }

        #[test]
        fn a_concluded_or_final_matter_never_accepts_the_same_facts_again(steps in prop::collection::vec((any::<u8>(), 0usize..5, 0u32..100, 0u8..60), 0..80)) {
            let s = run(&steps);
            let today = d("2027-06-01");
            let stage = s.state.stage_on(&s.rules, today);
            if stage.bars_same_facts() {
                // No unit can accept it again …
                for unit in UNITS {
                    let accept = MatterCommand {
                        at: at("2027-06-01"),
                        unit: u(unit),
                        action: MatterAction::Accept { class: ClaimClass::Claim, route: Some(ClaimRoute::PetitionRoute), channel: None, accused_unit: None },
                    };
                    prop_assert!(s.state.decide(&accept, &s.rules).is_err());
                }
                // … and a new petition on the same facts is not accepted again.
                let summary = s.state.summary(&s.rules, today).unwrap();
                let mut intake = Scenario::new();
                let events = intake.when(
                    "2027-06-01",
                    OFFICE,
                    MatterAction::Register(registration("m2", ClaimClass::Claim, PriorPetition::SameMatter { original: summary, new_facts: false })),
                ).unwrap();
                let refused_again = matches!(events.last(), Some(MatterEvent::NotAcceptedAgain { .. }));
                prop_assert!(refused_again);
            }
        }
    }

    #[test]
    fn random_walks_often_reach_a_stage_that_bars_the_same_facts() {
        // Guards the properties against vacuity: walks drawn like theirs do reach Final or Concluded.
        let mut seed: u64 = 0x5eed;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        let mut barred = 0;
        for _ in 0..400 {
            let steps: Vec<(u8, usize, u32, u8)> = (0..80)
                .map(|_| {
                    (
                        next() as u8,
                        next() as usize % 5,
                        next() % 100,
                        (next() % 60) as u8,
                    )
                })
                .collect();
            let s = run(&steps);
            if s.state
                .stage_on(&s.rules, d("2027-06-01"))
                .bars_same_facts()
            {
                barred += 1;
            }
        }
        assert!(
            barred >= 20,
            "only {barred} of 400 walks reached Final or Concluded"
        );
    }

    #[test]
    fn random_runs_do_reach_the_final_stages() {
        // Guards the properties above against vacuity: a fixed walk reaches Concluded.
        let s = {
            let mut s = replied("2026-03-16");
            s.ok(
                "2026-04-01",
                DISTRICT_GOV,
                MatterAction::RequestReview {
                    reviewing_unit: u(DISTRICT_GOV),
                },
            )
            .ok(
                "2026-04-20",
                DISTRICT_GOV,
                MatterAction::IssueReviewOpinion {
                    outcome: ReviewOutcome::Upheld,
                },
            )
            .ok(
                "2026-04-21",
                DISTRICT_GOV,
                MatterAction::DeliverReply {
                    delivered_on: d("2026-04-21"),
                },
            )
            .ok(
                "2026-05-11",
                CITY_GOV,
                MatterAction::RequestReReview {
                    re_reviewing_unit: u(CITY_GOV),
                },
            )
            .ok(
                "2026-06-01",
                CITY_GOV,
                MatterAction::IssueReReviewOpinion {
                    outcome: ReviewOutcome::Upheld,
                },
            )
            .ok(
                "2026-06-02",
                CITY_GOV,
                MatterAction::DeliverReply {
                    delivered_on: d("2026-06-02"),
                },
            );
            s
        };
        assert_eq!(s.state.stage, Stage::Concluded);
        let _ = HolidayCalendar::china();
    }
}
