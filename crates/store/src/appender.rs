//! Group commit: one task per store takes append requests from a channel and writes every request waiting
//! at that moment in one transaction. Callers wait on a oneshot for their own outcome. Merging requests this
//! way pays the write lock, the round trips and the commit's flush once per batch instead of once per event,
//! which is what lets dense, commit-ordered positions beat one-transaction-per-event.

use async_trait::async_trait;
use tokio::sync::{mpsc, oneshot, watch};

use crate::append::{AppendRequest, Appended};
use crate::batch::Prepared;
use crate::error::{AppendError, StoreError};

/// Most requests merged into one transaction; bounds a batch's latency and statement size.
const MAX_BATCH_REQUESTS: usize = 512;
/// Most events merged into one transaction.
const MAX_BATCH_EVENTS: usize = 8192;
/// Requests that may wait for the appender before callers feel back-pressure.
const QUEUE_DEPTH: usize = 4096;
/// How long the appender may wait, yielding to the scheduler, for the callers it just answered to come back
/// with their next request. Without it the first caller back starts a batch of one and the rest wait a
/// whole batch: batches alternate small and large and throughput halves. Kept far below a commit's
/// latency, so a caller that is slow to come back (say, preparing a large append) is not waited for.
const MAX_GATHER: std::time::Duration = std::time::Duration::from_micros(100);

/// A backend's side of group commit: write one batch in one transaction.
#[async_trait]
pub(crate) trait BatchWriter: Send + 'static {
    /// Writes `batch` atomically and returns each request's outcome and the log head after the commit.
    /// An `Err` means nothing was committed.
    async fn write_batch(
        &mut self,
        batch: &[Prepared],
    ) -> Result<(Vec<Result<Appended, AppendError>>, u64), AppendError>;
}

/// One waiting append.
pub(crate) struct Job {
    request: Prepared,
    reply: oneshot::Sender<Result<Appended, AppendError>>,
}

/// The caller's handle on the appender task.
#[derive(Debug, Clone)]
pub(crate) struct Appender {
    jobs: mpsc::Sender<Job>,
}

impl Appender {
    /// Starts the task; it ends when every handle is dropped. Commits advance `head`.
    pub(crate) fn spawn<W: BatchWriter>(writer: W, head: watch::Sender<u64>) -> Self {
        let (jobs, rx) = mpsc::channel(QUEUE_DEPTH);
        tokio::spawn(run(writer, rx, head));
        Appender { jobs }
    }

    /// Validates and prepares `request` in the caller's task, queues it and waits for its outcome.
    pub(crate) async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        let request = Prepared::new(request)?;
        let (reply, outcome) = oneshot::channel();
        self.jobs
            .send(Job { request, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        outcome.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run<W: BatchWriter>(mut writer: W, mut rx: mpsc::Receiver<Job>, head: watch::Sender<u64>) {
    // Callers answered by the last batch, who are likely to send again at once.
    let mut answered = 0;
    while let Some(first) = rx.recv().await {
        let mut events = first.request.request.events.len();
        let mut jobs = vec![first];
        let gather_start = std::time::Instant::now();
        while jobs.len() < MAX_BATCH_REQUESTS && events < MAX_BATCH_EVENTS {
            match rx.try_recv() {
                Ok(job) => {
                    events += job.request.request.events.len();
                    jobs.push(job);
                }
                Err(_) if jobs.len() < answered && gather_start.elapsed() < MAX_GATHER => {
                    tokio::task::yield_now().await;
                }
                Err(_) => break,
            }
        }
        answered = jobs.len();
        let (requests, replies): (Vec<Prepared>, Vec<_>) =
            jobs.into_iter().map(|j| (j.request, j.reply)).unzip();

        match writer.write_batch(&requests).await {
            Ok((outcomes, new_head)) => {
                advance(&head, new_head);
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome); // the caller may have given up; its events stay appended
                }
            }
            Err(e) if requests.len() == 1 => {
                let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
            }
            Err(e) => {
                // One bad request (say, a reused event id) must not fail its neighbours: retry one by one.
                tracing::warn!(error = %e, requests = requests.len(), "batch failed, retrying its requests singly");
                for (request, reply) in requests.into_iter().zip(replies) {
                    let outcome = match writer.write_batch(std::slice::from_ref(&request)).await {
                        Ok((mut outcomes, new_head)) => {
                            advance(&head, new_head);
                            outcomes
                                .pop()
                                .unwrap_or(Err(AppendError::Store(StoreError::Closed)))
                        }
                        Err(e) => Err(e),
                    };
                    let _ = reply.send(outcome);
                }
            }
        }
    }
}

fn advance(head: &watch::Sender<u64>, new_head: u64) {
    head.send_if_modified(|h| {
        let moved = new_head > *h;
        if moved {
            *h = new_head;
        }
        moved
    });
}
