//! Importing a district's existing dispute ledger (矛盾纠纷台账) into the committee's store: each row a
//! screened dispute as far as it went — found, assessed, warned of, assigned, its resolution reported
//! and verified — every step on its own date and by the unit the ledger names (the committee's steps by
//! the importing unit, the report by the responsible unit), decided by the same rules as live commands,
//! one append a row whose events carry their origin. The row's own id is its request id.

use oneledger_domain::dispute::{DisputeAction, DisputeSource, RiskLevel};
use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{DisputeId, UnitId};
use oneledger_proto::convert::{enum_field, optional_id, required_id};
use oneledger_proto::political_legal::v1 as pb;
use prost::Message as _;

use crate::auth::Caller;
use crate::disputes::Disputes;
use crate::error::ServiceError;
use crate::import::{
    self, RowRecord, check_batch, imported, imported_dispute_id, refusal, step_on, taken,
};
use crate::repo::{ImportedStep, command_digest};

/// A row's step and the field of the row it comes from, for errors.
type RowStep = (&'static str, ImportedStep<DisputeAction>);

impl Disputes {
    /// Imports (or, on a dry run, checks) a batch of rows of one file.
    pub async fn import(
        &self,
        caller: &Caller,
        req: &pb::ImportDisputesRequest,
    ) -> Result<pb::ImportDisputesResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ImportRecords), "importing a ledger")?;
        let sha = req.file_sha256.trim();
        check_batch(sha, req.rows.len())?;
        let mut rows = Vec::with_capacity(req.rows.len());
        for row in &req.rows {
            rows.push(self.import_row(caller, sha, row, req.dry_run).await?);
        }
        Ok(pb::ImportDisputesResponse { rows })
    }

    async fn import_row(
        &self,
        caller: &Caller,
        sha: &str,
        row: &pb::ImportedDispute,
        dry_run: bool,
    ) -> Result<pb::ImportDisputeResult, ServiceError> {
        let mut result = pb::ImportDisputeResult {
            row: row.row,
            ..Default::default()
        };
        let fail = |mut result: pb::ImportDisputeResult, field, e| {
            result.errors.push(refusal(field, e, &[]));
            result
        };
        let source_id = match required_id("source_row_id", &row.source_row_id, MAX_ITEM_ID_CHARS) {
            Ok(id) => id,
            Err(e) => return Ok(fail(result, None, e.into())),
        };
        let request_id = imported("dispute", &source_id).0;
        let dispute_id = imported_dispute_id(&source_id);
        result.dispute_id = dispute_id.clone();
        let steps = match steps(caller, row, &dispute_id) {
            Ok(steps) => steps,
            Err((field, e)) => return Ok(fail(result, field, e)),
        };
        let line = pb::ImportedDispute {
            row: 0,
            ..row.clone()
        };
        let digest = command_digest("ImportDispute", &[&line.encode_to_vec()]);
        let record = RowRecord {
            line: row.row,
            source_id: &source_id,
            sha,
            id: &dispute_id,
            request_id,
            digest: &digest,
            steps,
        };
        let outcome = import::record(self.repo(), caller, record, dry_run, &[]).await?;
        let r = &mut result;
        outcome.apply(&mut r.written, &mut r.already_imported, &mut r.errors);
        Ok(result)
    }
}

/// The row's steps in order; a date after an empty one is a gap.
fn steps(
    caller: &Caller,
    row: &pb::ImportedDispute,
    dispute_id: &str,
) -> Result<Vec<RowStep>, (Option<&'static str>, ServiceError)> {
    let on = |field: &'static str, raw: &str| step_on(field, raw).map_err(|e| (Some(field), e));
    let wire =
        |field: &'static str| move |e: oneledger_proto::convert::WireError| (Some(field), e.into());
    let unit = |field: &'static str, raw: &str| {
        optional_id(field, raw, MAX_UNIT_ID_CHARS)
            .map(|u| u.map(UnitId))
            .map_err(wire(field))
    };
    let reported = on("reported_on", &row.reported_on)?.ok_or_else(|| {
        (
            Some("reported_on"),
            ServiceError::invalid("reported_on", "required"),
        )
    })?;
    let committee = caller.unit.clone();
    let territory = unit("territory_unit_id", &row.territory_unit_id)?.ok_or_else(|| {
        (
            Some("territory_unit_id"),
            ServiceError::invalid("territory_unit_id", "required"),
        )
    })?;
    let source: DisputeSource = enum_field("source", row.source).map_err(wire("source"))?;
    let mut steps: Vec<RowStep> = vec![(
        "reported_on",
        ImportedStep {
            at: reported,
            unit: committee.clone(),
            action: DisputeAction::Report {
                dispute_id: DisputeId(dispute_id.to_owned()),
                source,
                title: row.title.clone(),
                category: row.category.clone(),
                territory,
                parties: vec![],
                collective_size: row.collective_size.max(1),
            },
        },
    )];
    let responsible = unit("responsible_unit_id", &row.responsible_unit_id)?;
    let territorial = unit("territorial_unit_id", &row.territorial_unit_id)?;
    let dated = [
        ("assessed_on", on("assessed_on", &row.assessed_on)?),
        ("warned_on", on("warned_on", &row.warned_on)?),
        ("assigned_on", on("assigned_on", &row.assigned_on)?),
        (
            "resolution_reported_on",
            on("resolution_reported_on", &row.resolution_reported_on)?,
        ),
        ("verified_on", on("verified_on", &row.verified_on)?),
    ];
    // A low risk is not warned of: the warning's absence is no gap.
    for (field, at) in taken(("reported_on", reported), &dated, &["warned_on"])? {
        let (by, action) = match field {
            "assessed_on" => (
                committee.clone(),
                DisputeAction::Assess {
                    level: enum_field::<RiskLevel>("risk_level", row.risk_level)
                        .map_err(wire("risk_level"))?,
                },
            ),
            "warned_on" => (committee.clone(), DisputeAction::Warn),
            "assigned_on" => {
                let (Some(responsible), Some(territorial)) =
                    (responsible.clone(), territorial.clone())
                else {
                    return Err((
                        Some("responsible_unit_id"),
                        ServiceError::invalid(
                            "responsible_unit_id",
                            "required with assigned_on, with territorial_unit_id",
                        ),
                    ));
                };
                let due = on("resolution_due_on", &row.resolution_due_on)?.ok_or_else(|| {
                    (
                        Some("resolution_due_on"),
                        ServiceError::invalid("resolution_due_on", "required with assigned_on"),
                    )
                })?;
                (
                    committee.clone(),
                    DisputeAction::Assign {
                        responsible_unit: responsible,
                        territorial_unit: territorial,
                        due_on: due.date_naive(),
                    },
                )
            }
            "resolution_reported_on" => (
                responsible.clone().unwrap_or_else(|| committee.clone()),
                DisputeAction::ReportResolution {
                    summary: row.resolution_summary.clone(),
                },
            ),
            _ => (
                committee.clone(),
                DisputeAction::VerifyResolution {
                    accepted: true,
                    note: "imported: verified as the ledger records".into(),
                },
            ),
        };
        steps.push((
            field,
            ImportedStep {
                at,
                unit: by,
                action,
            },
        ));
    }
    Ok(steps)
}
