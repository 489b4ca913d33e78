//! The binary's one configuration: command-line flags, each also read from an `ONELEDGER_*` variable.
//! Parsed once in `main` and passed down; nothing else reads the environment.

use clap::{Args, Parser, Subcommand, ValueEnum};
use oneledger_domain::Agency;

/// oneledger: one district, one ledger (全区一本账).
#[derive(Debug, Parser)]
#[command(name = "oneledger", version, about)]
pub struct Config {
    /// Log filter, in tracing's `EnvFilter` syntax.
    #[arg(long, env = "ONELEDGER_LOG", default_value = "info", global = true)]
    pub log: String,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The roles of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply the event store's migrations to a database and exit.
    Migrate(StoreArgs),
    /// Publish an agency store's events to its NATS JetStream stream (the outbox relay).
    Relay(RelayArgs),
}

/// Where an agency's event store lives.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Event store: `postgres://user@host/db` or `sqlite://path/to/file.db`.
    #[arg(long, env = "ONELEDGER_DATABASE_URL")]
    pub database_url: String,
}

/// The agencies, as command-line values.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgencyArg {
    /// 信访办.
    Petition,
    /// 公安.
    PublicSecurity,
    /// 政法委.
    PoliticalLegal,
}

impl From<AgencyArg> for Agency {
    fn from(a: AgencyArg) -> Self {
        match a {
            AgencyArg::Petition => Agency::Petition,
            AgencyArg::PublicSecurity => Agency::PublicSecurity,
            AgencyArg::PoliticalLegal => Agency::PoliticalLegal,
        }
    }
}

/// The relay's settings.
#[derive(Debug, Args)]
pub struct RelayArgs {
    /// The store to relay.
    #[command(flatten)]
    pub store: StoreArgs,
    /// Whose store it is; decides the stream (`ONELEDGER_<AGENCY>`).
    #[arg(long, env = "ONELEDGER_AGENCY", value_enum)]
    pub agency: AgencyArg,
    /// NATS server(s), comma-separated.
    #[arg(
        long,
        env = "ONELEDGER_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// Stream replicas: 1 on a single server, 3 on a cluster.
    #[arg(long, env = "ONELEDGER_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// This process's name in the relay lease; defaults to host name and process id.
    #[arg(long, env = "ONELEDGER_INSTANCE")]
    pub instance: Option<String>,
}
