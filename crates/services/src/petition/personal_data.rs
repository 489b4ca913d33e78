//! A person's data and rights (PIPL arts. 6, 28, 44–47): the audited read on a need-to-know basis, the
//! access report of what is held and who read it, and erasure across all of the person's matters.

use std::collections::{BTreeMap, BTreeSet};

use oneledger_domain::ids::MAX_ITEM_ID_CHARS;
use oneledger_domain::petition::{MatterEvent, PersonalField, PetitionMatter};
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{Agency, MatterId, Role};
use oneledger_proto::common::v1::CommandResult;
use oneledger_proto::convert::{enum_field, known, required_id};
use oneledger_proto::petition::v1 as pb;
use oneledger_store::{AppendRequest, EventMetadata, ExpectedVersion, NewEvent, PersonalDataRead};
use uuid::Uuid;

use super::{PERSON_STREAM, PetitionService};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::pii::{Identity, PersonEvent};
use crate::repo::request_id;

/// Most reads an access report lists.
const MAX_REPORTED_READS: usize = 10_000;

/// What is held of one person for one matter, sealed.
struct Held {
    /// The ref it was sealed for (the person's current one, or an earlier one linked to it).
    sealed_for: String,
    matter_id: MatterId,
    fields: Vec<PersonalField>,
    sealed_identity: String,
    sealed_narrative: Option<String>,
}

/// One person's matters and what is held for each.
struct Holdings {
    matters: Vec<(PetitionMatter, Vec<Held>)>,
}

impl Holdings {
    /// Refuses a unit without a need to know: an accused unit of any of the matters (art. 30), and a
    /// unit handling none of them. The matters it handles otherwise.
    fn handled_by(&self, caller: &Caller) -> Result<BTreeSet<MatterId>, ServiceError> {
        let mut handled = BTreeSet::new();
        for (matter, _) in &self.matters {
            if !matter.petitioners_visible_to(&caller.unit) {
                return Err(ServiceError::PermissionDenied(
                    "an accused unit may never see its accusers (art. 30)".into(),
                ));
            }
            if matter.needs_to_know_petitioners(&caller.unit) {
                handled.extend(matter.matter_id.clone());
            }
        }
        if handled.is_empty() {
            return Err(ServiceError::PermissionDenied(format!(
                "unit {} handles none of this person's matters",
                caller.unit
            )));
        }
        Ok(handled)
    }
}

impl PetitionService {
    /// The person's matters and what each holds of them; NOT_FOUND when the system knows no such person.
    async fn holdings(&self, person_ref: &str) -> Result<Holdings, ServiceError> {
        let refs = self.people.refs_of(person_ref).await?;
        let ids = self.people.matters_of(&refs).await?;
        if ids.is_empty() {
            return Err(ServiceError::NotFound(format!(
                "person_ref: person {person_ref}"
            )));
        }
        let mut by_matter: BTreeMap<MatterId, Vec<Held>> = BTreeMap::new();
        // Data recorded by earlier versions, in the person's own streams.
        for (sealed_for, recorded) in self.person_streams(&refs).await? {
            let event: PersonEvent = serde_json::from_value(recorded.data)
                .map_err(|e| ServiceError::Internal(format!("an unreadable person event: {e}")))?;
            if let PersonEvent::DataRecorded {
                matter_id,
                sealed_identity,
                sealed_narrative,
                ..
            } = event
            {
                let mut fields = PersonalField::ALL[..4].to_vec();
                fields.extend(sealed_narrative.as_ref().map(|_| PersonalField::Narrative));
                let matter_id = MatterId(matter_id);
                by_matter.entry(matter_id.clone()).or_default().push(Held {
                    sealed_for,
                    matter_id,
                    fields,
                    sealed_identity,
                    sealed_narrative,
                });
            }
        }
        let mut matters = Vec::with_capacity(ids.len());
        for id in ids {
            let events = self.matters.events(id.as_str()).await?;
            let mut held = by_matter.remove(&id).unwrap_or_default();
            for event in &events {
                if let MatterEvent::PersonalDataRecorded {
                    person_ref: whose,
                    fields,
                    sealed_identity,
                    sealed_narrative,
                    ..
                } = event
                    && refs.iter().any(|r| r == whose.as_str())
                {
                    held.push(Held {
                        sealed_for: whose.0.clone(),
                        matter_id: id.clone(),
                        fields: fields.clone(),
                        sealed_identity: sealed_identity.clone(),
                        sealed_narrative: sealed_narrative.clone(),
                    });
                }
            }
            let state = events.iter().fold(PetitionMatter::default(), |s, e| {
                oneledger_domain::Aggregate::evolve(s, e)
            });
            matters.push((state, held));
        }
        Ok(Holdings { matters })
    }

