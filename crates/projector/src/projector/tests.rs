//! The projector over real stores and a real nats-server: the store feed and the JetStream feed build the
//! same ledger as the model, and a projector aborted again and again — on the store feed, and on JetStream
//! into PostgreSQL — still ends equal to a rebuild.

use std::sync::Arc;
use std::time::Duration;

use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use oneledger_store::{
    AppendRequest, EventStore, ExpectedVersion, NewEvent, RecordedEvent, SqliteEventStore,
};
use oneledger_testkit::{NatsServer, TestDatabase};
use uuid::Uuid;

use super::*;
use crate::feed::{Behind, JetStreamFeed, StoreFeed};
use crate::fixtures::{history, many_matters};
use crate::model::LedgerModel;

/// Three agencies' stores holding the fixture history, positions as recorded.
async fn stores(dir: &tempfile::TempDir) -> Vec<(Agency, Arc<dyn EventStore>)> {
    stores_of(dir, history().into()).await
}

/// A store per history, positions as recorded.
async fn stores_of(
    dir: &tempfile::TempDir,
    histories: Vec<Vec<RecordedEvent>>,
) -> Vec<(Agency, Arc<dyn EventStore>)> {
    let mut out = Vec::new();
    for events in histories {
        let agency = events[0].metadata.agency;
        let url = format!(
            "sqlite://{}",
            dir.path().join(format!("{agency}.db")).display()
        );
        let store: Arc<dyn EventStore> = Arc::new(SqliteEventStore::connect(&url).await.unwrap());
        for e in events {
            store
                .append(AppendRequest {
                    stream_id: e.stream_id.clone(),
                    expected_version: ExpectedVersion::Exact(e.stream_version - 1),
                    events: vec![NewEvent {
                        event_id: e.event_id,
                        event_type: e.event_type.clone(),
                        schema_version: e.schema_version,
                        data: e.data.clone(),
                        metadata: e.metadata.clone(),
                    }],
                    request_id: Uuid::now_v7(),
                    command: None,
                })
                .await
                .unwrap();
        }
        out.push((agency, store));
    }
    out
}

fn reference() -> LedgerModel {
    let mut model = LedgerModel::default();
    for e in history().iter().flatten() {
        model.apply(e).unwrap();
    }
    model
}

