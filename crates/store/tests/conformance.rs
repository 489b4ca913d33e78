//! The store conformance suite: every test runs against PostgreSQL (a fresh database on the machine's
//! server) and SQLite (a file in a temp dir). Both backends must behave identically.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Result, bail, ensure};
use chrono::Utc;
use oneledger_domain::Agency;
use oneledger_store::{
    AppendError, AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore,
    SqliteEventStore, command_fingerprint,
};
use serde_json::json;
use uuid::Uuid;

fn metadata() -> EventMetadata {
    EventMetadata {
        occurred_at: Utc::now(),
        district: "binhai".into(),
        agency: Agency::Petition,
        acting_unit: "binhai.petition_office".into(),
        acting_role: "intake_clerk".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: None,
        origin: None,
    }
}

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "petition.matter.registered".into(),
        schema_version: 1,
        data: json!({ "n": n, "title": "unpaid wages at a building site" }),
        metadata: metadata(),
    }
}

fn request(stream: &str, expected: ExpectedVersion, events: usize) -> AppendRequest {
    AppendRequest {
        stream_id: stream.into(),
        expected_version: expected,
        events: (0..events as u64).map(event).collect(),
        request_id: Uuid::now_v7(),
        command: None,
    }
}

/// Opens a store; `reopen` opens another instance on the same data, as a restarted process would.
#[async_trait::async_trait]
trait Backend: Send + Sync {
    async fn open(&self) -> Result<Arc<dyn EventStore>>;
}

struct Pg(String);
struct Lite(String);

#[async_trait::async_trait]
impl Backend for Pg {
    async fn open(&self) -> Result<Arc<dyn EventStore>> {
        Ok(Arc::new(PgEventStore::connect(&self.0).await?))
    }
}

#[async_trait::async_trait]
impl Backend for Lite {
    async fn open(&self) -> Result<Arc<dyn EventStore>> {
        Ok(Arc::new(SqliteEventStore::connect(&self.0).await?))
    }
}

macro_rules! conformance {
    ($($test:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() -> anyhow::Result<()> {
                    let db = oneledger_testkit::TestDatabase::create().await?;
                    let outcome = super::$test(&super::Pg(db.url.clone())).await;
                    db.drop_db().await?;
                    outcome
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() -> anyhow::Result<()> {
                    let dir = tempfile::tempdir()?;
                    let url = format!("sqlite://{}", dir.path().join("store.db").display());
                    super::$test(&super::Lite(url)).await
                }
            )*
        }
    };
}

conformance!(
    appended_events_read_back_with_every_fact,
    expected_versions_are_checked,
    racing_exact_appends_have_one_winner_per_version,
    catch_up_reader_sees_every_position_once_in_order,
    retry_returns_the_first_result_even_after_restart,
    reused_request_id_with_other_content_is_refused,
    duplicate_event_id_fails_only_its_own_append,
    malformed_appends_name_the_field,
    leases_fence_checkpoints,
    two_processes_appending_to_one_store_stay_dense_and_ordered,
    request_outcomes_answer_retries_before_deciding,
    a_request_id_bound_to_a_command_replays_that_command_only,
    person_keys_are_shredded_and_reads_audited,
);

