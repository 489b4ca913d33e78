//! The petition office's service (信访办): petition matters, the public status lookup, and audited access
//! to personal data.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::Utc;
use oneledger_domain::clock::legal_date;
use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::petition::MAX_REASON_CHARS;
use oneledger_domain::petition::{
    AgreementKind, Channel, ClaimClass, Diversion, MatterAction, Obligation, Obligor,
    PetitionMatter, PriorPetition, Registration,
};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{
    Agency, Aggregate, Command, ItemKind, MatterId, PersonRef, UnitId, streams,
};
use oneledger_proto::petition::v1::{self as pb, act_on_matter_request::Action};
use oneledger_store::{AppendRequest, EventMetadata, ExpectedVersion, NewEvent, PersonalDataRead};
use prost::Message as _;
use sha2::{Digest, Sha256};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::auth::{Caller, Role, caller};
use crate::error::ServiceError;
use crate::pii::{Identity, PersonEvent, Pseudonyms, Vault, query_code_digest, same_digest};
use crate::repo::{
    Context, Outcome, Repository, command_digest, derived_request_id, expected_version, request_id,
};
use oneledger_proto::convert::{
    date, deadline, enum_field, known, optional, optional_enum_field, required,
};

/// Stream prefix of petition matters.
pub const MATTER_STREAM: &str = ItemKind::PetitionMatter.as_str();
/// Stream prefix of a person's sealed data.
pub const PERSON_STREAM: &str = streams::PERSON;
/// Most petitioners on one petition.
const MAX_PETITIONERS: usize = 100;
/// Longest narrative, in characters.
const MAX_NARRATIVE_CHARS: usize = 20_000;

/// The petition service.
#[derive(Debug, Clone)]
pub struct PetitionService {
    ctx: Arc<Context>,
    matters: Repository<PetitionMatter>,
    vault: Vault,
    pseudonyms: Pseudonyms,
}

