//! Where the projector reads events: a small abstraction with two implementations — an agency store's own
//! ordered log (the embedded mode, no broker) and a durable JetStream pull consumer on the agency's stream.
//! Both deliver one store's events in position order (stream sequence = store position, by the relay).

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use async_trait::async_trait;
use futures::StreamExt;
use oneledger_bus::{StreamSpec, cloudevent};
use oneledger_store::{EventStore, RecordedEvent, StoreError};
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

/// One store's events, in position order.
#[async_trait]
pub trait Feed: Send {
    /// The feed's name: its checkpoint's key in the ledger.
    fn name(&self) -> &str;

    /// Up to `max` events after position `after`; none when nothing came within [`IDLE_WAIT`].
    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError>;

    /// Everything up to `position` is applied and checkpointed.
    async fn ack(&mut self, position: u64) -> Result<(), FeedError>;
}

/// An agency store's ordered log, read directly (embedded mode).
pub struct StoreFeed {
    name: String,
    store: Arc<dyn EventStore>,
    head: watch::Receiver<u64>,
}

impl StoreFeed {
    /// The log of `store`, checkpointed as `name`.
    pub fn new(name: impl Into<String>, store: Arc<dyn EventStore>) -> Self {
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
}

/// A durable pull consumer on an agency's JetStream stream.
pub struct JetStreamFeed {
    name: String,
    consumer: consumer::Consumer<consumer::pull::Config>,
    pending: Vec<jetstream::Message>,
}

fn js(e: impl std::fmt::Display) -> FeedError {
    FeedError::JetStream(e.to_string())
}

impl JetStreamFeed {
    /// The durable consumer `durable` on `spec`'s stream, delivering from `checkpoint + 1`. A consumer
    /// that already acknowledged past the checkpoint (the ledger was rebuilt or restored) is recreated,
    /// so no event is missed.
    pub async fn connect(
        js_context: &jetstream::Context,
        spec: &StreamSpec,
        durable: &str,
        checkpoint: u64,
    ) -> Result<Self, FeedError> {
        let stream = oneledger_bus::ensure_stream(js_context, spec)
            .await
            .map_err(js)?;
        if let Ok(mut existing) = stream.get_consumer::<consumer::pull::Config>(durable).await {
            let floor = existing.info().await.map_err(js)?.ack_floor.stream_sequence;
            if floor <= checkpoint {
                return Ok(JetStreamFeed {
                    name: format!("jetstream:{}", spec.name),
                    consumer: existing,
                    pending: vec![],
                });
            }
            tracing::warn!(
                durable,
                floor,
                checkpoint,
                "consumer is ahead of the ledger; recreating it"
            );
            stream.delete_consumer(durable).await.map_err(js)?;
        }
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                ack_policy: consumer::AckPolicy::Explicit,
                deliver_policy: if checkpoint == 0 {
                    consumer::DeliverPolicy::All
                } else {
                    consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: checkpoint + 1,
                    }
                },
                max_deliver: MAX_DELIVER,
                ack_wait: Duration::from_secs(30),
                ..Default::default()
            })
            .await
            .map_err(js)?;
        Ok(JetStreamFeed {
            name: format!("jetstream:{}", spec.name),
            consumer,
            pending: vec![],
        })
    }
}

#[async_trait]
impl Feed for JetStreamFeed {
    fn name(&self) -> &str {
        &self.name
    }

    async fn next(&mut self, _after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        let mut batch = self
            .consumer
            .batch()
            .max_messages(max)
            .expires(IDLE_WAIT)
            .messages()
            .await
            .map_err(js)?;
        let mut events = Vec::new();
        while let Some(message) = batch.next().await {
            let message = message.map_err(js)?;
            match cloudevent::decode(&message.payload) {
                Ok(event) => {
                    events.push(event);
                    self.pending.push(message);
                }
                Err(e) => {
                    // Not one of ours: kept in the stream for an operator, never redelivered to stall us.
                    tracing::error!(error = %e, subject = %message.subject, "unreadable message terminated");
                    message.ack_with(AckKind::Term).await.map_err(js)?;
                }
            }
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
}
