//! The ledger on SQLite and PostgreSQL: equal to the in-memory model, exactly-once under redelivery and
//! under a projector killed mid-batch, bad events parked.

use oneledger_domain::Rules;
use oneledger_store::RecordedEvent;
use oneledger_testkit::TestDatabase;

use super::*;
use crate::fixtures::history;

fn reference() -> LedgerModel {
    let mut model = LedgerModel::default();
    for e in history().iter().flatten() {
        model.apply(e).unwrap();
    }
    model
}

fn feed(agency: Agency) -> String {
    format!("store:{agency}")
}

/// Applies every store's history in batches of `size`, round-robin across stores.
async fn project(ledger: &SqlLedger, size: usize) {
    let streams = history();
    let mut cursors = [0usize; 3];
    while cursors.iter().zip(&streams).any(|(c, s)| *c < s.len()) {
        for (i, stream) in streams.iter().enumerate() {
            let end = (cursors[i] + size).min(stream.len());
            if cursors[i] < end {
                ledger
                    .apply_batch(&feed(stream[0].metadata.agency), &stream[cursors[i]..end])
                    .await
                    .unwrap();
                cursors[i] = end;
            }
        }
    }
}

async fn with_backends(test: impl AsyncFn(SqlLedger)) {
    let dir = tempfile::tempdir().unwrap();
    test(
        SqlLedger::connect(&format!(
            "sqlite://{}",
            dir.path().join("ledger.db").display()
        ))
        .await
        .unwrap(),
    )
    .await;
    let db = TestDatabase::create().await.unwrap();
    test(SqlLedger::connect(&db.url).await.unwrap()).await;
    db.drop_db().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_ledger_equals_the_model_and_redelivery_changes_nothing() {
    with_backends(async |ledger: SqlLedger| {
        project(&ledger, 3).await;
        let stored = ledger.load_model().await.unwrap();
        let expected = reference();
        assert_eq!(stored, expected);
        let today = chrono::NaiveDate::from_ymd_opt(2026, 3, 20).unwrap();
        assert_eq!(
            stored.entries(&Rules::shipped().unwrap(), today),
            expected.entries(&Rules::shipped().unwrap(), today)
        );

        // A whole batch delivered again is skipped by the checkpoint.
        let [petition, _, _] = history();
        let again = ledger
            .apply_batch(&feed(Agency::Petition), &petition)
            .await
            .unwrap();
        assert_eq!(
            again,
            BatchOutcome {
                skipped: petition.len(),
                ..BatchOutcome::default()
            }
        );
        assert_eq!(
            ledger.checkpoint(&feed(Agency::Petition)).await.unwrap(),
            petition.len() as u64
        );
        assert_eq!(ledger.load_model().await.unwrap(), expected);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projector_killed_mid_batch_leaves_nothing_half_applied() {
    with_backends(async |ledger: SqlLedger| {
        let streams = history();
        // Each batch is started and aborted at a varying point, then applied again from the checkpoint.
        for (round, delay) in (0..12u64).zip([0, 1, 2, 3, 5, 8].into_iter().cycle()) {
            let stream = &streams[round as usize % 3];
            let feed = feed(stream[0].metadata.agency);
            let from = ledger.checkpoint(&feed).await.unwrap() as usize;
            let batch: Vec<RecordedEvent> = stream.iter().skip(from).take(4).cloned().collect();
            let (l, f, b) = (ledger.clone(), feed.clone(), batch.clone());
            let task = tokio::spawn(async move { l.apply_batch(&f, &b).await });
            tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
            task.abort();
            let _ = task.await;
            let checkpoint = ledger.checkpoint(&feed).await.unwrap() as usize;
            assert!(
                checkpoint == from || checkpoint == from + batch.len(),
                "all of the batch or none of it"
            );
        }
        project(&ledger, 4).await;
        assert_eq!(ledger.load_model().await.unwrap(), reference());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_the_model_cannot_read_is_parked_and_the_feed_goes_on() {
    with_backends(async |ledger: SqlLedger| {
        let [mut petition, _, _] = history();
        petition[1].data = serde_json::json!({ "event": "assigned", "to": 42 });
        let outcome = ledger
            .apply_batch(&feed(Agency::Petition), &petition)
            .await
            .unwrap();
        assert_eq!(outcome.parked, 1);
        assert_eq!(outcome.applied, petition.len() - 1);
        assert_eq!(
            ledger.checkpoint(&feed(Agency::Petition)).await.unwrap(),
            petition.len() as u64
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_s_scope_lists_the_entries_it_co_handles_and_a_territory_what_arises_in_it() {
    use crate::fixtures::{STATION, TOWN};
    with_backends(async |ledger: SqlLedger| {
        project(&ledger, 5).await;
        let roots = async |units: &[&str], territories: &[&str]| {
            let filter = ListFilter {
                scope: Some(Scope {
                    units: units.iter().map(|u| u.to_string()).collect(),
                    territories: territories.iter().map(|t| t.to_string()).collect(),
                }),
                ..ListFilter::default()
            };
            ledger.list_roots(&filter, "", 10).await.unwrap()
        };
        // The station is neither responsible nor territorial: it co-handles the joint handling.
        assert_eq!(roots(&[STATION], &[]).await, ["petition_matter:PM1"]);
        // The sub-district, by territory alone.
        assert_eq!(roots(&[], &[TOWN]).await, ["petition_matter:PM1"]);
        // A unit with no part sees nothing; an empty scope lists nothing.
        assert!(roots(&["binhai.tax_bureau"], &[]).await.is_empty());
        assert!(roots(&[], &[]).await.is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ledger_from_before_the_unit_table_is_filled_from_its_items_once() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("ledger.db").display());
    let ledger = SqlLedger::connect(&url).await.unwrap();
    project(&ledger, 50).await;
    // As a ledger applied before migration 0007 would be: no unit rows, the backfill pending.
    let Db::Sqlite(pool) = &ledger.db else {
        unreachable!("a SQLite ledger")
    };
    sqlx::query("DELETE FROM ledger_item_units")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO ledger_backfills (name) VALUES ('item_units')")
        .execute(pool)
        .await
        .unwrap();
    ledger.close().await.unwrap();
    let reopened = SqlLedger::connect(&url).await.unwrap();
    let filter = ListFilter {
        scope: Some(Scope {
            units: vec![crate::fixtures::STATION.to_owned()],
            territories: vec![],
        }),
        ..ListFilter::default()
    };
    assert_eq!(reopened.list_roots(&filter, "", 10).await.unwrap().len(), 1);
}

/// Deletes what the ledger holds of item `key`, whose stream is `stream`.
async fn lose_item(ledger: &SqlLedger, key: &str, stream: &str) -> Result<(), LedgerError> {
    in_transaction!(write & ledger.db, |tx| {
        sqlx::query("DELETE FROM ledger_items WHERE item = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ledger_timeline WHERE item = $1")
            .bind(key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ledger_streams WHERE stream = $1")
            .bind(stream)
            .execute(&mut *tx)
            .await?;
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaying_an_items_stream_restores_what_the_ledger_lost_of_it_and_moves_no_checkpoint() {
    with_backends(async |ledger: SqlLedger| {
        // Given the projected history, and an item whose row, timeline and stream version are lost
        // (as when an event of it was parked and the events after it applied without it).
        project(&ledger, 4).await;
        let before = ledger.load_model().await.unwrap();
        let checkpoints = ledger.checkpoints().await.unwrap();
        let events: Vec<RecordedEvent> = history().into_iter().flatten().collect();
        let first = events
            .iter()
            .find(|e| item_of(e).is_some() && e.stream_version == 1)
            .unwrap()
            .clone();
        let stream: Vec<RecordedEvent> = events
            .iter()
            .filter(|e| {
                e.stream_id == first.stream_id && e.metadata.agency == first.metadata.agency
            })
            .cloned()
            .collect();
        let key = item_of(&first).unwrap().key();
        lose_item(&ledger, &key, &first.stream_id).await.unwrap();
        assert_ne!(ledger.load_model().await.unwrap(), before);
        // When its stream is replayed, then the ledger is as before and no checkpoint moved.
        let outcome = ledger.replay_stream(&stream).await.unwrap();
        assert_eq!(outcome.applied, stream.len());
        assert_eq!(ledger.load_model().await.unwrap(), before);
        assert_eq!(ledger.checkpoints().await.unwrap(), checkpoints);
        // A replay of events that are not one stream from its start is refused.
        assert!(ledger.replay_stream(&stream[1..]).await.is_err());
    })
    .await;
}