async fn ledger(dir: &tempfile::TempDir, name: &str) -> SqlLedger {
    SqlLedger::connect(&format!("sqlite://{}", dir.path().join(name).display()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_feed_and_the_jetstream_feed_build_the_same_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir).await;

    let embedded = ledger(&dir, "embedded.db").await;
    for (agency, store) in &stores {
        let mut feed = StoreFeed::new(format!("store:{agency}"), store.clone());
        catch_up(&embedded, &mut feed, store.head().await.unwrap(), |_| {})
            .await
            .unwrap();
    }
    assert_eq!(embedded.load_model().await.unwrap(), reference());

    let nats = NatsServer::start().await.unwrap();
    let (client, events) = oneledger_bus::connect(&nats.url(), "test").await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let brokered = ledger(&dir, "brokered.db").await;
    for (agency, store) in &stores {
        let spec = StreamSpec::for_agency(*agency);
        let relay = Relay::new(
            store.clone(),
            client.clone(),
            events.clone(),
            spec.clone(),
            RelayConfig::new(&spec, "test"),
        );
        let mut published = relay.published();
        let head = store.head().await.unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(relay.run(async {
            let _ = stopped.await;
        }));
        tokio::time::timeout(Duration::from_secs(30), published.wait_for(|p| *p >= head))
            .await
            .unwrap()
            .unwrap();
        let _ = stop.send(());
        task.await.unwrap().unwrap();

        let mut feed = JetStreamFeed::connect(&js, &spec, "projector", 0)
            .await
            .unwrap();
        catch_up(&brokered, &mut feed, head, |_| {}).await.unwrap();
    }
    assert_eq!(brokered.load_model().await.unwrap(), reference());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_aborted_again_and_again_ends_equal_to_a_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir).await;
    let live = ledger(&dir, "live.db").await;
    for round in 0..15u64 {
        for (agency, store) in &stores {
            let (l, s, a) = (live.clone(), store.clone(), *agency);
            let task = tokio::spawn(async move {
                let mut feed = StoreFeed::new(format!("store:{a}"), s);
                run(&l, &mut feed, &FeedHealth::new(), std::future::pending()).await
            });
            tokio::time::sleep(Duration::from_millis(round % 4)).await;
            task.abort();
            let _ = task.await;
        }
    }
    for (agency, store) in &stores {
        let mut feed = StoreFeed::new(format!("store:{agency}"), store.clone());
        catch_up(&live, &mut feed, store.head().await.unwrap(), |_| {})
            .await
            .unwrap();
    }
    let rebuilt = ledger(&dir, "rebuilt.db").await;
    for (agency, store) in &stores {
        let mut feed = StoreFeed::new(format!("store:{agency}"), store.clone());
        catch_up(&rebuilt, &mut feed, store.head().await.unwrap(), |_| {})
            .await
            .unwrap();
    }
    let live = live.load_model().await.unwrap();
    assert_eq!(live, rebuilt.load_model().await.unwrap());
    assert_eq!(live, reference());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jetstream_projector_into_postgresql_killed_mid_batch_ends_equal_to_a_rebuild() {
    // Given 1,600 events published to a real JetStream stream, and a ledger in a real PostgreSQL database.
    let dir = tempfile::tempdir().unwrap();
    let events = many_matters(400);
    let total = events.len() as u64;
    let stores = stores_of(&dir, vec![events.clone()]).await;
    let (agency, store) = stores[0].clone();
    let nats = NatsServer::start().await.unwrap();
    let (client, published_events) = oneledger_bus::connect(&nats.url(), "test").await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    let spec = StreamSpec::for_agency(agency);
    let relay = Relay::new(
        store.clone(),
        client.clone(),
        published_events,
        spec.clone(),
        RelayConfig::new(&spec, "test"),
    );
    let mut published = relay.published();
    let relay = tokio::spawn(relay.run(std::future::pending()));
    tokio::time::timeout(Duration::from_secs(60), published.wait_for(|p| *p >= total))
        .await
        .unwrap()
        .unwrap();
    relay.abort();
    let (live_db, rebuilt_db) = (
        TestDatabase::create().await.unwrap(),
        TestDatabase::create().await.unwrap(),
    );
    let live = SqlLedger::connect(&live_db.url).await.unwrap();
    let name = format!("jetstream:{}", spec.name);

    // When a batch is applied and checkpointed but the projector dies before acknowledging it,
    let mut feed = JetStreamFeed::connect(&js, &spec, "projector", 0)
        .await
        .unwrap();
    let mut first = Vec::new();
    while first.len() < 300 {
        let after = first.last().map_or(0, |e: &RecordedEvent| e.position);
        first.extend(feed.next(after, 300 - first.len()).await.unwrap());
    }
    live.apply_batch(&name, &first).await.unwrap();
    drop(feed);

    // and then is killed again and again at every point of its batches (in PostgreSQL transactions, between
    // commit and acknowledgement, while pulling),
    let mut rounds = 0u64;
    while live.checkpoint(&name).await.unwrap() < total {
        rounds += 1;
        assert!(rounds < 200, "the projector makes progress between kills");
        let checkpoint = live.checkpoint(&name).await.unwrap();
        let mut feed = JetStreamFeed::connect(&js, &spec, "projector", checkpoint)
            .await
            .unwrap();
        let l = live.clone();
        let task = tokio::spawn(async move {
            run(&l, &mut feed, &FeedHealth::new(), std::future::pending()).await
        });
        // Each life a little longer, so kills land everywhere and the projector still gets through.
        tokio::time::sleep(Duration::from_millis(rounds * 5 + rounds * 7 % 20)).await;
        task.abort();
        let _ = task.await;
    }

    // then the ledger equals a rebuild from the store and the model of every event applied once.
    let rebuilt = SqlLedger::connect(&rebuilt_db.url).await.unwrap();
    let mut feed = StoreFeed::new("store:petition", store.clone());
    catch_up(&rebuilt, &mut feed, total, |_| {}).await.unwrap();
    let live_model = live.load_model().await.unwrap();
    assert_eq!(live_model, rebuilt.load_model().await.unwrap());
    let mut model = LedgerModel::default();
    for e in &events {
        model.apply(e).unwrap();
    }
    assert_eq!(live_model, model);
    assert!(rounds > 1, "killed at least once: {rounds} rounds");
    drop((live, rebuilt));
    live_db.drop_db().await.unwrap();
    rebuilt_db.drop_db().await.unwrap();
}

/// A feed that hands out at most `limit` events at a time, so a catch-up runs many overlapping batches.
struct Trickle {
    inner: StoreFeed,
    limit: usize,
}

#[async_trait::async_trait]
impl Feed for Trickle {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        self.inner.next(after, max.min(self.limit)).await
    }
    async fn ack(&mut self, position: u64) -> Result<(), FeedError> {
        self.inner.ack(position).await
    }
    async fn recover(&mut self, after: u64) -> Result<(), FeedError> {
        self.inner.recover(after).await
    }
    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError> {
        self.inner.behind(after).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catching_up_in_small_overlapping_batches_builds_the_same_ledger() {
    // Given the three stores and batches of 1 to 7 events, so an item's events, a link and the items it
    // joins fall into different batches, each worked out while the one before is still being written,
    for limit in [1, 2, 3, 7] {
        let dir = tempfile::tempdir().unwrap();
        let stores = stores(&dir).await;
        let ledger = ledger(&dir, "trickled.db").await;
        // when every store is caught up,
        for (agency, store) in &stores {
            let mut feed = Trickle {
                inner: StoreFeed::new(format!("store:{agency}"), store.clone()),
                limit,
            };
            let head = store.head().await.unwrap();
            assert_eq!(
                catch_up(&ledger, &mut feed, head, |_| {}).await.unwrap(),
                head
            );
        }
        // then the ledger equals the model of every event applied once.
        assert_eq!(
            ledger.load_model().await.unwrap(),
            reference(),
            "batches of {limit}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_feeds_applied_at_once_into_postgresql_lose_no_update() {
    // Interleavings vary from run to run: five rounds make a lost update show.
    for _ in 0..5 {
        // Given the three stores, whose events meet on shared items (a station's part of the committee's joint
        // handling, links across agencies), and one PostgreSQL ledger,
        let dir = tempfile::tempdir().unwrap();
        let stores = stores(&dir).await;
        let db = TestDatabase::create().await.unwrap();
        let ledger = SqlLedger::connect(&db.url).await.unwrap();
        // when all three are applied at the same time, an event per batch, both live and catching up,
        let mut tasks = tokio::task::JoinSet::new();
        for (n, (agency, store)) in stores.iter().enumerate() {
            let (ledger, store, agency) = (ledger.clone(), store.clone(), *agency);
            tasks.spawn(async move {
                let head = store.head().await.unwrap();
                let mut feed = Trickle {
                    inner: StoreFeed::new(format!("store:{agency}"), store),
                    limit: 1,
                };
                if n == 0 {
                    while ledger.checkpoint(feed.name()).await.unwrap() < head {
                        let after = ledger.checkpoint(feed.name()).await.unwrap();
                        let events = feed.next(after, 1).await.unwrap();
                        ledger.apply_batch(feed.name(), &events).await.unwrap();
                    }
                } else {
                    catch_up(&ledger, &mut feed, head, |_| {}).await.unwrap();
                }
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap();
        }
        // then no feed's change to a shared item is overwritten by another's.
        assert_eq!(ledger.load_model().await.unwrap(), reference());
        drop(ledger);
        db.drop_db().await.unwrap();
    }
}

/// A feed whose first `failures` reads fail, as a broker that is down at first would.
struct DownAtFirst {
    inner: StoreFeed,
    failures: usize,
}

#[async_trait::async_trait]
impl Feed for DownAtFirst {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        if self.failures > 0 {
            self.failures -= 1;
            return Err(FeedError::JetStream("no responders".into()));
        }
        self.inner.next(after, max).await
    }
    async fn ack(&mut self, position: u64) -> Result<(), FeedError> {
        self.inner.ack(position).await
    }
    async fn recover(&mut self, after: u64) -> Result<(), FeedError> {
        self.inner.recover(after).await
    }
    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError> {
        self.inner.behind(after).await
    }
}

/// The ledger port's health for the ledger service, asked until it is `want` (or 10 s pass).
async fn health_becomes(
    health: &mut tonic_health::pb::health_client::HealthClient<tonic::transport::Channel>,
    want: tonic_health::pb::health_check_response::ServingStatus,
) -> bool {
    for _ in 0..200 {
        let request = tonic_health::pb::HealthCheckRequest {
            service: "oneledger.ledger.v2.LedgerService".into(),
        };
        if let Ok(r) = health.check(request).await
            && r.into_inner().status == want as i32
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// The health client of a ledger API over `ledger` that reports `feeds`.
async fn health_of(
    ledger: &SqlLedger,
    feeds: &FeedHealth,
) -> tonic_health::pb::health_client::HealthClient<tonic::transport::Channel> {
    let rules = Arc::new(oneledger_domain::Rules::shipped().unwrap());
    let api = crate::api::LedgerApi::new(
        ledger.clone(),
        oneledger_testkit::verifier(),
        rules,
        oneledger_clock::Clock::system(),
    )
    .unwrap()
    .with_feeds(feeds.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let web = crate::api::WebSettings {
        allow_origins: vec![],
        tls: None,
    };
    tokio::spawn(crate::api::serve(
        api,
        web,
        listener,
        std::future::pending(),
    ));
    let channel = loop {
        if let Ok(c) = tonic::transport::Endpoint::from_shared(address.clone())
            .unwrap()
            .connect()
            .await
        {
            break c;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    tonic_health::pb::health_client::HealthClient::new(channel)
}

/// A feed that delivers nothing while `stalled` is set, as a projector stuck behind its source would.
struct Stalled {
    inner: StoreFeed,
    stalled: Arc<std::sync::atomic::AtomicBool>,
}

#[async_trait::async_trait]
impl Feed for Stalled {
    fn name(&self) -> &str {
        self.inner.name()
    }
    async fn next(&mut self, after: u64, max: usize) -> Result<Vec<RecordedEvent>, FeedError> {
        if self.stalled.load(std::sync::atomic::Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            return Ok(vec![]);
        }
        self.inner.next(after, max).await
    }
    async fn ack(&mut self, position: u64) -> Result<(), FeedError> {
        self.inner.ack(position).await
    }
    async fn recover(&mut self, after: u64) -> Result<(), FeedError> {
        self.inner.recover(after).await
    }
    async fn behind(&mut self, after: u64) -> Result<Behind, FeedError> {
        self.inner.behind(after).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_is_not_serving_while_a_feed_is_behind_past_the_threshold_and_serving_once_caught_up()
 {
    use tonic_health::pb::health_check_response::ServingStatus;
    // Given a ledger judged behind as soon as any event waits, and a projector whose feed delivers nothing
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir).await;
    let ledger = ledger(&dir, "behind.db").await;
    let feeds = FeedHealth::with_max_behind(Duration::ZERO);
    let mut health = health_of(&ledger, &feeds).await;
    let (agency, store) = stores[0].clone();
    let head = store.head().await.unwrap();
    let name = format!("store:{agency}");
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let mut feed = Stalled {
        inner: StoreFeed::new(name.clone(), store),
        stalled: stalled.clone(),
    };
    let (l, f) = (ledger.clone(), feeds.clone());
    let task = tokio::spawn(async move { run(&l, &mut feed, &f, std::future::pending()).await });
    // When it stays behind, then the ledger says NOT_SERVING and the metrics say how far behind
    assert!(
        health_becomes(&mut health, ServingStatus::NotServing).await,
        "not serving while behind"
    );
    let lag = format!("oneledger_projector_lag_events{{feed=\"{name}\"}} {head}");
    assert!(oneledger_metrics::global().encode().contains(&lag), "{lag}");
    // When it catches up, then SERVING again, at the store's head
    stalled.store(false, std::sync::atomic::Ordering::SeqCst);
    assert!(
        health_becomes(&mut health, ServingStatus::Serving).await,
        "serving once caught up"
    );
    assert_eq!(ledger.checkpoint(&name).await.unwrap(), head);
    task.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ledger_is_not_serving_while_a_feed_fails_and_serving_again_once_it_applies() {
    use tonic_health::pb::health_check_response::ServingStatus;
    // Given a ledger API sharing its feeds' health with a projector whose feed fails its first reads
    let dir = tempfile::tempdir().unwrap();
    let stores = stores(&dir).await;
    let ledger = ledger(&dir, "health.db").await;
    let feeds = FeedHealth::new();
    let mut health = health_of(&ledger, &feeds).await;
    assert!(
        health_becomes(&mut health, ServingStatus::Serving).await,
        "serving at first"
    );
    // When the feed fails its first reads
    let (agency, store) = stores[0].clone();
    let head = store.head().await.unwrap();
    let name = format!("store:{agency}");
    let mut feed = DownAtFirst {
        inner: StoreFeed::new(name.clone(), store),
        failures: 4,
    };
    let (l, f) = (ledger.clone(), feeds.clone());
    let task = tokio::spawn(async move { run(&l, &mut feed, &f, std::future::pending()).await });
    // Then the ledger says NOT_SERVING while it does, naming the feed, and SERVING once it applies
    assert!(
        health_becomes(&mut health, ServingStatus::NotServing).await,
        "not serving while failing"
    );
    assert!(
        health_becomes(&mut health, ServingStatus::Serving).await,
        "serving once it applies"
    );
    assert!(feeds.failing().is_empty());
    for _ in 0..100 {
        if ledger.checkpoint(&name).await.unwrap() == head {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(ledger.checkpoint(&name).await.unwrap(), head);
    task.abort();
}
