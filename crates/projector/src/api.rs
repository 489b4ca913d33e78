//! The ledger API (`oneledger.ledger.v2.LedgerService`): what joint-handling dashboards read. A unit sees
//! its own ledger; district roles (coordinator, supervisor, auditor) see all. Overdue and due dates are
//! computed for today on every read, never stored.
//!
//! - `entry`: an entry on the wire;
//! - `list`: filters, orders and page tokens;
//! - `statistics`: the report's figures, months and units;
//! - `export`: spreadsheets of a list or of the statistics.

mod entry;
mod export;
mod list;
mod statistics;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use oneledger_auth::{AuthError, AuthLayer, Caller, Verifier, caller};
use oneledger_clock::Clock;
use oneledger_domain::clock::CHINA_STANDARD_TIME_SECS;
use oneledger_domain::policy::{self, Step};
use oneledger_domain::{ItemRef, Rules, UnitId};
use oneledger_proto::convert::{self, WireError};
use oneledger_proto::directory::v1::directory_service_server::DirectoryServiceServer;
use oneledger_proto::ledger::v2::{self as pb, ledger_service_server::LedgerServiceServer};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;

pub use export::ExportError;

use crate::directory::DirectoryApi;
use crate::health::FeedHealth;
use crate::ledger::{ExportRecord, LedgerError, Scope, SqlLedger};
use crate::model::EntryView;

/// Entries per page unless asked otherwise.
const DEFAULT_PAGE: usize = 50;
/// Most entries per page.
const MAX_PAGE: usize = 200;
/// How often a watch looks for changes it was not woken for: those another process wrote into the
/// ledger (a watch is woken at once by its own process's projector).
const WATCH_POLL: Duration = Duration::from_millis(250);

/// The ledger API over a ledger.
#[derive(Debug, Clone)]
pub struct LedgerApi {
    ledger: SqlLedger,
    /// Verifies callers' tokens; the ledger never signs one.
    verifier: Verifier,
    rules: Arc<Rules>,
    /// The day overdue and due soon are judged on.
    clock: Clock,
    /// Signs the page tokens this process hands out.
    tokens: list::PageTokens,
    /// The feeds of the projector in this process, for health.
    feeds: FeedHealth,
}

fn unavailable(e: LedgerError) -> Status {
    tracing::error!(error = %e, "ledger unavailable");
    match e {
        LedgerError::Corrupt(_) => Status::internal("internal error; it has been logged"),
        _ => Status::unavailable("the ledger is unavailable; retry"),
    }
}

/// The caller of a ledger call, refused unless one of its roles may take `step`.
fn caller_for<T>(request: &Request<T>, step: Step<'_>, action: &str) -> Result<Caller, Status> {
    let caller = caller(request)?;
    caller.require_any(policy::roles(step), action)?;
    Ok(caller)
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

    /// The API over `ledger`; fails only when the system has no randomness for the page-token key.
    pub fn new(
        ledger: SqlLedger,
        verifier: Verifier,
        rules: Arc<Rules>,
        clock: Clock,
    ) -> Result<Self, ServeError> {
        Ok(LedgerApi {
            ledger,
            verifier,
            rules,
            clock,
            tokens: list::PageTokens::new().map_err(ServeError::Randomness)?,
            feeds: FeedHealth::new(),
        })
    }

    /// Reports the ledger NOT_SERVING while any of `feeds` fails (the projector beside this API sets
    /// it); without it the ledger reports SERVING while its port is up.
    pub fn with_feeds(mut self, feeds: FeedHealth) -> Self {
        self.feeds = feeds;
        self
    }

    async fn view(&self, root: &str, today: NaiveDate) -> Result<Option<EntryView>, Status> {
        let model = self.ledger.entry_model(root).await.map_err(unavailable)?;
        let Some(root_item) = ItemRef::from_key(root) else {
            return Ok(None);
        };
        Ok(model.entry(&root_item, &self.rules, today))
    }
}

