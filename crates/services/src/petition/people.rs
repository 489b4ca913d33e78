//! Who petitioned in which matters: each person ref's matters, read from the petition office's own log,
//! so intake finds a petitioner's earlier matters (art. 36 ¶3) and a person's rights reach all of them.
//!
//! The index lives in memory and catches up with the log before every use: a matter's petitioners are in
//! its first event (its registration), and data recorded by earlier versions in a person's own stream
//! names its matter. Catching up costs the events appended since the last use, so no lookup grows with
//! the district's history; the first use reads the log once.
//!
//! Registrations of the same person in this process are serialised by [`PersonIndex::lock`], so two at
//! once cannot both miss each other. (Several petition processes over one store are not: a second one
//! may register a repeat as a first petition in the same instant; the clerk's `same_matter_as` remains.)

use std::collections::HashMap;
use std::sync::Arc;

use oneledger_domain::petition::MatterEvent;
use oneledger_domain::{MatterId, PersonRef, streams};
use oneledger_store::{EventLog, RecordedEvent};
use serde::Deserialize as _;
use sha2::{Digest, Sha256};
use tokio::sync::{Mutex, MutexGuard};

use super::{MATTER_STREAM, PERSON_STREAM};
use crate::error::ServiceError;
use crate::pii::PersonEvent;

/// Events read per page while catching up.
const PAGE: usize = 1000;
/// Locks registrations are spread over: two people rarely share one, and a person always takes the same.
const STRIPES: usize = 64;

/// Person ref → matters, from the petition log.
#[derive(Debug)]
pub struct PersonIndex {
    log: Arc<dyn EventLog>,
    state: Mutex<IndexState>,
    stripes: Vec<Mutex<()>>,
}

#[derive(Debug, Default)]
struct IndexState {
    /// The last log position applied.
    position: u64,
    /// Each ref's matters, in registration order.
    matters: HashMap<String, Vec<MatterId>>,
    /// The earlier refs linked to each ref ([`PersonEvent::RefLinked`]).
    earlier: HashMap<String, Vec<String>>,
    /// The ref each earlier ref was linked to.
    linked_to: HashMap<String, String>,
    /// For each ref with sealed data, how it was derived (None: recorded before that was kept) and
    /// where its first sealed identity is: what a new pseudonym key must link.
    sealed: HashMap<String, (Option<String>, SealedAt)>,
}

/// Where a ref's sealed identity is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealedAt {
    /// In a matter's registration.
    Matter(MatterId),
    /// In the person's own stream (data recorded by earlier versions).
    PersonStream,
}

impl IndexState {
    /// `person` and every earlier ref linked to it, however many times the key changed.
    fn refs_of(&self, person: &str) -> Vec<String> {
        let mut refs = vec![person.to_owned()];
        let mut next = 0;
        while let Some(current) = refs.get(next).cloned() {
            for earlier in self.earlier.get(&current).into_iter().flatten() {
                if !refs.contains(earlier) {
                    refs.push(earlier.clone());
                }
            }
            next += 1;
        }
        refs
    }

    /// The person's current ref for any of their refs.
    fn current(&self, person: &str) -> String {
        let mut current = person;
        // Links never form a cycle (a ref is linked once, to a ref derived after it); the bound guards
        // a corrupt log all the same.
        for _ in 0..self.linked_to.len() {
            match self.linked_to.get(current) {
                Some(next) => current = next,
                None => break,
            }
        }
        current.to_owned()
    }
}

/// What one event says about people.
enum Fact {
    /// A person petitioned in a matter.
    In(String, MatterId),
    /// A person's identity was sealed there, under a ref derived so.
    Sealed(String, Option<String>, SealedAt),
    /// An earlier ref is the same person as a current one.
    Linked {
        from_ref: String,
        person_ref: String,
    },
}

impl PersonIndex {
    /// An index over the petition office's log, empty until first used.
    pub fn new(log: Arc<dyn EventLog>) -> Self {
        PersonIndex {
            log,
            state: Mutex::new(IndexState::default()),
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Holds off other registrations of any of `people` in this process until the guard is dropped.
    pub async fn lock(&self, people: &[String]) -> Vec<MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = people
            .iter()
            .map(|p| usize::from(Sha256::digest(p.as_bytes())[0]) % STRIPES)
            .collect();
        // Always in one order, so two registrations sharing people cannot wait on each other.
        stripes.sort_unstable();
        stripes.dedup();
        let mut guards = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            guards.push(self.stripes[stripe].lock().await);
        }
        guards
    }

