//! The `oneledger` binary's roles as a library: `main` parses the one configuration and calls them; the
//! integration tests call them too, so `up` runs in-process on a clock a test drives.
//!
//! - [`config`]: the one configuration (clap, with `ONELEDGER_*` variables);
//! - [`up`]: the whole system in one process;
//! - [`rebuild`]: replaying every event into a fresh ledger (and `--verify`ing it against the live one);
//! - [`admin`]: an operator's status and parked events, against the databases;
//! - [`backup`]: `up`'s data directory copied while it runs, keys apart, and restored;
//! - [`client`]: `ledger` and `petition-status`, a running system's reader;
//! - [`demo`]: a realistic year loaded through the APIs;
//! - [`import`] (with `import_committee` and `import_joint`): a district's existing petition, dispute,
//!   supervision or joint-handling ledger (CSV/XLSX) brought in with its real dates;
//! - [`demo_clock`]: `up --demo-clock`, the clock a demo year moves (never a production start's).

pub mod admin;
pub mod backup;
pub mod client;
pub mod config;
pub mod demo;
pub mod demo_clock;
pub mod import;
mod import_committee;
mod import_joint;
pub mod rebuild;
pub mod up;