#[tonic::async_trait]
impl pb::ledger_service_server::LedgerService for LedgerApi {
    async fn list_entries(
        &self,
        request: Request<pb::ListEntriesRequest>,
    ) -> Result<Response<pb::ListEntriesResponse>, Status> {
        let caller = caller_for(&request, Step::ReadLedger, "listing the ledger")?;
        let req = request.into_inner();
        let page_size = match req.page_size as usize {
            0 => DEFAULT_PAGE,
            n if n > MAX_PAGE => return Err(invalid("page_size", "at most 200")),
            n => n,
        };
        let query = self.entry_query(&caller, req.filter.as_ref(), req.order_by, "filter.")?;
        let resume = self.tokens.read(&query, &req.page_token)?;
        // Read before the list: a watch resumed after it misses no change the list did not show.
        let as_of_cursor = self.ledger.latest_change().await.map_err(unavailable)?;
        let all = self.matching(&query).await?;
        let (page, more) = list::page(&all, resume.as_ref(), page_size);
        let (overdue, due_soon) = list::counts(&all, self.clock.today());
        let size = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        let next_page_token = match page.last() {
            Some((key, e)) if more => {
                let root = e.root.as_ref().map(ItemRef::key).unwrap_or_default();
                self.tokens.after(&query, key, &root)
            }
            _ => String::new(),
        };
        Ok(Response::new(pb::ListEntriesResponse {
            entries: page
                .iter()
                .map(|(_, e)| entry::entry_pb(e, false, &self.rules.directory))
                .collect(),
            next_page_token,
            total_size: size(all.len()),
            as_of_cursor,
            overdue_size: size(overdue),
            due_soon_size: size(due_soon),
        }))
    }

    async fn get_entry(
        &self,
        request: Request<pb::GetEntryRequest>,
    ) -> Result<Response<pb::GetEntryResponse>, Status> {
        let caller = caller_for(&request, Step::ReadLedger, "opening an entry")?;
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
            entry: Some(entry::entry_pb(&view, true, &self.rules.directory)),
        }))
    }

    type WatchEntriesStream = ReceiverStream<Result<pb::WatchEntriesResponse, Status>>;

    async fn watch_entries(
        &self,
        request: Request<pb::WatchEntriesRequest>,
    ) -> Result<Response<Self::WatchEntriesStream>, Status> {
        let caller = caller_for(&request, Step::ReadLedger, "watching the ledger")?;
        let cursor = request.into_inner().after_cursor;
        let (tx, rx) = mpsc::channel(16);
        let scope = (!caller.is_district_wide()).then(|| self.scope_of(&caller.unit));
        tokio::spawn(self.clone().watch(cursor, scope, tx));
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn get_statistics(
        &self,
        request: Request<pb::GetStatisticsRequest>,
    ) -> Result<Response<pb::GetStatisticsResponse>, Status> {
        let caller = caller_for(&request, Step::ReadLedger, "reading the statistics")?;
        let period = self.period(&caller, request.get_ref(), "")?;
        Ok(Response::new(self.statistics(&period).await?))
    }

    async fn export_ledger(
        &self,
        request: Request<pb::ExportLedgerRequest>,
    ) -> Result<Response<pb::ExportLedgerResponse>, Status> {
        let caller = caller_for(&request, Step::ExportLedger, "exporting the ledger")?;
        self.export(&caller, request.into_inner())
            .await
            .map(Response::new)
    }
}

