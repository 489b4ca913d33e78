//! The binary's one configuration: command-line flags, each also read from an `ONELEDGER_*` variable.
//! Parsed once in `main` and passed down; nothing else reads the environment.

use std::net::SocketAddr;

use clap::{Args, Parser, Subcommand, ValueEnum};
use oneledger_domain::Agency;

/// oneledger: one district, one ledger (全区一本账).
#[derive(Debug, Parser)]
#[command(name = "oneledger", version, about)]
pub struct Config {
    /// Log filter, in tracing's `EnvFilter` syntax.
    #[arg(long, env = "ONELEDGER_LOG", default_value = "info", global = true)]
    pub log: String,
    /// Log lines as text for a terminal, or as one JSON object per line for a log pipeline.
    #[arg(
        long,
        env = "ONELEDGER_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// How log lines are written (to stderr).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line (timestamp, level, target, fields, span).
    Json,
}

/// A process's admin port: metrics for the platform's scraper, apart from the service ports.
#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Address of the admin port (`GET /metrics`, Prometheus text format); none when unset.
    #[arg(long, env = "ONELEDGER_ADMIN_LISTEN")]
    pub admin_listen: Option<SocketAddr>,
}

impl AdminArgs {
    /// Serves the admin port, if one is configured, until `stop`.
    pub async fn spawn(&self, stop: tokio_util::sync::CancellationToken) -> anyhow::Result<()> {
        use anyhow::Context;
        let Some(address) = self.admin_listen else {
            return Ok(());
        };
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding the admin port {address}"))?;
        tracing::info!(%address, "admin port: /metrics");
        tokio::spawn(async move {
            if let Err(e) = oneledger_metrics::admin::serve(listener, stop.cancelled_owned()).await
            {
                tracing::error!(error = %e, "the admin port failed");
            }
        });
        Ok(())
    }
}

/// The roles of the binary.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: the three services, the projector and the ledger API, on SQLite
    /// files in a data directory, with no broker to install.
    Up(UpArgs),
    /// Run the projector: every agency's JetStream stream into the ledger, and the ledger API.
    Project(ProjectArgs),
    /// Replay every event from the start into a fresh ledger, then swap it in (embedded) or leave it for
    /// `project` to use (NATS).
    Rebuild(RebuildArgs),
    /// Run the petition office's service (信访办).
    Petition(ServiceArgs),
    /// Run public security's service (公安).
    PublicSecurity(ServiceArgs),
    /// Run the political-legal committee's service (政法委).
    PoliticalLegal(ServiceArgs),
    /// Apply the event store's migrations to a database and exit.
    Migrate(StoreArgs),
    /// Publish an agency store's events to its NATS JetStream stream (the outbox relay) on its own.
    Relay(RelayArgs),
    /// Read the ledger of a running system: list, show, stats.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Load a realistic year for a district into a running system through its gRPC APIs, then print the
    /// ledger's statistics beside the annual report's figures.
    Demo(DemoArgs),
    /// Ask a petition's status with its receipt number and query code, as a petitioner would.
    PetitionStatus(PetitionStatusArgs),
    /// Print a bearer token signed by the dev issuer (`up`'s key, or `--signing-key`), for local use.
    Token(TokenArgs),
    /// Copy `up`'s data directory while it runs: its databases into one place, its keys into another.
    Backup(BackupArgs),
    /// Put a backup (and its keys) into an empty data directory.
    Restore(RestoreArgs),
    /// What an operator reads and does: the system's status, and events the projector parked.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the public key set (JWKS) of a signing key: what services given `--jwks-file` verify with.
    Jwks(SigningArgs),
    /// Import a district's existing petition ledger (信访事项台账), dispute ledger (矛盾纠纷台账),
    /// supervision ledger (督办台账) or joint-handling ledger (联合处置台账) with its real dates: CSV or
    /// XLSX with the template's Chinese headers (docs/import/*.csv). The whole file is checked first; a
    /// file with errors writes nothing.
    Import(ImportArgs),
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

/// How a service or the ledger checks callers' tokens: against the issuer's published key set. They
/// never sign one (docs/identity.md: plugging in a district's identity provider).
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The issuer's public keys, a JWKS file (an OIDC provider's `jwks_uri` document, or `up`'s
    /// `jwks.json`); re-read when it changes, so a provider's key rotation needs no restart.
    #[arg(long, env = "ONELEDGER_JWKS_FILE")]
    pub jwks_file: std::path::PathBuf,
    /// The issuer tokens must name (`iss`), exactly: the provider's issuer URL, or `oneledger-dev`.
    #[arg(long, env = "ONELEDGER_TOKEN_ISSUER")]
    pub token_issuer: String,
    /// The audience tokens must include (`aud`).
    #[arg(long, env = "ONELEDGER_TOKEN_AUDIENCE", default_value = oneledger_services::auth::DEFAULT_AUDIENCE)]
    pub token_audience: String,
}

