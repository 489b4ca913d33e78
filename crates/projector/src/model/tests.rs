//! The ledger model over a realistic history from three stores: one entry, convergence, idempotence.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use oneledger_domain::dispute::{Dispute, DisputeAction, DisputeSource};
use oneledger_domain::joint::{CoHandlerRole, JointAction, JointHandling};
use oneledger_domain::link::{LinkAction, LinkRegistry};
use oneledger_domain::petition::{
    Channel, ClaimClass, ClaimRoute, MatterAction, PetitionMatter, PriorPetition, Registration,
};
use oneledger_domain::police::{PoliceAction, PoliceParticipation};
use oneledger_domain::supervision::{
    EscalationLevel, OrderAction, SupervisionOrder, SupervisionReason,
};
use oneledger_domain::{Agency, Aggregate, Command, DomainEvent, PersonRef};
use oneledger_store::{EventMetadata, RecordedEvent};
use proptest::prelude::*;
use uuid::Uuid;

use super::*;

const OFFICE: &str = "binhai.petition_office";
const BUREAU: &str = "binhai.human_resources_bureau";
const TOWN: &str = "binhai.xingang_subdistrict";
const STATION: &str = "binhai.police.xingang";
const COMMITTEE: &str = "binhai.political_legal_committee";
const MEETING: &str = "binhai.joint_meeting_office";

/// Records an agency store's events as the store would: positions dense from 1, versions per stream.
struct Recorder {
    agency: Agency,
    events: Vec<RecordedEvent>,
    versions: BTreeMap<String, u64>,
    clock: DateTime<Utc>,
}

impl Recorder {
    fn new(agency: Agency) -> Self {
        Recorder {
            agency,
            events: vec![],
            versions: BTreeMap::new(),
            clock: Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap(),
        }
    }

    /// Decides `action` on the aggregate in `stream` (replaying what was recorded) and records the events.
    fn act<A: Aggregate>(&mut self, stream: &str, unit: &str, action: A::Action) {
        let history: Vec<A::Event> = self
            .events
            .iter()
            .filter(|e| e.stream_id == stream)
            .map(|e| serde_json::from_value(e.data.clone()).unwrap())
            .collect();
        let state = A::replay(&history);
        self.clock += Duration::hours(7);
        let command = Command {
            at: self.clock,
            unit: UnitId::from(unit),
            action,
        };
        for event in state.decide(&command, &Rules::china()).unwrap() {
            let version = self.versions.entry(stream.to_owned()).or_default();
            *version += 1;
            self.events.push(RecordedEvent {
                position: self.events.len() as u64 + 1,
                stream_id: stream.to_owned(),
                stream_version: *version,
                event_id: Uuid::now_v7(),
                event_type: event.event_type(self.agency),
                schema_version: 1,
                data: serde_json::to_value(&event).unwrap(),
                metadata: EventMetadata {
                    occurred_at: self.clock,
                    district: "binhai".into(),
                    agency: self.agency,
                    acting_unit: unit.into(),
                    acting_role: "handler".into(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: None,
                },
                request_id: Uuid::now_v7(),
                recorded_at: self.clock,
            });
        }
    }
}

fn matter() -> ItemRef {
    ItemRef::PetitionMatter(MatterId::from("PM1"))
}

/// A petition, a police-reported dispute, a joint handling with a station's part, links and an escalated
/// supervision order — the three stores' histories.
fn history() -> [Vec<RecordedEvent>; 3] {
    let mut petition = Recorder::new(Agency::Petition);
    let m = "petition_matter-PM1";
    petition.act::<PetitionMatter>(
        m,
        OFFICE,
        MatterAction::Register(Registration {
            matter_id: MatterId::from("PM1"),
            channel: Channel::Visit,
            claim_class: ClaimClass::Claim,
            title: "Unpaid wages at the port site".into(),
            petitioners: vec![PersonRef::from("p-1")],
            collective_size: 23,
            territory: UnitId::from(TOWN),
            receipt_number: "PM1".into(),
            query_code_digest: "d".into(),
            accused_unit: None,
            prior: PriorPetition::None,
        }),
    );
    petition.act::<PetitionMatter>(
        m,
        OFFICE,
        MatterAction::Assign {
            to: UnitId::from(BUREAU),
            territorial_unit: Some(UnitId::from(TOWN)),
        },
    );
    petition.act::<PetitionMatter>(m, BUREAU, MatterAction::Receive);
    petition.act::<PetitionMatter>(
        m,
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Claim,
            route: Some(ClaimRoute::PetitionRoute),
            channel: None,
            accused_unit: None,
        },
    );

