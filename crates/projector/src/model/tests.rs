//! The ledger model over a realistic history from three stores: one entry, convergence, idempotence.

use chrono::NaiveDate;
use oneledger_domain::supervision::EscalationLevel;
use oneledger_store::RecordedEvent;
use proptest::prelude::*;

use super::*;
use crate::fixtures::{
    BUREAU, STATION, TOWN, history, matter, matter_in_a_hearing, matter_with_a_breached_agreement,
};

fn apply_all(events: impl IntoIterator<Item = RecordedEvent>) -> LedgerModel {
    let mut model = LedgerModel::default();
    for e in events {
        model.apply(&e).unwrap();
    }
    model
}

#[test]
fn given_three_agencies_histories_then_one_entry_shows_everything_in_one_timeline() {
    let [p, s, c] = history();
    let total = p.len() + s.len() + c.len();
    let model = apply_all(p.into_iter().chain(s).chain(c));
    let rules = Rules::shipped().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let entries = model.entries(&rules, today);
    assert_eq!(
        entries.len(),
        1,
        "petition, dispute, joint handling and order are one matter"
    );
    let entry = &entries[0];
    assert_eq!(entry.root, Some(matter()));
    assert_eq!(entry.stages.len(), 4);
    assert_eq!(entry.title, "Unpaid wages at the port site");
    assert_eq!(entry.responsible_unit, Some(UnitId::from(BUREAU)));
    assert_eq!(entry.territorial_unit, Some(UnitId::from(TOWN)));
    assert_eq!(entry.police_station, Some(UnitId::from(STATION)));
    assert!(entry.co_handling_units.contains(&UnitId::from(STATION)));
    assert_eq!(entry.collective_size, 40);
    let orders: Vec<_> = entry
        .supervision_orders
        .iter()
        .map(|o| (o.item.clone(), o.escalation))
        .collect();
    assert_eq!(
        orders,
        vec![(
            ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1")),
            Some(EscalationLevel::ListedSupervision)
        )]
    );
    let handling = entry
        .deadlines
        .iter()
        .find(|d| d.kind == DeadlineKind::Handling)
        .unwrap();
    assert_eq!(
        handling.due_on,
        NaiveDate::from_ymd_opt(2026, 5, 6).unwrap(),
        "60 days from acceptance, past Labour Day"
    );
    assert_eq!(handling.article, "art. 34");
    assert!(!entry.closed);
    // Link events are no timeline lines; every item event is, in time order.
    assert_eq!(entry.timeline.len(), total - 3);
    assert!(entry.timeline.windows(2).all(|w| w[0] <= w[1]));
    assert_eq!(
        model
            .entry(&ItemRef::Dispute(DisputeId::from("D1")), &rules, today)
            .unwrap()
            .root,
        Some(matter())
    );
}

#[test]
fn given_a_later_day_then_overdue_is_computed_then_not_frozen() {
    let [p, s, c] = history();
    let model = apply_all(p.into_iter().chain(s).chain(c));
    let rules = Rules::shipped().unwrap();
    let early = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    let mid = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
    let late = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
    let overdue = |e: &EntryView| {
        e.deadlines
            .iter()
            .filter(|d| d.overdue)
            .map(|d| d.kind.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    assert!(!early[0].overdue, "{:?}", overdue(&early[0]));
    assert_eq!(
        overdue(&mid[0]),
        ["receipt_notice".to_owned()],
        "no notice of receipt within 15 days (art. 23)"
    );
    let late = overdue(&late[0]);
    assert!(
        late.contains(&"handling".to_owned()) && late.contains(&"supervision_feedback".to_owned()),
        "{late:?}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_of_the_streams_gives_the_same_ledger(choices in prop::collection::vec(0usize..3, 0..64), repeats in prop::collection::vec(0usize..40, 0..8)) {
        let streams = history();
        let reference = apply_all(streams.iter().flatten().cloned());
        let mut queues: Vec<std::collections::VecDeque<RecordedEvent>> = streams.iter().map(|s| s.iter().cloned().collect()).collect();
        let mut order = Vec::new();
        let mut choices = choices.into_iter();
        while queues.iter().any(|q| !q.is_empty()) {
            let pick = choices.next().unwrap_or(0);
            let q = (0..3).map(|i| (pick + i) % 3).find(|i| !queues[*i].is_empty()).unwrap();
            order.push(queues[q].pop_front().unwrap());
        }
        // Redelivered events (at-least-once) change nothing.
        let mut model = LedgerModel::default();
        for (i, e) in order.iter().enumerate() {
            model.apply(e).unwrap();
            if repeats.contains(&i) {
                for again in &order[..=i] {
                    model.apply(again).unwrap();
                }
            }
        }
        prop_assert_eq!(&model, &reference);
        let rules = Rules::shipped().unwrap();
        let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        prop_assert_eq!(model.entries(&rules, today), reference.entries(&rules, today));
    }
}

#[test]
fn given_a_hearing_open_in_re_review_then_the_entry_shows_its_clock_paused() {
    // given a claim in re-review whose re-reviewing unit opened a hearing
    let model = apply_all(matter_in_a_hearing());
    // when the entry is read some days later
    let entries = model.entries(
        &Rules::shipped().unwrap(),
        NaiveDate::from_ymd_opt(2026, 4, 20).unwrap(),
    );
    // then the re-review opinion's clock is paused, and no other clock is
    let paused: Vec<_> = entries[0]
        .deadlines
        .iter()
        .filter(|d| d.paused)
        .map(|d| d.kind.as_str())
        .collect();
    assert_eq!(paused, ["re_review_opinion"], "{:?}", entries[0].deadlines);
}

#[test]
fn given_an_agreement_on_a_matter_then_its_entry_shows_the_agreement_and_where_each_obligation_stands()
 {
    // given a 息诉罢访 agreement whose bureau obligation was breached
    let model = apply_all(matter_with_a_breached_agreement());
    // when the entry is read
    let entries = model.entries(
        &Rules::shipped().unwrap(),
        NaiveDate::from_ymd_opt(2026, 4, 20).unwrap(),
    );
    // then it shows the agreement, the breach, and the petitioner's open obligation
    let [(matter, id, agreement)] = entries[0].agreements.as_slice() else {
        panic!("{:?}", entries[0].agreements);
    };
    assert_eq!((matter.as_str(), id.as_str()), ("PM2", "A1"));
    assert_eq!(
        agreement.kind,
        oneledger_domain::petition::AgreementKind::CeasePetitioning
    );
    assert_eq!(agreement.obligations["pay"].1, Some(false));
    assert_eq!(agreement.obligations["cease"].1, None);
}

#[test]
fn given_a_station_s_part_in_a_joint_handling_never_opened_then_no_entry_until_the_committee_opens_it()
 {
    let [_, police, committee] = history();
    let rules = Rules::shipped().unwrap();
    let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let parts = police
        .into_iter()
        .filter(|e| e.stream_id.starts_with(streams::POLICE_PARTICIPATION));
    let mut model = apply_all(parts);
    let jh = ItemRef::JointHandling(JointHandlingId::from("JH1"));
    assert!(model.entries(&rules, today).is_empty(), "a reference alone");
    assert!(model.entry(&jh, &rules, today).is_none());
    for e in committee
        .iter()
        .filter(|e| e.stream_id == "joint_handling-JH1")
    {
        model.apply(e).unwrap();
    }
    let entry = model.entry(&jh, &rules, today).expect("opened");
    assert_eq!(entry.police_station, Some(UnitId::from(STATION)));
}
