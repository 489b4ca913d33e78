//! Registration (登记): the petitioners' stable pseudonyms, their earlier matters found for the domain to
//! judge (art. 36 ¶3), and their personal data sealed into the registration's own append.

use oneledger_domain::ids::{MAX_ITEM_ID_CHARS, MAX_UNIT_ID_CHARS};
use oneledger_domain::petition::{
    Channel, ClaimClass, IntakeFindings, MAX_CATEGORY_CHARS, MatterAction, MatterSummary,
    PersonalField, PetitionMatter, Registration, SealedPersonalData,
};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{Aggregate, Command, MatterId, PersonRef, UnitId};
use oneledger_proto::convert::{enum_field, optional, optional_id, required, required_id};
use oneledger_proto::petition::v1 as pb;
use oneledger_store::ExpectedVersion;
use prost::Message as _;
use sha2::{Digest, Sha256};

use super::PetitionService;
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::pii::{Identity, query_code_digest};
use crate::repo::{command_digest, request_id};

/// Most petitioners on one petition.
const MAX_PETITIONERS: usize = 100;
/// Longest narrative, in characters.
const MAX_NARRATIVE_CHARS: usize = 20_000;
/// How a ref of one petition (a person given by name alone) is derived: never linked to another.
pub(super) const ONE_PETITION: &str = "petition";

/// A registration as the caller asked it, its fields checked.
pub(super) struct Asked {
    pub(super) identities: Vec<Identity>,
    narrative: Option<String>,
    pub(super) channel: Channel,
    pub(super) claim_class: ClaimClass,
    pub(super) territory: UnitId,
    pub(super) accused_unit: Option<UnitId>,
    pub(super) respondent: Option<UnitId>,
    pub(super) category: Option<String>,
    same_matter_as: Option<String>,
}

pub(super) fn asked(req: &pb::RegisterPetitionRequest) -> Result<Asked, ServiceError> {
    if req.petitioners.is_empty() || req.petitioners.len() > MAX_PETITIONERS {
        return Err(ServiceError::invalid(
            "petitioners",
            format!("1 to {MAX_PETITIONERS} petitioners"),
        ));
    }
    let mut identities = Vec::with_capacity(req.petitioners.len());
    for (i, p) in req.petitioners.iter().enumerate() {
        let field = |name: &str| format!("petitioners[{i}].{name}");
        identities.push(Identity {
            name: required(&field("name"), &p.name, 100)?,
            id_number: optional(&field("id_number"), &p.id_number, 32)?.unwrap_or_default(),
            phone: optional(&field("phone"), &p.phone, 32)?.unwrap_or_default(),
            address: optional(&field("address"), &p.address, 200)?.unwrap_or_default(),
        });
    }
    let unit = |field: &str, raw: &str| {
        Ok::<_, ServiceError>(optional_id(field, raw, MAX_UNIT_ID_CHARS)?.map(UnitId))
    };
    Ok(Asked {
        identities,
        narrative: optional("narrative", &req.narrative, MAX_NARRATIVE_CHARS)?,
        channel: enum_field("channel", req.channel)?,
        claim_class: enum_field("claim_class", req.claim_class)?,
        territory: UnitId(required_id(
            "territory_unit_id",
            &req.territory_unit_id,
            MAX_UNIT_ID_CHARS,
        )?),
        accused_unit: unit("accused_unit_id", &req.accused_unit_id)?,
        respondent: unit("respondent_unit_id", &req.respondent_unit_id)?,
        category: optional("category", &req.category, MAX_CATEGORY_CHARS)?,
        same_matter_as: optional_id("same_matter_as", &req.same_matter_as, MAX_ITEM_ID_CHARS)?,
    })
}

