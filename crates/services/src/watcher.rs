//! The deadline watcher (期限预警): reads the ledger's open deadlines and records, once each, the moment
//! a deadline is due soon, due today and overdue — with a supervision proposal for an overdue duty — on
//! the item's watch in the committee's store, whence the relay publishes it (CloudEvents) and the
//! projector puts it on the entry's timeline and WatchEntries.
//!
//! One per district: every committee process runs it, and the one holding the lease in the committee's
//! store works, like the relay. "Once" holds across restarts and a second watcher racing the first
//! because each threshold is recorded under a request id derived from what it is
//! ([`SeenThreshold::request_id`]) and the item's watch refuses a threshold it already holds.
//!
//! Computed from the ledger (the district's deadlines as the calendar counts them today) through the
//! ledger API, as a district role: the committee's service never reads the projector's tables.

use std::collections::HashSet;
use std::time::Duration;

use chrono::NaiveDate;
use oneledger_clock::Clock;
use oneledger_domain::clock::{DeadlineKind, Period};
use oneledger_domain::watch::Threshold;
use oneledger_domain::{Rules, UnitId};
use oneledger_proto::convert::{FromWire, ledger as wire};
use oneledger_proto::ledger::v2::{
    self as ledger_pb, EntryFilter, ListEntriesRequest, ledger_service_client::LedgerServiceClient,
};
use oneledger_retry::Backoff;
use oneledger_store::{EventStore, StoreError};
use tonic::transport::Channel;
use uuid::Uuid;

use crate::auth::{Caller, TokenSource, authorized};
use crate::error::ServiceError;
use crate::political_legal::PoliticalLegalService;
use crate::proposals::SeenThreshold;

/// The lease name in the committee's store.
const NAME: &str = "deadline-watcher";
/// How long a watcher holds the lease without renewing it (renewed every page).
const LEASE: Duration = Duration::from_secs(90);
/// Entries per ledger page.
const PAGE: u32 = 200;

/// Why a pass stopped; the next one retries.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// Recording failed (the committee's store).
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// The ledger API could not be reached or refused the watcher.
    #[error("ledger API: {0}")]
    Ledger(String),
}

impl From<StoreError> for WatchError {
    fn from(e: StoreError) -> Self {
        WatchError::Service(ServiceError::Unavailable(e))
    }
}

/// How the watcher runs.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// The ledger API, e.g. `http://127.0.0.1:50050`.
    pub ledger_address: String,
    /// The watcher's own token for the ledger API, as the committee's supervisor: issued to it by the
    /// district's identity provider (a file the platform renews) or, in `up`, by the dev issuer.
    pub credential: std::sync::Arc<dyn TokenSource>,
    /// TLS to the ledger API (its CA, and this service's client certificate where mTLS is required);
    /// plaintext when unset.
    pub ledger_tls: Option<tonic::transport::ClientTlsConfig>,
    /// How long before the last day "due soon" is recorded.
    pub due_soon: Period,
    /// How often it looks: thresholds change at Beijing midnight, so a minute is "at the moment".
    pub every: Duration,
}

/// What one watcher process needs.
pub struct Watcher {
    /// The committee's service, whose watch repository records.
    pub service: PoliticalLegalService,
    /// The committee's store, for the lease.
    pub store: std::sync::Arc<dyn EventStore>,
    /// Who records: the committee, as the joint meeting office's supervisor.
    pub caller: Caller,
    /// The calendar that counts "due soon".
    pub rules: std::sync::Arc<Rules>,
    /// Today.
    pub clock: Clock,
    /// How.
    pub settings: WatchSettings,
}