async fn appended_events_read_back_with_every_fact(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let mut first = request("matter-1", ExpectedVersion::NoStream, 2);
    // An imported record carries where it came from; a live one carries nothing.
    first.events[1].metadata.origin = Some("import 3f2a9c row 12 (来源编号 XA-0001)".into());
    let appended = store.append(first.clone()).await?;
    ensure!((appended.first_version, appended.last_version) == (1, 2));
    ensure!((appended.first_position, appended.last_position) == (1, 2));
    ensure!(!appended.replayed);
    store
        .append(request("matter-2", ExpectedVersion::Any, 1))
        .await?;

    let stream = store.read_stream("matter-1", 1, 100).await?;
    ensure!(stream.len() == 2);
    for (recorded, sent) in stream.iter().zip(&first.events) {
        ensure!(recorded.event_id == sent.event_id);
        ensure!(recorded.event_type == sent.event_type);
        ensure!(recorded.data == sent.data);
        ensure!(recorded.request_id == first.request_id);
        // Timestamps keep microseconds on both backends.
        let drift = (recorded.metadata.occurred_at - sent.metadata.occurred_at).num_microseconds();
        ensure!(drift == Some(0), "occurred_at drifted by {drift:?}µs");
        ensure!(
            recorded.metadata.occurred_at.timestamp_subsec_nanos() % 1000 == 0,
            "times keep µs"
        );
        let mut metadata = recorded.metadata.clone();
        metadata.occurred_at = sent.metadata.occurred_at;
        ensure!(metadata == sent.metadata);
    }
    ensure!(store.read_stream("matter-1", 2, 100).await?.len() == 1);
    let all = store.read_all(1, 100).await?;
    ensure!(all.iter().map(|e| e.position).collect::<Vec<_>>() == vec![1, 2, 3]);
    let origins: Vec<Option<&str>> = all.iter().map(|e| e.metadata.origin.as_deref()).collect();
    ensure!(
        origins == [None, first.events[1].metadata.origin.as_deref(), None],
        "{origins:?}"
    );
    ensure!(store.read_all(3, 100).await?.len() == 1);
    ensure!(store.head().await? == 3);
    ensure!(*store.watch_head().borrow() == 3);
    ensure!(store.stream_version("matter-2").await? == Some(1));
    ensure!(store.stream_version("nothing").await?.is_none());
    Ok(())
}

async fn expected_versions_are_checked(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    store
        .append(request("s", ExpectedVersion::NoStream, 3))
        .await?;

    let cases = [
        (ExpectedVersion::NoStream, "s", 3),
        (ExpectedVersion::Exact(2), "s", 3),
        (ExpectedVersion::Exact(4), "s", 3),
        (ExpectedVersion::StreamExists, "missing", 0),
        (ExpectedVersion::Exact(1), "missing", 0),
    ];
    for (expected, stream, current_version) in cases {
        match store.append(request(stream, expected, 1)).await {
            Err(AppendError::WrongExpectedVersion { current, .. })
                if current == current_version => {}
            other => bail!(
                "{expected:?} on {stream}: expected a conflict at {current_version}, got {other:?}"
            ),
        }
    }
    ensure!(
        store
            .append(request("s", ExpectedVersion::Exact(3), 1))
            .await?
            .last_version
            == 4
    );
    ensure!(
        store
            .append(request("s", ExpectedVersion::StreamExists, 1))
            .await?
            .last_version
            == 5
    );
    ensure!(
        store
            .append(request("s", ExpectedVersion::Any, 1))
            .await?
            .last_version
            == 6
    );
    ensure!(
        store
            .append(request("new", ExpectedVersion::Exact(0), 1))
            .await?
            .last_version
            == 1
    );
    ensure!(store.head().await? == 7, "refused appends wrote nothing");
    Ok(())
}

async fn racing_exact_appends_have_one_winner_per_version(backend: &dyn Backend) -> Result<()> {
    const TASKS: usize = 32;
    const ATTEMPTS: usize = 25;
    let store = backend.open().await?;
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut conflicts = 0;
            for _ in 0..ATTEMPTS {
                let version = store.stream_version("race").await?.unwrap_or(0);
                match store
                    .append(request("race", ExpectedVersion::Exact(version), 1))
                    .await
                {
                    Ok(a) => {
                        ensure!(a.last_version == version + 1);
                        won.push(a.last_version);
                    }
                    Err(AppendError::WrongExpectedVersion { current, .. }) => {
                        ensure!(
                            current > version,
                            "a conflict reports the newer current version"
                        );
                        conflicts += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok::<_, anyhow::Error>((won, conflicts))
        }));
    }
    let mut versions = Vec::new();
    let mut conflicts = 0;
    for task in tasks {
        let (won, lost) = task.await??;
        versions.extend(won);
        conflicts += lost;
    }
    versions.sort_unstable();
    let last = store.stream_version("race").await?.unwrap_or(0);
    ensure!(
        versions == (1..=last).collect::<Vec<_>>(),
        "one winner per version, no gaps"
    );
    ensure!(conflicts + versions.len() == TASKS * ATTEMPTS);
    ensure!(conflicts > 0, "the race must actually have raced");
    let stream = store.read_stream("race", 1, 10_000).await?;
    ensure!(stream.iter().map(|e| e.stream_version).collect::<Vec<_>>() == versions);
    Ok(())
}

