//! NATS JetStream for oneledger: where events go after the store commits them.
//!
//! Modules:
//! - [`cloudevent`]: the wire format (CloudEvents 1.0 structured JSON) and subjects;
//! - [`setup`]: connecting, and declaring streams idempotently;
//! - [`relay`]: the outbox relay, store log → JetStream, in order, exactly once in the stream;
//! - [`error`]: typed errors.
//!
//! Invariants: nothing here decides a domain rule; the relay never publishes an event twice into the
//! stream nor out of position order (stream sequence = store position); a NATS outage delays events but
//! never loses them.

pub mod cloudevent;
pub mod error;
pub mod relay;
pub mod setup;

pub use error::BusError;
pub use relay::{Relay, RelayConfig};
pub use setup::{
    Connected, ConnectionEvents, NatsTls, StreamSpec, connect, connect_with, ensure_stream,
};
