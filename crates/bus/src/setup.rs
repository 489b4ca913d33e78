//! Connecting to NATS and declaring the JetStream streams and consumers oneledger needs. Declaring is
//! idempotent: creating what exists is fine, so every process may run it at start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream::{self, stream};
use oneledger_domain::Agency;
use tokio::sync::Notify;

use crate::error::BusError;

/// How long JetStream keeps message ids to drop a re-published duplicate (the server's default).
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// A JetStream stream for one agency store's events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSpec {
    /// Stream name, e.g. `ONELEDGER_PETITION`.
    pub name: String,
    /// Subjects it captures, e.g. `oneledger.*.petition.>`.
    pub subjects: Vec<String>,
    /// Replicas: 1 on one server, 3 in a cluster.
    pub replicas: usize,
}

impl StreamSpec {
    /// The design's stream for `agency`: every district's events of that agency.
    pub fn for_agency(agency: Agency) -> Self {
        StreamSpec {
            name: format!("ONELEDGER_{}", agency.token().to_uppercase()),
            subjects: vec![format!("oneledger.*.{}.>", agency.token())],
            replicas: 1,
        }
    }

    /// A stream for one district's events of `agency`, named after both, so tests and several
    /// deployments can share one NATS server without their subjects overlapping.
    pub fn for_district(agency: Agency, district: &str) -> Self {
        StreamSpec {
            name: format!("ONELEDGER_{}_{}", agency.token(), district).to_uppercase(),
            subjects: vec![format!("oneledger.{district}.{}.>", agency.token())],
            replicas: 1,
        }
    }

    fn config(&self) -> stream::Config {
        stream::Config {
            name: self.name.clone(),
            subjects: self.subjects.clone(),
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            num_replicas: self.replicas,
            duplicate_window: DUPLICATE_WINDOW,
            ..Default::default()
        }
    }
}

/// Counts (re)connections of a NATS client, so the relay can reconcile after each one: a server that
/// crashed may have lost messages it had acknowledged.
#[derive(Debug, Default)]
pub struct ConnectionEvents {
    connects: AtomicU64,
    changed: Notify,
}

impl ConnectionEvents {
    /// How many times the client has connected so far.
    pub fn connects(&self) -> u64 {
        self.connects.load(Ordering::SeqCst)
    }

    /// Resolves at the next (re)connection.
    pub async fn changed(&self) {
        self.changed.notified().await
    }
}

/// A NATS client and the events of its connection.
pub type Connected = (async_nats::Client, Arc<ConnectionEvents>);

/// TLS to NATS: the servers' certificates are checked against `ca` alone, and `client` is presented
/// where the servers verify clients (`verify: true` in their `tls` block).
#[derive(Debug, Clone)]
pub struct NatsTls {
    /// The CA of the servers' certificates (PEM).
    pub ca: std::path::PathBuf,
    /// This client's certificate and key (PEM).
    pub client: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

/// Connects to NATS at `url` (comma-separated for a cluster), retrying in the background while the server is down: a service must start,
/// and keep its outbox, while the broker is away.
pub async fn connect(url: &str, name: &str) -> Result<Connected, BusError> {
    connect_with(url, name, None).await
}

/// [`connect`], over TLS when `tls` is given (required then: a server offering plaintext is refused).
pub async fn connect_with(
    url: &str,
    name: &str,
    tls: Option<&NatsTls>,
) -> Result<Connected, BusError> {
    let events = Arc::new(ConnectionEvents::default());
    let seen = events.clone();
    let mut options = async_nats::ConnectOptions::new();
    if let Some(tls) = tls {
        options = options
            .require_tls(true)
            .add_root_certificates(tls.ca.clone());
        if let Some((cert, key)) = &tls.client {
            options = options.add_client_certificate(cert.clone(), key.clone());
        }
    }
    let client = options
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((attempts as u64 * 100).min(2000))
        })
        .event_callback(move |event| {
            let seen = seen.clone();
            async move {
                match event {
                    async_nats::Event::Connected => {
                        seen.connects.fetch_add(1, Ordering::SeqCst);
                        seen.changed.notify_waiters();
                    }
                    async_nats::Event::Disconnected => tracing::warn!("NATS disconnected"),
                    other => tracing::debug!(event = %other, "NATS event"),
                }
            }
        })
        .connect(
            // A cluster is given as comma-separated URLs; the client fails over between them.
            url.split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .collect::<Vec<_>>(),
        )
        .await
        .map_err(|e| BusError::Connect(e.to_string()))?;
    Ok((client, events))
}

/// Creates the stream if missing and returns it.
pub async fn ensure_stream(
    js: &jetstream::Context,
    spec: &StreamSpec,
) -> Result<stream::Stream, BusError> {
    js.get_or_create_stream(spec.config())
        .await
        .map_err(|e| BusError::JetStream(e.to_string()))
}

/// The NATS client type, re-exported so callers need not depend on async-nats.
pub type Client = async_nats::Client;
/// A JetStream context.
pub type JetStream = jetstream::Context;

/// A JetStream context over `client`.
pub fn jetstream(client: Client) -> JetStream {
    jetstream::new(client)
}
