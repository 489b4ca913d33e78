//! The event row as both backends return it, and its conversion into a [`RecordedEvent`].

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::StoreError;
use crate::event::{EventMetadata, RecordedEvent};

/// Columns every event query selects and every insert writes, in this order (a macro, so queries stay
/// literal strings that sqlx accepts as safe).
macro_rules! event_columns {
    () => {
        "position, stream_id, stream_version, event_id, event_type, schema_version, data, occurred_at, \
         recorded_at, district, agency, acting_unit, acting_role, request_id, correlation_id, causation_id, \
         origin"
    };
}
pub(crate) use event_columns;

/// The same columns with PostgreSQL's `json` data read as text, so both backends decode one row type.
macro_rules! pg_event_columns {
    () => {
        "position, stream_id, stream_version, event_id, event_type, schema_version, data::text AS data, \
         occurred_at, recorded_at, district, agency, acting_unit, acting_role, request_id, correlation_id, \
         causation_id, origin"
    };
}
pub(crate) use pg_event_columns;

/// One event row, decoded the same way on PostgreSQL and SQLite.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct EventRow {
    position: i64,
    stream_id: String,
    stream_version: i64,
    event_id: Uuid,
    event_type: String,
    schema_version: i32,
    data: String,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    district: String,
    agency: String,
    acting_unit: String,
    acting_role: String,
    request_id: Uuid,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    origin: Option<String>,
}

fn unsigned(value: i64, column: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {column} {value}")))
}

impl TryFrom<EventRow> for RecordedEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let corrupt = |what: String| {
            StoreError::Corrupt(format!("event at position {}: {what}", row.position))
        };
        Ok(RecordedEvent {
            position: unsigned(row.position, "position")?,
            stream_version: unsigned(row.stream_version, "stream_version")?,
            schema_version: u32::try_from(row.schema_version)
                .map_err(|_| corrupt(format!("schema_version {}", row.schema_version)))?,
            data: serde_json::from_str(&row.data)
                .map_err(|e| corrupt(format!("data is not JSON: {e}")))?,
            metadata: EventMetadata {
                occurred_at: row.occurred_at,
                agency: row.agency.parse().map_err(|e| corrupt(format!("{e}")))?,
                district: row.district,
                acting_unit: row.acting_unit,
                acting_role: row.acting_role,
                correlation_id: row.correlation_id,
                causation_id: row.causation_id,
                origin: row.origin,
            },
            stream_id: row.stream_id,
            event_id: row.event_id,
            event_type: row.event_type,
            request_id: row.request_id,
            recorded_at: row.recorded_at,
        })
    }
}

/// Converts a batch of rows, stopping at the first corrupt one.
pub(crate) fn into_events(rows: Vec<EventRow>) -> Result<Vec<RecordedEvent>, StoreError> {
    rows.into_iter().map(RecordedEvent::try_from).collect()
}

/// A stored request record, as both backends return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct RequestRow {
    pub request_id: Uuid,
    pub stream_id: String,
    pub fingerprint: Vec<u8>,
    pub first_version: i64,
    pub last_version: i64,
    pub first_position: i64,
    pub last_position: i64,
}

impl TryFrom<RequestRow> for crate::batch::RequestRecord {
    type Error = StoreError;

    fn try_from(row: RequestRow) -> Result<Self, StoreError> {
        Ok(crate::batch::RequestRecord {
            request_id: row.request_id,
            stream_id: row.stream_id,
            fingerprint: row.fingerprint,
            appended: crate::append::Appended {
                first_version: unsigned(row.first_version, "first_version")?,
                last_version: unsigned(row.last_version, "last_version")?,
                first_position: unsigned(row.first_position, "first_position")?,
                last_position: unsigned(row.last_position, "last_position")?,
                replayed: false,
            },
        })
    }
}

/// Converts a count or position for binding; values past `i64::MAX` cannot occur in a log.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A stored personal-data read.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ReadRow {
    pub read_at: chrono::DateTime<chrono::Utc>,
    pub reader: String,
    pub unit: String,
    pub person_ref: String,
    pub fields: String,
    pub purpose: String,
}

impl From<ReadRow> for crate::PersonalDataRead {
    fn from(r: ReadRow) -> Self {
        crate::PersonalDataRead {
            read_at: r.read_at,
            reader: r.reader,
            unit: r.unit,
            person_ref: r.person_ref,
            fields: r.fields,
            purpose: r.purpose,
        }
    }
}

/// A person key row as selected: the wrapped key and when it was erased.
pub(crate) type PersonKeyRow = (Option<Vec<u8>>, Option<chrono::DateTime<chrono::Utc>>);

/// A stored person key row: the wrapped key, or when it was erased.
pub(crate) fn person_key(row: Option<PersonKeyRow>) -> crate::PersonKey {
    match row {
        None => crate::PersonKey::Missing,
        Some((_, Some(erased))) => crate::PersonKey::Erased(erased),
        Some((Some(key), None)) => crate::PersonKey::Wrapped(key),
        Some((None, None)) => crate::PersonKey::Missing,
    }
}

/// The event columns of SQLite's `read_all`, folded into one JSON array per page by SQLite itself: one value
/// crosses from SQLite's thread to ours instead of one row per event, which is what a rebuild waits on.
macro_rules! sqlite_event_json {
    () => {
        "json_array(position, stream_id, stream_version, hex(event_id), event_type, schema_version, \
         json(data), occurred_at, recorded_at, district, agency, acting_unit, acting_role, hex(request_id), \
         hex(correlation_id), hex(causation_id), origin)"
    };
}
pub(crate) use sqlite_event_json;

/// One event as [`sqlite_event_json`] lays it out (a tuple struct: serde reads it from the array).
#[derive(serde::Deserialize)]
struct JsonEventRow(
    i64,
    String,
    i64,
    String,
    String,
    i32,
    serde_json::Value,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

/// Decodes a page of [`sqlite_event_json`] rows (a JSON array of them), in position order.
pub(crate) fn events_from_json(text: &str) -> Result<Vec<RecordedEvent>, StoreError> {
    let rows: Vec<JsonEventRow> = serde_json::from_str(text)
        .map_err(|e| StoreError::Corrupt(format!("a page of events: {e}")))?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let position = row.0;
        let corrupt =
            |what: String| StoreError::Corrupt(format!("event at position {position}: {what}"));
        let uuid = |hex: &str| {
            Uuid::try_parse(hex).map_err(|e| corrupt(format!("not a UUID {hex:?}: {e}")))
        };
        let time = |text: &str| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| corrupt(format!("not a time {text:?}: {e}")))
        };
        events.push(RecordedEvent {
            position: unsigned(position, "position")?,
            stream_id: row.1,
            stream_version: unsigned(row.2, "stream_version")?,
            event_id: uuid(&row.3)?,
            event_type: row.4,
            schema_version: u32::try_from(row.5)
                .map_err(|_| corrupt(format!("schema_version {}", row.5)))?,
            data: row.6,
            metadata: EventMetadata {
                occurred_at: time(&row.7)?,
                district: row.9,
                agency: row.10.parse().map_err(|e| corrupt(format!("{e}")))?,
                acting_unit: row.11,
                acting_role: row.12,
                correlation_id: uuid(&row.14)?,
                // hex(NULL) is the empty string.
                causation_id: if row.15.is_empty() {
                    None
                } else {
                    Some(uuid(&row.15)?)
                },
                origin: row.16,
            },
            request_id: uuid(&row.13)?,
            recorded_at: time(&row.8)?,
        });
    }
    // An aggregate's order is SQLite's to choose.
    events.sort_by_key(|e| e.position);
    Ok(events)
}
