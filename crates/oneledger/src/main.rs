//! The `oneledger` binary: every role of the system as a subcommand (see [`config::Command`]).

use oneledger::{admin, backup, client, demo, import, rebuild, up};
use oneledger_clock::Clock;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Parser;
use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use oneledger_services::auth::TokenFile;
use oneledger_services::{Role, Settings};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use oneledger::config::{
    Command, Config, LogFormat, ProjectArgs, RelayArgs, ServiceArgs, TokenArgs,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    let filter = EnvFilter::try_new(&config.log).context("invalid --log filter")?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().with_current_span(true).init(),
    }
    match config.command {
        Command::Up(args) => up::run(args, Clock::system(), shutdown_token()).await,
        Command::Project(args) => project(args).await,
        Command::Rebuild(args) => rebuild::run(args).await,
        Command::Petition(args) => service(Agency::Petition, args).await,
        Command::PublicSecurity(args) => service(Agency::PublicSecurity, args).await,
        Command::PoliticalLegal(args) => service(Agency::PoliticalLegal, args).await,
        Command::Migrate(store) => {
            oneledger_store::connect(&store.database_url)
                .await
                .context("opening the event store")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Relay(args) => relay(args).await,
        Command::Token(args) => token(args),
        Command::Admin(command) => admin::run(command).await,
        Command::Backup(args) => {
            backup::backup(&args.data_dir, &args.to, args.keys_to.as_deref()).await
        }
        Command::Restore(args) => {
            backup::restore(&args.from, args.keys_from.as_deref(), &args.data_dir).await
        }
        Command::Jwks(args) => {
            // The key set does not depend on the district; any district reads the same public key.
            let issuer = args.issuer("")?;
            println!("{}", serde_json::to_string_pretty(&issuer.jwks())?);
            Ok(())
        }
        Command::Ledger(command) => client::run_ledger(command).await,
        Command::PetitionStatus(args) => client::petition_status(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Import(args) => import::run(args).await,
    }
}

fn token(args: TokenArgs) -> anyhow::Result<()> {
    let issuer = args.signing.issuer(&args.district)?;
    let roles = args
        .roles
        .iter()
        .map(|r| r.parse::<Role>().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let ttl = std::time::Duration::from_secs(args.hours.saturating_mul(3600));
    let token = issuer.token(&args.subject, args.agency.into(), &args.unit, &roles, ttl)?;
    println!("{token}");
    Ok(())
}

async fn service(agency: Agency, args: ServiceArgs) -> anyhow::Result<()> {
    if !oneledger_store::validate::is_token(&args.district) {
        bail!("--district must be lowercase letters, digits and _");
    }
    // The petition service keeps personal data: it needs both keys, each 64 hex digits.
    let petition_key = |value: &Option<String>, flag: &str| -> anyhow::Result<Option<Vec<u8>>> {
        match (value, agency) {
            (Some(hex_key), _) => {
                Ok(Some(hex::decode(hex_key.trim()).with_context(|| {
                    format!("{flag} must be 64 hex digits")
                })?))
            }
            (None, Agency::Petition) => bail!("the petition service needs {flag} (64 hex digits)"),
            (None, _) => Ok(None),
        }
    };
    let master_key = petition_key(&args.master_key, "--master-key")?;
    let pseudonym_key = petition_key(&args.pseudonym_key, "--pseudonym-key")?;
    let rules = Arc::new(args.rules.load()?);
    let store = oneledger_store::connect(&args.store.database_url)
        .await
        .context("opening the event store")?;
    let stop = shutdown_token();
    args.admin.spawn(stop.clone()).await?;
    let watch = match (&args.ledger_address, &args.watcher_token_file, agency) {
        (Some(address), Some(file), Agency::PoliticalLegal) => {
            let credential = Arc::new(TokenFile { path: file.clone() });
            let mut watch = args.watch.settings(address.clone(), credential);
            watch.ledger_tls = args.client_tls.client()?;
            Some(watch)
        }
        (Some(_), None, Agency::PoliticalLegal) => {
            bail!("the deadline watcher needs --watcher-token-file: its token for the ledger API")
        }
        _ => None,
    };
    let settings = Settings {
        agency,
        district: args.district.clone(),
        verifier: args.verify.verifier(&args.district, stop.clone())?,
        master_key,
        pseudonym_key,
        rules,
        clock: Clock::system(),
        watch,
        tls: args.tls.server()?,
        // A standalone service reads no other agency's store.
        peers: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;

    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    let relay = match &args.nats_url {
        Some(url) => {
            let mut spec = StreamSpec::for_agency(agency);
            spec.replicas = args.stream_replicas;
            let instance = format!("{agency}-{}", std::process::id());
            let (client, events) = args.nats_tls.connect(url, &instance).await?;
            let js = oneledger_bus::setup::jetstream(client.clone());
            let store = store.clone();
            let stopped = stop.clone().cancelled_owned();
            Some(tokio::spawn(async move {
                // SERVING only once the store answers and the stream exists; the relay starts then.
                up::service_ready(agency, store.as_ref(), Some((&js, &spec))).await;
                let _ = ready_tx.send(());
                Relay::new(
                    store,
                    client,
                    events,
                    spec.clone(),
                    RelayConfig::new(&spec, instance),
                )
                .run(stopped)
                .await
            }))
        }
        None => {
            let _ = ready_tx.send(());
            None
        }
    };
    let ready = async move {
        let _ = ready_rx.await;
    };
    oneledger_services::serve(settings, store, listener, ready, stop.cancelled_owned()).await?;
    if let Some(relay) = relay {
        relay.await.context("relay task")??;
    }
    Ok(())
}

async fn project(args: ProjectArgs) -> anyhow::Result<()> {
    let ledger = oneledger_projector::SqlLedger::connect(&args.ledger_url)
        .await
        .context("opening the ledger")?;
    let (client, _) = args
        .nats_tls
        .connect(&args.nats_url, "oneledger-projector")
        .await?;
    let js = oneledger_bus::setup::jetstream(client);
    let stop = shutdown_token();
    args.admin.spawn(stop.clone()).await?;
    let verifier = args.verify.verifier(&args.district, stop.clone())?;
    let mut tasks = tokio::task::JoinSet::new();
    let feeds = oneledger_projector::health::FeedHealth::with_max_behind(
        std::time::Duration::from_secs(args.max_behind_seconds),
    );
    for agency in Agency::ALL {
        let mut spec = StreamSpec::for_agency(agency);
        spec.replicas = args.stream_replicas;
        let checkpoint = ledger
            .checkpoint(&format!("jetstream:{}", spec.name))
            .await?;
        let mut feed = oneledger_projector::feed::JetStreamFeed::connect_retrying(
            &js,
            &spec,
            "oneledger-projector",
            checkpoint,
        )
        .await;
        let (ledger, feeds, stopped) = (
            ledger.clone(),
            feeds.clone(),
            stop.clone().cancelled_owned(),
        );
        tasks.spawn(async move {
            oneledger_projector::projector::run(&ledger, &mut feed, &feeds, stopped).await;
            Ok(())
        });
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let api = oneledger_projector::api::LedgerApi::new(
        ledger,
        verifier,
        Arc::new(args.rules.load()?),
        Clock::system(),
    )?
    .with_feeds(feeds);
    let stopped = stop.cancelled_owned();
    let web = args.web.settings(args.tls.server()?);
    tasks.spawn(async move {
        oneledger_projector::api::serve(api, web, listener, stopped)
            .await
            .map_err(anyhow::Error::from)
    });
    tracing::info!(listen = %args.listen, "projector and ledger API running");
    while let Some(result) = tasks.join_next().await {
        result.context("a component panicked")??;
    }
    Ok(())
}

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let agency = Agency::from(args.agency);
    let store = oneledger_store::connect(&args.store.database_url)
        .await
        .context("opening the event store")?;
    let instance = args
        .instance
        .unwrap_or_else(|| format!("{agency}-relay-{}", std::process::id()));
    let (client, events) = args.nats_tls.connect(&args.nats_url, &instance).await?;
    let mut spec = StreamSpec::for_agency(agency);
    spec.replicas = args.stream_replicas;
    let relay = Relay::new(
        store,
        client,
        events,
        spec.clone(),
        RelayConfig::new(&spec, instance),
    );
    tracing::info!(stream = %spec.name, "relay running");
    let stop = shutdown_token();
    args.admin.spawn(stop.clone()).await?;
    relay.run(stop.cancelled_owned()).await?;
    tracing::info!("relay stopped");
    Ok(())
}

/// A token cancelled on SIGTERM or Ctrl-C: every part of a process stops on it, in-flight calls first.
fn shutdown_token() -> CancellationToken {
    let stop = CancellationToken::new();
    let cancel = stop.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down: finishing in-flight calls");
        cancel.cancel();
    });
    stop
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
