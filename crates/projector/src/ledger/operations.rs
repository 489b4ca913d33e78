//! What an operator reads and does to the ledger (`oneledger admin`, `rebuild --verify`): the parked
//! events and what was done with them, the feeds' checkpoints, and a digest of the ledger's content.

use oneledger_domain::Agency;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{Db, LedgerError, SqlLedger, corrupt};

/// An event the projector could not apply, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parked {
    /// Whose store it is in.
    pub agency: Agency,
    /// Its position there.
    pub position: u64,
    /// Its type.
    pub event_type: String,
    /// Why the projector could not apply it.
    pub reason: String,
    /// Its data, as JSON.
    pub event: String,
}

/// An operator's action on a parked event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedAction {
    /// Who (the operator's name as they gave it).
    pub operator: String,
    /// `drop`.
    pub action: String,
    /// Why, in their words.
    pub why: String,
}

impl SqlLedger {
    /// How many events are parked.
    pub async fn parked_count(&self) -> Result<u64, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM ledger_parked")
                .fetch_one(&mut *tx)
                .await?;
            u64::try_from(n).unwrap_or(0)
        })
    }

    /// Every parked event, by agency and position.
    pub async fn parked(&self) -> Result<Vec<Parked>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let rows = sqlx::query(
                "SELECT agency, position, event_type, reason, event FROM ledger_parked \
                 ORDER BY agency, position",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let agency: String = row.try_get("agency")?;
                let position: i64 = row.try_get("position")?;
                out.push(Parked {
                    agency: agency.parse().map_err(corrupt)?,
                    position: u64::try_from(position).map_err(corrupt)?,
                    event_type: row.try_get("event_type")?,
                    reason: row.try_get("reason")?,
                    event: row.try_get("event")?,
                });
            }
            out
        })
    }

    /// Removes the parked event at `agency`/`position`, recording who dropped it and why with the event
    /// itself, in one transaction; `false` (and nothing written) when no such event is parked.
    pub async fn drop_parked(
        &self,
        agency: Agency,
        position: u64,
        action: &ParkedAction,
    ) -> Result<bool, LedgerError> {
        let position = i64::try_from(position).unwrap_or(i64::MAX);
        let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        in_transaction!(write & self.db, |tx| {
            let moved = sqlx::query(
                "INSERT INTO ledger_parked_actions (acted_at, operator, action, why, agency, position, \
                 event_type, reason, event) SELECT $1, $2, $3, $4, agency, position, event_type, reason, \
                 event FROM ledger_parked WHERE agency = $5 AND position = $6",
            )
            .bind(&now)
            .bind(&action.operator)
            .bind(&action.action)
            .bind(&action.why)
            .bind(agency.token())
            .bind(position)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM ledger_parked WHERE agency = $1 AND position = $2")
                .bind(agency.token())
                .bind(position)
                .execute(&mut *tx)
                .await?;
            moved.rows_affected() == 1
        })
    }

    /// Every operator action on parked events, oldest first: (when, action, the event's agency and
    /// position).
    pub async fn parked_actions(
        &self,
    ) -> Result<Vec<(String, ParkedAction, Agency, u64)>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let rows = sqlx::query(
                "SELECT acted_at, operator, action, why, agency, position FROM ledger_parked_actions \
                 ORDER BY acted_at",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let agency: String = row.try_get("agency")?;
                let position: i64 = row.try_get("position")?;
                let action = ParkedAction {
                    operator: row.try_get("operator")?,
                    action: row.try_get("action")?,
                    why: row.try_get("why")?,
                };
                out.push((
                    row.try_get("acted_at")?,
                    action,
                    agency.parse().map_err(corrupt)?,
                    u64::try_from(position).map_err(corrupt)?,
                ));
            }
            out
        })
    }

    /// Every feed's checkpoint, by name.
    pub async fn checkpoints(&self) -> Result<Vec<(String, u64)>, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let rows = sqlx::query("SELECT feed, position FROM ledger_checkpoints ORDER BY feed")
                .fetch_all(&mut *tx)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let position: i64 = row.try_get("position")?;
                out.push((
                    row.try_get("feed")?,
                    u64::try_from(position).map_err(corrupt)?,
                ));
            }
            out
        })
    }

    /// A SHA-256 digest of what the ledger says: every item's state and root, every link and every
    /// timeline line, in key order. Two ledgers projected from the same events have the same digest
    /// whatever the feeds (a store or JetStream) and batches; checkpoints, the change log and exports
    /// are not part of it.
    pub async fn digest(&self) -> Result<String, LedgerError> {
        in_transaction!(&self.db, |tx| {
            let mut hash = Sha256::new();
            let queries = [
                "SELECT item || '|' || root || '|' || state FROM ledger_items ORDER BY item",
                "SELECT item || '|' || root FROM ledger_links ORDER BY item",
                "SELECT agency || '|' || CAST(position AS TEXT) || '|' || item || '|' || occurred_at || '|' \
                 || event_type || '|' || acting_unit FROM ledger_timeline ORDER BY agency, position",
            ];
            for (n, query) in queries.into_iter().enumerate() {
                hash.update(format!("table {n}\n"));
                let lines: Vec<String> = sqlx::query_scalar(query).fetch_all(&mut *tx).await?;
                for line in lines {
                    hash.update(line.as_bytes());
                    hash.update(b"\n");
                }
            }
            hex::encode(hash.finalize())
        })
    }
}
