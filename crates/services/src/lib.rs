//! The three agency gRPC services over their own event stores.
//!
//! Modules:
//! - `auth`: bearer tokens, callers, the authentication layer, re-exported from `oneledger-auth`;
//! - [`call`]: a caller's correlation id (`x-correlation-id`), carried into the events of its calls;
//! - [`error`]: service errors and their gRPC statuses;
//! - [`repo`]: loading aggregates and executing commands (idempotent, optimistic);
//! - [`pii`]: sealing personal data under per-person keys, query codes;
//! - [`petition`]: the petition office's service;
//! - [`dispute_import`]: a district's existing dispute ledger brought into the committee's store;
//! - [`disputes`]: disputes on the wire, shared by two agencies;
//! - [`public_security`]: public security's service;
//! - [`political_legal`]: the political-legal committee's service;
//! - [`order_import`]: a district's existing supervision ledger, each order about an item imported before;
//! - [`proposals`]: the deadline watch's records and supervision proposals, issued or dismissed by a person;
//! - [`watcher`]: the deadline watcher, one per district, reading the ledger;
//! - [`items`]: whether the items a command names exist where they are kept;
//! - [`joiner`]: the committee's service joining repeat petitions to their originals' entries;
//! - [`import`]: what importing a district's existing ledgers shares (dates, errors by row field);
//! - [`feed`]: `ReadEvents` for integrators;
//! - [`server`]: running a service with authentication, health, reflection and graceful shutdown.
//!
//! Requests are read into the domain by `oneledger_proto::convert`, and who may take a step is
//! `oneledger_domain::policy::roles`: a handler maps, asks, and lets the domain decide.
//!
//! Invariants: the acting unit always comes from the caller's token, never a request body; an agency's
//! token writes only to its own service; nothing personal reaches an event in clear; store and broker error
//! text never reaches a client. Services know nothing of the projector.

pub use oneledger_auth as auth;
pub mod call;
pub mod dispute_import;
pub mod disputes;
pub mod error;
pub mod feed;
pub mod import;
pub mod items;
pub mod joiner;
pub mod joint_import;
pub mod order_import;
pub mod petition;
pub mod pii;
pub mod political_legal;
pub mod proposals;
pub mod public_security;
pub mod repo;
pub mod server;
pub mod watcher;

pub use auth::{Caller, Claims, DevIssuer, Role, TokenSource, Verifier};
pub use error::ServiceError;
pub use server::{ServeError, Settings, serve};
