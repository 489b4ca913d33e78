//! Repeat petitions join the entry of the matter they name. A petition with new facts is a new matter
//! `linked_to` the original (art. 36 ¶3; the petition office's own decision at intake, or its clerk's
//! confirmation of a flagged one), but the link
//! that puts both in one ledger entry lives in the committee's registry, which only the committee's
//! service writes. So that service follows the petition office's log and records each such link
//! itself — under a request id derived from the event, so a restart or a second pass joins once.
//!
//! An agency's breach of an obligation it took on in a matter's agreement (art. 33) is a recorded fact of
//! the petition office's; supervising the unit is the committee's, proposed here the same way, once per
//! recorded breach, for a supervisor to issue or dismiss.
//!
//! It runs where the committee's service can read the petition store (`up`; see `Settings::peers`),
//! one process at a time under a lease in the committee's store, which also keeps its checkpoint.

use std::sync::Arc;
use std::time::Duration;

use oneledger_domain::petition::MatterEvent;
use oneledger_domain::{ItemRef, MatterId, streams};
use oneledger_retry::Backoff;
use oneledger_store::{EventLog, EventStore};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ServiceError;
use crate::political_legal::PoliticalLegalService;
use crate::repo::command_digest;

/// The lease and checkpoint name in the committee's store.
const NAME: &str = "subject-joiner:petition";
/// How long a joiner holds the lease without renewing it.
const LEASE: Duration = Duration::from_secs(30);
/// Petition events read per pass.
const PAGE: usize = 500;
/// Longest wait for new petition events before looking again (appends by other processes are not
/// signalled here).
const IDLE: Duration = Duration::from_secs(1);

/// Follows `petitions` for ever, joining each repeat petition to its original as `caller`.
pub async fn run(
    service: PoliticalLegalService,
    petitions: Arc<dyn EventLog>,
    committee: Arc<dyn EventStore>,
    caller: Caller,
) {
    let holder = format!("{NAME}:{}", Uuid::new_v4());
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut head = petitions.watch_head();
    loop {
        match pass(
            &service,
            petitions.as_ref(),
            committee.as_ref(),
            &caller,
            &holder,
        )
        .await
        {
            Ok(more) => {
                backoff.succeeded();
                if !more {
                    let _ = tokio::time::timeout(IDLE, head.changed()).await;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "joining repeat petitions failed; retrying");
                backoff.wait().await;
            }
        }
    }
}

/// One page of the petition log past the checkpoint; true when there may be more.
async fn pass(
    service: &PoliticalLegalService,
    petitions: &dyn EventLog,
    committee: &dyn EventStore,
    caller: &Caller,
    holder: &str,
) -> Result<bool, ServiceError> {
    if !committee.acquire_lease(NAME, holder, LEASE).await? {
        return Ok(false);
    }
    let from = committee.checkpoint(NAME).await? + 1;
    let page = petitions.read_all(from, PAGE).await?;
    for event in &page {
        let Some((prefix, id)) = streams::split(&event.stream_id) else {
            continue;
        };
        if prefix != streams::of(oneledger_domain::ItemKind::PetitionMatter) {
            continue;
        }
        let Ok(matter_event) = serde_json::from_value::<MatterEvent>(event.data.clone()) else {
            continue;
        };
        let matter = ItemRef::PetitionMatter(MatterId(id.to_owned()));
        if let Some(original) = matter_event.joins_root().cloned() {
            let digest = command_digest("JoinRepeatPetition", &[event.event_id.as_bytes()]);
            service
                .join_subject(
                    caller,
                    &ItemRef::PetitionMatter(original),
                    matter,
                    event.event_id,
                    &digest,
                )
                .await?;
        } else if let MatterEvent::ObligationBreached {
            agreement_id,
            obligation_id,
            supervision_due_for: Some(obligor),
            ..
        } = matter_event
        {
            match service
                .propose_for_breach(
                    caller,
                    &matter,
                    &obligor,
                    (&agreement_id, &obligation_id),
                    event.event_id,
                )
                .await
            {
                // A breach the rules refuse a proposal for (the obligor is no unit in being) is left to a
                // person: retrying would stop every later event.
                Err(ServiceError::Domain(refusal)) => {
                    tracing::warn!(matter = %matter.key(), %obligor, %refusal,
                        "no supervision proposal made for a recorded breach");
                }
                other => other?,
            }
        }
    }
    if let Some(last) = page.last() {
        committee
            .save_checkpoint(NAME, holder, last.position)
            .await?;
    }
    Ok(page.len() == PAGE)
}