    let mut police = Recorder::new(Agency::PublicSecurity);
    police.act::<Dispute>(
        "dispute-D1",
        STATION,
        DisputeAction::Report {
            dispute_id: oneledger_domain::DisputeId::from("D1"),
            source: DisputeSource::Policing,
            title: "Workers block the site gate".into(),
            category: "labour".into(),
            territory: UnitId::from(TOWN),
            parties: vec![],
            collective_size: 40,
        },
    );
    police.act::<Dispute>(
        "dispute-D1",
        STATION,
        DisputeAction::RecordMediation { agreed: false },
    );
    let part = format!("joint_participation-JH1.{STATION}");
    police.act::<PoliceParticipation>(
        &part,
        STATION,
        PoliceAction::Join {
            joint_handling_id: JointHandlingId::from("JH1"),
        },
    );
    police.act::<PoliceParticipation>(
        &part,
        STATION,
        PoliceAction::RecordAction {
            note: "patrol at the gate".into(),
        },
    );

    let mut committee = Recorder::new(Agency::PoliticalLegal);
    let link = |other: ItemRef| LinkAction::Link {
        anchor: matter(),
        other,
        reason: "same site".into(),
    };
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::Dispute(DisputeId::from("D1"))),
    );
    committee.act::<JointHandling>(
        "joint_handling-JH1",
        COMMITTEE,
        JointAction::Open {
            joint_handling_id: JointHandlingId::from("JH1"),
            subject: matter(),
            lead_unit: UnitId::from(TOWN),
            co_handlers: vec![(UnitId::from(STATION), CoHandlerRole::PoliceStation)],
            political_legal_committee: UnitId::from(COMMITTEE),
        },
    );
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::JointHandling(JointHandlingId::from("JH1"))),
    );
    let order = "supervision_order-SO1";
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Issue {
            order_id: SupervisionOrderId::from("SO1"),
            subject: matter(),
            to_unit: UnitId::from(TOWN),
            due_on: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            reason: SupervisionReason::Risk,
            requirements: "pay and report".into(),
        },
    );
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Escalate {
            level: EscalationLevel::Interview,
            note: "silent".into(),
        },
    );
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Escalate {
            level: EscalationLevel::ListedSupervision,
            note: "still silent".into(),
        },
    );
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1"))),
    );
    [petition.events, police.events, committee.events]
}

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
    let rules = Rules::china();
    let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
    let entries = model.entries(&rules, today);
    assert_eq!(
        entries.len(),
        1,
        "petition, dispute, joint handling and order are one matter"
    );
    let entry = &entries[0];
    assert_eq!(entry.root, Some(matter()));
    assert_eq!(entry.items.len(), 4);
    assert_eq!(entry.title, "Unpaid wages at the port site");
    assert_eq!(entry.responsible_unit, Some(UnitId::from(BUREAU)));
    assert_eq!(entry.territorial_unit, Some(UnitId::from(TOWN)));
    assert_eq!(entry.police_station, Some(UnitId::from(STATION)));
    assert!(entry.co_handling_units.contains(&UnitId::from(STATION)));
    assert_eq!(entry.collective_size, 40);
    assert_eq!(
        entry.supervision_orders,
        vec![(
            ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1")),
            Some(EscalationLevel::ListedSupervision)
        )]
    );
    let handling = entry
        .deadlines
        .iter()
        .find(|d| d.kind == "handling")
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
    let rules = Rules::china();
    let early = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 3, 10).unwrap());
    let mid = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 3, 20).unwrap());
    let late = model.entries(&rules, NaiveDate::from_ymd_opt(2026, 7, 1).unwrap());
    let overdue = |e: &EntryView| {
        e.deadlines
            .iter()
            .filter(|d| d.overdue)
            .map(|d| d.kind.clone())
            .collect::<Vec<_>>()
    };
    assert!(!early[0].overdue, "{:?}", overdue(&early[0]));
    assert_eq!(
        overdue(&mid[0]),
        ["receipt notice"],
        "no notice of receipt within 15 days (art. 23)"
    );
    let late = overdue(&late[0]);
    assert!(
        late.contains(&"handling".to_owned()) && late.contains(&"supervision feedback".to_owned()),
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
        let rules = Rules::china();
        let today = NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        prop_assert_eq!(model.entries(&rules, today), reference.entries(&rules, today));
    }
}
