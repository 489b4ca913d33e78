//! Running one agency's service: gRPC with health, reflection and the event feed, on a listener the caller
//! binds (tests bind port 0), until `shutdown` resolves — in-flight calls finish first.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use oneledger_clock::Clock;
use oneledger_domain::{Agency, Rules, UnitKind};
use oneledger_proto::events::v1::event_feed_service_server::EventFeedServiceServer;
use oneledger_proto::petition::v1::petition_service_server::PetitionServiceServer;
use oneledger_proto::political_legal::v1::political_legal_service_server::PoliticalLegalServiceServer;
use oneledger_proto::public_security::v1::public_security_service_server::PublicSecurityServiceServer;
use oneledger_retry::Backoff;
use oneledger_store::{EventLog, EventStore};
use tokio::net::TcpListener;
use tonic_health::ServingStatus;

use crate::auth::{AuthLayer, Caller, Role, Verifier};
use crate::feed::Feed;
use crate::items::ItemLookup;
use crate::joiner;
use crate::petition::PetitionService;
use crate::pii::{Pseudonyms, Vault};
use crate::political_legal::PoliticalLegalService;
use crate::public_security::PublicSecurityService;
use crate::repo::Context;
use crate::watcher::{WatchSettings, Watcher};

pub use oneledger_proto::MAX_REQUEST_BYTES;

/// Methods answered without a token: a petitioner asks with a receipt number and query code (art. 21).
pub const PUBLIC_METHODS: &[&str] = &["/oneledger.petition.v1.PetitionService/GetPublicStatus"];

/// What a service needs besides its store.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Which agency's service to run.
    pub agency: Agency,
    /// The district, a subject token.
    pub district: String,
    /// Verifies callers' tokens against the issuer's key set; a service never signs one.
    pub verifier: Verifier,
    /// The 32-byte master key wrapping personal-data keys (the petition service needs it).
    pub master_key: Option<Vec<u8>>,
    /// The 32-byte key persons' pseudonyms are derived under (the petition service needs it); kept like
    /// the master key, apart from it.
    pub pseudonym_key: Option<Vec<u8>>,
    /// The legal calendar.
    pub rules: Arc<Rules>,
    /// Where "now" comes from: the system clock in every running process, a driven one in tests.
    pub clock: Clock,
    /// The deadline watcher's settings (the committee's service runs it when set: `up` always, a
    /// standalone service given the ledger's address).
    pub watch: Option<WatchSettings>,
    /// TLS for the service's port (and the client certificates it requires, if any); plaintext when
    /// unset.
    pub tls: Option<tonic::transport::ServerTlsConfig>,
    /// The other agencies' stores this process also runs (`up`: all of them; a standalone service:
    /// none), so the items a command names can be looked up where they are kept.
    pub peers: BTreeMap<Agency, Arc<dyn EventLog>>,
}

