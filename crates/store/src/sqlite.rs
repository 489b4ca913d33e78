//! The SQLite backend: the embedded default, one file per agency store.
//!
//! WAL mode lets the read pool run beside the one writer. The appender's connection opens each batch
//! with `BEGIN IMMEDIATE`, taking the write lock before it reads the head, so even two processes on one
//! file commit positions densely and in order.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, QueryBuilder, Sqlite};
use tokio::sync::watch;
use uuid::Uuid;

use crate::append::{AppendRequest, Appended};
use crate::appender::{Appender, BatchWriter};
use crate::batch::{self, Prepared, Snapshot};
use crate::error::{AppendError, StoreError};
use crate::event::RecordedEvent;
use crate::row::{
    EventRow, RequestRow, event_columns, events_from_json, into_events, signed, sqlite_event_json,
};
use crate::{EventLog, Leases, RecordedRequest};

/// Read connections; WAL readers do not block the writer.
const DEFAULT_POOL_SIZE: u32 = 4;
/// How long a statement waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Rows per INSERT statement: 16 columns × 1,000 rows stays under SQLite's 32,766 bound parameters.
const ROWS_PER_INSERT: usize = 1000;

/// An event store in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteEventStore {
    pool: SqlitePool,
    appender: Appender,
    head: watch::Receiver<u64>,
}

impl SqliteEventStore {
    /// Opens (creating if missing) the store at `url` (`sqlite://path/to/file.db`), applies migrations and
    /// starts the appender.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a committed event survives a power cut, not only a process crash; it is a ledger.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(DEFAULT_POOL_SIZE)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&pool).await?;
        let head_now: i64 = sqlx::query_scalar("SELECT position FROM log_head")
            .fetch_one(&pool)
            .await?;
        let (head_tx, head) = watch::channel(u64::try_from(head_now).unwrap_or(0));
        let writer = SqliteBatchWriter {
            options,
            conn: None,
        };
        Ok(SqliteEventStore {
            pool,
            appender: Appender::spawn(writer, head_tx),
            head,
        })
    }

    /// The read pool, for callers that keep their own tables beside the log (the benchmark's baseline).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}

fn unix_millis(ttl: Duration) -> (i64, i64) {
    let now = Utc::now().timestamp_millis();
    (
        now,
        now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)),
    )
}

#[async_trait]
impl EventLog for SqliteEventStore {
    async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        self.appender.append(request).await
    }

    async fn read_stream(
        &self,
        stream_id: &str,
        from_version: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows: Vec<EventRow> = sqlx::query_as(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version LIMIT ?"
        ))
            .bind(stream_id)
            .bind(signed(from_version))
            .bind(signed(limit as u64))
            .fetch_all(&self.pool)
            .await?;
        into_events(rows)
    }

    async fn read_all(
        &self,
        from_position: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let page: Option<String> = sqlx::query_scalar(concat!(
            "SELECT json_group_array(",
            sqlite_event_json!(),
            ") FROM (SELECT * FROM events WHERE position >= ? ORDER BY position LIMIT ?)"
        ))
        .bind(signed(from_position))
        .bind(signed(limit as u64))
        .fetch_one(&self.pool)
        .await?;
        // Decoding a page is pure CPU: on a thread of its own it overlaps with whatever the reader is doing
        // with the previous page (a rebuild applies it).
        tokio::task::spawn_blocking(move || events_from_json(page.as_deref().unwrap_or("[]")))
            .await
            .map_err(|e| StoreError::Corrupt(format!("decoding a page of events: {e}")))?
    }

    async fn head(&self) -> Result<u64, StoreError> {
        let head: i64 = sqlx::query_scalar("SELECT position FROM log_head")
            .fetch_one(&self.pool)
            .await?;
        Ok(u64::try_from(head).unwrap_or(0))
    }

    fn watch_head(&self) -> watch::Receiver<u64> {
        self.head.clone()
    }

    async fn stream_version(&self, stream_id: &str) -> Result<Option<u64>, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM streams WHERE stream_id = ?")
                .bind(stream_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(version.map(|v| u64::try_from(v).unwrap_or(0)))
    }

    async fn request_outcome(
        &self,
        request_id: Uuid,
    ) -> Result<Option<RecordedRequest>, StoreError> {
        self.recorded_outcome(request_id).await
    }
}

#[async_trait]
impl Leases for SqliteEventStore {
    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let (now, expires) = unix_millis(ttl);
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < ?4 \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(expires)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = ? AND holder = ?")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn leases(&self) -> Result<Vec<crate::Lease>, StoreError> {
        let rows: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT name, holder, expires_at FROM leases ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(name, holder, millis)| {
                let expires_at = DateTime::from_timestamp_millis(millis).ok_or_else(|| {
                    StoreError::Corrupt(format!("lease {name} expires at {millis} ms"))
                })?;
                Ok(crate::Lease {
                    name,
                    holder,
                    expires_at,
                })
            })
            .collect()
    }

    async fn checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = ?")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?;
        Ok(position.map(|p| u64::try_from(p).unwrap_or(0)).unwrap_or(0))
    }

    async fn save_checkpoint(
        &self,
        name: &str,
        holder: &str,
        position: u64,
    ) -> Result<bool, StoreError> {
        let (now, _) = unix_millis(Duration::ZERO);
        let done = sqlx::query(
            "INSERT INTO checkpoints (name, position, updated_at) \
             SELECT ?1, ?3, ?4 WHERE EXISTS \
               (SELECT 1 FROM leases WHERE name = ?1 AND holder = ?2 AND expires_at > ?5) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(holder)
        .bind(signed(position))
        .bind(Utc::now())
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The appender's connection; reopened after any error.
struct SqliteBatchWriter {
    options: SqliteConnectOptions,
    conn: Option<SqliteConnection>,
}

#[async_trait]
impl BatchWriter for SqliteBatchWriter {
    async fn write_batch(
        &mut self,
        batch: &[Prepared],
    ) -> Result<(Vec<Result<Appended, AppendError>>, u64), AppendError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self
                .conn
                .insert(SqliteConnection::connect_with(&self.options).await?),
        };
        let result = write(conn, batch).await;
        if let Err(e) = &result
            && !matches!(e, AppendError::DuplicateEventId { .. })
        {
            self.conn = None;
        }
        result
    }
}

