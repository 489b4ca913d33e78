//! Finality after a lapsed window (art. 36 ¶3).

use super::*;

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
    // and a late review request, finality recorded, is refused naming the day the window closed
    let (rule, deadline, reason) = refused_rule(s.when(
        "2026-04-20",
        OFFICE,
        MatterAction::RequestReview {
            reviewing_unit: u(DISTRICT_GOV),
        },
    ));
    assert_eq!((rule, deadline), (Rule::Art35, Some(d("2026-04-15"))));
    assert!(reason.contains("2026-04-15"), "{reason}");
}
