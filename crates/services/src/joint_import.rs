//! Importing a district's existing joint-handling ledger (联合处置台账): each row a joint handling of an
//! item imported before (named by that item's own 来源编号), opened with its lead and co-handling units,
//! its task set, the co-handlers' parts closed, the lead's resolution report and the close, each on its
//! own date and by the unit the ledger names, decided by the same rules as live commands (the units
//! must exist on the day it opened), one append a row with its origin, joined to its subject's entry as
//! a live joint handling is.

use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::joint::{CoHandlerRole, JointAction};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{ItemRef, JointHandlingId, UnitId};
use oneledger_proto::convert::{optional_id, required_id};
use oneledger_proto::political_legal::v1 as pb;
use prost::Message as _;

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::import::{
    self, FieldNames, RowRecord, RowRefusal, check_batch, imported, refusal, step_on, taken,
};
use crate::political_legal::{PoliticalLegalService, co_handlers};
use crate::repo::{ImportedStep, command_digest};

/// A row's step and the field of the row it comes from, for errors.
type RowStep = (&'static str, ImportedStep<JointAction>);

/// The id of the one task a row sets.
const TASK_ID: &str = "1";

impl PoliticalLegalService {
    /// Imports (or, on a dry run, checks) a batch of rows of one file.
    pub(crate) async fn import_joint_handlings(
        &self,
        caller: &Caller,
        req: &pb::ImportJointHandlingsRequest,
    ) -> Result<pb::ImportJointHandlingsResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ImportRecords), "importing a ledger")?;
        let sha = req.file_sha256.trim();
        check_batch(sha, req.rows.len())?;
        let mut rows = Vec::with_capacity(req.rows.len());
        for row in &req.rows {
            rows.push(
                self.import_joint_handling(caller, sha, row, req.dry_run)
                    .await?,
            );
        }
        Ok(pb::ImportJointHandlingsResponse { rows })
    }

    async fn import_joint_handling(
        &self,
        caller: &Caller,
        sha: &str,
        row: &pb::ImportedJointHandling,
        dry_run: bool,
    ) -> Result<pb::ImportJointHandlingResult, ServiceError> {
        let mut result = pb::ImportJointHandlingResult {
            row: row.row,
            ..Default::default()
        };
        let fail = |mut result: pb::ImportJointHandlingResult, field, e| {
            result.errors.push(refusal(field, e, NAMES));
            result
        };
        let source_id = match required_id("source_row_id", &row.source_row_id, MAX_ITEM_ID_CHARS) {
            Ok(id) => id,
            Err(e) => return Ok(fail(result, None, e.into())),
        };
        let (request_id, short) = imported("joint_handling", &source_id);
        let id = format!("JH{}", hex::encode(short).to_uppercase());
        result.joint_handling_id = id.clone();
        let subject = match self
            .imported_subject(row.subject_kind, &row.subject_source_row_id)
            .await
        {
            Ok(subject) => subject,
            Err(e) => return Ok(fail(result, Some("subject_source_row_id"), e)),
        };
        let steps = match self.joint_steps(caller, row, &id, &subject) {
            Ok(steps) => steps,
            Err((field, e)) => return Ok(fail(result, field, e)),
        };
        let line = pb::ImportedJointHandling {
            row: 0,
            ..row.clone()
        };
        let digest = command_digest("ImportJointHandling", &[&line.encode_to_vec()]);
        let record = RowRecord {
            line: row.row,
            source_id: &source_id,
            sha,
            id: &id,
            request_id,
            digest: &digest,
            steps,
        };
        let outcome = import::record(&self.joint, caller, record, dry_run, NAMES).await?;
        let r = &mut result;
        if outcome.apply(&mut r.written, &mut r.already_imported, &mut r.errors) {
            // Joined to its subject's entry as a live joint handling is (again on a re-import: once).
            let joint = ItemRef::JointHandling(JointHandlingId(id));
            self.join_subject(caller, &subject, joint, request_id, &digest)
                .await?;
        }
        Ok(result)
    }

    /// The row's steps in order: opened (with its task), then the task done, the parts closed, the
    /// report and the close; a date after an empty one is a gap, except the task's and the parts'.
    fn joint_steps(
        &self,
        caller: &Caller,
        row: &pb::ImportedJointHandling,
        id: &str,
        subject: &ItemRef,
    ) -> Result<Vec<RowStep>, RowRefusal> {
        let on = |field: &'static str, raw: &str| step_on(field, raw).map_err(|e| (Some(field), e));
        let opened = on("opened_on", &row.opened_on)?.ok_or_else(|| {
            (
                Some("opened_on"),
                ServiceError::invalid("opened_on", "required"),
            )
        })?;
        let lead = UnitId(
            required_id("lead_unit_id", &row.lead_unit_id, MAX_UNIT_ID_CHARS)
                .map_err(|e| (Some("lead_unit_id"), e.into()))?,
        );
        // A unit named without its part plays the part of its kind.
        let directory = &self.rules.directory;
        let part_of = |u: &UnitId| {
            directory
                .get(u)
                .map(|unit| CoHandlerRole::of_kind(unit.kind))
        };
        // The row's co-handlers are one column: an error of one of them is the column's.
        let co = co_handlers(&row.co_handlers, part_of).map_err(|e| match e {
            ServiceError::Invalid { field, reason } => (
                Some("co_handlers"),
                ServiceError::invalid("co_handlers", format!("{field}: {reason}")),
            ),
            e => (Some("co_handlers"), e),
        })?;
        let step = |at, unit: &UnitId, action| ImportedStep {
            at,
            unit: unit.clone(),
            action,
        };
        let open = JointAction::Open {
            joint_handling_id: JointHandlingId(id.to_owned()),
            subject: subject.clone(),
            lead_unit: lead.clone(),
            co_handlers: co.clone(),
            political_legal_committee: caller.unit.clone(),
        };
        let mut steps = vec![("opened_on", step(opened, &caller.unit, open))];
        // The lead sets the task the day it opens.
        let task = task(row)?;
        if let Some((_, action)) = &task {
            steps.push(("task_due_on", step(opened, &lead, action.clone())));
        }
        let dated = [
            ("task_done_on", on("task_done_on", &row.task_done_on)?),
            (
                "parts_closed_on",
                on("parts_closed_on", &row.parts_closed_on)?,
            ),
            ("reported_on", on("reported_on", &row.reported_on)?),
            ("closed_on", on("closed_on", &row.closed_on)?),
        ];
        for (field, at) in taken(
            ("opened_on", opened),
            &dated,
            &["task_done_on", "parts_closed_on"],
        )? {
            match field {
                "task_done_on" => {
                    let Some((doer, _)) = &task else {
                        return Err((
                            Some("task_done_on"),
                            ServiceError::invalid(
                                "task_done_on",
                                "given, but the row sets no task",
                            ),
                        ));
                    };
                    let done = JointAction::CompleteTask {
                        task_id: TASK_ID.into(),
                    };
                    steps.push((field, step(at, doer, done)));
                }
                "parts_closed_on" => {
                    for (unit, _) in &co {
                        steps.push((field, step(at, unit, JointAction::ClosePart)));
                    }
                }
                "reported_on" => {
                    let report = JointAction::SubmitResolutionReport {
                        summary: row.resolution_summary.clone(),
                    };
                    steps.push((field, step(at, &lead, report)));
                }
                _ => steps.push((field, step(at, &lead, JointAction::Close))),
            }
        }
        Ok(steps)
    }
}

