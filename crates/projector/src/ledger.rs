//! The ledger kept in PostgreSQL or SQLite. A batch of one feed's events and that feed's checkpoint are
//! written in one transaction: a projector killed mid-batch leaves nothing half-applied, and a batch
//! delivered again is skipped by the checkpoint (and, event by event, by the stream versions).

use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;

use oneledger_domain::link::LinkEvent;
use oneledger_domain::{Agency, ItemKind, ItemRef};
use oneledger_store::RecordedEvent;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{QueryBuilder, Row};

use crate::model::{Item, ItemSummary, LedgerModel, TimelineEntry, item_of};

/// Keys per `IN (…)` list: far below both backends' limits on bound parameters.
const IN_CHUNK: usize = 500;
/// Rows per multi-row INSERT: 11 columns × 1,000 rows stays under SQLite's 32,766 bound parameters.
const ROW_CHUNK: usize = 1000;

/// Appends `(<binds>)` of `values` to `query`: an `IN` list in the backend's own placeholders.
fn in_list<DB, T>(query: &mut QueryBuilder<DB>, values: &[T])
where
    DB: sqlx::Database,
    for<'t> &'t T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query.push("(");
    let mut list = query.separated(", ");
    for value in values {
        list.push_bind(value);
    }
    list.push_unseparated(")");
}

/// Appends ` AND` the item `i` is `unit`'s: responsible for it or its territorial unit (the statistics'
/// notion of a unit's items).
fn of_unit<DB>(query: &mut QueryBuilder<DB>, unit: &str)
where
    DB: sqlx::Database,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let unit = unit.to_owned();
    query
        .push(" AND (i.responsible_unit = ")
        .push_bind(unit.clone());
    query
        .push(" OR i.territorial_unit = ")
        .push_bind(unit)
        .push(")");
}

/// The timeline columns every timeline query selects, in [`TimelineRow`]'s order.
macro_rules! timeline_columns {
    () => {
        "agency, position, item, occurred_at, event_type, acting_unit, imported"
    };
}

/// A timeline row as both backends return it: agency, position, item key, time, type, acting unit,
/// imported.
type TimelineRow = (String, i64, String, String, String, String, bool);

/// A timeline row read back.
fn timeline_entry(
    (agency, position, item, occurred_at, event_type, acting_unit, imported): TimelineRow,
) -> Result<TimelineEntry, LedgerError> {
    Ok(TimelineEntry {
        occurred_at: chrono::DateTime::parse_from_rfc3339(&occurred_at)
            .map_err(corrupt)?
            .to_utc(),
        agency: agency.parse().map_err(corrupt)?,
        position: u64::try_from(position).unwrap_or(0),
        event_type,
        acting_unit,
        item: ItemRef::from_key(&item).ok_or_else(|| corrupt(format!("timeline item {item}")))?,
        imported,
    })
}

