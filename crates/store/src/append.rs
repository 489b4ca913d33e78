//! An append request, what it expects of the stream, and what a successful append reports.

use std::fmt;

use uuid::Uuid;

use crate::event::NewEvent;

/// What the writer believes about the stream's version; checked under the store's write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// No check: append whatever the stream's version (for streams only one writer touches).
    Any,
    /// The stream must not exist yet (creating an aggregate).
    NoStream,
    /// The stream must exist, at any version.
    StreamExists,
    /// The stream must be exactly at this version (the usual case for a command on an aggregate).
    Exact(u64),
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any version"),
            ExpectedVersion::NoStream => f.write_str("no stream"),
            ExpectedVersion::StreamExists => f.write_str("an existing stream"),
            ExpectedVersion::Exact(v) => write!(f, "version {v}"),
        }
    }
}

/// One command's events for one stream, appended atomically.
#[derive(Debug, Clone, PartialEq)]
pub struct AppendRequest {
    /// Stream (aggregate instance) to append to.
    pub stream_id: String,
    /// What the stream's version must be for the append to go ahead.
    pub expected_version: ExpectedVersion,
    /// Events in order; at least one.
    pub events: Vec<NewEvent>,
    /// Idempotency key: a retry under the same key returns the first result and appends nothing.
    pub request_id: Uuid,
    /// Digest of the command that produced the events, when the caller has one. The request id is then
    /// bound to the command: a retry is recognised by its command (decided again, its events carry new
    /// instants), and another command under the same id is refused. Without one, by the events.
    pub command: Option<Vec<u8>>,
}

/// Where an append put its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    /// Stream version of the first event appended.
    pub first_version: u64,
    /// Stream version after the append: the version to expect next time.
    pub last_version: u64,
    /// Log position of the first event appended.
    pub first_position: u64,
    /// Log position of the last event appended.
    pub last_position: u64,
    /// True when this was a retry of an earlier append: nothing new was written.
    pub replayed: bool,
}
