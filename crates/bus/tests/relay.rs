//! The relay against real nats-server processes that each test starts, kills and restarts itself on a
//! free loopback port, with SQLite stores in temp dirs and one PostgreSQL store.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use async_nats::jetstream::{self, message::PublishMessage};
use chrono::Utc;
use cloudevents::AttributesReader;
use oneledger_bus::{BusError, Relay, RelayConfig, StreamSpec, cloudevent, connect};
use oneledger_domain::Agency;
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, PgEventStore,
    SqliteEventStore,
};
use oneledger_testkit::{NatsServer, TestDatabase};
use serde_json::json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

const DISTRICT: &str = "binhai";

fn event(n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "petition.matter.registered".into(),
        schema_version: 1,
        data: json!({ "n": n, "person_ref": format!("p-{n}") }),
        metadata: EventMetadata {
            occurred_at: Utc::now(),
            district: DISTRICT.into(),
            agency: Agency::Petition,
            acting_unit: "binhai.petition_office".into(),
            acting_role: "intake_clerk".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Some(Uuid::now_v7()),
            origin: None,
        },
    }
}

async fn append(store: &dyn EventStore, stream: &str, n: u64) -> Result<()> {
    store
        .append(AppendRequest {
            stream_id: stream.into(),
            expected_version: ExpectedVersion::Any,
            events: vec![event(n)],
            request_id: Uuid::now_v7(),
            command: None,
        })
        .await?;
    Ok(())
}

async fn sqlite_store(dir: &tempfile::TempDir) -> Result<Arc<dyn EventStore>> {
    let url = format!("sqlite://{}", dir.path().join("petition.db").display());
    Ok(Arc::new(SqliteEventStore::connect(&url).await?))
}

fn spec() -> StreamSpec {
    StreamSpec::for_agency(Agency::Petition)
}

struct RunningRelay {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), BusError>>,
}

impl RunningRelay {
    async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await??;
        Ok(())
    }
}

async fn start_relay(
    store: Arc<dyn EventStore>,
    url: &str,
    holder: &str,
    ttl: Duration,
) -> Result<RunningRelay> {
    let (client, events) = connect(url, holder).await?;
    let mut config = RelayConfig::new(&spec(), holder);
    config.lease_ttl = ttl;
    config.idle_poll = Duration::from_millis(50);
    config.retry_backoff = Duration::from_millis(100);
    let relay = Relay::new(store, client, events, spec(), config);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    Ok(RunningRelay { stop, task })
}

