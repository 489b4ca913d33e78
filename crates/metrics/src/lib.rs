//! What a oneledger process measures, in one registry per process, and the admin port that serves it.
//!
//! - [`Metrics`]: every metric family, named `oneledger_*`, documented where it is declared;
//!   [`global`] is the process's one instance (each part records into it; tests read it back);
//! - [`grpc`]: a tower layer counting and timing every gRPC call by method and code;
//! - [`admin`]: the admin port (`--admin-listen`): `/metrics` in the Prometheus text format.
//!
//! Recording is a relaxed atomic add or a short lock-free lookup of a label set; nothing here blocks a
//! request or touches I/O. Invariant: labels are bounded sets (agencies, feeds, gRPC methods and codes,
//! outcomes) — never an id, a unit or anything a caller typed.

pub mod admin;
pub mod grpc;

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// One agency's store, stream or relay.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AgencyLabel {
    /// `petition`, `public_security` or `political_legal`.
    pub agency: String,
}

/// One agency's JetStream stream (`ONELEDGER_PETITION`), which its relay fills from its store.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StreamLabel {
    /// The stream.
    pub stream: String,
}

/// One projector feed, named as its checkpoint is (`store:petition`, `jetstream:ONELEDGER_PETITION`).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedLabel {
    /// The feed.
    pub feed: String,
}

/// One gRPC method and the code it answered.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    /// `/package.Service/Method`.
    pub method: String,
    /// The gRPC code's name (`OK`, `INVALID_ARGUMENT`, …).
    pub code: String,
}

/// One gRPC method.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MethodLabel {
    /// `/package.Service/Method`.
    pub method: String,
}

/// A part of a process that says whether it is ready (a service, the ledger).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ComponentLabel {
    /// The gRPC service's name (`oneledger.petition.v1.PetitionService`).
    pub component: String,
}

/// How something ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    /// `ok` or `failed`.
    pub outcome: String,
}

/// A histogram family built with one fixed set of buckets.
type Timings<L> = Family<L, Histogram, fn() -> Histogram>;

/// A family of [`seconds`] histograms.
fn timings<L: EncodeLabelSet + Clone + std::hash::Hash + Eq>() -> Timings<L> {
    Family::new_with_constructor(seconds as fn() -> Histogram)
}

/// A family of [`sizes`] histograms.
fn counts<L: EncodeLabelSet + Clone + std::hash::Hash + Eq>() -> Timings<L> {
    Family::new_with_constructor(sizes as fn() -> Histogram)
}

/// Seconds from 0.5 ms to ~16 s, doubling: an append, a call or a batch.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// Counts from 1 to 4,096, doubling: events in an append or a batch.
fn sizes() -> Histogram {
    Histogram::new(exponential_buckets(1.0, 2.0, 13))
}

