//! The oneledger event store: an append-only log per agency, one trait and two backends.
//!
//! Modules:
//! - [`event`]: new and recorded events and their metadata;
//! - [`append`]: append requests, expected versions, what an append reports;
//! - [`error`]: typed errors, each saying how the gRPC edge maps it;
//! - [`validate`]: checks that refuse a malformed append before it reaches a batch;
//! - `batch`: the pure group-commit planner shared by both backends;
//! - `appender`: the one task per store that merges concurrent appends into one transaction;
//! - `row`: the row type both backends decode;
//! - `shared`: the statements both backends say alike (person keys, the read audit), written once;
//! - [`postgres`], [`sqlite`]: the backends.
//!
//! The store's concerns are traits of their own — [`EventLog`], [`Leases`], [`PersonVault`],
//! [`ReadAudit`] — and [`EventStore`] is all four, as both backends are.
//!
//! Invariants: positions are dense from 1 and commit in position order, so `read_all` never skips an event
//! that a later read could see; an append under a used request id writes nothing and returns the first
//! result; this crate knows nothing of NATS, gRPC or the domain's rules.

pub mod append;
mod appender;
mod batch;
pub mod error;
pub mod event;
pub mod postgres;
mod row;
mod shared;
pub mod sqlite;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::watch;
use uuid::Uuid;

pub use append::{AppendRequest, Appended, ExpectedVersion};
pub use batch::command_fingerprint;
pub use error::{AppendError, StoreError};
pub use event::{EventMetadata, NewEvent, RecordedEvent};
pub use postgres::PgEventStore;
pub use sqlite::SqliteEventStore;

/// An agency's event log: appends with optimistic concurrency and idempotent retries, reads in stream
/// and in log order, and what an earlier request wrote. The outbox relay and the projector read it.
#[async_trait]
pub trait EventLog: Send + Sync + std::fmt::Debug + 'static {
    /// Appends one command's events to one stream atomically, checking the expected version under the
    /// write lock. A retry under the same request id returns the first result and writes nothing.
    async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError>;

    /// Events of one stream with version ≥ `from_version`, in version order, at most `limit`.
    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events with position ≥ `from_position`, in position order, at most `limit`. Positions are dense,
    /// so a reader that continues from the last position it saw plus one never misses an event.
    async fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// The last position in the log (0 when empty).
    async fn head(&self) -> Result<u64, StoreError>;

    /// The head as this process's appends move it: readers wait on it instead of polling. Appends by
    /// other processes are not seen here, so long-lived readers also poll [`head`](Self::head) now and then.
    fn watch_head(&self) -> watch::Receiver<u64>;

    /// The stream's current version, or `None` when it does not exist.
    async fn stream_version(&self, stream_id: &str) -> Result<Option<u64>, StoreError>;

    /// What an earlier append under `request_id` wrote, if one did: its stream and positions. Lets a
    /// service answer a retried command with the first result before deciding it again.
    async fn request_outcome(
        &self,
        request_id: Uuid,
    ) -> Result<Option<RecordedRequest>, StoreError>;
}

/// Leases that let one process of many do a job (the relay of a store), and the checkpoints it keeps
/// under its lease.
#[async_trait]
pub trait Leases: Send + Sync + std::fmt::Debug + 'static {
    /// Takes or renews the lease `name` for `holder` for `ttl`; false when another holder has it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    /// Every lease recorded, held or lapsed, by name: for an operator's status.
    async fn leases(&self) -> Result<Vec<Lease>, StoreError>;

    /// The position recorded under `name` (0 when none).
    async fn checkpoint(&self, name: &str) -> Result<u64, StoreError>;

    /// Records `position` under `name`, only while `holder` holds the lease of the same name; false when
    /// it does not (another process took over, and its progress wins).
    async fn save_checkpoint(
        &self,
        name: &str,
        holder: &str,
        position: u64,
    ) -> Result<bool, StoreError>;
}

/// A lease as the store records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// What it is for (`relay:ONELEDGER_PETITION`, `deadline-watcher`).
    pub name: String,
    /// The process holding it.
    pub holder: String,
    /// When it lapses unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// Per-person data keys, wrapped by the master key: storing one, reading it, destroying it
/// (crypto-shredding erases a person from every event at once).
#[async_trait]
pub trait PersonVault: Send + Sync + std::fmt::Debug + 'static {
    /// Stores a person's wrapped data key unless one exists; true when stored.
    async fn put_person_key(
        &self,
        person_ref: &str,
        wrapped_key: &[u8],
    ) -> Result<bool, StoreError>;

    /// A person's wrapped data key.
    async fn person_key(&self, person_ref: &str) -> Result<PersonKey, StoreError>;

    /// Destroys a person's data key (crypto-shredding); true when a key was destroyed now.
    async fn erase_person_key(
        &self,
        person_ref: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
}

/// The append-only audit log of personal-data reads (who, from which unit, whose, which fields, why).
#[async_trait]
pub trait ReadAudit: Send + Sync + std::fmt::Debug + 'static {
    /// Appends a record of a personal-data read to the audit log.
    async fn record_personal_data_read(&self, read: &PersonalDataRead) -> Result<(), StoreError>;

    /// The newest `limit` personal-data reads, newest first, optionally of one person.
    async fn personal_data_reads(
        &self,
        person_ref: Option<&str>,
        limit: usize,
    ) -> Result<Vec<PersonalDataRead>, StoreError>;
}

/// Everything an agency's store is: its log, leases, person keys and read audit, in one database so that
/// an append and what it depends on commit together. Implemented by [`PgEventStore`] and
/// [`SqliteEventStore`]; one conformance suite runs against both. A part that needs only one concern takes
/// that trait (`Arc<dyn EventLog>`).
pub trait EventStore: EventLog + Leases + PersonVault + ReadAudit {}

impl<T: EventLog + Leases + PersonVault + ReadAudit> EventStore for T {}

/// What an earlier append under a request id wrote: where, and the fingerprint it was recorded under
/// (compare it with [`command_fingerprint`] to tell a retry from another command).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The stream it went to.
    pub stream_id: String,
    /// Where its events went, `replayed` set.
    pub appended: Appended,
    /// Its fingerprint.
    pub fingerprint: Vec<u8>,
}

/// A person's data key as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonKey {
    /// No key was ever stored.
    Missing,
    /// The key, wrapped by the master key.
    Wrapped(Vec<u8>),
    /// The key was destroyed at this time.
    Erased(DateTime<Utc>),
}

/// One read of personal data, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalDataRead {
    /// When.
    pub read_at: DateTime<Utc>,
    /// Who (the token's subject).
    pub reader: String,
    /// From which unit.
    pub unit: String,
    /// Whose data.
    pub person_ref: String,
    /// Which fields, comma-separated.
    pub fields: String,
    /// Why (a purpose code).
    pub purpose: String,
}

/// Opens the store a URL names: `postgres://…` or `sqlite://…`.
pub async fn connect(url: &str) -> Result<Arc<dyn EventStore>, StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgEventStore::connect(url).await?))
    } else if url.starts_with("sqlite:") {
        Ok(Arc::new(SqliteEventStore::connect(url).await?))
    } else {
        Err(StoreError::Database(sqlx::Error::Configuration(
            "unsupported database URL scheme: expected postgres:// or sqlite://".into(),
        )))
    }
}
