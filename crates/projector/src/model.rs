//! The ledger model: items, links and timelines, built from recorded events by the domain's own `evolve`,
//! so the ledger shows exactly the state the agencies' rules produced.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use oneledger_domain::clock::{Deadline, DeadlineKind};
use oneledger_domain::dispute::{Dispute, DisputeEvent, RiskLevel};
use oneledger_domain::joint::{JointEvent, JointHandling};
use oneledger_domain::link::LinkEvent;
use oneledger_domain::petition::{Agreement, MatterEvent, PetitionMatter};
use oneledger_domain::police::{PoliceEvent, PoliceParticipation};
use oneledger_domain::supervision::{EscalationLevel, OrderEvent, SupervisionOrder};
use oneledger_domain::watch::{DeadlineWatch, Proposal, Threshold, WatchEvent};
use oneledger_domain::{
    Agency, Aggregate, DisputeId, ItemKind, ItemRef, JointHandlingId, MatterId, Rules,
    SupervisionOrderId, UnitId, UnitKind, streams,
};
use oneledger_store::RecordedEvent;
use serde::{Deserialize, Serialize};

/// An event the model cannot apply: its data does not match its type. Such an event is parked for an
/// operator, never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot project {event_type} at position {position}: {reason}")]
pub struct ProjectionError {
    /// The event's type.
    pub event_type: String,
    /// Its position in its store.
    pub position: u64,
    /// What is wrong.
    pub reason: String,
}

/// The state of one item, as its agency's rules left it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemState {
    /// A petition matter (boxed: the largest state by far, and most items are not petitions).
    PetitionMatter(Box<PetitionMatter>),
    /// A dispute (reported by the police or found by screening).
    Dispute(Dispute),
    /// A joint handling, with the parts police stations recorded in their own store.
    JointHandling {
        /// The committee's joint handling.
        handling: JointHandling,
        /// Each station's part, by station.
        police: BTreeMap<UnitId, PoliceParticipation>,
    },
    /// A supervision order.
    SupervisionOrder(SupervisionOrder),
}

/// One item of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Which item.
    pub item: ItemRef,
    /// The agency whose store holds it.
    pub agency: Agency,
    /// Its state.
    pub state: ItemState,
    /// What the deadline watch recorded on it: thresholds passed, supervision proposals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub watch: Option<Box<DeadlineWatch>>,
}

/// One line of an entry's timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Which agency recorded it.
    pub agency: Agency,
    /// Its position in that agency's store.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// The unit that acted.
    pub acting_unit: String,
    /// The item it concerns.
    pub item: ItemRef,
    /// Of an imported record (its event has an origin), not a live command.
    #[serde(default)]
    pub imported: bool,
}

/// The whole ledger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LedgerModel {
    /// Items by reference.
    pub items: BTreeMap<ItemRef, Item>,
    /// The root of every linked non-root item (from the committee's link registry).
    pub root_of: BTreeMap<ItemRef, ItemRef>,
    /// Timeline lines by item, each kept in (time, agency, position) order.
    pub timelines: BTreeMap<ItemRef, BTreeSet<TimelineEntry>>,
    /// Last version applied of every stream: applying an event again changes nothing.
    pub applied: BTreeMap<(Agency, String), u64>,
    /// The first and the latest event time of every item, where the timelines were not read (a list
    /// orders and shows entries by them without reading every line).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spans: BTreeMap<ItemRef, (DateTime<Utc>, DateTime<Utc>)>,
}

fn decode<E: serde::de::DeserializeOwned>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    // Deserialising from a borrowed value spares a deep clone of every event's data.
    E::deserialize(&event.data).map_err(|e| ProjectionError {
        event_type: event.event_type.clone(),
        position: event.position,
        reason: e.to_string(),
    })
}

/// The item an event concerns, if it concerns one (link and person events do not), told by its stream.
pub fn item_of(event: &RecordedEvent) -> Option<ItemRef> {
    let (prefix, id) = streams::split(&event.stream_id)?;
    if prefix == streams::POLICE_PARTICIPATION {
        // `<joint handling id>.<station>`: the station's part belongs to the joint handling.
        let jh = id.split_once('.').map_or(id, |(jh, _)| jh);
        return Some(ItemRef::new(ItemKind::JointHandling, jh));
    }
    if prefix == streams::DEADLINE_WATCH {
        // `<item key>`: the watch belongs to the item it watches.
        return ItemRef::from_key(id);
    }
    Some(ItemRef::new(ItemKind::parse(prefix)?, id))
}