impl VerifyArgs {
    /// How often the JWKS file is looked at for a change.
    const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

    /// The verifier of tokens for `district`, following the JWKS file until `stop`.
    pub fn verifier(
        &self,
        district: &str,
        stop: tokio_util::sync::CancellationToken,
    ) -> anyhow::Result<oneledger_services::Verifier> {
        let expected = oneledger_services::auth::Expected {
            issuer: self.token_issuer.clone(),
            audience: self.token_audience.clone(),
            district: district.to_owned(),
        };
        let verifier = oneledger_services::Verifier::from_jwks_file(&self.jwks_file, expected)?;
        tokio::spawn(verifier.clone().follow_jwks_file(
            self.jwks_file.clone(),
            Self::FOLLOW_EVERY,
            stop,
        ));
        Ok(verifier)
    }
}

/// The dev issuer's key a command of ours signs its calls with: `up`'s, in its data directory, unless
/// another is named.
#[derive(Debug, Args)]
pub struct SigningArgs {
    /// `up`'s data directory, whose `issuer.pem` signs.
    #[arg(long, env = "ONELEDGER_DATA_DIR", default_value = "oneledger-data")]
    pub data_dir: std::path::PathBuf,
    /// An Ed25519 PKCS#8 PEM private key to sign with instead (`openssl genpkey -algorithm ed25519`);
    /// its public key must be in the JWKS the system verifies against.
    #[arg(long, env = "ONELEDGER_SIGNING_KEY")]
    pub signing_key: Option<std::path::PathBuf>,
}

impl SigningArgs {
    /// The dev issuer of `district` whose key this names; never creates one.
    pub fn issuer(&self, district: &str) -> anyhow::Result<oneledger_services::DevIssuer> {
        use anyhow::Context;
        let path = self
            .signing_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join(crate::up::ISSUER_KEY_FILE));
        let pem = std::fs::read(&path).with_context(|| {
            format!(
                "reading the signing key {} (start `oneledger up` once, or pass --signing-key)",
                path.display()
            )
        })?;
        Ok(oneledger_services::DevIssuer::from_pem(&pem, district)?)
    }
}

/// A service's settings.
#[derive(Debug, Args)]
pub struct ServiceArgs {
    /// The agency's store.
    #[command(flatten)]
    pub store: StoreArgs,
    /// How callers' tokens are verified.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// Address to serve gRPC on.
    #[arg(long, env = "ONELEDGER_LISTEN", default_value = "127.0.0.1:50051")]
    pub listen: SocketAddr,
    /// The district this deployment serves: lowercase letters, digits and `_`.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// Master key wrapping personal-data keys, 64 hex digits (petition service only).
    #[arg(long, env = "ONELEDGER_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Key persons' pseudonyms are derived under, 64 hex digits (petition service only); kept like the
    /// master key. Changing it gives every person a new ref from then on.
    #[arg(long, env = "ONELEDGER_PSEUDONYM_KEY", hide_env_values = true)]
    pub pseudonym_key: Option<String>,
    /// NATS server(s); when set, the service's events are relayed to its JetStream stream.
    #[arg(long, env = "ONELEDGER_NATS_URL")]
    pub nats_url: Option<String>,
    /// Stream replicas: 1 on a single server, 3 on a cluster.
    #[arg(long, env = "ONELEDGER_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// The calendar and the unit directory.
    #[command(flatten)]
    pub rules: RulesArgs,
    /// The ledger API the political-legal service's deadline watcher reads; no watcher when unset.
    #[arg(long, env = "ONELEDGER_LEDGER_ADDRESS")]
    pub ledger_address: Option<String>,
    /// The deadline watcher's token for the ledger API, issued by the district's identity provider to
    /// the political-legal committee's unit with the coordinator and supervisor roles; re-read before
    /// every look, so the platform may renew it in place.
    #[arg(
        long,
        env = "ONELEDGER_WATCHER_TOKEN_FILE",
        requires = "ledger_address"
    )]
    pub watcher_token_file: Option<std::path::PathBuf>,
    /// The deadline watcher.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// The admin port.
    #[command(flatten)]
    pub admin: AdminArgs,
    /// TLS on the service's port.
    #[command(flatten)]
    pub tls: TlsArgs,
    /// TLS to NATS.
    #[command(flatten)]
    pub nats_tls: NatsTlsArgs,
    /// TLS to the ledger API (the deadline watcher).
    #[command(flatten)]
    pub client_tls: ClientTlsArgs,
}