impl PetitionService {
    pub(super) async fn register(
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
        let asked = asked(&req)?;

        // Everything derived from the request id, so a retry rebuilds the same registration.
        let seed = Sha256::digest(request_id.as_bytes());
        let matter_id = format!("PM{}", hex::encode(&seed[..10]).to_uppercase());
        let (person_refs, derivations) = self.person_refs(&asked.identities, &seed).await?;
        let query_code = self.vault.query_code(&matter_id)?;

        // Until this registration is recorded, no other of the same people starts in this process.
        let _people = self.people.lock(&person_refs).await;
        let prior = self.findings(&person_refs, &asked, req.new_facts).await?;
        let mut registration = Registration {
            matter_id: MatterId(matter_id.clone()),
            channel: asked.channel,
            claim_class: asked.claim_class,
            title: req.title.clone(),
            petitioners: person_refs.iter().map(|p| PersonRef(p.clone())).collect(),
            collective_size: req.collective_size,
            territory: asked.territory.clone(),
            receipt_number: matter_id.clone(),
            query_code_digest: query_code_digest(&query_code),
            accused_unit: asked.accused_unit.clone(),
            category: asked.category.clone(),
            respondent: asked.respondent.clone(),
            personal_data: vec![],
            prior,
        };
        // Decided once before anything is sealed: a registration the domain refuses (an empty title, a
        // territory that is no territory, …) leaves no data key behind. The append decides again.
        let trial = Command {
            at: self.ctx.clock.now(),
            unit: caller.unit.clone(),
            action: MatterAction::Register(registration.clone()),
        };
        PetitionMatter::default().decide(&trial, &self.ctx.rules)?;
        registration.personal_data = self.seal(&person_refs, &derivations, &asked).await?;

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
            matter: Some(self.matter_with_original(&outcome.state, caller).await?),
            result: Some(outcome.result()),
        })
    }

    /// What intake knows of the petitioners' earlier matters, as they stand today.
    async fn findings(
        &self,
        person_refs: &[String],
        asked: &Asked,
        new_facts: bool,
    ) -> Result<IntakeFindings, ServiceError> {
        let mut earlier = Vec::new();
        let today = self.ctx.clock.today();
        for matter in self.people.matters_of(person_refs).await? {
            let state = self.matters.load(matter.as_str()).await?.state;
            earlier.extend(state.summary(&self.ctx.rules, today));
        }
        // An earlier matter names its petitioners as they were then: by their refs now.
        self.people
            .make_current(earlier.iter_mut().map(|m| &mut m.petitioners))
            .await?;
        let same_matter_as = match &asked.same_matter_as {
            Some(original) => Some(self.summary_of("same_matter_as", original).await?),
            None => None,
        };
        Ok(IntakeFindings {
            earlier,
            same_matter_as,
            new_facts,
        })
    }

    /// Matter `id`, named in `field`, as another matter's intake sees it today; NOT_FOUND naming the
    /// field when there is none.
    pub(super) async fn summary_of(
        &self,
        field: &str,
        id: &str,
    ) -> Result<MatterSummary, ServiceError> {
        let id = required_id(field, id, MAX_ITEM_ID_CHARS)?;
        let loaded = self.matters.load(&id).await?;
        loaded
            .state
            .summary(&self.ctx.rules, self.ctx.clock.today())
            .ok_or_else(|| ServiceError::NotFound(format!("{field}: matter {id}")))
    }

    /// Each petitioner's data sealed under their own key, the narrative under the first petitioner's.
    pub(super) async fn seal(
        &self,
        person_refs: &[String],
        derivations: &[String],
        asked: &Asked,
    ) -> Result<Vec<SealedPersonalData>, ServiceError> {
        let mut sealed = Vec::with_capacity(person_refs.len());
        let people = person_refs.iter().zip(derivations).zip(&asked.identities);
        for (i, ((person_ref, derived_under), identity)) in people.enumerate() {
            let key = self
                .vault
                .key_for_new_data(person_ref)
                .await?
                .ok_or_else(|| {
                    ServiceError::PermissionDenied(format!("person {person_ref} was erased"))
                })?;
            let plain = serde_json::to_vec(identity)
                .map_err(|e| ServiceError::Internal(format!("encoding an identity: {e}")))?;
            let narrative = asked.narrative.as_ref().filter(|_| i == 0);
            let mut fields = identity.fields();
            if narrative.is_some() {
                fields.push(PersonalField::Narrative);
            }
            sealed.push(SealedPersonalData {
                person_ref: PersonRef(person_ref.clone()),
                fields,
                sealed_identity: self.vault.seal(&key, person_ref, &plain)?,
                sealed_narrative: narrative
                    .map(|text| self.vault.seal(&key, person_ref, text.as_bytes()))
                    .transpose()?,
                derived_under: derived_under.clone(),
            });
        }
        Ok(sealed)
    }

    /// Each petitioner's ref and how it was derived: their stable pseudonym (`hmac:<key id>`), or for
    /// one given by name alone a ref of this petition (`petition`; derived from the request, so a retry
    /// names the same people). Refuses the same person named twice.
    pub(super) async fn person_refs(
        &self,
        identities: &[Identity],
        seed: &[u8],
    ) -> Result<(Vec<String>, Vec<String>), ServiceError> {
        let mut refs: Vec<String> = Vec::with_capacity(identities.len());
        let mut derivations = Vec::with_capacity(identities.len());
        for (i, identity) in identities.iter().enumerate() {
            let (person_ref, derived_under) =
                match self.pseudonyms.current_ref(&self.vault, identity).await? {
                    Some(stable) => (stable, self.pseudonyms.derivation()),
                    None => (
                        format!(
                            "p-{}",
                            hex::encode(
                                &Sha256::digest([seed, &(i as u32).to_be_bytes()].concat())[..12]
                            )
                        ),
                        ONE_PETITION.to_owned(),
                    ),
                };
            if let Some(first) = refs.iter().position(|r| *r == person_ref) {
                return Err(ServiceError::invalid(
                    format!("petitioners[{i}]"),
                    format!("the same person as petitioners[{first}]"),
                ));
            }
            refs.push(person_ref);
            derivations.push(derived_under);
        }
        Ok((refs, derivations))
    }
}
