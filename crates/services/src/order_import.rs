//! Importing a district's existing supervision ledger (督办台账): each row an order about an item imported
//! before (named by that item's own 来源编号), issued, acknowledged, answered and closed on its own dates,
//! decided by the same rules as live commands, one append a row with its origin, and joined to its
//! subject's entry as a live order is.

use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::supervision::{OrderAction, SupervisionReason};
use oneledger_domain::{DeadlineKind, ItemKind, ItemRef, SupervisionOrderId, UnitId};
use oneledger_proto::convert::{enum_field, required_id};
use oneledger_proto::political_legal::v1 as pb;
use prost::Message as _;

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::import::{
    self, FieldNames, RowRecord, check_batch, imported, imported_dispute_id, imported_matter_id,
    refusal, step_on, taken,
};
use crate::political_legal::PoliticalLegalService;
use crate::repo::{ImportedStep, command_digest};

/// An order's due date is its own field, not a dispute's resolution date.
const NAMES: FieldNames = &[("due_on", "due_on")];

/// A row's step and the field of the row it comes from, for errors.
type RowStep = (&'static str, ImportedStep<OrderAction>);

impl PoliticalLegalService {
    /// Imports (or, on a dry run, checks) a batch of rows of one file.
    pub(crate) async fn import_orders(
        &self,
        caller: &Caller,
        req: &pb::ImportOrdersRequest,
    ) -> Result<pb::ImportOrdersResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ImportRecords), "importing a ledger")?;
        let sha = req.file_sha256.trim();
        check_batch(sha, req.rows.len())?;
        let mut rows = Vec::with_capacity(req.rows.len());
        for row in &req.rows {
            rows.push(self.import_order(caller, sha, row, req.dry_run).await?);
        }
        Ok(pb::ImportOrdersResponse { rows })
    }

    async fn import_order(
        &self,
        caller: &Caller,
        sha: &str,
        row: &pb::ImportedOrder,
        dry_run: bool,
    ) -> Result<pb::ImportOrderResult, ServiceError> {
        let mut result = pb::ImportOrderResult {
            row: row.row,
            ..Default::default()
        };
        let fail = |mut result: pb::ImportOrderResult, field, e| {
            result.errors.push(refusal(field, e, NAMES));
            result
        };
        let source_id = match required_id("source_row_id", &row.source_row_id, MAX_ITEM_ID_CHARS) {
            Ok(id) => id,
            Err(e) => return Ok(fail(result, None, e.into())),
        };
        let (request_id, short) = imported("order", &source_id);
        let order_id = format!("SO{}", hex::encode(short).to_uppercase());
        result.order_id = order_id.clone();
        let subject = match self
            .imported_subject(row.subject_kind, &row.subject_source_row_id)
            .await
        {
            Ok(subject) => subject,
            Err(e) => return Ok(fail(result, Some("subject_source_row_id"), e)),
        };
        let steps = match order_steps(caller, row, &order_id, &subject) {
            Ok(steps) => steps,
            Err((field, e)) => return Ok(fail(result, field, e)),
        };
        let line = pb::ImportedOrder {
            row: 0,
            ..row.clone()
        };
        let digest = command_digest("ImportOrder", &[&line.encode_to_vec()]);
        let record = RowRecord {
            line: row.row,
            source_id: &source_id,
            sha,
            id: &order_id,
            request_id,
            digest: &digest,
            steps,
        };
        let outcome = import::record(&self.orders, caller, record, dry_run, NAMES).await?;
        let r = &mut result;
        if outcome.apply(&mut r.written, &mut r.already_imported, &mut r.errors) {
            // Joined to its subject's entry as a live order is (again on a re-import: a link made once).
            let order = ItemRef::SupervisionOrder(SupervisionOrderId(order_id));
            self.join_subject(caller, &subject, order, request_id, &digest)
                .await?;
        }
        Ok(result)
    }

    /// The imported item a row names by its kind and its own 来源编号 (`source`), which must exist.
    pub(crate) async fn imported_subject(
        &self,
        kind: i32,
        source: &str,
    ) -> Result<ItemRef, ServiceError> {
        let kind: ItemKind = enum_field("subject_kind", kind)?;
        let source = required_id("subject_source_row_id", source, MAX_ITEM_ID_CHARS)?;
        let subject = match kind {
            ItemKind::PetitionMatter => ItemRef::new(kind, imported_matter_id(&source)),
            ItemKind::Dispute => ItemRef::new(kind, imported_dispute_id(&source)),
            _ => {
                return Err(ServiceError::invalid(
                    "subject_kind",
                    "an imported petition matter or dispute",
                ));
            }
        };
        self.items
            .require("subject_source_row_id", &subject)
            .await
            .map_err(|_| {
                ServiceError::invalid(
                    "subject_source_row_id",
                    format!("no {} was imported as {source:?}", kind.as_str()),
                )
            })?;
        Ok(subject)
    }
}

