//! The projector loop: read a feed, apply each batch with its checkpoint, acknowledge, repeat.

use std::future::Future;
use std::time::Duration;

use crate::feed::{Feed, FeedError};
use crate::ledger::{LedgerError, SqlLedger};

/// Events applied per transaction at most.
pub const BATCH: usize = 500;

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

/// Longest pause between attempts to recover a failed feed.
pub const MAX_RECOVERY_PAUSE: Duration = Duration::from_secs(5);

/// Applies `feed` to `ledger` until `shutdown` resolves. A batch is applied and checkpointed in one
/// transaction, then acknowledged: a crash at any point redelivers at most what the checkpoint skips.
/// A feed that fails (a broker node lost) is recovered from the checkpoint, pausing longer each time;
/// a ledger that fails stops the projector, for its supervisor to restart.
pub async fn run(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProjectorError> {
    tokio::pin!(shutdown);
    let mut failures = 0u32;
    loop {
        let failed = failures;
        let step = async {
            let after = ledger.checkpoint(feed.name()).await?;
            if failed > 0 {
                let pause = (Duration::from_millis(100) * failed).min(MAX_RECOVERY_PAUSE);
                tokio::time::sleep(pause).await;
                feed.recover(after).await?;
            }
            let events = feed.next(after, BATCH).await?;
            if let Some(last) = events.last().map(|e| e.position) {
                ledger.apply_batch(feed.name(), &events).await?;
                feed.ack(last).await?;
            }
            Ok::<_, ProjectorError>(())
        };
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            result = step => match result {
                Ok(()) => failures = 0,
                Err(ProjectorError::Feed(e)) => {
                    failures += 1;
                    tracing::warn!(feed = feed.name(), error = %e, failures, "feed failed; recovering from the checkpoint");
                }
                Err(e) => return Err(e),
            },
        }
    }
}

/// Events per transaction when catching up (a rebuild): larger than live batches, for throughput.
pub const CATCH_UP_BATCH: usize = 2000;
/// Empty reads in a row after which catching up stops waiting for a feed's remaining events (messages the
/// feed cannot deliver, terminated as unreadable, would otherwise keep it waiting for ever).
pub const MAX_IDLE_READS: u32 = 10;

/// Applies `feed` until the ledger's checkpoint reaches `head`, reading the next batch while the previous
/// one is applied, and reports progress (the position reached) after each batch. Returns the position
/// reached: for a rebuild, and for tests.
pub async fn catch_up(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    head: u64,
    mut progress: impl FnMut(u64),
) -> Result<u64, ProjectorError> {
    let mut done = ledger.checkpoint(feed.name()).await?;
    let mut idle = 0;
    let mut pending = if done < head {
        feed.next(done, CATCH_UP_BATCH).await?
    } else {
        Vec::new()
    };
    while done < head {
        let Some(last) = pending.last().map(|e| e.position) else {
            idle += 1;
            if idle >= MAX_IDLE_READS {
                tracing::warn!(
                    feed = feed.name(),
                    done,
                    head,
                    "stopped catching up: the rest could not be read"
                );
                return Ok(done);
            }
            pending = feed.next(done, CATCH_UP_BATCH).await?;
            continue;
        };
        idle = 0;
        let name = feed.name().to_owned();
        let (applied, next) = tokio::join!(ledger.apply_batch(&name, &pending), async {
            if last < head {
                feed.next(last, CATCH_UP_BATCH).await.map(Some)
            } else {
                Ok(None)
            }
        });
        applied?;
        feed.ack(last).await?;
        done = last;
        progress(done);
        // Freeing a batch's JSON is a good part of a rebuild's work: done off this task's thread.
        let applied_batch = std::mem::replace(&mut pending, next?.unwrap_or_default());
        tokio::task::spawn_blocking(move || drop(applied_batch));
    }
    Ok(done)
}

#[cfg(test)]
mod tests;
