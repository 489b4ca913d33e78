//! Conversions between the wire (proto) and the domain, naming the field when a value is out of range.

use chrono::NaiveDate;
use oneledger_domain::clock::Deadline;
use oneledger_domain::{
    DisputeId, HolidayCalendar, ItemRef, JointHandlingId, MatterId, SupervisionOrderId,
};
use oneledger_proto::common::v1 as pb;

use crate::error::ServiceError;

/// An ISO date field.
pub fn date(field: &str, raw: &str) -> Result<NaiveDate, ServiceError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::invalid(field, format!("{raw:?} is not an ISO date (YYYY-MM-DD)"))
    })
}

/// A required text field of at most `max` characters.
pub fn required(field: &str, raw: &str, max: usize) -> Result<String, ServiceError> {
    let value = raw.trim();
    if value.is_empty() {
        return Err(ServiceError::invalid(field, "required"));
    }
    optional(field, value, max).map(|v| v.unwrap_or_default())
}

/// An optional text field of at most `max` characters (`None` when empty).
pub fn optional(field: &str, raw: &str, max: usize) -> Result<Option<String>, ServiceError> {
    let value = raw.trim();
    let n = value.chars().count();
    if n > max {
        return Err(ServiceError::invalid(
            field,
            format!("at most {max} characters, got {n}"),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A proto enum value, refusing unspecified and unknown values.
pub fn known<E: TryFrom<i32>>(field: &str, raw: i32) -> Result<E, ServiceError> {
    if raw == 0 {
        return Err(ServiceError::invalid(field, "required"));
    }
    E::try_from(raw).map_err(|_| ServiceError::invalid(field, format!("unknown value {raw}")))
}

/// An item reference.
pub fn item(field: &str, raw: Option<&pb::ItemRef>) -> Result<ItemRef, ServiceError> {
    let raw = raw.ok_or_else(|| ServiceError::invalid(field, "required"))?;
    let id = required(&format!("{field}.id"), &raw.id, 128)?;
    Ok(
        match known::<pb::ItemKind>(&format!("{field}.kind"), raw.kind)? {
            pb::ItemKind::PetitionMatter => ItemRef::PetitionMatter(MatterId(id)),
            pb::ItemKind::Dispute => ItemRef::Dispute(DisputeId(id)),
            pb::ItemKind::JointHandling => ItemRef::JointHandling(JointHandlingId(id)),
            pb::ItemKind::SupervisionOrder => ItemRef::SupervisionOrder(SupervisionOrderId(id)),
            pb::ItemKind::Unspecified => {
                return Err(ServiceError::invalid(field, "kind is required"));
            }
        },
    )
}

/// The proto form of an item reference.
pub fn item_to_pb(item: &ItemRef) -> pb::ItemRef {
    let (kind, id) = match item {
        ItemRef::PetitionMatter(id) => (pb::ItemKind::PetitionMatter, id.0.clone()),
        ItemRef::Dispute(id) => (pb::ItemKind::Dispute, id.0.clone()),
        ItemRef::JointHandling(id) => (pb::ItemKind::JointHandling, id.0.clone()),
        ItemRef::SupervisionOrder(id) => (pb::ItemKind::SupervisionOrder, id.0.clone()),
    };
    pb::ItemRef {
        kind: kind as i32,
        id,
    }
}

/// A deadline as it stands on `today`.
pub fn deadline(d: &Deadline, calendar: &HolidayCalendar, today: NaiveDate) -> pb::Deadline {
    pb::Deadline {
        kind: d.kind.as_str().to_owned(),
        article: d.kind.rule().citation().to_owned(),
        due_on: d.due_on(calendar, today).to_string(),
        met_on: d.met_on.map(|m| m.to_string()).unwrap_or_default(),
        overdue: d.is_overdue(calendar, today),
        paused: d.paused_since.is_some(),
    }
}