async fn catch_up_reader_sees_every_position_once_in_order(backend: &dyn Backend) -> Result<()> {
    const WRITERS: usize = 8;
    const EVENTS: usize = 20_000;
    const PER_APPEND: usize = 2;
    let store = backend.open().await?;

    let reader = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut next = 1u64;
            let mut per_stream: BTreeMap<String, u64> = BTreeMap::new();
            let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
            while (next as usize) <= EVENTS {
                ensure!(
                    tokio::time::Instant::now() < deadline,
                    "reader stalled at {next}"
                );
                let batch = store.read_all(next, 700).await?;
                if batch.is_empty() {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    continue;
                }
                for e in batch {
                    ensure!(
                        e.position == next,
                        "expected position {next}, read {}",
                        e.position
                    );
                    let seen = per_stream.entry(e.stream_id.clone()).or_default();
                    ensure!(
                        e.stream_version == *seen + 1,
                        "stream {} out of order",
                        e.stream_id
                    );
                    *seen = e.stream_version;
                    next += 1;
                }
            }
            Ok::<_, anyhow::Error>(next - 1)
        })
    };

    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for i in 0..EVENTS / WRITERS / PER_APPEND {
                let stream = format!("writer-{w}-{}", i % 10);
                store
                    .append(request(&stream, ExpectedVersion::Any, PER_APPEND))
                    .await?;
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for writer in writers {
        writer.await??;
    }
    ensure!(reader.await?? == EVENTS as u64);
    ensure!(
        store.read_all(EVENTS as u64 + 1, 10).await?.is_empty(),
        "no extra events"
    );
    Ok(())
}

async fn retry_returns_the_first_result_even_after_restart(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    store
        .append(request("other", ExpectedVersion::Any, 2))
        .await?;
    let original = request("matter", ExpectedVersion::NoStream, 3);
    let first = store.append(original.clone()).await?;

    // A retry is decided again: fresh event ids and times, same content and request id.
    let mut retry = original.clone();
    for e in &mut retry.events {
        e.event_id = Uuid::now_v7();
        e.metadata.occurred_at = Utc::now();
    }
    let again = store.append(retry.clone()).await?;
    ensure!(again.replayed);
    ensure!(
        (
            again.first_position,
            again.last_position,
            again.last_version
        ) == (
            first.first_position,
            first.last_position,
            first.last_version
        )
    );
    ensure!(store.head().await? == 5, "a retry appends nothing");

    // Concurrent retries in one batch are answered the same way.
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            let retry = retry.clone();
            tokio::spawn(async move { store.append(retry).await })
        })
        .collect();
    for r in racing {
        ensure!(r.await??.first_position == first.first_position);
    }

    drop(store);
    let reopened = backend.open().await?;
    let after_restart = reopened.append(retry).await?;
    ensure!(after_restart.replayed && after_restart.first_position == first.first_position);
    ensure!(reopened.head().await? == 5);
    Ok(())
}

