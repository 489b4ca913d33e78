//! Earlier refs of a person, linked to their current one: refs recorded before refs were stable (derived
//! from the request), and refs derived under a pseudonym key since replaced (re-keying: set a new key and
//! restart). Each sealed identity in the log is opened once per key, under a lease so one process of
//! many does it; an identity that now derives another ref is linked to it (`PersonEvent::RefLinked`), so
//! the person's earlier matters, data and erasure go with the ref they have now.
//!
//! Opening identities here is the service's own upgrade, not a person's read: nothing is revealed, and
//! the count linked is logged. Refs of one petition (a person given by name alone) stay as they are.

use std::time::Duration;

use oneledger_domain::petition::MatterEvent;
use oneledger_domain::{Agency, Role, UnitKind, streams};
use oneledger_store::RecordedEvent;
use serde::Deserialize as _;
use uuid::Uuid;

use super::{MATTER_STREAM, PERSON_STREAM, PetitionService};
use crate::auth::Caller;
use crate::error::ServiceError;
use crate::pii::{Identity, PersonEvent};
use crate::repo::derived_request_id;

/// How long one pass holds the lease without renewing it (it renews with every page).
const LEASE: Duration = Duration::from_secs(60);
/// Events read per page.
const PAGE: usize = 1000;

impl PetitionService {
    /// Links every earlier ref whose sealed identity derives another ref under the current key, from
    /// where the last pass under this key stopped; how many it linked. Nothing when another process
    /// holds the pass.
    pub async fn relink_people(&self) -> Result<u64, ServiceError> {
        let store = &self.ctx.store;
        let name = format!("person-relink:{}", self.pseudonyms.key_id());
        let holder = format!("{name}:{}", Uuid::new_v4());
        let caller = self.system_caller()?;
        let mut linked = 0;
        loop {
            if !store.acquire_lease(&name, &holder, LEASE).await? {
                return Ok(linked);
            }
            let from = store.checkpoint(&name).await? + 1;
            let page = store.read_all(from, PAGE).await?;
            for event in &page {
                for (person_ref, sealed) in sealed_identities(event)? {
                    linked += u64::from(self.relink(&caller, &person_ref, &sealed).await?);
                }
            }
            let Some(last) = page.last() else { break };
            if !store.save_checkpoint(&name, &holder, last.position).await? {
                return Ok(linked);
            }
            if page.len() < PAGE {
                break;
            }
        }
        store.release_lease(&name, &holder).await?;
        Ok(linked)
    }

    /// Links `person_ref` to the ref its identity derives now, unless it is that ref, linked already,
    /// erased, or a ref of one petition.
    async fn relink(
        &self,
        caller: &Caller,
        person_ref: &str,
        sealed_identity: &str,
    ) -> Result<bool, ServiceError> {
        if self.people.is_linked(person_ref).await? {
            return Ok(false);
        }
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
            at: chrono::Utc::now(),
            from_ref: person_ref.to_owned(),
            person_ref: current.clone(),
        };
        // One link per pair, however many passes see it.
        let request_id =
            derived_request_id(format!("{person_ref}\0{current}").as_bytes(), b"ref-linked");
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

/// The sealed identities an event holds, by ref: a registration's personal data, or data recorded in
/// a person's own stream by earlier versions.
fn sealed_identities(event: &RecordedEvent) -> Result<Vec<(String, String)>, ServiceError> {
    let unreadable = |e: serde_json::Error| {
        ServiceError::Internal(format!(
            "{} v{}: unreadable event: {e}",
            event.stream_id, event.stream_version
        ))
    };
    Ok(match streams::split(&event.stream_id) {
        Some((MATTER_STREAM, _)) => match MatterEvent::deserialize(&event.data) {
            Ok(MatterEvent::PersonalDataRecorded {
                person_ref,
                sealed_identity,
                ..
            }) => vec![(person_ref.0, sealed_identity)],
            Ok(_) => vec![],
            Err(e) => return Err(unreadable(e)),
        },
        Some((PERSON_STREAM, _)) => {
            match PersonEvent::deserialize(&event.data).map_err(unreadable)? {
                PersonEvent::DataRecorded {
                    person_ref,
                    sealed_identity,
                    ..
                } => vec![(person_ref, sealed_identity)],
                _ => vec![],
            }
        }
        _ => vec![],
    })
}