/// Why the ledger could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The database failed. gRPC: `UNAVAILABLE`.
    #[error("ledger database error: {0}")]
    Database(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("ledger migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored row could not be read back. gRPC: `INTERNAL`.
    #[error("corrupt ledger row: {0}")]
    Corrupt(String),
    /// Another batch was written since this one was prepared: prepare it again. Never reaches a client.
    #[error("the ledger moved on since the batch was prepared")]
    Stale,
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchOutcome {
    /// Events applied.
    pub applied: usize,
    /// Events at or before the checkpoint, skipped.
    pub skipped: usize,
    /// Events parked for an operator.
    pub parked: usize,
}

/// A batch worked out against the ledger, ready for [`SqlLedger::commit_batch`].
#[derive(Debug, Clone)]
pub struct PreparedBatch {
    /// The feed whose checkpoint moves.
    feed: String,
    /// The checkpoint it was prepared after.
    from: u64,
    /// The ledger's generation it expects at commit: nothing else written in between.
    generation: i64,
    /// Its last fresh event's position; none when every event was already applied.
    last: Option<u64>,
    /// What it does.
    outcome: BatchOutcome,
    /// The items and stream versions it touches, as they stand after it, and its timeline lines.
    model: LedgerModel,
    /// Items its links join, with their root.
    link_roots: BTreeMap<String, String>,
    /// Events the model could not apply.
    parked: Vec<ParkedEvent>,
    /// The touched items as rows.
    rows: Vec<ItemRow>,
    /// Roots of the entries it changes.
    changed: Vec<String>,
    /// A replay of one item's whole stream (an operator's retry of a parked event): worked out from
    /// nothing rather than from the item as stored, and moving no checkpoint.
    replay: bool,
}

impl PreparedBatch {
    /// Its last fresh event's position; none when it writes nothing.
    pub fn last(&self) -> Option<u64> {
        self.last
    }

    /// What it does.
    pub fn outcome(&self) -> BatchOutcome {
        self.outcome
    }
}

/// Overlays what the carried batch (still being written) makes newer than the database shows: the
/// states of the items and the versions of the streams this batch touches.
fn overlay(
    model: &mut LedgerModel,
    carry: &PreparedBatch,
    items: &[String],
    streams: &BTreeMap<Agency, BTreeSet<String>>,
) {
    for (item, state) in &carry.model.items {
        if model.items.contains_key(item) || items.contains(&item.key()) {
            model.items.insert(item.clone(), state.clone());
        }
    }
    for (stream, version) in &carry.model.applied {
        if streams
            .get(&stream.0)
            .is_some_and(|s| s.contains(&stream.1))
        {
            model.applied.insert(stream.clone(), *version);
        }
    }
}

/// The touched items as rows under their roots (an item with no link is its own root).
fn item_rows(
    model: &LedgerModel,
    roots: &BTreeMap<String, String>,
) -> Result<Vec<ItemRow>, LedgerError> {
    model
        .items
        .values()
        .map(|item| {
            let key = item.item.key();
            let root = roots.get(&key).cloned().unwrap_or_else(|| key.clone());
            let state = serde_json::to_string(item).map_err(corrupt)?;
            Ok(ItemRow {
                key,
                root,
                agency: item.agency,
                summary: item.summary(),
                state,
            })
        })
        .collect()
}

impl PreparedBatch {
    /// Applies the batch's fresh events to its model, parking those the model cannot apply, and records
    /// the roots its links set; returns the roots of the entries the links change.
    fn apply(&mut self, fresh: &[&RecordedEvent]) -> BTreeSet<String> {
        let mut changed = BTreeSet::new();
        for event in fresh {
            if let Err(e) = self.model.apply(event) {
                tracing::error!(error = %e, "event parked");
                self.model.applied.insert(
                    (event.metadata.agency, event.stream_id.clone()),
                    event.stream_version,
                );
                self.parked.push(ParkedEvent {
                    agency: event.metadata.agency,
                    position: event.position,
                    event_type: event.event_type.clone(),
                    reason: e.reason,
                    event: event.data.to_string(),
                });
                self.outcome.parked += 1;
                continue;
            }
            self.outcome.applied += 1;
            if event.event_type.ends_with(".link.linked")
                && let Ok(LinkEvent::Linked { root, joined, .. }) =
                    serde_json::from_value(event.data.clone())
            {
                changed.insert(root.key());
                for item in joined {
                    self.link_roots.insert(item.key(), root.key());
                }
            }
        }
        changed
    }
}

/// An event parked for an operator.
#[derive(Debug, Clone)]
struct ParkedEvent {
    agency: Agency,
    position: u64,
    event_type: String,
    reason: String,
    event: String,
}

/// An item as a `ledger_items` row.
#[derive(Debug, Clone)]
struct ItemRow {
    key: String,
    root: String,
    agency: Agency,
    summary: ItemSummary,
    state: String,
}

#[derive(Debug, Clone)]
enum Db {
    Pg(PgPool),
    Sqlite(SqlitePool),
}

/// Replaces the other units of each `(item key, units)` in `ledger_item_units`, inside `$tx`.
macro_rules! write_item_units {
    ($tx:ident, $items:expr) => {{
        let items: Vec<(&String, &Vec<String>)> = $items.collect();
        let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
        let mut delete = QueryBuilder::new("DELETE FROM ledger_item_units WHERE item IN ");
        in_list(&mut delete, &keys);
        delete.build().execute(&mut *$tx).await?;
        let pairs: Vec<(&String, &String)> = items
            .iter()
            .flat_map(|(key, units)| units.iter().map(move |u| (*key, u)))
            .collect();
        for pairs in pairs.chunks(ROW_CHUNK) {
            let mut insert = QueryBuilder::new("INSERT INTO ledger_item_units (item, unit) ");
            insert.push_values(pairs, |mut values, (key, unit)| {
                values.push_bind(*key).push_bind(*unit);
            });
            insert.push(" ON CONFLICT DO NOTHING");
            insert.build().execute(&mut *$tx).await?;
        }
    }};
}

/// Runs `$body` with `$tx` a transaction of the ledger's backend, committing after. The body is expanded
/// once per backend, so a `QueryBuilder` in it writes that backend's placeholders.
macro_rules! in_transaction {
    // A writing transaction: on SQLite it takes the write lock at BEGIN, so two writers queue on the busy
    // timeout instead of one failing at once when its read snapshot cannot be upgraded.
    (write $db:expr, |$tx:ident| $body:expr) => {
        match $db {
            Db::Pg(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
            Db::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
        }
    };
    ($db:expr, |$tx:ident| $body:expr) => {
        match $db {
            Db::Pg(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
            Db::Sqlite(pool) => {
                let mut $tx = pool.begin().await?;
                let out = $body;
                $tx.commit().await?;
                Ok(out)
            }
        }
    };
}

/// Items from their stored states.
fn items_from_states(states: &[String]) -> Result<Vec<Item>, LedgerError> {
    states
        .iter()
        .map(|state| serde_json::from_str::<Item>(state).map_err(corrupt))
        .collect()
}

fn corrupt(what: impl std::fmt::Display) -> LedgerError {
    LedgerError::Corrupt(what.to_string())
}

/// The ledger in a database.
#[derive(Debug, Clone)]
pub struct SqlLedger {
    db: Db,
    /// Bumped after each batch this process commits, so a watch in the same process (the ledger API
    /// beside its projector) sends a change at once instead of at its next look.
    commits: Arc<tokio::sync::watch::Sender<u64>>,
}

impl SqlLedger {
    /// Opens the ledger at `url` (`postgres://…` or `sqlite://…`) and applies its migrations.
    pub async fn connect(url: &str) -> Result<Self, LedgerError> {
        Self::open(url, false).await
    }

    /// Opens a ledger being rebuilt, which nothing reads until it is complete: commits skip waiting for
    /// the disk (a crash loses only a ledger that is thrown away and rebuilt anyway). Once complete,
    /// [`close`](Self::close) it and open it with [`connect`](Self::connect).
    pub async fn connect_fresh(url: &str) -> Result<Self, LedgerError> {
        Self::open(url, true).await
    }

    async fn open(url: &str, fresh: bool) -> Result<Self, LedgerError> {
        let db = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // The ledger is derived: a power cut may lose its last commits, never tear one (WAL), and the
                // projector re-applies them from the checkpoint that survived.
                .synchronous(if fresh {
                    sqlx::sqlite::SqliteSynchronous::Off
                } else {
                    sqlx::sqlite::SqliteSynchronous::Normal
                })
                // 64 MiB of page cache: the items and timeline indexes of a large district stay in memory.
                .pragma("cache_size", "-65536")
                .busy_timeout(std::time::Duration::from_secs(10));
            let options = if fresh {
                // Fold the write-ahead log into the file rarely while rebuilding (`close` folds it at the
                // end), and keep the indexes of a district's years in memory while they grow.
                options
                    .pragma("wal_autocheckpoint", "100000")
                    .pragma("cache_size", "-524288")
            } else {
                options
            };
            let pool = SqlitePoolOptions::new()
                .max_connections(4)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/sqlite").run(&pool).await?;
            Db::Sqlite(pool)
        } else {
            let options = PgConnectOptions::from_str(url)?;
            let options = if fresh {
                options.options([("synchronous_commit", "off")])
            } else {
                options
            };
            let pool = PgPoolOptions::new()
                .max_connections(8)
                .test_before_acquire(false)
                .connect_with(options)
                .await?;
            sqlx::migrate!("migrations/postgres").run(&pool).await?;
            Db::Pg(pool)
        };
        let ledger = SqlLedger {
            db,
            commits: Arc::new(tokio::sync::watch::Sender::new(0)),
        };
        ledger.backfill_item_units().await?;
        Ok(ledger)
    }

    /// Fills `ledger_item_units` for the items applied before it existed (migration 0007), once: the
    /// migration leaves a pending row that this removes in the same transaction.
    async fn backfill_item_units(&self) -> Result<(), LedgerError> {
        in_transaction!(write & self.db, |tx| {
            let pending: Option<String> =
                sqlx::query_scalar("SELECT name FROM ledger_backfills WHERE name = 'item_units'")
                    .fetch_optional(&mut *tx)
                    .await?;
            if pending.is_some() {
                let mut rows = Vec::new();
                for row in sqlx::query("SELECT item, state FROM ledger_items")
                    .fetch_all(&mut *tx)
                    .await?
                {
                    let key: String = row.try_get("item")?;
                    let state: String = row.try_get("state")?;
                    let item: Item = serde_json::from_str(&state).map_err(corrupt)?;
                    rows.push((key, item.summary().other_units));
                }
                for chunk in rows.chunks(ROW_CHUNK) {
                    write_item_units!(tx, chunk.iter().map(|(key, units)| (key, units)));
                }
                sqlx::query("DELETE FROM ledger_backfills WHERE name = 'item_units'")
                    .execute(&mut *tx)
                    .await?;
            }
        })
    }

    /// Closes the ledger's connections; on SQLite the write-ahead log is first folded into the database
    /// file, so the file alone holds the ledger (a rebuild renames it into place).
    pub async fn close(self) -> Result<(), LedgerError> {
        match self.db {
            Db::Pg(pool) => pool.close().await,
            Db::Sqlite(pool) => {
                sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .execute(&pool)
                    .await?;
                pool.close().await;
            }
        }
        Ok(())
    }

    /// How far `feed` has been applied (0: nothing yet).
    pub async fn checkpoint(&self, feed: &str) -> Result<u64, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let position: Option<i64> =
                sqlx::query_scalar("SELECT position FROM ledger_checkpoints WHERE feed = $1")
                    .bind(feed)
                    .fetch_optional(&mut *tx)
                    .await?;
            position.map_or(0, |p| u64::try_from(p).unwrap_or(0))
        })
    }

    /// Applies one feed's batch (events of one store, in position order) and moves its checkpoint, in one
    /// transaction. Events at or before the checkpoint are skipped. Worked out against the ledger as it
    /// stands, then written only if no other batch was written meanwhile (else worked out again), so
    /// feeds applied concurrently never overwrite each other's changes to one item.
    pub async fn apply_batch(
        &self,
        feed: &str,
        events: &[RecordedEvent],
    ) -> Result<BatchOutcome, LedgerError> {
        loop {
            let prepared = self.prepare_batch(feed, events, None).await?;
            match self.commit_batch(&prepared).await {
                Err(LedgerError::Stale) => continue,
                other => return other,
            }
        }
    }

    /// Works a batch out against the ledger as committed, overlaid with `carry`: the batch just before
    /// it on the same feed, which may still be being written. Reads only; [`commit_batch`] writes.
    ///
    /// [`commit_batch`]: Self::commit_batch
    pub async fn prepare_batch(
        &self,
        feed: &str,
        events: &[RecordedEvent],
        carry: Option<&PreparedBatch>,
    ) -> Result<PreparedBatch, LedgerError> {
        self.prepare(feed, events, carry, false).await
    }

    /// Projects one item's whole stream again from its first event, replacing what the ledger holds of
    /// the item: how an event parked by an older binary is applied once this one can read it (the events
    /// after it were applied without it). Worked out against one generation and written only if the
    /// ledger is still at it, like any batch; moves no feed's checkpoint.
    pub async fn replay_stream(
        &self,
        events: &[RecordedEvent],
    ) -> Result<BatchOutcome, LedgerError> {
        let (Some(first), true) = (
            events.first(),
            events.windows(2).all(|w| {
                w[0].stream_id == w[1].stream_id
                    && w[0].metadata.agency == w[1].metadata.agency
                    && w[0].stream_version < w[1].stream_version
            }),
        ) else {
            return Err(LedgerError::Corrupt(
                "a replay is one stream's events in version order".into(),
            ));
        };
        if first.stream_version != 1 || item_of(first).is_none() {
            return Err(LedgerError::Corrupt(
                "a replay starts at an item stream's first event".into(),
            ));
        }
        loop {
            let prepared = self.prepare("replay", events, None, true).await?;
            match self.commit_batch(&prepared).await {
                Err(LedgerError::Stale) => continue,
                other => return other,
            }
        }
    }

    async fn prepare(
        &self,
        feed: &str,
        events: &[RecordedEvent],
        carry: Option<&PreparedBatch>,
        replay: bool,
    ) -> Result<PreparedBatch, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let generation: i64 =
                sqlx::query_scalar("SELECT generation FROM ledger_generation WHERE id = 1")
                    .fetch_one(&mut *tx)
                    .await?;
            let (from, generation) = match carry {
                // The carried batch's commit is the one write expected in between.
                Some(c) => (c.last.unwrap_or(c.from), c.generation + 1),
                // A replay applies every event it is given.
                None if replay => (0, generation),
                None => {
                    let checkpoint: Option<i64> = sqlx::query_scalar(
                        "SELECT position FROM ledger_checkpoints WHERE feed = $1",
                    )
                    .bind(feed)
                    .fetch_optional(&mut *tx)
                    .await?;
                    (
                        checkpoint.map_or(0, |p| u64::try_from(p).unwrap_or(0)),
                        generation,
                    )
                }
            };
            let fresh: Vec<&RecordedEvent> = events.iter().filter(|e| e.position > from).collect();
            let mut prepared = PreparedBatch {
                feed: feed.to_owned(),
                from,
                generation,
                last: fresh.last().map(|e| e.position),
                outcome: BatchOutcome {
                    skipped: events.len() - fresh.len(),
                    ..BatchOutcome::default()
                },
                model: LedgerModel::default(),
                link_roots: BTreeMap::new(),
                parked: Vec::new(),
                rows: Vec::new(),
                changed: Vec::new(),
                replay,
            };
            if prepared.last.is_some() {
                // The part of the model this batch touches: its items and its streams' versions.
                let model = &mut prepared.model;
                let items: Vec<String> = fresh
                    .iter()
                    .filter_map(|e| item_of(e))
                    .map(|i| i.key())
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                // A replay builds its item from nothing: neither its state nor its stream's version is read.
                let loaded: &[String] = if replay { &[] } else { &items };
                for chunk in loaded.chunks(IN_CHUNK) {
                    let mut query =
                        QueryBuilder::new("SELECT state FROM ledger_items WHERE item IN ");
                    in_list(&mut query, chunk);
                    for state in query
                        .build_query_scalar::<String>()
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        let loaded: Item = serde_json::from_str(&state).map_err(corrupt)?;
                        model.items.insert(loaded.item.clone(), loaded);
                    }
                }
                // By agency and stream, the table's key: a lookup by stream alone would scan every stream.
                let mut streams: BTreeMap<Agency, BTreeSet<String>> = BTreeMap::new();
                for e in &fresh {
                    streams
                        .entry(e.metadata.agency)
                        .or_default()
                        .insert(e.stream_id.clone());
                }
                for (agency, names) in streams.iter().filter(|_| !replay) {
                    let names: Vec<&String> = names.iter().collect();
                    for chunk in names.chunks(IN_CHUNK) {
                        let mut query = QueryBuilder::new(
                            "SELECT agency, stream, version FROM ledger_streams WHERE agency = ",
                        );
                        query.push_bind(agency.token()).push(" AND stream IN ");
                        in_list(&mut query, chunk);
                        for row in query.build().fetch_all(&mut *tx).await? {
                            let agency: String = row.try_get("agency")?;
                            let version: i64 = row.try_get("version")?;
                            model.applied.insert(
                                (agency.parse().map_err(corrupt)?, row.try_get("stream")?),
                                u64::try_from(version).unwrap_or(0),
                            );
                        }
                    }
                }
                if let Some(c) = carry {
                    overlay(model, c, &items, &streams);
                }
                // The carried batch's timeline is its own; this batch records only its events.
                model.timelines.clear();
                let mut changed = prepared.apply(&fresh);

                // Roots of the touched items: from the links (stored, carried, this batch's), else the item.
                let keys: Vec<String> = prepared.model.items.keys().map(ItemRef::key).collect();
                let mut roots: BTreeMap<String, String> = BTreeMap::new();
                for chunk in keys.chunks(IN_CHUNK) {
                    let mut query =
                        QueryBuilder::new("SELECT item, root FROM ledger_links WHERE item IN ");
                    in_list(&mut query, chunk);
                    for row in query.build().fetch_all(&mut *tx).await? {
                        roots.insert(row.try_get("item")?, row.try_get("root")?);
                    }
                }
                if let Some(c) = carry {
                    roots.extend(c.link_roots.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                roots.extend(
                    prepared
                        .link_roots
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone())),
                );
                prepared.rows = item_rows(&prepared.model, &roots)?;
                changed.extend(prepared.rows.iter().map(|r| r.root.clone()));
                prepared.changed = changed.into_iter().collect();
            }
            prepared
        })
    }

    /// Writes a prepared batch and moves its feed's checkpoint, in one transaction; [`LedgerError::Stale`]
    /// when another batch was written since it was prepared (prepare it again).
    pub async fn commit_batch(
        &self,
        prepared: &PreparedBatch,
    ) -> Result<BatchOutcome, LedgerError> {
        let outcome = self.write_batch(prepared).await?;
        if prepared.last.is_some() {
            self.commits.send_modify(|n| *n = n.wrapping_add(1));
        }
        Ok(outcome)
    }

    /// Woken after each batch this process commits (see [`commit_batch`](Self::commit_batch)); commits
    /// of other processes are not seen here.
    pub fn commits(&self) -> tokio::sync::watch::Receiver<u64> {
        self.commits.subscribe()
    }

    async fn write_batch(&self, prepared: &PreparedBatch) -> Result<BatchOutcome, LedgerError> {
        let Some(last) = prepared.last else {
            return Ok(prepared.outcome);
        };
        in_transaction!(write & self.db, |tx| {
            // Taking the next generation both checks that nothing was written since and, on PostgreSQL,
            // holds the row until COMMIT, so writers of different feeds go one at a time.
            let moved = sqlx::query("UPDATE ledger_generation SET generation = generation + 1 WHERE id = 1 AND generation = $1")
            .bind(prepared.generation)
            .execute(&mut *tx)
            .await?;
            if moved.rows_affected() != 1 {
                return Err(LedgerError::Stale);
            }
            for parked in &prepared.parked {
                sqlx::query(
                    "INSERT INTO ledger_parked (agency, position, event_type, reason, event) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (agency, position) DO NOTHING",
                )
                .bind(parked.agency.token())
                .bind(i64::try_from(parked.position).unwrap_or(i64::MAX))
                .bind(&parked.event_type)
                .bind(&parked.reason)
                .bind(&parked.event)
                .execute(&mut *tx)
                .await?;
            }
            for (item, root) in &prepared.link_roots {
                sqlx::query(
                    "INSERT INTO ledger_links (item, root) VALUES ($1, $2) \
                     ON CONFLICT (item) DO UPDATE SET root = excluded.root",
                )
                .bind(item)
                .bind(root)
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE ledger_items SET root = $1 WHERE item = $2")
                    .bind(root)
                    .bind(item)
                    .execute(&mut *tx)
                    .await?;
            }
            for chunk in prepared.rows.chunks(ROW_CHUNK) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO ledger_items (item, root, agency, kind, title, stage, closed, responsible_unit, \
                     territorial_unit, territory, state) ",
                );
                query.push_values(chunk, |mut values, row| {
                    let s = &row.summary;
                    values
                        .push_bind(&row.key)
                        .push_bind(&row.root)
                        .push_bind(row.agency.token())
                        .push_bind(s.kind)
                        .push_bind(&s.title)
                        .push_bind(&s.stage)
                        .push_bind(s.closed)
                        .push_bind(&s.responsible_unit)
                        .push_bind(&s.territorial_unit)
                        .push_bind(&s.territory)
                        .push_bind(&row.state);
                });
                query.push(
                    " ON CONFLICT (item) DO UPDATE SET agency = excluded.agency, title = excluded.title, \
                     stage = excluded.stage, closed = excluded.closed, responsible_unit = excluded.responsible_unit, \
                     territorial_unit = excluded.territorial_unit, territory = excluded.territory, \
                     state = excluded.state",
                );
                query.build().execute(&mut *tx).await?;
                write_item_units!(
                    tx,
                    chunk.iter().map(|row| (&row.key, &row.summary.other_units))
                );
            }
            for chunk in prepared.changed.chunks(ROW_CHUNK) {
                let mut query = QueryBuilder::new("INSERT INTO ledger_changes (root) ");
                query.push_values(chunk, |mut values, root| {
                    values.push_bind(root);
                });
                query.build().execute(&mut *tx).await?;
            }
            let lines: Vec<&TimelineEntry> = prepared.model.timelines.values().flatten().collect();
            for chunk in lines.chunks(ROW_CHUNK) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO ledger_timeline (agency, position, item, occurred_at, event_type, acting_unit, \
                     imported) ",
                );
                query.push_values(chunk, |mut values, line| {
                    values
                        .push_bind(line.agency.token())
                        .push_bind(i64::try_from(line.position).unwrap_or(i64::MAX))
                        .push_bind(line.item.key())
                        .push_bind(
                            line.occurred_at
                                .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                        )
                        .push_bind(&line.event_type)
                        .push_bind(&line.acting_unit)
                        .push_bind(line.imported);
                });
                query.push(" ON CONFLICT (agency, position) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            let versions: Vec<(&(Agency, String), &u64)> = prepared.model.applied.iter().collect();
            for chunk in versions.chunks(ROW_CHUNK) {
                let mut query =
                    QueryBuilder::new("INSERT INTO ledger_streams (agency, stream, version) ");
                query.push_values(chunk, |mut values, ((agency, stream), version)| {
                    values
                        .push_bind(agency.token())
                        .push_bind(stream)
                        .push_bind(i64::try_from(**version).unwrap_or(i64::MAX));
                });
                query
                    .push(" ON CONFLICT (agency, stream) DO UPDATE SET version = excluded.version");
                query.build().execute(&mut *tx).await?;
            }
            if !prepared.replay {
                sqlx::query(
                    "INSERT INTO ledger_checkpoints (feed, position) VALUES ($1, $2) \
                     ON CONFLICT (feed) DO UPDATE SET position = excluded.position",
                )
                .bind(&prepared.feed)
                .bind(i64::try_from(last).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            }
            prepared.outcome
        })
    }

    /// The whole ledger as a model: for queries at small scale, and to compare a rebuild with the live one.
    pub async fn load_model(&self) -> Result<LedgerModel, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let mut model = LedgerModel::default();
            for row in sqlx::query("SELECT state FROM ledger_items")
                .fetch_all(&mut *tx)
                .await?
            {
                let state: String = row.try_get("state")?;
                let item: Item = serde_json::from_str(&state).map_err(corrupt)?;
                model.items.insert(item.item.clone(), item);
            }
            for row in sqlx::query("SELECT item, root FROM ledger_links")
                .fetch_all(&mut *tx)
                .await?
            {
                let (item, root): (String, String) = (row.try_get("item")?, row.try_get("root")?);
                let item =
                    ItemRef::from_key(&item).ok_or_else(|| corrupt(format!("link item {item}")))?;
                let root =
                    ItemRef::from_key(&root).ok_or_else(|| corrupt(format!("link root {root}")))?;
                model.root_of.insert(item, root);
            }
            for row in sqlx::query("SELECT agency, stream, version FROM ledger_streams")
                .fetch_all(&mut *tx)
                .await?
            {
                let agency: String = row.try_get("agency")?;
                let version: i64 = row.try_get("version")?;
                model.applied.insert(
                    (agency.parse().map_err(corrupt)?, row.try_get("stream")?),
                    u64::try_from(version).unwrap_or(0),
                );
            }
            let lines: Vec<TimelineRow> = sqlx::query_as(concat!(
                "SELECT ",
                timeline_columns!(),
                " FROM ledger_timeline"
            ))
            .fetch_all(&mut *tx)
            .await?;
            let mut timelines: BTreeMap<ItemRef, BTreeSet<TimelineEntry>> = BTreeMap::new();
            for line in lines {
                let line = timeline_entry(line)?;
                timelines.entry(line.item.clone()).or_default().insert(line);
            }
            model.timelines = timelines;
            model
        })
    }
}