/// The reference data every role decides or shows by: the legal calendar and the district's units.
#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Holiday calendar file (`YYYY-MM-DD holiday|workday`); the shipped one for mainland China if unset.
    #[arg(long, env = "ONELEDGER_CALENDAR")]
    pub calendar: Option<std::path::PathBuf>,
    /// Unit directory file (CSV: `id,name,name_en,kind,parent,reviewer,territories,valid_from,valid_to`);
    /// the shipped Binhai New Area sample if unset.
    #[arg(long, env = "ONELEDGER_UNITS")]
    pub units: Option<std::path::PathBuf>,
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
    /// This process's name in the relay lease; defaults to the agency and process id.
    #[arg(long, env = "ONELEDGER_INSTANCE")]
    pub instance: Option<String>,
    /// TLS to NATS.
    #[command(flatten)]
    pub nats_tls: NatsTlsArgs,
    /// The admin port.
    #[command(flatten)]
    pub admin: AdminArgs,
}

/// What a dev token says.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// The key that signs.
    #[command(flatten)]
    pub signing: SigningArgs,
    /// The district the token acts in.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// The agency whose system the caller uses.
    #[arg(long, value_enum)]
    pub agency: AgencyArg,
    /// The caller's unit.
    #[arg(long)]
    pub unit: String,
    /// Roles, comma-separated (intake_clerk, handler, reviewer, supervisor, coordinator, police_officer,
    /// viewer, pii_reader, auditor).
    #[arg(long = "role", value_delimiter = ',', required = true)]
    pub roles: Vec<String>,
    /// Who the token is for.
    #[arg(long, default_value = "dev")]
    pub subject: String,
    /// Hours until it expires (at most 30 days: a dev token is not a credential to keep).
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub hours: u64,
}

/// `up`'s settings.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Where the stores, the ledger and the generated keys live; restarting keeps them.
    #[arg(long, env = "ONELEDGER_DATA_DIR", default_value = "oneledger-data")]
    pub data_dir: std::path::PathBuf,
    /// Address of the ledger API; the petition, public-security and political-legal services take the
    /// next three ports.
    #[arg(long, env = "ONELEDGER_LISTEN", default_value = "127.0.0.1:50050")]
    pub listen: SocketAddr,
    /// What browsers of other origins may do on the ledger's port.
    #[command(flatten)]
    pub web: WebArgs,
    /// The district: lowercase letters, digits and `_`.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// NATS server(s); when set, events are relayed to JetStream and the projector reads the streams.
    #[arg(long, env = "ONELEDGER_NATS_URL")]
    pub nats_url: Option<String>,
    /// Stream replicas with `--nats-url`: 1 on a single server, 3 on a cluster.
    #[arg(long, env = "ONELEDGER_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// A PostgreSQL server (`postgres://user@host/db`) instead of SQLite files: each agency's store and
    /// the ledger get a database of their own on it, `<db>_<agency>` and `<db>_ledger`, created if missing.
    #[arg(long, env = "ONELEDGER_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The calendar and the unit directory.
    #[command(flatten)]
    pub rules: RulesArgs,
    /// Seconds the ledger may fall behind a store before its health says NOT_SERVING.
    #[arg(long, env = "ONELEDGER_MAX_BEHIND_SECONDS", default_value_t = 60)]
    pub max_behind_seconds: u64,
    /// TLS on the services' and the ledger's ports (plaintext on loopback by default).
    #[command(flatten)]
    pub tls: TlsArgs,
    /// TLS to NATS.
    #[command(flatten)]
    pub nats_tls: NatsTlsArgs,
    /// TLS from the deadline watcher to this process's ledger port, when it speaks TLS.
    #[command(flatten)]
    pub client_tls: ClientTlsArgs,
    /// The admin port (none by default).
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The deadline watcher.
    #[command(flatten)]
    pub watch: WatchArgs,
    /// Run a demo data directory on a clock a year behind, which `oneledger demo` moves forward as it
    /// loads its year (served on the port after the services'). Refused on PostgreSQL and on a
    /// directory holding data from a start without it; a directory started with it is refused
    /// without it.
    #[arg(long, env = "ONELEDGER_DEMO_CLOCK")]
    pub demo_clock: bool,
}

