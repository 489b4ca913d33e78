//! The wire format: a recorded event as a CloudEvents 1.0 event in structured JSON mode, and its subject.
//!
//! Extension attributes carry what CloudEvents has no attribute for. Their names are lowercase letters only
//! (the spec's rule). 64-bit counters travel as decimal strings because a CloudEvents Integer is 32-bit.

use chrono::{DateTime, SecondsFormat, Utc};
use oneledger_store::{EventMetadata, RecordedEvent};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::error::BusError;

/// `content-type` of a structured-mode CloudEvent.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";
/// CloudEvents version we publish.
pub const SPEC_VERSION: &str = "1.0";
/// Prefix of every subject and CloudEvents type.
pub const NAMESPACE: &str = "oneledger";

/// `oneledger.<district>.<agency>.<aggregate>.<event>`, e.g. `oneledger.binhai.petition.matter.registered`.
pub fn subject(event: &RecordedEvent) -> String {
    format!(
        "{NAMESPACE}.{}.{}",
        event.metadata.district, event.event_type
    )
}

/// `oneledger.<agency>.<aggregate>.<event>.v<schema>`.
pub fn cloudevent_type(event: &RecordedEvent) -> String {
    format!("{NAMESPACE}.{}.v{}", event.event_type, event.schema_version)
}

/// `/oneledger/<district>/<agency>`.
pub fn source(event: &RecordedEvent) -> String {
    format!(
        "/{NAMESPACE}/{}/{}",
        event.metadata.district, event.metadata.agency
    )
}

/// A W3C `traceparent` tying the event to its business conversation: the trace id is the correlation id,
/// the parent id the event id's random tail, so every hop of one conversation shares a trace.
pub fn traceparent(event: &RecordedEvent) -> String {
    let trace = event.metadata.correlation_id.simple().to_string();
    let span = &event.event_id.simple().to_string()[16..];
    format!("00-{trace}-{span}-01")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A recorded event in CloudEvents structured JSON form, borrowing from the event so encoding allocates
/// only the output (the relay encodes every event it publishes).
#[derive(Debug, serde::Serialize)]
pub struct CloudEvent<'a> {
    specversion: &'static str,
    id: String,
    source: String,
    #[serde(rename = "type")]
    ty: String,
    subject: &'a str,
    time: String,
    datacontenttype: &'static str,
    data: &'a Value,
    streamversion: String,
    position: String,
    recordedtime: String,
    district: &'a str,
    agency: &'static str,
    actingunit: &'a str,
    actingrole: &'a str,
    requestid: String,
    correlationid: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    causationid: Option<String>,
    /// Where an imported record came from (`import <file sha-256> row <n>`); absent for live commands.
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a str>,
}

impl<'a> CloudEvent<'a> {
    /// The CloudEvent of `event`.
    pub fn new(event: &'a RecordedEvent) -> Self {
        let m = &event.metadata;
        CloudEvent {
            specversion: SPEC_VERSION,
            id: event.event_id.to_string(),
            source: source(event),
            ty: cloudevent_type(event),
            subject: &event.stream_id,
            time: rfc3339(m.occurred_at),
            datacontenttype: "application/json",
            data: &event.data,
            streamversion: event.stream_version.to_string(),
            position: event.position.to_string(),
            recordedtime: rfc3339(event.recorded_at),
            district: &m.district,
            agency: m.agency.token(),
            actingunit: &m.acting_unit,
            actingrole: &m.acting_role,
            requestid: event.request_id.to_string(),
            correlationid: m.correlation_id.to_string(),
            causationid: m.causation_id.map(|c| c.to_string()),
            origin: m.origin.as_deref(),
        }
    }
}

/// The CloudEvent as the bytes of a NATS message payload.
pub fn encode(event: &RecordedEvent) -> Vec<u8> {
    // Cannot fail: every field serialises, and no map has non-string keys.
    serde_json::to_vec(&CloudEvent::new(event)).unwrap_or_default()
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Result<&'a str, BusError> {
    map.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| BusError::Decode(format!("attribute {key} missing or not a string")))
}

fn number(map: &Map<String, Value>, key: &str) -> Result<u64, BusError> {
    text(map, key)?
        .parse()
        .map_err(|_| BusError::Decode(format!("attribute {key} is not a decimal number")))
}

fn uuid(map: &Map<String, Value>, key: &str) -> Result<Uuid, BusError> {
    text(map, key)?
        .parse()
        .map_err(|_| BusError::Decode(format!("attribute {key} is not a UUID")))
}