/// Every metric a oneledger process records. A part a process does not run leaves its families empty.
pub struct Metrics {
    registry: Registry,
    /// Last position of the store a relay publishes, by its stream.
    pub store_head: Family<StreamLabel, Gauge>,
    /// Seconds an append took (the event store's transaction), by agency.
    pub append_seconds: Timings<AgencyLabel>,
    /// Events per append, by agency.
    pub append_events: Timings<AgencyLabel>,
    /// Last store position the relay has published and JetStream acknowledged.
    pub relay_published: Family<StreamLabel, Gauge>,
    /// Events stored but not yet published: the store's head minus the published position.
    pub relay_lag_events: Family<StreamLabel, Gauge>,
    /// Position each projector feed has applied and checkpointed.
    pub feed_checkpoint: Family<FeedLabel, Gauge>,
    /// Events the feed's source holds past its checkpoint.
    pub feed_lag_events: Family<FeedLabel, Gauge>,
    /// Age of the oldest event the feed has not applied yet (0 when caught up).
    pub feed_oldest_unapplied_seconds: Family<FeedLabel, Gauge<f64, AtomicU64>>,
    /// 1 while a feed's last step failed.
    pub feed_failing: Family<FeedLabel, Gauge>,
    /// Events the projector could not apply, parked for an operator, as the ledger holds them.
    pub parked_events: Gauge,
    /// Events per projector batch.
    pub batch_events: Timings<FeedLabel>,
    /// Seconds a projector batch took to work out and write.
    pub batch_seconds: Timings<FeedLabel>,
    /// gRPC calls answered, by method and code.
    pub grpc_requests: Family<CallLabels, Counter>,
    /// Seconds to a gRPC call's response headers, by method.
    pub grpc_seconds: Timings<MethodLabel>,
    /// Deadline-watcher passes over the ledger, by outcome.
    pub watcher_passes: Family<OutcomeLabel, Counter>,
    /// Deadline thresholds (due soon, due today, overdue) the watcher recorded.
    pub watcher_thresholds: Counter,
    /// Records of an existing ledger (台账) imported, by agency.
    pub imported_records: Family<AgencyLabel, Counter>,
    /// 1 while a part of the process reports SERVING on its gRPC health, 0 while NOT_SERVING.
    pub ready: Family<ComponentLabel, Gauge>,
    /// The same, for the admin port's `/ready` (a family cannot be read back whole).
    readiness: std::sync::Mutex<std::collections::BTreeMap<String, bool>>,
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("oneledger");
        let m = Metrics {
            store_head: Family::default(),
            append_seconds: timings(),
            append_events: counts(),
            relay_published: Family::default(),
            relay_lag_events: Family::default(),
            feed_checkpoint: Family::default(),
            feed_lag_events: Family::default(),
            feed_oldest_unapplied_seconds: Family::default(),
            feed_failing: Family::default(),
            parked_events: Gauge::default(),
            batch_events: counts(),
            batch_seconds: timings(),
            grpc_requests: Family::default(),
            grpc_seconds: timings(),
            watcher_passes: Family::default(),
            watcher_thresholds: Counter::default(),
            imported_records: Family::default(),
            ready: Family::default(),
            readiness: std::sync::Mutex::default(),
            registry: Registry::default(),
        };
        let r = &mut registry;
        r.register(
            "store_head_position",
            "Last position of the agency's event store",
            m.store_head.clone(),
        );
        r.register(
            "store_append_seconds",
            "Seconds an append to the event store took",
            m.append_seconds.clone(),
        );
        r.register(
            "store_append_events",
            "Events per append to the event store",
            m.append_events.clone(),
        );
        r.register(
            "relay_published_position",
            "Last store position published to JetStream and acknowledged",
            m.relay_published.clone(),
        );
        r.register(
            "relay_lag_events",
            "Events stored but not yet published",
            m.relay_lag_events.clone(),
        );
        r.register(
            "projector_checkpoint_position",
            "Position the projector feed has applied",
            m.feed_checkpoint.clone(),
        );
        r.register(
            "projector_lag_events",
            "Events past the feed's checkpoint",
            m.feed_lag_events.clone(),
        );
        r.register(
            "projector_oldest_unapplied_age_seconds",
            "Age of the oldest event the feed has not applied",
            m.feed_oldest_unapplied_seconds.clone(),
        );
        r.register(
            "projector_feed_failing",
            "1 while the feed's last step failed",
            m.feed_failing.clone(),
        );
        r.register(
            "projector_parked_events",
            "Events parked for an operator",
            m.parked_events.clone(),
        );
        r.register(
            "projector_batch_events",
            "Events per projector batch",
            m.batch_events.clone(),
        );
        r.register(
            "projector_batch_seconds",
            "Seconds a projector batch took",
            m.batch_seconds.clone(),
        );
        r.register(
            "grpc_requests",
            "gRPC calls answered, by method and code",
            m.grpc_requests.clone(),
        );
        r.register(
            "grpc_request_seconds",
            "Seconds to a gRPC call's response, by method",
            m.grpc_seconds.clone(),
        );
        r.register(
            "watcher_passes",
            "Deadline-watcher passes over the ledger",
            m.watcher_passes.clone(),
        );
        r.register(
            "watcher_thresholds_recorded",
            "Deadline thresholds the watcher recorded",
            m.watcher_thresholds.clone(),
        );
        r.register(
            "imported_records",
            "Records of an existing ledger imported",
            m.imported_records.clone(),
        );
        r.register(
            "ready",
            "1 while the component reports SERVING",
            m.ready.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Every metric, in the Prometheus text format (version 0.0.4).
    pub fn encode(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail; an empty exposition would be the impossible fallback.
        if prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry).is_err()
        {
            text.clear();
        }
        text
    }

    /// Records one append of `events` events by `agency`'s store, taking `took`.
    pub fn appended(&self, agency: &str, events: usize, took: Duration) {
        let label = agency_label(agency);
        self.append_seconds
            .get_or_create(&label)
            .observe(took.as_secs_f64());
        self.append_events
            .get_or_create(&label)
            .observe(events as f64);
    }

