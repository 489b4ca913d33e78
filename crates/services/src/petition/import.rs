//! Importing a district's existing petition ledger (信访事项台账): each row a matter as far as it went,
//! every step on its own date and by the unit the ledger names, decided in order by the same rules as a
//! live command, recorded as one append whose events say where they came from (`origin`). The row's
//! own id is its request id: importing it again, from this file or another, writes nothing.
//!
//! Intake does not look for earlier matters of an imported petitioner: a ledger's rows are history, and
//! the record of what intake found then is the ledger's own.

use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::petition::{
    ClaimClass, ClaimRoute, HandlingOutcome, IntakeFindings, MatterAction, Registration,
};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{MatterId, PersonRef, UnitId};
use oneledger_proto::convert::{enum_field, optional_id, required_id};
use oneledger_proto::petition::v1 as pb;
use prost::Message as _;
use sha2::{Digest, Sha256};

use super::PetitionService;
use super::intake::asked;
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::import::{self, RowRecord, check_batch, imported_matter_id, refusal, step_on, taken};
use crate::pii::query_code_digest;
use crate::repo::{ImportedStep, command_digest, derived_request_id};

/// A row's step and the field of the row it comes from, for errors.
type RowStep = (&'static str, ImportedStep<MatterAction>);

impl PetitionService {
    /// Imports (or, on a dry run, checks) a batch of rows of one file.
    pub(super) async fn import(
        &self,
        caller: &Caller,
        req: &pb::ImportMattersRequest,
    ) -> Result<pb::ImportMattersResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ImportRecords), "importing a ledger")?;
        let sha = req.file_sha256.trim();
        check_batch(sha, req.rows.len())?;
        let mut results = Vec::with_capacity(req.rows.len());
        for row in &req.rows {
            results.push(self.import_row(caller, sha, row, req.dry_run).await?);
        }
        Ok(pb::ImportMattersResponse { rows: results })
    }

    /// One row: its outcome, or its errors as the row's result. Only a store failure is an error of
    /// the call (retry it; rows recorded before it are not recorded twice).
    async fn import_row(
        &self,
        caller: &Caller,
        sha: &str,
        row: &pb::ImportedMatter,
        dry_run: bool,
    ) -> Result<pb::ImportRowResult, ServiceError> {
        let mut result = pb::ImportRowResult {
            row: row.row,
            ..Default::default()
        };
        let source_id = match required_id("source_row_id", &row.source_row_id, MAX_ITEM_ID_CHARS) {
            Ok(id) => id,
            Err(e) => return Ok(with_error(result, refusal(None, e.into(), &[]))),
        };
        // The record's identity is its source id, never the line it stands on or the file it is in.
        let request_id = derived_request_id(format!("import:{source_id}").as_bytes(), b"matter");
        let seed = Sha256::digest(request_id.as_bytes());
        let matter_id = imported_matter_id(&source_id);
        result.matter_id = matter_id.clone();
        let steps = match self.steps(caller, row, &matter_id, &seed, dry_run).await {
            Ok(steps) => steps,
            Err((field, e)) => return Ok(with_error(result, refusal(field, e, &[]))),
        };
        let line = pb::ImportedMatter {
            row: 0,
            ..row.clone()
        };
        let digest = command_digest("ImportMatter", &[&line.encode_to_vec()]);
        let record = RowRecord {
            line: row.row,
            source_id: &source_id,
            sha,
            id: &matter_id,
            request_id,
            digest: &digest,
            steps,
        };
        let outcome = import::record(&self.matters, caller, record, dry_run, &[]).await?;
        let r = &mut result;
        outcome.apply(&mut r.written, &mut r.already_imported, &mut r.errors);
        Ok(result)
    }

    /// The row's steps in order, each with its date and unit; personal data sealed unless a dry run.
    async fn steps(
        &self,
        caller: &Caller,
        row: &pb::ImportedMatter,
        matter_id: &str,
        seed: &[u8],
        dry_run: bool,
    ) -> Result<Vec<RowStep>, (Option<&'static str>, ServiceError)> {
        let wire = |field: &'static str| {
            move |e: oneledger_proto::convert::WireError| (Some(field), e.into())
        };
        let on = |field: &'static str, raw: &str| step_on(field, raw).map_err(|e| (Some(field), e));
        let registered = on("registered_on", &row.registered_on)?.ok_or_else(|| {
            (
                Some("registered_on"),
                ServiceError::invalid("registered_on", "required"),
            )
        })?;
        if registered > self.ctx.clock.now() {
            return Err((
                Some("registered_on"),
                ServiceError::invalid("registered_on", "after today"),
            ));
        }
        let register = pb::RegisterPetitionRequest {
            channel: row.channel,
            claim_class: row.claim_class,
            title: row.title.clone(),
            category: row.category.clone(),
            petitioners: row.petitioners.clone(),
            collective_size: row.collective_size,
            territory_unit_id: row.territory_unit_id.clone(),
            respondent_unit_id: row.respondent_unit_id.clone(),
            ..Default::default()
        };
        let asked = asked(&register).map_err(|e| (None, e))?;
        let (person_refs, derivations) = self
            .person_refs(&asked.identities, seed)
            .await
            .map_err(|e| (Some("petitioners"), e))?;
        let query_code = self.vault.query_code(matter_id).map_err(|e| (None, e))?;
        let personal_data = if dry_run {
            vec![]
        } else {
            self.seal(&person_refs, &derivations, &asked)
                .await
                .map_err(|e| (Some("petitioners"), e))?
        };
        let registration = Registration {
            matter_id: MatterId(matter_id.to_owned()),
            channel: asked.channel,
            claim_class: asked.claim_class,
            title: row.title.clone(),
            petitioners: person_refs.iter().map(|p| PersonRef(p.clone())).collect(),
            collective_size: row.collective_size,
            territory: asked.territory.clone(),
            receipt_number: matter_id.to_owned(),
            query_code_digest: query_code_digest(&query_code),
            accused_unit: asked.accused_unit.clone(),
            category: asked.category.clone(),
            respondent: asked.respondent.clone(),
            personal_data,
            prior: IntakeFindings::default(),
        };
        let office = caller.unit.clone();
        let mut steps: Vec<RowStep> = vec![(
            "registered_on",
            ImportedStep {
                at: registered,
                unit: office.clone(),
                action: MatterAction::Register(registration),
            },
        )];
        let unit = |field: &'static str, raw: &str| {
            optional_id(field, raw, MAX_UNIT_ID_CHARS)
                .map(|u| u.map(UnitId))
                .map_err(wire(field))
        };
        let responsible = unit("responsible_unit_id", &row.responsible_unit_id)?;
        let territorial = unit("territorial_unit_id", &row.territorial_unit_id)?;
        // Each later step happens only if the one before did: a date after an empty one is a gap.
        let dated = [
            ("assigned_on", on("assigned_on", &row.assigned_on)?),
            (
                "received_on",
                on("received_on", &row.received_on)?.or(on("assigned_on", &row.assigned_on)?),
            ),
            ("notice_sent_on", on("notice_sent_on", &row.notice_sent_on)?),
            ("accepted_on", on("accepted_on", &row.accepted_on)?),
            ("opinion_on", on("opinion_on", &row.opinion_on)?),
            ("delivered_on", on("delivered_on", &row.delivered_on)?),
        ];
        // The notice may be missing where acceptance follows: the ledger shows it overdue.
        for (field, at) in taken(("registered_on", registered), &dated, &["notice_sent_on"])? {
            let Some(to) = responsible.clone() else {
                return Err((
                    Some("responsible_unit_id"),
                    ServiceError::invalid("responsible_unit_id", format!("required with {field}")),
                ));
            };
            let action = match field {
                "assigned_on" => MatterAction::Assign {
                    to: to.clone(),
                    territorial_unit: territorial.clone(),
                },
                "received_on" => MatterAction::Receive,
                "notice_sent_on" => MatterAction::SendReceiptNotice,
                "accepted_on" => MatterAction::Accept {
                    class: ClaimClass::Claim,
                    route: Some(ClaimRoute::PetitionRoute),
                    channel: None,
                    accused_unit: None,
                },
                "opinion_on" => MatterAction::IssueHandlingOpinion {
                    outcome: enum_field::<HandlingOutcome>(
                        "handling_outcome",
                        row.handling_outcome,
                    )
                    .map_err(wire("handling_outcome"))?,
                },
                _ => MatterAction::DeliverReply {
                    delivered_on: at.date_naive(),
                },
            };
            let by = if field == "assigned_on" {
                office.clone()
            } else {
                to
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
}

fn with_error(
    mut result: pb::ImportRowResult,
    error: oneledger_proto::common::v1::ImportError,
) -> pb::ImportRowResult {
    result.errors.push(error);
    result
}