/// The columns an item row is filtered on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSummary {
    /// `petition_matter`, `dispute`, `joint_handling` or `supervision_order`.
    pub kind: &'static str,
    /// Title.
    pub title: String,
    /// Internal stage as recorded.
    pub stage: String,
    /// Closed as recorded (a lapsed window is read at query time).
    pub closed: bool,
    /// Responsible unit.
    pub responsible_unit: Option<String>,
    /// Territorial unit.
    pub territorial_unit: Option<String>,
    /// Territory.
    pub territory: Option<String>,
    /// The other units that take part: reviewers, a reporting station, co-handlers, stations that
    /// joined, an order's issuer. A unit sees every entry it takes part in.
    pub other_units: Vec<String>,
}

impl Item {
    /// False for what only a reference made: a station's part in a joint handling the committee never
    /// opened. Such an item shows in no entry until its own first event arrives.
    /// The watch's events may also come before the item's own (another agency's feed): they make a
    /// placeholder that shows once the item's first event arrives.
    pub fn exists(&self) -> bool {
        match &self.state {
            ItemState::JointHandling { handling, .. } => handling.joint_handling_id.is_some(),
            ItemState::PetitionMatter(m) => m.matter_id.is_some(),
            ItemState::Dispute(d) => d.dispute_id.is_some(),
            ItemState::SupervisionOrder(o) => o.order_id.is_some(),
        }
    }

    /// Every unit that takes part in the item, responsible and territorial first.
    pub fn participants(&self) -> BTreeSet<UnitId> {
        let s = self.summary();
        [s.responsible_unit, s.territorial_unit]
            .into_iter()
            .flatten()
            .chain(s.other_units)
            .map(UnitId)
            .collect()
    }

    /// The item's filter columns.
    pub fn summary(&self) -> ItemSummary {
        let unit = |u: &Option<UnitId>| u.as_ref().map(|u| u.0.clone());
        let others = |units: &[&Option<UnitId>]| -> Vec<String> {
            units
                .iter()
                .copied()
                .flatten()
                .map(|u| u.0.clone())
                .collect()
        };
        match &self.state {
            ItemState::PetitionMatter(m) => ItemSummary {
                kind: ItemKind::PetitionMatter.as_str(),
                title: m.title.clone(),
                stage: m.stage.to_string(),
                closed: m.stage.is_closed(),
                responsible_unit: unit(&m.responsible_unit),
                territorial_unit: unit(&m.territorial_unit),
                territory: unit(&m.territory),
                other_units: others(&[&m.reviewing_unit, &m.re_reviewing_unit]),
            },
            ItemState::Dispute(d) => ItemSummary {
                kind: ItemKind::Dispute.as_str(),
                title: d.title.clone(),
                stage: d.stage.as_str().to_owned(),
                closed: d.stage.is_closed(),
                responsible_unit: unit(&d.responsible_unit),
                territorial_unit: unit(&d.territorial_unit),
                territory: unit(&d.territory),
                other_units: others(&[&d.reporting_unit]),
            },
            ItemState::JointHandling { handling, police } => ItemSummary {
                kind: ItemKind::JointHandling.as_str(),
                title: String::new(),
                stage: if handling.closed {
                    "closed".into()
                } else {
                    "open".into()
                },
                closed: handling.closed,
                responsible_unit: unit(&handling.lead_unit),
                territorial_unit: None,
                territory: None,
                other_units: handling
                    .co_handlers
                    .keys()
                    .chain(police.keys())
                    .map(|u| u.0.clone())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect(),
            },
            ItemState::SupervisionOrder(o) => ItemSummary {
                kind: ItemKind::SupervisionOrder.as_str(),
                title: String::new(),
                stage: o.stage.as_str().to_owned(),
                closed: o.stage == oneledger_domain::supervision::OrderStage::Closed,
                responsible_unit: unit(&o.to_unit),
                territorial_unit: None,
                territory: None,
                other_units: others(&[&o.issuer]),
            },
        }
    }
}