/// The row's steps in order; a date after an empty one is a gap.
fn order_steps(
    caller: &Caller,
    row: &pb::ImportedOrder,
    order_id: &str,
    subject: &ItemRef,
) -> Result<Vec<RowStep>, (Option<&'static str>, ServiceError)> {
    let on = |field: &'static str, raw: &str| step_on(field, raw).map_err(|e| (Some(field), e));
    let issued = on("issued_on", &row.issued_on)?.ok_or_else(|| {
        (
            Some("issued_on"),
            ServiceError::invalid("issued_on", "required"),
        )
    })?;
    let to_unit = UnitId(
        required_id("to_unit_id", &row.to_unit_id, MAX_UNIT_ID_CHARS)
            .map_err(|e| (Some("to_unit_id"), e.into()))?,
    );
    let due_on = on("due_on", &row.due_on)?
        .ok_or_else(|| (Some("due_on"), ServiceError::invalid("due_on", "required")))?
        .date_naive();
    let reason = match row.reason.trim() {
        "agreement_breach" => SupervisionReason::AgreementBreach {
            agreement_id: String::new(),
        },
        "risk" => SupervisionReason::Risk,
        "repeat_petitions" => SupervisionReason::RepeatPetitions,
        "other" | "" => SupervisionReason::Other,
        "overdue" => SupervisionReason::Overdue {
            deadline: DeadlineKind::Handling,
        },
        _ => {
            return Err((
                Some("reason"),
                ServiceError::invalid(
                    "reason",
                    "overdue, agreement_breach, risk, repeat_petitions or other",
                ),
            ));
        }
    };
    let issuer = caller.unit.clone();
    let mut steps: Vec<RowStep> = vec![(
        "issued_on",
        ImportedStep {
            at: issued,
            unit: issuer.clone(),
            action: OrderAction::Issue {
                order_id: SupervisionOrderId(order_id.to_owned()),
                subject: subject.clone(),
                to_unit: to_unit.clone(),
                due_on,
                reason,
                requirements: row.requirements.clone(),
            },
        },
    )];
    let dated = [
        (
            "acknowledged_on",
            on("acknowledged_on", &row.acknowledged_on)?,
        ),
        ("feedback_on", on("feedback_on", &row.feedback_on)?),
        ("closed_on", on("closed_on", &row.closed_on)?),
    ];
    for (field, at) in taken(("issued_on", issued), &dated, &[])? {
        let (unit, action) = match field {
            "acknowledged_on" => (to_unit.clone(), OrderAction::Acknowledge),
            "feedback_on" => (
                to_unit.clone(),
                OrderAction::SubmitFeedback {
                    summary: row.feedback.clone(),
                },
            ),
            _ => (issuer.clone(), OrderAction::AcceptFeedback),
        };
        steps.push((field, ImportedStep { at, unit, action }));
    }
    Ok(steps)
}
