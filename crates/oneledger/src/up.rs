//! `oneledger up`: the whole system in one process for a first look or a small district — three agency
//! services, the projector and the ledger API, on SQLite files in a data directory (or databases on a
//! PostgreSQL server with `--database-url`). Without a broker the projector reads the stores' ordered logs
//! directly; with `--nats-url` everything goes through JetStream.

use oneledger_clock::Clock;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use oneledger_projector::api::{LedgerApi, serve as serve_ledger};
use oneledger_projector::feed::{Feed, JetStreamFeed, StoreFeed};
use oneledger_projector::{SqlLedger, projector};
use oneledger_retry::Backoff;
use oneledger_services::{DevIssuer, Role, Settings};
use oneledger_store::EventLog;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::config::UpArgs;

/// The dev issuer's private key in the data directory (Ed25519, PKCS#8 PEM, the owner's alone): what
/// `up`'s welcome token, `oneledger token`, the demo and the importer sign with.
pub const ISSUER_KEY_FILE: &str = "issuer.pem";
/// The dev issuer's public key set, written at every start: what a service run on its own beside `up`
/// verifies against (`--jwks-file`).
pub const JWKS_FILE: &str = "jwks.json";

/// Keys `up` generates on first start and keeps in the data directory, so a restart reads the same data.
/// (A keys file of before tokens were signed by an issuer also holds a `token_key`, no longer read.)
#[derive(Debug, Serialize, Deserialize)]
struct LocalKeys {
    /// Master key for personal-data keys, hex.
    master_key: String,
    /// Key persons' pseudonyms are derived under, hex; added to a keys file written before it existed.
    #[serde(default)]
    pseudonym_key: String,
}

fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(hex::encode(buf))
}

fn local_keys(dir: &Path) -> anyhow::Result<LocalKeys> {
    let path = dir.join("keys.json");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        let mut keys: LocalKeys = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a keys file", path.display()))?;
        if keys.pseudonym_key.is_empty() {
            keys.pseudonym_key = random_hex(32)?;
            std::fs::write(&path, serde_json::to_string_pretty(&keys)?)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        return Ok(keys);
    }
    let keys = LocalKeys {
        master_key: random_hex(32)?,
        pseudonym_key: random_hex(32)?,
    };
    std::fs::write(&path, serde_json::to_string_pretty(&keys)?)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(keys)
}

fn next_port(address: SocketAddr, n: u16) -> SocketAddr {
    SocketAddr::new(address.ip(), address.port() + n)
}

/// The ledger's checkpoint of `spec`'s stream, retried while the ledger's database is away: `up` keeps
/// serving through a database restart, so its projector waits for it rather than ending the process.
async fn checkpoint_retrying(ledger: &SqlLedger, spec: &StreamSpec) -> u64 {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    loop {
        match ledger.checkpoint(&format!("jetstream:{}", spec.name)).await {
            Ok(checkpoint) => return checkpoint,
            Err(e) => {
                tracing::warn!(stream = spec.name, error = %e, "reading the checkpoint failed; retrying");
                backoff.wait().await;
            }
        }
    }
}

