//! `ReadEvents` for integrators: an agency store's events from a position, the backlog first, then — with
//! `follow` — new events as they commit. Positions are dense, so nothing is skipped or repeated.

use std::sync::Arc;
use std::time::Duration;

use oneledger_proto::common::v1::{EventEnvelope, UnitRef};
use oneledger_proto::events::v1::{self as pb, event_feed_service_server::EventFeedService};
use oneledger_store::{EventLog, RecordedEvent};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use oneledger_domain::Agency;
use oneledger_domain::policy::{self, Step};

use crate::auth::caller;
use crate::error::ServiceError;

/// Events per response unless the caller asks for fewer.
const DEFAULT_BATCH: usize = 500;
/// Most events per response.
const MAX_BATCH: usize = 5000;
/// How often a following reader looks for appends by other processes (this one's wake it at once).
const FOLLOW_POLL: Duration = Duration::from_millis(500);

/// The feed over one store.
#[derive(Debug, Clone)]
pub struct Feed {
    /// Whose store it is: only that agency's integrators, and district roles, read it.
    agency: Agency,
    store: Arc<dyn EventLog>,
}

impl Feed {
    /// A feed of `agency`'s `store`.
    pub fn new(agency: Agency, store: Arc<dyn EventLog>) -> Self {
        Feed { agency, store }
    }
}

/// The wire form of a recorded event.
pub fn envelope(e: &RecordedEvent) -> EventEnvelope {
    let ts = |t: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: t.timestamp_subsec_nanos() as i32,
    };
    EventEnvelope {
        event_id: e.event_id.to_string(),
        stream_id: e.stream_id.clone(),
        stream_version: e.stream_version,
        position: e.position,
        event_type: e.event_type.clone(),
        schema_version: e.schema_version,
        occurred_at: Some(ts(e.metadata.occurred_at)),
        recorded_at: Some(ts(e.recorded_at)),
        district: e.metadata.district.clone(),
        agency: match e.metadata.agency {
            oneledger_domain::Agency::Petition => 1,
            oneledger_domain::Agency::PublicSecurity => 2,
            oneledger_domain::Agency::PoliticalLegal => 3,
        },
        acting_unit: Some(UnitRef {
            unit_id: e.metadata.acting_unit.clone(),
        }),
        acting_role: e.metadata.acting_role.clone(),
        request_id: e.request_id.to_string(),
        correlation_id: e.metadata.correlation_id.to_string(),
        causation_id: e
            .metadata
            .causation_id
            .map(|c| c.to_string())
            .unwrap_or_default(),
        data_json: e.data.to_string(),
        origin: e.metadata.origin.clone().unwrap_or_default(),
    }
}

/// Most event-type prefixes one read filters by: an integrator names the few kinds it follows.
const MAX_PREFIXES: usize = 100;
/// Longest prefix: an event type is a few dozen characters.
const MAX_PREFIX_CHARS: usize = 200;

#[tonic::async_trait]
impl EventFeedService for Feed {
    type ReadEventsStream = ReceiverStream<Result<pb::ReadEventsResponse, Status>>;

    async fn read_events(
        &self,
        request: Request<pb::ReadEventsRequest>,
    ) -> Result<Response<Self::ReadEventsStream>, Status> {
        let caller = caller(&request)?;
        caller.require_any(policy::roles(Step::ReadEvents), "reading the event feed")?;
        // An agency's log is its own: another agency's viewer reads the shared ledger, not this.
        if caller.agency != self.agency && !caller.is_district_wide() {
            return Err(ServiceError::PermissionDenied(format!(
                "the {} event feed is read by its own agency's systems and by district roles",
                self.agency
            ))
            .into());
        }
        let req = request.into_inner();
        let batch = match req.max_batch_size as usize {
            0 => DEFAULT_BATCH,
            n if n > MAX_BATCH => {
                return Err(ServiceError::invalid(
                    "max_batch_size",
                    format!("at most {MAX_BATCH}"),
                )
                .into());
            }
            n => n,
        };
        // Positions are stored as signed 64-bit numbers; one past the last is where a read begins.
        if req.after_position >= i64::MAX as u64 {
            return Err(ServiceError::invalid(
                "after_position",
                format!("a store position, at most {}", i64::MAX - 1),
            )
            .into());
        }
        if req.event_type_prefixes.len() > MAX_PREFIXES
            || req
                .event_type_prefixes
                .iter()
                .any(|p| p.chars().count() > MAX_PREFIX_CHARS)
        {
            return Err(ServiceError::invalid(
                "event_type_prefixes",
                format!("at most {MAX_PREFIXES} prefixes of at most {MAX_PREFIX_CHARS} characters"),
            )
            .into());
        }
        let prefixes = req.event_type_prefixes;
        let store = self.store.clone();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(async move {
            let mut head = store.watch_head();
            let mut next = req.after_position + 1;
            loop {
                let page = match store.read_all(next, batch).await {
                    Ok(page) => page,
                    Err(e) => {
                        let _ = tx.send(Err(ServiceError::from(e).into())).await;
                        return;
                    }
                };
                if let Some(last) = page.last().map(|e| e.position) {
                    let events = page
                        .iter()
                        .filter(|e| {
                            prefixes.is_empty()
                                || prefixes
                                    .iter()
                                    .any(|p| e.event_type.starts_with(p.as_str()))
                        })
                        .map(envelope)
                        .collect();
                    next = last + 1;
                    let response = pb::ReadEventsResponse {
                        events,
                        resume_after_position: last,
                    };
                    if tx.send(Ok(response)).await.is_err() {
                        return; // the client went away
                    }
                    continue;
                }
                if !req.follow {
                    return;
                }
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = head.changed() => {}
                    _ = tokio::time::sleep(FOLLOW_POLL) => {}
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}
