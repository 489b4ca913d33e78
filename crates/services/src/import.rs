//! What every import shares: a row's dates read as the instants its steps are stamped with, and a
//! refusal told as a row's error, by the field of the row it comes from.

use chrono::{DateTime, NaiveDate, Utc};
use oneledger_domain::DomainError;
use oneledger_domain::clock::legal_date;
use oneledger_proto::common::v1::ImportError;

use oneledger_domain::aggregate::Aggregate;
use oneledger_domain::policy::{self, Step};

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::repo::{Imported, ImportedStep, Repository, derived_request_id};

/// The request id of the imported record `source_id` of kind `label` (`matter`, `dispute`, `order`),
/// and the hash its item id is made from: the same on every import, so an imported item's id is known
/// from its ledger's own id (an order names its subject so).
pub fn imported(label: &str, source_id: &str) -> (uuid::Uuid, [u8; 10]) {
    use sha2::Digest;
    let request_id = derived_request_id(format!("import:{source_id}").as_bytes(), label.as_bytes());
    let seed = sha2::Sha256::digest(request_id.as_bytes());
    let mut short = [0u8; 10];
    short.copy_from_slice(&seed[..10]);
    (request_id, short)
}

/// The id of the petition matter imported as `source_id`.
pub fn imported_matter_id(source_id: &str) -> String {
    format!(
        "PM{}",
        hex::encode(imported("matter", source_id).1).to_uppercase()
    )
}

/// The id of the dispute imported into the committee's store as `source_id`.
pub fn imported_dispute_id(source_id: &str) -> String {
    let short = imported("dispute", source_id).1;
    format!(
        "{}-D{}",
        oneledger_domain::Agency::PoliticalLegal.id_namespace(),
        hex::encode(short).to_uppercase()
    )
}

/// Most rows in one import request; the client sends a file in batches.
pub const MAX_ROWS_PER_REQUEST: usize = 500;

/// The instant a step dated `raw` (an ISO date, or empty for a step not taken) is stamped with: noon,
/// Beijing time, so no time zone moves it to another legal day.
pub fn step_on(field: &'static str, raw: &str) -> Result<Option<DateTime<Utc>>, ServiceError> {
    match raw.trim() {
        "" => Ok(None),
        raw => NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(4, 0, 0))
            .map(|t| Some(t.and_utc()))
            .ok_or_else(|| {
                ServiceError::invalid(field, format!("{raw:?} is not an ISO date (YYYY-MM-DD)"))
            }),
    }
}