/// Waits until the stream's last sequence reaches `head`.
async fn wait_for_stream(url: &str, head: u64) -> Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(client) = async_nats::connect(url).await {
            let js = jetstream::new(client);
            if let Ok(mut stream) = js.get_stream(&spec().name).await
                && let Ok(info) = stream.info().await
                && info.state.last_sequence >= head
            {
                return Ok(());
            }
        }
        ensure!(
            tokio::time::Instant::now() < deadline,
            "stream never reached {head}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the stream holds exactly the store's log: message n is the event at position n, once, as a
/// CloudEvent that the CloudEvents SDK parses, with the de-duplication and trace headers.
async fn assert_stream_equals_log(url: &str, store: &dyn EventStore) -> Result<()> {
    let head = store.head().await?;
    wait_for_stream(url, head).await?;
    let js = jetstream::new(async_nats::connect(url).await?);
    let mut stream = js.get_stream(&spec().name).await?;
    let info = stream.info().await?;
    ensure!(
        info.state.last_sequence == head,
        "stream has {} for {head} events",
        info.state.last_sequence
    );
    ensure!(
        info.state.messages == head,
        "stream holds {} messages for {head} events",
        info.state.messages
    );

    let events = store.read_all(1, head as usize + 1).await?;
    let mut ids = HashSet::new();
    for recorded in &events {
        let message = stream.get_raw_message(recorded.position).await?;
        ensure!(message.sequence == recorded.position);
        ensure!(message.subject.as_str() == cloudevent::subject(recorded));
        let headers = &message.headers;
        ensure!(
            headers.get("Nats-Msg-Id").map(|v| v.as_str())
                == Some(recorded.event_id.to_string().as_str())
        );
        ensure!(headers.get("content-type").map(|v| v.as_str()) == Some(cloudevent::CONTENT_TYPE));
        ensure!(headers.get("traceparent").is_some());

        let ce: cloudevents::Event =
            serde_json::from_slice(&message.payload).context("CloudEvents SDK parse")?;
        ensure!(ce.specversion().as_str() == "1.0");
        ensure!(ce.id() == recorded.event_id.to_string());
        ensure!(ce.source().as_str() == format!("/oneledger/{DISTRICT}/petition"));
        ensure!(ce.ty() == "oneledger.petition.matter.registered.v1");
        ensure!(ce.subject() == Some(recorded.stream_id.as_str()));
        ensure!(ce.time().is_some());
        ensure!(ce.datacontenttype() == Some("application/json"));
        let position = ce.extension("position").map(|v| v.to_string());
        ensure!(position == Some(recorded.position.to_string()));
        ensure!(
            cloudevent::decode(&message.payload)? == *recorded,
            "payload decodes to the stored event"
        );
        ensure!(
            ids.insert(recorded.event_id),
            "event {} twice",
            recorded.event_id
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_publishes_the_log_in_order_as_cloudevents() -> Result<()> {
    let nats = NatsServer::start().await?;
    let dir = tempfile::tempdir()?;
    let store = sqlite_store(&dir).await?;
    for n in 0..300 {
        append(store.as_ref(), &format!("matter-{}", n % 7), n).await?;
    }
    let relay = start_relay(
        store.clone(),
        &nats.url(),
        "relay-a",
        Duration::from_secs(10),
    )
    .await?;
    for n in 300..400 {
        append(store.as_ref(), "matter-live", n).await?;
    }
    assert_stream_equals_log(&nats.url(), store.as_ref()).await?;
    relay.stop().await?;
    ensure!(store.checkpoint(&format!("relay:{}", spec().name)).await? == 400);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn events_appended_during_a_broker_outage_arrive_once_in_order() -> Result<()> {
    let mut nats = NatsServer::start().await?;
    let db = tempfile::tempdir()?;
    let store = sqlite_store(&db).await?;
    let relay = start_relay(
        store.clone(),
        &nats.url(),
        "relay-a",
        Duration::from_secs(10),
    )
    .await?;
    for n in 0..10 {
        append(store.as_ref(), "before", n).await?;
    }
    wait_for_stream(&nats.url(), 10).await?;

    nats.kill().await?;
    for n in 0..1000 {
        append(store.as_ref(), &format!("during-{}", n % 13), n).await?;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    nats.restart().await?;
    assert_stream_equals_log(&nats.url(), store.as_ref()).await?;
    relay.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_mid_batch_resumes_and_jetstream_drops_republished_ids() -> Result<()> {
    let nats = NatsServer::start().await?;
    let db = tempfile::tempdir()?;
    let store = sqlite_store(&db).await?;
    for n in 0..3000 {
        append(store.as_ref(), &format!("m-{}", n % 11), n).await?;
    }
    // Abort the relay while it publishes: some events are in the stream, its checkpoint is behind.
    let relay = start_relay(
        store.clone(),
        &nats.url(),
        "relay-a",
        Duration::from_millis(300),
    )
    .await?;
    let js = jetstream::new(async_nats::connect(&nats.url()).await?);
    loop {
        if let Ok(mut s) = js.get_stream(&spec().name).await
            && s.info().await?.state.last_sequence > 0
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    relay.task.abort();
    let _ = relay.task.await;

    // A publish repeated with the same Nats-Msg-Id is dropped by JetStream.
    let first = store.read_all(1, 1).await?.remove(0);
    let ack = js
        .send_publish(
            cloudevent::subject(&first),
            PublishMessage::build()
                .payload(cloudevent::encode(&first).into())
                .message_id(first.event_id.to_string()),
        )
        .await?
        .await?;
    ensure!(ack.duplicate && ack.sequence == 1);

    // Another process takes over once the dead relay's lease lapses.
    let successor = start_relay(
        store.clone(),
        &nats.url(),
        "relay-b",
        Duration::from_millis(300),
    )
    .await?;
    assert_stream_equals_log(&nats.url(), store.as_ref()).await?;
    successor.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_events_lost_in_a_nats_crash_are_published_again() -> Result<()> {
    let mut nats = NatsServer::start().await?;
    let db = TestDatabase::create().await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::connect(&db.url).await?);
    let relay = start_relay(
        store.clone(),
        &nats.url(),
        "relay-a",
        Duration::from_secs(10),
    )
    .await?;

    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for n in 0..4000u64 {
                append(store.as_ref(), &format!("load-{}", n % 17), n).await?;
            }
            Ok::<_, anyhow::Error>(())
        })
    };
    // kill -9 under load, twice, restarting on the same store directory each time.
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(400)).await;
        nats.kill().await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        nats.restart().await?;
    }
    writer.await??;
    let outcome = assert_stream_equals_log(&nats.url(), store.as_ref()).await;
    relay.stop().await?;
    drop(store);
    db.drop_db().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_that_lost_its_messages_is_refilled_from_the_log() -> Result<()> {
    let nats = NatsServer::start().await?;
    let db = tempfile::tempdir()?;
    let store = sqlite_store(&db).await?;
    let relay = start_relay(
        store.clone(),
        &nats.url(),
        "relay-a",
        Duration::from_secs(10),
    )
    .await?;
    for n in 0..200 {
        append(store.as_ref(), "m", n).await?;
    }
    wait_for_stream(&nats.url(), 200).await?;

    // The worst loss: the stream is gone. The next publish fails, the relay reconciles against the
    // (re-created, empty) stream and publishes the whole log again.
    let js = jetstream::new(async_nats::connect(&nats.url()).await?);
    js.delete_stream(&spec().name).await?;
    append(store.as_ref(), "m", 200).await?;
    assert_stream_equals_log(&nats.url(), store.as_ref()).await?;
    relay.stop().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stream_ahead_of_the_store_stops_the_relay_for_an_operator() -> Result<()> {
    let nats = NatsServer::start().await?;
    let db = tempfile::tempdir()?;
    let store = sqlite_store(&db).await?;
    append(store.as_ref(), "m", 0).await?;
    let js = jetstream::new(async_nats::connect(&nats.url()).await?);
    oneledger_bus::ensure_stream(&js, &spec()).await?;
    for _ in 0..5 {
        js.publish(
            "oneledger.binhai.petition.matter.registered",
            "foreign".into(),
        )
        .await?
        .await?;
    }
    let relay = start_relay(store, &nats.url(), "relay-a", Duration::from_secs(10)).await?;
    match tokio::time::timeout(Duration::from_secs(30), relay.task).await?? {
        Err(BusError::ForeignStream {
            stream_last: 5,
            store_head: 1,
            ..
        }) => Ok(()),
        other => bail!("expected ForeignStream, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_tls_with_a_client_certificate_the_relay_publishes_and_a_stranger_never_connects()
-> Result<()> {
    // Given a nats-server requiring TLS and client certificates of the district's CA.
    let ca = oneledger_testkit::TestCa::new("binhai systems CA")?;
    let server = ca.server("nats")?;
    let nats = NatsServer::start_tls(&server.cert, &server.key, &ca.ca_path()).await?;
    let url = format!(
        "tls://localhost:{}",
        nats.url().rsplit(':').next().unwrap_or_default()
    );
    // When the relay connects with the CA and its certificate, then it publishes the store's events.
    let client = ca.client("petition-relay")?;
    let tls = oneledger_bus::NatsTls {
        ca: ca.ca_path(),
        client: Some((client.cert.clone(), client.key.clone())),
    };
    let (nats_client, events) = oneledger_bus::connect_with(&url, "relay-tls", Some(&tls)).await?;
    let dir = tempfile::tempdir()?;
    let store = sqlite_store(&dir).await?;
    for n in 1..=3 {
        append(store.as_ref(), &format!("matter-{n}"), n).await?;
    }
    let relay = Relay::new(
        store.clone(),
        nats_client.clone(),
        events,
        spec(),
        RelayConfig::new(&spec(), "relay-tls"),
    );
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    let js = jetstream::new(nats_client);
    let mut published = 0;
    for _ in 0..200 {
        if let Ok(mut stream) = js.get_stream(&spec().name).await
            && let Ok(info) = stream.info().await
        {
            published = info.state.last_sequence;
            if published == 3 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(published == 3, "published {published} of 3 over TLS");
    let _ = stop.send(());
    task.await??;
    // When a client trusting another CA, or bringing no certificate, connects, then it never gets in.
    let stranger = oneledger_testkit::TestCa::new("someone else's CA")?;
    for tls in [
        oneledger_bus::NatsTls {
            ca: stranger.ca_path(),
            client: Some((client.cert.clone(), client.key.clone())),
        },
        oneledger_bus::NatsTls {
            ca: ca.ca_path(),
            client: None,
        },
    ] {
        let (other, _) = oneledger_bus::connect_with(&url, "stranger", Some(&tls)).await?;
        let flushed = tokio::time::timeout(Duration::from_secs(2), other.flush()).await;
        ensure!(
            !matches!(flushed, Ok(Ok(()))),
            "a stranger was let in: {:?}",
            tls.ca
        );
    }
    Ok(())
}