mod operations;
pub use operations::{Parked, ParkedAction};

#[cfg(test)]
mod tests;

/// Which entries a list reads.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only the entries of this scope; none for every entry.
    pub scope: Option<Scope>,
    /// Entries with an item in this territory.
    pub territory: Option<String>,
    /// Entries with this text in an item's title.
    pub title_contains: Option<String>,
}

/// One recorded export of the ledger (who, what, when).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportRecord {
    /// Its id (UUIDv7).
    pub export_id: String,
    /// When it was made.
    pub exported_at: chrono::DateTime<chrono::Utc>,
    /// The token's subject.
    pub subject: String,
    /// The caller's unit.
    pub unit: String,
    /// The caller's roles, comma-separated.
    pub roles: String,
    /// What was exported, in Chinese: the list's filters and order (`api::export::describe`), or the
    /// statistics' period and unit.
    pub what: String,
    /// `xlsx` or `csv`.
    pub format: String,
    /// Rows written.
    pub rows: u32,
    /// The change cursor it was read at.
    pub as_of: u64,
}

/// The entries a unit's ledger holds: those with an item any of `units` takes part in (responsible,
/// territorial or another part), and those arising in any of `territories`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    /// The units (a unit and those below it).
    pub units: Vec<String>,
    /// The territories (a zone, sub-district or town sees what arises in it).
    pub territories: Vec<String>,
}

