//! What both backends say in the same SQL — person keys, the read audit, a request's recorded outcome —
//! written once and expanded for each backend's pool. SQLite takes PostgreSQL's `$n` placeholders (sqlx
//! numbers them alike), and the column types decode to the same Rust types on both.

/// Implements [`PersonVault`](crate::PersonVault) and [`ReadAudit`](crate::ReadAudit), and a
/// `recorded_outcome` for [`EventLog::request_outcome`](crate::EventLog::request_outcome), for a backend
/// whose `pool` field is its read pool.
macro_rules! same_sql {
    ($store:ty) => {
        #[::async_trait::async_trait]
        impl $crate::PersonVault for $store {
            async fn put_person_key(
                &self,
                person_ref: &str,
                wrapped_key: &[u8],
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "INSERT INTO person_keys (person_ref, wrapped_key, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (person_ref) DO NOTHING",
                )
                .bind(person_ref)
                .bind(wrapped_key)
                .bind(::chrono::Utc::now())
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn person_key(
                &self,
                person_ref: &str,
            ) -> Result<$crate::PersonKey, $crate::StoreError> {
                let row: Option<$crate::row::PersonKeyRow> = sqlx::query_as(
                    "SELECT wrapped_key, erased_at FROM person_keys WHERE person_ref = $1",
                )
                .bind(person_ref)
                .fetch_optional(&self.pool)
                .await?;
                Ok($crate::row::person_key(row))
            }

            async fn erase_person_key(
                &self,
                person_ref: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> Result<bool, $crate::StoreError> {
                let done = sqlx::query(
                    "UPDATE person_keys SET wrapped_key = NULL, erased_at = $2 \
                     WHERE person_ref = $1 AND erased_at IS NULL",
                )
                .bind(person_ref)
                .bind(at)
                .execute(&self.pool)
                .await?;
                Ok(done.rows_affected() == 1)
            }
        }

        #[::async_trait::async_trait]
        impl $crate::ReadAudit for $store {
            async fn record_personal_data_read(
                &self,
                read: &$crate::PersonalDataRead,
            ) -> Result<(), $crate::StoreError> {
                sqlx::query(
                    "INSERT INTO personal_data_reads (read_at, reader, unit, person_ref, fields, purpose) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(read.read_at)
                .bind(&read.reader)
                .bind(&read.unit)
                .bind(&read.person_ref)
                .bind(&read.fields)
                .bind(&read.purpose)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn personal_data_reads(
                &self,
                person_ref: Option<&str>,
                limit: usize,
            ) -> Result<Vec<$crate::PersonalDataRead>, $crate::StoreError> {
                let rows: Vec<$crate::row::ReadRow> = sqlx::query_as(
                    "SELECT read_at, reader, unit, person_ref, fields, purpose FROM personal_data_reads \
                     WHERE $1 IS NULL OR person_ref = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(person_ref)
                .bind($crate::row::signed(limit as u64))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map($crate::PersonalDataRead::from).collect())
            }
        }

        impl $store {
            /// What an earlier append under `request_id` wrote, as both backends record it.
            async fn recorded_outcome(
                &self,
                request_id: ::uuid::Uuid,
            ) -> Result<Option<$crate::RecordedRequest>, $crate::StoreError> {
                let row: Option<$crate::row::RequestRow> = sqlx::query_as(
                    "SELECT request_id, stream_id, fingerprint, first_version, last_version, first_position, \
                     last_position FROM requests WHERE request_id = $1",
                )
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await?;
                match row {
                    Some(row) => {
                        let record = $crate::batch::RequestRecord::try_from(row)?;
                        Ok(Some($crate::RecordedRequest {
                            stream_id: record.stream_id,
                            appended: $crate::Appended {
                                replayed: true,
                                ..record.appended
                            },
                            fingerprint: record.fingerprint,
                        }))
                    }
                    None => Ok(None),
                }
            }
        }
    };
}

pub(crate) use same_sql;