    /// Records what the relay into `stream` knows: its store's head and the position published.
    pub fn relayed(&self, stream: &str, head: u64, published: u64) {
        let label = StreamLabel {
            stream: stream.to_owned(),
        };
        self.store_head.get_or_create(&label).set(as_gauge(head));
        self.relay_published
            .get_or_create(&label)
            .set(as_gauge(published));
        self.relay_lag_events
            .get_or_create(&label)
            .set(as_gauge(head.saturating_sub(published)));
    }

    /// Records one projector batch of `events` on `feed`, taking `took`.
    pub fn batch(&self, feed: &str, events: usize, took: Duration) {
        let label = feed_label(feed);
        self.batch_events
            .get_or_create(&label)
            .observe(events as f64);
        self.batch_seconds
            .get_or_create(&label)
            .observe(took.as_secs_f64());
    }

    /// Records where `feed` stands: its checkpoint, its source's head and the age of the oldest event
    /// not applied yet.
    pub fn feed_position(
        &self,
        feed: &str,
        checkpoint: u64,
        head: u64,
        oldest_unapplied: Duration,
    ) {
        let label = feed_label(feed);
        self.feed_checkpoint
            .get_or_create(&label)
            .set(as_gauge(checkpoint));
        self.feed_lag_events
            .get_or_create(&label)
            .set(as_gauge(head.saturating_sub(checkpoint)));
        self.feed_oldest_unapplied_seconds
            .get_or_create(&label)
            .set(oldest_unapplied.as_secs_f64());
    }

    /// Records whether `feed`'s last step failed.
    pub fn feed_step(&self, feed: &str, ok: bool) {
        self.feed_failing
            .get_or_create(&feed_label(feed))
            .set(i64::from(!ok));
    }

    /// Records a watcher pass and the thresholds it recorded.
    pub fn watched(&self, ok: bool, recorded: u64) {
        let outcome = if ok { "ok" } else { "failed" };
        self.watcher_passes
            .get_or_create(&OutcomeLabel {
                outcome: outcome.into(),
            })
            .inc();
        self.watcher_thresholds.inc_by(recorded);
    }

    /// Records whether `component` serves (what its gRPC health says), for probes that cannot speak
    /// gRPC over TLS.
    pub fn set_ready(&self, component: &str, ready: bool) {
        self.ready
            .get_or_create(&ComponentLabel {
                component: component.to_owned(),
            })
            .set(i64::from(ready));
        self.readiness
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(component.to_owned(), ready);
    }

    /// True when at least one component has said how it stands and every one serves.
    pub fn is_ready(&self) -> bool {
        let readiness = self.readiness.lock().unwrap_or_else(|e| e.into_inner());
        !readiness.is_empty() && readiness.values().all(|r| *r)
    }

    /// Records `n` records imported into `agency`'s store.
    pub fn imported(&self, agency: &str, n: u64) {
        self.imported_records
            .get_or_create(&agency_label(agency))
            .inc_by(n);
    }
}

fn agency_label(agency: &str) -> AgencyLabel {
    AgencyLabel {
        agency: agency.to_owned(),
    }
}

fn feed_label(feed: &str) -> FeedLabel {
    FeedLabel {
        feed: feed.to_owned(),
    }
}

/// A position as a gauge's value (positions never reach `i64::MAX`).
fn as_gauge(position: u64) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    &METRICS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_are_exposed_in_the_prometheus_text_format_with_their_labels() {
        // Given a registry, when a relay and a feed record where they stand.
        let m = Metrics::new();
        m.relayed("ONELEDGER_PETITION", 120, 100);
        m.feed_position("store:petition", 90, 120, Duration::from_millis(1500));
        m.appended("petition", 3, Duration::from_millis(2));
        // Then the exposition names each with its labels and values.
        let text = m.encode();
        for line in [
            "oneledger_relay_lag_events{stream=\"ONELEDGER_PETITION\"} 20",
            "oneledger_store_head_position{stream=\"ONELEDGER_PETITION\"} 120",
            "oneledger_projector_lag_events{feed=\"store:petition\"} 30",
            "oneledger_projector_oldest_unapplied_age_seconds{feed=\"store:petition\"} 1.5",
            "oneledger_store_append_events_count{agency=\"petition\"} 1",
            "# TYPE oneledger_store_append_seconds histogram",
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
    }
}