async fn reused_request_id_with_other_content_is_refused(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let original = request("matter", ExpectedVersion::Any, 1);
    store.append(original.clone()).await?;

    let mut other_data = original.clone();
    other_data.events[0].data = json!({ "title": "something else" });
    let mut other_stream = original.clone();
    other_stream.stream_id = "elsewhere".into();
    for reused in [other_data, other_stream] {
        match store.append(reused).await {
            Err(AppendError::RequestIdReused { request_id })
                if request_id == original.request_id => {}
            other => bail!("expected RequestIdReused, got {other:?}"),
        }
    }
    ensure!(store.head().await? == 1);
    Ok(())
}

async fn duplicate_event_id_fails_only_its_own_append(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let first = request("a", ExpectedVersion::Any, 1);
    store.append(first.clone()).await?;

    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let mut r = request(&format!("b-{i}"), ExpectedVersion::Any, 1);
        if i == 7 {
            r.events[0].event_id = first.events[0].event_id;
        }
        tasks.push(tokio::spawn(async move { store.append(r).await }));
    }
    let mut ok = 0;
    for (i, t) in tasks.into_iter().enumerate() {
        match t.await? {
            Ok(_) => ok += 1,
            Err(AppendError::DuplicateEventId { event_id }) if i == 7 => {
                ensure!(event_id == first.events[0].event_id);
            }
            other => bail!("append {i}: {other:?}"),
        }
    }
    ensure!(ok == 15);
    let all = store.read_all(1, 100).await?;
    ensure!(
        all.len() == 16
            && all
                .iter()
                .enumerate()
                .all(|(i, e)| e.position == i as u64 + 1)
    );
    Ok(())
}

async fn malformed_appends_name_the_field(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let mut cases: Vec<(&str, AppendRequest)> = Vec::new();
    let mut r = request("", ExpectedVersion::Any, 1);
    cases.push(("stream_id", r.clone()));
    r = request("s", ExpectedVersion::Any, 0);
    cases.push(("events", r.clone()));
    r = request("s", ExpectedVersion::Any, 1);
    r.events[0].event_type = "Petition.Matter".into();
    cases.push(("event_type", r.clone()));
    r = request("s", ExpectedVersion::Any, 1);
    r.events[0].event_type = "public_security.dispute.reported".into();
    cases.push(("event_type", r.clone()));
    r = request("s", ExpectedVersion::Any, 1);
    r.events[0].metadata.district = "bin hai".into();
    cases.push(("district", r.clone()));
    r = request("s", ExpectedVersion::Any, 2);
    r.events[1].event_id = r.events[0].event_id;
    cases.push(("event_id", r.clone()));
    for (field, bad) in cases {
        match store.append(bad).await {
            Err(AppendError::Invalid { field: f, .. }) if f == field => {}
            other => bail!("expected Invalid {{ field: {field} }}, got {other:?}"),
        }
    }
    ensure!(store.head().await? == 0);
    Ok(())
}

async fn leases_fence_checkpoints(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let ttl = Duration::from_secs(30);
    ensure!(store.acquire_lease("relay:X", "a", ttl).await?);
    ensure!(
        store.acquire_lease("relay:X", "a", ttl).await?,
        "the holder renews"
    );
    ensure!(!store.acquire_lease("relay:X", "b", ttl).await?);
    ensure!(store.save_checkpoint("relay:X", "a", 42).await?);
    ensure!(
        !store.save_checkpoint("relay:X", "b", 99).await?,
        "a non-holder cannot move progress"
    );
    ensure!(store.checkpoint("relay:X").await? == 42);
    ensure!(store.checkpoint("relay:Y").await? == 0);
    // An operator sees who holds it, until when (within the lease's length from now).
    let leases = store.leases().await?;
    ensure!(leases.len() == 1 && leases[0].name == "relay:X" && leases[0].holder == "a");
    let left = leases[0].expires_at - chrono::Utc::now();
    ensure!(left > chrono::Duration::seconds(20) && left <= chrono::Duration::seconds(31));

    store.release_lease("relay:X", "a").await?;
    ensure!(
        store
            .acquire_lease("relay:X", "b", Duration::from_millis(50))
            .await?
    );
    tokio::time::sleep(Duration::from_millis(120)).await;
    ensure!(
        store.acquire_lease("relay:X", "c", ttl).await?,
        "an expired lease can be taken"
    );
    let seen: HashSet<u64> = HashSet::from([store.checkpoint("relay:X").await?]);
    ensure!(seen.contains(&42));
    Ok(())
}