impl SqlLedger {
    /// Roots after `after` (in key order) with an item matching `filter`, at most `limit`.
    pub async fn list_roots(
        &self,
        filter: &ListFilter,
        after: &str,
        limit: usize,
    ) -> Result<Vec<String>, LedgerError> {
        let title = filter
            .title_contains
            .as_ref()
            .map(|t| format!("%{}%", t.replace(['%', '_'], "")));
        // One SELECT per way an item enters the scope, each range-scanned in root order on its own
        // index; UNION merges them without duplicates, DISTINCT where there is one SELECT. `i` is the
        // item row.
        let branches: Vec<(&str, &str, &[String])> = match &filter.scope {
            None => vec![("FROM ledger_items i WHERE ", "", &[])],
            Some(scope) => {
                let mut branches: Vec<(&str, &str, &[String])> = Vec::new();
                if !scope.units.is_empty() {
                    let items = "FROM ledger_items i WHERE ";
                    branches.push((items, "i.responsible_unit", &scope.units));
                    branches.push((items, "i.territorial_unit", &scope.units));
                    branches.push((
                        "FROM ledger_item_units p JOIN ledger_items i ON i.item = p.item WHERE ",
                        "p.unit",
                        &scope.units,
                    ));
                }
                if !scope.territories.is_empty() {
                    branches.push((
                        "FROM ledger_items i WHERE ",
                        "i.territory",
                        &scope.territories,
                    ));
                }
                branches
            }
        };
        if branches.is_empty() {
            return Ok(Vec::new());
        }
        in_transaction!(&self.db, |tx| {
            let mut query = QueryBuilder::new("");
            for (i, (select, column, values)) in branches.iter().enumerate() {
                if i > 0 {
                    query.push(" UNION ");
                }
                query.push(if branches.len() == 1 {
                    "SELECT DISTINCT i.root "
                } else {
                    "SELECT i.root "
                });
                query.push(*select);
                if !column.is_empty() {
                    query.push(*column).push(" IN ");
                    in_list(&mut query, values);
                    query.push(" AND ");
                }
                query.push("i.root > ").push_bind(after);
                if let Some(territory) = &filter.territory {
                    query.push(" AND i.territory = ").push_bind(territory);
                }
                if let Some(title) = &title {
                    query.push(" AND i.title LIKE ").push_bind(title);
                }
            }
            query
                .push(" ORDER BY root LIMIT ")
                .push_bind(i64::try_from(limit).unwrap_or(i64::MAX));
            query
                .build_query_scalar::<String>()
                .fetch_all(&mut *tx)
                .await?
        })
    }

