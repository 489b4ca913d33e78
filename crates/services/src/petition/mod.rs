//! The petition office's service (信访办): petition matters, the public status lookup, and audited access
//! to personal data.

mod actions;
mod import;
mod intake;
mod people;
mod personal_data;
mod relink;

use std::sync::Arc;

use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::petition::PetitionMatter;
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{Agency, ItemKind, UnitId, streams};
use oneledger_proto::convert::{agreement, deadline, optional_id, required_id};
use oneledger_proto::petition::v1 as pb;
use oneledger_store::PersonalDataRead;
use prost::Message as _;
use tonic::{Request, Response, Status};

pub use people::PersonIndex;

use crate::auth::{Caller, caller};
use crate::error::ServiceError;
use crate::pii::{Pseudonyms, Vault, query_code_digest, same_digest};
use crate::repo::{Context, Outcome, Repository, command_digest, expected_version, request_id};

/// Stream prefix of petition matters.
pub const MATTER_STREAM: &str = ItemKind::PetitionMatter.as_str();
/// Stream prefix of a person's own stream (erasures; data recorded by earlier versions).
pub const PERSON_STREAM: &str = streams::PERSON;

/// The petition service.
#[derive(Debug, Clone)]
pub struct PetitionService {
    ctx: Arc<Context>,
    matters: Repository<PetitionMatter>,
    vault: Vault,
    pseudonyms: Pseudonyms,
    /// Each person's matters, for intake and for a person's rights.
    people: Arc<PersonIndex>,
}

impl PetitionService {
    /// The service over the petition store.
    pub fn new(ctx: Arc<Context>, vault: Vault, pseudonyms: Pseudonyms) -> Self {
        PetitionService {
            matters: Repository::new(ctx.clone(), MATTER_STREAM),
            people: Arc::new(PersonIndex::new(ctx.store.clone())),
            ctx,
            vault,
            pseudonyms,
        }
    }

    fn writer(&self, request: &Request<impl Sized>) -> Result<Caller, ServiceError> {
        let caller = caller(request)?;
        caller.require_agency(Agency::Petition)?;
        Ok(caller)
    }

    /// The matter as `caller` may see it, with what intake shows of its original (or of the matter it
    /// may repeat): that matter's agreements and where their obligations stand (art. 33).
    async fn matter_with_original(
        &self,
        m: &PetitionMatter,
        caller: &Caller,
    ) -> Result<pb::Matter, ServiceError> {
        let mut wire = self.matter(m, Some(caller));
        if let (_, Some(original)) = m.intake() {
            let original = self.matters.load(original.as_str()).await?.state;
            if let (Some(intake), Some(id)) = (wire.intake.as_mut(), &original.matter_id) {
                intake.original_agreements = original
                    .agreements
                    .iter()
                    .map(|(agreement_id, a)| agreement(id.as_str(), agreement_id, a))
                    .collect();
            }
        }
        Ok(wire)
    }

    fn matter(&self, m: &PetitionMatter, caller: Option<&Caller>) -> pb::Matter {
        let today = self.ctx.clock.today();
        let stage = m.stage_on(&self.ctx.rules, today);
        let hide_people = caller.is_some_and(|c| !m.petitioners_visible_to(&c.unit));
        pb::Matter {
            matter_id: m
                .matter_id
                .as_ref()
                .map(|i| i.0.clone())
                .unwrap_or_default(),
            stage: stage.to_string(),
            closed: stage.is_closed(),
            title: m.title.clone(),
            claim_class: m.class.map_or(pb::ClaimClass::Unspecified, Into::into) as i32,
            route: m.route.map_or(pb::ClaimRoute::Unspecified, Into::into) as i32,
            office_unit_id: unit(&m.office),
            responsible_unit_id: unit(&m.responsible_unit),
            territorial_unit_id: unit(&m.territorial_unit),
            territory_unit_id: unit(&m.territory),
            person_refs: if hide_people {
                vec![]
            } else {
                m.petitioners.iter().map(|p| p.0.clone()).collect()
            },
            collective_size: m.collective_size,
            first_petition: m.first_petition,
            linked_to: m
                .linked_to
                .as_ref()
                .map(|l| l.0.clone())
                .unwrap_or_default(),
            deadlines: m
                .deadlines
                .values()
                .map(|d| deadline(d, &self.ctx.rules.calendar, today))
                .collect(),
            intake: Some(intake(m)),
            category: m.category.clone().unwrap_or_default(),
            respondent_unit_id: unit(&m.respondent),
        }
    }