fn time(map: &Map<String, Value>, key: &str) -> Result<DateTime<Utc>, BusError> {
    DateTime::parse_from_rfc3339(text(map, key)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| BusError::Decode(format!("attribute {key} is not an RFC 3339 time")))
}

/// Reads back an event we published (the projector's side of the wire).
pub fn decode(payload: &[u8]) -> Result<RecordedEvent, BusError> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| BusError::Decode(format!("not JSON: {e}")))?;
    let map = value
        .as_object()
        .ok_or_else(|| BusError::Decode("not a JSON object".into()))?;
    if text(map, "specversion")? != SPEC_VERSION {
        return Err(BusError::Decode("specversion is not 1.0".into()));
    }
    let ce_type = text(map, "type")?;
    let (event_type, schema) = ce_type
        .strip_prefix("oneledger.")
        .and_then(|t| t.rsplit_once(".v"))
        .ok_or_else(|| {
            BusError::Decode(format!("type {ce_type:?} is not oneledger.<type>.v<n>"))
        })?;
    let schema_version = schema
        .parse()
        .map_err(|_| BusError::Decode(format!("type {ce_type:?} has no schema version")))?;
    let causation_id = match map.get("causationid") {
        Some(_) => Some(uuid(map, "causationid")?),
        None => None,
    };
    Ok(RecordedEvent {
        position: number(map, "position")?,
        stream_id: text(map, "subject")?.to_owned(),
        stream_version: number(map, "streamversion")?,
        event_id: uuid(map, "id")?,
        event_type: event_type.to_owned(),
        schema_version,
        data: map.get("data").cloned().unwrap_or(Value::Null),
        metadata: EventMetadata {
            occurred_at: time(map, "time")?,
            district: text(map, "district")?.to_owned(),
            agency: text(map, "agency")?
                .parse()
                .map_err(|e| BusError::Decode(format!("{e}")))?,
            acting_unit: text(map, "actingunit")?.to_owned(),
            acting_role: text(map, "actingrole")?.to_owned(),
            correlation_id: uuid(map, "correlationid")?,
            causation_id,
            origin: map.get("origin").and_then(Value::as_str).map(str::to_owned),
        },
        request_id: uuid(map, "requestid")?,
        recorded_at: time(map, "recordedtime")?,
    })
}

#[cfg(test)]
mod tests {
    use oneledger_domain::Agency;
    use serde_json::json;

    use super::*;

    fn sample() -> RecordedEvent {
        RecordedEvent {
            position: 3_000_000_000,
            stream_id: "petition_matter-1".into(),
            stream_version: 2,
            event_id: Uuid::now_v7(),
            event_type: "petition.matter.registered".into(),
            schema_version: 1,
            data: json!({"title": "wage arrears", "person_ref": "p-1"}),
            metadata: EventMetadata {
                occurred_at: DateTime::parse_from_rfc3339("2026-03-01T08:00:00.123456Z")
                    .unwrap()
                    .with_timezone(&Utc),
                district: "binhai".into(),
                agency: Agency::Petition,
                acting_unit: "binhai.petition_office".into(),
                acting_role: "intake_clerk".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Some(Uuid::now_v7()),
                origin: None,
            },
            request_id: Uuid::now_v7(),
            recorded_at: DateTime::parse_from_rfc3339("2026-03-01T08:00:01Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    #[test]
    fn subject_type_and_source_follow_the_design() {
        let e = sample();
        assert_eq!(subject(&e), "oneledger.binhai.petition.matter.registered");
        assert_eq!(
            cloudevent_type(&e),
            "oneledger.petition.matter.registered.v1"
        );
        assert_eq!(source(&e), "/oneledger/binhai/petition");
    }

    #[test]
    fn decode_inverts_encode() {
        let e = sample();
        assert_eq!(decode(&encode(&e)).unwrap(), e);
        // an imported record's origin is an extension attribute, and reads back
        let mut imported = sample();
        imported.metadata.origin = Some("import 3f2a9c row 12".into());
        assert!(
            String::from_utf8(encode(&imported))
                .unwrap()
                .contains("\"origin\"")
        );
        assert_eq!(decode(&encode(&imported)).unwrap(), imported);
    }

    #[test]
    fn traceparent_is_w3c_shaped() {
        let tp = traceparent(&sample());
        let parts: Vec<&str> = tp.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            vec![2, 32, 16, 2]
        );
    }

    #[test]
    fn decode_refuses_foreign_events() {
        assert!(decode(br#"{"specversion":"0.3"}"#).is_err());
        assert!(decode(b"not json").is_err());
    }
}
