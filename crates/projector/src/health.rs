//! How the projector's feeds stand, for the ledger's health: a feed whose last step failed (its broker
//! or store unreachable, the ledger's database down) leaves the ledger behind, so the ledger API reports
//! NOT_SERVING until every feed applies again — a probe sees what a reader would.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::watch;

/// The feeds failing now, shared by the projector loops that set it and the ledger port that reports it.
#[derive(Debug, Clone)]
pub struct FeedHealth {
    failing: Arc<watch::Sender<BTreeSet<String>>>,
}

impl Default for FeedHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedHealth {
    /// No feed failing.
    pub fn new() -> Self {
        FeedHealth {
            failing: Arc::new(watch::Sender::new(BTreeSet::new())),
        }
    }

    /// Records how `feed`'s last step went; watchers are woken only when that changes the set.
    pub fn step(&self, feed: &str, ok: bool) {
        self.failing.send_if_modified(|set| {
            if ok {
                set.remove(feed)
            } else {
                set.insert(feed.to_owned())
            }
        });
    }

    /// The feeds failing now.
    pub fn failing(&self) -> BTreeSet<String> {
        self.failing.borrow().clone()
    }

    /// Woken on every change of [`failing`](Self::failing).
    pub fn watch(&self) -> watch::Receiver<BTreeSet<String>> {
        self.failing.subscribe()
    }
}
