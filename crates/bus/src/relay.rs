//! The outbox relay: publishes a store's log to its JetStream stream in position order.
//!
//! One relay per store runs at a time: it holds the store's lease named after the relay, and standbys in
//! other processes wait for it to lapse. Every message carries `Nats-Msg-Id` = event id (JetStream drops a
//! re-publish inside its duplicate window) and `Nats-Expected-Last-Sequence` = position − 1, so the stream
//! sequence equals the store position and a message can never land out of order or twice.
//!
//! The stream, not the relay's checkpoint, says what is published. After every (re)connection and every
//! failure the relay asks the stream for its last sequence and resumes after it. A NATS server acknowledges
//! before it flushes to disk, so a crash can lose messages the relay already counted as published; this is
//! how they are found and published again. The checkpoint stored beside the log records progress for
//! operators and names the hole when that happens.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, publish::PublishAck};
use oneledger_retry::Backoff;
use oneledger_store::{EventStore, RecordedEvent};
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use crate::cloudevent;
use crate::error::BusError;
use crate::setup::{ConnectionEvents, StreamSpec, ensure_stream};

/// Tuning of one relay.
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// Name of the lease and the checkpoint in the store; one relay per store, so one name per store.
    pub name: String,
    /// This process's identity in the lease.
    pub holder: String,
    /// Events per read of the store; the next page is read while the previous one is being published.
    pub batch_size: usize,
    /// Publishes awaiting their acknowledgement at most; keeps the pipe to JetStream full.
    pub max_in_flight: usize,
    /// Events published per round at most; between rounds the lease is renewed and progress recorded.
    pub max_round_events: usize,
    /// Lease length: how long a crashed relay blocks its standby. Renewed every third of it.
    pub lease_ttl: Duration,
    /// When idle, how often to look for appends made by other processes (this one's wake it at once).
    pub idle_poll: Duration,
    /// First pause after a failure before reconciling and trying again; it doubles while failures last.
    pub retry_backoff: Duration,
    /// Longest pause between attempts: how late a relay notices that NATS or its store is back.
    pub retry_max: Duration,
}

impl RelayConfig {
    /// Defaults for the relay of `spec`'s stream, held by `holder`.
    pub fn new(spec: &StreamSpec, holder: impl Into<String>) -> Self {
        RelayConfig {
            name: format!("relay:{}", spec.name),
            holder: holder.into(),
            batch_size: 1000,
            max_in_flight: 4096,
            max_round_events: 50_000,
            lease_ttl: Duration::from_secs(15),
            idle_poll: Duration::from_millis(500),
            retry_backoff: Duration::from_millis(250),
            retry_max: Duration::from_secs(2),
        }
    }
}

/// Publishes one store's events to one JetStream stream.
pub struct Relay {
    store: Arc<dyn EventStore>,
    js: jetstream::Context,
    connection: Arc<ConnectionEvents>,
    spec: StreamSpec,
    config: RelayConfig,
    published: watch::Sender<u64>,
}

/// What one round of the loop did.
enum Round {
    /// Published a batch; go on at once.
    Published,
    /// Nothing to publish.
    Idle,
    /// Another process holds the lease.
    Standby,
}

/// The loop's memory between rounds.
struct RelayState {
    leader: bool,
    renewed_at: Instant,
    /// Next position to publish; `None` until reconciled with the stream.
    next: Option<u64>,
    seen_connects: u64,
}

impl Relay {
    /// A relay of `store` into `spec`'s stream, over a client made by [`crate::connect`].
    pub fn new(
        store: Arc<dyn EventStore>,
        client: async_nats::Client,
        connection: Arc<ConnectionEvents>,
        spec: StreamSpec,
        config: RelayConfig,
    ) -> Self {
        Relay {
            store,
            js: jetstream::new(client),
            connection,
            spec,
            config,
            published: watch::channel(0).0,
        }
    }

    /// The last position this relay has seen acknowledged by JetStream (for tests and metrics).
    pub fn published(&self) -> watch::Receiver<u64> {
        self.published.subscribe()
    }

    /// Runs until `shutdown` resolves, then gives up the lease. Returns an error only for what needs an
    /// operator ([`BusError::ForeignStream`]); NATS and database failures are retried forever.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), BusError> {
        tokio::pin!(shutdown);
        let mut head = self.store.watch_head();
        let mut state = RelayState {
            leader: false,
            renewed_at: Instant::now(),
            next: None,
            seen_connects: self.connection.connects(),
        };
        let mut backoff = Backoff::new(self.config.retry_backoff, self.config.retry_max);
        let outcome = loop {
            let round = tokio::select! {
                _ = &mut shutdown => break Ok(()),
                round = self.round(&mut state) => round,
            };
            if round.is_ok() {
                backoff.succeeded();
            }
            let pause = match round {
                Ok(Round::Published) => continue,
                Ok(Round::Idle) => self.config.idle_poll,
                Ok(Round::Standby) => self.config.lease_ttl / 3,
                Err(e @ BusError::ForeignStream { .. }) => break Err(e),
                Err(e) => {
                    let failures = backoff.failures() + 1;
                    tracing::warn!(relay = %self.config.name, error = %e, failures, "relay round failed; will reconcile");
                    state.next = None;
                    backoff.failed()
                }
            };
            tokio::select! {
                _ = &mut shutdown => break Ok(()),
                _ = head.changed(), if state.next.is_some() => {}
                _ = self.connection.changed() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        };
        if state.leader {
            let _ = self
                .store
                .release_lease(&self.config.name, &self.config.holder)
                .await;
        }
        outcome
    }

