//! `oneledger-bench`: measures the event store and the relay, each against a raw baseline measured in the
//! same run on the same server, and prints a table with the ratios and the targets of issue 2.
//!
//! Run: `cargo run --release -p oneledger-bench -- --seconds 5` (PostgreSQL and NATS as in the README).

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use async_nats::jetstream;
use chrono::Utc;
use clap::Parser;
use futures::future::try_join_all;
use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore,
    SqliteEventStore,
};
use oneledger_testkit::TestDatabase;
use serde_json::json;
use sqlx::{PgPool, SqlitePool};
use uuid::Uuid;

mod ledger;
mod links;

/// Benchmark settings.
#[derive(Debug, Parser)]
#[command(about = "Event store, relay and ledger benchmarks")]
struct Config {
    /// Run the ledger benchmarks (rebuild rate, ListEntries, command-to-visible latency) instead of the
    /// store and relay ones.
    #[arg(long)]
    ledger: bool,
    /// Run the link benchmark (LinkItems latency as the district's registry grows) instead.
    #[arg(long)]
    links: bool,
    /// Link benchmark: the registry sizes to measure at.
    #[arg(long, value_delimiter = ',', default_value = "0,10000,100000")]
    existing_links: Vec<usize>,
    /// Link benchmark: timed links at each size.
    #[arg(long, default_value_t = 200)]
    timed_links: usize,
    /// Ledger benchmarks: matters generated (two events each; one ledger entry each).
    #[arg(long, default_value_t = 100_000)]
    matters: usize,
    /// Ledger benchmarks: commands per second in the latency run.
    #[arg(long, default_value_t = 200)]
    rate: u32,
    /// Seconds each timed scenario runs.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Events loaded for the relay and read_all scenarios.
    #[arg(long, default_value_t = 50_000)]
    log_events: usize,
    /// NATS server for the relay scenario (a stream of its own is created and deleted).
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    nats_url: String,
    /// Backends to measure.
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    backends: Vec<String>,
}

/// One line of the report.
struct Row {
    scenario: String,
    backend: &'static str,
    measured: Measured,
    baseline: Option<Measured>,
    target: Option<f64>,
}

/// Throughput and per-call latency of one run.
#[derive(Clone, Copy)]
struct Measured {
    events_per_sec: f64,
    p50: Duration,
    p99: Duration,
}

fn measured(events: usize, elapsed: Duration, mut latencies: Vec<Duration>) -> Measured {
    latencies.sort_unstable();
    let at = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Measured {
        events_per_sec: events as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

/// About 300 bytes of JSON, shaped like a registration with its personal fields encrypted.
fn payload(n: u64) -> serde_json::Value {
    json!({
        "title": "Unpaid wages for 23 workers at a building site in the port area",
        "claim_class": "claim",
        "channel": "visit",
        "territory": "binhai.xingang",
        "collective_size": 23,
        "petitioners": [{"person_ref": format!("p-{n:08}"), "name_ct": "q3Jf0vX8mB2kLw9tYc4Rz7NhUe1Ga6Sd"}],
        "seq": n,
    })
}

fn new_event(n: u64, district: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "petition.matter.registered".into(),
        schema_version: 1,
        data: payload(n),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            district: district.into(),
            agency: Agency::Petition,
            acting_unit: "binhai.petition_office".into(),
            acting_role: "intake_clerk".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            origin: None,
        },
    }
}

