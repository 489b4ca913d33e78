//! The PostgreSQL backend: the production store.
//!
//! Appends go through the group-commit appender on one dedicated connection; each batch locks the one-row
//! `log_head`, reads the touched streams' versions and earlier request ids, and writes all rows with one
//! `UNNEST` statement. Reads use a pool.

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Row};
use tokio::sync::watch;
use uuid::Uuid;

use crate::append::{AppendRequest, Appended};
use crate::appender::{Appender, BatchWriter};
use crate::batch::{self, Prepared, Snapshot};
use crate::error::{AppendError, StoreError};
use crate::event::RecordedEvent;
use crate::row::{EventRow, RequestRow, into_events, pg_event_columns, signed};
use crate::{EventLog, Leases, RecordedRequest};

/// Read connections; a service's reads are short, two cores cannot use many more.
const DEFAULT_POOL_SIZE: u32 = 8;

/// An event store in a PostgreSQL database (one database per agency store).
#[derive(Debug, Clone)]
pub struct PgEventStore {
    pool: PgPool,
    appender: Appender,
    head: watch::Receiver<u64>,
}

impl PgEventStore {
    /// Connects to `url` (`postgres://…`), applies migrations and starts the appender.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(PgConnectOptions::from_str(url)?, DEFAULT_POOL_SIZE).await
    }

    /// Like [`connect`](Self::connect), with explicit options and read pool size.
    pub async fn connect_with(
        options: PgConnectOptions,
        pool_size: u32,
    ) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            // A ping before every checkout costs a round trip per query (~40% at one client); a dead
            // connection fails its query instead and the pool replaces it.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let head_now: i64 = sqlx::query_scalar("SELECT position FROM log_head")
            .fetch_one(&pool)
            .await?;
        let (head_tx, head) = watch::channel(u64::try_from(head_now).unwrap_or(0));
        let writer = PgBatchWriter {
            options,
            conn: None,
            known: Known::default(),
        };
        Ok(PgEventStore {
            pool,
            appender: Appender::spawn(writer, head_tx),
            head,
        })
    }

    /// The read pool, for callers that keep their own tables beside the log (the benchmark's baseline).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

#[async_trait]
impl EventLog for PgEventStore {
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
            pg_event_columns!(),
            " FROM events WHERE stream_id = $1 AND stream_version >= $2 ORDER BY stream_version LIMIT $3"
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
        let rows: Vec<EventRow> = sqlx::query_as(concat!(
            "SELECT ",
            pg_event_columns!(),
            " FROM events WHERE position >= $1 ORDER BY position LIMIT $2"
        ))
        .bind(signed(from_position))
        .bind(signed(limit as u64))
        .fetch_all(&self.pool)
        .await?;
        into_events(rows)
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
            sqlx::query_scalar("SELECT version FROM streams WHERE stream_id = $1")
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
impl Leases for PgEventStore {
    async fn leases(&self) -> Result<Vec<crate::Lease>, StoreError> {
        let rows: Vec<(String, String, chrono::DateTime<Utc>)> =
            sqlx::query_as("SELECT name, holder, expires_at FROM leases ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(name, holder, expires_at)| crate::Lease {
                name,
                holder,
                expires_at,
            })
            .collect())
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) \
             VALUES ($1, $2, now() + $3 * interval '1 millisecond') \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < now() \
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(ttl.as_millis() as f64)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn checkpoint(&self, name: &str) -> Result<u64, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM checkpoints WHERE name = $1")
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
        let done = sqlx::query(
            "INSERT INTO checkpoints (name, position, updated_at) \
             SELECT $1, $3, now() WHERE EXISTS \
               (SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND expires_at > now()) \
             ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = EXCLUDED.updated_at",
        )
        .bind(name)
        .bind(holder)
        .bind(signed(position))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// Reads the state a batch is decided against, taking the `log_head` row lock on the way. The lock is held
