//! The three agency gRPC services over their own event stores.
//!
//! Modules:
//! - `auth`: bearer tokens, callers and roles, re-exported from `oneledger-auth`;
//! - [`error`]: service errors and their gRPC statuses;
//! - [`repo`]: loading aggregates and executing commands (idempotent, optimistic);
//! - [`convert`]: wire ↔ domain conversions that name the field at fault;
//! - [`pii`]: sealing personal data under per-person keys, query codes;
//! - [`petition`]: the petition office's service;
//! - [`disputes`]: disputes on the wire, shared by two agencies;
//! - [`public_security`]: public security's service;
//! - [`political_legal`]: the political-legal committee's service;
//! - [`feed`]: `ReadEvents` for integrators;
//! - [`server`]: running a service with health, reflection and graceful shutdown.
//!
//! Invariants: the acting unit always comes from the caller's token, never a request body; an agency's
//! token writes only to its own service; nothing personal reaches an event in clear; store and broker error
//! text never reaches a client. Services know nothing of the projector.

pub use oneledger_auth as auth;
pub mod disputes;
pub mod error;
pub mod feed;
pub mod petition;
pub mod pii;
pub mod political_legal;
pub mod public_security;
pub mod repo;
pub mod server;

pub use auth::{Caller, Claims, Role, TokenKeys};
pub use error::ServiceError;
pub use server::{ServeError, Settings, serve};