impl Watcher {
    /// Watches for ever.
    pub async fn run(self) {
        let holder = format!("{NAME}:{}", Uuid::new_v4());
        let mut backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));
        // What this process recorded or found recorded, so each pass asks the store only about news.
        let mut seen = HashSet::new();
        let mut warned_on = None;
        loop {
            self.warn_of_coverage(&mut warned_on);
            match self.pass(&holder, &mut seen).await {
                Ok(recorded) => {
                    backoff.succeeded();
                    oneledger_metrics::global().watched(true, recorded as u64);
                    if recorded > 0 {
                        tracing::info!(recorded, "deadline thresholds recorded");
                    }
                    tokio::time::sleep(self.settings.every).await;
                }
                Err(e) => {
                    oneledger_metrics::global().watched(false, 0);
                    tracing::warn!(error = %e, "the deadline watcher's pass failed; retrying");
                    backoff.wait().await;
                }
            }
        }
    }

    /// Once a day, the calendar's coverage warning (DirectoryService.GetCalendar says the same).
    fn warn_of_coverage(&self, warned_on: &mut Option<NaiveDate>) {
        let today = self.clock.today();
        if *warned_on != Some(today) {
            if let Some(warning) = self.rules.calendar.coverage().warning(today) {
                tracing::warn!("{warning}");
            }
            *warned_on = Some(today);
        }
    }

    /// One pass over the ledger's deadlines due by the due-soon horizon; the number recorded.
    pub async fn pass(&self, holder: &str, seen: &mut HashSet<Uuid>) -> Result<usize, WatchError> {
        if !self.store.acquire_lease(NAME, holder, LEASE).await? {
            return Ok(0);
        }
        let today = self.clock.today();
        let horizon = self.rules.calendar.due(today, self.settings.due_soon);
        let mut endpoint = Channel::from_shared(self.settings.ledger_address.clone())
            .map_err(|e| WatchError::Ledger(format!("address: {e}")))?;
        if let Some(tls) = self.settings.ledger_tls.clone() {
            endpoint = endpoint
                .tls_config(tls)
                .map_err(|e| WatchError::Ledger(format!("TLS: {e}")))?;
        }
        let channel = endpoint
            .connect()
            .await
            .map_err(|e| WatchError::Ledger(e.to_string()))?;
        let mut ledger = LedgerServiceClient::new(channel);
        let mut recorded = 0;
        let mut page_token = String::new();
        loop {
            let request = ListEntriesRequest {
                filter: Some(EntryFilter {
                    due_before: Some(wire::date(horizon)),
                    ..Default::default()
                }),
                page_size: PAGE,
                page_token: page_token.clone(),
                ..Default::default()
            };
            let token = self
                .settings
                .credential
                .token()
                .map_err(|e| WatchError::Ledger(e.to_string()))?;
            let request =
                authorized(request, &token).map_err(|e| WatchError::Ledger(e.to_string()))?;
            let page = ledger
                .list_entries(request)
                .await
                .map_err(|s| WatchError::Ledger(format!("{:?}: {}", s.code(), s.message())))?
                .into_inner();
            for entry in &page.entries {
                for deadline in &entry.deadlines {
                    let Some(found) = self.threshold_of(deadline, today) else {
                        continue;
                    };
                    let id = found.request_id();
                    if seen.contains(&id) {
                        continue;
                    }
                    if self.service.record_threshold(&self.caller, &found).await? {
                        recorded += 1;
                    }
                    seen.insert(id);
                }
            }
            if page.next_page_token.is_empty() {
                return Ok(recorded);
            }
            page_token = page.next_page_token;
            // A long pass keeps its lease.
            if !self.store.acquire_lease(NAME, holder, LEASE).await? {
                return Ok(recorded);
            }
        }
    }

    /// The threshold an open, running deadline of a unit's duty stands at today, if any. A paused clock
    /// (a hearing) stands still: its due date moves every day, so it passes nothing. A petitioner's
    /// window is no one's duty: it lapses, and the matter becomes final, without a warning.
    fn threshold_of(&self, d: &ledger_pb::Deadline, today: NaiveDate) -> Option<SeenThreshold> {
        let duty = d
            .duty_unit
            .as_ref()
            .filter(|u| !u.unit_id.trim().is_empty())?;
        if d.met_on.is_some() || d.paused {
            return None;
        }
        let item = oneledger_proto::convert::item("item", d.item.as_ref()).ok()?;
        let deadline = DeadlineKind::from_wire(ledger_pb::DeadlineKind::try_from(d.kind).ok()?)?;
        let due_on = wire::day("due_on", d.due_on.as_ref()).ok()??;
        let threshold = Threshold::on(due_on, today, &self.rules.calendar, self.settings.due_soon)?;
        Some(SeenThreshold {
            item,
            deadline,
            due_on,
            threshold,
            duty_of: Some(UnitId::from(duty.unit_id.trim())),
        })
    }
}
