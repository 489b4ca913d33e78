//! Earlier refs of a person, linked to their current one: refs recorded before refs were stable (derived
//! from the request), and refs derived under a pseudonym key since replaced (re-keying: set a new key and
//! restart). Every sealed identity records how its ref was derived, so the person index knows which
//! refs a key has not derived; each such identity is opened once and, when it now derives another ref,
//! linked to it (`PersonEvent::RefLinked`), so the person's earlier matters, data and erasure go with the
//! ref they have now. Links are recorded under a request id of the pair, so two processes doing this
//! at once record each link once.
//!
//! Opening identities here is the service's own upgrade, not a person's read: nothing is revealed, and
//! the count linked is logged. Refs of one petition (a person given by name alone) stay as they are.

use oneledger_domain::petition::MatterEvent;
use oneledger_domain::{Agency, Role, UnitKind};
use uuid::Uuid;

use super::intake::ONE_PETITION;
use super::people::SealedAt;
use super::{PERSON_STREAM, PetitionService};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::pii::{Identity, PersonEvent};
use crate::repo::derived_request_id;

impl PetitionService {
    /// Reads the petition log into the person index, so the first registration does not wait for it.
    pub async fn warm_people(&self) -> Result<(), ServiceError> {
        self.people.warm().await
    }

    /// Links every ref with sealed data that the current key did not derive to the ref its identity
    /// derives now; how many it linked.
    pub async fn relink_people(&self) -> Result<u64, ServiceError> {
        let caller = self.system_caller()?;
        let mut linked = 0;
        let derivation = self.pseudonyms.derivation();
        for (person_ref, at) in self.people.to_relink(&derivation, ONE_PETITION).await? {
            let Some(sealed) = self.sealed_identity(&person_ref, &at).await? else {
                continue;
            };
            linked += u64::from(self.relink(&caller, &person_ref, &sealed).await?);
        }
        Ok(linked)
    }

    /// The identity sealed for `person_ref` where the index found it.
    async fn sealed_identity(
        &self,
        person_ref: &str,
        at: &SealedAt,
    ) -> Result<Option<String>, ServiceError> {
        Ok(match at {
            SealedAt::Matter(matter) => self
                .matters
                .events(matter.as_str())
                .await?
                .into_iter()
                .find_map(|e| match e {
                    MatterEvent::PersonalDataRecorded {
                        person_ref: whose,
                        sealed_identity,
                        ..
                    } if whose.as_str() == person_ref => Some(sealed_identity),
                    _ => None,
                }),
            SealedAt::PersonStream => {
                let stream = format!("{PERSON_STREAM}-{person_ref}");
                let mut found = None;
                for recorded in self.ctx.store.read_stream(&stream, 1, 10_000).await? {
                    if let Ok(PersonEvent::DataRecorded {
                        sealed_identity, ..
                    }) = serde_json::from_value(recorded.data)
                    {
                        found = Some(sealed_identity);
                        break;
                    }
                }
                found
            }
        })
    }

    /// Links `person_ref` to the ref its identity derives now, unless it is that ref or erased.
    async fn relink(
        &self,
        caller: &Caller,
        person_ref: &str,
        sealed_identity: &str,
    ) -> Result<bool, ServiceError> {
        let Some(key) = self.vault.key(person_ref).await? else {
            return Ok(false);
        };
        let identity: Identity =
            serde_json::from_slice(&self.vault.open(&key, person_ref, sealed_identity)?)
                .map_err(|e| ServiceError::Internal(format!("an unreadable identity: {e}")))?;
        let Some(current) = self.pseudonyms.current_ref(&self.vault, &identity).await? else {
            return Ok(false);
        };
        if current == person_ref {
            return Ok(false);
        }
        let event = PersonEvent::RefLinked {
            at: self.ctx.clock.now(),
            from_ref: person_ref.to_owned(),
            person_ref: current.clone(),
        };
        // One link per pair, however many passes see it.
        let request_id: Uuid =
            derived_request_id(format!("{person_ref}\0{current}").as_bytes(), b"ref-linked");
        if self.ctx.store.request_outcome(request_id).await?.is_some() {
            return Ok(false);
        }
        self.append_person_event(
            caller,
            &format!("{PERSON_STREAM}-{current}"),
            &event,
            request_id,
        )
        .await?;
        Ok(true)
    }

    /// Who the service acts as when it links refs itself: the district's petition office.
    fn system_caller(&self) -> Result<Caller, ServiceError> {
        let office = self
            .ctx
            .rules
            .directory
            .units()
            .find(|u| u.kind == UnitKind::PetitionOffice)
            .ok_or_else(|| {
                ServiceError::Internal("the unit directory lists no petition office".into())
            })?;
        Ok(Caller {
            subject: "person-relink".into(),
            agency: Agency::Petition,
            unit: office.id.clone(),
            roles: vec![Role::PiiReader],
        })
    }
}
