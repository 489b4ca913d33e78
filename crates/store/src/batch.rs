//! The group-commit planner, shared by both backends and free of I/O: given the log head, the current
//! versions of the streams a batch touches and the request ids it has seen before, decide each request's
//! outcome and the rows to write. Requests are decided in arrival order, each against the state the ones
//! before it left, so a batch commits exactly what serial appends would have.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::append::{AppendRequest, Appended, ExpectedVersion};
use crate::error::AppendError;
use crate::event::NewEvent;
use crate::validate::validate;

/// An append request with the work that needs no lock done ahead, in the caller's task: validation, each
/// event's data serialised once, the fingerprint. This keeps the appender's serial section short.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// The request.
    pub request: AppendRequest,
    /// Each event's data as JSON text, in order.
    pub data: Vec<String>,
    /// Digest of what the request appends (see [`fingerprint`]).
    pub fingerprint: Vec<u8>,
}

impl Prepared {
    /// Validates and prepares `request`.
    pub(crate) fn new(request: AppendRequest) -> Result<Self, AppendError> {
        validate(&request)?;
        // serde_json's map keeps keys sorted, so this text is canonical for equal values.
        let data: Vec<String> = request.events.iter().map(|e| e.data.to_string()).collect();
        let fingerprint = fingerprint(&request, &data);
        Ok(Prepared {
            request,
            data,
            fingerprint,
        })
    }
}

/// What an earlier append under a request id wrote, kept so a retry can be answered with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RequestRecord {
    /// The idempotency key.
    pub request_id: Uuid,
    /// Stream the append went to.
    pub stream_id: String,
    /// Digest of what was appended; a retry must match it.
    pub fingerprint: Vec<u8>,
    /// Where the events went.
    pub appended: Appended,
}

/// The store's state that a batch is decided against, read under the write lock.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Last position in the log.
    pub head: u64,
    /// Current version of each touched stream that exists.
    pub streams: HashMap<String, u64>,
    /// Earlier appends under any of the batch's request ids.
    pub requests: HashMap<Uuid, RequestRecord>,
}

/// One event row to insert.
#[derive(Debug)]
pub(crate) struct EventRow<'a> {
    /// Log position.
    pub position: u64,
    /// Stream version after the event.
    pub stream_version: u64,
    /// The request the event belongs to.
    pub request: &'a AppendRequest,
    /// The event.
    pub event: &'a NewEvent,
    /// The event's data as JSON text.
    pub data: &'a str,
}

/// What a batch writes and answers.
#[derive(Debug)]
pub(crate) struct Plan<'a> {
    /// One outcome per request, in the batch's order.
    pub outcomes: Vec<Result<Appended, AppendError>>,
    /// Event rows, in position order.
    pub rows: Vec<EventRow<'a>>,
    /// Final version of every stream the batch appends to.
    pub stream_versions: Vec<(&'a str, u64)>,
    /// New request records.
    pub requests: Vec<RequestRecord>,
    /// The log head after the batch.
    pub new_head: u64,
}

impl Plan<'_> {
    /// True when the batch writes nothing (every request refused or replayed).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// Digest of what a request appends: its stream and each event's type, schema version and data. Event ids
/// and metadata are left out on purpose: a retried command is decided again, with fresh event ids and
/// timestamps, yet it is the same command.
fn fingerprint(request: &AppendRequest, data: &[String]) -> Vec<u8> {
    if let Some(command) = &request.command {
        return command_fingerprint(&request.stream_id, command);
    }
    let mut hasher = Sha256::new();
    hasher.update(request.stream_id.as_bytes());
    hasher.update([0]);
    for (event, data) in request.events.iter().zip(data) {
        hasher.update(event.event_type.as_bytes());
        hasher.update([0]);
        hasher.update(event.schema_version.to_be_bytes());
        hasher.update(data.as_bytes());
        hasher.update([0]);
    }
    hasher.finalize().to_vec()
}

/// The fingerprint a request bound to `command` on `stream_id` is recorded under (see
/// [`AppendRequest::command`]): a caller compares it with a recorded request's to tell a retry from another
/// command under the same request id.
pub fn command_fingerprint(stream_id: &str, command: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"command\0");
    hasher.update(stream_id.as_bytes());
    hasher.update([0]);
    hasher.update(command);
    hasher.finalize().to_vec()
}