impl LedgerModel {
    /// Applies one recorded event of `event.metadata.agency`'s store. Events of one stream must come in
    /// order; streams may interleave in any way.
    pub fn apply(&mut self, event: &RecordedEvent) -> Result<(), ProjectionError> {
        let agency = event.metadata.agency;
        let key = (agency, event.stream_id.clone());
        if self
            .applied
            .get(&key)
            .is_some_and(|v| *v >= event.stream_version)
        {
            return Ok(());
        }
        // What an event is about is told by its stream: `<item kind>-<id>`, or one of the other streams.
        let (prefix, id) = streams::split(&event.stream_id).unwrap_or_default();
        let item = match (ItemKind::parse(prefix), prefix) {
            (Some(ItemKind::PetitionMatter), _) => {
                let e: MatterEvent = decode(event)?;
                let item = ItemRef::PetitionMatter(MatterId(id.to_owned()));
                self.evolve(&item, agency, |s| match s {
                    Some(ItemState::PetitionMatter(m)) => {
                        ItemState::PetitionMatter(Box::new(m.evolve(&e)))
                    }
                    _ => ItemState::PetitionMatter(Box::new(PetitionMatter::default().evolve(&e))),
                });
                Some(item)
            }
            (Some(ItemKind::Dispute), _) => {
                let e: DisputeEvent = decode(event)?;
                let item = ItemRef::Dispute(DisputeId(id.to_owned()));
                self.evolve(&item, agency, |s| match s {
                    Some(ItemState::Dispute(d)) => ItemState::Dispute(d.evolve(&e)),
                    _ => ItemState::Dispute(Dispute::default().evolve(&e)),
                });
                Some(item)
            }
            (Some(ItemKind::JointHandling), _) => {
                let e: JointEvent = decode(event)?;
                let item = ItemRef::JointHandling(JointHandlingId(id.to_owned()));
                self.evolve(&item, Agency::PoliticalLegal, |s| match s {
                    Some(ItemState::JointHandling { handling, police }) => {
                        ItemState::JointHandling {
                            handling: handling.evolve(&e),
                            police,
                        }
                    }
                    _ => ItemState::JointHandling {
                        handling: JointHandling::default().evolve(&e),
                        police: BTreeMap::new(),
                    },
                });
                Some(item)
            }
            (None, streams::POLICE_PARTICIPATION) => {
                let e: PoliceEvent = decode(event)?;
                // The stream is `<joint handling id>.<station>`; the station's part joins the committee's item.
                let (jh, station) = id
                    .split_once('.')
                    .unwrap_or((id, event.metadata.acting_unit.as_str()));
                let item = ItemRef::JointHandling(JointHandlingId(jh.to_owned()));
                let station = UnitId(station.to_owned());
                self.evolve(&item, Agency::PoliticalLegal, |s| {
                    let (handling, mut police) = match s {
                        Some(ItemState::JointHandling { handling, police }) => (handling, police),
                        _ => (JointHandling::default(), BTreeMap::new()),
                    };
                    let part = police.remove(&station).unwrap_or_default().evolve(&e);
                    police.insert(station, part);
                    ItemState::JointHandling { handling, police }
                });
                Some(item)
            }
            (Some(ItemKind::SupervisionOrder), _) => {
                let e: OrderEvent = decode(event)?;
                let item = ItemRef::SupervisionOrder(SupervisionOrderId(id.to_owned()));
                self.evolve(&item, agency, |s| match s {
                    Some(ItemState::SupervisionOrder(o)) => {
                        ItemState::SupervisionOrder(o.evolve(&e))
                    }
                    _ => ItemState::SupervisionOrder(SupervisionOrder::default().evolve(&e)),
                });
                Some(item)
            }
            (None, streams::DEADLINE_WATCH) => {
                let e: WatchEvent = decode(event)?;
                let item = ItemRef::from_key(id).ok_or_else(|| ProjectionError {
                    event_type: event.event_type.clone(),
                    position: event.position,
                    reason: format!("{id:?} names no item"),
                })?;
                self.watch(&item, agency, &e);
                Some(item)
            }
            (None, streams::LINK) => {
                let LinkEvent::Linked { root, joined, .. } = decode(event)?;
                for item in joined {
                    self.root_of.insert(item, root.clone());
                }
                None
            }
            // Person streams hold sealed personal data: never projected.
            _ => None,
        };
        if let Some(item) = item {
            self.timelines
                .entry(item.clone())
                .or_default()
                .insert(TimelineEntry {
                    occurred_at: event.metadata.occurred_at,
                    agency,
                    position: event.position,
                    event_type: event.event_type.clone(),
                    acting_unit: event.metadata.acting_unit.clone(),
                    item,
                    imported: event.metadata.origin.is_some(),
                });
        }
        self.applied.insert(key, event.stream_version);
        Ok(())
    }

