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
use oneledger_domain::{MatterId, streams};
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
    /// Each person's matters, in registration order.
    matters: HashMap<String, Vec<MatterId>>,
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

    /// The matters of any of `people`, each once, in registration order, as the log stands now.
    pub async fn matters_of(&self, people: &[String]) -> Result<Vec<MatterId>, ServiceError> {
        let mut state = self.state.lock().await;
        self.catch_up(&mut state).await?;
        let mut found: Vec<MatterId> = Vec::new();
        for person in people {
            for matter in state.matters.get(person).into_iter().flatten() {
                if !found.contains(matter) {
                    found.push(matter.clone());
                }
            }
        }
        Ok(found)
    }

    async fn catch_up(&self, state: &mut IndexState) -> Result<(), ServiceError> {
        loop {
            let page = self.log.read_all(state.position + 1, PAGE).await?;
            for event in &page {
                for (person, matter) in petitioners_of(event)? {
                    let matters = state.matters.entry(person).or_default();
                    if !matters.contains(&matter) {
                        matters.push(matter);
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

/// The (person, matter) pairs an event records: a matter's registration, or personal data recorded in a
/// person's own stream (before data moved into the registration's append).
fn petitioners_of(event: &RecordedEvent) -> Result<Vec<(String, MatterId)>, ServiceError> {
    let unreadable = |e: serde_json::Error| {
        ServiceError::Internal(format!(
            "{} v{}: unreadable event: {e}",
            event.stream_id, event.stream_version
        ))
    };
    match streams::split(&event.stream_id) {
        Some((MATTER_STREAM, _)) if event.stream_version == 1 => {
            match MatterEvent::deserialize(&event.data).map_err(unreadable)? {
                MatterEvent::Registered {
                    matter_id,
                    petitioners,
                    ..
                } => Ok(petitioners
                    .into_iter()
                    .map(|p| (p.0, matter_id.clone()))
                    .collect()),
                _ => Ok(vec![]),
            }
        }
        Some((PERSON_STREAM, _)) => {
            match PersonEvent::deserialize(&event.data).map_err(unreadable)? {
                PersonEvent::DataRecorded {
                    person_ref,
                    matter_id,
                    ..
                } => Ok(vec![(person_ref, MatterId(matter_id))]),
                PersonEvent::DataErased { .. } => Ok(vec![]),
            }
        }
        _ => Ok(vec![]),
    }
}
