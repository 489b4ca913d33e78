//! Where the projector reads events: a small abstraction with two implementations — an agency store's own
//! ordered log (the embedded mode, no broker) and a durable JetStream pull consumer on the agency's stream.
//! Both deliver one store's events in position order (stream sequence = store position, by the relay).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use async_trait::async_trait;
use futures::{FutureExt, StreamExt};
use oneledger_bus::{StreamSpec, cloudevent};
use oneledger_retry::Backoff;
use oneledger_store::{EventLog, RecordedEvent, StoreError};
use tokio::sync::watch;

/// How long a read waits for new events before returning none.
pub const IDLE_WAIT: Duration = Duration::from_millis(500);
/// Deliveries of one message before JetStream stops redelivering it; the projector parks what it cannot
/// read long before that, so this bounds only repeated crashes on one batch.
pub const MAX_DELIVER: i64 = 20;

/// Why a feed could not deliver.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// JetStream failed.
    #[error("JetStream: {0}")]
    JetStream(String),
}

/// Where a feed's source stands past the ledger's checkpoint: for the ledger's health and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Behind {
    /// The source's last position.
    pub head: u64,
    /// When the first event past the checkpoint entered the source (the store committed it, or the
    /// stream took it); `None` when there is none.
    pub oldest_unapplied: Option<chrono::DateTime<chrono::Utc>>,
}

/// One store's events, in position order.
#[async_trait]
pub trait Feed: Send {
    /// The feed's name: its checkpoint's key in the ledger.
    fn name(&self) -> &str;

    /// Up to `max` events after position `after`; none when nothing came within [`IDLE_WAIT`].
    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError>;

    /// Everything up to `position` is applied and checkpointed.
    async fn ack(&mut self, position: u64) -> Result<(), FeedError>;

    /// Gets ready to deliver from `after + 1` again after a failure (a broker node lost, a connection
    /// reset).
    async fn recover(&mut self, after: u64) -> Result<(), FeedError>;

    /// Where the source stands past position `after`.
    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError>;
}

/// An agency store's ordered log, read directly (embedded mode).
pub struct StoreFeed {
    name: String,
    store: Arc<dyn EventLog>,
    head: watch::Receiver<u64>,
}

impl StoreFeed {
    /// The log of `store`, checkpointed as `name`.
    pub fn new(name: impl Into<String>, store: Arc<dyn EventLog>) -> Self {
        let head = store.watch_head();
        StoreFeed {
            name: name.into(),
            store,
            head,
        }
    }
}

#[async_trait]
impl Feed for StoreFeed {
    fn name(&self) -> &str {
        &self.name
    }

    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        let events = self.store.read_all(after + 1, max).await?;
        if events.is_empty() {
            // Woken by this process's appends; the timeout catches other processes'.
            let _ = tokio::time::timeout(IDLE_WAIT, self.head.changed()).await;
        }
        Ok(events)
    }

    async fn ack(&mut self, _position: u64) -> Result<(), FeedError> {
        Ok(())
    }

    async fn recover(&mut self, _after: u64) -> Result<(), FeedError> {
        // Every read asks the store afresh.
        Ok(())
    }

    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError> {
        let head = self.store.head().await?;
        let oldest_unapplied = match head > after {
            true => self
                .store
                .read_all(after + 1, 1)
                .await?
                .first()
                .map(|e| e.recorded_at),
            false => None,
        };
        Ok(Behind {
            head,
            oldest_unapplied,
        })
    }
}

/// A durable pull consumer on an agency's JetStream stream.
///
/// The ledger's checkpoint, not the consumer's acknowledgements, says where to read: the consumer is
/// created afresh from the checkpoint on connect, and re-created from the next expected sequence whenever a
/// delivery skips ahead. Messages still unacknowledged by a crashed projector come back only after the ack
/// wait, after newer ones; a consumer kept across the crash would let the ledger step over them.
pub struct JetStreamFeed {
    name: String,
    durable: String,
    stream: jetstream::stream::Stream,
    /// The consumer's messages, pulled ahead in the background.
    messages: consumer::pull::Stream,
    pending: Vec<jetstream::Message>,
    /// Sequences terminated as unreadable: a delivery may step over them without being a gap.
    terminated: BTreeSet<u64>,
    /// The stream's first sequence when it was found past the expected one (older messages removed by
    /// an operator or a limit): a delivery may start there.
    floor: u64,
}

fn js(e: impl std::fmt::Display) -> FeedError {
    FeedError::JetStream(e.to_string())
}

impl JetStreamFeed {
    /// The durable consumer `durable` on `spec`'s stream, delivering from `checkpoint + 1`.
    pub async fn connect(
        js_context: &jetstream::Context,
        spec: &StreamSpec,
        durable: &str,
        checkpoint: u64,
    ) -> Result<Self, FeedError> {
        let stream = oneledger_bus::ensure_stream(js_context, spec)
            .await
            .map_err(js)?;
        let consumer = Self::consumer_from(&stream, durable, checkpoint + 1).await?;
        let messages = Self::messages_of(&consumer).await?;
        Ok(JetStreamFeed {
            name: format!("jetstream:{}", spec.name),
            durable: durable.to_owned(),
            stream,
            messages,
            pending: vec![],
            terminated: BTreeSet::new(),
            floor: 0,
        })
    }

    /// The consumer's messages, pulled in batches of [`PULL_BATCH`].
    async fn messages_of(
        consumer: &consumer::Consumer<consumer::pull::Config>,
    ) -> Result<consumer::pull::Stream, FeedError> {
        consumer
            .stream()
            .max_messages_per_batch(PULL_BATCH)
            .messages()
            .await
            .map_err(js)
    }

