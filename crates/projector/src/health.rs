//! How the projector's feeds stand, for the ledger's health: a feed whose last step failed (its broker
//! or store unreachable, the ledger's database down), or whose oldest unapplied event is older than the
//! threshold, leaves the ledger behind, so the ledger API reports NOT_SERVING until every feed applies
//! and keeps up again — a probe sees what a reader would.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

/// How far behind a feed may fall before the ledger stops reporting SERVING, unless configured: a
/// reader of the dashboard would act on a ledger a minute stale.
pub const DEFAULT_MAX_BEHIND: Duration = Duration::from_secs(60);

/// Why a feed is unhealthy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Unhealthy {
    /// Its last step failed.
    failed: bool,
    /// Its oldest unapplied event is older than the threshold.
    behind: bool,
}

/// The unhealthy feeds, shared by the projector loops that set it and the ledger port that reports it.
#[derive(Debug, Clone)]
pub struct FeedHealth {
    reasons: Arc<Mutex<BTreeMap<String, Unhealthy>>>,
    unhealthy: Arc<watch::Sender<BTreeSet<String>>>,
    max_behind: Duration,
}

impl Default for FeedHealth {
    fn default() -> Self {
        Self::new()
    }
}

impl FeedHealth {
    /// No feed unhealthy; a feed is behind past [`DEFAULT_MAX_BEHIND`].
    pub fn new() -> Self {
        Self::with_max_behind(DEFAULT_MAX_BEHIND)
    }

    /// No feed unhealthy; a feed is behind once its oldest unapplied event is older than `max_behind`.
    pub fn with_max_behind(max_behind: Duration) -> Self {
        FeedHealth {
            reasons: Arc::default(),
            unhealthy: Arc::new(watch::Sender::new(BTreeSet::new())),
            max_behind,
        }
    }

    /// Records how `feed`'s last step went.
    pub fn step(&self, feed: &str, ok: bool) {
        self.update(feed, |r| r.failed = !ok);
    }

    /// Records the age of `feed`'s oldest unapplied event (zero when it is caught up).
    pub fn behind(&self, feed: &str, oldest_unapplied: Duration) {
        let behind = oldest_unapplied > self.max_behind;
        self.update(feed, |r| r.behind = behind);
    }

    fn update(&self, feed: &str, change: impl FnOnce(&mut Unhealthy)) {
        let mut reasons = self.reasons.lock().unwrap_or_else(|e| e.into_inner());
        let reason = reasons.entry(feed.to_owned()).or_default();
        change(reason);
        let unhealthy = *reason != Unhealthy::default();
        // Watchers are woken only when the set of unhealthy feeds changes.
        self.unhealthy.send_if_modified(|set| {
            if unhealthy {
                set.insert(feed.to_owned())
            } else {
                set.remove(feed)
            }
        });
    }

    /// The feeds unhealthy now.
    pub fn failing(&self) -> BTreeSet<String> {
        self.unhealthy.borrow().clone()
    }

    /// Woken on every change of [`failing`](Self::failing).
    pub fn watch(&self) -> watch::Receiver<BTreeSet<String>> {
        self.unhealthy.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feed_is_unhealthy_while_it_fails_or_falls_behind_and_healthy_once_neither() {
        // Given feeds judged behind past ten seconds.
        let health = FeedHealth::with_max_behind(Duration::from_secs(10));
        // When a feed falls 11 s behind, then it is unhealthy; a failed step keeps it so once caught up.
        health.behind("store:petition", Duration::from_secs(11));
        assert_eq!(health.failing().len(), 1);
        health.step("store:petition", false);
        health.behind("store:petition", Duration::ZERO);
        assert_eq!(health.failing().len(), 1);
        // When its step succeeds again, then no feed is unhealthy; 10 s behind is within the threshold.
        health.step("store:petition", true);
        health.behind("store:petition", Duration::from_secs(10));
        assert!(health.failing().is_empty());
    }
}