async fn two_processes_appending_to_one_store_stay_dense_and_ordered(
    backend: &dyn Backend,
) -> Result<()> {
    // Two store instances on the same data are two appenders, as two processes would be: each one's
    // remembered head goes stale whenever the other writes.
    let stores = [backend.open().await?, backend.open().await?];
    let mut tasks = Vec::new();
    for (p, store) in stores.iter().enumerate() {
        for t in 0..4 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let mut appended = 0u64;
                for i in 0..60 {
                    let shared = format!("shared-{}", i % 3);
                    loop {
                        let v = store.stream_version(&shared).await?.unwrap_or(0);
                        match store
                            .append(request(&shared, ExpectedVersion::Exact(v), 1))
                            .await
                        {
                            Ok(_) => break,
                            Err(AppendError::WrongExpectedVersion { .. }) => continue,
                            Err(e) => return Err(e.into()),
                        }
                    }
                    store
                        .append(request(&format!("own-{p}-{t}"), ExpectedVersion::Any, 2))
                        .await?;
                    appended += 3;
                }
                Ok::<_, anyhow::Error>(appended)
            }));
        }
    }
    let mut total = 0;
    for t in tasks {
        total += t.await??;
    }
    let all = stores[0].read_all(1, 100_000).await?;
    ensure!(
        all.len() as u64 == total,
        "{} events for {total} appended",
        all.len()
    );
    let mut versions: BTreeMap<&str, u64> = BTreeMap::new();
    for (i, e) in all.iter().enumerate() {
        ensure!(
            e.position == i as u64 + 1,
            "position {} at index {i}",
            e.position
        );
        let v = versions.entry(e.stream_id.as_str()).or_default();
        ensure!(
            e.stream_version == *v + 1,
            "stream {} jumps to {}",
            e.stream_id,
            e.stream_version
        );
        *v = e.stream_version;
    }
    ensure!(stores[1].head().await? == total);
    Ok(())
}

async fn request_outcomes_answer_retries_before_deciding(backend: &dyn Backend) -> Result<()> {
    let store = backend.open().await?;
    let r = request("matter", ExpectedVersion::NoStream, 2);
    let first = store.append(r.clone()).await?;
    let recorded = store
        .request_outcome(r.request_id)
        .await?
        .expect("recorded");
    let again = recorded.appended;
    ensure!(recorded.stream_id == "matter");
    ensure!(
        again.replayed && again.first_position == first.first_position && again.last_version == 2
    );
    ensure!(store.request_outcome(Uuid::now_v7()).await?.is_none());
    Ok(())
}

async fn a_request_id_bound_to_a_command_replays_that_command_only(
    backend: &dyn Backend,
) -> Result<()> {
    let store = backend.open().await?;
    // given an append bound to a command
    let mut r = request("order", ExpectedVersion::NoStream, 1);
    r.command = Some(b"issue order 1".to_vec());
    let first = store.append(r.clone()).await?;
    // when the command is retried, decided again into events that differ (new data, new ids)
    let mut retry = request("order", ExpectedVersion::NoStream, 1);
    retry.request_id = r.request_id;
    retry.command = r.command.clone();
    retry.events[0].data = json!({ "decided": "again, later" });
    let again = store.append(retry).await?;
    // then it is the first result, replayed, and nothing more is written
    ensure!(
        again.replayed && again.last_position == first.last_position,
        "{again:?}"
    );
    ensure!(store.head().await? == first.last_position);
    // and the recorded fingerprint is the command's, for a service to compare before deciding
    let recorded = store
        .request_outcome(r.request_id)
        .await?
        .expect("recorded");
    ensure!(recorded.fingerprint == command_fingerprint("order", b"issue order 1"));
    // when another command comes under the same request id, then it is refused and writes nothing
    let mut other = request("order", ExpectedVersion::Any, 1);
    other.request_id = r.request_id;
    other.command = Some(b"escalate order 1".to_vec());
    let refused = store.append(other).await;
    ensure!(
        matches!(refused, Err(AppendError::RequestIdReused { .. })),
        "{refused:?}"
    );
    ensure!(store.head().await? == first.last_position);
    Ok(())
}

