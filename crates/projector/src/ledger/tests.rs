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
