//! Loading aggregates from an agency's store and executing commands on them: idempotent by request id,
//! optimistic by expected version, with the acting unit from the caller's token.

use std::marker::PhantomData;
use std::sync::Arc;

use chrono::Utc;
use oneledger_domain::{Agency, Aggregate, Command, DomainEvent, Rules, streams};
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, command_fingerprint,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::error::ServiceError;

/// Events read per page when loading an aggregate.
const LOAD_PAGE: usize = 1000;

/// What every service of one agency shares: its store, its agency, its district and the rules.
#[derive(Debug, Clone)]
pub struct Context {
    /// The agency's event store.
    pub store: Arc<dyn EventStore>,
    /// Whose service this is.
    pub agency: Agency,
    /// The district, a subject token.
    pub district: String,
    /// The legal calendar.
    pub rules: Arc<Rules>,
}

/// An aggregate as loaded: its state and stream version (0 when it does not exist).
#[derive(Debug, Clone)]
pub struct Loaded<A> {
    /// The state.
    pub state: A,
    /// The stream version.
    pub version: u64,
}

/// What a command did.
#[derive(Debug, Clone)]
pub struct Outcome<A: Aggregate> {
    /// The state after it.
    pub state: A,
    /// The stream version after it.
    pub version: u64,
    /// The events it recorded (none for a retry).
    pub events: Vec<A::Event>,
    /// Their types.
    pub event_types: Vec<String>,
    /// True for a retry answered with the first result.
    pub replayed: bool,
}

impl<A: Aggregate> Outcome<A> {
    /// The proto summary of the outcome.
    pub fn result(&self) -> oneledger_proto::common::v1::CommandResult {
        oneledger_proto::common::v1::CommandResult {
            version: self.version,
            event_types: self.event_types.clone(),
            replayed: self.replayed,
        }
    }
}

/// The aggregates of one kind in one store, each in a stream `<prefix>-<id>`.
#[derive(Debug, Clone)]
pub struct Repository<A> {
    ctx: Arc<Context>,
    prefix: &'static str,
    _aggregate: PhantomData<fn() -> A>,
}

impl<A: Aggregate> Repository<A> {
    /// The aggregates whose streams start with `prefix`.
    pub fn new(ctx: Arc<Context>, prefix: &'static str) -> Self {
        Repository {
            ctx,
            prefix,
            _aggregate: PhantomData,
        }
    }

    /// The stream of aggregate `id`.
    pub fn stream_id(&self, id: &str) -> String {
        streams::stream_id(self.prefix, id)
    }

    /// Loads aggregate `id` by replaying its stream.
    pub async fn load(&self, id: &str) -> Result<Loaded<A>, ServiceError> {
        self.load_up_to(id, u64::MAX).await
    }

    /// Aggregate `id` as it stood at version `last` (all of it when it has fewer): what a retried command
    /// is answered with — the result it first had, not the state since.
    async fn load_up_to(&self, id: &str, last: u64) -> Result<Loaded<A>, ServiceError> {
        let stream = self.stream_id(id);
        let (mut state, mut version) = (A::default(), 0);
        loop {
            let room = usize::try_from(last - version).unwrap_or(LOAD_PAGE);
            let limit = LOAD_PAGE.min(room);
            if limit == 0 {
                return Ok(Loaded { state, version });
            }
            let page = self
                .ctx
                .store
                .read_stream(&stream, version + 1, limit)
                .await?;
            let full = page.len() == limit;
            for recorded in page {
                let event: A::Event = serde_json::from_value(recorded.data).map_err(|e| {
                    ServiceError::Internal(format!(
                        "{stream} v{}: unreadable event: {e}",
                        recorded.stream_version
                    ))
                })?;
                state = state.evolve(&event);
                version = recorded.stream_version;
            }
            if !full {
                return Ok(Loaded { state, version });
            }
        }
    }

    /// Loads aggregate `id`, refusing with NOT_FOUND when it does not exist.
    pub async fn get(&self, id: &str, what: &str) -> Result<Loaded<A>, ServiceError> {
        let loaded = self.load(id).await?;
        if loaded.version == 0 {
            return Err(ServiceError::NotFound(format!("{what} {id}")));
        }
        Ok(loaded)
    }