/// `writers` tasks, each appending `per_call` events per call to its own stream until `duration` ends;
/// with `record`, each append is also recorded in the process's metrics, as the services record theirs.
async fn run_store_writers(
    store: Arc<dyn EventStore>,
    writers: usize,
    per_call: usize,
    duration: Duration,
    record: bool,
) -> Result<Measured> {
    let start = Instant::now();
    let tasks = (0..writers).map(|w| {
        let store = store.clone();
        tokio::spawn(async move {
            let stream = format!("bench-{}-{w}", Uuid::now_v7().simple());
            let mut version = 0;
            let mut latencies = Vec::new();
            while start.elapsed() < duration {
                let events = (0..per_call)
                    .map(|i| new_event(version + i as u64, "binhai"))
                    .collect();
                let t = Instant::now();
                let appended = store
                    .append(AppendRequest {
                        stream_id: stream.clone(),
                        expected_version: ExpectedVersion::Exact(version),
                        events,
                        request_id: Uuid::now_v7(),
                        command: None,
                    })
                    .await?;
                if record {
                    oneledger_metrics::global().appended("petition", per_call, t.elapsed());
                }
                latencies.push(t.elapsed());
                version = appended.last_version;
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    });
    let mut all = Vec::new();
    for r in try_join_all(tasks).await? {
        all.extend(r?);
    }
    let elapsed = start.elapsed();
    Ok(measured(all.len() * per_call, elapsed, all))
}

/// A baseline: a function that writes `per_call` events for writer `w` at its version `v`.
trait Baseline: Clone + Send + Sync + 'static {
    fn write(
        &self,
        stream: String,
        version: u64,
        per_call: usize,
    ) -> impl Future<Output = Result<()>> + Send;
}

async fn run_baseline<B: Baseline>(
    b: B,
    writers: usize,
    per_call: usize,
    duration: Duration,
) -> Result<Measured> {
    let start = Instant::now();
    let tasks = (0..writers).map(|w| {
        let b = b.clone();
        tokio::spawn(async move {
            let stream = format!("base-{}-{w}", Uuid::now_v7().simple());
            let mut version = 0;
            let mut latencies = Vec::new();
            while start.elapsed() < duration {
                let t = Instant::now();
                b.write(stream.clone(), version, per_call).await?;
                latencies.push(t.elapsed());
                version += per_call as u64;
            }
            Ok::<_, anyhow::Error>(latencies)
        })
    });
    let mut all = Vec::new();
    for r in try_join_all(tasks).await? {
        all.extend(r?);
    }
    let elapsed = start.elapsed();
    Ok(measured(all.len() * per_call, elapsed, all))
}

/// PostgreSQL baselines: a plain table with the event log's columns and unique keys, written with one
/// autocommit INSERT per event, or one INSERT … SELECT FROM UNNEST per call.
#[derive(Clone)]
struct PgBaseline(PgPool);

impl Baseline for PgBaseline {
    async fn write(&self, stream: String, version: u64, per_call: usize) -> Result<()> {
        if per_call == 1 {
            let e = new_event(version, "binhai");
            sqlx::query(
                "INSERT INTO baseline_events (stream_id, stream_version, event_id, event_type, schema_version, \
                 data, occurred_at, recorded_at, district, agency, acting_unit, acting_role, request_id, \
                 correlation_id, causation_id) \
                 VALUES ($1, $2, $3, $4, 1, $5::json, $6, now(), $7, $8, $9, $10, $11, $12, NULL)",
            )
            .bind(&stream)
            .bind(version as i64 + 1)
            .bind(e.event_id)
            .bind(&e.event_type)
            .bind(e.data.to_string())
            .bind(e.metadata.occurred_at)
            .bind(&e.metadata.district)
            .bind(e.metadata.agency.token())
            .bind(&e.metadata.acting_unit)
            .bind(&e.metadata.acting_role)
            .bind(Uuid::now_v7())
            .bind(e.metadata.correlation_id)
            .execute(&self.0)
            .await?;
            return Ok(());
        }
        let events: Vec<NewEvent> = (0..per_call)
            .map(|i| new_event(version + i as u64, "binhai"))
            .collect();
        let versions: Vec<i64> = (0..per_call as i64)
            .map(|i| version as i64 + 1 + i)
            .collect();
        sqlx::query(
            "INSERT INTO baseline_events (stream_id, stream_version, event_id, event_type, schema_version, \
             data, occurred_at, recorded_at, district, agency, acting_unit, acting_role, request_id, \
             correlation_id, causation_id) \
             SELECT $1, v, e, t, 1, d::json, o, now(), 'binhai', 'petition', 'binhai.petition_office', \
               'intake_clerk', $2, c, NULL \
             FROM UNNEST($3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::timestamptz[], $8::uuid[]) \
               AS u(v, e, t, d, o, c)",
        )
        .bind(&stream)
        .bind(Uuid::now_v7())
        .bind(&versions)
        .bind(events.iter().map(|e| e.event_id).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.event_type.clone()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.data.to_string()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.metadata.occurred_at).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.metadata.correlation_id).collect::<Vec<_>>())
        .execute(&self.0)
        .await?;
        Ok(())
    }
}