/// `import`'s settings.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ledger file: `.csv` (UTF-8) or `.xlsx`, first row the template's header.
    pub file: std::path::PathBuf,
    /// Check every row and report every error; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// The district.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// The unit importing: the petition office that registered and assigned the matters, or the
    /// committee that screened and assigned the disputes; the district's own if unset.
    #[arg(long)]
    pub unit: Option<String>,
    /// The key that signs the calls.
    #[command(flatten)]
    pub signing: SigningArgs,
    /// The petition service.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub petition_address: String,
    /// The ledger API (its directory resolves unit names).
    #[arg(long, default_value = "http://127.0.0.1:50050")]
    pub ledger_address: String,
    /// The political-legal service (a dispute ledger).
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    pub political_legal_address: String,
}

/// The deadline watcher's settings (the political-legal committee's service runs it).
#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Working days before a deadline's last day that its "due soon" is recorded.
    #[arg(long, env = "ONELEDGER_DUE_SOON_DAYS", default_value_t = 3,
          value_parser = clap::value_parser!(u32).range(1..=30))]
    pub due_soon_days: u32,
    /// Seconds between the watcher's looks at the ledger's deadlines.
    #[arg(long, env = "ONELEDGER_WATCH_EVERY_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub watch_every_seconds: u64,
}

impl WatchArgs {
    /// The watcher's settings, reading the ledger API at `ledger_address`.
    pub fn settings(
        &self,
        ledger_address: String,
        credential: std::sync::Arc<dyn oneledger_services::TokenSource>,
    ) -> oneledger_services::watcher::WatchSettings {
        oneledger_services::watcher::WatchSettings {
            ledger_address,
            credential,
            ledger_tls: None,
            due_soon: oneledger_domain::Period::working(self.due_soon_days),
            every: std::time::Duration::from_secs(self.watch_every_seconds),
        }
    }
}

/// The projector's settings.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// The ledger: `postgres://…` or `sqlite://…`.
    #[arg(long, env = "ONELEDGER_LEDGER_URL")]
    pub ledger_url: String,
    /// NATS server(s).
    #[arg(
        long,
        env = "ONELEDGER_NATS_URL",
        default_value = "nats://127.0.0.1:4222"
    )]
    pub nats_url: String,
    /// How callers' tokens are verified.
    #[command(flatten)]
    pub verify: VerifyArgs,
    /// The district this ledger serves.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// Address of the ledger API.
    #[arg(long, env = "ONELEDGER_LISTEN", default_value = "127.0.0.1:50050")]
    pub listen: SocketAddr,
    /// What browsers of other origins may do on the ledger's port.
    #[command(flatten)]
    pub web: WebArgs,
    /// Stream replicas, should the projector be first to create a stream: 1 on a single server, 3 on a
    /// cluster.
    #[arg(long, env = "ONELEDGER_STREAM_REPLICAS", default_value_t = 1)]
    pub stream_replicas: usize,
    /// Seconds the ledger may fall behind a feed (its oldest unapplied event's age) before its health
    /// says NOT_SERVING.
    #[arg(long, env = "ONELEDGER_MAX_BEHIND_SECONDS", default_value_t = 60)]
    pub max_behind_seconds: u64,
    /// TLS on the ledger's port.
    #[command(flatten)]
    pub tls: TlsArgs,
    /// TLS to NATS.
    #[command(flatten)]
    pub nats_tls: NatsTlsArgs,
    /// The admin port.
    #[command(flatten)]
    pub admin: AdminArgs,
    /// The calendar and the unit directory.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// `backup`'s settings.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// `up`'s data directory.
    #[arg(long, env = "ONELEDGER_DATA_DIR", default_value = "oneledger-data")]
    pub data_dir: std::path::PathBuf,
    /// A new directory for the databases.
    #[arg(long)]
    pub to: std::path::PathBuf,
    /// A new directory, apart from `--to`, for the keys (master, pseudonym, dev issuer); unset, they are
    /// not copied and must be kept safe on their own.
    #[arg(long)]
    pub keys_to: Option<std::path::PathBuf>,
}

/// `restore`'s settings.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup's directory (`backup --to`).
    #[arg(long)]
    pub from: std::path::PathBuf,
    /// The keys' directory (`backup --keys-to`).
    #[arg(long)]
    pub keys_from: Option<std::path::PathBuf>,
    /// The empty data directory to restore into.
    #[arg(long, env = "ONELEDGER_DATA_DIR")]
    pub data_dir: std::path::PathBuf,
}