    fn evolve(
        &mut self,
        item: &ItemRef,
        agency: Agency,
        f: impl FnOnce(Option<ItemState>) -> ItemState,
    ) {
        let (previous, watch) = match self.items.remove(item) {
            Some(i) => (Some(i.state), i.watch),
            None => (None, None),
        };
        let state = f(previous);
        self.items.insert(
            item.clone(),
            Item {
                item: item.clone(),
                agency,
                state,
                watch,
            },
        );
    }

    /// Applies a watch event to `item`, making a placeholder of its kind if its own events have not
    /// come yet.
    fn watch(&mut self, item: &ItemRef, agency: Agency, event: &WatchEvent) {
        let entry = self.items.entry(item.clone()).or_insert_with(|| Item {
            item: item.clone(),
            agency,
            state: match item.kind() {
                ItemKind::PetitionMatter => ItemState::PetitionMatter(Box::default()),
                ItemKind::Dispute => ItemState::Dispute(Dispute::default()),
                ItemKind::JointHandling => ItemState::JointHandling {
                    handling: JointHandling::default(),
                    police: BTreeMap::new(),
                },
                ItemKind::SupervisionOrder => {
                    ItemState::SupervisionOrder(SupervisionOrder::default())
                }
            },
            watch: None,
        });
        let watch = entry
            .watch
            .take()
            .map_or_else(DeadlineWatch::default, |w| *w);
        entry.watch = Some(Box::new(watch.evolve(event)));
    }

    /// The root of `item`'s entry.
    pub fn root(&self, item: &ItemRef) -> ItemRef {
        self.root_of
            .get(item)
            .cloned()
            .unwrap_or_else(|| item.clone())
    }

    /// Every entry, keyed by root, as it stands on `today`. An entry exists once any of its items does.
    pub fn entries(&self, rules: &Rules, today: NaiveDate) -> Vec<EntryView> {
        let mut groups: BTreeMap<ItemRef, Vec<&Item>> = BTreeMap::new();
        for item in self.items.values().filter(|i| i.exists()) {
            groups.entry(self.root(&item.item)).or_default().push(item);
        }
        groups
            .into_iter()
            .map(|(root, items)| self.view(root, &items, rules, today))
            .collect()
    }

    /// One entry by any of its items.
    pub fn entry(&self, item: &ItemRef, rules: &Rules, today: NaiveDate) -> Option<EntryView> {
        let root = self.root(item);
        let items: Vec<&Item> = self
            .items
            .values()
            .filter(|i| i.exists() && self.root(&i.item) == root)
            .collect();
        (!items.is_empty()).then(|| self.view(root, &items, rules, today))
    }