/// Runs until `stop` is cancelled, reading time from `clock`: the system clock whenever the binary runs
/// (it has no flag for another), a driven one in the integration tests.
pub async fn run(args: UpArgs, clock: Clock, stop: CancellationToken) -> anyhow::Result<()> {
    if !oneledger_store::validate::is_token(&args.district) {
        bail!("--district must be lowercase letters, digits and _");
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let keys = local_keys(&args.data_dir)?;
    let issuer = DevIssuer::load_or_create(&args.data_dir.join(ISSUER_KEY_FILE), &args.district)?;
    let jwks = args.data_dir.join(JWKS_FILE);
    std::fs::write(&jwks, serde_json::to_string_pretty(&issuer.jwks())?)
        .with_context(|| format!("writing {}", jwks.display()))?;
    // The services and the ledger verify, as a service run on its own does; only `up` holds the issuer.
    let verifier = issuer.verifier()?;
    let tls = args.tls.server()?;
    if tls.is_some() && args.client_tls.tls_ca.is_none() {
        bail!(
            "--tls-cert needs --tls-ca too: the deadline watcher checks this process's ledger port against it"
        );
    }
    let rules = Arc::new(args.rules.load()?);
    let (clock, demo_clock) = crate::demo_clock::clock_for(&args, clock)?;
    // A demo moves its clock a week at a time: the watcher looks often enough to follow it.
    let watch_every = match demo_clock {
        Some(_) => Duration::from_secs(args.watch.watch_every_seconds.min(5)),
        None => Duration::from_secs(args.watch.watch_every_seconds),
    };
    // Where a part keeps its data: a SQLite file in the data directory, or a database of its own on the
    // PostgreSQL server.
    let url = async |name: &str| -> anyhow::Result<String> {
        match &args.database_url {
            Some(server) => {
                let part = name.trim_end_matches(".db");
                oneledger_store::postgres::sibling_database(server, part)
                    .await
                    .with_context(|| format!("preparing the database for {part}"))
            }
            None => Ok(format!("sqlite://{}", args.data_dir.join(name).display())),
        }
    };

    let ledger = SqlLedger::connect(&url("ledger.db").await?)
        .await
        .context("opening the ledger")?;
    let mut tasks = tokio::task::JoinSet::new();
    // Which projector feeds fail now: the ledger port reports NOT_SERVING while one does.
    let feeds = oneledger_projector::health::FeedHealth::with_max_behind(Duration::from_secs(
        args.max_behind_seconds,
    ));
    args.admin.spawn(stop.clone()).await?;
    let nats = match &args.nats_url {
        Some(u) => Some(args.nats_tls.connect(u, "oneledger-up").await?),
        None => None,
    };
    let mut addresses = Vec::new();
    let mut stores = BTreeMap::new();
    for agency in Agency::ALL {
        let store = oneledger_store::connect(&url(&format!("{agency}.db")).await?)
            .await
            .with_context(|| format!("opening the {agency} store"))?;
        stores.insert(agency, store);
    }
    for (n, agency) in Agency::ALL.into_iter().enumerate() {
        let store = stores[&agency].clone();
        // Each service looks up the items a command names in the other agencies' stores too.
        let peers: BTreeMap<Agency, Arc<dyn EventLog>> = stores
            .iter()
            .filter(|(other, _)| **other != agency)
            .map(|(other, s)| (*other, s.clone() as Arc<dyn EventLog>))
            .collect();
        let address = next_port(args.listen, n as u16 + 1);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        addresses.push((agency, address));
        let settings = Settings {
            agency,
            district: args.district.clone(),
            verifier: verifier.clone(),
            master_key: Some(hex::decode(&keys.master_key).context("master key in keys.json")?),
            pseudonym_key: Some(
                hex::decode(&keys.pseudonym_key).context("pseudonym key in keys.json")?,
            ),
            rules: rules.clone(),
            clock: clock.clone(),
            // The committee's service watches the deadlines of this process's ledger.
            watch: match agency {
                Agency::PoliticalLegal => {
                    Some(watch_settings(&args, &issuer, &rules, &clock, watch_every)?)
                }
                _ => None,
            },
            tls: tls.clone(),
            peers,
        };
        let service_store = store.clone();
        let stop_service = stop.clone().cancelled_owned();
        // SERVING once the store answers and, on NATS, the stream exists: as a service run on its own.
        let ready = {
            let (store, js) = (
                store.clone(),
                nats.as_ref()
                    .map(|(c, _)| oneledger_bus::setup::jetstream(c.clone())),
            );
            let mut spec = StreamSpec::for_agency(agency);
            spec.replicas = args.stream_replicas;
            async move { service_ready(agency, store.as_ref(), js.as_ref().map(|js| (js, &spec))).await }
        };
        tasks.spawn(async move {
            oneledger_services::serve(settings, service_store, listener, ready, stop_service)
                .await
                .map_err(anyhow::Error::from)
        });

        // The projector's feed: connecting to a stream (on a cluster, a replicated one) takes a while, so
        // it happens in the projector's task and the APIs serve meanwhile.
        let feed_source = match &nats {
            None => None,
            Some((client, events)) => {
                let mut spec = StreamSpec::for_agency(agency);
                spec.replicas = args.stream_replicas;
                let relay = Relay::new(
                    store.clone(),
                    client.clone(),
                    events.clone(),
                    spec.clone(),
                    RelayConfig::new(&spec, format!("up-{agency}")),
                );
                let stop_relay = stop.clone().cancelled_owned();
                tasks
                    .spawn(async move { relay.run(stop_relay).await.map_err(anyhow::Error::from) });
                Some((oneledger_bus::setup::jetstream(client.clone()), spec))
            }
        };
        let (ledger, store, feeds) = (ledger.clone(), store.clone(), feeds.clone());
        let (stop_projector, stop_connecting, stop_checkpoint) = (
            stop.clone().cancelled_owned(),
            stop.clone().cancelled_owned(),
            stop.clone().cancelled_owned(),
        );
        tasks.spawn(async move {
            let mut feed: Box<dyn Feed> = match feed_source {
                None => Box::new(StoreFeed::new(format!("store:{agency}"), store)),
                Some((js, spec)) => {
                    let checkpoint = tokio::select! {
                        checkpoint = checkpoint_retrying(&ledger, &spec) => checkpoint,
                        _ = stop_checkpoint => return Ok(()),
                    };
                    let connecting = JetStreamFeed::connect_retrying(
                        &js,
                        &spec,
                        "oneledger-projector",
                        checkpoint,
                    );
                    tokio::select! {
                        feed = connecting => Box::new(feed),
                        _ = stop_connecting => return Ok(()),
                    }
                }
            };
            projector::run(&ledger, feed.as_mut(), &feeds, stop_projector).await;
            Ok(())
        });
    }

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let api =
        LedgerApi::new(ledger, verifier.clone(), rules.clone(), clock.clone())?.with_feeds(feeds);
    let stop_api = stop.clone().cancelled_owned();
    let web = args.web.settings(tls.clone());
    tasks.spawn(async move {
        serve_ledger(api, web, listener, stop_api)
            .await
            .map_err(anyhow::Error::from)
    });

    if let Some(demo) = demo_clock {
        let address = next_port(args.listen, 4);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| format!("binding {address}"))?;
        let (verifier, directory) = (verifier.clone(), rules.directory.clone());
        let stop_demo = stop.clone().cancelled_owned();
        tracing::warn!(%address, today = %clock.today(), "running on a demo clock");
        tasks.spawn(async move {
            demo.serve(listener, verifier, directory, stop_demo)
                .await
                .map_err(anyhow::Error::from)
        });
    }
    print_welcome(&args, &issuer, nats.is_some(), &addresses)?;

    while let Some(result) = tasks.join_next().await {
        result.context("a component panicked")??;
    }
    Ok(())
}

