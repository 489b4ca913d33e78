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
//! - [`postgres`], [`sqlite`]: the backends.
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
pub mod sqlite;
pub mod validate;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::watch;

pub use append::{AppendRequest, Appended, ExpectedVersion};
pub use error::{AppendError, StoreError};
pub use event::{EventMetadata, NewEvent, RecordedEvent};
pub use postgres::PgEventStore;
pub use sqlite::SqliteEventStore;

/// An agency's event log. Implemented by [`PgEventStore`] and [`SqliteEventStore`]; one conformance suite
/// runs against both.
#[async_trait]
pub trait EventStore: Send + Sync + std::fmt::Debug + 'static {
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

    /// Takes or renews the lease `name` for `holder` for `ttl`; false when another holder has it.
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// Gives the lease up, if `holder` has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

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