    /// The events of each of `refs`' own streams, with the ref.
    async fn person_streams(
        &self,
        refs: &[String],
    ) -> Result<Vec<(String, oneledger_store::RecordedEvent)>, ServiceError> {
        let mut out = Vec::new();
        for r in refs {
            let stream = format!("{PERSON_STREAM}-{r}");
            for recorded in self.ctx.store.read_stream(&stream, 1, 10_000).await? {
                out.push((r.clone(), recorded));
            }
        }
        Ok(out)
    }

    pub(super) async fn personal_data(
        &self,
        caller: &Caller,
        req: pb::GetPersonalDataRequest,
    ) -> Result<pb::GetPersonalDataResponse, ServiceError> {
        caller.require_any(
            policy::roles(Step::ReadPersonalData),
            "reading personal data",
        )?;
        let person_ref = required_id("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        let purpose = purpose(req.purpose)?;
        let fields = requested_fields(&req.fields)?;
        let holdings = self.holdings(&person_ref).await?;
        let handled = holdings.handled_by(caller)?;
        // The read is recorded before anything is revealed, naming exactly the fields read.
        self.ctx
            .store
            .record_personal_data_read(&PersonalDataRead {
                read_at: self.ctx.clock.now(),
                reader: caller.subject.clone(),
                unit: caller.unit.0.clone(),
                person_ref: person_ref.clone(),
                fields: fields
                    .iter()
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                purpose: purpose.into(),
            })
            .await?;
        if self.vault.is_erased(&person_ref).await? {
            return Ok(pb::GetPersonalDataResponse {
                petitioner: None,
                narratives: Default::default(),
                erased: true,
            });
        }
        let mut keys = BTreeMap::new();
        let mut identity: Option<Identity> = None;
        let mut narratives = BTreeMap::new();
        for held in holdings.matters.iter().flat_map(|(_, held)| held) {
            if !keys.contains_key(&held.sealed_for) {
                let key = self.vault.key(&held.sealed_for).await?;
                keys.insert(held.sealed_for.clone(), key);
            }
            let Some(Some(key)) = keys.get(&held.sealed_for) else {
                continue;
            };
            let opened = self
                .vault
                .open(key, &held.sealed_for, &held.sealed_identity)?;
            identity = Some(
                serde_json::from_slice(&opened)
                    .map_err(|e| ServiceError::Internal(format!("an unreadable identity: {e}")))?,
            );
            let wanted =
                fields.contains(&PersonalField::Narrative) && handled.contains(&held.matter_id);
            if let Some(sealed) = held.sealed_narrative.as_ref().filter(|_| wanted) {
                let text = self.vault.open(key, &held.sealed_for, sealed)?;
                narratives.insert(
                    held.matter_id.0.clone(),
                    String::from_utf8_lossy(&text).into_owned(),
                );
            }
        }
        let pick = |field: PersonalField, value: String| {
            if fields.contains(&field) {
                value
            } else {
                String::new()
            }
        };
        let identity_wanted = fields.iter().any(|f| *f != PersonalField::Narrative);
        Ok(pb::GetPersonalDataResponse {
            petitioner: identity
                .filter(|_| identity_wanted)
                .map(|i| pb::Petitioner {
                    name: pick(PersonalField::Name, i.name),
                    id_number: pick(PersonalField::IdNumber, i.id_number),
                    phone: pick(PersonalField::Phone, i.phone),
                    address: pick(PersonalField::Address, i.address),
                }),
            narratives: narratives.into_iter().collect(),
            erased: false,
        })
    }

    /// What is held of a person and who read it: to an auditor, or to a pii_reader with a need to know.
    pub(super) async fn access_report(
        &self,
        caller: &Caller,
        req: pb::GetPersonAccessReportRequest,
    ) -> Result<pb::GetPersonAccessReportResponse, ServiceError> {
        caller.require_any(
            policy::roles(Step::ReadAccessReport),
            "reading a person's access report",
        )?;
        let person_ref = required_id("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        let holdings = self.holdings(&person_ref).await?;
        if !caller.has(Role::Auditor) {
            holdings.handled_by(caller)?;
        }
        let today = self.ctx.clock.today();
        let matters = holdings
            .matters
            .iter()
            .map(|(state, held)| {
                let fields: BTreeSet<PersonalField> =
                    held.iter().flat_map(|h| h.fields.iter().copied()).collect();
                pb::HeldMatter {
                    matter_id: state
                        .matter_id
                        .as_ref()
                        .map(|m| m.0.clone())
                        .unwrap_or_default(),
                    stage: state.stage_on(&self.ctx.rules, today).to_string(),
                    fields: fields
                        .into_iter()
                        .map(|f| pb::PersonalField::from(f) as i32)
                        .collect(),
                }
            })
            .collect();
        let reads = self
            .ctx
            .store
            .personal_data_reads(Some(&person_ref), MAX_REPORTED_READS)
            .await?;
        Ok(pb::GetPersonAccessReportResponse {
            matters,
            reads: reads.into_iter().map(super::read_to_wire).collect(),
            erased: self.vault.is_erased(&person_ref).await?,
        })
    }

    /// Destroys the person's data key: every sealed field of theirs, in every matter, is gone for good;
    /// the matters still replay and count.
    pub(super) async fn erase(
        &self,
        caller: &Caller,
        req: pb::ErasePersonRequest,
    ) -> Result<pb::ErasePersonResponse, ServiceError> {
        caller.require_any(policy::roles(Step::ErasePerson), "erasing a person")?;
        let request_id = request_id(&req.request_id)?;
        let person_ref = required_id("person_ref", &req.person_ref, MAX_ITEM_ID_CHARS)?;
        if self
            .people
            .matters_of(std::slice::from_ref(&person_ref))
            .await?
            .is_empty()
        {
            return Err(ServiceError::NotFound(format!(
                "person_ref: person {person_ref}"
            )));
        }
        let stream = format!("{PERSON_STREAM}-{person_ref}");
        // A retry answers from the record: the keys are gone and the event written once.
        if self.ctx.store.request_outcome(request_id).await?.is_none() {
            let at = self.ctx.clock.now();
            // Every ref of the person: data recorded under an earlier ref is theirs too.
            for r in self.people.refs_of(&person_ref).await? {
                self.ctx.store.erase_person_key(&r, at).await?;
            }
            let event = PersonEvent::DataErased {
                at,
                person_ref: person_ref.clone(),
            };
            self.append_person_event(caller, &stream, &event, request_id)
                .await?;
        }
        let version = self.ctx.store.stream_version(&stream).await?.unwrap_or(0);
        Ok(pb::ErasePersonResponse {
            result: Some(CommandResult {
                version,
                event_types: vec!["petition.person.data_erased".to_owned()],
                replayed: false,
            }),
        })
    }

    pub(super) async fn append_person_event(
        &self,
        caller: &Caller,
        stream: &str,
        event: &PersonEvent,
        request_id: Uuid,
    ) -> Result<(), ServiceError> {
        let at = self.ctx.clock.now();
        self.ctx
            .store
            .append(AppendRequest {
                stream_id: stream.to_owned(),
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
                        acting_role: caller.acting_role(&[Role::PiiReader]).to_string(),
                        correlation_id: crate::call::correlation().unwrap_or(request_id),
                        causation_id: None,
                        origin: None,
                    },
                }],
                request_id,
                command: None,
            })
            .await?;
        Ok(())
    }
}

fn purpose(raw: i32) -> Result<&'static str, ServiceError> {
    Ok(match known::<pb::Purpose>("purpose", raw)? {
        pb::Purpose::Handling => "handling",
        pb::Purpose::Delivery => "delivery",
        pb::Purpose::Hearing => "hearing",
        pb::Purpose::Review => "review",
        pb::Purpose::Unspecified => return Err(ServiceError::invalid("purpose", "required")),
    })
}

/// The fields a read names: at least one, each once.
fn requested_fields(raw: &[i32]) -> Result<BTreeSet<PersonalField>, ServiceError> {
    if raw.is_empty() {
        return Err(ServiceError::invalid(
            "fields",
            "name the fields the purpose needs (name, id_number, phone, address, narrative)",
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, f)| Ok(enum_field(&format!("fields[{i}]"), *f)?))
        .collect()
}