async fn person_keys_are_shredded_and_reads_audited(backend: &dyn Backend) -> Result<()> {
    use oneledger_store::{PersonKey, PersonalDataRead};
    let store = backend.open().await?;
    ensure!(store.person_key("p-1").await? == PersonKey::Missing);
    ensure!(store.put_person_key("p-1", b"wrapped").await?);
    ensure!(
        !store.put_person_key("p-1", b"other").await?,
        "a key is never replaced"
    );
    ensure!(store.person_key("p-1").await? == PersonKey::Wrapped(b"wrapped".to_vec()));
    let at = Utc::now();
    ensure!(store.erase_person_key("p-1", at).await?);
    ensure!(
        !store.erase_person_key("p-1", at).await?,
        "erasing twice is a no-op"
    );
    ensure!(matches!(
        store.person_key("p-1").await?,
        PersonKey::Erased(_)
    ));
    ensure!(
        !store.put_person_key("p-1", b"again").await?,
        "an erased person gets no new key"
    );

    for (person, purpose) in [("p-1", "handling"), ("p-2", "review"), ("p-1", "hearing")] {
        store
            .record_personal_data_read(&PersonalDataRead {
                read_at: Utc::now(),
                reader: "clerk-7".into(),
                unit: "binhai.petition_office".into(),
                person_ref: person.into(),
                fields: "name,phone".into(),
                purpose: purpose.into(),
            })
            .await?;
    }
    let reads = store.personal_data_reads(Some("p-1"), 10).await?;
    ensure!(
        reads.iter().map(|r| r.purpose.as_str()).collect::<Vec<_>>() == vec!["hearing", "handling"]
    );
    ensure!(store.personal_data_reads(None, 2).await?.len() == 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgresql_over_tls_the_store_verifies_the_servers_certificate_against_the_operators_ca()
-> Result<()> {
    // Given a PostgreSQL server accepting TCP connections over TLS only, under a certificate of the
    // operator's CA.
    let ca = oneledger_testkit::TestCa::new("binhai database CA")?;
    let cert = ca.server("postgres")?;
    let server = oneledger_testkit::PgServer::start_tls(
        &std::fs::read_to_string(&cert.cert)?,
        &std::fs::read_to_string(&cert.key)?,
    )
    .await?;
    let with = |mode: &str, root: &std::path::Path| {
        format!(
            "{}?sslmode={mode}&sslrootcert={}",
            server.url("postgres"),
            root.display()
        )
    };
    // When the store connects verifying the server against that CA, then it stores and reads over TLS.
    let url = with("verify-full", &ca.ca_path());
    let store = oneledger_store::PgEventStore::connect(&url).await?;
    ensure!(oneledger_store::EventLog::head(&store).await? == 0);
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?;
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut conn)
        .await?;
    ensure!(ssl, "the connection is encrypted");
    // When the CA is another, or TLS is off, then no connection is made.
    let stranger = oneledger_testkit::TestCa::new("someone else's CA")?;
    ensure!(
        oneledger_store::PgEventStore::connect(&with("verify-full", &stranger.ca_path()))
            .await
            .is_err(),
        "a server the CA did not certify is refused"
    );
    ensure!(
        oneledger_store::PgEventStore::connect(&with("disable", &ca.ca_path()))
            .await
            .is_err(),
        "the server takes no plaintext"
    );
    Ok(())
}
