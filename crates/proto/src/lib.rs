//! The oneledger API contract as Rust types, generated at build time from `proto/` (no `protoc` needed).
//!
//! Modules mirror the proto packages:
//! - [`common::v1`]: shared types (agency, unit references, the event envelope);
//! - [`events::v1`]: the `EventFeedService` through which integrators read an agency's events;
//! - [`dispute::v1`]: dispute reports and steps, shared by public security and the political-legal committee;
//! - [`petition::v1`]: the petition office's `PetitionService`;
//! - [`public_security::v1`]: public security's `PublicSecurityService`;
//! - [`political_legal::v1`]: the political-legal committee's `PoliticalLegalService`;
//! - [`directory::v1`]: the district's units, `DirectoryService`;
//! - [`ledger::v2`]: the shared ledger's `LedgerService`;
//! - [`google_type`]: `google.type.Date`, the legal day on the ledger's wire;
//! - [`demo::v1`]: `DemoClockService`, which only a demo start (`up --demo-clock`) serves.
//!
//! [`convert`] is the one conversion layer between these types and the domain's; [`codec`] is the
//! protobuf codec of every generated service and client.
//!
//! [`FILE_DESCRIPTOR_SET`] holds every compiled file, for gRPC reflection.

pub mod codec;
pub mod convert;

/// Largest request any oneledger port accepts (the agency services and the ledger alike): a petition
/// with its narrative, or an import's chunk of rows, is far below it. A larger one is refused before it
/// is decoded (tonic answers OUT_OF_RANGE, naming the limit), never retried as UNAVAILABLE.
pub const MAX_REQUEST_BYTES: usize = 1024 * 1024;
pub mod reflection;

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// Shared types.
pub mod common {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.common.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The event feed read by integrators.
pub mod events {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.events.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// Disputes, shared by two services.
pub mod dispute {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.dispute.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The petition office's service.
pub mod petition {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.petition.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// Public security's service.
pub mod public_security {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.public_security.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The political-legal committee's service.
pub mod political_legal {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.political_legal.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The demo clock.
pub mod demo {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.demo.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The district's unit directory.
pub mod directory {
    /// Version 1.
    pub mod v1 {
        tonic::include_proto!("oneledger.directory.v1");
    }
}

#[allow(missing_docs, clippy::all)] // generated code documents itself from the proto comments
/// The shared ledger's API.
pub mod ledger {
    /// Version 2: typed enums, dates and named statistics (v1's strings are gone).
    pub mod v2 {
        tonic::include_proto!("oneledger.ledger.v2");
    }
}

/// Google's common types (`google.type`), vendored under `proto/google/`.
pub mod google_type {
    /// `google.type.Date`, the legal (Beijing) day on the ledger's wire. Written here rather than
    /// generated: prost maps the package to this path (see `build.rs`) and, for an extern package,
    /// generates nothing; the message is three fixed fields that googleapis never changes.
    #[derive(Clone, Copy, PartialEq, Eq, Hash, ::prost::Message)]
    pub struct Date {
        /// Year, 1 to 9999.
        #[prost(int32, tag = "1")]
        pub year: i32,
        /// Month, 1 to 12.
        #[prost(int32, tag = "2")]
        pub month: i32,
        /// Day of the month, 1 to 31.
        #[prost(int32, tag = "3")]
        pub day: i32,
    }
}

/// The encoded `FileDescriptorSet` of every proto file, for the reflection service.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/oneledger_descriptor.bin"));
