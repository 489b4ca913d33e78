//! The projector over real stores and a real nats-server: the store feed and the JetStream feed build the
//! same ledger as the model, and a projector aborted again and again still ends equal to a rebuild.

use std::sync::Arc;
use std::time::Duration;

use oneledger_bus::{Relay, RelayConfig, StreamSpec};
use oneledger_domain::Agency;
use oneledger_store::{AppendRequest, EventStore, ExpectedVersion, NewEvent, SqliteEventStore};
use oneledger_testkit::NatsServer;
use uuid::Uuid;

use super::*;
use crate::feed::{JetStreamFeed, StoreFeed};
use crate::fixtures::history;
use crate::model::LedgerModel;

/// Three agencies' stores holding the fixture history, positions as recorded.
async fn stores(dir: &tempfile::TempDir) -> Vec<(Agency, Arc<dyn EventStore>)> {
    let mut out = Vec::new();
    for events in history() {
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
                run(&l, &mut feed, std::future::pending()).await
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
