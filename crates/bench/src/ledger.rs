//! The ledger benchmarks of issue 5: rebuild rate over generated events, a ListEntries page with a unit
//! filter over many entries, and command-to-visible latency at a steady command rate.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use chrono::Utc;
use futures::future::try_join_all;
use oneledger_domain::petition::{
    Channel, ClaimClass, IntakeFindings, MatterAction, PetitionMatter, Registration,
};
use oneledger_domain::{
    Agency, Aggregate, Command, DomainEvent, MatterId, PersonRef, Rules, UnitId,
};
use oneledger_projector::feed::StoreFeed;
use oneledger_projector::{SqlLedger, projector};
use oneledger_proto::common::v1::{ItemKind, ItemRef};
use oneledger_proto::ledger::v2::{
    EntryFilter, GetEntryRequest, ListEntriesRequest, ledger_service_client::LedgerServiceClient,
};
use oneledger_proto::petition::v1 as pb;
use oneledger_services::auth::authorized;
use oneledger_services::{DevIssuer, Role, Settings};
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, SqliteEventStore,
};
use uuid::Uuid;

use crate::{Measured, measured};

/// Units matters are assigned to, so a unit's ledger is 1/UNITS of the district's.
const UNITS: usize = 100;

fn unit(i: usize) -> String {
    format!("binhai.unit_{:03}", i % UNITS)
}

/// The shipped calendar and Binhai directory, with the bench's [`UNITS`] generated units added as
/// sub-districts: each is both a responsible unit and a territory, so every matter names listed units.
fn bench_rules() -> Result<Rules> {
    let mut text = oneledger_domain::directory::BINHAI.to_owned();
    for i in 0..UNITS {
        text.push_str(&format!(
            "{},街道{i:03},Unit {i:03},subdistrict,binhai.district_government,,,,\n",
            unit(i)
        ));
    }
    let directory = oneledger_domain::directory::load::parse("bench units", &text)?;
    Ok(Rules::new(
        oneledger_domain::HolidayCalendar::china()?,
        directory,
    ))
}