impl PetitionService {
    /// The service over the petition store.
    pub fn new(ctx: Arc<Context>, vault: Vault, pseudonyms: Pseudonyms) -> Self {
        PetitionService {
            matters: Repository::new(ctx.clone(), MATTER_STREAM),
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

    fn matter(&self, m: &PetitionMatter, caller: Option<&Caller>) -> pb::Matter {
        let today = legal_date(Utc::now());
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
        }
    }

    async fn register(
        &self,
        caller: &Caller,
        req: pb::RegisterPetitionRequest,
    ) -> Result<pb::RegisterPetitionResponse, ServiceError> {
        let digest = command_digest("RegisterPetition", &[&req.encode_to_vec()]);
        caller.require_any(
            policy::roles(Step::RegisterPetition),
            "registering a petition",
        )?;
        let request_id = request_id(&req.request_id)?;
        if req.petitioners.is_empty() || req.petitioners.len() > MAX_PETITIONERS {
            return Err(ServiceError::invalid(
                "petitioners",
                format!("1 to {MAX_PETITIONERS} petitioners"),
            ));
        }
        let mut identities = Vec::with_capacity(req.petitioners.len());
        for (i, p) in req.petitioners.iter().enumerate() {
            identities.push(Identity {
                name: required(&format!("petitioners[{i}].name"), &p.name, 100)?,
                id_number: optional(&format!("petitioners[{i}].id_number"), &p.id_number, 32)?
                    .unwrap_or_default(),
                phone: optional(&format!("petitioners[{i}].phone"), &p.phone, 32)?
                    .unwrap_or_default(),
                address: optional(&format!("petitioners[{i}].address"), &p.address, 200)?
                    .unwrap_or_default(),
            });
        }
        let narrative = optional("narrative", &req.narrative, MAX_NARRATIVE_CHARS)?;
        let channel: Channel = enum_field("channel", req.channel)?;
        let claim_class: ClaimClass = enum_field("claim_class", req.claim_class)?;
        let territory = UnitId(required(
            "territory_unit_id",
            &req.territory_unit_id,
            MAX_UNIT_ID_CHARS,
        )?);
        let accused_unit =
            optional("accused_unit_id", &req.accused_unit_id, MAX_UNIT_ID_CHARS)?.map(UnitId);

        // Everything derived from the request id, so a retry rebuilds the same registration.
        let seed = Sha256::digest(request_id.as_bytes());
        let matter_id = format!("PM{}", hex::encode(&seed[..10]).to_uppercase());
        let person_refs = self.person_refs(&identities, &seed).await?;
        let query_code = self.vault.query_code(&matter_id)?;

        let prior = match optional("same_matter_as", &req.same_matter_as, MAX_ITEM_ID_CHARS)? {
            None => PriorPetition::None,
            Some(original) => {
                let loaded = self.matters.get(&original, "matter").await?;
                let original = loaded
                    .state
                    .summary(&self.ctx.rules, legal_date(Utc::now()))
                    .ok_or_else(|| ServiceError::NotFound(format!("matter {original}")))?;
                PriorPetition::SameMatter {
                    original,
                    new_facts: req.new_facts,
                }
            }
        };

        let registration = Registration {
            matter_id: MatterId(matter_id.clone()),
            channel,
            claim_class,
            title: req.title.clone(),
            petitioners: person_refs.iter().map(|p| PersonRef(p.clone())).collect(),
            collective_size: req.collective_size,
            territory,
            receipt_number: matter_id.clone(),
            query_code_digest: query_code_digest(&query_code),
            accused_unit,
            prior,
        };
        // Decided once before anything is written: a registration the domain refuses (an empty title, a
        // territory that is no territory, …) leaves no personal data behind. The matter's own append
        // below decides again, against its stream.
        let trial = Command {
            at: Utc::now(),
            unit: caller.unit.clone(),
            action: MatterAction::Register(registration.clone()),
        };
        PetitionMatter::default().decide(&trial, &self.ctx.rules)?;

        // Personal data first, sealed, in each person's own stream: if the matter append then fails, a retry
        // finds the same people and appends nothing twice.
        for (i, (person_ref, identity)) in person_refs.iter().zip(&identities).enumerate() {
            let key = self
                .vault
                .key_for_new_data(person_ref)
                .await?
                .ok_or_else(|| {
                    ServiceError::PermissionDenied(format!("person {person_ref} was erased"))
                })?;
            let identity = serde_json::to_vec(identity)
                .map_err(|e| ServiceError::Internal(format!("encoding an identity: {e}")))?;
            let sealed_identity = self.vault.seal(&key, person_ref, &identity)?;
            let sealed_narrative = match (&narrative, i) {
                (Some(text), 0) => Some(self.vault.seal(&key, person_ref, text.as_bytes())?),
                _ => None,
            };
            let event = PersonEvent::DataRecorded {
                at: Utc::now(),
                person_ref: person_ref.clone(),
                matter_id: matter_id.clone(),
                accused_unit: registration.accused_unit.as_ref().map(|u| u.0.clone()),
                sealed_identity,
                sealed_narrative,
            };
            self.append_person_event(
                caller,
                person_ref,
                &event,
                derived_request_id(&seed, &(i as u32 + 1).to_be_bytes()),
            )
            .await?;
        }

        let outcome = self
            .matters
            .execute(
                &matter_id,
                ExpectedVersion::NoStream,
                caller,
                caller.acting_role(policy::roles(Step::RegisterPetition)),
                MatterAction::Register(registration),
                request_id,
                &digest,
            )
            .await?;
        Ok(pb::RegisterPetitionResponse {
            matter_id,
            query_code,
            person_refs,
            matter: Some(self.matter(&outcome.state, Some(caller))),
            result: Some(outcome.result()),
        })
    }

    /// Each petitioner's ref: their stable pseudonym, or for one given by name alone a ref of this
    /// petition (derived from the request, so a retry names the same people). Refuses the same person
    /// named twice.
    async fn person_refs(
        &self,
        identities: &[Identity],
        seed: &[u8],
    ) -> Result<Vec<String>, ServiceError> {
        let mut refs: Vec<String> = Vec::with_capacity(identities.len());
        for (i, identity) in identities.iter().enumerate() {
            let person_ref = match self.pseudonyms.current_ref(&self.vault, identity).await? {
                Some(stable) => stable,
                None => format!(
                    "p-{}",
                    hex::encode(&Sha256::digest([seed, &(i as u32).to_be_bytes()].concat())[..12])
                ),
            };
            if let Some(first) = refs.iter().position(|r| *r == person_ref) {
                return Err(ServiceError::invalid(
                    format!("petitioners[{i}]"),
                    format!("the same person as petitioners[{first}]"),
                ));
            }
            refs.push(person_ref);
        }
        Ok(refs)
    }

    async fn append_person_event(
        &self,
        caller: &Caller,
        person_ref: &str,
        event: &PersonEvent,
        request_id: Uuid,
    ) -> Result<(), ServiceError> {
        // Sealing uses fresh nonces, so a retry's event differs from the first: answer it from the record.
        if self.ctx.store.request_outcome(request_id).await?.is_some() {
            return Ok(());
        }
        let at = Utc::now();
        self.ctx
            .store
            .append(AppendRequest {
                stream_id: format!("{PERSON_STREAM}-{person_ref}"),
                expected_version: ExpectedVersion::Any,
                events: vec![NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: event.event_type().to_owned(),
                    schema_version: 1,
                    data: serde_json::to_value(event)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?,
                    metadata: EventMetadata {
                        occurred_at: at,
                        district: self.ctx.district.clone(),
                        agency: Agency::Petition,
                        acting_unit: caller.unit.0.clone(),
                        acting_role: caller
                            .acting_role(&[Role::IntakeClerk, Role::PiiReader])
                            .to_string(),
                        correlation_id: request_id,
                        causation_id: None,
                    },
                }],
                request_id,
                command: None,
            })
            .await?;
        Ok(())
    }

