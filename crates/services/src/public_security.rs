//! Public security's service (公安): disputes a police station meets in policing, reported, mediated and
//! closed, in public security's own store.

use std::sync::Arc;

use oneledger_domain::Agency;
use oneledger_domain::dispute::{DisputeAction, DisputeSource};
use oneledger_proto::public_security::v1 as pb;
use tonic::{Request, Response, Status};

use crate::auth::{Role, TokenKeys};
use crate::disputes::Disputes;
use crate::repo::Context;

/// The public-security service.
#[derive(Debug, Clone)]
pub struct PublicSecurityService {
    disputes: Disputes,
    keys: TokenKeys,
}

impl PublicSecurityService {
    /// The service over public security's store.
    pub fn new(ctx: Arc<Context>, keys: TokenKeys) -> Self {
        PublicSecurityService {
            disputes: Disputes::new(ctx),
            keys,
        }
    }
}

#[tonic::async_trait]
impl pb::public_security_service_server::PublicSecurityService for PublicSecurityService {
    async fn report_dispute(
        &self,
        request: Request<pb::ReportDisputeRequest>,
    ) -> Result<Response<pb::ReportDisputeResponse>, Status> {
        let caller = self.keys.caller(&request)?;
        caller.require_agency(Agency::PublicSecurity)?;
        let req = request.into_inner();
        let (dispute, result) = self
            .disputes
            .report(
                &caller,
                &[Role::PoliceOfficer],
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
        let caller = self.keys.caller(&request)?;
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
                |action| match action {
                    DisputeAction::RecordMediation { .. }
                    | DisputeAction::Close { .. }
                    | DisputeAction::ReportResolution { .. } => &[Role::PoliceOfficer],
                    // Assessment, warning, assignment and verification are the committee's, in its own service.
                    _ => &[],
                },
            )
            .await?;
        Ok(Response::new(pb::ActOnDisputeResponse {
            dispute: Some(dispute),
            result: Some(result),
        }))
    }
}