    async fn round(&self, state: &mut RelayState) -> Result<Round, BusError> {
        let config = &self.config;
        if !state.leader || state.renewed_at.elapsed() >= config.lease_ttl / 3 {
            let held = self
                .store
                .acquire_lease(&config.name, &config.holder, config.lease_ttl)
                .await?;
            if !held {
                if state.leader {
                    tracing::warn!(relay = %config.name, "relay lease lost to another process");
                }
                state.leader = false;
                state.next = None;
                return Ok(Round::Standby);
            }
            if !state.leader {
                tracing::info!(relay = %config.name, holder = %config.holder, "relay lease acquired");
                state.next = None;
            }
            state.leader = true;
            state.renewed_at = Instant::now();
        }

        let connects = self.connection.connects();
        if connects != state.seen_connects {
            state.seen_connects = connects;
            state.next = None;
        }
        let next = match state.next {
            Some(next) => next,
            None => *state.next.insert(self.reconcile().await?),
        };

        let Some(last) = self.publish_from(next).await? else {
            return Ok(Round::Idle);
        };
        state.next = Some(last + 1);
        self.published.send_replace(last);
        let head = self.store.head().await?;
        oneledger_metrics::global().relayed(&self.spec.name, head, last);
        if !self
            .store
            .save_checkpoint(&config.name, &config.holder, last)
            .await?
        {
            state.leader = false;
            state.next = None;
        }
        Ok(Round::Published)
    }

    /// The position to publish next: one past the stream's last sequence.
    async fn reconcile(&self) -> Result<u64, BusError> {
        let mut stream = ensure_stream(&self.js, &self.spec).await?;
        let info = stream
            .info()
            .await
            .map_err(|e| BusError::JetStream(e.to_string()))?;
        let stream_last = info.state.last_sequence;
        let store_head = self.store.head().await?;
        if stream_last > store_head {
            return Err(BusError::ForeignStream {
                stream: self.spec.name.clone(),
                stream_last,
                store_head,
            });
        }
        let recorded = self.store.checkpoint(&self.config.name).await?;
        if stream_last < recorded {
            tracing::warn!(
                relay = %self.config.name,
                stream_last,
                recorded,
                "JetStream lost {} acknowledged events; publishing them again",
                recorded - stream_last
            );
        }
        Ok(stream_last + 1)
    }

    /// Publishes from position `next` on, up to a round's worth of events, and returns the last position
    /// JetStream acknowledged (`None`: nothing to publish). Reading the store, publishing and awaiting
    /// acknowledgements overlap: a reader task fetches the next page while this one is sent, and up to
    /// `max_in_flight` acknowledgements are outstanding, checked in order.
    async fn publish_from(&self, next: u64) -> Result<Option<u64>, BusError> {
        let (pages_tx, mut pages) = mpsc::channel::<Vec<RecordedEvent>>(2);
        let store = self.store.clone();
        let (page_size, limit) = (self.config.batch_size, self.config.max_round_events);
        let reader = tokio::spawn(async move {
            let (mut from, mut read) = (next, 0);
            while read < limit {
                let page = store.read_all(from, page_size.min(limit - read)).await?;
                let Some(last) = page.last().map(|e| e.position) else {
                    break;
                };
                from = last + 1;
                read += page.len();
                if pages_tx.send(page).await.is_err() {
                    break; // the publisher stopped on an error
                }
            }
            Ok::<_, BusError>(())
        });

        let published = async {
            let mut in_flight = VecDeque::with_capacity(self.config.max_in_flight);
            let mut acked = None;
            while let Some(page) = pages.recv().await {
                for event in &page {
                    let message = PublishMessage::build()
                        .payload(cloudevent::encode(event).into())
                        .message_id(event.event_id.to_string())
                        .expected_last_sequence(event.position - 1)
                        .header("content-type", cloudevent::CONTENT_TYPE)
                        .header("traceparent", cloudevent::traceparent(event).as_str());
                    let ack = self
                        .js
                        .send_publish(cloudevent::subject(event), message)
                        .await
                        .map_err(|e| BusError::Publish(e.to_string()))?;
                    in_flight.push_back((event.position, ack));
                    while in_flight.len() >= self.config.max_in_flight {
                        if let Some((position, ack)) = in_flight.pop_front() {
                            acked = Some(check_ack(position, ack.await)?);
                        }
                    }
                }
            }
            while let Some((position, ack)) = in_flight.pop_front() {
                acked = Some(check_ack(position, ack.await)?);
            }
            Ok::<_, BusError>(acked)
        }
        .await;
        drop(pages);
        let read = reader
            .await
            .map_err(|e| BusError::Publish(format!("reader task failed: {e}")))?;
        let acked = published?;
        read?;
        Ok(acked)
    }
}

/// Checks that JetStream stored the event at `position` as stream sequence `position`.
fn check_ack(position: u64, ack: Result<PublishAck, PublishError>) -> Result<u64, BusError> {
    let ack = ack.map_err(|e| match e.kind() {
        PublishErrorKind::WrongLastSequence => BusError::Publish(format!(
            "stream is not at sequence {} as expected",
            position - 1
        )),
        _ => BusError::Publish(e.to_string()),
    })?;
    if ack.sequence != position {
        return Err(BusError::Publish(format!(
            "event at position {position} was stored at stream sequence {}",
            ack.sequence
        )));
    }
    Ok(position)
}