    async fn act(
        &self,
        caller: &Caller,
        req: pb::ActOnMatterRequest,
    ) -> Result<pb::ActOnMatterResponse, ServiceError> {
        let digest = command_digest("ActOnMatter", &[&req.encode_to_vec()]);
        let request_id = request_id(&req.request_id)?;
        let matter_id = required("matter_id", &req.matter_id, MAX_ITEM_ID_CHARS)?;
        let expected = expected_version(req.expected_version)?;
        let action = matter_action(
            req.action
                .ok_or_else(|| ServiceError::invalid("action", "required"))?,
        )?;
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
            matter: Some(self.matter(&outcome.state, Some(caller))),
            result: Some(outcome.result()),
        })
    }

    async fn personal_data(
        &self,
        caller: &Caller,
        req: pb::GetPersonalDataRequest,
    ) -> Result<pb::GetPersonalDataResponse, ServiceError> {
        caller.require_any(
            policy::roles(Step::ReadPersonalData),
            "reading personal data",
        )?;
        let person_ref = required("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        let purpose = match known::<pb::Purpose>("purpose", req.purpose)? {
            pb::Purpose::Handling => "handling",
            pb::Purpose::Delivery => "delivery",
            pb::Purpose::Hearing => "hearing",
            pb::Purpose::Review => "review",
            pb::Purpose::Unspecified => return Err(ServiceError::invalid("purpose", "required")),
        };
        let events = self
            .ctx
            .store
            .read_stream(&format!("{PERSON_STREAM}-{person_ref}"), 1, 10_000)
            .await?;
        if events.is_empty() {
            return Err(ServiceError::NotFound(format!("person {person_ref}")));
        }
        let events: Vec<PersonEvent> = events
            .into_iter()
            .map(|e| {
                serde_json::from_value(e.data).map_err(|e| ServiceError::Internal(e.to_string()))
            })
            .collect::<Result<_, _>>()?;
        let accused = events.iter().any(|e| {
            matches!(e, PersonEvent::DataRecorded { accused_unit: Some(u), .. } if *u == caller.unit.0)
        });
        if accused {
            return Err(ServiceError::PermissionDenied(
                "an accused unit may never see its accusers (art. 30)".into(),
            ));
        }
        // Need to know: only a unit handling one of the person's matters reads their data, and only
        // the narratives of the matters it handles.
        let mut handled = BTreeSet::new();
        for matter_id in events.iter().filter_map(|e| match e {
            PersonEvent::DataRecorded { matter_id, .. } => Some(matter_id),
            _ => None,
        }) {
            let matter = self.matters.load(matter_id).await?.state;
            if !matter.petitioners_visible_to(&caller.unit) {
                return Err(ServiceError::PermissionDenied(
                    "an accused unit may never see its accusers (art. 30)".into(),
                ));
            }
            if matter.needs_to_know_petitioners(&caller.unit) {
                handled.insert(matter_id.clone());
            }
        }
        if handled.is_empty() {
            return Err(ServiceError::PermissionDenied(format!(
                "unit {} handles none of this person's matters",
                caller.unit
            )));
        }
        // The read is recorded before anything is revealed.
        self.ctx
            .store
            .record_personal_data_read(&PersonalDataRead {
                read_at: Utc::now(),
                reader: caller.subject.clone(),
                unit: caller.unit.0.clone(),
                person_ref: person_ref.clone(),
                fields: "name,id_number,phone,address,narratives".into(),
                purpose: purpose.into(),
            })
            .await?;
        let Some(key) = self.vault.key(&person_ref).await? else {
            return Ok(pb::GetPersonalDataResponse {
                petitioner: None,
                narratives: Default::default(),
                erased: true,
            });
        };
        let mut identity = None;
        let mut narratives = BTreeMap::new();
        for e in &events {
            if let PersonEvent::DataRecorded {
                sealed_identity,
                sealed_narrative,
                matter_id,
                ..
            } = e
            {
                let opened: Identity =
                    serde_json::from_slice(&self.vault.open(&key, &person_ref, sealed_identity)?)
                        .map_err(|e| ServiceError::Internal(e.to_string()))?;
                identity = Some(opened);
                if let Some(n) = sealed_narrative
                    .as_ref()
                    .filter(|_| handled.contains(matter_id))
                {
                    let text = String::from_utf8_lossy(&self.vault.open(&key, &person_ref, n)?)
                        .into_owned();
                    narratives.insert(matter_id.clone(), text);
                }
            }
        }
        Ok(pb::GetPersonalDataResponse {
            petitioner: identity.map(|i| pb::Petitioner {
                name: i.name,
                id_number: i.id_number,
                phone: i.phone,
                address: i.address,
            }),
            narratives: narratives.into_iter().collect(),
            erased: false,
        })
    }

    async fn erase(
        &self,
        caller: &Caller,
        req: pb::ErasePersonRequest,
    ) -> Result<pb::ErasePersonResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ErasePerson), "erasing a person")?;
        let request_id = request_id(&req.request_id)?;
        let person_ref = required("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        let stream = format!("{PERSON_STREAM}-{person_ref}");
        if self.ctx.store.stream_version(&stream).await?.is_none() {
            return Err(ServiceError::NotFound(format!("person {person_ref}")));
        }
        let at = Utc::now();
        self.ctx.store.erase_person_key(&person_ref, at).await?;
        let event = PersonEvent::DataErased {
            at,
            person_ref: person_ref.clone(),
        };
        self.append_person_event(caller, &person_ref, &event, request_id)
            .await?;
        let version = self.ctx.store.stream_version(&stream).await?.unwrap_or(0);
        Ok(pb::ErasePersonResponse {
            result: Some(oneledger_proto::common::v1::CommandResult {
                version,
                event_types: vec![event.event_type().to_owned()],
                replayed: false,
            }),
        })
    }
}