impl LedgerApi {
    /// Sends every entry changed after `cursor` that `scope` sees, then each change as it comes, until
    /// the client goes.
    async fn watch(
        self,
        mut cursor: u64,
        scope: Option<Scope>,
        tx: mpsc::Sender<Result<pb::WatchEntriesResponse, Status>>,
    ) {
        let mut commits = self.ledger.commits();
        loop {
            // Marked seen before reading, so a commit during the read wakes the wait below.
            commits.borrow_and_update();
            let changes = match self.ledger.changes(cursor, 200).await {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(unavailable(e))).await;
                    return;
                }
            };
            if changes.is_empty() {
                tokio::select! {
                    _ = tx.closed() => return,
                    _ = commits.changed() => continue,
                    _ = tokio::time::sleep(WATCH_POLL) => continue,
                }
            }
            let today = self.clock.today();
            for (seq, root) in changes {
                cursor = seq;
                let view = match self.view(&root, today).await {
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
                let change = pb::WatchEntriesResponse {
                    entry: Some(entry::entry_pb(&view, false, &self.rules.directory)),
                    cursor: seq,
                };
                if tx.send(Ok(change)).await.is_err() {
                    return;
                }
            }
        }
    }

    /// Writes the file asked for and records the export, in that order: a file that could not be
    /// written is not recorded, and one that could not be recorded is not handed out.
    async fn export(
        &self,
        caller: &oneledger_auth::Caller,
        req: pb::ExportLedgerRequest,
    ) -> Result<pb::ExportLedgerResponse, Status> {
        use pb::export_ledger_request::What;
        let format = pb::ExportFormat::try_from(req.format)
            .ok()
            .filter(|f| *f != pb::ExportFormat::Unspecified)
            .ok_or_else(|| invalid("format", "EXPORT_FORMAT_XLSX or EXPORT_FORMAT_CSV"))?;
        let as_of = self.ledger.latest_change().await.map_err(unavailable)?;
        let (stem, what, sheets) = match req.what {
            Some(What::Entries(q)) => {
                let query =
                    self.entry_query(caller, q.filter.as_ref(), q.order_by, "entries.filter.")?;
                let all = self.matching(&query).await?;
                let rows = std::iter::once(export::ENTRY_COLUMNS.map(str::to_owned).to_vec())
                    .chain(
                        all.iter()
                            .enumerate()
                            .map(|(i, (_, e))| export::entry_row(i + 1, e, &self.rules.directory)),
                    )
                    .collect();
                let what = export::describe(
                    &q.filter.unwrap_or_default(),
                    q.order_by,
                    &self.rules.directory,
                );
                (
                    "台账",
                    what,
                    vec![export::Sheet {
                        name: "台账", rows
                    }],
                )
            }
            Some(What::Statistics(s)) => {
                let period = self.period(caller, &s, "statistics.")?;
                let stats = self.statistics(&period).await?;
                let what = format!(
                    "统计 {} 至 {} {}",
                    period.from,
                    period.to,
                    period.unit.as_deref().unwrap_or("全区")
                );
                ("统计", what, export::statistics_sheets(&stats))
            }
            None => return Err(invalid("what", "entries or statistics")),
        };
        let now = Utc::now();
        let export_id = uuid::Uuid::now_v7().to_string();
        let about = export::about(&export_id, now, as_of, &caller.unit.0, &what);
        let written = match format {
            pb::ExportFormat::Csv => export::csv(&sheets, &about),
            _ => export::xlsx(&sheets, &about),
        };
        let content = written.map_err(|e| {
            tracing::error!(error = %e, "export could not be written");
            Status::internal("internal error; it has been logged")
        })?;
        let rows = sheets.first().map_or(0, |s| s.rows.len().saturating_sub(1));
        let rows = u32::try_from(rows).unwrap_or(u32::MAX);
        let (extension, content_type) = match format {
            pb::ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
            _ => (
                "xlsx",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
        };
        self.ledger
            .record_export(&ExportRecord {
                export_id: export_id.clone(),
                exported_at: now,
                subject: caller.subject.clone(),
                unit: caller.unit.0.clone(),
                roles: caller
                    .roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                what,
                format: extension.to_owned(),
                rows,
                as_of,
            })
            .await
            .map_err(unavailable)?;
        let stamp = export::file_stamp(now);
        Ok(pb::ExportLedgerResponse {
            file_name: format!("{stem}-{stamp}.{extension}"),
            content_type: content_type.to_owned(),
            content,
            export_id,
            rows,
            as_of_cursor: as_of,
        })
    }
}

/// What browsers may do on the ledger's port.
#[derive(Debug, Clone, Default)]
pub struct WebSettings {
    /// Origins whose pages may call the API (CORS), e.g. `https://dashboard.binhai.gov.cn`; none by
    /// default, so only pages the port serves itself call it.
    pub allow_origins: Vec<http::HeaderValue>,
    /// TLS for the port (and the client certificates it requires, if any); plaintext when unset.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
}

/// The ledger service's name, as health and reflection know it.
const LEDGER_SERVICE: &str = "oneledger.ledger.v2.LedgerService";