/// SQLite baselines: the same table, one autocommit INSERT per event or one multi-row INSERT per call.
#[derive(Clone)]
struct SqliteBaseline(SqlitePool);

impl Baseline for SqliteBaseline {
    async fn write(&self, stream: String, version: u64, per_call: usize) -> Result<()> {
        let events: Vec<NewEvent> = (0..per_call)
            .map(|i| new_event(version + i as u64, "binhai"))
            .collect();
        let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
            "INSERT INTO baseline_events (stream_id, stream_version, event_id, event_type, schema_version, \
             data, occurred_at, recorded_at, district, agency, acting_unit, acting_role, request_id, \
             correlation_id, causation_id) ",
        );
        let now = Utc::now();
        let request = Uuid::now_v7();
        insert.push_values(events.iter().enumerate(), |mut b, (i, e)| {
            b.push_bind(stream.as_str())
                .push_bind(version as i64 + 1 + i as i64)
                .push_bind(e.event_id)
                .push_bind(e.event_type.as_str())
                .push_bind(1)
                .push_bind(e.data.to_string())
                .push_bind(e.metadata.occurred_at)
                .push_bind(now)
                .push_bind("binhai")
                .push_bind("petition")
                .push_bind("binhai.petition_office")
                .push_bind("intake_clerk")
                .push_bind(request)
                .push_bind(e.metadata.correlation_id)
                .push_bind(None::<Uuid>);
        });
        insert.build().execute(&self.0).await?;
        Ok(())
    }
}

const PG_BASELINE_TABLE: &str = "CREATE TABLE baseline_events (id bigserial PRIMARY KEY, \
    stream_id text NOT NULL, stream_version bigint NOT NULL, event_id uuid NOT NULL UNIQUE, \
    event_type text NOT NULL, schema_version integer NOT NULL, data json NOT NULL, \
    occurred_at timestamptz NOT NULL, recorded_at timestamptz NOT NULL, district text NOT NULL, \
    agency text NOT NULL, acting_unit text NOT NULL, acting_role text NOT NULL, request_id uuid NOT NULL, \
    correlation_id uuid NOT NULL, causation_id uuid, UNIQUE (stream_id, stream_version))";

const SQLITE_BASELINE_TABLE: &str = "CREATE TABLE baseline_events (id INTEGER PRIMARY KEY, \
    stream_id TEXT NOT NULL, stream_version INTEGER NOT NULL, event_id BLOB NOT NULL UNIQUE, \
    event_type TEXT NOT NULL, schema_version INTEGER NOT NULL, data TEXT NOT NULL, occurred_at TEXT NOT NULL, \
    recorded_at TEXT NOT NULL, district TEXT NOT NULL, agency TEXT NOT NULL, acting_unit TEXT NOT NULL, \
    acting_role TEXT NOT NULL, request_id BLOB NOT NULL, correlation_id BLOB NOT NULL, causation_id BLOB, \
    UNIQUE (stream_id, stream_version))";

