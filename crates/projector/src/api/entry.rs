//! An entry as the ledger API shows it (`oneledger.ledger.v2.Entry`): every unit with its name, every
//! enum typed, every day a `google.type.Date`.

use oneledger_domain::watch::{Proposal, ProposalStatus, proposal_id};
use oneledger_domain::{ItemRef, UnitDirectory, UnitId};
use oneledger_proto::common::v1 as common;
use oneledger_proto::convert::{self, ledger as wire};
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::ledger::v2 as pb;
use oneledger_proto::political_legal::v1 as political_legal;

use crate::model::{DeadlineView, EntryView, OrderView};

/// A unit with its directory name (empty when the directory no longer has it).
pub(crate) fn unit(directory: &UnitDirectory, id: &UnitId) -> pb::Unit {
    pb::Unit {
        unit_id: id.0.clone(),
        name: directory.name_of(id).unwrap_or_default().to_owned(),
    }
}

fn some_unit(directory: &UnitDirectory, id: Option<&UnitId>) -> Option<pb::Unit> {
    id.map(|id| unit(directory, id))
}

/// The entry; its timeline only when asked (GetEntry).
pub(crate) fn entry_pb(e: &EntryView, with_timeline: bool, directory: &UnitDirectory) -> pb::Entry {
    pb::Entry {
        root: e.root.as_ref().map(Into::into),
        items: e
            .stages
            .iter()
            .map(|s| pb::Item {
                item: Some((&s.item).into()),
                agency: common::Agency::from(s.agency) as i32,
                stage: wire::item_stage(s.item.kind(), &s.stage) as i32,
                closed: s.closed,
            })
            .collect(),
        title: e.title.clone(),
        status: if e.closed {
            pb::EntryStatus::Closed
        } else {
            pb::EntryStatus::Open
        } as i32,
        responsible_unit: some_unit(directory, e.responsible_unit.as_ref()),
        territorial_unit: some_unit(directory, e.territorial_unit.as_ref()),
        territory: some_unit(directory, e.territory.as_ref()),
        police_station: some_unit(directory, e.police_station.as_ref()),
        co_handling_units: e
            .co_handling_units
            .iter()
            .map(|u| unit(directory, u))
            .collect(),
        risk_level: e
            .risk_level
            .map_or(dispute::RiskLevel::Unspecified, Into::into) as i32,
        collective_size: e.collective_size,
        deadlines: e
            .deadlines
            .iter()
            .map(|d| deadline_pb(d, directory))
            .collect(),
        overdue: e.overdue,
        next_due_on: next_due_on(e).map(wire::date),
        supervision_orders: e
            .supervision_orders
            .iter()
            .map(|o| order_pb(o, directory))
            .collect(),
        resolution_reports: e.resolution_reports,
        possible_repeats: e
            .possible_repeats
            .iter()
            .map(|(matter, of)| pb::PossibleRepeat {
                matter_id: matter.0.clone(),
                of_matter_id: of.0.clone(),
            })
            .collect(),
        agreements: e
            .agreements
            .iter()
            .map(|(matter, id, a)| convert::agreement(matter.as_str(), id, a))
            .collect(),
        proposals: e
            .proposals
            .iter()
            .map(|(i, p)| proposal_pb(i, p, directory))
            .collect(),
        thresholds: e
            .thresholds
            .iter()
            .map(|(item, kind, due_on, t)| pb::ThresholdPassed {
                item: Some(item.into()),
                kind: pb::DeadlineKind::from(*kind) as i32,
                due_on: Some(wire::date(*due_on)),
                threshold: pb::Threshold::from(*t) as i32,
                article: kind.rule().citation().to_owned(),
            })
            .collect(),
        registered_at: e.registered_at.map(wire::timestamp),
        last_changed_at: e.last_changed_at.map(wire::timestamp),
        timeline: if with_timeline {
            e.timeline
                .iter()
                .map(|t| pb::TimelineLine {
                    occurred_at: Some(wire::timestamp(t.occurred_at)),
                    agency: common::Agency::from(t.agency) as i32,
                    event_type: t.event_type.clone(),
                    acting_unit: Some(unit(directory, &UnitId(t.acting_unit.clone()))),
                    item: Some((&t.item).into()),
                    imported: t.imported,
                })
                .collect()
        } else {
            vec![]
        },
    }
}

/// The earliest open deadline of a unit's duty: what "due next" means on a unit's ledger (a
/// petitioner's window is not the unit's to meet).
pub(crate) fn next_deadline(e: &EntryView) -> Option<&DeadlineView> {
    e.deadlines
        .iter()
        .filter(|d| d.met_on.is_none() && d.duty_of.is_some())
        .min_by_key(|d| d.due_on)
}

/// The day of [`next_deadline`].
pub(crate) fn next_due_on(e: &EntryView) -> Option<chrono::NaiveDate> {
    next_deadline(e).map(|d| d.due_on)
}

fn deadline_pb(d: &DeadlineView, directory: &UnitDirectory) -> pb::Deadline {
    pb::Deadline {
        item: Some((&d.item).into()),
        kind: pb::DeadlineKind::from(d.kind) as i32,
        article: d.article.clone(),
        due_on: Some(wire::date(d.due_on)),
        met_on: d.met_on.map(wire::date),
        overdue: d.overdue,
        paused: d.paused,
        provisional: d.provisional,
        duty_unit: some_unit(directory, d.duty_of.as_ref()),
    }
}

fn order_pb(o: &OrderView, directory: &UnitDirectory) -> pb::SupervisionOrder {
    pb::SupervisionOrder {
        order_id: o.item.id().to_owned(),
        stage: wire::item_stage(o.item.kind(), &o.stage) as i32,
        escalation: o
            .escalation
            .map_or(political_legal::Escalation::Unspecified, Into::into)
            as i32,
        to_unit: some_unit(directory, o.to_unit.as_ref()),
        answer_due_on: o.answer_due_on.map(wire::date),
        answer_overdue: o.answer_overdue,
    }
}

/// A proposal as the ledger shows it.
fn proposal_pb(item: &ItemRef, p: &Proposal, directory: &UnitDirectory) -> pb::SupervisionProposal {
    let (status, order_id, decided_on, dismissal_reason) = match &p.status {
        ProposalStatus::Open => (pb::ProposalStatus::Open, String::new(), None, String::new()),
        ProposalStatus::Issued { order_id, on } => (
            pb::ProposalStatus::Issued,
            order_id.0.clone(),
            Some(*on),
            String::new(),
        ),
        ProposalStatus::Dismissed { reason, on } => (
            pb::ProposalStatus::Dismissed,
            String::new(),
            Some(*on),
            reason.clone(),
        ),
    };
    pb::SupervisionProposal {
        proposal_id: proposal_id(item, p.number),
        item: Some(item.into()),
        source: wire::proposal_source(&p.source) as i32,
        unit: Some(unit(directory, &p.unit)),
        article: p.source.rule().citation().to_owned(),
        reason: p.reason.clone(),
        proposed_on: Some(wire::date(p.proposed_on)),
        status: status as i32,
        order_id,
        decided_on: decided_on.map(wire::date),
        dismissal_reason,
    }
}
