//! The `oneledger` binary: every role of the system as a subcommand (see [`config::Command`]).

mod config;

use anyhow::Context;
use clap::Parser;
use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use tracing_subscriber::EnvFilter;

use crate::config::{Command, Config, RelayArgs};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_new(&config.log).context("invalid --log filter")?)
        .init();
    match config.command {
        Command::Migrate(store) => {
            oneledger_store::connect(&store.database_url)
                .await
                .context("opening the event store")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Relay(args) => relay(args).await,
    }
}

async fn relay(args: RelayArgs) -> anyhow::Result<()> {
    let agency = Agency::from(args.agency);
    let store = oneledger_store::connect(&args.store.database_url)
        .await
        .context("opening the event store")?;
    let instance = args
        .instance
        .unwrap_or_else(|| format!("{agency}-relay-{}", std::process::id()));
    let (client, events) = oneledger_bus::connect(&args.nats_url, &instance).await?;
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
    relay.run(shutdown_signal()).await?;
    tracing::info!("relay stopped");
    Ok(())
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