/// Append-path scenarios for one backend.
async fn append_scenarios<B: Baseline>(
    backend: &'static str,
    store: Arc<dyn EventStore>,
    baseline: B,
    duration: Duration,
    rows: &mut Vec<Row>,
) -> Result<()> {
    for writers in [1, 4, 16] {
        let m = run_store_writers(store.clone(), writers, 1, duration, false).await?;
        let b = run_baseline(baseline.clone(), writers, 1, duration).await?;
        rows.push(Row {
            scenario: format!("append 1 event/call, {writers} writers"),
            backend,
            measured: m,
            baseline: Some(b),
            target: (writers == 16 && backend == "postgres").then_some(1.5),
        });
    }
    let m = run_store_writers(store.clone(), 4, 100, duration, false).await?;
    let b = run_baseline(baseline, 4, 100, duration).await?;
    rows.push(Row {
        scenario: "append 100 events/call, 4 writers".into(),
        backend,
        measured: m,
        baseline: Some(b),
        target: (backend == "postgres").then_some(0.7),
    });
    // The cost of metrics: the same appends recorded and not, one after the other.
    let off = run_store_writers(store.clone(), 16, 1, duration, false).await?;
    let on = run_store_writers(store.clone(), 16, 1, duration, true).await?;
    rows.push(Row {
        scenario: "append 1 event/call, 16 writers, metrics on (baseline: off)".into(),
        backend,
        measured: on,
        baseline: Some(off),
        target: None,
    });
    Ok(())
}

/// Loads `n` events into the store for district `district` in calls of 500.
async fn load(store: &dyn EventStore, n: usize, district: &str) -> Result<()> {
    let mut loaded = 0;
    let mut stream = 0;
    while loaded < n {
        let count = 500.min(n - loaded);
        store
            .append(AppendRequest {
                stream_id: format!("load-{stream}"),
                expected_version: ExpectedVersion::Any,
                events: (0..count)
                    .map(|i| new_event((loaded + i) as u64, district))
                    .collect(),
                request_id: Uuid::now_v7(),
                command: None,
            })
            .await?;
        loaded += count;
        stream += 1;
    }
    Ok(())
}

/// Relay from a loaded store to a fresh stream, against raw pipelined publishing of the same payloads.
async fn relay_scenario(
    backend: &'static str,
    store: Arc<dyn EventStore>,
    nats_url: &str,
    district: &str,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let head = store.head().await?;
    let (client, events) = oneledger_bus::connect(nats_url, "bench").await?;
    let js = jetstream::new(client.clone());
    let spec = StreamSpec::for_district(Agency::Petition, district);
    let _ = js.delete_stream(&spec.name).await;
    let relay = Relay::new(
        store.clone(),
        client.clone(),
        events,
        spec.clone(),
        RelayConfig::new(&spec, "bench"),
    );
    let mut published = relay.published();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let start = Instant::now();
    let task = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    tokio::time::timeout(Duration::from_secs(600), published.wait_for(|p| *p >= head))
        .await
        .context("the relay did not finish in 10 minutes")??;
    let relay_elapsed = start.elapsed();
    let _ = stop.send(());
    task.await??;
    js.delete_stream(&spec.name)
        .await
        .context("deleting the relay stream")?;

    // Baseline: the same encoded messages, pipelined, acks awaited per 1,000.
    let base = StreamSpec::for_district(Agency::Petition, &format!("{district}base"));
    let _ = js.delete_stream(&base.name).await;
    oneledger_bus::ensure_stream(&js, &base).await?;
    let mut payloads = Vec::with_capacity(head as usize);
    let mut from = 1;
    while from <= head {
        let batch = store.read_all(from, 5000).await?;
        from += batch.len() as u64;
        for e in batch {
            let subject = format!("oneledger.{district}base.petition.matter.registered");
            payloads.push((
                subject,
                bytes::Bytes::from(oneledger_bus::cloudevent::encode(&e)),
            ));
        }
    }
    let raw = publish_pipelined(&js, &payloads, false).await?;
    js.delete_stream(&base.name)
        .await
        .context("deleting the baseline stream")?;
    oneledger_bus::ensure_stream(&js, &base).await?;
    let with_headers = publish_pipelined(&js, &payloads, true).await?;
    js.delete_stream(&base.name)
        .await
        .context("deleting the baseline stream")?;
    let relay = measured(head as usize, relay_elapsed, vec![]);
    rows.push(Row {
        scenario: format!("relay store → JetStream ack ({head} events) vs raw publish"),
        backend,
        measured: relay,
        baseline: Some(measured(head as usize, raw, vec![])),
        target: Some(0.8),
    });
    rows.push(Row {
        scenario: "relay vs raw publish with the relay's Nats-Msg-Id + expected-sequence headers"
            .into(),
        backend,
        measured: relay,
        baseline: Some(measured(head as usize, with_headers, vec![])),
        target: None,
    });
    Ok(())
}