    /// Decides `action` by `caller` on aggregate `id` and appends the events. The request id is bound to
    /// `digest` (the request's, [`command_digest`]): a retry of it returns the first result
    /// without deciding again; another command under the same id is refused.
    #[allow(clippy::too_many_arguments)] // each names what the step is; a struct would only rename them
    pub async fn execute(
        &self,
        id: &str,
        expected: ExpectedVersion,
        caller: &Caller,
        role: Role,
        action: A::Action,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Outcome<A>, ServiceError> {
        let stream = self.stream_id(id);
        let store = &self.ctx.store;
        if let Some(recorded) = store.request_outcome(request_id).await? {
            if recorded.stream_id != stream {
                return Err(ServiceError::AlreadyExists(format!(
                    "request_id {request_id} was already used for a command on another item"
                )));
            }
            if recorded.fingerprint != command_fingerprint(&stream, digest) {
                return Err(ServiceError::AlreadyExists(format!(
                    "request_id {request_id} was already used for a different command on this item"
                )));
            }
            let appended = recorded.appended;
            let loaded = self.load_up_to(id, appended.last_version).await?;
            return Ok(Outcome {
                state: loaded.state,
                version: appended.last_version,
                events: vec![],
                event_types: vec![],
                replayed: true,
            });
        }

        let loaded = self.load(id).await?;
        match expected {
            // A step on an item that does not exist is about nothing: NOT_FOUND, not a version conflict.
            ExpectedVersion::Exact(_) | ExpectedVersion::StreamExists if loaded.version == 0 => {
                return Err(ServiceError::NotFound(format!("{} {id}", self.prefix)));
            }
            ExpectedVersion::Exact(v) if v != loaded.version => {
                return Err(ServiceError::Conflict {
                    expected: format!("version {v}"),
                    current: loaded.version,
                });
            }
            _ => {}
        }
        let at = Utc::now();
        let command = Command {
            at,
            unit: caller.unit.clone(),
            action,
        };
        let events = loaded.state.decide(&command, &self.ctx.rules)?;
        let event_types: Vec<String> = events
            .iter()
            .map(|e| e.event_type(self.ctx.agency))
            .collect();
        let new_events = events
            .iter()
            .zip(&event_types)
            .map(|(event, event_type)| {
                Ok(NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: event_type.clone(),
                    schema_version: A::Event::SCHEMA_VERSION,
                    data: serde_json::to_value(event)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?,
                    metadata: EventMetadata {
                        occurred_at: at,
                        district: self.ctx.district.clone(),
                        agency: self.ctx.agency,
                        acting_unit: caller.unit.0.clone(),
                        acting_role: role.to_string(),
                        correlation_id: request_id,
                        causation_id: None,
                    },
                })
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let appended = store
            .append(AppendRequest {
                stream_id: stream,
                expected_version: expected,
                events: new_events,
                request_id,
                command: Some(digest.to_vec()),
            })
            .await?;
        if appended.replayed {
            // An identical retry won the race; answer as it was answered.
            let loaded = self.load_up_to(id, appended.last_version).await?;
            return Ok(Outcome {
                state: loaded.state,
                version: appended.last_version,
                events: vec![],
                event_types: vec![],
                replayed: true,
            });
        }
        let state = events.iter().fold(loaded.state, |s, e| s.evolve(e));
        Ok(Outcome {
            state,
            version: appended.last_version,
            events,
            event_types,
            replayed: false,
        })
    }
}

/// The digest a command is recognised by on a retry: its method and what it asks (the request's fields,
/// encoded as on the wire), so it is the same exactly when a caller sends the same command again.
pub fn command_digest(method: &str, parts: &[&[u8]]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    for part in parts {
        hasher.update([0]);
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hasher.finalize().to_vec()
}

/// A request id derived from `seed` (a command's own request id or digest) for a further write the command
/// makes, told apart by `label`: the same on every retry, so the write is recorded once.
pub fn derived_request_id(seed: &[u8], label: &[u8]) -> Uuid {
    let digest = Sha256::digest([seed, b"/", label].concat());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes).into_uuid()
}

/// Parses a request id: a UUID, required.
pub fn request_id(raw: &str) -> Result<Uuid, ServiceError> {
    if raw.is_empty() {
        return Err(ServiceError::invalid(
            "request_id",
            "required: a UUID chosen by the client, reused on retry",
        ));
    }
    Uuid::parse_str(raw).map_err(|_| ServiceError::invalid("request_id", "must be a UUID"))
}

/// The expected version of a command on an existing item: required, at least 1.
pub fn expected_version(v: u64) -> Result<ExpectedVersion, ServiceError> {
    if v == 0 {
        return Err(ServiceError::invalid(
            "expected_version",
            "required: the version the caller last saw",
        ));
    }
    Ok(ExpectedVersion::Exact(v))
}