    async fn act(
        &self,
        caller: &Caller,
        req: pb::ActOnMatterRequest,
    ) -> Result<pb::ActOnMatterResponse, ServiceError> {
        let digest = command_digest("ActOnMatter", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let matter_id = required_id("matter_id", &req.matter_id, MAX_ITEM_ID_CHARS)?;
        let expected = expected_version(req.expected_version)?;
        let action = actions::matter_action(
            self,
            req.action
                .ok_or_else(|| ServiceError::invalid("action", "required"))?,
        )
        .await?;
        let roles = policy::roles(Step::Matter(&action));
        caller.require_any(roles, "this step")?;
        let outcome: Outcome<PetitionMatter> = self
            .matters
            .execute(
                &matter_id,
                expected,
                caller,
                caller.acting_role(roles),
                action,
                request_id,
                &digest,
            )
            .await?;
        if outcome.replayed && outcome.version == 0 {
            return Err(ServiceError::NotFound(format!("matter {matter_id}")));
        }
        Ok(pb::ActOnMatterResponse {
            matter: Some(self.matter_with_original(&outcome.state, caller).await?),
            result: Some(outcome.result()),
        })
    }
}

fn unit(u: &Option<UnitId>) -> String {
    u.as_ref().map(|u| u.0.clone()).unwrap_or_default()
}

/// What intake found, as the wire says it.
fn intake(m: &PetitionMatter) -> pb::Intake {
    let (outcome, original) = m.intake();
    pb::Intake {
        outcome: pb::IntakeOutcome::from(outcome) as i32,
        original_matter_id: original.map(|o| o.0.clone()).unwrap_or_default(),
        notice: m.notice.clone().unwrap_or_default(),
        original_agreements: vec![],
    }
}

/// An audited read, as the wire says it.
fn read_to_wire(r: PersonalDataRead) -> pb::PersonalDataRead {
    pb::PersonalDataRead {
        read_at: r.read_at.to_rfc3339(),
        reader: r.reader,
        unit_id: r.unit,
        person_ref: r.person_ref,
        fields: r.fields,
        purpose: r.purpose,
    }
}

#[tonic::async_trait]
impl pb::petition_service_server::PetitionService for PetitionService {
    async fn register_petition(
        &self,
        request: Request<pb::RegisterPetitionRequest>,
    ) -> Result<Response<pb::RegisterPetitionResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.register(&caller, request.into_inner()).await?,
        ))
    }

    async fn import_matters(
        &self,
        request: Request<pb::ImportMattersRequest>,
    ) -> Result<Response<pb::ImportMattersResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.import(&caller, request.get_ref()).await?,
        ))
    }

    async fn act_on_matter(
        &self,
        request: Request<pb::ActOnMatterRequest>,
    ) -> Result<Response<pb::ActOnMatterResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.act(&caller, request.into_inner()).await?,
        ))
    }

    async fn get_matter(
        &self,
        request: Request<pb::GetMatterRequest>,
    ) -> Result<Response<pb::GetMatterResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let matter_id = required_id("matter_id", &req.matter_id, MAX_ITEM_ID_CHARS)?;
        let loaded = self.matters.get(&matter_id, "matter").await?;
        // As the ledger shows an entry: to district roles, and to a unit that takes part in the matter
        // or is above one that does or above the territory where it arose. (An accused unit shown it
        // that way still never sees the petitioners: `matter` leaves them out for it.)
        let directory = &self.ctx.rules.directory;
        let state = &loaded.state;
        let in_ledger = state
            .parties()
            .iter()
            .chain(state.territory.as_ref())
            .any(|u| directory.is_at_or_below(u, &caller.unit));
        if !(caller.is_district_wide() || in_ledger) {
            return Err(ServiceError::PermissionDenied(
                "the matter is not in this unit's ledger".into(),
            )
            .into());
        }
        Ok(Response::new(pb::GetMatterResponse {
            matter: Some(self.matter_with_original(&loaded.state, &caller).await?),
            version: loaded.version,
        }))
    }

    async fn get_public_status(
        &self,
        request: Request<pb::GetPublicStatusRequest>,
    ) -> Result<Response<pb::GetPublicStatusResponse>, Status> {
        let req = request.into_inner();
        let receipt = required_id("receipt_number", &req.receipt_number, MAX_ITEM_ID_CHARS)?;
        let code = required_id("query_code", &req.query_code, MAX_ITEM_ID_CHARS)?;
        // One answer for every failure, so the lookup tells nothing about which receipts exist.
        let not_found = || {
            Status::from(ServiceError::NotFound(
                "receipt number and query code".into(),
            ))
        };
        if !receipt.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(not_found());
        }
        let loaded = self.matters.load(&receipt).await.map_err(Status::from)?;
        if loaded.version == 0
            || !same_digest(&loaded.state.query_code_digest, &query_code_digest(&code))
        {
            return Err(not_found());
        }
        let m = &loaded.state;
        let today = self.ctx.clock.today();
        Ok(Response::new(pb::GetPublicStatusResponse {
            stage: m.stage_on(&self.ctx.rules, today).to_string(),
            responsible_unit_id: unit(&m.responsible_unit),
            deadlines: m
                .deadlines
                .values()
                .map(|d| deadline(d, &self.ctx.rules.calendar, today))
                .collect(),
            replies: m
                .replies
                .iter()
                .map(|(kind, on)| format!("{}:{on}", kind.as_str()))
                .collect(),
            notice: m.notice.clone().unwrap_or_default(),
        }))
    }

    async fn get_personal_data(
        &self,
        request: Request<pb::GetPersonalDataRequest>,
    ) -> Result<Response<pb::GetPersonalDataResponse>, Status> {
        let caller = caller(&request)?;
        Ok(Response::new(
            self.personal_data(&caller, request.into_inner()).await?,
        ))
    }

    async fn erase_person(
        &self,
        request: Request<pb::ErasePersonRequest>,
    ) -> Result<Response<pb::ErasePersonResponse>, Status> {
        let caller = self.writer(&request)?;
        Ok(Response::new(
            self.erase(&caller, request.into_inner()).await?,
        ))
    }

    async fn list_personal_data_reads(
        &self,
        request: Request<pb::ListPersonalDataReadsRequest>,
    ) -> Result<Response<pb::ListPersonalDataReadsResponse>, Status> {
        let caller = caller(&request)?;
        caller.require_any(policy::roles(Step::ReadAuditLog), "reading the audit log")?;
        let req = request.into_inner();
        let person = optional_id("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        let limit = if req.page_size == 0 {
            100
        } else {
            req.page_size.min(1000) as usize
        };
        let reads = self
            .ctx
            .store
            .personal_data_reads(person.as_deref(), limit)
            .await
            .map_err(ServiceError::from)?;
        Ok(Response::new(pb::ListPersonalDataReadsResponse {
            reads: reads.into_iter().map(read_to_wire).collect(),
        }))
    }

    async fn get_person_access_report(
        &self,
        request: Request<pb::GetPersonAccessReportRequest>,
    ) -> Result<Response<pb::GetPersonAccessReportResponse>, Status> {
        let caller = caller(&request)?;
        Ok(Response::new(
            self.access_report(&caller, request.into_inner()).await?,
        ))
    }
}
