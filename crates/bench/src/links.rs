//! The link benchmark of issue 11: LinkItems over real gRPC with 0, 10,000 and 100,000 links already in
//! the district's registry. Same-run baseline: replaying the registry's stream whole, which every link
//! paid (twice) before the committee's service kept the registry caught up in memory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use chrono::Utc;
use oneledger_domain::link::{LinkAction, LinkRegistry};
use oneledger_domain::{
    Agency, Aggregate, Command, DisputeId, DomainEvent, ItemRef, MatterId, Rules,
};
use oneledger_domain::{UnitId, streams};
use oneledger_proto::common::v1 as common;
use oneledger_proto::political_legal::v1::{
    LinkItemsRequest, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_services::auth::authorized;
use oneledger_services::repo::{Context, Repository};
use oneledger_services::{DevIssuer, Role, Settings};
use oneledger_store::{
    AppendRequest, EventMetadata, EventStore, ExpectedVersion, NewEvent, SqliteEventStore,
};
use uuid::Uuid;

use crate::{Measured, measured};

const COMMITTEE: &str = "binhai.political_legal_committee";
/// Link events appended per store call while filling the registry.
const FILL_BATCH: usize = 1000;

/// One size's figures.
pub struct LinkRow {
    /// Links in the registry before the timed ones.
    pub existing: usize,
    /// Baseline: one replay of the registry's stream.
    pub replay: Duration,
    /// The first link after the service started: it reads the whole stream once.
    pub first: Duration,
    /// The links after it.
    pub steady: Measured,
}

/// Fills a registry with `n` links (matter i ↔ police dispute i), decided by the domain.
async fn fill(store: &dyn EventStore, n: usize) -> Result<()> {
    let rules = Rules::shipped()?;
    let mut registry = LinkRegistry::default();
    let (mut version, mut batch) = (0u64, Vec::new());
    for i in 0..n {
        let command = Command {
            at: Utc::now(),
            unit: UnitId::from(COMMITTEE),
            action: LinkAction::Link {
                anchor: ItemRef::PetitionMatter(MatterId(format!("PMB{i:08}"))),
                other: ItemRef::Dispute(DisputeId(format!("PS-B{i:08}"))),
                reason: "同一工地欠薪".into(),
            },
        };
        for event in registry.decide(&command, &rules)? {
            registry = registry.evolve(&event);
            batch.push(NewEvent {
                event_id: Uuid::now_v7(),
                event_type: event.event_type(Agency::PoliticalLegal),
                schema_version: 1,
                data: serde_json::to_value(&event)?,
                metadata: EventMetadata {
                    occurred_at: command.at,
                    district: "binhai".into(),
                    agency: Agency::PoliticalLegal,
                    acting_unit: COMMITTEE.into(),
                    acting_role: "coordinator".into(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: None,
                    origin: None,
                },
            });
        }
        if batch.len() == FILL_BATCH || i + 1 == n {
            let appended = store
                .append(AppendRequest {
                    stream_id: streams::stream_id(streams::LINK, "binhai"),
                    expected_version: match version {
                        0 => ExpectedVersion::NoStream,
                        v => ExpectedVersion::Exact(v),
                    },
                    events: std::mem::take(&mut batch),
                    request_id: Uuid::now_v7(),
                    command: None,
                })
                .await?;
            version = appended.last_version;
        }
    }
    Ok(())
}

/// LinkItems latency with `existing` links in the registry: `links` timed links after the first.
async fn one_size(dir: &std::path::Path, existing: usize, links: usize) -> Result<LinkRow> {
    let url = format!(
        "sqlite://{}",
        dir.join(format!("links-{existing}.db")).display()
    );
    let store: Arc<dyn EventStore> = Arc::new(SqliteEventStore::connect(&url).await?);
    fill(store.as_ref(), existing).await?;
    let rules = Arc::new(Rules::shipped()?);

    let context = Arc::new(Context {
        store: store.clone(),
        agency: Agency::PoliticalLegal,
        district: "binhai".into(),
        rules: rules.clone(),
        clock: oneledger_clock::Clock::system(),
        items: Default::default(),
    });
    let started = Instant::now();
    Repository::<LinkRegistry>::new(context, streams::LINK)
        .load("binhai")
        .await?;
    let replay = started.elapsed();

    let issuer = DevIssuer::generate("binhai")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let settings = Settings {
        agency: Agency::PoliticalLegal,
        district: "binhai".into(),
        verifier: issuer.verifier()?,
        master_key: None,
        pseudonym_key: None,
        rules,
        clock: oneledger_clock::Clock::system(),
        watch: None,
        tls: None,
        peers: Default::default(),
    };
    tokio::spawn(oneledger_services::serve(
        settings,
        store,
        listener,
        async {},
        std::future::pending(),
    ));
    let token = issuer.token(
        "bench",
        Agency::PoliticalLegal,
        COMMITTEE,
        &[Role::Coordinator],
        Duration::from_secs(3600),
    )?;
    let mut client = connect(&address).await?;
    let mut link = async |i: usize| -> Result<Duration> {
        let item = |kind: common::ItemKind, id: String| common::ItemRef {
            kind: kind as i32,
            id,
        };
        let request = LinkItemsRequest {
            request_id: Uuid::new_v4().to_string(),
            anchor: Some(item(common::ItemKind::PetitionMatter, format!("PMN{i:08}"))),
            other: Some(item(common::ItemKind::Dispute, format!("PS-N{i:08}"))),
            reason: "同一纠纷".into(),
        };
        let started = Instant::now();
        client
            .link_items(authorized(request, &token)?)
            .await
            .context("LinkItems")?;
        Ok(started.elapsed())
    };
    let first = link(0).await?;
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(links);
    for i in 1..=links {
        latencies.push(link(i).await?);
    }
    Ok(LinkRow {
        existing,
        replay,
        first,
        steady: measured(links, started.elapsed(), latencies),
    })
}

async fn connect(address: &str) -> Result<PoliticalLegalServiceClient<tonic::transport::Channel>> {
    for _ in 0..100 {
        if let Ok(client) = PoliticalLegalServiceClient::connect(address.to_owned()).await {
            return Ok(client);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    anyhow::bail!("the political-legal service did not start at {address}")
}

/// The link benchmark at each size of `existing`.
pub async fn run(dir: &std::path::Path, existing: &[usize], links: usize) -> Result<Vec<LinkRow>> {
    let mut rows = Vec::new();
    for &n in existing {
        eprintln!("registry with {n} links…");
        rows.push(one_size(dir, n, links).await?);
    }
    Ok(rows)
}