    /// The root of the entry `item` belongs to, if the ledger has seen the item.
    pub async fn root_of(&self, item: &ItemRef) -> Result<Option<String>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let root: Option<String> =
                sqlx::query_scalar("SELECT root FROM ledger_items WHERE item = $1")
                    .bind(item.key())
                    .fetch_optional(&mut *tx)
                    .await?;
            root
        })
    }

    /// The part of the model one entry needs: its items, their links and timelines.
    pub async fn entry_model(&self, root: &str) -> Result<LedgerModel, LedgerError> {
        self.entries_model(&[root.to_owned()], true).await
    }

    /// The part of the model the entries of `roots` need, in two queries: their items (with links), and
    /// their timelines when asked.
    pub async fn entries_model(
        &self,
        roots: &[String],
        with_timeline: bool,
    ) -> Result<LedgerModel, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let mut model = LedgerModel::default();
            let mut keys = Vec::new();
            for chunk in roots.chunks(IN_CHUNK) {
                let mut query =
                    QueryBuilder::new("SELECT item, root, state FROM ledger_items WHERE root IN ");
                in_list(&mut query, chunk);
                for row in query.build().fetch_all(&mut *tx).await? {
                    let (key, root, state): (String, String, String) = (
                        row.try_get("item")?,
                        row.try_get("root")?,
                        row.try_get("state")?,
                    );
                    let item: Item = serde_json::from_str(&state).map_err(corrupt)?;
                    if key != root {
                        model.root_of.insert(
                            item.item.clone(),
                            ItemRef::from_key(&root)
                                .ok_or_else(|| corrupt(format!("root {root}")))?,
                        );
                    }
                    keys.push(key);
                    model.items.insert(item.item.clone(), item);
                }
            }
            if !with_timeline {
                for chunk in keys.chunks(IN_CHUNK) {
                    let mut query = QueryBuilder::new(
                        "SELECT item, MIN(occurred_at), MAX(occurred_at) FROM ledger_timeline \
                         WHERE item IN ",
                    );
                    in_list(&mut query, chunk);
                    query.push(" GROUP BY item");
                    for (item, first, last) in query
                        .build_query_as::<(String, String, String)>()
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        let at = |t: &str| {
                            chrono::DateTime::parse_from_rfc3339(t)
                                .map(|t| t.to_utc())
                                .map_err(corrupt)
                        };
                        let item = ItemRef::from_key(&item)
                            .ok_or_else(|| corrupt(format!("timeline item {item}")))?;
                        model.spans.insert(item, (at(&first)?, at(&last)?));
                    }
                }
            } else {
                for chunk in keys.chunks(IN_CHUNK) {
                    let mut query = QueryBuilder::new(concat!(
                        "SELECT ",
                        timeline_columns!(),
                        " FROM ledger_timeline WHERE item IN "
                    ));
                    in_list(&mut query, chunk);
                    for line in query
                        .build_query_as::<TimelineRow>()
                        .fetch_all(&mut *tx)
                        .await?
                    {
                        let line = timeline_entry(line)?;
                        model
                            .timelines
                            .entry(line.item.clone())
                            .or_default()
                            .insert(line);
                    }
                }
            }
            model
        })
    }

    /// The latest change's sequence (0 before any): what a list was read at, and where a watch that
    /// follows it resumes.
    pub async fn latest_change(&self) -> Result<u64, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let seq: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM ledger_changes")
                .fetch_one(&mut *tx)
                .await?;
            u64::try_from(seq.unwrap_or(0)).unwrap_or(0)
        })
    }

    /// Records one export: who made it, of what, when, and at which change.
    pub async fn record_export(&self, export: &ExportRecord) -> Result<(), LedgerError> {
        in_transaction!(write & self.db, |tx| {
            sqlx::query(
                "INSERT INTO ledger_exports (export_id, exported_at, subject, unit, roles, what, \
                 format, row_count, as_of) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&export.export_id)
            .bind(
                export
                    .exported_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            )
            .bind(&export.subject)
            .bind(&export.unit)
            .bind(&export.roles)
            .bind(&export.what)
            .bind(&export.format)
            .bind(i64::from(export.rows))
            .bind(i64::try_from(export.as_of).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await?;
        })
    }

    /// Every export recorded, oldest first.
    pub async fn exports(&self) -> Result<Vec<ExportRecord>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let rows = sqlx::query(
                "SELECT export_id, exported_at, subject, unit, roles, what, format, row_count, as_of \
                 FROM ledger_exports ORDER BY exported_at, export_id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let at: String = row.try_get("exported_at")?;
                let (n, as_of): (i64, i64) = (row.try_get("row_count")?, row.try_get("as_of")?);
                out.push(ExportRecord {
                    export_id: row.try_get("export_id")?,
                    exported_at: chrono::DateTime::parse_from_rfc3339(&at)
                        .map_err(corrupt)?
                        .to_utc(),
                    subject: row.try_get("subject")?,
                    unit: row.try_get("unit")?,
                    roles: row.try_get("roles")?,
                    what: row.try_get("what")?,
                    format: row.try_get("format")?,
                    rows: u32::try_from(n).map_err(corrupt)?,
                    as_of: u64::try_from(as_of).map_err(corrupt)?,
                });
            }
            out
        })
    }

    /// Changes after `after`: (sequence, root), at most `limit`.
    pub async fn changes(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, String)>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let rows = sqlx::query(
                "SELECT seq, root FROM ledger_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(i64::try_from(after).unwrap_or(i64::MAX))
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                out.push((u64::try_from(seq).unwrap_or(0), row.try_get("root")?));
            }
            out
        })
    }

    /// How many events of each type were recorded between two instants (RFC 3339, half-open), on items of
    /// `unit` when given.
    pub async fn event_counts(
        &self,
        from: &str,
        to: &str,
        unit: Option<&str>,
        with_imported: bool,
    ) -> Result<Vec<(String, u64)>, LedgerError> {
        // `$3` true counts imported lines too; false, live ones only.
        let text = if unit.is_some() {
            "SELECT t.event_type AS event_type, COUNT(*) AS n FROM ledger_timeline t JOIN ledger_items i ON i.item = t.item \
             WHERE t.occurred_at >= $1 AND t.occurred_at < $2 AND ($3 OR NOT t.imported) \
             AND (i.responsible_unit = $4 OR i.territorial_unit = $4) GROUP BY t.event_type"
        } else {
            "SELECT event_type, COUNT(*) AS n FROM ledger_timeline WHERE occurred_at >= $1 AND occurred_at < $2 \
             AND ($3 OR NOT imported) GROUP BY event_type"
        };
        in_transaction!(&self.db, |tx| {
            let mut query = sqlx::query(text).bind(from).bind(to).bind(with_imported);
            if let Some(u) = unit {
                query = query.bind(u);
            }
            let mut out = Vec::new();
            for row in query.fetch_all(&mut *tx).await? {
                let n: i64 = row.try_get("n")?;
                out.push((row.try_get("event_type")?, u64::try_from(n).unwrap_or(0)));
            }
            out
        })
    }

    /// Items that had an event whose type ends with one of `suffixes` (e.g. `.dispute.assigned`) between
    /// two instants (RFC 3339, half-open), on `unit` when given.
    pub async fn items_with_event(
        &self,
        suffixes: &[&str],
        from: &str,
        to: &str,
        unit: Option<&str>,
    ) -> Result<Vec<Item>, LedgerError> {
        // No suffix matches nothing: one pattern that no type equals.
        let patterns: Vec<String> = if suffixes.is_empty() {
            vec![String::new()]
        } else {
            suffixes.iter().map(|s| format!("%{s}")).collect()
        };
        self.items_in_period("t.event_type LIKE ", &patterns, from, to, unit)
            .await
    }

    /// Items of `kind` with an event between two instants (RFC 3339, half-open), on `unit` when given.
    pub async fn items_active(
        &self,
        kind: &str,
        from: &str,
        to: &str,
        unit: Option<&str>,
    ) -> Result<Vec<Item>, LedgerError> {
        self.items_in_period("i.kind = ", &[kind.to_owned()], from, to, unit)
            .await
    }

    /// Open petition matters (as recorded) on `unit` when given, each with how many petition matters its
    /// entry holds: the backlog of repeat matters is read from these.
    pub async fn open_petition_matters(
        &self,
        unit: Option<&str>,
    ) -> Result<Vec<(Item, u64)>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let kind = ItemKind::PetitionMatter.as_str();
            let mut query = QueryBuilder::new(
                "SELECT i.state AS state, (SELECT COUNT(*) FROM ledger_items j WHERE j.root = i.root \
                 AND j.kind = i.kind) AS in_entry FROM ledger_items i WHERE i.kind = ",
            );
            query
                .push_bind(kind)
                .push(" AND i.closed = ")
                .push_bind(false);
            if let Some(unit) = unit {
                of_unit(&mut query, unit);
            }
            let mut out = Vec::new();
            for row in query.build().fetch_all(&mut *tx).await? {
                let state: String = row.try_get("state")?;
                let in_entry: i64 = row.try_get("in_entry")?;
                let item = serde_json::from_str::<Item>(&state).map_err(corrupt)?;
                out.push((item, u64::try_from(in_entry).unwrap_or(0)));
            }
            out
        })
    }

    /// Items with an event between two instants (RFC 3339, half-open), on `unit` when given, for which
    /// `test` (over `i`, the item, and `t`, a timeline line, ending in its operator) holds for one of
    /// `values`.
    async fn items_in_period(
        &self,
        test: &str,
        values: &[String],
        from: &str,
        to: &str,
        unit: Option<&str>,
    ) -> Result<Vec<Item>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let mut query = QueryBuilder::new(
                "SELECT DISTINCT i.item AS item, i.state AS state FROM ledger_items i \
                 JOIN ledger_timeline t ON t.item = i.item WHERE (",
            );
            for (n, value) in values.iter().enumerate() {
                if n > 0 {
                    query.push(" OR ");
                }
                query.push(test).push_bind(value);
            }
            query.push(") AND t.occurred_at >= ").push_bind(from);
            query.push(" AND t.occurred_at < ").push_bind(to);
            if let Some(unit) = unit {
                of_unit(&mut query, unit);
            }
            let rows = query.build().fetch_all(&mut *tx).await?;
            let states = rows
                .iter()
                .map(|row| row.try_get::<String, _>("state"))
                .collect::<Result<Vec<_>, _>>()?;
            items_from_states(&states)?
        })
    }
}