    fn view(&self, root: ItemRef, items: &[&Item], rules: &Rules, today: NaiveDate) -> EntryView {
        let calendar = &rules.calendar;
        let is_station = |unit: &UnitId| {
            rules
                .directory
                .get(unit)
                .is_some_and(|u| u.kind == UnitKind::PoliceStation)
        };
        let mut v = EntryView {
            root: Some(root.clone()),
            ..EntryView::default()
        };
        let mut open = false;
        for item in items {
            v.participants.extend(item.participants());
            // Each deadline with the unit whose duty it is.
            let mut deadlines: Vec<(&Deadline, Option<&UnitId>)> = Vec::new();
            let (title, closed) = match &item.state {
                ItemState::PetitionMatter(m) => {
                    v.responsible_unit = v
                        .responsible_unit
                        .take()
                        .or_else(|| m.responsible_unit.clone());
                    v.territorial_unit = v
                        .territorial_unit
                        .take()
                        .or_else(|| m.territorial_unit.clone());
                    v.territory = v.territory.take().or_else(|| m.territory.clone());
                    v.collective_size = v.collective_size.max(m.collective_size);
                    let stage = m.stage_on(rules, today);
                    v.stages
                        .push(StageView::of(item, stage.as_str(), stage.is_closed()));
                    if let Some(id) = &m.matter_id {
                        v.possible_repeats.extend(
                            m.possible_repeat_of
                                .iter()
                                .map(|of| (id.clone(), of.clone())),
                        );
                        v.agreements.extend(
                            m.agreements
                                .iter()
                                .map(|(aid, a)| (id.clone(), aid.clone(), a.clone())),
                        );
                    }
                    deadlines.extend(m.deadlines.values().map(|d| (d, m.duty_of(d.kind))));
                    (m.title.clone(), stage.is_closed())
                }
                ItemState::Dispute(d) => {
                    v.responsible_unit = v
                        .responsible_unit
                        .take()
                        .or_else(|| d.responsible_unit.clone());
                    v.territorial_unit = v
                        .territorial_unit
                        .take()
                        .or_else(|| d.territorial_unit.clone());
                    v.territory = v.territory.take().or_else(|| d.territory.clone());
                    v.collective_size = v.collective_size.max(d.collective_size);
                    v.risk_level = v.risk_level.max(d.risk_level);
                    v.resolution_reports += d.resolution_reports;
                    // A dispute reported by a police station (the directory says which units are
                    // stations) names the entry's station.
                    if let Some(reporter) = d.reporting_unit.as_ref().filter(|u| is_station(u)) {
                        v.police_station = v.police_station.take().or(Some(reporter.clone()));
                    }
                    v.stages
                        .push(StageView::of(item, d.stage.as_str(), d.stage.is_closed()));
                    // Resolution is the responsible unit's duty.
                    deadlines.extend(
                        d.resolution_deadline
                            .iter()
                            .map(|dl| (dl, d.responsible_unit.as_ref())),
                    );
                    (d.title.clone(), d.stage.is_closed())
                }
                ItemState::JointHandling { handling, police } => {
                    let station = handling
                        .co_handlers
                        .keys()
                        .chain(police.keys())
                        .find(|u| is_station(u));
                    v.police_station = v.police_station.take().or(station.cloned());
                    v.co_handling_units
                        .extend(handling.co_handlers.keys().cloned());
                    v.co_handling_units.extend(police.keys().cloned());
                    v.resolution_reports += u32::from(handling.reported);
                    let stage = if handling.closed { "closed" } else { "open" };
                    v.stages.push(StageView::of(item, stage, handling.closed));
                    (
                        String::new(),
                        handling.closed || handling.joint_handling_id.is_none(),
                    )
                }
                ItemState::SupervisionOrder(o) => {
                    let closed = o.stage == oneledger_domain::supervision::OrderStage::Closed;
                    v.supervision_orders.push(OrderView {
                        item: item.item.clone(),
                        stage: o.stage.as_str().to_owned(),
                        escalation: o.escalation,
                        to_unit: o.to_unit.clone(),
                        answer_due_on: o
                            .feedback_deadline
                            .as_ref()
                            .map(|d| d.due_on(calendar, today)),
                        answer_overdue: o.is_overdue(calendar, today),
                    });
                    // Feedback is the supervised unit's duty.
                    deadlines.extend(o.feedback_deadline.iter().map(|d| (d, o.to_unit.as_ref())));
                    v.stages.push(StageView::of(item, o.stage.as_str(), closed));
                    (String::new(), closed)
                }
            };
            if (v.title.is_empty() || item.item == root) && !title.is_empty() {
                v.title = title;
            }
            open |= !closed;
            if let Some(watch) = &item.watch {
                v.proposals.extend(
                    watch
                        .proposals
                        .iter()
                        .map(|p| (item.item.clone(), p.clone())),
                );
                v.thresholds.extend(
                    watch
                        .passed
                        .iter()
                        .map(|(kind, due, t)| (item.item.clone(), *kind, *due, *t)),
                );
            }
            for (d, duty_of) in deadlines {
                let due_on = d.due_on(calendar, today);
                let overdue = d.is_overdue(calendar, today);
                v.deadlines.push(DeadlineView {
                    item: item.item.clone(),
                    kind: d.kind,
                    article: d.kind.rule().citation().to_owned(),
                    due_on,
                    met_on: d.met_on,
                    overdue,
                    paused: d.paused_since.is_some(),
                    provisional: d.is_provisional(calendar, today),
                    duty_of: duty_of.cloned(),
                });
            }
            let span = match self.timelines.get(&item.item) {
                Some(lines) => {
                    v.timeline.extend(lines.iter().cloned());
                    lines
                        .first()
                        .zip(lines.last())
                        .map(|(a, b)| (a.occurred_at, b.occurred_at))
                }
                None => self.spans.get(&item.item).copied(),
            };
            if let Some((first, last)) = span {
                v.registered_at = Some(v.registered_at.map_or(first, |r| r.min(first)));
                v.last_changed_at = Some(v.last_changed_at.map_or(last, |l| l.max(last)));
            }
        }
        v.timeline.sort();
        v.closed = !open;
        // A unit's delay, not a petitioner's window that lapsed unused.
        v.overdue = v.deadlines.iter().any(|d| d.overdue && d.duty_of.is_some());
        v
    }
}

