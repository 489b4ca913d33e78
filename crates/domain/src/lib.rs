//! The oneledger domain: what a petition matter, a dispute, a joint handling and a supervision order are, and
//! which rules govern them. Pure: no I/O, no async, no clock, and nothing of sqlx, NATS or protobuf.
//!
//! Modules:
//! - [`agency`]: the three agencies that each own a service, an event store and a JetStream stream;
//! - [`ids`]: identifiers (units, persons by pseudonym, matters, disputes, orders);
//! - [`directory`]: the district's units, their kinds, hierarchy and reviewers (reference data, dated);
//! - [`clock`]: legal day counting, the holiday calendar, deadlines with pause and extension;
//! - [`aggregate`]: the decide/evolve shape every aggregate has, and the rules a decision consults;
//! - [`rule`]: the rules the domain enforces, each with its citation (`Rule::Art35` → `art. 35`);
//! - [`error`]: why a command is refused, naming the rule;
//! - [`petition`]: the petition matter (信访事项), from registration to lawful conclusion;
//! - [`dispute`]: disputes and risk warnings (矛盾纠纷 / 预警) from screening to verified resolution;
//! - [`joint`]: joint handling (三同步) by a lead unit and its co-handling units;
//! - [`supervision`]: supervision orders (督办函) and their escalation ladder;
//! - [`watch`]: the deadline watch (期限预警): thresholds passed, supervision proposals (督办建议);
//! - [`police`]: a police station's part in a joint handling, kept in public security's store;
//! - [`statistics`]: the annual report's figures — which events count as what, on time, collective, priority;
//! - [`role`], [`policy`]: the roles callers act in, and which steps each role may take;
//! - [`link`]: links between items of different agencies that are one matter (one root, never a tree).
//!
//! Invariants: `decide` and `evolve` are synchronous and free of side effects; time comes in with each
//! command; replaying an aggregate's events always rebuilds the state that decided them.

pub mod agency;
pub mod aggregate;
pub mod clock;
pub mod directory;
pub mod dispute;
pub mod error;
pub mod ids;
pub mod joint;
pub mod link;
pub mod petition;
pub mod police;
pub mod policy;
pub mod role;
pub mod rule;
pub mod statistics;
pub mod supervision;
#[cfg(test)]
mod testing;
pub mod watch;

pub use agency::{Agency, UnknownAgency};
pub use aggregate::{Aggregate, Command, DomainEvent, ReferenceDataError, Rules};
pub use clock::{Coverage, Deadline, DeadlineKind, HolidayCalendar, Period};
pub use directory::{DirectoryError, Unit, UnitDirectory, UnitKind, UnitRequirement};
pub use error::DomainError;
pub use ids::{
    DisputeId, ItemKind, ItemRef, JointHandlingId, MatterId, PersonRef, SupervisionOrderId, UnitId,
    streams,
};
pub use role::Role;
pub use rule::Rule;
