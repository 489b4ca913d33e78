//! Review and re-review windows on the holiday calendar, hearings, and the reviewing units (arts. 35–36).

use super::*;

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
    assert_eq!(rule, Rule::Art35);
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
fn given_a_claim_when_taken_through_review_re_review_and_a_hearing_then_it_is_concluded() {
    let mut s = review_replied();
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
fn given_a_department_s_reply_when_anyone_but_the_unit_one_level_up_is_named_reviewer_then_art_35_names_the_reviewer()
 {
    // The bureau's reviewer in the directory is the district government.
    for (named, refusal) in [
        (BUREAU, "Refused"),                         // the responsible unit itself
        ("binhai.housing_bureau", "Refused"),        // a peer department
        (TOWN, "Refused"),                           // the territorial sub-district
        (CITY_GOV, "Refused"),                       // two levels up
        ("binhai.human_resouces_bureau", "Invalid"), // a typo: no such unit
    ] {
        let mut s = replied("2026-03-16");
        let r = s.when(
            "2026-04-01",
            OFFICE,
            MatterAction::RequestReview {
                reviewing_unit: u(named),
            },
        );
        match (refusal, r) {
            ("Refused", Err(DomainError::Refused { rule, reason, .. })) => {
                assert_eq!(rule, Rule::Art35, "{named}");
                assert!(reason.contains("`binhai.district_government`"), "{reason}");
                assert!(reason.contains("天津市滨海新区人民政府"), "{reason}");
            }
            ("Invalid", Err(DomainError::Invalid { field, reason })) => {
                assert_eq!(field, "reviewing_unit");
                assert!(reason.contains(named), "{reason}");
            }
            (_, other) => panic!("{named}: {other:?}"),
        }
    }
    // and the unit one level up is accepted
    let mut s = replied("2026-03-16");
    s.ok(
        "2026-04-01",
        OFFICE,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    );
    assert_eq!(s.state.reviewing_unit, Some(u(DISTRICT_GOV)));
}

#[test]
fn given_a_review_reply_when_a_unit_below_the_reviewer_is_named_for_re_review_then_art_36_names_the_city()
 {
    let mut s = review_replied();
    for below in [BUREAU, DISTRICT_GOV, "binhai.petition_office"] {
        let (rule, _, reason) = refused_rule(s.when(
            "2026-05-11",
            OFFICE,
            MatterAction::RequestReReview {
                re_reviewing_unit: u(below),
            },
        ));
        assert_eq!(rule, Rule::Art36);
        assert!(reason.contains("`tianjin.city_government`"), "{reason}");
    }
}

#[test]
fn given_a_re_review_window_when_the_request_is_late_then_it_is_refused_citing_art_36() {
    let mut s = review_replied();
    // Day 30 from Tue 04-21 is Thu 05-21.
    let (rule, deadline, _) = refused_rule(s.when(
        "2026-05-22",
        CITY_GOV,
        MatterAction::RequestReReview {
            re_reviewing_unit: u(CITY_GOV),
        },
    ));
    assert_eq!((rule, deadline), (Rule::Art36, Some(d("2026-05-21"))));
    assert_eq!(s.state.stage_on(&s.rules, d("2026-05-22")), Stage::Final);
}

#[test]
fn given_an_opinion_issued_when_its_delivery_is_dated_before_it_then_it_is_refused_citing_the_rule()
{
    // given a handling opinion issued 2026-03-20
    let mut s = accepted_claim();
    s.ok(
        "2026-03-20",
        BUREAU,
        MatterAction::IssueHandlingOpinion {
            outcome: HandlingOutcome::NotSupported,
        },
    );
    // when its delivery is dated the day before, then it is refused citing art. 32, naming both days
    let deliver = |on: &str| MatterAction::DeliverReply {
        delivered_on: d(on),
    };
    let (rule, _, reason) = refused_rule(s.when("2026-03-25", BUREAU, deliver("2026-03-19")));
    assert_eq!(rule, Rule::Art32);
    assert!(
        reason.contains("delivered_on 2026-03-19") && reason.contains("2026-03-20"),
        "{reason}"
    );
    // and delivered the day it was issued, it is recorded
    s.ok("2026-03-25", BUREAU, deliver("2026-03-20"));
    // given a review opinion issued 2026-04-20, a delivery dated 2026-04-19 cites art. 35
    let mut s = review_replied_on("2026-04-20");
    let (rule, _, _) = refused_rule(s.when("2026-04-22", DISTRICT_GOV, deliver("2026-04-19")));
    assert_eq!(rule, Rule::Art35);
}