/// A deadline as an entry shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineView {
    /// The item it belongs to.
    pub item: ItemRef,
    /// What it limits.
    pub kind: DeadlineKind,
    /// The rule.
    pub article: String,
    /// Last day, as of the day asked.
    pub due_on: NaiveDate,
    /// Met on.
    pub met_on: Option<NaiveDate>,
    /// Open and past its last day.
    pub overdue: bool,
    /// Stopped by an open hearing (art. 36 ¶2): its due date moves on each day the hearing lasts.
    pub paused: bool,
    /// Counted on a year the holiday calendar does not cover (statutory holidays only).
    pub provisional: bool,
    /// The unit whose duty it is; `None` for a petitioner's window or a unit's option.
    pub duty_of: Option<UnitId>,
}

/// One entry of the ledger: every item linked under one root, as it stands on a day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EntryView {
    /// The root item.
    pub root: Option<ItemRef>,
    /// Title (the root's, else the first item's).
    pub title: String,
    /// Responsible unit (属事).
    pub responsible_unit: Option<UnitId>,
    /// Territorial unit (属地).
    pub territorial_unit: Option<UnitId>,
    /// Territory where it arose.
    pub territory: Option<UnitId>,
    /// Police station involved.
    pub police_station: Option<UnitId>,
    /// Co-handling units.
    pub co_handling_units: BTreeSet<UnitId>,
    /// Every unit taking part in any item: who sees the entry besides district roles and territories.
    pub participants: BTreeSet<UnitId>,
    /// Every item of the entry with its internal stage.
    pub stages: Vec<StageView>,
    /// Closed when every item is.
    pub closed: bool,
    /// Highest assessed risk.
    pub risk_level: Option<RiskLevel>,
    /// Largest collective size.
    pub collective_size: u32,
    /// Every legal deadline.
    pub deadlines: Vec<DeadlineView>,
    /// True when a unit's duty is overdue (a lapsed petitioner's window is not).
    pub overdue: bool,
    /// Supervision orders and their escalation level.
    pub supervision_orders: Vec<OrderView>,
    /// Resolution reports submitted.
    pub resolution_reports: u32,
    /// Every agency's events, in order.
    pub timeline: Vec<TimelineEntry>,
    /// Petitions flagged at intake as possible repeats (the matter, the one it may repeat).
    pub possible_repeats: Vec<(MatterId, MatterId)>,
    /// Agreements recorded on the entry's petition matters: the matter, the agreement's id, it.
    pub agreements: Vec<(MatterId, String, Agreement)>,
    /// Supervision proposals the deadline watch made on the entry's items.
    pub proposals: Vec<(ItemRef, Proposal)>,
    /// Thresholds the entry's deadlines passed: the item, the deadline, its due date then, which.
    pub thresholds: Vec<(ItemRef, DeadlineKind, NaiveDate, Threshold)>,
    /// The first event of any of its items.
    pub registered_at: Option<DateTime<Utc>>,
    /// The latest event of any of its items.
    pub last_changed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests;

/// An item of an entry with the stage it stands at on the day asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageView {
    /// The item.
    pub item: ItemRef,
    /// Whose procedure it follows.
    pub agency: Agency,
    /// Its stage's stable name, e.g. `handling`.
    pub stage: String,
    /// Closed (办结).
    pub closed: bool,
}

impl StageView {
    fn of(item: &Item, stage: &str, closed: bool) -> Self {
        StageView {
            item: item.item.clone(),
            agency: item.agency,
            stage: stage.to_owned(),
            closed,
        }
    }
}

/// A supervision order of an entry as it stands on the day asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// The order.
    pub item: ItemRef,
    /// Its stage's stable name, e.g. `acknowledged`.
    pub stage: String,
    /// Its rung of the ladder, once escalated.
    pub escalation: Option<EscalationLevel>,
    /// The supervised unit.
    pub to_unit: Option<UnitId>,
    /// When its answer is due.
    pub answer_due_on: Option<NaiveDate>,
    /// Its answer is overdue.
    pub answer_overdue: bool,
}
