//! `oneledger up` as a user runs it: a real process on free ports with a temp data directory. It answers
//! health checks, a petition registered at the petition service shows up in the ledger, and a restart keeps
//! the data.

#![allow(clippy::unwrap_used)] // a failure is a failed test

use std::process::Stdio;
use std::time::Duration;

use oneledger_auth::{Claims, Role, TokenKeys};
use oneledger_domain::Agency;
use oneledger_proto::ledger::v1::{ListEntriesRequest, ledger_service_client::LedgerServiceClient};
use oneledger_proto::petition::v1::{self as pb, petition_service_client::PetitionServiceClient};
use tokio::process::{Child, Command};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A base port whose next three ports are free too.
fn free_ports() -> u16 {
    loop {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base < 60000
            && (0..4).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
}

fn up(dir: &std::path::Path, base: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .arg("up")
        .arg("--data-dir")
        .arg(dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{base}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn serving(port: u16) -> bool {
    for _ in 0..100 {
        if let Ok(channel) =
            tonic::transport::Channel::from_shared(format!("http://127.0.0.1:{port}"))
                .unwrap()
                .connect()
                .await
            && let Ok(r) = HealthClient::new(channel)
                .check(HealthCheckRequest {
                    service: String::new(),
                })
                .await
            && r.into_inner().status == ServingStatus::Serving as i32
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

fn token(dir: &std::path::Path, unit: &str, roles: Vec<Role>) -> String {
    let keys: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("keys.json")).unwrap()).unwrap();
    let key = keys["token_key"].as_str().unwrap().as_bytes().to_vec();
    TokenKeys::new(vec![key]).unwrap().mint(&Claims {
        sub: "test".into(),
        agency: Agency::Petition,
        unit: unit.into(),
        roles,
        exp: chrono::Utc::now().timestamp() + 600,
        iat: 0,
    })
}

fn authorized<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut r = tonic::Request::new(message);
    r.metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    r
}

async fn entries(base: u16, token: &str) -> usize {
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    ledger
        .list_entries(authorized(ListEntriesRequest::default(), token))
        .await
        .unwrap()
        .into_inner()
        .entries
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_serves_everything_projects_a_petition_and_keeps_it_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    for port in base..base + 4 {
        assert!(serving(port).await, "port {port} never reported SERVING");
    }

    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let registered = petition
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                request_id: uuid::Uuid::now_v7().to_string(),
                channel: pb::Channel::Online as i32,
                claim_class: pb::ClaimClass::Claim as i32,
                title: "Noise from a night-time construction site".into(),
                petitioners: vec![pb::Petitioner {
                    name: "Wang Fang".into(),
                    ..Default::default()
                }],
                collective_size: 1,
                territory_unit_id: "binhai.xingang_subdistrict".into(),
                ..Default::default()
            },
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!registered.matter_id.is_empty());

    let coordinator = token(dir.path(), "binhai.plc", vec![Role::Coordinator]);
    let mut seen = 0;
    for _ in 0..100 {
        seen = entries(base, &coordinator).await;
        if seen == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 1, "the projector puts the petition in the ledger");

    process.kill().await.unwrap();
    let mut restarted = up(dir.path(), base);
    assert!(serving(base).await);
    assert_eq!(
        entries(base, &coordinator).await,
        1,
        "a restart keeps the ledger"
    );
    let viewer = token(dir.path(), "binhai.petition_office", vec![Role::Viewer]);
    let matter = petition
        .get_matter(authorized(
            pb::GetMatterRequest {
                matter_id: registered.matter_id.clone(),
            },
            &viewer,
        ))
        .await;
    // The old channel may have broken with the old process; reconnect once if so.
    let matter = match matter {
        Ok(m) => m,
        Err(_) => PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
            .await
            .unwrap()
            .get_matter(authorized(
                pb::GetMatterRequest {
                    matter_id: registered.matter_id,
                },
                &viewer,
            ))
            .await
            .unwrap(),
    };
    assert_eq!(matter.into_inner().matter.unwrap().stage, "registered");
    restarted.kill().await.unwrap();
}
