//! The demo clock: `up --demo-clock` runs a demo data directory a year behind the system clock, and
//! `oneledger demo` moves it forward week by week as it loads its year, so the ledger holds a year of
//! real dates — entries overdue, proposals, monthly trends — and ends on today, running with the
//! system clock.
//!
//! A demo's dates are made, so the two never mix: the flag is refused on PostgreSQL (the production
//! layout) and on a data directory that holds data from a start without it, and a start without the
//! flag is refused on a directory a demo clock wrote to. The clock only moves forward and never past
//! the system clock; where it stands is kept in `demo-clock.json`, so a restart resumes there.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use chrono::{NaiveDate, TimeDelta, Utc};
use oneledger_clock::{Clock, ClockDriver};
use oneledger_domain::{Role, UnitDirectory};
use oneledger_proto::demo::v1::{self as pb, demo_clock_service_server::DemoClockService};
use oneledger_services::Verifier;
use oneledger_services::auth::{AuthLayer, caller};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tonic::{Request, Response, Status};

use crate::config::UpArgs;

/// The marker of a demo data directory, holding how far behind the system clock its clock runs.
const MARKER: &str = "demo-clock.json";
/// How far behind a fresh demo directory starts: the demo's year.
const FIRST_BEHIND: TimeDelta = TimeDelta::days(365);
/// Files whose presence says a directory already holds data.
const DATA_FILES: [&str; 4] = [
    "ledger.db",
    "petition.db",
    "public_security.db",
    "political_legal.db",
];

/// What the marker file holds.
#[derive(Debug, Serialize, Deserialize)]
struct Marker {
    /// Seconds behind the system clock.
    behind_seconds: i64,
}

/// The clock `up` runs on: `given` (the system's, or a test's) unless `--demo-clock`; then one behind
/// the system clock, with what moves it. Refuses a mix of demo and real data.
pub fn clock_for(args: &UpArgs, given: Clock) -> anyhow::Result<(Clock, Option<DemoClock>)> {
    let marker = args.data_dir.join(MARKER);
    if !args.demo_clock {
        if marker.exists() {
            bail!(
                "{} holds a demo year whose dates a demo clock made: start it with --demo-clock, or \
                 use another --data-dir",
                args.data_dir.display()
            );
        }
        return Ok((given, None));
    }
    if args.database_url.is_some() {
        bail!("--demo-clock is for a demo on SQLite files, not a PostgreSQL server");
    }
    let behind = if marker.exists() {
        let text = std::fs::read_to_string(&marker)
            .with_context(|| format!("reading {}", marker.display()))?;
        let m: Marker = serde_json::from_str(&text)
            .with_context(|| format!("{} is not a demo clock file", marker.display()))?;
        TimeDelta::seconds(m.behind_seconds.max(0))
    } else {
        if holds_data(&args.data_dir) {
            bail!(
                "{} already holds data recorded on the system clock: --demo-clock needs a fresh \
                 --data-dir",
                args.data_dir.display()
            );
        }
        FIRST_BEHIND
    };
    let (clock, driver) = Clock::behind(behind);
    let demo = DemoClock {
        inner: Arc::new(Mutex::new(driver)),
        marker,
        clock: clock.clone(),
    };
    demo.write(behind)?;
    Ok((clock, Some(demo)))
}

fn holds_data(dir: &Path) -> bool {
    DATA_FILES.iter().any(|f| dir.join(f).exists())
}

/// The demo clock and its API.
#[derive(Debug, Clone)]
pub struct DemoClock {
    /// One mover at a time, so a move and its saving stay together.
    inner: Arc<Mutex<ClockDriver>>,
    marker: PathBuf,
    clock: Clock,
}

impl DemoClock {
    fn write(&self, behind: TimeDelta) -> anyhow::Result<()> {
        let text = serde_json::to_string(&Marker {
            behind_seconds: behind.num_seconds(),
        })?;
        std::fs::write(&self.marker, text)
            .with_context(|| format!("writing {}", self.marker.display()))
    }

    fn state(&self, behind: TimeDelta) -> pb::GetClockResponse {
        pb::GetClockResponse {
            today: self.clock.today().to_string(),
            now: self.clock.now().to_rfc3339(),
            behind_seconds: behind.num_seconds(),
        }
    }

    /// Serves the demo clock's API on `listener` until `shutdown`, to callers the committee's
    /// coordinator or supervisor tokens name.
    pub async fn serve(
        self,
        listener: TcpListener,
        verifier: Verifier,
        directory: Arc<UnitDirectory>,
        shutdown: impl Future<Output = ()> + Send,
    ) -> Result<(), tonic::transport::Error> {
        tonic::transport::Server::builder()
            .layer(AuthLayer::new(verifier, directory, &[]))
            .add_service(pb::demo_clock_service_server::DemoClockServiceServer::new(
                self,
            ))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                shutdown,
            )
            .await
    }
}

#[tonic::async_trait]
impl DemoClockService for DemoClock {
    async fn get_clock(
        &self,
        request: Request<pb::GetClockRequest>,
    ) -> Result<Response<pb::GetClockResponse>, Status> {
        caller(&request)?;
        let behind = self.inner.lock().await.behind();
        Ok(Response::new(self.state(behind)))
    }

    async fn set_clock(
        &self,
        request: Request<pb::SetClockRequest>,
    ) -> Result<Response<pb::SetClockResponse>, Status> {
        caller(&request)?.require_any(
            &[Role::Coordinator, Role::Supervisor],
            "moving the demo clock",
        )?;
        let req = request.into_inner();
        let driver = self.inner.lock().await;
        let target = if req.catch_up {
            Utc::now()
        } else {
            let day = NaiveDate::parse_from_str(req.date.trim(), "%Y-%m-%d").map_err(|_| {
                Status::invalid_argument("date: an ISO date (YYYY-MM-DD), or catch_up")
            })?;
            // Noon in Beijing is 04:00 UTC.
            day.and_hms_opt(4, 0, 0)
                .map(|t| t.and_utc())
                .ok_or_else(|| Status::invalid_argument("date: out of range"))?
        };
        if target < self.clock.now() {
            return Err(Status::failed_precondition(format!(
                "the demo clock only moves forward: it stands at {}",
                self.clock.now().to_rfc3339()
            )));
        }
        let target = target.min(Utc::now());
        driver.set(target);
        let behind = driver.behind().max(TimeDelta::zero());
        self.write(behind).map_err(|e| {
            tracing::error!(error = %e, "saving the demo clock");
            Status::internal("saving the demo clock failed; it has been logged")
        })?;
        Ok(Response::new(pb::SetClockResponse {
            clock: Some(self.state(behind)),
        }))
    }
}
