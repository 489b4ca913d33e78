//! Public security's service (公安): disputes a police station meets in policing, reported, mediated and
//! closed, in public security's own store.

use std::sync::Arc;

use oneledger_domain::dispute::DisputeSource;
use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::police::{PoliceAction, PoliceParticipation};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{Agency, ItemRef, JointHandlingId, streams};
use oneledger_proto::public_security::v1 as pb;
use oneledger_store::ExpectedVersion;
use prost::Message as _;
use tonic::{Request, Response, Status};

use crate::auth::caller;
use crate::disputes::Disputes;
use crate::error::ServiceError;
use crate::items::ItemLookup;
use crate::repo::{Context, Repository, command_digest, expected_version, request_id};
use oneledger_proto::convert::required_id;

/// Stream prefix of a station's part in a joint handling; one stream per joint handling and station.
pub const PARTICIPATION_STREAM: &str = streams::POLICE_PARTICIPATION;

/// The public-security service.
#[derive(Debug, Clone)]
pub struct PublicSecurityService {
    disputes: Disputes,
    participations: Repository<PoliceParticipation>,
    items: ItemLookup,
}

impl PublicSecurityService {
    /// The service over public security's store.
    pub fn new(ctx: Arc<Context>) -> Self {
        PublicSecurityService {
            disputes: Disputes::new(ctx.clone()),
            items: ctx.items.clone(),
            participations: Repository::new(ctx, PARTICIPATION_STREAM),
        }
    }
}

#[tonic::async_trait]
impl pb::public_security_service_server::PublicSecurityService for PublicSecurityService {
    async fn report_dispute(
        &self,
        request: Request<pb::ReportDisputeRequest>,
    ) -> Result<Response<pb::ReportDisputeResponse>, Status> {
        let caller = caller(&request)?;
        caller.require_agency(Agency::PublicSecurity)?;
        let req = request.into_inner();
        let (dispute, result) = self
            .disputes
            .report(
                &caller,
                &req.request_id,
                req.report,
                &[DisputeSource::Policing],
            )
            .await?;
        Ok(Response::new(pb::ReportDisputeResponse {
            dispute: Some(dispute),
            result: Some(result),
        }))
    }

    async fn act_on_dispute(
        &self,
        request: Request<pb::ActOnDisputeRequest>,
    ) -> Result<Response<pb::ActOnDisputeResponse>, Status> {
        let caller = caller(&request)?;
        caller.require_agency(Agency::PublicSecurity)?;
        let req = request.into_inner();
        let (dispute, result) = self
            .disputes
            .act(
                &caller,
                &req.request_id,
                &req.dispute_id,
                req.expected_version,
                req.step,
            )
            .await?;
        Ok(Response::new(pb::ActOnDisputeResponse {
            dispute: Some(dispute),
            result: Some(result),
        }))
    }

    async fn act_in_joint_handling(
        &self,
        request: Request<pb::ActInJointHandlingRequest>,
    ) -> Result<Response<pb::ActInJointHandlingResponse>, Status> {
        let caller = caller(&request)?;
        caller.require_agency(Agency::PublicSecurity)?;
        let roles = policy::roles(Step::PoliceParticipation);
        caller.require_any(roles, "acting in a joint handling")?;
        let req = request.into_inner();
        let digest = command_digest("ActInJointHandling", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let jh = required_id(
            "joint_handling_id",
            &req.joint_handling_id,
            MAX_ITEM_ID_CHARS,
        )?;
        let (action, expected) = match req
            .action
            .ok_or_else(|| ServiceError::invalid("action", "required"))?
        {
            pb::act_in_joint_handling_request::Action::Join(_) => {
                let joined = ItemRef::JointHandling(JointHandlingId(jh.clone()));
                self.items.require("joint_handling_id", &joined).await?;
                (
                    PoliceAction::Join {
                        joint_handling_id: JointHandlingId(jh.clone()),
                    },
                    ExpectedVersion::NoStream,
                )
            }
            pb::act_in_joint_handling_request::Action::RecordAction(note) => (
                PoliceAction::RecordAction { note },
                expected_version(req.expected_version)?,
            ),
            pb::act_in_joint_handling_request::Action::ClosePart(summary) => (
                PoliceAction::ClosePart { summary },
                expected_version(req.expected_version)?,
            ),
        };
        let id = format!("{jh}.{}", caller.unit);
        let outcome = self
            .participations
            .execute(
                &id,
                expected,
                &caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        Ok(Response::new(pb::ActInJointHandlingResponse {
            result: Some(outcome.result()),
        }))
    }
}