    /// The matters of any of `people` (under any of their refs), each once, as the log stands now.
    pub async fn matters_of(&self, people: &[String]) -> Result<Vec<MatterId>, ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        let mut found: Vec<MatterId> = Vec::new();
        for person in people {
            for r in state.refs_of(person) {
                for matter in state.matters.get(&r).into_iter().flatten() {
                    if !found.contains(matter) {
                        found.push(matter.clone());
                    }
                }
            }
        }
        Ok(found)
    }

    /// Reads the log so far, so the first registration does not wait for it.
    pub async fn warm(&self) -> Result<(), ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await
    }

    /// `person` and every earlier ref of theirs: whose data is theirs, and what their erasure destroys.
    pub async fn refs_of(&self, person: &str) -> Result<Vec<String>, ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        Ok(state.refs_of(person))
    }

    /// Rewrites every ref in `lists` as its person's current ref, under one catch-up.
    pub async fn make_current<'a>(
        &self,
        lists: impl IntoIterator<Item = &'a mut Vec<PersonRef>>,
    ) -> Result<(), ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        for r in lists.into_iter().flatten() {
            *r = PersonRef(state.current(r.as_str()));
        }
        Ok(())
    }

    /// The refs with sealed data not derived under `derivation` (nor of one petition, nor linked
    /// already), with where their identity is sealed: what a pass under a new key must look at.
    pub async fn to_relink(
        &self,
        derivation: &str,
        one_petition: &str,
    ) -> Result<Vec<(String, SealedAt)>, ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        let mut refs: Vec<(String, SealedAt)> = state
            .sealed
            .iter()
            .filter(|(r, (derived, _))| {
                !matches!(derived.as_deref(), Some(d) if d == derivation || d == one_petition)
                    && !state.linked_to.contains_key(*r)
            })
            .map(|(r, (_, at))| (r.clone(), at.clone()))
            .collect();
        refs.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(refs)
    }

    async fn catch_up(&self, state: &mut IndexState) -> Result<(), ServiceError> {
        loop {
            let page = self.log.read_all(state.position + 1, PAGE).await?;
            for event in &page {
                for fact in facts_of(event)? {
                    match fact {
                        Fact::In(person, matter) => {
                            let matters = state.matters.entry(person).or_default();
                            if !matters.contains(&matter) {
                                matters.push(matter);
                            }
                        }
                        Fact::Sealed(person, derived_under, at) => {
                            state.sealed.entry(person).or_insert((derived_under, at));
                        }
                        Fact::Linked {
                            from_ref,
                            person_ref,
                        } => {
                            state.linked_to.insert(from_ref.clone(), person_ref.clone());
                            state.earlier.entry(person_ref).or_default().push(from_ref);
                        }
                    }
                }
                state.position = event.position;
            }
            if page.len() < PAGE {
                return Ok(());
            }
        }
    }
}

/// The two fields of a registration ([`Registered`](oneledger_domain::petition::MatterEvent::Registered)) the index needs, read without the
/// rest: the first use reads every registration of the district.
#[derive(serde::Deserialize)]
struct Petitioners {
    matter_id: MatterId,
    petitioners: Vec<PersonRef>,
}

/// What an event says about people: a matter's registration names its petitioners; a person's own stream
/// holds personal data recorded by earlier versions (naming its matter) and links of earlier refs.
fn facts_of(event: &RecordedEvent) -> Result<Vec<Fact>, ServiceError> {
    let unreadable = |e: serde_json::Error| {
        ServiceError::Internal(format!(
            "{} v{}: unreadable event: {e}",
            event.stream_id, event.stream_version
        ))
    };
    let personal_data = event
        .event_type
        .strip_suffix(MatterEvent::PERSONAL_DATA_RECORDED)
        .is_some_and(|rest| rest.ends_with('.'));
    match streams::split(&event.stream_id) {
        // Told by type, so no other event is decoded.
        Some((MATTER_STREAM, matter)) if personal_data => {
            match MatterEvent::deserialize(&event.data).map_err(unreadable)? {
                MatterEvent::PersonalDataRecorded {
                    person_ref,
                    derived_under,
                    ..
                } => Ok(vec![Fact::Sealed(
                    person_ref.0,
                    derived_under,
                    SealedAt::Matter(MatterId(matter.to_owned())),
                )]),
                _ => Ok(vec![]),
            }
        }
        // A matter's first event is its registration.
        Some((MATTER_STREAM, _)) if event.stream_version == 1 => {
            let registered = Petitioners::deserialize(&event.data).map_err(unreadable)?;
            Ok(registered
                .petitioners
                .into_iter()
                .map(|p| Fact::In(p.0, registered.matter_id.clone()))
                .collect())
        }
        Some((PERSON_STREAM, _)) => Ok(
            match PersonEvent::deserialize(&event.data).map_err(unreadable)? {
                PersonEvent::DataRecorded {
                    person_ref,
                    matter_id,
                    ..
                } => vec![
                    Fact::In(person_ref.clone(), MatterId(matter_id)),
                    Fact::Sealed(person_ref, None, SealedAt::PersonStream),
                ],
                PersonEvent::RefLinked {
                    from_ref,
                    person_ref,
                    ..
                } => vec![Fact::Linked {
                    from_ref,
                    person_ref,
                }],
                PersonEvent::DataErased { .. } => vec![],
            },
        ),
        _ => Ok(vec![]),
    }
}