/// Where a system's databases are, for an operator's command run where it can reach them.
#[derive(Debug, Args)]
pub struct SystemArgs {
    /// `up`'s data directory: its ledger and stores are the SQLite files there.
    #[arg(long, env = "ONELEDGER_DATA_DIR", conflicts_with = "ledger_url")]
    pub data_dir: Option<std::path::PathBuf>,
    /// The ledger's database, when the parts run on their own.
    #[arg(long, env = "ONELEDGER_LEDGER_URL")]
    pub ledger_url: Option<String>,
    /// An agency's event store, as `agency=url` (`petition=postgres://…/petition`); repeat for each.
    #[arg(long = "store", value_parser = parse_store, requires = "ledger_url")]
    pub stores: Vec<(Agency, String)>,
}

fn parse_store(raw: &str) -> Result<(Agency, String), String> {
    let (agency, url) = raw
        .split_once('=')
        .ok_or_else(|| format!("{raw:?}: give agency=url, e.g. petition=postgres://…/petition"))?;
    let agency = agency.trim().parse::<Agency>().map_err(|e| e.to_string())?;
    Ok((agency, url.trim().to_owned()))
}

impl SystemArgs {
    /// The ledger's database URL.
    pub fn ledger_url(&self) -> anyhow::Result<String> {
        match (&self.data_dir, &self.ledger_url) {
            (Some(dir), None) => Ok(format!("sqlite://{}", dir.join("ledger.db").display())),
            (None, Some(url)) => Ok(url.clone()),
            _ => anyhow::bail!(
                "give --data-dir, or --ledger-url (with --store agency=url for each store)"
            ),
        }
    }

    /// Each agency's store URL that is known.
    pub fn store_urls(&self) -> Vec<(Agency, String)> {
        match &self.data_dir {
            Some(dir) => Agency::ALL
                .into_iter()
                .map(|a| {
                    (
                        a,
                        format!("sqlite://{}", dir.join(format!("{a}.db")).display()),
                    )
                })
                .collect(),
            None => self.stores.clone(),
        }
    }
}

/// An operator's commands.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Feeds' checkpoints against the stores' heads, relays' positions and leases, parked events, the
    /// calendar's coverage.
    Status {
        /// Where the databases are.
        #[command(flatten)]
        system: SystemArgs,
        /// The calendar.
        #[command(flatten)]
        rules: RulesArgs,
    },
    /// Events the projector could not apply.
    #[command(subcommand)]
    Parked(ParkedCommand),
}

/// What an operator does with parked events.
#[derive(Debug, Subcommand)]
pub enum ParkedCommand {
    /// List every parked event and what operators did with parked events before.
    List {
        /// Where the databases are.
        #[command(flatten)]
        system: SystemArgs,
    },
    /// Apply one parked event now that this binary can read it: its item's whole stream is read from its
    /// store and projected again (the events after it were applied without it), and the retry recorded.
    Retry(ParkedEventArgs),
    /// Remove one parked event from the queue for good, recording who, why and the event itself.
    Drop(ParkedEventArgs),
}

/// One parked event, and who acts on it and why (both recorded).
#[derive(Debug, Args)]
pub struct ParkedEventArgs {
    /// Where the databases are (for a retry, the event's store too).
    #[command(flatten)]
    pub system: SystemArgs,
    /// The event: whose store …
    #[arg(long, value_enum)]
    pub agency: AgencyArg,
    /// … and its position there.
    #[arg(long)]
    pub position: u64,
    /// Who acts (recorded).
    #[arg(long)]
    pub operator: String,
    /// Why (recorded): for a retry, what was fixed.
    #[arg(long)]
    pub why: String,
}

/// `rebuild`'s settings.
#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Rebuild `up`'s ledger from the stores in this data directory, then swap it in (stop `up` first).
    #[arg(long, env = "ONELEDGER_DATA_DIR", conflicts_with_all = ["nats_url", "ledger_url"])]
    pub data_dir: Option<std::path::PathBuf>,
    /// Replay the agencies' JetStream streams from sequence 1 …
    #[arg(long, env = "ONELEDGER_NATS_URL", requires = "ledger_url")]
    pub nats_url: Option<String>,
    /// … into this fresh ledger, which `project` then uses.
    #[arg(long, env = "ONELEDGER_LEDGER_URL")]
    pub ledger_url: Option<String>,
    /// Compare a digest of the rebuilt ledger with the live one's (items, links, timelines) and fail
    /// when they differ; with `--data-dir` the live ledger stays in place and the rebuilt one is kept
    /// beside it as `ledger.rebuild.db`.
    #[arg(long)]
    pub verify: bool,
    /// TLS to NATS.
    #[command(flatten)]
    pub nats_tls: NatsTlsArgs,
    /// With `--nats-url`: the live ledger `--verify` compares with.
    #[arg(long, requires_all = ["verify", "nats_url"])]
    pub live_ledger_url: Option<String>,
}