/// until COMMIT: the next batch, from any process, waits for it, so positions commit in order.
///
/// One round trip in the common case: a single statement locks the head and reads the touched streams and
/// request ids. That statement's snapshot was taken before the lock was granted, so it could miss a batch
/// another process committed meanwhile; every batch moves the head, so comparing the locked head with the
/// snapshot's head detects exactly that, and then the reads are repeated under the lock.
async fn read_snapshot(
    conn: &mut PgConnection,
    batch: &[Prepared],
) -> Result<Snapshot, AppendError> {
    let streams: Vec<&str> = batch
        .iter()
        .map(|r| r.request.stream_id.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let request_ids: Vec<Uuid> = batch.iter().map(|r| r.request.request_id).collect();
    let rows = sqlx::query(
        "WITH locked AS (SELECT position FROM log_head FOR UPDATE) \
         SELECT 0 AS kind, (SELECT position FROM locked) AS locked_head, \
           (SELECT position FROM log_head) AS seen_head, NULL::text AS stream_id, NULL::bigint AS version, \
           NULL::uuid AS request_id, NULL::bytea AS fingerprint, NULL::bigint AS first_version, \
           NULL::bigint AS last_version, NULL::bigint AS first_position, NULL::bigint AS last_position \
         UNION ALL \
         SELECT 1, NULL, NULL, stream_id, version, NULL, NULL, NULL, NULL, NULL, NULL \
           FROM streams WHERE stream_id = ANY($1) \
         UNION ALL \
         SELECT 2, NULL, NULL, stream_id, NULL, request_id, fingerprint, first_version, last_version, \
           first_position, last_position FROM requests WHERE request_id = ANY($2)",
    )
    .bind(&streams)
    .bind(&request_ids)
    .fetch_all(&mut *conn)
    .await?;

    let mut snapshot = Snapshot::default();
    let mut consistent = false;
    for row in rows {
        let kind: i32 = row.try_get("kind")?;
        match kind {
            0 => {
                let locked: i64 = row.try_get("locked_head")?;
                let seen: i64 = row.try_get("seen_head")?;
                snapshot.head = u64::try_from(locked).unwrap_or(0);
                consistent = locked == seen;
            }
            1 => {
                let version: i64 = row.try_get("version")?;
                snapshot.streams.insert(
                    row.try_get("stream_id")?,
                    u64::try_from(version).unwrap_or(0),
                );
            }
            _ => {
                let record = batch::RequestRecord::try_from(RequestRow {
                    request_id: row.try_get("request_id")?,
                    stream_id: row.try_get("stream_id")?,
                    fingerprint: row.try_get("fingerprint")?,
                    first_version: row.try_get("first_version")?,
                    last_version: row.try_get("last_version")?,
                    first_position: row.try_get("first_position")?,
                    last_position: row.try_get("last_position")?,
                })?;
                snapshot.requests.insert(record.request_id, record);
            }
        }
    }
    if consistent {
        return Ok(snapshot);
    }

    // Another process committed between our snapshot and the lock: read again, now under the lock.
    snapshot.streams.clear();
    snapshot.requests.clear();
    for row in sqlx::query("SELECT stream_id, version FROM streams WHERE stream_id = ANY($1)")
        .bind(&streams)
        .fetch_all(&mut *conn)
        .await?
    {
        let version: i64 = row.try_get("version")?;
        snapshot.streams.insert(
            row.try_get("stream_id")?,
            u64::try_from(version).unwrap_or(0),
        );
    }
    let earlier: Vec<RequestRow> = sqlx::query_as(
        "SELECT request_id, stream_id, fingerprint, first_version, last_version, first_position, \
         last_position FROM requests WHERE request_id = ANY($1)",
    )
    .bind(&request_ids)
    .fetch_all(&mut *conn)
    .await?;
    for row in earlier {
        let record = batch::RequestRecord::try_from(row)?;
        snapshot.requests.insert(record.request_id, record);
    }
    Ok(snapshot)
}

/// The appender's connection and what it knows of the log; the connection is reopened after any error, since
/// a failed connection is not worth diagnosing.
struct PgBatchWriter {
    options: PgConnectOptions,
    conn: Option<PgConnection>,
    known: Known,
}

/// Most stream versions the appender remembers; past this it forgets them all and reads them again.
const MAX_KNOWN_STREAMS: usize = 100_000;

/// The log as this appender last wrote or read it: the head, and the versions of streams it touched
/// (`None`: the stream did not exist). Only a hint: the write it feeds is guarded, see [`fast_write`].
#[derive(Debug, Default)]
struct Known {
    head: Option<u64>,
    streams: HashMap<String, Option<u64>>,
}

impl Known {
    fn forget(&mut self) {
        self.head = None;
        self.streams.clear();
    }

    fn remember(&mut self, plan: &batch::Plan<'_>) {
        if self.streams.len() > MAX_KNOWN_STREAMS {
            self.streams.clear();
        }
        self.head = Some(plan.new_head);
        for (stream, version) in &plan.stream_versions {
            self.streams.insert((*stream).to_owned(), Some(*version));
        }
    }
}

#[async_trait]
impl BatchWriter for PgBatchWriter {
    async fn write_batch(
        &mut self,
        batch: &[Prepared],
    ) -> Result<(Vec<Result<Appended, AppendError>>, u64), AppendError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self
                .conn
                .insert(PgConnection::connect_with(&self.options).await?),
        };
        let result = match fast_write(conn, &mut self.known, batch).await {
            Ok(Some(done)) => Ok(done),
            Ok(None) => locked_write(conn, &mut self.known, batch).await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            self.known.forget();
            if !matches!(e, AppendError::DuplicateEventId { .. }) {
                self.conn = None;
            }
        }
        result
    }
}

