//! `oneledger rebuild`: every event from the start into a fresh ledger, with progress on stderr. From `up`'s
//! data directory the new ledger replaces the old one (kept beside it); from NATS it is built at a new URL.

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressStyle};
use oneledger_bus::StreamSpec;
use oneledger_domain::Agency;
use oneledger_projector::SqlLedger;
use oneledger_projector::feed::{Feed, JetStreamFeed, StoreFeed};

use crate::config::RebuildArgs;

/// Applies `feed` up to `head` into `ledger`, drawing a progress bar with the rate on stderr.
async fn replay(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    agency: Agency,
    head: u64,
) -> anyhow::Result<u64> {
    let bar = ProgressBar::new(head).with_prefix(agency.to_string());
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix:<16} [{bar:30}] {pos}/{len} events, {per_sec} ({eta} left)",
        )
        .map_err(|e| anyhow::anyhow!("progress template: {e}"))?
        .progress_chars("#> "),
    );
    let done = oneledger_projector::projector::catch_up(ledger, feed, head, |done| {
        bar.set_position(done.min(head));
    })
    .await?;
    bar.finish();
    if done < head {
        eprintln!(
            "{agency}: stopped at {done} of {head}; the rest could not be read (see the logs)"
        );
    }
    Ok(done)
}

/// Compares the digests of the live and the rebuilt ledger; fails when they differ.
async fn verify(live: &SqlLedger, rebuilt: &SqlLedger) -> anyhow::Result<()> {
    let (a, b) = (live.digest().await?, rebuilt.digest().await?);
    println!("live ledger     {a}\nrebuilt ledger  {b}");
    if a != b {
        bail!(
            "the rebuilt ledger differs from the live one: the live one missed or misapplied events (or was written meanwhile: stop its projector first)"
        );
    }
    println!("equal: the live ledger is what its events say");
    Ok(())
}

/// Runs the rebuild described by `args`.
pub async fn run(args: RebuildArgs) -> anyhow::Result<()> {
    match (&args.data_dir, &args.nats_url, &args.ledger_url) {
        (Some(dir), None, None) => {
            let live = dir.join("ledger.db");
            let fresh = dir.join("ledger.rebuild.db");
            for path in [
                &fresh,
                &dir.join("ledger.rebuild.db-wal"),
                &dir.join("ledger.rebuild.db-shm"),
            ] {
                let _ = std::fs::remove_file(path);
            }
            let ledger = SqlLedger::connect_fresh(&format!("sqlite://{}", fresh.display())).await?;
            let mut total = 0;
            for agency in Agency::ALL {
                let store = oneledger_store::connect(&format!(
                    "sqlite://{}",
                    dir.join(format!("{agency}.db")).display()
                ))
                .await
                .with_context(|| format!("opening the {agency} store"))?;
                let head = store.head().await?;
                let mut feed = StoreFeed::new(format!("store:{agency}"), store);
                total += replay(&ledger, &mut feed, agency, head).await?;
            }
            if args.verify {
                let live_url = format!("sqlite://{}", live.display());
                verify(&SqlLedger::connect(&live_url).await?, &ledger).await?;
                ledger.close().await?;
                eprintln!(
                    "the live ledger is left in place; the rebuilt one is {}",
                    fresh.display()
                );
                return Ok(());
            }
            ledger.close().await?;
            if live.exists() {
                let kept = format!(
                    "ledger.before-rebuild-{}.db",
                    chrono::Utc::now().format("%Y%m%dT%H%M%S")
                );
                // The old ledger moves aside with its write-ahead log, so it stays whole.
                for suffix in ["", "-wal", "-shm"] {
                    let from = dir.join(format!("ledger.db{suffix}"));
                    if from.exists() {
                        std::fs::rename(&from, dir.join(format!("{kept}{suffix}")))
                            .context("moving the old ledger aside")?;
                    }
                }
                eprintln!("old ledger kept as {}", dir.join(&kept).display());
            }
            std::fs::rename(&fresh, &live).context("swapping the rebuilt ledger in")?;
            eprintln!("rebuilt {total} events into {}", live.display());
            Ok(())
        }
        (None, Some(nats), Some(url)) => {
            if args.verify && args.live_ledger_url.is_none() {
                bail!(
                    "--verify with --nats-url needs --live-ledger-url: the ledger `project` keeps"
                );
            }
            let ledger = SqlLedger::connect_fresh(url).await?;
            if !ledger.load_model().await?.items.is_empty() {
                bail!("{url} is not empty: a rebuild goes into a fresh ledger");
            }
            let (client, _) = args.nats_tls.connect(nats, "oneledger-rebuild").await?;
            let js = oneledger_bus::setup::jetstream(client);
            let durable = format!("rebuild-{}", chrono::Utc::now().format("%Y%m%d%H%M%S"));
            let mut total = 0;
            for agency in Agency::ALL {
                let spec = StreamSpec::for_agency(agency);
                let mut stream = js
                    .get_stream(&spec.name)
                    .await
                    .with_context(|| format!("stream {}", spec.name))?;
                let head = stream
                    .info()
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?
                    .state
                    .last_sequence;
                let mut feed = JetStreamFeed::connect(&js, &spec, &durable, 0).await?;
                total += replay(&ledger, &mut feed, agency, head).await?;
                stream
                    .delete_consumer(&durable)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            if let Some(live) = &args.live_ledger_url {
                verify(&SqlLedger::connect(live).await?, &ledger).await?;
            }
            ledger.close().await?;
            eprintln!(
                "rebuilt {total} events into the new ledger; point `oneledger project --ledger-url` at it"
            );
            Ok(())
        }
        _ => bail!("give --data-dir, or --nats-url with --ledger-url"),
    }
}