    /// [`connect`](Self::connect), retried with a growing pause while it fails: a cluster electing a
    /// stream's leader, or a node down, answers with timeouts for a few seconds.
    pub async fn connect_retrying(
        js_context: &jetstream::Context,
        spec: &StreamSpec,
        durable: &str,
        checkpoint: u64,
    ) -> Self {
        let mut backoff = Backoff::new(FIRST_CONNECT_PAUSE, MAX_CONNECT_PAUSE);
        loop {
            match Self::connect(js_context, spec, durable, checkpoint).await {
                Ok(feed) => return feed,
                Err(e) => {
                    tracing::warn!(stream = spec.name, error = %e, "connecting the feed failed; retrying");
                    backoff.wait().await;
                }
            }
        }
    }

    /// (Re)creates the durable consumer so that it delivers from `start`.
    async fn consumer_from(
        stream: &jetstream::stream::Stream,
        durable: &str,
        start: u64,
    ) -> Result<consumer::Consumer<consumer::pull::Config>, FeedError> {
        if stream
            .get_consumer::<consumer::pull::Config>(durable)
            .await
            .is_ok()
        {
            stream.delete_consumer(durable).await.map_err(js)?;
        }
        stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                deliver_policy: if start <= 1 {
                    consumer::DeliverPolicy::All
                } else {
                    consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: start,
                    }
                },
                max_deliver: MAX_DELIVER,
                ack_wait: ACK_WAIT,
                ..Default::default()
            })
            .await
            .map_err(js)
    }
}

/// Longest pause between attempts to connect a feed.
pub const MAX_CONNECT_PAUSE: Duration = Duration::from_secs(5);
/// First pause after a failed attempt to connect a feed.
pub const FIRST_CONNECT_PAUSE: Duration = Duration::from_millis(200);

/// Messages the consumer pulls ahead per request.
pub const PULL_BATCH: usize = 1000;

/// How long JetStream waits for an acknowledgement before redelivering: far longer than a batch takes.
pub const ACK_WAIT: Duration = Duration::from_secs(30);

#[async_trait]
impl Feed for JetStreamFeed {
    fn name(&self) -> &str {
        &self.name
    }

    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError> {
        let head = self
            .stream
            .get_info()
            .await
            .map_err(js)?
            .state
            .last_sequence;
        // A message removed by a limit has no time: the next one is then the oldest, but one look is
        // enough for a gauge.
        let oldest_unapplied = match head > after {
            true => self
                .stream
                .get_raw_message(after + 1)
                .await
                .ok()
                .and_then(|m| {
                    chrono::DateTime::from_timestamp(m.time.unix_timestamp(), m.time.nanosecond())
                }),
            false => None,
        };
        Ok(Behind {
            head,
            oldest_unapplied,
        })
    }

    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        // Wait for the first message, then take what has already arrived: a batch never waits to fill up,
        // so a lone command reaches the ledger at once.
        let mut delivered = Vec::new();
        match tokio::time::timeout(IDLE_WAIT, self.messages.next()).await {
            Err(_) => return Ok(vec![]),
            Ok(None) => return Err(FeedError::JetStream("the consumer's stream ended".into())),
            Ok(Some(message)) => delivered.push(message.map_err(js)?),
        }
        while delivered.len() < max {
            match self.messages.next().now_or_never() {
                Some(Some(message)) => delivered.push(message.map_err(js)?),
                Some(None) | None => break,
            }
        }
        let mut events = Vec::new();
        let mut expected = after + 1;

        let mut gap = false;
        for message in delivered {
            let sequence = message.info().map_err(js)?.stream_sequence;
            if sequence < expected {
                // Already applied (a redelivery after the ack wait): the checkpoint covers it.
                message.ack().await.map_err(js)?;
                continue;
            }
            expected = expected.max(self.floor.min(sequence));
            while self.terminated.contains(&expected) && expected < sequence {
                expected += 1;
            }
            if gap || sequence > expected {
                // Delivered out of order: drop the rest of this batch and read again from `expected`.
                gap = true;
                continue;
            }
            expected = sequence + 1;
            match cloudevent::decode(&message.payload) {
                Ok(event) => {
                    events.push(event);
                    self.pending.push(message);
                }
                Err(e) => {
                    // Not one of ours: kept in the stream for an operator, never redelivered to stall us.
                    tracing::error!(error = %e, subject = %message.subject, sequence, "unreadable message terminated");
                    self.terminated.insert(sequence);
                    message.ack_with(AckKind::Term).await.map_err(js)?;
                }
            }
        }
        if gap {
            let first = self.stream.info().await.map_err(js)?.state.first_sequence;
            if first > expected {
                tracing::error!(
                    feed = self.name,
                    expected,
                    first,
                    "the stream no longer holds the events the ledger needs next; going on from its first"
                );
                self.floor = first;
            }
            tracing::warn!(
                feed = self.name,
                expected,
                "delivery skipped ahead; reading again from the expected sequence"
            );
            self.pending.clear();
            let consumer = Self::consumer_from(&self.stream, &self.durable, expected).await?;
            self.messages = Self::messages_of(&consumer).await?;
        }
        Ok(events)
    }

    async fn ack(&mut self, position: u64) -> Result<(), FeedError> {
        let (done, keep): (Vec<_>, Vec<_>) = self.pending.drain(..).partition(|m| {
            m.info()
                .map(|i| i.stream_sequence <= position)
                .unwrap_or(true)
        });
        self.pending = keep;
        for message in done {
            message.ack().await.map_err(js)?;
        }
        Ok(())
    }

    async fn recover(&mut self, after: u64) -> Result<(), FeedError> {
        self.pending.clear();
        let consumer = Self::consumer_from(&self.stream, &self.durable, after + 1).await?;
        self.messages = Self::messages_of(&consumer).await?;
        Ok(())
    }
}
