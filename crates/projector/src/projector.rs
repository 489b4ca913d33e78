//! The projector loop: read a feed, apply each batch with its checkpoint, acknowledge, repeat.

use std::future::Future;

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

/// Applies `feed` to `ledger` until `shutdown` resolves. A batch is applied and checkpointed in one
/// transaction, then acknowledged: a crash at any point redelivers at most what the checkpoint skips.
pub async fn run(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ProjectorError> {
    tokio::pin!(shutdown);
    loop {
        let step = async {
            let after = ledger.checkpoint(feed.name()).await?;
            let events = feed.next(after, BATCH).await?;
            if let Some(last) = events.last().map(|e| e.position) {
                ledger.apply_batch(feed.name(), &events).await?;
                feed.ack(last).await?;
            }
            Ok::<_, ProjectorError>(())
        };
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            result = step => result?,
        }
    }
}

/// Applies `feed` until it has nothing more (to `head`), then returns how many events it applied: for a
/// rebuild, and for tests.
pub async fn catch_up(
    ledger: &SqlLedger,
    feed: &mut dyn Feed,
    head: u64,
) -> Result<u64, ProjectorError> {
    let mut applied = 0;
    loop {
        let after = ledger.checkpoint(feed.name()).await?;
        if after >= head {
            return Ok(applied);
        }
        let events = feed.next(after, BATCH).await?;
        if let Some(last) = events.last().map(|e| e.position) {
            applied += ledger.apply_batch(feed.name(), &events).await?.applied as u64;
            feed.ack(last).await?;
        }
    }
}

#[cfg(test)]
mod tests;
