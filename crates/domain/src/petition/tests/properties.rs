//! Properties over random command sequences: replay rebuilds the state, and random walks reach the final stages.

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
            Stage::ReviewOpinionIssued | Stage::UnderReview => or(&m.reviewing_unit, DISTRICT_GOV),
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
        MatterAction::Register(registration(
            "m1",
            ClaimClass::Claim,
            IntakeFindings::default(),
        )),
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
            // … and a new petition of the same petitioners on the same claim, found by intake's search
            // with nobody naming the original, is not accepted again, naming the day it closed.
            let summary = s.state.summary(&s.rules, today).unwrap();
            prop_assert!(summary.closed_on.is_some(), "{:?}", s.state);
            let mut intake = Scenario::new();
            let events = intake.when(
                "2027-06-01",
                OFFICE,
                MatterAction::Register(registration("m2", ClaimClass::Claim, IntakeFindings { earlier: vec![summary], same_matter_as: None, new_facts: false })),
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
        let mut s = review_replied();
        s.ok(
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
    let _ = HolidayCalendar::china().unwrap();
}
