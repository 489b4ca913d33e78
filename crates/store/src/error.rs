//! Typed errors of the store. Each variant's doc says how the gRPC edge maps it; database text stays in logs.

use uuid::Uuid;

use crate::append::ExpectedVersion;

/// A failure of the store itself (database unreachable, corrupt row, appender gone).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed or could not be reached. gRPC: `UNAVAILABLE` (never the database's text).
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed to apply. gRPC: not served (the service reports NOT_SERVING).
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be decoded. gRPC: `INTERNAL` (a bug or a tampered database, never bad input).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The appender task has stopped (the store is shutting down). gRPC: `UNAVAILABLE`.
    #[error("the store is shutting down")]
    Closed,
}

/// Why an append was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The stream was not at the expected version. gRPC: `ABORTED`, carrying the current version.
    #[error("stream {stream_id} is at version {current}, but the command expected {expected}")]
    WrongExpectedVersion {
        /// The stream appended to.
        stream_id: String,
        /// What the command expected.
        expected: ExpectedVersion,
        /// The stream's current version (0 when it does not exist).
        current: u64,
    },
    /// The request id was used before for a different append. gRPC: `ALREADY_EXISTS`, naming `request_id`.
    #[error("request_id {request_id} was already used for a different command")]
    RequestIdReused {
        /// The reused key.
        request_id: Uuid,
    },
    /// An event id is already in the store. gRPC: `ALREADY_EXISTS`, naming `event_id`.
    #[error("event_id {event_id} is already recorded")]
    DuplicateEventId {
        /// The duplicated id (the first one found).
        event_id: Uuid,
    },
    /// The request itself is malformed. gRPC: `INVALID_ARGUMENT`, naming `field`.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The store failed; the append may or may not have happened (retry with the same request id).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for AppendError {
    fn from(e: sqlx::Error) -> Self {
        AppendError::Store(StoreError::Database(e))
    }
}