/// Why a service could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The configuration is incomplete or invalid.
    #[error("configuration: {0}")]
    Config(String),
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// Serves `settings.agency`'s service over `store` on `listener` until `shutdown`. Health reports
/// NOT_SERVING until `ready` resolves (the store is migrated before this is called; `ready` waits for
/// whatever else must exist first, such as the JetStream stream) and, for the petition service, until
/// its person index has read the log.
pub async fn serve(
    settings: Settings,
    store: Arc<dyn EventStore>,
    listener: TcpListener,
    ready: impl Future<Output = ()> + Send + 'static,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), ServeError> {
    let ctx = Arc::new(Context {
        store: store.clone(),
        agency: settings.agency,
        district: settings.district.clone(),
        rules: settings.rules.clone(),
        clock: settings.clock.clone(),
        items: {
            let mut stores = settings.peers.clone();
            let own: Arc<dyn EventLog> = store.clone();
            stores.insert(settings.agency, own);
            ItemLookup::new(stores)
        },
    });
    let (health, health_service) = tonic_health::server::health_reporter();
    let own_service = match settings.agency {
        Agency::Petition => "oneledger.petition.v1.PetitionService",
        Agency::PublicSecurity => "oneledger.public_security.v1.PublicSecurityService",
        Agency::PoliticalLegal => "oneledger.political_legal.v1.PoliticalLegalService",
    };
    // Reflection lists what this port serves: its agency's service and the event feed.
    let (reflection, reflection_alpha) = oneledger_proto::reflection::for_services(&[
        own_service,
        "oneledger.events.v1.EventFeedService",
    ])
    .map_err(|e| ServeError::Config(format!("reflection: {e}")))?;
    let feed = EventFeedServiceServer::new(Feed::new(settings.agency, store.clone()))
        .max_decoding_message_size(MAX_REQUEST_BYTES);

    // Every call is authenticated here, once; health, reflection and a petitioner's status query are open.
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = settings.tls.clone() {
        builder = builder.tls_config(tls)?;
    }
    let router = builder
        // Outermost: refusals by authentication are counted too.
        .layer(oneledger_metrics::grpc::GrpcMetricsLayer)
        .layer(AuthLayer::new(
            settings.verifier.clone(),
            settings.rules.directory.clone(),
            PUBLIC_METHODS,
        ))
        // The caller's correlation id, for the events the call records.
        .layer(crate::call::CallContextLayer)
        .add_service(health_service)
        .add_service(reflection)
        .add_service(reflection_alpha)
        .add_service(feed);
    // The committee's follower of the petition log and its deadline watcher, stopped with the server.
    let mut joiner = None;
    let mut watcher_task = None;
    // The petition service, whose person index is read before it reports SERVING.
    let mut people_ready: Option<PetitionService> = None;
    let (router, service_name) = match settings.agency {
        Agency::Petition => {
            let key = settings.master_key.as_deref().ok_or_else(|| {
                ServeError::Config("the petition service needs a master key".into())
            })?;
            let vault = Vault::new(key, store.clone()).map_err(ServeError::Config)?;
            let pseudonym_key = settings.pseudonym_key.as_deref().ok_or_else(|| {
                ServeError::Config("the petition service needs a pseudonym key".into())
            })?;
            let pseudonyms = Pseudonyms::new(pseudonym_key).map_err(ServeError::Config)?;
            let service = PetitionService::new(ctx, vault, pseudonyms);
            people_ready = Some(service.clone());
            let svc =
                PetitionServiceServer::new(service).max_decoding_message_size(MAX_REQUEST_BYTES);
            (router.add_service(svc), own_service)
        }
        Agency::PublicSecurity => {
            let svc = PublicSecurityServiceServer::new(PublicSecurityService::new(ctx))
                .max_decoding_message_size(MAX_REQUEST_BYTES);
            (router.add_service(svc), own_service)
        }
        Agency::PoliticalLegal => {
            let service = PoliticalLegalService::new(ctx);
            // The link registry is read while the service starts, so the first link does not wait.
            let warming = service.clone();
            tokio::spawn(async move {
                if let Err(e) = warming.warm().await {
                    tracing::warn!(error = %e, "reading the link registry failed; the first link will");
                }
            });
            if let Some(petitions) = settings.peers.get(&Agency::Petition) {
                joiner = Some(tokio::spawn(joiner::run(
                    service.clone(),
                    petitions.clone(),
                    store.clone(),
                    committee_caller(&settings.rules, settings.clock.today())?,
                )));
            }
            if let Some(watch) = settings.watch.clone() {
                let watcher = Watcher {
                    service: service.clone(),
                    store: store.clone(),
                    caller: committee_caller(&settings.rules, settings.clock.today())?,
                    rules: settings.rules.clone(),
                    clock: settings.clock.clone(),
                    settings: watch,
                };
                watcher_task = Some(tokio::spawn(watcher.run()));
            }
            let svc = PoliticalLegalServiceServer::new(service)
                .max_decoding_message_size(MAX_REQUEST_BYTES);
            (router.add_service(svc), own_service)
        }
    };
    for name in ["", service_name] {
        health
            .set_service_status(name, ServingStatus::NotServing)
            .await;
    }
    oneledger_metrics::global().set_ready(service_name, false);
    let reporter = health.clone();
    tokio::spawn(async move {
        ready.await;
        // Registrations find a person's earlier matters in the index: read the log into it first.
        if let Some(petitions) = &people_ready {
            let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
            while let Err(e) = petitions.warm_people().await {
                tracing::warn!(error = %e, "reading the person index failed; retrying");
                backoff.wait().await;
            }
        }
        for name in ["", service_name] {
            reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        oneledger_metrics::global().set_ready(service_name, true);
        // Then, in the background, refs recorded before refs were stable, or under a key since
        // replaced, join the person's current ref (once per key: later starts read on from where the
        // last pass stopped).
        if let Some(petitions) = people_ready {
            match petitions.relink_people().await {
                Ok(0) => {}
                Ok(linked) => tracing::info!(linked, "earlier person refs linked to current ones"),
                Err(e) => {
                    tracing::warn!(error = %e, "linking earlier person refs failed; the next start retries")
                }
            }
        }
    });
    tracing::info!(agency = %settings.agency, address = ?listener.local_addr().ok(), "serving");
    router
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
            shutdown,
        )
        .await?;
    for task in [joiner, watcher_task].into_iter().flatten() {
        task.abort();
    }
    Ok(())
}

/// Who the committee's service acts as when it records links and raises breach orders of its own: the
/// district's political-legal committee as the directory lists it. Its deadline watcher records as it too,
/// reading the ledger with a token issued to this caller.
pub fn committee_caller(rules: &Rules, today: chrono::NaiveDate) -> Result<Caller, ServeError> {
    let committee = rules
        .directory
        .units()
        .find(|u| u.kind == UnitKind::PoliticalLegalCommittee && u.is_valid_on(today))
        .ok_or_else(|| {
            ServeError::Config("the unit directory lists no political-legal committee".into())
        })?;
    Ok(Caller {
        subject: "subject-joiner".into(),
        agency: Agency::PoliticalLegal,
        unit: committee.id.clone(),
        // Links are the coordinator's; the orders an agency's breach raises, the supervisor's.
        roles: vec![Role::Coordinator, Role::Supervisor],
    })
}