/// The task the row sets at the opening, if any, and the unit doing it: its description, unit and due
/// date go together.
fn task(row: &pb::ImportedJointHandling) -> Result<Option<(UnitId, JointAction)>, RowRefusal> {
    let wire =
        |field: &'static str| move |e: oneledger_proto::convert::WireError| (Some(field), e.into());
    let doer = optional_id("task_unit_id", &row.task_unit_id, MAX_UNIT_ID_CHARS)
        .map_err(wire("task_unit_id"))?;
    let due = step_on("task_due_on", &row.task_due_on).map_err(|e| (Some("task_due_on"), e))?;
    let description = row.task_description.trim();
    let (doer, due) = match (doer, due, description.is_empty()) {
        (None, None, true) => return Ok(None),
        (Some(doer), Some(due), false) => (UnitId(doer), due),
        (doer, _, _) => {
            let missing = match (description.is_empty(), doer.is_none()) {
                (true, _) => "task_description",
                (_, true) => "task_unit_id",
                _ => "task_due_on",
            };
            return Err((
                Some(missing),
                ServiceError::invalid(
                    missing,
                    "a task has a description, a unit and a due date, all three",
                ),
            ));
        }
    };
    Ok(Some((
        doer.clone(),
        JointAction::AddTask {
            task_id: TASK_ID.into(),
            unit: doer,
            description: description.to_owned(),
            due_on: due.date_naive(),
        },
    )))
}

/// The row's names of the domain's fields.
const NAMES: FieldNames = &[
    ("lead_unit", "lead_unit_id"),
    ("co_handlers", "co_handlers"),
    ("unit", "task_unit_id"),
    ("description", "task_description"),
    ("due_on", "task_due_on"),
    ("summary", "resolution_summary"),
];