/// A matter's registration and assignment, decided by the domain.
fn matter_events(rules: &Rules, i: usize) -> Result<Vec<NewEvent>> {
    let at = Utc::now();
    let register = Command {
        at,
        unit: UnitId::from("binhai.petition_office"),
        action: MatterAction::Register(Registration {
            matter_id: MatterId(format!("PMB{i:08}")),
            channel: Channel::Online,
            claim_class: ClaimClass::Claim,
            title: format!("Generated matter {i}: unpaid wages at site {}", i % 977),
            petitioners: vec![PersonRef(format!("p-{i:08}"))],
            collective_size: 1 + (i % 30) as u32,
            territory: UnitId(unit(i / 7)),
            receipt_number: format!("PMB{i:08}"),
            query_code_digest: "0".repeat(64),
            accused_unit: None,
            category: None,
            respondent: None,
            personal_data: vec![],
            prior: IntakeFindings::default(),
        }),
    };
    let mut state = PetitionMatter::default();
    let mut events = Vec::new();
    for command in [
        register,
        Command {
            at,
            unit: UnitId::from("binhai.petition_office"),
            action: MatterAction::Assign {
                to: UnitId(unit(i)),
                territorial_unit: Some(UnitId(unit(i / 7))),
            },
        },
    ] {
        for e in state.decide(&command, rules)? {
            state = state.evolve(&e);
            events.push(NewEvent {
                event_id: Uuid::now_v7(),
                event_type: e.event_type(Agency::Petition),
                schema_version: 1,
                data: serde_json::to_value(&e)?,
                metadata: EventMetadata {
                    occurred_at: at,
                    district: "binhai".into(),
                    agency: Agency::Petition,
                    acting_unit: "binhai.petition_office".into(),
                    acting_role: "intake_clerk".into(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: None,
                    origin: None,
                },
            });
        }
    }
    Ok(events)
}

/// Fills `store` with `matters` matters (two events each) from 32 concurrent writers.
async fn generate(store: Arc<dyn EventStore>, rules: Arc<Rules>, matters: usize) -> Result<()> {
    const WRITERS: usize = 32;
    let tasks = (0..WRITERS).map(|w| {
        let store = store.clone();
        let rules = rules.clone();
        tokio::spawn(async move {
            let mut i = w;
            while i < matters {
                store
                    .append(AppendRequest {
                        stream_id: format!("petition_matter-PMB{i:08}"),
                        expected_version: ExpectedVersion::NoStream,
                        events: matter_events(&rules, i)?,
                        request_id: Uuid::now_v7(),
                        command: None,
                    })
                    .await?;
                i += WRITERS;
            }
            Ok::<_, anyhow::Error>(())
        })
    });
    for t in try_join_all(tasks).await? {
        t?;
    }
    Ok(())
}

/// Results of the ledger benchmarks.
pub struct LedgerResults {
    /// Events replayed.
    pub events: u64,
    /// Rebuild throughput.
    pub rebuild: Measured,
    /// Entries in the ledger.
    pub entries: usize,
    /// ListEntries page of 50 with a unit filter.
    pub list: Measured,
    /// Command accepted → visible in GetEntry.
    pub visible: Measured,
    /// Commands sent in the latency run.
    pub commands: usize,
}

/// Runs the three ledger scenarios in `dir`.
pub async fn run(
    dir: &std::path::Path,
    matters: usize,
    seconds: u64,
    rate: u32,
) -> Result<LedgerResults> {
    // Rebuild rate.
    let store: Arc<dyn EventStore> = Arc::new(
        SqliteEventStore::connect(&format!("sqlite://{}", dir.join("petition.db").display()))
            .await?,
    );
    eprintln!("generating {matters} matters ({} events)…", matters * 2);
    let rules = Arc::new(bench_rules()?);
    generate(store.clone(), rules.clone(), matters).await?;
    let head = store.head().await?;
    let ledger_url = format!("sqlite://{}", dir.join("ledger.db").display());
    let fresh = SqlLedger::connect_fresh(&ledger_url).await?;
    eprintln!("rebuilding…");
    let start = Instant::now();
    let mut feed = StoreFeed::new("store:petition", store.clone());
    projector::catch_up(&fresh, &mut feed, head, |_| {}).await?;
    // Complete once its log is folded into the file, as `oneledger rebuild` leaves it.
    fresh.close().await?;
    let rebuild = measured(head as usize, start.elapsed(), vec![]);
    let ledger = SqlLedger::connect(&ledger_url).await?;

    // The ledger API, the petition service and a live projector over the same files.
    let issuer = DevIssuer::generate("binhai")?;
    let api_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api_address = format!("http://{}", api_listener.local_addr()?);
    let api = oneledger_projector::api::LedgerApi::new(
        ledger.clone(),
        issuer.verifier()?,
        rules.clone(),
        oneledger_clock::Clock::system(),
    )?;
    tokio::spawn(oneledger_projector::api::serve(
        api,
        oneledger_projector::api::WebSettings::default(),
        api_listener,
        std::future::pending(),
    ));
    let svc_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let svc_address = format!("http://{}", svc_listener.local_addr()?);
    let settings = Settings {
        agency: Agency::Petition,
        district: "binhai".into(),
        verifier: issuer.verifier()?,
        master_key: Some(vec![9; 32]),
        pseudonym_key: Some(vec![8; 32]),
        rules,
        clock: oneledger_clock::Clock::system(),
        watch: None,
        tls: None,
        peers: Default::default(),
    };
    tokio::spawn(oneledger_services::serve(
        settings,
        store.clone(),
        svc_listener,
        async {},
        std::future::pending(),
    ));
    let live = ledger.clone();
    let live_store = store.clone();
    tokio::spawn(async move {
        let mut feed = StoreFeed::new("store:petition", live_store);
        let feeds = oneledger_projector::health::FeedHealth::new();
        projector::run(&live, &mut feed, &feeds, std::future::pending()).await;
    });
    // Measured once the petition service serves: it reads its log into the person index first.
    let started = Instant::now();
    serving(&svc_address, "oneledger.petition.v1.PetitionService").await?;
    eprintln!(
        "petition service SERVING after {:.2} s (its person index read over {head} events)",
        started.elapsed().as_secs_f64()
    );
    let token = |unit: &str, roles: Vec<Role>| {
        issuer.token(
            "bench",
            Agency::Petition,
            unit,
            &roles,
            Duration::from_secs(7200),
        )
    };

    // ListEntries, a page of 50 with a unit filter.
    let mut client = LedgerServiceClient::connect(api_address.clone()).await?;
    let coordinator = token("binhai.political_legal_committee", vec![Role::Coordinator])?;
    let mut latencies = Vec::new();
    let start = Instant::now();
    for i in 0..200 {
        let request = authorized(
            ListEntriesRequest {
                filter: Some(EntryFilter {
                    unit_id: unit(i * 37),
                    ..Default::default()
                }),
                page_size: 50,
                ..Default::default()
            },
            &coordinator,
        )?;
        let t = Instant::now();
        let page = client.list_entries(request).await?.into_inner();
        latencies.push(t.elapsed());
        anyhow::ensure!(page.entries.len() == 50.min(matters / UNITS), "a full page");
    }
    let list = measured(latencies.len(), start.elapsed(), latencies);
    let entries = matters;

    // Command accepted → visible in GetEntry, at a steady rate.
    eprintln!("latency run: {rate} commands/s for {seconds} s…");
    let clerk = token("binhai.petition_office", vec![Role::IntakeClerk])?;
    let petition = pb::petition_service_client::PetitionServiceClient::connect(svc_address).await?;
    let interval = Duration::from_secs_f64(1.0 / f64::from(rate.max(1)));
    let mut ticker = tokio::time::interval(interval);
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    while Instant::now() < end {
        ticker.tick().await;
        let (mut petition, mut ledger_client, clerk, coordinator) = (
            petition.clone(),
            client.clone(),
            clerk.clone(),
            coordinator.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let request = authorized(
                pb::RegisterPetitionRequest {
                    request_id: Uuid::now_v7().to_string(),
                    channel: pb::Channel::Online as i32,
                    claim_class: pb::ClaimClass::Claim as i32,
                    title: "Latency probe".into(),
                    petitioners: vec![pb::Petitioner {
                        name: "Probe".into(),
                        ..Default::default()
                    }],
                    collective_size: 1,
                    territory_unit_id: "binhai.unit_000".into(),
                    ..Default::default()
                },
                &clerk,
            )?;
            let registered = petition.register_petition(request).await?.into_inner();
            let accepted = Instant::now();
            loop {
                let get = authorized(
                    GetEntryRequest {
                        item: Some(ItemRef {
                            kind: ItemKind::PetitionMatter as i32,
                            id: registered.matter_id.clone(),
                        }),
                    },
                    &coordinator,
                )?;
                if ledger_client.get_entry(get).await.is_ok() {
                    return Ok::<_, anyhow::Error>(accepted.elapsed());
                }
                // Polling every 5 ms keeps the probes from loading the API they measure.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    let mut latencies = Vec::with_capacity(tasks.len());
    for t in tasks {
        latencies.push(t.await.context("probe task")??);
    }
    let commands = latencies.len();
    let visible = measured(commands, Duration::from_secs(seconds), latencies);
    Ok(LedgerResults {
        events: head,
        rebuild,
        entries,
        list,
        visible,
        commands,
    })
}

/// Waits until `service` at `address` reports SERVING.
async fn serving(address: &str, service: &str) -> anyhow::Result<()> {
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };
    for _ in 0..600 {
        if let Ok(channel) = tonic::transport::Endpoint::from_shared(address.to_owned())?
            .connect()
            .await
            && let Ok(status) = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: service.to_owned(),
                })
                .await
            && status.into_inner().status == ServingStatus::Serving as i32
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("{service} at {address} never reported SERVING")
}
