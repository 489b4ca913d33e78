//! Given/when/then tests of the petition procedure, one file per stage as in the code, and property tests
//! over random command sequences.

mod acceptance;
mod agreements;
mod conclusion;
mod handling;
mod intake;
mod properties;
mod review;
mod routing;

use chrono::NaiveDate;

use super::*;
use crate::aggregate::{Aggregate, DomainEvent};
use crate::clock::{DeadlineKind, HolidayCalendar};
use crate::error::DomainError;
use crate::ids::{MatterId, PersonRef, UnitId};
use crate::rule::Rule;
use crate::testing::{self, at, d, u};

const OFFICE: &str = "binhai.petition_office";
const BUREAU: &str = "binhai.human_resources_bureau";
const TOWN: &str = "binhai.xingang_subdistrict";
const DISTRICT_GOV: &str = "binhai.district_government";
const CITY_GOV: &str = "tianjin.city_government";

fn registration(id: &str, class: ClaimClass, prior: IntakeFindings) -> Registration {
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
        category: Some("劳动保障".into()),
        respondent: Some(u(BUREAU)),
        personal_data: vec![],
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
        MatterAction::Register(registration(
            "m1",
            ClaimClass::Claim,
            IntakeFindings::default(),
        )),
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
    // The opinion is issued on the day it is delivered, as a real reply is: never after its delivery.
    s.ok(
        delivered,
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

/// A reply delivered on 2026-03-16, reviewed by the district government (upheld), the review opinion
/// delivered on 2026-04-21: the re-review window is open.
fn review_replied() -> Scenario {
    let mut s = review_replied_on("2026-04-20");
    s.ok(
        "2026-04-21",
        DISTRICT_GOV,
        MatterAction::DeliverReply {
            delivered_on: d("2026-04-21"),
        },
    );
    s
}

/// A reply delivered on 2026-03-16 and reviewed by the district government, its review opinion (upheld)
/// issued on `issued` and not yet delivered.
fn review_replied_on(issued: &str) -> Scenario {
    let mut s = replied("2026-03-16");
    s.ok(
        "2026-04-01",
        DISTRICT_GOV,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    )
    .ok(
        issued,
        DISTRICT_GOV,
        MatterAction::IssueReviewOpinion {
            outcome: ReviewOutcome::Upheld,
        },
    );
    s
}

fn refused_rule(
    result: Result<Vec<MatterEvent>, DomainError>,
) -> (Rule, Option<NaiveDate>, String) {
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

#[test]
fn given_a_replied_matter_then_only_the_units_handling_it_need_to_know_its_petitioners() {
    let s = review_replied();
    let needs = |unit: &str| s.state.needs_to_know_petitioners(&u(unit));
    assert!(needs(OFFICE) && needs(BUREAU) && needs(DISTRICT_GOV));
    assert!(
        !needs(TOWN),
        "the territory handles no part that needs the person"
    );
    assert!(!needs(CITY_GOV), "no re-review was asked");
}