/// Decides a batch against `snapshot`.
pub(crate) fn plan<'a>(requests: &'a [Prepared], snapshot: &Snapshot) -> Plan<'a> {
    let mut head = snapshot.head;
    let mut versions: HashMap<&str, u64> = HashMap::new();
    let mut new_requests: Vec<RequestRecord> = Vec::new();
    let mut outcomes = Vec::with_capacity(requests.len());
    let mut rows = Vec::new();
    let mut touched: Vec<&str> = Vec::new();

    for prepared in requests {
        let request = &prepared.request;
        let print = &prepared.fingerprint;
        let earlier = snapshot.requests.get(&request.request_id).or_else(|| {
            new_requests
                .iter()
                .find(|r| r.request_id == request.request_id)
        });
        if let Some(earlier) = earlier {
            outcomes.push(
                if earlier.fingerprint == *print && earlier.stream_id == request.stream_id {
                    Ok(Appended {
                        replayed: true,
                        ..earlier.appended
                    })
                } else {
                    Err(AppendError::RequestIdReused {
                        request_id: request.request_id,
                    })
                },
            );
            continue;
        }

        let stream = request.stream_id.as_str();
        let current = versions
            .get(stream)
            .copied()
            .or_else(|| snapshot.streams.get(stream).copied());
        let allowed = match request.expected_version {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current.is_none(),
            ExpectedVersion::StreamExists => current.is_some(),
            ExpectedVersion::Exact(v) => current.unwrap_or(0) == v,
        };
        if !allowed {
            outcomes.push(Err(AppendError::WrongExpectedVersion {
                stream_id: request.stream_id.clone(),
                expected: request.expected_version,
                current: current.unwrap_or(0),
            }));
            continue;
        }

        let base_version = current.unwrap_or(0);
        let count = request.events.len() as u64;
        for (i, (event, data)) in request.events.iter().zip(&prepared.data).enumerate() {
            rows.push(EventRow {
                position: head + 1 + i as u64,
                stream_version: base_version + 1 + i as u64,
                request,
                event,
                data,
            });
        }
        let appended = Appended {
            first_version: base_version + 1,
            last_version: base_version + count,
            first_position: head + 1,
            last_position: head + count,
            replayed: false,
        };
        head += count;
        if versions.insert(stream, appended.last_version).is_none() {
            touched.push(stream);
        }
        new_requests.push(RequestRecord {
            request_id: request.request_id,
            stream_id: request.stream_id.clone(),
            fingerprint: print.clone(),
            appended,
        });
        outcomes.push(Ok(appended));
    }

    let stream_versions = touched.into_iter().map(|s| (s, versions[s])).collect();
    Plan {
        outcomes,
        rows,
        stream_versions,
        requests: new_requests,
        new_head: head,
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use oneledger_domain::Agency;
    use serde_json::json;

    use super::*;
    use crate::event::EventMetadata;

    fn request(stream: &str, expected: ExpectedVersion, n: usize, data: i64) -> Prepared {
        Prepared::new(raw_request(stream, expected, n, data)).unwrap()
    }

    fn raw_request(stream: &str, expected: ExpectedVersion, n: usize, data: i64) -> AppendRequest {
        let metadata = EventMetadata {
            occurred_at: Utc::now(),
            district: "binhai".into(),
            agency: Agency::Petition,
            acting_unit: "u".into(),
            acting_role: "intake_clerk".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            origin: None,
        };
        AppendRequest {
            stream_id: stream.into(),
            expected_version: expected,
            events: (0..n)
                .map(|_| NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: "petition.matter.registered".into(),
                    schema_version: 1,
                    data: json!({ "n": data }),
                    metadata: metadata.clone(),
                })
                .collect(),
            request_id: Uuid::now_v7(),
            command: None,
        }
    }

    #[test]
    fn requests_in_one_batch_see_each_other() {
        let a = request("s", ExpectedVersion::NoStream, 2, 1);
        let b = request("s", ExpectedVersion::Exact(2), 1, 2);
        let c = request("s", ExpectedVersion::Exact(2), 1, 3);
        let batch = [a, b, c];
        let plan = plan(
            &batch,
            &Snapshot {
                head: 10,
                ..Default::default()
            },
        );

        assert_eq!(
            plan.outcomes[0].as_ref().ok().map(|a| a.last_position),
            Some(12)
        );
        assert_eq!(
            plan.outcomes[1].as_ref().ok().map(|a| a.last_version),
            Some(3)
        );
        assert!(matches!(
            plan.outcomes[2],
            Err(AppendError::WrongExpectedVersion { current: 3, .. })
        ));
        assert_eq!(plan.new_head, 13);
        assert_eq!(plan.stream_versions, vec![("s", 3)]);
        let positions: Vec<u64> = plan.rows.iter().map(|r| r.position).collect();
        assert_eq!(positions, vec![11, 12, 13]);
    }

    #[test]
    fn a_repeated_request_id_replays_or_is_refused() {
        let first = raw_request("s", ExpectedVersion::Any, 1, 1);
        let mut retry = first.clone();
        retry.events[0].event_id = Uuid::now_v7();
        let mut other = first.clone();
        other.events[0].data = json!({ "n": 2 });
        let batch = [first, retry, other].map(|r| Prepared::new(r).unwrap());
        let plan = plan(&batch, &Snapshot::default());

        let replayed = plan.outcomes[1].as_ref().ok().copied();
        assert_eq!(
            replayed.map(|a| (a.first_position, a.replayed)),
            Some((1, true))
        );
        assert!(matches!(
            plan.outcomes[2],
            Err(AppendError::RequestIdReused { .. })
        ));
        assert_eq!(plan.rows.len(), 1);
        assert_eq!(plan.requests.len(), 1);
    }

    #[test]
    fn stream_exists_and_no_stream_are_checked() {
        let mut snapshot = Snapshot::default();
        snapshot.streams.insert("old".into(), 4);
        let batch = [
            request("old", ExpectedVersion::NoStream, 1, 1),
            request("new", ExpectedVersion::StreamExists, 1, 1),
            request("old", ExpectedVersion::StreamExists, 1, 1),
        ];
        let plan = plan(&batch, &snapshot);
        assert!(matches!(
            plan.outcomes[0],
            Err(AppendError::WrongExpectedVersion { current: 4, .. })
        ));
        assert!(matches!(
            plan.outcomes[1],
            Err(AppendError::WrongExpectedVersion { current: 0, .. })
        ));
        assert_eq!(
            plan.outcomes[2].as_ref().ok().map(|a| a.last_version),
            Some(5)
        );
    }
}