/// Where the ledger API is and who asks.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The ledger API.
    #[arg(
        long,
        env = "ONELEDGER_LEDGER_ADDRESS",
        default_value = "http://127.0.0.1:50050"
    )]
    pub address: String,
    /// A bearer token (see `oneledger token`, or the one `up` prints).
    #[arg(long, env = "ONELEDGER_TOKEN", hide_env_values = true)]
    pub token: String,
    /// TLS to the ledger API (`https://` addresses).
    #[command(flatten)]
    pub tls: ClientTlsArgs,
}

/// The ledger client's commands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// List entries as a table.
    List {
        /// Who asks, and where.
        #[command(flatten)]
        client: ClientArgs,
        /// Which entries, in what order.
        #[command(flatten)]
        filter: EntryFilterArgs,
        /// Entries to show (every page is read until this many).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Show one entry with its deadlines and timeline.
    Show {
        /// Who asks, and where.
        #[command(flatten)]
        client: ClientArgs,
        /// Any item of the entry, as `<kind>:<id>` (petition_matter, dispute, joint_handling, supervision_order).
        item: String,
    },
    /// Follow entries as they change, one line each, until interrupted.
    Watch {
        /// Who asks, and where.
        #[command(flatten)]
        client: ClientArgs,
        /// Resume after this cursor (printed with every line); 0 replays every entry first.
        #[arg(long, default_value_t = 0)]
        after: u64,
    },
    /// Statistics for a period.
    Stats {
        /// Who asks, and where.
        #[command(flatten)]
        client: ClientArgs,
        /// The period and unit.
        #[command(flatten)]
        period: PeriodArgs,
    },
    /// Write a list of entries (the default) or the statistics (`--stats`) as a spreadsheet with
    /// Chinese headers, in a unit ledger's column order; the ledger records the export.
    Export {
        /// Who asks, and where.
        #[command(flatten)]
        client: ClientArgs,
        /// xlsx or csv.
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Xlsx)]
        format: ExportFormatArg,
        /// The file to write; the name the ledger gives (e.g. 台账-20261202-0930.xlsx) by default.
        #[arg(long)]
        out: Option<std::path::PathBuf>,
        /// Which entries, in what order.
        #[command(flatten)]
        filter: EntryFilterArgs,
        /// Export the statistics of `--from`/`--to` instead of a list.
        #[arg(long, requires_all = ["from", "to"])]
        stats: bool,
        /// First day of the statistics (ISO date).
        #[arg(long)]
        from: Option<chrono::NaiveDate>,
        /// Last day of the statistics (ISO date).
        #[arg(long)]
        to: Option<chrono::NaiveDate>,
    },
}

/// Which entries a list or an export holds, and in what order.
#[derive(Debug, Clone, Args)]
pub struct EntryFilterArgs {
    /// Only this unit's ledger (with the units below it).
    #[arg(long, default_value = "")]
    pub unit: String,
    /// Only entries arising in this zone, sub-district or town.
    #[arg(long, default_value = "")]
    pub territory: String,
    /// Only open or closed entries.
    #[arg(long, value_enum)]
    pub status: Option<StatusArg>,
    /// Only entries with an overdue deadline of a unit's duty.
    #[arg(long)]
    pub overdue: bool,
    /// Only entries with an open deadline due on or before this day (ISO date).
    #[arg(long)]
    pub due_before: Option<chrono::NaiveDate>,
    /// Only entries assessed at this risk or higher: low, medium, high or major.
    #[arg(long, value_enum)]
    pub min_risk: Option<RiskArg>,
    /// Only entries whose title holds this text.
    #[arg(long, default_value = "")]
    pub title: String,
    /// The order.
    #[arg(long, value_enum, default_value_t = OrderArg::Root)]
    pub order: OrderArg,
}

/// A period and a unit of statistics.
#[derive(Debug, Clone, Args)]
pub struct PeriodArgs {
    /// First day (ISO date).
    #[arg(long)]
    pub from: chrono::NaiveDate,
    /// Last day (ISO date).
    #[arg(long)]
    pub to: chrono::NaiveDate,
    /// Only this unit.
    #[arg(long, default_value = "")]
    pub unit: String,
    /// Count only what was recorded live, not what was imported.
    #[arg(long)]
    pub exclude_imported: bool,
}

/// An entry's status in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusArg {
    /// 未办结.
    Open,
    /// 已办结.
    Closed,
}

