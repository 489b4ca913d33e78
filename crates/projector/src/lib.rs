//! The projector's read model of the district ledger (全区一本账).
//!
//! Modules:
//! - [`model`]: the pure ledger model — every agency's events applied to the items they concern, links
//!   grouping items under one root, a merged timeline; entries and deadlines read off it for a given day;
//! - [`ledger`]: the model kept in PostgreSQL or SQLite, each batch applied with its checkpoint in one
//!   transaction (exactly-once effect under at-least-once delivery), statements built by `QueryBuilder`;
//! - [`feed`]: where events come from — a store's own log (embedded) or a JetStream durable consumer;
//! - [`projector`]: the loop that applies a feed to the ledger, retrying a failed feed or ledger;
//! - [`api`]: the ledger gRPC API (list, get with timeline, watch, statistics read through
//!   `oneledger_domain::statistics`);
//! - [`directory`]: the unit directory's gRPC API, served beside the ledger's.
//!
//! Invariants: the model converges — applying the same events in any interleaving across streams (each
//! stream in its own order) gives the same ledger; applying an event twice changes nothing; the model holds
//! no personal data (person streams are never read, and petitioners appear only as pseudonymous refs).
//! The projector knows nothing of the services.

pub mod api;
pub mod dashboard;
pub mod directory;
pub mod feed;
#[cfg(test)]
mod fixtures;
pub mod health;
pub mod ledger;
pub mod model;
pub mod projector;

pub use ledger::{BatchOutcome, LedgerError, SqlLedger};
pub use model::{EntryView, Item, ItemState, LedgerModel, ProjectionError, TimelineEntry, item_of};
