//! The projector loop: read a feed, apply each batch with its checkpoint, acknowledge, repeat.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use oneledger_retry::Backoff;
use tokio::task::JoinHandle;

use crate::feed::{Feed, FeedError};
use crate::health::FeedHealth;
use crate::ledger::{BatchOutcome, LedgerError, PreparedBatch, SqlLedger};

/// Events applied per transaction at most.
pub const BATCH: usize = 500;
/// How often a running projector asks its feed's source how far ahead it is (health and metrics).
pub const LOOK_BEHIND_EVERY: Duration = Duration::from_secs(1);

/// Why the projector stopped.
#[derive(Debug, thiserror::Error)]
pub enum ProjectorError {
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The feed failed.
    #[error(transparent)]
    Feed(#[from] FeedError),
}

/// First pause after a failed feed or ledger; it doubles while the failures last.
pub const FIRST_RECOVERY_PAUSE: Duration = Duration::from_millis(100);
/// Longest pause between attempts to recover: how late the projector notices its database or broker is
/// back.
pub const MAX_RECOVERY_PAUSE: Duration = Duration::from_secs(2);

/// Applies `feed` to `ledger` until `shutdown` resolves. A batch is applied and checkpointed in one
/// transaction, then acknowledged: a crash at any point redelivers at most what the checkpoint skips.
/// A feed that fails (a broker node lost) or a ledger that fails (its database restarting) is retried,
/// pausing longer each time, from the checkpoint: the projector stops only when told to, so a restart of
/// PostgreSQL or NATS ends nothing. How each step went is recorded in `health`.
pub async fn run(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    health: &FeedHealth,
    shutdown: impl Future<Output = ()>,
) {
    tokio::pin!(shutdown);
    let mut backoff = Backoff::new(FIRST_RECOVERY_PAUSE, MAX_RECOVERY_PAUSE);
    let metrics = oneledger_metrics::global();
    let mut looked_behind: Option<Instant> = None;
    loop {
        let failed = backoff.failures() > 0;
        let look_behind = looked_behind.is_none_or(|at| at.elapsed() >= LOOK_BEHIND_EVERY);
        let step = async {
            let after = ledger.checkpoint(feed.name()).await?;
            if failed {
                feed.recover(after).await?;
            }
            if look_behind {
                record_behind(ledger, feed, health, after).await?;
            }
            let events = feed.next(after, BATCH).await?;
            if let Some(last) = events.last().map(|e| e.position) {
                let started = Instant::now();
                ledger.apply_batch(feed.name(), &events).await?;
                metrics.batch(feed.name(), events.len(), started.elapsed());
                feed.ack(last).await?;
            }
            Ok::<_, ProjectorError>(())
        };
        let result = tokio::select! {
            _ = &mut shutdown => return,
            result = step => result,
        };
        if look_behind && result.is_ok() {
            looked_behind = Some(Instant::now());
        }
        health.step(feed.name(), result.is_ok());
        metrics.feed_step(feed.name(), result.is_ok());
        match result {
            Ok(()) => backoff.succeeded(),
            Err(e) => {
                let pause = backoff.failed();
                let failures = backoff.failures();
                tracing::warn!(feed = feed.name(), error = %e, failures, ?pause, "projection failed; retrying from the checkpoint");
                tokio::select! {
                    _ = &mut shutdown => return,
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        }
    }
}

/// Records how far `feed`'s source is past the checkpoint `after`, and the events parked in the ledger.
async fn record_behind(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    health: &FeedHealth,
    after: u64,
) -> Result<(), ProjectorError> {
    let behind = feed.behind(after).await?;
    let age = behind
        .oldest_unapplied
        .and_then(|at| (chrono::Utc::now() - at).to_std().ok())
        .unwrap_or_default();
    health.behind(feed.name(), age);
    let metrics = oneledger_metrics::global();
    metrics.feed_position(feed.name(), after, behind.head, age);
    metrics
        .parked_events
        .set(i64::try_from(ledger.parked_count().await?).unwrap_or(i64::MAX));
    Ok(())
}

/// Events per transaction when catching up (a rebuild): larger than live batches, for throughput.
pub const CATCH_UP_BATCH: usize = 2000;
/// Empty reads in a row after which catching up stops waiting for a feed's remaining events (messages the
/// feed cannot deliver, terminated as unreadable, would otherwise keep it waiting for ever).
pub const MAX_IDLE_READS: u32 = 10;

/// A batch being written in the background.
type Writer = JoinHandle<Result<BatchOutcome, LedgerError>>;

/// Applies `feed` until the ledger's checkpoint reaches `head`, and reports progress (the position
/// reached) after each batch. Returns the position reached: for a rebuild, and for tests.
///
/// Three things overlap: batch N is written (on the database's side), batch N+1 is read from the feed and
/// worked out against the ledger overlaid with batch N, whose writing it then waits for. The ledger must
/// not be written by anything else meanwhile (a rebuild's fresh ledger); if it is, the batch is worked
/// out again.
pub async fn catch_up(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    head: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, ProjectorError> {
    let name = feed.name().to_owned();
    let mut done = ledger.checkpoint(&name).await?;
    let mut idle = 0;
    let mut after = done;
    let mut writing: Option<(Arc<PreparedBatch>, Writer)> = None;
    while done < head {
        let events = if after < head {
            feed.next(after, CATCH_UP_BATCH).await?
        } else {
            Vec::new()
        };
        let prepared = match events.last() {
            Some(e) => {
                idle = 0;
                after = e.position;
                let carry = writing.as_ref().map(|(p, _)| p.as_ref());
                Some(ledger.prepare_batch(&name, &events, carry).await?)
            }
            None if writing.is_some() => None,
            None => {
                idle += 1;
                if idle >= MAX_IDLE_READS {
                    tracing::warn!(
                        feed = name,
                        done,
                        head,
                        "stopped catching up: the rest could not be read"
                    );
                    return Ok(done);
                }
                continue;
            }
        };
        // Freeing a batch's JSON is a good part of a rebuild's work: done off this task's thread.
        tokio::task::spawn_blocking(move || drop(events));
        let mut prepared = prepared;
        if let Some((written, task)) = writing.take() {
            match task
                .await
                .map_err(|e| LedgerError::Corrupt(format!("writer: {e}")))?
            {
                Ok(_) => {}
                Err(LedgerError::Stale) => {
                    // Someone else wrote meanwhile: both batches are void; start again from the ledger's
                    // checkpoint.
                    after = ledger.checkpoint(&name).await?;
                    done = after;
                    feed.recover(after).await?;
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
            if let Some(last) = written.last() {
                feed.ack(last).await?;
                done = last;
                progress(done);
            }
        }
        if let Some(p) = prepared.take().filter(|p| p.last().is_some()) {
            let p = Arc::new(p);
            let (l, job) = (ledger.clone(), p.clone());
            writing = Some((p, tokio::spawn(async move { l.commit_batch(&job).await })));
        }
    }
    Ok(done)
}

#[cfg(test)]
mod tests;
