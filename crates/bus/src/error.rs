//! Typed errors of the bus. NATS error text stays in logs; the gRPC edge maps every variant to
//! `UNAVAILABLE` except where a variant's doc says otherwise.

use oneledger_store::StoreError;

/// What went wrong talking to NATS JetStream or the store behind the relay.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// NATS could not be reached or refused the connection options.
    #[error("cannot connect to NATS: {0}")]
    Connect(String),
    /// A JetStream API request (stream or consumer setup, stream info) failed.
    #[error("JetStream request failed: {0}")]
    JetStream(String),
    /// A publish was not acknowledged as expected.
    #[error("publish failed: {0}")]
    Publish(String),
    /// The JetStream stream holds more messages than the store has events: it is shared with another
    /// store or left over from an earlier one, so stream sequence ≠ store position. Needs an operator.
    #[error(
        "stream {stream} is at sequence {stream_last} but the store's head is {store_head}: \
         the stream belongs to another store"
    )]
    ForeignStream {
        /// The JetStream stream.
        stream: String,
        /// Its last sequence.
        stream_last: u64,
        /// The store's last position.
        store_head: u64,
    },
    /// A message is not a CloudEvent we can read. gRPC (where surfaced): `INVALID_ARGUMENT`.
    #[error("malformed event: {0}")]
    Decode(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
