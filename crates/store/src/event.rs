//! What an event is to the store: the new event a command produces and the recorded event a reader gets.

use chrono::{DateTime, Utc};
use oneledger_domain::Agency;
use serde_json::Value;
use uuid::Uuid;

/// Who did what, where and why: the facts recorded with every event besides its data.
#[derive(Debug, Clone, PartialEq)]
pub struct EventMetadata {
    /// When the fact happened, as the command stated it (the domain never reads a clock).
    pub occurred_at: DateTime<Utc>,
    /// District the event belongs to; a token of lowercase letters, digits and `_` (it is a subject token).
    pub district: String,
    /// Agency whose store records the event.
    pub agency: Agency,
    /// Unit whose staff issued the command (from the caller's token, never from a request body).
    pub acting_unit: String,
    /// Role under which the command was issued.
    pub acting_role: String,
    /// Id shared by every event of one business conversation.
    pub correlation_id: Uuid,
    /// Id of the event or command that caused this one, if any.
    pub causation_id: Option<Uuid>,
    /// Where the record came from when not a live command, e.g. `import <file sha-256> row 12` for a
    /// row of a district's existing ledger; `None` for every live command. An imported event's
    /// `occurred_at` is the row's date, its `recorded_at` the day of the import.
    pub origin: Option<String>,
}

/// An event a command produced, not yet in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Globally unique id (UUIDv7 so ids sort by creation time); the CloudEvents id and `Nats-Msg-Id`.
    pub event_id: Uuid,
    /// Type without version, `<agency>.<aggregate>.<event>`, e.g. `petition.matter.registered`.
    pub event_type: String,
    /// Schema version of `data`, so readers can upcast old events.
    pub schema_version: u32,
    /// The event's data; personal fields are already encrypted by the service.
    pub data: Value,
    /// Facts recorded with the event.
    pub metadata: EventMetadata,
}

/// An event as the store recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// Position in the store's log: dense from 1, in commit order.
    pub position: u64,
    /// Aggregate stream the event belongs to.
    pub stream_id: String,
    /// Version of the stream after this event; the first event of a stream has version 1.
    pub stream_version: u64,
    /// Id of the event.
    pub event_id: Uuid,
    /// Type without version.
    pub event_type: String,
    /// Schema version of `data`.
    pub schema_version: u32,
    /// The event's data.
    pub data: Value,
    /// Facts recorded with the event.
    pub metadata: EventMetadata,
    /// Idempotency key of the append that recorded the event.
    pub request_id: Uuid,
    /// When the store committed the event.
    pub recorded_at: DateTime<Utc>,
}

impl RecordedEvent {
    /// The aggregate and event parts of the type: `petition.matter.registered` → `("matter", "registered")`.
    /// Types are validated on append, so a recorded type always has them.
    pub fn aggregate_and_name(&self) -> (&str, &str) {
        let mut parts = self.event_type.splitn(3, '.');
        let _agency = parts.next();
        let aggregate = parts.next().unwrap_or_default();
        let name = parts.next().unwrap_or_default();
        (aggregate, name)
    }
}
