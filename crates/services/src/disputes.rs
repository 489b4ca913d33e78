//! Disputes on the wire, shared by public security (police-reported) and the political-legal committee
//! (screening): each keeps its disputes in its own store.

use std::sync::Arc;

use oneledger_domain::dispute::{Dispute, DisputeAction, DisputeSource};
use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{DisputeId, ItemKind, PersonRef, UnitId};
use oneledger_proto::common::v1::CommandResult;
use oneledger_proto::dispute::v1::{self as pb, step::Action};
use oneledger_store::ExpectedVersion;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::repo::{Context, Repository, command_digest, expected_version, request_id};
use oneledger_proto::convert::{date, enum_field, optional_id, required, required_id};

/// Stream prefix of disputes.
pub const DISPUTE_STREAM: &str = ItemKind::Dispute.as_str();

/// The disputes of one agency's store.
#[derive(Debug, Clone)]
pub struct Disputes {
    ctx: Arc<Context>,
    repo: Repository<Dispute>,
}

impl Disputes {
    /// The store's disputes.
    pub(crate) fn repo(&self) -> &Repository<Dispute> {
        &self.repo
    }

    /// Disputes in `ctx`'s store.
    pub fn new(ctx: Arc<Context>) -> Self {
        Disputes {
            repo: Repository::new(ctx.clone(), DISPUTE_STREAM),
            ctx,
        }
    }

    /// Records a report; `sources` are the sources this agency reports.
    pub async fn report(
        &self,
        caller: &Caller,
        raw_request_id: &str,
        report: Option<pb::Report>,
        sources: &[DisputeSource],
    ) -> Result<(pb::Dispute, CommandResult), ServiceError> {
        let roles = policy::roles(Step::ReportDispute(self.ctx.agency));
        caller.require_any(roles, "reporting a dispute")?;
        let digest = command_digest(
            "ReportDispute",
            &[&report
                .as_ref()
                .map(prost::Message::encode_to_vec)
                .unwrap_or_default()],
        );
        let request_id = request_id(raw_request_id)?;
        let r = report.ok_or_else(|| ServiceError::invalid("report", "required"))?;
        let source: DisputeSource = enum_field("report.source", r.source)?;
        if !sources.contains(&source) {
            return Err(ServiceError::invalid(
                "report.source",
                "this agency does not report disputes from that source",
            ));
        }
        // Namespaced by the reporting agency, so two agencies' reports never become one item by id.
        let namespace = self.ctx.agency.id_namespace();
        let dispute_id = match optional_id("report.dispute_id", &r.dispute_id, MAX_ITEM_ID_CHARS)? {
            Some(id) => format!("{namespace}-{id}"),
            None => format!(
                "{namespace}-D{}",
                hex::encode(&Sha256::digest(request_id.as_bytes())[..10]).to_uppercase()
            ),
        };
        let action = DisputeAction::Report {
            dispute_id: DisputeId(dispute_id.clone()),
            source,
            title: r.title,
            category: r.category,
            territory: UnitId(required(
                "report.territory_unit_id",
                &r.territory_unit_id,
                128,
            )?),
            parties: r.party_refs.into_iter().map(PersonRef).collect(),
            collective_size: r.collective_size,
        };
        let outcome = self
            .repo
            .execute(
                &dispute_id,
                ExpectedVersion::NoStream,
                caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        Ok((self.to_pb(&outcome.state), outcome.result()))
    }

    /// Takes a step, by the roles the policy gives it in this agency.
    pub async fn act(
        &self,
        caller: &Caller,
        raw_request_id: &str,
        dispute_id: &str,
        version: u64,
        step: Option<pb::Step>,
    ) -> Result<(pb::Dispute, CommandResult), ServiceError> {
        let request_id: Uuid = request_id(raw_request_id)?;
        let digest = command_digest(
            "ActOnDispute",
            &[
                dispute_id.as_bytes(),
                &version.to_be_bytes(),
                &step
                    .as_ref()
                    .map(prost::Message::encode_to_vec)
                    .unwrap_or_default(),
            ],
        );
        let dispute_id = required_id("dispute_id", dispute_id, MAX_ITEM_ID_CHARS)?;
        let expected = expected_version(version)?;
        let action = match step
            .and_then(|s| s.action)
            .ok_or_else(|| ServiceError::invalid("step", "required"))?
        {
            Action::Assess(level) => DisputeAction::Assess {
                level: enum_field("step.assess", level)?,
            },
            Action::Warn(_) => DisputeAction::Warn,
            Action::Assign(a) => DisputeAction::Assign {
                responsible_unit: UnitId(required(
                    "step.assign.responsible_unit_id",
                    &a.responsible_unit_id,
                    128,
                )?),
                territorial_unit: UnitId(required(
                    "step.assign.territorial_unit_id",
                    &a.territorial_unit_id,
                    128,
                )?),
                due_on: date("step.assign.due_on", &a.due_on)?,
            },
            Action::RecordMediation(agreed) => DisputeAction::RecordMediation { agreed },
            Action::ReportResolution(summary) => DisputeAction::ReportResolution { summary },
            Action::VerifyResolution(v) => DisputeAction::VerifyResolution {
                accepted: v.accepted,
                note: v.note,
            },
            Action::Close(reason) => DisputeAction::Close { reason },
        };
        let roles = policy::roles(Step::Dispute(self.ctx.agency, &action));
        caller.require_any(roles, "this step")?;
        let outcome = self
            .repo
            .execute(
                &dispute_id,
                expected,
                caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        Ok((self.to_pb(&outcome.state), outcome.result()))
    }

    fn to_pb(&self, d: &Dispute) -> pb::Dispute {
        let today = self.ctx.clock.today();
        pb::Dispute {
            dispute_id: d
                .dispute_id
                .as_ref()
                .map(|i| i.0.clone())
                .unwrap_or_default(),
            stage: d.stage.as_str().to_owned(),
            closed: d.stage.is_closed(),
            title: d.title.clone(),
            category: d.category.clone(),
            reporting_unit_id: d
                .reporting_unit
                .as_ref()
                .map(|u| u.0.clone())
                .unwrap_or_default(),
            risk_level: d.risk_level.map_or(pb::RiskLevel::Unspecified, Into::into) as i32,
            responsible_unit_id: d
                .responsible_unit
                .as_ref()
                .map(|u| u.0.clone())
                .unwrap_or_default(),
            territorial_unit_id: d
                .territorial_unit
                .as_ref()
                .map(|u| u.0.clone())
                .unwrap_or_default(),
            due_on: d
                .resolution_deadline
                .as_ref()
                .map(|dl| dl.due_on(&self.ctx.rules.calendar, today).to_string())
                .unwrap_or_default(),
        }
    }
}