/// A refusal of a row: the row's field it points at, if any, and why.
pub type RowRefusal = (Option<&'static str>, ServiceError);

/// The steps a row took after its first (`first`, always taken), in order: each dated field with its
/// instant, the empty ones left out. A step happens only if the one before it did, so a date after an
/// empty one is refused as a gap, naming both, and never before the step it follows, so a date earlier
/// than the last one taken is refused, naming both; the fields in `may_skip` (a step a matter may go
/// without, like the notice of receipt) make no gap.
pub fn taken(
    first: (&'static str, DateTime<Utc>),
    dated: &[(&'static str, Option<DateTime<Utc>>)],
    may_skip: &[&str],
) -> Result<Vec<(&'static str, DateTime<Utc>)>, RowRefusal> {
    let mut gap: Option<&'static str> = None;
    let mut last = first;
    let mut out = Vec::new();
    for (field, at) in dated {
        let Some(at) = at else {
            if !may_skip.contains(field) {
                gap = gap.or(Some(field));
            }
            continue;
        };
        if let Some(missing) = gap {
            return Err((
                Some(field),
                ServiceError::invalid(*field, format!("given, but {missing} is empty")),
            ));
        }
        if *at < last.1 {
            let (day, before) = (legal_date(*at), legal_date(last.1));
            return Err((
                Some(field),
                ServiceError::invalid(
                    *field,
                    format!("{day} is before {} ({before}), the step it follows", last.0),
                ),
            ));
        }
        last = (field, *at);
        out.push((*field, *at));
    }
    Ok(out)
}

/// Checks a request's file hash and its number of rows.
pub fn check_batch(sha: &str, rows: usize) -> Result<(), ServiceError> {
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ServiceError::invalid("file_sha256", "64 hex digits"));
    }
    if rows == 0 || rows > MAX_ROWS_PER_REQUEST {
        return Err(ServiceError::invalid(
            "rows",
            format!("1 to {MAX_ROWS_PER_REQUEST} rows a request"),
        ));
    }
    Ok(())
}

/// A refusal as a row's error: the field of the step refused (`step`), or the one the refusal names
/// (a domain field the import's `names` give the row's name of, else the one every import shares),
/// the rule, the reason.
pub fn refusal(step: Option<&'static str>, e: ServiceError, names: FieldNames) -> ImportError {
    let (field, rule, message) = match e {
        ServiceError::Domain(DomainError::Refused {
            rule,
            reason,
            deadline,
            ..
        }) => (
            step.unwrap_or_default().to_owned(),
            rule.citation().to_owned(),
            match deadline {
                Some(d) => format!("{reason} (the window closed on {d})"),
                None => reason,
            },
        ),
        ServiceError::Domain(DomainError::Invalid { field, reason }) => {
            let named = names.iter().find(|(domain, _)| *domain == field);
            let field = named.map_or_else(|| row_field(field, step), |(_, row)| (*row).to_owned());
            (field, String::new(), reason)
        }
        ServiceError::Invalid { field, reason } => (field, String::new(), reason),
        other => (
            step.unwrap_or_default().to_owned(),
            String::new(),
            other.to_string(),
        ),
    };
    ImportError {
        field,
        rule,
        message,
    }
}

/// An import's own names of the domain's fields: (domain field, row field).
pub type FieldNames = &'static [(&'static str, &'static str)];

/// A row's record, as every import writes it.
pub struct RowRecord<'a, Action> {
    /// The row's line in the file, for its events' origin.
    pub line: u32,
    /// The row's own id in its ledger (来源编号), for its events' origin.
    pub source_id: &'a str,
    /// The file's SHA-256, for its events' origin.
    pub sha: &'a str,
    /// The id of the item it records.
    pub id: &'a str,
    /// The request id its 来源编号 derives ([`imported`]).
    pub request_id: uuid::Uuid,
    /// The digest of the row's content without its line, bound to the request id.
    pub digest: &'a [u8],
    /// Its steps in order, each with the row's field it comes from.
    pub steps: Vec<(&'static str, ImportedStep<Action>)>,
}

/// What became of a row.
pub enum RowOutcome {
    /// This call recorded it.
    Written,
    /// An earlier import recorded it.
    AlreadyImported,
    /// A dry run found nothing wrong with it.
    Checked,
    /// Refused, as the row's error.
    Refused(ImportError),
}

impl RowOutcome {
    /// Sets a row result's flags and errors; true when the row is recorded (now or before).
    pub fn apply(
        self,
        written: &mut bool,
        before: &mut bool,
        errors: &mut Vec<ImportError>,
    ) -> bool {
        match self {
            RowOutcome::Written => *written = true,
            RowOutcome::AlreadyImported => *before = true,
            RowOutcome::Checked => {}
            RowOutcome::Refused(error) => errors.push(error),
        }
        *written || *before
    }
}

/// Records a row in `repo` (on a dry run decides it and writes nothing), its events stamped with its
/// origin, acting in the importer's role. Only a store that cannot be reached fails the call (retry
/// it: rows recorded before are not recorded twice); any other refusal is the row's error.
pub async fn record<A: Aggregate>(
    repo: &Repository<A>,
    caller: &Caller,
    row: RowRecord<'_, A::Action>,
    dry_run: bool,
    names: FieldNames,
) -> Result<RowOutcome, ServiceError> {
    let fields: Vec<&'static str> = row.steps.iter().map(|(f, _)| *f).collect();
    let steps = row.steps.into_iter().map(|(_, s)| s).collect();
    let origin = format!(
        "import sha256:{} row {} id {}",
        row.sha, row.line, row.source_id
    );
    let role = caller.acting_role(policy::roles(Step::ImportRecords));
    let imported = repo
        .import(
            row.id,
            steps,
            role,
            row.request_id,
            row.digest,
            &origin,
            dry_run,
        )
        .await;
    Ok(match imported {
        Ok(Imported::Written(_)) => RowOutcome::Written,
        Ok(Imported::AlreadyImported(_)) => RowOutcome::AlreadyImported,
        Ok(Imported::Checked(_)) => RowOutcome::Checked,
        Err((_, ServiceError::Unavailable(e))) => return Err(ServiceError::Unavailable(e)),
        Err((step, e)) => {
            let field = step.and_then(|i| fields.get(i).copied());
            RowOutcome::Refused(refusal(field, e, names))
        }
    })
}

/// The row's field a domain field stands for, else the refused step's own.
fn row_field(domain: &str, step: Option<&'static str>) -> String {
    match domain {
        "to" | "responsible_unit" => "responsible_unit_id",
        "to_unit" => "to_unit_id",
        "territorial_unit" => "territorial_unit_id",
        "territory" => "territory_unit_id",
        "respondent" => "respondent_unit_id",
        "due_on" => "resolution_due_on",
        "title" | "category" | "collective_size" | "petitioners" | "summary" | "requirements"
        | "reason" => domain,
        _ => step.unwrap_or(domain),
    }
    .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> Option<DateTime<Utc>> {
        step_on("any", raw).unwrap()
    }

    #[test]
    fn steps_in_order_are_taken_and_the_empty_skippable_one_left_out() {
        // Given a row assessed, not warned, assigned after it
        let first = ("reported_on", day("2026-03-02").unwrap());
        let dated = [
            ("assessed_on", day("2026-03-02")),
            ("warned_on", None),
            ("assigned_on", day("2026-03-05")),
        ];
        // When its steps are read
        let steps = taken(first, &dated, &["warned_on"]).unwrap();
        // Then both dated steps are taken, in order
        let fields: Vec<_> = steps.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["assessed_on", "assigned_on"]);
    }

    #[test]
    fn a_date_after_an_empty_step_is_a_gap_naming_both() {
        let first = ("reported_on", day("2026-03-02").unwrap());
        let dated = [("assessed_on", None), ("assigned_on", day("2026-03-05"))];
        let (field, e) = taken(first, &dated, &[]).unwrap_err();
        assert_eq!(field, Some("assigned_on"));
        assert!(e.to_string().contains("assessed_on is empty"), "{e}");
    }

    #[test]
    fn a_step_dated_before_the_one_it_follows_is_refused_naming_both_dates() {
        // Given a row assigned three days before it was reported
        let first = ("reported_on", day("2026-03-05").unwrap());
        let dated = [("assessed_on", day("2026-03-02"))];
        // When its steps are read, the later field is refused with both dates
        let (field, e) = taken(first, &dated, &[]).unwrap_err();
        assert_eq!(field, Some("assessed_on"));
        let message = e.to_string();
        assert!(
            message.contains("2026-03-02 is before reported_on (2026-03-05)"),
            "{message}"
        );
    }
}