async fn write(
    conn: &mut SqliteConnection,
    batch: &[Prepared],
) -> Result<(Vec<Result<Appended, AppendError>>, u64), AppendError> {
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let head: i64 = sqlx::query_scalar("SELECT position FROM log_head")
        .fetch_one(&mut *tx)
        .await?;
    let mut snapshot = Snapshot {
        head: u64::try_from(head).unwrap_or(0),
        ..Snapshot::default()
    };
    let streams: HashSet<&str> = batch.iter().map(|r| r.request.stream_id.as_str()).collect();
    for stream in streams {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT version FROM streams WHERE stream_id = ?")
                .bind(stream)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(version) = version {
            snapshot
                .streams
                .insert(stream.to_owned(), u64::try_from(version).unwrap_or(0));
        }
    }
    for request in batch {
        let earlier: Option<RequestRow> = sqlx::query_as(
            "SELECT request_id, stream_id, fingerprint, first_version, last_version, first_position, \
             last_position FROM requests WHERE request_id = ?",
        )
        .bind(request.request.request_id)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = earlier {
            let record = batch::RequestRecord::try_from(row)?;
            snapshot.requests.insert(record.request_id, record);
        }
    }

    let plan = batch::plan(batch, &snapshot);
    if plan.is_empty() {
        tx.rollback().await?;
        return Ok((plan.outcomes, snapshot.head));
    }

    let now = micros(Utc::now());
    for chunk in plan.rows.chunks(ROWS_PER_INSERT) {
        let mut insert =
            QueryBuilder::<Sqlite>::new(concat!("INSERT INTO events (", event_columns!(), ") "));
        insert.push_values(chunk, |mut b, row| {
            let e = row.event;
            b.push_bind(signed(row.position))
                .push_bind(row.request.stream_id.as_str())
                .push_bind(signed(row.stream_version))
                .push_bind(e.event_id)
                .push_bind(e.event_type.as_str())
                .push_bind(i64::from(e.schema_version))
                .push_bind(row.data)
                .push_bind(micros(e.metadata.occurred_at))
                .push_bind(now)
                .push_bind(e.metadata.district.as_str())
                .push_bind(e.metadata.agency.token())
                .push_bind(e.metadata.acting_unit.as_str())
                .push_bind(e.metadata.acting_role.as_str())
                .push_bind(row.request.request_id)
                .push_bind(e.metadata.correlation_id)
                .push_bind(e.metadata.causation_id)
                .push_bind(e.metadata.origin.as_deref());
        });
        if let Err(e) = insert.build().execute(&mut *tx).await {
            if !e
                .as_database_error()
                .is_some_and(|d| d.is_unique_violation())
            {
                return Err(e.into());
            }
            tx.rollback().await?;
            return Err(duplicate_event(conn, &plan.rows).await);
        }
    }
    for chunk in plan.stream_versions.chunks(ROWS_PER_INSERT) {
        let mut upsert = QueryBuilder::<Sqlite>::new("INSERT INTO streams (stream_id, version) ");
        upsert.push_values(chunk, |mut b, (stream, version)| {
            b.push_bind(*stream).push_bind(signed(*version));
        });
        upsert.push(" ON CONFLICT (stream_id) DO UPDATE SET version = excluded.version");
        upsert.build().execute(&mut *tx).await?;
    }
    for chunk in plan.requests.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO requests (request_id, stream_id, fingerprint, first_version, last_version, \
             first_position, last_position, recorded_at) ",
        );
        insert.push_values(chunk, |mut b, r| {
            b.push_bind(r.request_id)
                .push_bind(r.stream_id.as_str())
                .push_bind(r.fingerprint.as_slice())
                .push_bind(signed(r.appended.first_version))
                .push_bind(signed(r.appended.last_version))
                .push_bind(signed(r.appended.first_position))
                .push_bind(signed(r.appended.last_position))
                .push_bind(now);
        });
        insert.build().execute(&mut *tx).await?;
    }
    sqlx::query("UPDATE log_head SET position = ?")
        .bind(signed(plan.new_head))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((plan.outcomes, plan.new_head))
}

/// Keeps microseconds, as PostgreSQL does, so both backends return the same times.
fn micros(t: DateTime<Utc>) -> DateTime<Utc> {
    t.trunc_subsecs(6)
}

/// Finds which of the rows' event ids is already stored. Stream versions and request ids are decided under
/// the write lock, so an event id is the only unique key a planned insert can break.
async fn duplicate_event(conn: &mut SqliteConnection, rows: &[batch::EventRow<'_>]) -> AppendError {
    for row in rows {
        let found = sqlx::query("SELECT 1 FROM events WHERE event_id = ?")
            .bind(row.event.event_id)
            .fetch_optional(&mut *conn)
            .await;
        match found {
            Ok(Some(_)) => {
                return AppendError::DuplicateEventId {
                    event_id: row.event.event_id,
                };
            }
            Ok(None) => {}
            Err(e) => return e.into(),
        }
    }
    AppendError::Store(StoreError::Corrupt(
        "unique violation with no duplicate event id".into(),
    ))
}

crate::shared::same_sql!(SqliteEventStore);
