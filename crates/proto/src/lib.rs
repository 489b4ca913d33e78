//! The oneledger API contract as Rust types, generated at build time from `proto/` (no `protoc` needed).
//!
//! Modules mirror the proto packages:
//! - [`common::v1`]: shared types (agency, unit references, the event envelope);
//! - [`events::v1`]: the `EventFeedService` through which integrators read an agency's events.
//!
//! [`FILE_DESCRIPTOR_SET`] holds every compiled file, for gRPC reflection.
#![allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments

/// Shared types.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.common.v1");
    }
}

/// The event feed read by integrators.
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.events.v1");
    }
}

/// The encoded `FileDescriptorSet` of every proto file, for the reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/oneledger_descriptor.bin"));
