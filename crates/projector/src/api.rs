//! The ledger API (`oneledger.ledger.v1.LedgerService`): what joint-handling dashboards read. A unit sees
//! its own ledger; district roles (coordinator, supervisor, auditor) see all. Overdue and due dates are
//! computed for today on every read, never stored.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use oneledger_auth::{AuthError, AuthLayer, TokenKeys, caller};
use oneledger_clock::Clock;
use oneledger_domain::clock::CHINA_STANDARD_TIME_SECS;
use oneledger_domain::dispute::RiskLevel;
use oneledger_domain::statistics::{self, Figure, MatterTally};
use oneledger_domain::watch::{Proposal, ProposalStatus, proposal_id};
use oneledger_domain::{Agency, ItemKind, ItemRef, Rules, UnitDirectory, UnitId};
use oneledger_proto::common::v1 as common;
use oneledger_proto::convert::{self, WireError};
use oneledger_proto::directory::v1::directory_service_server::DirectoryServiceServer;
use oneledger_proto::ledger::v1::{self as pb, ledger_service_server::LedgerServiceServer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::directory::DirectoryApi;
use crate::ledger::{LedgerError, ListFilter, Scope, SqlLedger};
use crate::model::{EntryView, ItemState};

/// Entries per page unless asked otherwise.
const DEFAULT_PAGE: usize = 50;
/// Most entries per page.
const MAX_PAGE: usize = 200;
/// How often a watch looks for changes.
const WATCH_POLL: Duration = Duration::from_millis(250);

/// The ledger API over a ledger.
#[derive(Debug, Clone)]
pub struct LedgerApi {
    ledger: SqlLedger,
    keys: TokenKeys,
    rules: Arc<Rules>,
    /// The day overdue and due soon are judged on.
    clock: Clock,
}

fn unavailable(e: LedgerError) -> Status {
    tracing::error!(error = %e, "ledger unavailable");
    match e {
        LedgerError::Corrupt(_) => Status::internal("internal error; it has been logged"),
        _ => Status::unavailable("the ledger is unavailable; retry"),
    }
}

fn invalid(field: &str, reason: &str) -> Status {
    WireError::new(field, reason).into()
}

/// True when `entry` is in the ledger of `scope`: a unit of it takes part in an item, or the entry arose
/// in one of its territories.
fn visible(entry: &EntryView, scope: &Scope) -> bool {
    entry
        .participants
        .iter()
        .any(|u| scope.units.contains(&u.0))
        || entry
            .territory
            .as_ref()
            .is_some_and(|t| scope.territories.contains(&t.0))
}

fn entry_pb(e: &EntryView, with_timeline: bool, directory: &UnitDirectory) -> pb::Entry {
    let unit =
        |u: &Option<oneledger_domain::UnitId>| u.as_ref().map(|u| u.0.clone()).unwrap_or_default();
    pb::Entry {
        root: e.root.as_ref().map(Into::into),
        items: e.items.iter().map(Into::into).collect(),
        title: e.title.clone(),
        status: if e.closed {
            "closed".into()
        } else {
            "open".into()
        },
        stages: e
            .stages
            .iter()
            .map(|(i, s)| format!("{}={s}", i.key()))
            .collect(),
        responsible_unit_id: unit(&e.responsible_unit),
        territorial_unit_id: unit(&e.territorial_unit),
        territory_unit_id: unit(&e.territory),
        police_station_id: unit(&e.police_station),
        co_handling_unit_ids: e.co_handling_units.iter().map(|u| u.0.clone()).collect(),
        risk_level: e
            .risk_level
            .map(|r| r.as_str().to_owned())
            .unwrap_or_default(),
        collective_size: e.collective_size,
        deadlines: e
            .deadlines
            .iter()
            .map(|d| common::Deadline {
                kind: d.kind.clone(),
                article: d.article.clone(),
                due_on: d.due_on.to_string(),
                met_on: d.met_on.map(|m| m.to_string()).unwrap_or_default(),
                overdue: d.overdue,
                paused: d.paused,
                provisional: d.provisional,
                item: Some((&d.item).into()),
                duty_unit_id: unit(&d.duty_of),
            })
            .collect(),
        overdue: e.overdue,
        supervision_orders: e
            .supervision_orders
            .iter()
            .map(|(i, level)| format!("{}={}", i.key(), level.map_or("none", |l| l.as_str())))
            .collect(),
        resolution_reports: e.resolution_reports,
        agreements: e
            .agreements
            .iter()
            .map(|(matter, id, a)| convert::agreement(matter.as_str(), id, a))
            .collect(),
        possible_repeats: e
            .possible_repeats
            .iter()
            .map(|(matter, of)| pb::PossibleRepeat {
                matter_id: matter.0.clone(),
                of_matter_id: of.0.clone(),
            })
            .collect(),
        proposals: e.proposals.iter().map(|(i, p)| proposal_pb(i, p)).collect(),
        thresholds: e
            .thresholds
            .iter()
            .map(|(item, kind, due_on, t)| pb::ThresholdPassed {
                item: Some(item.into()),
                kind: kind.as_str().to_owned(),
                due_on: due_on.to_string(),
                threshold: t.as_str().to_owned(),
                article: kind.rule().citation().to_owned(),
            })
            .collect(),
        timeline: if with_timeline {
            e.timeline
                .iter()
                .map(|t| pb::TimelineLine {
                    occurred_at: t.occurred_at.to_rfc3339(),
                    agency: match t.agency {
                        Agency::Petition => common::Agency::Petition,
                        Agency::PublicSecurity => common::Agency::PublicSecurity,
                        Agency::PoliticalLegal => common::Agency::PoliticalLegal,
                    } as i32,
                    event_type: t.event_type.clone(),
                    acting_unit_id: t.acting_unit.clone(),
                    item: Some((&t.item).into()),
                })
                .collect()
        } else {
            vec![]
        },
        unit_names: unit_names(e, with_timeline, directory),
    }
}

/// A proposal as the ledger shows it.
fn proposal_pb(item: &ItemRef, p: &Proposal) -> pb::SupervisionProposal {
    let (status, order_id, decided_on, dismissal_reason) = match &p.status {
        ProposalStatus::Open => ("open", String::new(), String::new(), String::new()),
        ProposalStatus::Issued { order_id, on } => {
            ("issued", order_id.0.clone(), on.to_string(), String::new())
        }
        ProposalStatus::Dismissed { reason, on } => {
            ("dismissed", String::new(), on.to_string(), reason.clone())
        }
    };
    pb::SupervisionProposal {
        proposal_id: proposal_id(item, p.number),
        item: Some(item.into()),
        source: p.source.as_str().to_owned(),
        unit_id: p.unit.0.clone(),
        article: p.source.rule().citation().to_owned(),
        reason: p.reason.clone(),
        proposed_on: p.proposed_on.to_string(),
        status: status.to_owned(),
        order_id,
        decided_on,
        dismissal_reason,
    }
}

/// The directory's name of every unit an entry shows, by id.
fn unit_names(
    e: &EntryView,
    with_timeline: bool,
    directory: &UnitDirectory,
) -> std::collections::HashMap<String, String> {
    let single = [
        &e.responsible_unit,
        &e.territorial_unit,
        &e.territory,
        &e.police_station,
    ];
    let acting = e
        .timeline
        .iter()
        .filter(|_| with_timeline)
        .map(|t| UnitId(t.acting_unit.clone()));
    single
        .into_iter()
        .flatten()
        .cloned()
        .chain(e.co_handling_units.iter().cloned())
        .chain(e.deadlines.iter().filter_map(|d| d.duty_of.clone()))
        .chain(e.proposals.iter().map(|(_, p)| p.unit.clone()))
        .chain(acting)
        .filter_map(|id| directory.name_of(&id).map(|name| (id.0, name.to_owned())))
        .collect()
}

/// Start of a legal (Beijing) day as stored timeline instants are written (UTC, microseconds, `Z`).
fn day_start(day: NaiveDate) -> String {
    let start = day.and_time(chrono::NaiveTime::MIN)
        - chrono::Duration::seconds(i64::from(CHINA_STANDARD_TIME_SECS));
    Utc.from_utc_datetime(&start)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

impl LedgerApi {
    /// The entries `unit`'s ledger holds (DESIGN §4, visibility follows the hierarchy): those the unit or
    /// a unit below it takes part in, and those arising in a zone, sub-district or town among them.
    fn scope_of(&self, unit: &UnitId) -> Scope {
        let directory = &self.rules.directory;
        let below = directory.subtree(unit);
        let territories = below
            .iter()
            .filter(|u| directory.get(u).is_some_and(|u| u.kind.is_territory()))
            .map(|u| u.0.clone())
            .collect();
        Scope {
            units: below.into_iter().map(|u| u.0).collect(),
            territories,
        }
    }

    /// The API over `ledger`.
    pub fn new(ledger: SqlLedger, keys: TokenKeys, rules: Arc<Rules>, clock: Clock) -> Self {
        LedgerApi {
            ledger,
            keys,
            rules,
            clock,
        }
    }

    async fn view(&self, root: &str, today: NaiveDate) -> Result<Option<EntryView>, Status> {
        let model = self.ledger.entry_model(root).await.map_err(unavailable)?;
        let Some(root_item) = ItemRef::from_key(root) else {
            return Ok(None);
        };
        Ok(model.entry(&root_item, &self.rules, today))
    }
}

/// Keeps an entry when it passes the filters the database cannot apply.
fn passes(
    e: &EntryView,
    req: &pb::ListEntriesRequest,
    min_risk: Option<RiskLevel>,
    due_before: Option<NaiveDate>,
) -> bool {
    (req.stage.is_empty() || e.stages.iter().any(|(_, s)| *s == req.stage))
        && match req.status.as_str() {
            "open" => !e.closed,
            "closed" => e.closed,
            _ => true,
        }
        && min_risk.is_none_or(|m| e.risk_level.is_some_and(|r| r >= m))
        && (!req.overdue_only || e.overdue)
        && due_before.is_none_or(|limit| {
            e.deadlines
                .iter()
                .any(|d| d.met_on.is_none() && d.due_on <= limit)
        })
}

#[tonic::async_trait]
impl pb::ledger_service_server::LedgerService for LedgerApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let scope = match (req.unit_id.is_empty(), caller.is_district_wide()) {
            (true, true) => None,
            (true, false) => Some(self.scope_of(&caller.unit)),
            (false, district) => {
                let unit = UnitId(req.unit_id.clone());
                if self.rules.directory.get(&unit).is_none() {
                    return Err(invalid(
                        "unit_id",
                        &format!("`{unit}` is not a unit of the district's directory"),
                    ));
                }
                if !district && !self.rules.directory.subtree(&caller.unit).contains(&unit) {
                    return Err(AuthError::PermissionDenied(
                        "a unit sees its own ledger and those of the units below it".into(),
                    )
                    .into());
                }
                Some(self.scope_of(&unit))
            }
        };
        let page_size = match req.page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => return Err(invalid("page_size", "at most 200")),
            n => n,
        };
        let min_risk = match req.min_risk.as_str() {
            "" => None,
            r => Some(
                RiskLevel::parse(r)
                    .ok_or_else(|| invalid("min_risk", "low, medium, high or major"))?,
            ),
        };
        let due_before = match req.due_before.as_str() {
            "" => None,
            d => Some(
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|_| invalid("due_before", "an ISO date"))?,
            ),
        };
        if !matches!(req.status.as_str(), "" | "open" | "closed") {
            return Err(invalid("status", "open or closed"));
        }
        let filter = ListFilter {
            scope,
            territory: (!req.territory_unit_id.is_empty()).then(|| req.territory_unit_id.clone()),
            title_contains: (!req.title_contains.is_empty()).then(|| req.title_contains.clone()),
        };
        let today = self.clock.today();
        let mut after = req.page_token.clone();
        let mut entries = Vec::new();
        let mut more = true;
        while entries.len() < page_size && more {
            let roots = self
                .ledger
                .list_roots(&filter, &after, page_size * 2)
                .await
                .map_err(unavailable)?;
            more = roots.len() == page_size * 2;
            let model = self
                .ledger
                .entries_model(&roots, false)
                .await
                .map_err(unavailable)?;
            for root in roots {
                after = root.clone();
                let Some(root_item) = ItemRef::from_key(&root) else {
                    continue;
                };
                if let Some(view) = model.entry(&root_item, &self.rules, today)
                    && passes(&view, &req, min_risk, due_before)
                {
                    entries.push(entry_pb(&view, false, &self.rules.directory));
                    if entries.len() == page_size {
                        more = true;
                        break;
                    }
                }
            }
        }
        Ok(Response::new(pb::ListEntriesResponse {
            entries,
            next_page_token: if more { after } else { String::new() },
        }))
    }

    async fn get_entry(
        &self,
        request: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        let caller = caller(&request)?;
        let item = convert::item("item", request.get_ref().item.as_ref())?;
        let root = self
            .ledger
            .root_of(&item)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| Status::not_found("entry not found"))?;
        let view = self
            .view(&root, self.clock.today())
            .await?
            .ok_or_else(|| Status::not_found("entry not found"))?;
        if !caller.is_district_wide() && !visible(&view, &self.scope_of(&caller.unit)) {
            return Err(AuthError::PermissionDenied(
                "the entry is not in this unit's ledger".into(),
            )
            .into());
        }
        Ok(Response::new(pb::GetEntryResponse {
            entry: Some(entry_pb(&view, true, &self.rules.directory)),
        }))
    }

    type WatchEntriesStream = ReceiverStream<Result<pb::WatchEntriesResponse, Status>>;

    async fn watch_entries(
        &self,
        request: Request<pb::WatchEntriesRequest>,
    ) -> Result<Response<Self::WatchEntriesStream>, Status> {
        let caller = caller(&request)?;
        let mut cursor = request.into_inner().after_cursor;
        let (tx, rx) = mpsc::channel(16);
        let scope = (!caller.is_district_wide()).then(|| self.scope_of(&caller.unit));
        let api = self.clone();
        tokio::spawn(async move {
            loop {
                let changes = match api.ledger.changes(cursor, 200).await {
                    Ok(c) => c,
                    Err(e) => {
                        let _ = tx.send(Err(unavailable(e))).await;
                        return;
                    }
                };
                if changes.is_empty() {
                    tokio::select! {
                        _ = tx.closed() => return,
                        _ = tokio::time::sleep(WATCH_POLL) => continue,
                    }
                }
                let today = api.clock.today();
                for (seq, root) in changes {
                    cursor = seq;
                    let view = match api.view(&root, today).await {
                        Ok(Some(v)) => v,
                        Ok(None) => continue,
                        Err(status) => {
                            let _ = tx.send(Err(status)).await;
                            return;
                        }
                    };
                    if scope.as_ref().is_some_and(|scope| !visible(&view, scope)) {
                        continue;
                    }
                    if tx
                        .send(Ok(pb::WatchEntriesResponse {
                            entry: Some(entry_pb(&view, false, &api.rules.directory)),
                            cursor: seq,
                        }))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_statistics(
        &self,
        request: Request<pb::GetStatisticsRequest>,
    ) -> Result<Response<pb::GetStatisticsResponse>, Status> {
        let caller = caller(&request)?;
        let req = request.into_inner();
        let from = NaiveDate::parse_from_str(&req.from_date, "%Y-%m-%d")
            .map_err(|_| invalid("from_date", "an ISO date"))?;
        let to = NaiveDate::parse_from_str(&req.to_date, "%Y-%m-%d")
            .map_err(|_| invalid("to_date", "an ISO date"))?;
        if to < from {
            return Err(invalid("to_date", "not before from_date"));
        }
        let unit = match (req.unit_id.is_empty(), caller.is_district_wide()) {
            (true, true) => None,
            (true, false) => Some(caller.unit.0.clone()),
            (false, true) => Some(req.unit_id.clone()),
            (false, false) if req.unit_id == caller.unit.0 => Some(req.unit_id.clone()),
            (false, false) => {
                return Err(AuthError::PermissionDenied(
                    "a unit sees only its own statistics".into(),
                )
                .into());
            }
        };
        let (start, end) = (day_start(from), day_start(to.succ_opt().unwrap_or(to)));
        let counts_by_type = self
            .ledger
            .event_counts(&start, &end, unit.as_deref(), !req.exclude_imported)
            .await
            .map_err(unavailable)?;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (event_type, n) in counts_by_type {
            let aggregate_and_name = event_type.split_once('.').map_or("", |(_, rest)| rest);
            if let Some(figure) = Figure::of_event(aggregate_and_name) {
                *counts.entry(figure.as_str().to_owned()).or_default() += n;
            }
        }

        let today = self.clock.today();
        let matters = self
            .ledger
            .items_active(
                ItemKind::PetitionMatter.as_str(),
                &start,
                &end,
                unit.as_deref(),
            )
            .await
            .map_err(unavailable)?;
        let mut tally = MatterTally::default();
        let mut overdue = 0;
        for item in &matters {
            if let ItemState::PetitionMatter(m) = &item.state {
                tally.add(m, &self.rules.calendar, today);
                overdue += u64::from(m.is_overdue(&self.rules.calendar, today));
            }
        }
        for (prefix, outcomes) in [
            ("review_outcomes", &tally.review_outcomes),
            ("re_review_outcomes", &tally.re_review_outcomes),
        ] {
            for (outcome, n) in outcomes {
                counts.insert(format!("{prefix}_{}", outcome.as_str()), *n);
            }
        }
        // Matters assigned to a named unit in the period: collective and priority ones, as the annual
        // report counts them.
        let assigned = self
            .ledger
            .items_with_event(
                &[".matter.assigned", ".dispute.assigned"],
                &start,
                &end,
                unit.as_deref(),
            )
            .await
            .map_err(unavailable)?;
        let (mut collective, mut priority) = (0u64, 0u64);
        for item in &assigned {
            let (size, risk) = match &item.state {
                ItemState::PetitionMatter(m) => (m.collective_size, None),
                ItemState::Dispute(d) => (d.collective_size, d.risk_level),
                _ => continue,
            };
            collective += u64::from(statistics::is_collective(size));
            priority += u64::from(statistics::is_priority(risk));
        }
        let repeats = self
            .repeat_figures((&start, &end), (from, to), unit.as_deref())
            .await?;
        // As with event counts, a count that is absent is zero.
        for (name, n) in [
            ("collective_matters_assigned", collective),
            ("priority_matters_assigned", priority),
        ]
        .into_iter()
        .chain(repeats)
        {
            if n > 0 {
                counts.insert(name.into(), n);
            }
        }
        // Lawfully concluded (依法终结): after re-review, or final by an unused window, recorded or not.
        let lawfully: u64 = [
            Figure::MattersConcluded.as_str(),
            Figure::MattersFinal.as_str(),
            "matters_final_unrecorded",
        ]
        .iter()
        .filter_map(|name| counts.get(*name))
        .sum();
        if lawfully > 0 {
            counts.insert("matters_lawfully_concluded".into(), lawfully);
        }
        let rates: BTreeMap<String, f64> = tally
            .rates()
            .into_iter()
            .map(|(name, rate)| (name.to_owned(), rate))
            .collect();

        let orders = self
            .ledger
            .items_active(
                ItemKind::SupervisionOrder.as_str(),
                &start,
                &end,
                unit.as_deref(),
            )
            .await
            .map_err(unavailable)?;
        let mut orders_per_unit: BTreeMap<String, u64> = BTreeMap::new();
        let mut answers_overdue = 0;
        for item in &orders {
            if let ItemState::SupervisionOrder(o) = &item.state {
                answers_overdue += u64::from(o.is_overdue(&self.rules.calendar, today));
                if let Some(to) = &o.to_unit {
                    *orders_per_unit.entry(to.0.clone()).or_default() += 1;
                }
            }
        }
        // As of today, like the backlog: matters with a unit's duty overdue, orders unanswered past due.
        for (name, n) in [
            ("matters_overdue", overdue),
            ("supervision_answers_overdue", answers_overdue),
        ] {
            if n > 0 {
                counts.insert(name.into(), n);
            }
        }
        Ok(Response::new(pb::GetStatisticsResponse {
            counts: counts.into_iter().collect(),
            rates: rates.into_iter().collect(),
            unit_names: orders_per_unit
                .keys()
                .filter_map(|id| {
                    let name = self.rules.directory.name_of(&UnitId(id.clone()))?;
                    Some((id.clone(), name.to_owned()))
                })
                .collect(),
            orders_per_unit: orders_per_unit.into_iter().collect(),
        }))
    }
}

impl LedgerApi {
    /// First and repeat petitions registered in the period (RFC 3339 instants, and the same as legal
    /// days), matters lawfully concluded in it, and today's backlog of open repeat matters by age
    /// (清仓见底), on `unit` when given.
    async fn repeat_figures(
        &self,
        (start, end): (&str, &str),
        (from, to): (NaiveDate, NaiveDate),
        unit: Option<&str>,
    ) -> Result<Vec<(&'static str, u64)>, Status> {
        let today = self.clock.today();
        let registered = self
            .ledger
            .items_with_event(&[".matter.registered"], start, end, unit)
            .await
            .map_err(unavailable)?;
        let mut intake = statistics::IntakeTally::default();
        for item in &registered {
            if let ItemState::PetitionMatter(m) = &item.state {
                intake.add(m);
            }
        }
        let open = self
            .ledger
            .open_petition_matters(unit)
            .await
            .map_err(unavailable)?;
        let matters = || {
            open.iter()
                .filter_map(|(item, in_entry)| match &item.state {
                    ItemState::PetitionMatter(m) => Some((m.as_ref(), *in_entry)),
                    _ => None,
                })
        };
        // A repeat matter: a repeat itself, or in an entry the same petitioners came back to.
        let backlog = statistics::repeat_backlog(
            matters()
                .filter(|(m, in_entry)| !m.first_petition || *in_entry > 1)
                .map(|(m, _)| m),
            &self.rules,
            today,
        );
        // Recorded as open, final by a window that lapsed unrecorded in the period.
        let lapsed = statistics::lapsed_unrecorded_in(
            matters().map(|(m, _)| m),
            &self.rules,
            (from, to),
            today,
        );
        Ok(intake
            .figures()
            .into_iter()
            .chain(backlog)
            .chain([("matters_final_unrecorded", lapsed)])
            .collect())
    }
}

/// Serves the ledger API and the unit directory with health and reflection on `listener` until `shutdown`. Browsers reach it too:
/// gRPC-Web (HTTP/1.1, `application/grpc-web`) is accepted beside gRPC.
pub async fn serve(
    api: LedgerApi,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health.set_serving::<LedgerServiceServer<LedgerApi>>().await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(oneledger_proto::FILE_DESCRIPTOR_SET)
        .build_v1();
    let mut router = tonic::transport::Server::builder()
        .accept_http1(true)
        .layer(tonic_web::GrpcWebLayer::new())
        // Every call but health and reflection is authenticated here, once.
        .layer(AuthLayer::new(
            api.keys.clone(),
            api.rules.directory.clone(),
            &[],
        ))
        .add_service(health_service);
    if let Ok(reflection) = reflection {
        router = router.add_service(reflection);
    }
    let directory = DirectoryApi::new(api.rules.clone(), api.clock.clone());
    router
        .add_service(DirectoryServiceServer::new(directory))
        .add_service(LedgerServiceServer::new(api))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
}

#[cfg(test)]
mod tests;