/// Publishes `payloads` pipelined (acks awaited per 1,000), optionally with the relay's de-duplication and
/// ordering headers, and returns the time taken.
async fn publish_pipelined(
    js: &jetstream::Context,
    payloads: &[(String, bytes::Bytes)],
    with_headers: bool,
) -> Result<Duration> {
    let start = Instant::now();
    let mut sequence = 0;
    for chunk in payloads.chunks(1000) {
        let mut acks = Vec::with_capacity(chunk.len());
        for (subject, payload) in chunk {
            let mut message = jetstream::message::PublishMessage::build().payload(payload.clone());
            if with_headers {
                message = message
                    .message_id(Uuid::now_v7().to_string())
                    .expected_last_sequence(sequence);
            }
            sequence += 1;
            acks.push(js.send_publish(subject.clone(), message).await?);
        }
        for ack in acks {
            ack.await?;
        }
    }
    Ok(start.elapsed())
}

async fn read_all_scenario(
    backend: &'static str,
    store: &dyn EventStore,
    rows: &mut Vec<Row>,
) -> Result<()> {
    let head = store.head().await?;
    let start = Instant::now();
    let mut latencies = Vec::new();
    let mut from = 1;
    let mut read = 0;
    while from <= head {
        let t = Instant::now();
        let page = store.read_all(from, 1000).await?;
        latencies.push(t.elapsed());
        read += page.len();
        from += page.len() as u64;
    }
    rows.push(Row {
        scenario: format!("read_all pages of 1,000 ({read} events)"),
        backend,
        measured: measured(read, start.elapsed(), latencies),
        baseline: None,
        target: None,
    });
    Ok(())
}

fn print(rows: &[Row]) {
    let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
    println!(
        "| scenario | backend | events/s | p50 ms | p99 ms | baseline events/s | baseline p50/p99 ms | ratio | target |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let (base, base_lat, ratio) = match r.baseline {
            Some(b) => (
                format!("{:.0}", b.events_per_sec),
                format!("{}/{}", ms(b.p50), ms(b.p99)),
                format!("{:.2}×", r.measured.events_per_sec / b.events_per_sec),
            ),
            None => ("—".into(), "—".into(), "—".into()),
        };
        let target = match (r.target, r.baseline) {
            (Some(t), Some(b)) => {
                let ok = r.measured.events_per_sec / b.events_per_sec >= t;
                format!("≥ {t}× {}", if ok { "met" } else { "MISSED" })
            }
            _ => "—".into(),
        };
        println!(
            "| {} | {} | {:.0} | {} | {} | {base} | {base_lat} | {ratio} | {target} |",
            r.scenario,
            r.backend,
            r.measured.events_per_sec,
            ms(r.measured.p50),
            ms(r.measured.p99)
        );
    }
}