/// The committee's deadline watcher, reading this process's ledger with tokens the dev issuer signs for
/// the committee (a service run on its own reads its token from a file instead).
fn watch_settings(
    args: &UpArgs,
    issuer: &DevIssuer,
    rules: &oneledger_domain::Rules,
    clock: &Clock,
    every: Duration,
) -> anyhow::Result<oneledger_services::watcher::WatchSettings> {
    let committee = oneledger_services::server::committee_caller(rules, clock.today())?;
    let credential = issuer.clone().source(
        "deadline-watcher",
        committee.agency,
        &committee.unit.0,
        &committee.roles,
    );
    // Over TLS when the ledger port speaks it, checked against `--tls-ca`.
    let scheme = match args.tls.tls_cert {
        Some(_) => "https",
        None => "http",
    };
    let mut watch = args
        .watch
        .settings(format!("{scheme}://{}", args.listen), credential);
    watch.ledger_tls = args.client_tls.client()?;
    watch.every = every;
    Ok(watch)
}

/// Resolves once an agency's service may say SERVING: its store answers and, on NATS, its JetStream
/// stream exists (made if missing). Retried, pausing longer each time, while either is away.
pub async fn service_ready(
    agency: Agency,
    store: &dyn EventLog,
    stream: Option<(&oneledger_bus::setup::JetStream, &StreamSpec)>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(2));
    loop {
        let store_error = store.head().await.err().map(|e| e.to_string());
        let stream_error = match stream {
            Some((js, spec)) => oneledger_bus::ensure_stream(js, spec)
                .await
                .err()
                .map(|e| e.to_string()),
            None => None,
        };
        if store_error.is_none() && stream_error.is_none() {
            return;
        }
        tracing::warn!(%agency, store = ?store_error, stream = ?stream_error, "waiting for the store and the JetStream stream");
        backoff.wait().await;
    }
}

/// What `up` prints for a person who just started it: where everything is, a dev token, what to try.
fn print_welcome(
    args: &UpArgs,
    issuer: &DevIssuer,
    on_nats: bool,
    addresses: &[(Agency, SocketAddr)],
) -> anyhow::Result<()> {
    let dev_token = issuer.token(
        "dev",
        Agency::Petition,
        &format!("{}.petition_office", args.district),
        &[Role::IntakeClerk, Role::Viewer, Role::Coordinator],
        Duration::from_secs(12 * 3600),
    )?;
    println!(
        "oneledger is up ({}; {}; keys in {})",
        if on_nats {
            "NATS JetStream"
        } else {
            "embedded, no broker"
        },
        if args.database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        args.data_dir.display()
    );
    println!("  ledger API          {}", args.listen);
    for (agency, address) in addresses {
        println!("  {:<19} {address}", agency.to_string());
    }
    println!("dev token (petition office: intake_clerk, viewer, coordinator; 12 h):\n{dev_token}");
    println!(
        "dashboard: http://{}/ (sign in with the dev token)",
        args.listen
    );
    println!(
        "try: grpcurl -plaintext -H \"authorization: Bearer $TOKEN\" {} oneledger.ledger.v2.LedgerService/ListEntries",
        args.listen
    );
    println!(
        "load a demo year: oneledger demo --data-dir {}",
        args.data_dir.display()
    );
    println!(
        "more tokens: oneledger token --data-dir {} --agency … --unit … --role …",
        args.data_dir.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keys_file_from_before_pseudonyms_gains_a_pseudonym_key_once_and_keeps_the_others() {
        let dir = tempfile::tempdir().unwrap();
        let old = r#"{"token_key": "aa", "master_key": "bb"}"#;
        std::fs::write(dir.path().join("keys.json"), old).unwrap();
        let upgraded = local_keys(dir.path()).unwrap();
        assert_eq!(upgraded.master_key, "bb");
        assert_eq!(upgraded.pseudonym_key.len(), 64);
        let again = local_keys(dir.path()).unwrap();
        assert_eq!(again.pseudonym_key, upgraded.pseudonym_key);
    }
}
