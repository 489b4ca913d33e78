//! The oneledger domain: what a petition matter, a dispute, a joint handling and a supervision order are, and
//! which rules govern them. Pure: no I/O, no async, no clock, and nothing of sqlx, NATS or protobuf.
//!
//! Modules:
//! - [`agency`]: the three agencies that each own a service, an event store and a JetStream stream.

pub mod agency;

pub use agency::{Agency, UnknownAgency};