/// A risk level in a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RiskArg {
    /// 低.
    Low,
    /// 中.
    Medium,
    /// 高.
    High,
    /// 重大.
    Major,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OrderArg {
    /// By root item.
    Root,
    /// Earliest open deadline first.
    NextDue,
    /// Highest risk first.
    Risk,
    /// Latest change first.
    LastChange,
    /// Latest registered first.
    Registered,
}

/// A spreadsheet format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormatArg {
    /// Excel workbook.
    Xlsx,
    /// UTF-8 CSV with a byte-order mark.
    Csv,
}

/// A petitioner's lookup.
#[derive(Debug, Args)]
pub struct PetitionStatusArgs {
    /// The petition service.
    #[arg(
        long,
        env = "ONELEDGER_PETITION_ADDRESS",
        default_value = "http://127.0.0.1:50051"
    )]
    pub address: String,
    /// Receipt number.
    pub receipt: String,
    /// Query code.
    pub code: String,
}

/// `demo`'s settings.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The seed that decides the year: the same seed loads the same year.
    #[arg(long, default_value_t = 2024)]
    pub seed: u64,
    /// Petitions to register (besides those the report's disputes bring).
    #[arg(long, default_value_t = 2400)]
    pub petitions: usize,
    /// Stories loaded at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The district: lowercase letters, digits and `_`.
    #[arg(long, env = "ONELEDGER_DISTRICT", default_value = "binhai")]
    pub district: String,
    /// The key that signs the calls.
    #[command(flatten)]
    pub signing: SigningArgs,
    /// The ledger API.
    #[arg(long, default_value = "http://127.0.0.1:50050")]
    pub ledger_address: String,
    /// The petition service.
    #[arg(long, default_value = "http://127.0.0.1:50051")]
    pub petition_address: String,
    /// The public-security service.
    #[arg(long, default_value = "http://127.0.0.1:50052")]
    pub public_security_address: String,
    /// The political-legal service.
    #[arg(long, default_value = "http://127.0.0.1:50053")]
    pub political_legal_address: String,
    /// The demo clock of `up --demo-clock`; without one the year is loaded today.
    #[arg(long, default_value = "http://127.0.0.1:50054")]
    pub demo_clock_address: String,
    /// Seconds to wait for the ledger to show the load.
    #[arg(long, default_value_t = 120)]
    pub wait_seconds: u64,
}

impl RulesArgs {
    /// Reads the calendar and the directory, each from its file or the shipped one. A file that does not
    /// read stops the process with the line named.
    pub fn load(&self) -> anyhow::Result<oneledger_domain::Rules> {
        use anyhow::Context;
        use oneledger_domain::{HolidayCalendar, UnitDirectory, directory};
        let read = |path: &std::path::Path| {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
        };
        let calendar = match &self.calendar {
            Some(path) => HolidayCalendar::parse(&read(path)?)
                .with_context(|| format!("reading {}", path.display()))?,
            None => HolidayCalendar::china().context("the shipped holiday calendar")?,
        };
        let directory = match &self.units {
            Some(path) => directory::load::parse(&path.display().to_string(), &read(path)?)?,
            None => UnitDirectory::binhai().context("the shipped unit directory")?,
        };
        let coverage = calendar.coverage();
        tracing::info!(
            first_year = coverage.first_year,
            last_year = coverage.last_year,
            source = %coverage.source,
            "holiday calendar loaded"
        );
        let today = oneledger_clock::Clock::system().today();
        if let Some(warning) = coverage.warning(today) {
            tracing::warn!("{warning}");
        }
        Ok(oneledger_domain::Rules::new(calendar, directory))
    }
}

/// Browsers on the ledger's port.
#[derive(Debug, Clone, Args)]
pub struct WebArgs {
    /// An origin whose pages may call the ledger API from a browser (CORS), e.g.
    /// `https://dashboard.binhai.gov.cn`; repeat, or separate by commas. None by default: only the
    /// dashboard the port serves itself calls it.
    #[arg(
        long = "allow-origin",
        env = "ONELEDGER_ALLOW_ORIGINS",
        value_delimiter = ',',
        value_parser = parse_origin
    )]
    pub allow_origins: Vec<http::HeaderValue>,
}

impl WebArgs {
    /// The ledger port's settings, served with `tls` when given.
    pub fn settings(
        &self,
        tls: Option<tonic::transport::ServerTlsConfig>,
    ) -> oneledger_projector::api::WebSettings {
        oneledger_projector::api::WebSettings {
            allow_origins: self.allow_origins.clone(),
            tls,
        }
    }
}