/// The services the ledger's port serves, as reflection lists them.
const SERVICES: [&str; 2] = [LEDGER_SERVICE, "oneledger.directory.v1.DirectoryService"];

/// CORS for `origins`: the headers gRPC-Web and Connect send and the trailers a browser must read.
fn cors(origins: &[http::HeaderValue]) -> tower_http::cors::CorsLayer {
    use http::HeaderName;
    let names = |list: &[&'static str]| {
        list.iter()
            .map(|h| HeaderName::from_static(h))
            .collect::<Vec<_>>()
    };
    tower_http::cors::CorsLayer::new()
        .allow_origin(tower_http::cors::AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([http::Method::POST, http::Method::OPTIONS])
        .allow_headers(names(&[
            "authorization",
            "content-type",
            "x-grpc-web",
            "x-user-agent",
            "grpc-timeout",
            "connect-protocol-version",
            "connect-timeout-ms",
        ]))
        .expose_headers(names(&[
            "grpc-status",
            "grpc-message",
            "grpc-status-details-bin",
        ]))
        .max_age(Duration::from_secs(3600))
}

/// Serves the ledger API, the unit directory and the dashboard with health and reflection on `listener`
/// until `shutdown`. Browsers reach it too: gRPC-Web (HTTP/1.1, `application/grpc-web`) is accepted beside
/// gRPC, from the origins `web` allows.
pub async fn serve(
    api: LedgerApi,
    web: WebSettings,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let (health, health_service) = tonic_health::server::health_reporter();
    // SERVING while no feed fails, NOT_SERVING while one does; followed until the port closes.
    let mut feeds = api.feeds.watch();
    let follow_feeds = tokio::spawn(async move {
        loop {
            let failing = !feeds.borrow_and_update().is_empty();
            for name in ["", LEDGER_SERVICE] {
                let status = if failing {
                    ServingStatus::NotServing
                } else {
                    ServingStatus::Serving
                };
                health.set_service_status(name, status).await;
            }
            oneledger_metrics::global().set_ready(LEDGER_SERVICE, !failing);
            if feeds.changed().await.is_err() {
                return;
            }
        }
    });
    let (reflection, reflection_alpha) =
        oneledger_proto::reflection::for_services(&SERVICES).map_err(ServeError::Reflection)?;
    let directory = DirectoryApi::new(api.rules.clone(), api.clock.clone());
    let verifier = api.verifier.clone();
    let units = api.rules.directory.clone();
    // The gRPC services, gRPC-Web for browsers and every call but health and reflection authenticated
    // here, once; then, beside them on the same port, the dashboard's pages, which are neither.
    let grpc = tonic::service::Routes::new(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(
            DirectoryServiceServer::new(directory)
                .max_decoding_message_size(oneledger_proto::MAX_REQUEST_BYTES),
        )
        .add_service(
            LedgerServiceServer::new(api)
                .max_decoding_message_size(oneledger_proto::MAX_REQUEST_BYTES),
        )
        .into_axum_router()
        .layer(AuthLayer::new(verifier, units, &[]))
        .layer(oneledger_metrics::grpc::GrpcMetricsLayer)
        .layer(tonic_web::GrpcWebLayer::new());
    let routes = grpc.merge(crate::dashboard::routes());
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = web.tls.clone() {
        builder = builder.tls_config(tls).map_err(ServeError::Transport)?;
    }
    let served = builder
        .accept_http1(true)
        // Outermost, so a preflight is answered before authentication asks for a token.
        .layer(cors(&web.allow_origins))
        .add_routes(tonic::service::Routes::from(routes))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await
        .map_err(ServeError::Transport);
    follow_feeds.abort();
    served
}

/// Why the ledger's port stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The reflection service could not be built from the descriptors (a build defect).
    #[error("reflection: {0}")]
    Reflection(#[source] tonic_reflection::server::Error),
    /// The system gave no randomness for the page-token key (getrandom's error is not a std error).
    #[error("no randomness for the page-token key: {0}")]
    Randomness(getrandom::Error),
    /// The server failed.
    #[error("serving the ledger API: {0}")]
    Transport(#[source] tonic::transport::Error),
}

#[cfg(test)]
mod tests;
