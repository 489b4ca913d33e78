//! One way to wait between attempts at something that fails for a while — a database restarting, a NATS
//! node lost, a stream electing its leader: pauses that double from a first one up to a cap, with jitter
//! so that many waiters do not retry in step, for as long as it takes, and back to the first pause after
//! a success. Every retry loop of the project (the relay, the projector, connecting a feed, waiting for a
//! stream) uses it, so they behave alike and are tuned in one place.
//!
//! The pauses come from `backon`'s exponential policy; this crate only keeps the count and the reset.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};

/// Pauses between attempts, growing while they fail.
#[derive(Debug)]
pub struct Backoff {
    /// The policy, kept to start again after a success.
    policy: ExponentialBuilder,
    /// The pauses left in the current run of failures.
    pauses: ExponentialBackoff,
    /// Failures since the last success, for logs and health.
    failures: u32,
    /// The cap, returned when the policy has nothing more to say.
    max: Duration,
}

impl Backoff {
    /// Pauses from `first`, doubling, never over `max`.
    pub fn new(first: Duration, max: Duration) -> Self {
        let policy = ExponentialBuilder::new()
            .with_min_delay(first)
            .with_max_delay(max)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times();
        Backoff {
            pauses: policy.build(),
            policy,
            failures: 0,
            max,
        }
    }

    /// Counts a failure and returns how long to pause before the next attempt.
    pub fn failed(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        // With no limit of attempts the policy never ends; the cap stands in should it ever do.
        self.pauses.next().unwrap_or(self.max).min(self.max)
    }

    /// Counts a failure and sleeps its pause.
    pub async fn wait(&mut self) {
        let pause = self.failed();
        tokio::time::sleep(pause).await;
    }

    /// The next failure pauses as briefly as the first.
    pub fn succeeded(&mut self) {
        if self.failures > 0 {
            self.failures = 0;
            self.pauses = self.policy.build();
        }
    }

    /// Failures since the last success.
    pub fn failures(&self) -> u32 {
        self.failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_to_the_cap_and_a_success_starts_again() {
        // given a backoff from 100 ms to 1 s
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
        // when it fails ten times
        let pauses: Vec<_> = (0..10).map(|_| backoff.failed()).collect();
        // then no pause is over the cap, the late ones reach it, and the failures are counted
        assert!(
            pauses.iter().all(|p| *p <= Duration::from_secs(1)),
            "{pauses:?}"
        );
        assert!(pauses[0] < Duration::from_millis(250), "{pauses:?}");
        assert!(pauses[9] >= Duration::from_millis(500), "{pauses:?}");
        assert_eq!(backoff.failures(), 10);
        // when it succeeds, then the count is reset and the next pause is short again
        backoff.succeeded();
        assert_eq!(backoff.failures(), 0);
        assert!(backoff.failed() < Duration::from_millis(250));
    }
}