/// TLS on a process's gRPC ports; plaintext without it (`up` on loopback).
#[derive(Debug, Args)]
pub struct TlsArgs {
    /// The port's certificate chain (PEM); with `--tls-key`, the process's gRPC ports speak TLS only.
    #[arg(long, env = "ONELEDGER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "ONELEDGER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<std::path::PathBuf>,
    /// A CA whose client certificates every caller must present (mutual TLS between the district's
    /// systems); without it, callers need only a token.
    #[arg(long, env = "ONELEDGER_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<std::path::PathBuf>,
}

fn read_pem(path: &std::path::Path, what: &str) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    std::fs::read(path).with_context(|| format!("reading the {what} {}", path.display()))
}

impl TlsArgs {
    /// The servers' TLS, if configured.
    pub fn server(&self) -> anyhow::Result<Option<tonic::transport::ServerTlsConfig>> {
        use tonic::transport::{Certificate, Identity, ServerTlsConfig};
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let identity =
            Identity::from_pem(read_pem(cert, "--tls-cert")?, read_pem(key, "--tls-key")?);
        let mut tls = ServerTlsConfig::new().identity(identity);
        if let Some(ca) = &self.tls_client_ca {
            tls = tls.client_ca_root(Certificate::from_pem(read_pem(ca, "--tls-client-ca")?));
        }
        Ok(Some(tls))
    }
}

/// TLS to NATS (`tls://` URLs, or any URL once a CA is given).
#[derive(Debug, Args)]
pub struct NatsTlsArgs {
    /// The CA of the NATS servers' certificates (PEM); given, the connection must be TLS.
    #[arg(long, env = "ONELEDGER_NATS_CA")]
    pub nats_ca: Option<std::path::PathBuf>,
    /// This process's client certificate for NATS (PEM), where the servers verify clients.
    #[arg(long, env = "ONELEDGER_NATS_CLIENT_CERT", requires_all = ["nats_client_key", "nats_ca"])]
    pub nats_client_cert: Option<std::path::PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "ONELEDGER_NATS_CLIENT_KEY", requires = "nats_client_cert")]
    pub nats_client_key: Option<std::path::PathBuf>,
}

impl NatsTlsArgs {
    /// Connects to NATS at `url` as `name`, over TLS when configured.
    pub async fn connect(
        &self,
        url: &str,
        name: &str,
    ) -> Result<oneledger_bus::Connected, oneledger_bus::BusError> {
        let tls = self.nats_ca.clone().map(|ca| oneledger_bus::NatsTls {
            ca,
            client: self
                .nats_client_cert
                .clone()
                .zip(self.nats_client_key.clone()),
        });
        oneledger_bus::connect_with(url, name, tls.as_ref()).await
    }
}

/// TLS from a process of ours to a gRPC port (`https://` addresses).
#[derive(Debug, Args)]
pub struct ClientTlsArgs {
    /// The CA the ports' certificates are checked against (PEM); the system's roots are not used.
    #[arg(long, env = "ONELEDGER_TLS_CA")]
    pub tls_ca: Option<std::path::PathBuf>,
    /// This client's certificate (PEM), where the ports require one.
    #[arg(long, env = "ONELEDGER_TLS_CLIENT_CERT", requires_all = ["tls_client_key", "tls_ca"])]
    pub tls_client_cert: Option<std::path::PathBuf>,
    /// Its private key (PEM).
    #[arg(long, env = "ONELEDGER_TLS_CLIENT_KEY", requires = "tls_client_cert")]
    pub tls_client_key: Option<std::path::PathBuf>,
}

impl ClientTlsArgs {
    /// The clients' TLS, if configured.
    pub fn client(&self) -> anyhow::Result<Option<tonic::transport::ClientTlsConfig>> {
        use tonic::transport::{Certificate, ClientTlsConfig, Identity};
        let Some(ca) = &self.tls_ca else {
            return Ok(None);
        };
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read_pem(ca, "--tls-ca")?));
        if let (Some(cert), Some(key)) = (&self.tls_client_cert, &self.tls_client_key) {
            tls = tls.identity(Identity::from_pem(
                read_pem(cert, "--tls-client-cert")?,
                read_pem(key, "--tls-client-key")?,
            ));
        }
        Ok(Some(tls))
    }
}

/// An origin as browsers send it: `scheme://host[:port]`, nothing after.
fn parse_origin(raw: &str) -> Result<http::HeaderValue, String> {
    let raw = raw.trim();
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or_else(|| format!("{raw:?} is not an origin: it starts with https:// or http://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ']) || raw.ends_with(':') {
        return Err(format!(
            "{raw:?} is not an origin: scheme, host and port only, e.g. https://dashboard.example.gov.cn"
        ));
    }
    http::HeaderValue::from_str(raw).map_err(|_| format!("{raw:?} is not an origin"))
}