/// The common case in one round trip: decide the batch against what the appender knows and write it in one
/// autocommit statement. Correct without a lock because the write is guarded by the log's own keys: if any
/// process committed since the appender last saw the head, that commit holds position head + 1, so this
/// write collides on it and rolls back; a reused request id collides on the requests key. Any collision, or
/// any request the plan refuses (a refusal must be confirmed under the lock: it may be a retry), returns
/// `None` and the batch goes the locked way.
async fn fast_write(
    conn: &mut PgConnection,
    known: &mut Known,
    batch: &[Prepared],
) -> Result<Option<(Vec<Result<Appended, AppendError>>, u64)>, AppendError> {
    for _ in 0..2 {
        let missing: Vec<&str> = batch
            .iter()
            .map(|r| r.request.stream_id.as_str())
            .filter(|s| known.head.is_none() || !known.streams.contains_key(*s))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if known.head.is_some() && missing.is_empty() {
            break;
        }
        let rows = sqlx::query(
            "SELECT NULL::text AS stream_id, position AS version FROM log_head \
             UNION ALL SELECT stream_id, version FROM streams WHERE stream_id = ANY($1)",
        )
        .bind(&missing)
        .fetch_all(&mut *conn)
        .await?;
        let mut head = 0;
        let mut found = HashMap::new();
        for row in rows {
            let stream: Option<String> = row.try_get("stream_id")?;
            let version = u64::try_from(row.try_get::<i64, _>("version")?).unwrap_or(0);
            match stream {
                None => head = version,
                Some(stream) => {
                    found.insert(stream, version);
                }
            }
        }
        if known.head.is_some_and(|h| h != head) {
            // Another process wrote: everything remembered may be stale.
            known.forget();
            known.head = Some(head);
            continue;
        }
        known.head = Some(head);
        for stream in missing {
            known
                .streams
                .insert(stream.to_owned(), found.get(stream).copied());
        }
    }
    let Some(head) = known.head else {
        return Ok(None);
    };
    let mut snapshot = Snapshot {
        head,
        ..Snapshot::default()
    };
    for request in batch {
        match known.streams.get(request.request.stream_id.as_str()) {
            Some(Some(version)) => {
                snapshot
                    .streams
                    .insert(request.request.stream_id.clone(), *version);
            }
            Some(None) => {}
            None => return Ok(None),
        }
    }
    let plan = batch::plan(batch, &snapshot);
    if plan.is_empty() || plan.outcomes.iter().any(Result::is_err) {
        return Ok(None);
    }
    match insert_plan(conn, &plan).await {
        Ok(()) => {
            known.remember(&plan);
            Ok(Some((plan.outcomes, plan.new_head)))
        }
        Err(e)
            if e.as_database_error()
                .is_some_and(|d| d.is_unique_violation()) =>
        {
            known.forget();
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// The general case: lock the head, read the touched streams and earlier request ids, decide, write.
async fn locked_write(
    conn: &mut PgConnection,
    known: &mut Known,
    batch: &[Prepared],
) -> Result<(Vec<Result<Appended, AppendError>>, u64), AppendError> {
    let mut tx = conn.begin().await?;
    let snapshot = read_snapshot(&mut tx, batch).await?;
    let plan = batch::plan(batch, &snapshot);
    known.forget();
    if plan.is_empty() {
        tx.rollback().await?;
        return Ok((plan.outcomes, snapshot.head));
    }
    if let Err(e) = insert_plan(&mut tx, &plan).await {
        let duplicate = e.as_database_error().is_some_and(|d| {
            d.is_unique_violation() && d.constraint() == Some("events_event_id_key")
        });
        if !duplicate {
            return Err(e.into());
        }
        tx.rollback().await?;
        let ids: Vec<Uuid> = plan.rows.iter().map(|r| r.event.event_id).collect();
        let existing: Option<Uuid> =
            sqlx::query_scalar("SELECT event_id FROM events WHERE event_id = ANY($1) LIMIT 1")
                .bind(&ids)
                .fetch_optional(&mut *conn)
                .await?;
        return Err(AppendError::DuplicateEventId {
            event_id: existing.unwrap_or_default(),
        });
    }
    tx.commit().await?;
    known.head = Some(snapshot.head);
    for (stream, version) in &snapshot.streams {
        known.streams.insert(stream.clone(), Some(*version));
    }
    known.remember(&plan);
    Ok((plan.outcomes, plan.new_head))
}

/// Writes a plan's events, stream versions, request records and new head in one statement.
async fn insert_plan(conn: &mut PgConnection, plan: &batch::Plan<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let n = plan.rows.len();
    let mut position = Vec::with_capacity(n);
    let mut stream_id = Vec::with_capacity(n);
    let mut stream_version = Vec::with_capacity(n);
    let mut event_id = Vec::with_capacity(n);
    let mut event_type = Vec::with_capacity(n);
    let mut schema_version = Vec::with_capacity(n);
    let mut data = Vec::with_capacity(n);
    let mut occurred_at = Vec::with_capacity(n);
    let mut district = Vec::with_capacity(n);
    let mut agency = Vec::with_capacity(n);
    let mut acting_unit = Vec::with_capacity(n);
    let mut acting_role = Vec::with_capacity(n);
    let mut request_id = Vec::with_capacity(n);
    let mut correlation_id = Vec::with_capacity(n);
    let mut causation_id = Vec::with_capacity(n);
    let mut origin = Vec::with_capacity(n);
    for row in &plan.rows {
        let e = row.event;
        position.push(signed(row.position));
        stream_id.push(row.request.stream_id.as_str());
        stream_version.push(signed(row.stream_version));
        event_id.push(e.event_id);
        event_type.push(e.event_type.as_str());
        schema_version.push(i32::try_from(e.schema_version).unwrap_or(i32::MAX));
        data.push(row.data);
        occurred_at.push(e.metadata.occurred_at);
        district.push(e.metadata.district.as_str());
        agency.push(e.metadata.agency.token());
        acting_unit.push(e.metadata.acting_unit.as_str());
        acting_role.push(e.metadata.acting_role.as_str());
        request_id.push(row.request.request_id);
        correlation_id.push(e.metadata.correlation_id);
        causation_id.push(e.metadata.causation_id);
        origin.push(e.metadata.origin.as_deref());
    }
    let (st_id, st_version): (Vec<&str>, Vec<i64>) = plan
        .stream_versions
        .iter()
        .map(|(s, v)| (*s, signed(*v)))
        .unzip();
    let rq = &plan.requests;

    sqlx::query(
        "WITH ev AS ( \
           INSERT INTO events (position, stream_id, stream_version, event_id, event_type, schema_version, \
             data, occurred_at, recorded_at, district, agency, acting_unit, acting_role, request_id, \
             correlation_id, causation_id, origin) \
           SELECT p, s, v, e, t, sv, d::json, o, $16, di, ag, au, ar, rq, co, ca, og \
           FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::int[], \
             $7::text[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], \
             $13::uuid[], $14::uuid[], $15::uuid[], $27::text[]) \
             AS u(p, s, v, e, t, sv, d, o, di, ag, au, ar, rq, co, ca, og) \
         ), st AS ( \
           INSERT INTO streams (stream_id, version) \
           SELECT * FROM UNNEST($17::text[], $18::bigint[]) \
           ON CONFLICT (stream_id) DO UPDATE SET version = EXCLUDED.version \
         ), rq AS ( \
           INSERT INTO requests (request_id, stream_id, fingerprint, first_version, last_version, \
             first_position, last_position, recorded_at) \
           SELECT r, s, f, fv, lv, fp, lp, $16 \
           FROM UNNEST($19::uuid[], $20::text[], $21::bytea[], $22::bigint[], $23::bigint[], \
             $24::bigint[], $25::bigint[]) AS u(r, s, f, fv, lv, fp, lp) \
         ) \
         UPDATE log_head SET position = $26",
    )
    .bind(&position)
    .bind(&stream_id)
    .bind(&stream_version)
    .bind(&event_id)
    .bind(&event_type)
    .bind(&schema_version)
    .bind(&data)
    .bind(&occurred_at)
    .bind(&district)
    .bind(&agency)
    .bind(&acting_unit)
    .bind(&acting_role)
    .bind(&request_id)
    .bind(&correlation_id)
    .bind(&causation_id)
    .bind(now)
    .bind(&st_id)
    .bind(&st_version)
    .bind(rq.iter().map(|r| r.request_id).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| r.stream_id.as_str()).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| r.fingerprint.as_slice()).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| signed(r.appended.first_version)).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| signed(r.appended.last_version)).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| signed(r.appended.first_position)).collect::<Vec<_>>())
    .bind(rq.iter().map(|r| signed(r.appended.last_position)).collect::<Vec<_>>())
    .bind(signed(plan.new_head))
    .bind(&origin)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The URL of database `<db>_<part>` beside the one `url` names (`oneledger` if none), created first if
/// missing: one server can hold each agency's store and the ledger in databases of their own.
pub async fn sibling_database(url: &str, part: &str) -> Result<String, StoreError> {
    let options = PgConnectOptions::from_str(url)?;
    let name = format!("{}_{part}", options.get_database().unwrap_or("oneledger"));
    if !crate::validate::is_token(&name) {
        return Err(StoreError::Database(sqlx::Error::Configuration(
            format!("database name {name:?}: lowercase letters, digits and _ only").into(),
        )));
    }
    let mut conn = PgConnection::connect_with(&options).await?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&name)
            .fetch_one(&mut conn)
            .await?;
    if !exists {
        // Checked as a token above; identifiers cannot be bound as parameters.
        let created = sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await;
        // Another process may have created it in the meantime.
        if let Err(e) = created
            && e.as_database_error()
                .is_none_or(|d| d.code().as_deref() != Some("42P04"))
        {
            return Err(e.into());
        }
    }
    conn.close().await?;
    Ok(options.database(&name).to_url_lossy().to_string())
}

crate::shared::same_sql!(PgEventStore);
