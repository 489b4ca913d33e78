//! Loading aggregates from an agency's store and executing commands on them: idempotent by request id,
//! optimistic by expected version, with the acting unit from the caller's token.

use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use oneledger_clock::Clock;
use oneledger_domain::{Agency, Aggregate, Command, DomainEvent, Rules, UnitId, streams};
use oneledger_retry::Backoff;
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, command_fingerprint,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::error::ServiceError;
use crate::items::ItemLookup;

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
    /// Where "now" comes from: the instant every command is stamped with.
    pub clock: Clock,
    /// Where the items commands name are looked up.
    pub items: ItemLookup,
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
        let mut loaded = Loaded {
            state: A::default(),
            version: 0,
        };
        self.catch_up(id, &mut loaded, last).await?;
        Ok(loaded)
    }

    /// Applies to `loaded` what the stream of `id` holds after its version, up to version `last`.
    async fn catch_up(
        &self,
        id: &str,
        loaded: &mut Loaded<A>,
        last: u64,
    ) -> Result<(), ServiceError> {
        let stream = self.stream_id(id);
        loop {
            let room = usize::try_from(last - loaded.version).unwrap_or(LOAD_PAGE);
            let limit = LOAD_PAGE.min(room);
            if limit == 0 {
                return Ok(());
            }
            let page = self
                .ctx
                .store
                .read_stream(&stream, loaded.version + 1, limit)
                .await?;
            let full = page.len() == limit;
            for recorded in page {
                let event = decode::<A>(&stream, recorded.stream_version, recorded.data)?;
                loaded.state = std::mem::take(&mut loaded.state).evolve(&event);
                loaded.version = recorded.stream_version;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Every event of aggregate `id`, in order: for reading what the state keeps no copy of.
    pub async fn events(&self, id: &str) -> Result<Vec<A::Event>, ServiceError> {
        let stream = self.stream_id(id);
        let mut events = Vec::new();
        loop {
            let page = self
                .ctx
                .store
                .read_stream(&stream, events.len() as u64 + 1, LOAD_PAGE)
                .await?;
            let full = page.len() == LOAD_PAGE;
            for recorded in page {
                events.push(decode::<A>(
                    &stream,
                    recorded.stream_version,
                    recorded.data,
                )?);
            }
            if !full {
                return Ok(events);
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
        if let Some(first) = self.first_result(id, request_id, digest).await? {
            return Ok(first);
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
        let Some((events, event_types, last_version)) = self
            .decide_and_append(
                id, &loaded, expected, caller, role, action, request_id, digest,
            )
            .await?
        else {
            return self.raced_result(id, request_id, digest).await;
        };
        let state = events.iter().fold(loaded.state, |s, e| s.evolve(e));
        Ok(Outcome {
            state,
            version: last_version,
            events,
            event_types,
            replayed: false,
        })
    }

    /// The first result of `request_id` when it was already recorded on `id` under `digest`; refused when
    /// it was recorded for another command.
    pub(crate) async fn first_result(
        &self,
        id: &str,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Option<Outcome<A>>, ServiceError> {
        let stream = self.stream_id(id);
        let Some(recorded) = self.ctx.store.request_outcome(request_id).await? else {
            return Ok(None);
        };
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
        let last_version = recorded.appended.last_version;
        let loaded = self.load_up_to(id, last_version).await?;
        Ok(Some(Outcome {
            state: loaded.state,
            version: last_version,
            events: vec![],
            event_types: vec![],
            replayed: true,
        }))
    }

    /// The first result of a request whose identical retry won the race to append: answered as it was.
    async fn raced_result(
        &self,
        id: &str,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Outcome<A>, ServiceError> {
        self.first_result(id, request_id, digest)
            .await?
            .ok_or_else(|| ServiceError::Internal("a replayed append has no outcome".into()))
    }

    /// Decides `action` against `loaded` and appends the events at `expected`: the events, their types
    /// and the stream's new version, or none when an identical retry was recorded first.
    #[allow(clippy::too_many_arguments)] // as `execute`
    #[allow(clippy::type_complexity)] // the three things a recorded decision is
    async fn decide_and_append(
        &self,
        id: &str,
        loaded: &Loaded<A>,
        expected: ExpectedVersion,
        caller: &Caller,
        role: Role,
        action: A::Action,
        request_id: Uuid,
        digest: &[u8],
    ) -> Result<Option<(Vec<A::Event>, Vec<String>, u64)>, ServiceError> {
        let at = self.ctx.clock.now();
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
                self.new_event(event, event_type, at, &caller.unit, role, request_id, None)
            })
            .collect::<Result<Vec<_>, ServiceError>>()?;
        let (count, started) = (new_events.len(), std::time::Instant::now());
        let appended = self
            .ctx
            .store
            .append(AppendRequest {
                stream_id: self.stream_id(id),
                expected_version: expected,
                events: new_events,
                request_id,
                command: Some(digest.to_vec()),
            })
            .await?;
        oneledger_metrics::global().appended(self.ctx.agency.token(), count, started.elapsed());
        Ok((!appended.replayed).then_some((events, event_types, appended.last_version)))
    }
}

impl<A: Aggregate> Repository<A> {
    /// An event as the store records it: stamped `at`, by `unit` acting as `role`, under `request_id`,
    /// with its `origin` when it is not a live command.
    #[allow(clippy::too_many_arguments)] // each is a fact every event records
    fn new_event(
        &self,
        event: &A::Event,
        event_type: &str,
        at: DateTime<Utc>,
        unit: &UnitId,
        role: Role,
        request_id: Uuid,
        origin: Option<&str>,
    ) -> Result<NewEvent, ServiceError> {
        Ok(NewEvent {
            event_id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            schema_version: A::Event::SCHEMA_VERSION,
            data: serde_json::to_value(event).map_err(|e| ServiceError::Internal(e.to_string()))?,
            metadata: EventMetadata {
                occurred_at: at,
                district: self.ctx.district.clone(),
                agency: self.ctx.agency,
                acting_unit: unit.0.clone(),
                acting_role: role.to_string(),
                // The caller's own correlation id ties its calls' events together; else this request's.
                correlation_id: crate::call::correlation().unwrap_or(request_id),
                causation_id: None,
                origin: origin.map(str::to_owned),
            },
        })
    }

    /// Imports one record of a district's existing ledger as stream `id`: its steps, each taken on its
    /// own date by the unit the ledger names, decided in order by the same rules as live commands and
    /// recorded as one append under `request_id` (derived from the record's own id), every event
    /// carrying `origin`. A dry run decides and writes nothing. A refused step is returned with its
    /// index, so the caller can name the field it came from.
    #[allow(clippy::too_many_arguments)] // the record, and how it is recorded
    pub async fn import(
        &self,
        id: &str,
        steps: Vec<ImportedStep<A::Action>>,
        role: Role,
        request_id: Uuid,
        digest: &[u8],
        origin: &str,
        dry_run: bool,
    ) -> Result<Imported<A>, (Option<usize>, ServiceError)> {
        if let Some(first) = self
            .first_result(id, request_id, digest)
            .await
            .map_err(|e| (None, e))?
        {
            return Ok(Imported::AlreadyImported(first.state));
        }
        let loaded = self.load(id).await.map_err(|e| (None, e))?;
        if loaded.version != 0 {
            return Err((
                None,
                ServiceError::AlreadyExists(format!("{} {id} exists already", self.prefix)),
            ));
        }
        let mut state = loaded.state;
        let mut new_events = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let command = Command {
                at: step.at,
                unit: step.unit.clone(),
                action: step.action,
            };
            let events = state
                .decide(&command, &self.ctx.rules)
                .map_err(|e| (Some(i), e.into()))?;
            for event in &events {
                let event_type = event.event_type(self.ctx.agency);
                let new = self.new_event(
                    event,
                    &event_type,
                    step.at,
                    &step.unit,
                    role,
                    request_id,
                    Some(origin),
                );
                new_events.push(new.map_err(|e| (Some(i), e))?);
            }
            state = events.iter().fold(state, |s, e| s.evolve(e));
        }
        if dry_run {
            return Ok(Imported::Checked(state));
        }
        let count = new_events.len();
        let appended = self
            .ctx
            .store
            .append(AppendRequest {
                stream_id: self.stream_id(id),
                expected_version: ExpectedVersion::NoStream,
                events: new_events,
                request_id,
                command: Some(digest.to_vec()),
            })
            .await
            .map_err(|e| (None, e.into()))?;
        if !appended.replayed {
            oneledger_metrics::global().imported(self.ctx.agency.token(), count as u64);
        }
        Ok(if appended.replayed {
            Imported::AlreadyImported(state)
        } else {
            Imported::Written(state)
        })
    }
}

/// One step of an imported record: when it was taken, by which unit, and what.
#[derive(Debug, Clone)]
pub struct ImportedStep<Action> {
    /// The step's instant (noon, Beijing, of the ledger's date).
    pub at: DateTime<Utc>,
    /// The unit the ledger says took it.
    pub unit: UnitId,
    /// The step.
    pub action: Action,
}

/// What importing a record did.
#[derive(Debug, Clone)]
pub enum Imported<A> {
    /// Recorded now.
    Written(A),
    /// An earlier import recorded it; nothing written.
    AlreadyImported(A),
    /// A dry run: it would be recorded so.
    Checked(A),
}

/// The expectation that a stream is still at `version`, as it was read (no stream when 0).
pub fn at_version(version: u64) -> ExpectedVersion {
    match version {
        0 => ExpectedVersion::NoStream,
        v => ExpectedVersion::Exact(v),
    }
}

/// One recorded event of `stream`, as the aggregate's event.
fn decode<A: Aggregate>(
    stream: &str,
    version: u64,
    data: serde_json::Value,
) -> Result<A::Event, ServiceError> {
    serde_json::from_value(data)
        .map_err(|e| ServiceError::Internal(format!("{stream} v{version}: unreadable event: {e}")))
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

/// One aggregate kept in memory between commands and caught up from its stream's tail before each: the
/// district's link registry, whose one stream grows with every link ever made. Replayed whole, every
/// link cost more than the last; caught up, a link reads only what other processes appended since.
/// Commands on it run one at a time in a process: all on one stream, they would only conflict.
#[derive(Debug)]
pub struct CachedAggregate<A> {
    repo: Repository<A>,
    id: String,
    current: tokio::sync::Mutex<Loaded<A>>,
}

impl<A: Aggregate> CachedAggregate<A>
where
    A::Action: Clone,
{
    /// Aggregate `id` of `repo`, read from the store on its first command.
    pub fn new(repo: Repository<A>, id: impl Into<String>) -> Self {
        CachedAggregate {
            repo,
            id: id.into(),
            current: tokio::sync::Mutex::new(Loaded {
                state: A::default(),
                version: 0,
            }),
        }
    }

    /// Reads the aggregate's stream now, so the first command after a start does not wait for it.
    pub async fn warm(&self) -> Result<(), ServiceError> {
        let mut current = self.current.lock().await;
        self.repo.catch_up(&self.id, &mut current, u64::MAX).await
    }

    /// Decides and records `action` by `caller`, as [`Repository::execute`] does; a conflict with another
    /// process is caught up and decided again, up to `attempts` times with back-off. Answers with `view`
    /// of the state after it (the state itself stays here: copying it would cost what replaying did).
    #[allow(clippy::too_many_arguments)] // as `Repository::execute`, with the view and the attempts
    pub async fn execute<R>(
        &self,
        caller: &Caller,
        role: Role,
        action: A::Action,
        request_id: Uuid,
        digest: &[u8],
        attempts: u32,
        view: impl Fn(&A) -> R,
    ) -> Result<(R, oneledger_proto::common::v1::CommandResult), ServiceError> {
        let repo = &self.repo;
        if let Some(first) = repo.first_result(&self.id, request_id, digest).await? {
            return Ok((view(&first.state), first.result()));
        }
        let mut current = self.current.lock().await;
        let mut backoff = Backoff::new(Duration::from_millis(2), Duration::from_millis(50));
        loop {
            repo.catch_up(&self.id, &mut current, u64::MAX).await?;
            let expected = at_version(current.version);
            let recorded = repo
                .decide_and_append(
                    &self.id,
                    &current,
                    expected,
                    caller,
                    role,
                    action.clone(),
                    request_id,
                    digest,
                )
                .await;
            match recorded {
                Ok(Some((events, event_types, version))) => {
                    for event in &events {
                        current.state = std::mem::take(&mut current.state).evolve(event);
                    }
                    current.version = version;
                    let result = oneledger_proto::common::v1::CommandResult {
                        version,
                        event_types,
                        replayed: false,
                    };
                    return Ok((view(&current.state), result));
                }
                Ok(None) => {
                    let first = repo.raced_result(&self.id, request_id, digest).await?;
                    return Ok((view(&first.state), first.result()));
                }
                Err(ServiceError::Conflict { .. }) if backoff.failures() < attempts => {
                    backoff.wait().await
                }
                Err(e) => return Err(e),
            }
        }
    }
}