#[tokio::main]
async fn main() -> Result<()> {
    let config = Config::parse();
    if config.links {
        let dir = tempfile::tempdir()?;
        let rows = links::run(dir.path(), &config.existing_links, config.timed_links).await?;
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        println!("oneledger-bench --links: political-legal service on SQLite, LinkItems over gRPC");
        println!(
            "| links in the registry | baseline: one replay of the registry, ms | first link after start, ms | next {} links p50 ms | p99 ms |",
            config.timed_links
        );
        println!("|---:|---:|---:|---:|---:|");
        for r in rows {
            println!(
                "| {} | {} | {} | {} | {} |",
                r.existing,
                ms(r.replay),
                ms(r.first),
                ms(r.steady.p50),
                ms(r.steady.p99)
            );
        }
        return Ok(());
    }
    if config.ledger {
        let dir = tempfile::tempdir()?;
        let r = ledger::run(dir.path(), config.matters, config.seconds, config.rate).await?;
        let ms = |d: Duration| format!("{:.2}", d.as_secs_f64() * 1000.0);
        println!(
            "oneledger-bench --ledger: {} cores, SQLite ledger and store",
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        );
        println!("| scenario | result | p50 ms | p99 ms | target |");
        println!("|---|---:|---:|---:|---|");
        println!(
            "| rebuild over {} events | {:.0} events/s | — | — | ≥ 30,000 events/s {} |",
            r.events,
            r.rebuild.events_per_sec,
            if r.rebuild.events_per_sec >= 30_000.0 {
                "met"
            } else {
                "MISSED"
            }
        );
        println!(
            "| ListEntries page of 50, unit filter, {} entries | {:.0} pages/s | {} | {} | p99 ≤ 20 ms {} |",
            r.entries,
            r.list.events_per_sec,
            ms(r.list.p50),
            ms(r.list.p99),
            if r.list.p99 <= Duration::from_millis(20) {
                "met"
            } else {
                "MISSED"
            }
        );
        println!(
            "| command accepted → visible in GetEntry, {} commands at {}/s | — | {} | {} | p99 ≤ 50 ms {} |",
            r.commands,
            config.rate,
            ms(r.visible.p50),
            ms(r.visible.p99),
            if r.visible.p99 <= Duration::from_millis(50) {
                "met"
            } else {
                "MISSED"
            }
        );
        return Ok(());
    }
    let duration = Duration::from_secs(config.seconds);
    let mut rows = Vec::new();
    println!(
        "oneledger-bench: {} cores, {} s per scenario, {} events in the log scenarios",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        config.seconds,
        config.log_events
    );
    let district = format!("bench{}", &Uuid::now_v7().simple().to_string()[20..]);

    if config.backends.iter().any(|b| b == "postgres") {
        // Two databases: the append scenarios' events would otherwise sit in the relayed log.
        let (appends, log) = (TestDatabase::create().await?, TestDatabase::create().await?);
        let outcome = async {
            let store = Arc::new(PgEventStore::connect(&appends.url).await?);
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(16)
                .test_before_acquire(false)
                .connect(&appends.url)
                .await?;
            sqlx::query(PG_BASELINE_TABLE).execute(&pool).await?;
            append_scenarios("postgres", store, PgBaseline(pool), duration, &mut rows).await?;
            let store = Arc::new(PgEventStore::connect(&log.url).await?);
            load(store.as_ref(), config.log_events, &district).await?;
            relay_scenario(
                "postgres",
                store.clone(),
                &config.nats_url,
                &district,
                &mut rows,
            )
            .await?;
            read_all_scenario("postgres", store.as_ref(), &mut rows).await
        }
        .await;
        appends.drop_db().await?;
        log.drop_db().await?;
        outcome?;
    }
    if config.backends.iter().any(|b| b == "sqlite") {
        let dir = tempfile::tempdir()?;
        let url = format!("sqlite://{}", dir.path().join("appends.db").display());
        let store = Arc::new(SqliteEventStore::connect(&url).await?);
        let options: sqlx::sqlite::SqliteConnectOptions = url.parse()?;
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .connect_with(
                options
                    .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sqlx::sqlite::SqliteSynchronous::Full)
                    .busy_timeout(Duration::from_secs(30)),
            )
            .await?;
        sqlx::query(SQLITE_BASELINE_TABLE).execute(&pool).await?;
        append_scenarios("sqlite", store, SqliteBaseline(pool), duration, &mut rows).await?;
        let url = format!("sqlite://{}", dir.path().join("log.db").display());
        let store = Arc::new(SqliteEventStore::connect(&url).await?);
        load(store.as_ref(), config.log_events, &district).await?;
        relay_scenario(
            "sqlite",
            store.clone(),
            &config.nats_url,
            &district,
            &mut rows,
        )
        .await?;
        read_all_scenario("sqlite", store.as_ref(), &mut rows).await?;
    }
    print(&rows);
    Ok(())
}