fn unit(u: &Option<UnitId>) -> String {
    u.as_ref().map(|u| u.0.clone()).unwrap_or_default()
}

/// The domain action of a step.
fn matter_action(action: Action) -> Result<MatterAction, ServiceError> {
    let unit = |field: &str, raw: &str| required(field, raw, MAX_UNIT_ID_CHARS).map(UnitId);
    Ok(match action {
        Action::Forward(r) => MatterAction::Forward {
            to: unit("forward.unit_id", &r.unit_id)?,
            territorial_unit: optional(
                "forward.territorial_unit_id",
                &r.territorial_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::Assign(r) => MatterAction::Assign {
            to: unit("assign.unit_id", &r.unit_id)?,
            territorial_unit: optional(
                "assign.territorial_unit_id",
                &r.territorial_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::Divert(d) => MatterAction::Divert {
            diversion: match d.diversion.as_str() {
                "litigation_related" => Diversion::LitigationRelated,
                "accusation" => Diversion::Accusation,
                "other_procedure" => Diversion::OtherProcedure,
                _ => {
                    return Err(ServiceError::invalid(
                        "divert.diversion",
                        "litigation_related, accusation or other_procedure",
                    ));
                }
            },
            to: unit("divert.unit_id", &d.unit_id)?,
            channel: required("divert.channel", &d.channel, MAX_REASON_CHARS)?,
        },
        Action::Receive(_) => MatterAction::Receive,
        Action::SendReceiptNotice(_) => MatterAction::SendReceiptNotice,
        Action::ObjectToRouting(r) => MatterAction::ObjectToRouting {
            reason: required("object_to_routing.reason", &r.reason, MAX_REASON_CHARS)?,
        },
        Action::DecideRoutingObjection(d) => {
            MatterAction::DecideRoutingObjection { upheld: d.upheld }
        }
        Action::Accept(a) => MatterAction::Accept {
            class: enum_field("accept.claim_class", a.claim_class)?,
            route: optional_enum_field("accept.route", a.route)?,
            channel: optional("accept.channel", &a.channel, MAX_REASON_CHARS)?,
            accused_unit: optional(
                "accept.accused_unit_id",
                &a.accused_unit_id,
                MAX_UNIT_ID_CHARS,
            )?
            .map(UnitId),
        },
        Action::NotAccept(n) => MatterAction::NotAccept {
            reason: required("not_accept.reason", &n.reason, MAX_REASON_CHARS)?,
            competent_channel: required(
                "not_accept.competent_channel",
                &n.competent_channel,
                1000,
            )?,
        },
        Action::ExtendHandling(e) => MatterAction::ExtendHandling {
            days: e.days,
            approver: unit("extend_handling.approver_unit_id", &e.approver_unit_id)?,
            reason: required("extend_handling.reason", &e.reason, MAX_REASON_CHARS)?,
        },
        Action::IssueHandlingOpinion(o) => MatterAction::IssueHandlingOpinion {
            outcome: enum_field("issue_handling_opinion.outcome", o.outcome)?,
        },
        Action::DeliverReply(d) => MatterAction::DeliverReply {
            delivered_on: date("deliver_reply.delivered_on", &d.delivered_on)?,
        },
        Action::RequestReview(u) => MatterAction::RequestReview {
            reviewing_unit: unit("request_review.unit_id", &u.unit_id)?,
        },
        Action::IssueReviewOpinion(o) => MatterAction::IssueReviewOpinion {
            outcome: enum_field("issue_review_opinion.outcome", o.outcome)?,
        },
        Action::RequestReReview(u) => MatterAction::RequestReReview {
            re_reviewing_unit: unit("request_re_review.unit_id", &u.unit_id)?,
        },
        Action::OpenHearing(_) => MatterAction::OpenHearing,
        Action::CloseHearing(_) => MatterAction::CloseHearing,
        Action::IssueReReviewOpinion(o) => MatterAction::IssueReReviewOpinion {
            outcome: enum_field("issue_re_review_opinion.outcome", o.outcome)?,
        },
        Action::RecordFinality(_) => MatterAction::RecordFinality,
        Action::RecordImplementation(_) => MatterAction::RecordImplementation,
        Action::RecordAgreement(a) => {
            let mut obligations = Vec::with_capacity(a.obligations.len());
            for (i, o) in a.obligations.into_iter().enumerate() {
                let field = |name: &str| format!("record_agreement.obligations[{i}].{name}");
                let obligor = match (
                    optional(
                        &field("obligor_unit_id"),
                        &o.obligor_unit_id,
                        MAX_UNIT_ID_CHARS,
                    )?,
                    optional(
                        &field("obligor_person_ref"),
                        &o.obligor_person_ref,
                        MAX_ITEM_ID_CHARS,
                    )?,
                ) {
                    (Some(unit), None) => Obligor::Unit(UnitId(unit)),
                    (None, Some(person)) => Obligor::Petitioner(PersonRef(person)),
                    _ => {
                        return Err(ServiceError::invalid(
                            field("obligor_unit_id"),
                            "name exactly one obligor: a unit or a person_ref",
                        ));
                    }
                };
                obligations.push(Obligation {
                    obligation_id: o.obligation_id,
                    obligor,
                    description: o.description,
                    due_on: date(&field("due_on"), &o.due_on)?,
                });
            }
            MatterAction::RecordAgreement {
                agreement_id: a.agreement_id,
                kind: if a.mediation {
                    AgreementKind::Mediation
                } else {
                    AgreementKind::Settlement
                },
                obligations,
            }
        }
        Action::RecordObligation(o) => {
            if o.met {
                MatterAction::RecordObligationMet {
                    agreement_id: o.agreement_id,
                    obligation_id: o.obligation_id,
                }
            } else {
                MatterAction::RecordObligationBreached {
                    agreement_id: o.agreement_id,
                    obligation_id: o.obligation_id,
                }
            }
        }
    })
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
        let matter_id = required("matter_id", &req.matter_id, MAX_ITEM_ID_CHARS)?;
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
            matter: Some(self.matter(&loaded.state, Some(&caller))),
            version: loaded.version,
        }))
    }

    async fn get_public_status(
        &self,
        request: Request<pb::GetPublicStatusRequest>,
    ) -> Result<Response<pb::GetPublicStatusResponse>, Status> {
        let req = request.into_inner();
        let receipt = required("receipt_number", &req.receipt_number, MAX_ITEM_ID_CHARS)?;
        let code = required("query_code", &req.query_code, MAX_ITEM_ID_CHARS)?;
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
        let today = legal_date(Utc::now());
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
        let person = optional("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
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
            reads: reads
                .into_iter()
                .map(|r| pb::PersonalDataRead {
                    read_at: r.read_at.to_rfc3339(),
                    reader: r.reader,
                    unit_id: r.unit,
                    person_ref: r.person_ref,
                    fields: r.fields,
                    purpose: r.purpose,
                })
                .collect(),
        }))
    }
}
