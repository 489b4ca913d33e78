//! `oneledger` as a user runs it: `up` as a real process on free ports with a temp data directory. It
//! answers health checks, a petition registered at the petition service shows up in the ledger, a restart
//! keeps the data, `demo` loads a year whose statistics show the annual report's figures, and on a
//! three-node NATS cluster with R3 streams a node killed mid-load loses nothing.

#![allow(clippy::unwrap_used)] // a failure is a failed test

use std::process::Stdio;
use std::time::Duration;

use oneledger_auth::{DevIssuer, Role};
use oneledger_domain::Agency;
use oneledger_domain::clock::legal_date;
use oneledger_proto::common::v1::{ItemKind, ItemRef};
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::ledger::v2::{
    self as ledger_pb, EntryFilter, GetEntryRequest, GetStatisticsRequest, GetStatisticsResponse,
    ListEntriesRequest, ledger_service_client::LedgerServiceClient,
};
use oneledger_proto::petition::v1::{self as pb, petition_service_client::PetitionServiceClient};
use oneledger_proto::political_legal::v1::{
    self as pl, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_proto::public_security::v1::{
    self as ps, public_security_service_client::PublicSecurityServiceClient,
};
use oneledger_testkit::{authorized, request_id};

#[path = "up/adversarial.rs"]
mod adversarial;
use tokio::process::{Child, Command};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// A legal day on the ledger's wire.
fn wire_day(d: chrono::NaiveDate) -> Option<oneledger_proto::google_type::Date> {
    Some(wire::date(d))
}

/// A figure of the ledger's statistics by its field name.
fn figure(s: &GetStatisticsResponse, name: &str) -> u64 {
    wire::figure_rows(&s.figures.unwrap_or_default(), &s.rates.unwrap_or_default())
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no figure {name}"))
        .value
        .count()
        .unwrap_or(0)
}

/// A unit's id on a ledger entry; empty when absent.
fn unit_id(u: &Option<ledger_pb::Unit>) -> &str {
    u.as_ref().map_or("", |u| u.unit_id.as_str())
}

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
    up_with(dir, base, &[])
}

fn up_with(dir: &std::path::Path, base: u16, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .arg("up")
        .arg("--data-dir")
        .arg(dir)
        .arg("--listen")
        .arg(format!("127.0.0.1:{base}"))
        .args(extra)
        .stdout(Stdio::null())
        // Kept beside the data for a failing test to show.
        .stderr(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join("up.log"))
                .unwrap(),
        )
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

async fn serving(port: u16) -> bool {
    serving_within(port, 100).await
}

/// Whether `port` reports SERVING within `tries` tenths of a second.
async fn serving_within(port: u16, tries: u32) -> bool {
    for _ in 0..tries {
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
    agency_token(dir, Agency::Petition, unit, roles)
}

fn agency_token(dir: &std::path::Path, agency: Agency, unit: &str, roles: Vec<Role>) -> String {
    let pem = std::fs::read(dir.join("issuer.pem")).unwrap();
    let issuer = DevIssuer::from_pem(&pem, "binhai").unwrap();
    oneledger_testkit::token(&issuer, agency, unit, &roles)
}

/// Waits (10 s at most) until the ledger lists `n` entries to `token`'s caller.
async fn entries_become(base: u16, token: &str, n: usize) {
    for _ in 0..100 {
        if entries(base, token).await == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
            new_petition("Noise from a night-time construction site", "Wang Fang"),
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!registered.matter_id.is_empty());

    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
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

/// A one-petitioner claim registered online in Xingang, under a fresh request id.
fn new_petition(title: &str, petitioner: &str) -> pb::RegisterPetitionRequest {
    pb::RegisterPetitionRequest {
        request_id: request_id(),
        channel: pb::Channel::Online as i32,
        claim_class: pb::ClaimClass::Claim as i32,
        title: title.into(),
        petitioners: vec![pb::Petitioner {
            name: petitioner.into(),
            ..Default::default()
        }],
        collective_size: 1,
        territory_unit_id: "binhai.xingang_subdistrict".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_petition_a_police_dispute_and_a_screened_risk_become_one_supervised_entry() {
    use pb::act_on_matter_request as act;
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    for port in base..base + 4 {
        assert!(serving(port).await);
    }
    let url = |n: u16| format!("http://127.0.0.1:{}", base + n);
    let d = dir.path();
    let (office, bureau, town, station, plc, meeting) = (
        "binhai.petition_office",
        "binhai.human_resources_bureau",
        "binhai.xingang_subdistrict",
        "binhai.police.xingang",
        "binhai.political_legal_committee",
        "binhai.joint_meeting_office",
    );

    // The petition office registers and assigns; the bureau accepts it on the petition route.
    let mut petition = PetitionServiceClient::connect(url(1)).await.unwrap();
    let clerk = token(d, office, vec![Role::IntakeClerk]);
    let handler = token(d, bureau, vec![Role::Handler]);
    let registered = petition
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                channel: pb::Channel::Visit as i32,
                collective_size: 23,
                territory_unit_id: town.into(),
                ..new_petition("Unpaid wages for 23 workers at the port site", "Zhao Lei")
            },
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner();
    let matter = registered.matter_id.clone();
    let mut v = registered.result.unwrap().version;
    let mut step = async |token: &str, action: act::Action, v: u64| {
        let r = pb::ActOnMatterRequest {
            request_id: request_id(),
            matter_id: matter.clone(),
            expected_version: v,
            action: Some(action),
        };
        petition
            .act_on_matter(authorized(r, token))
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap()
            .version
    };
    v = step(
        &clerk,
        act::Action::Assign(act::Route {
            unit_id: bureau.into(),
            territorial_unit_id: town.into(),
        }),
        v,
    )
    .await;
    v = step(&handler, act::Action::Receive(act::Empty {}), v).await;
    let accept = act::Accept {
        claim_class: pb::ClaimClass::Claim as i32,
        route: pb::ClaimRoute::PetitionRoute as i32,
        ..Default::default()
    };
    step(&handler, act::Action::Accept(accept), v).await;

    // The police station reports the dispute it met at the site gate.
    let officer = agency_token(
        d,
        Agency::PublicSecurity,
        station,
        vec![Role::PoliceOfficer],
    );
    let mut police = PublicSecurityServiceClient::connect(url(2)).await.unwrap();
    let report = |source: dispute::Source, title: &str| dispute::Report {
        source: source as i32,
        title: title.into(),
        category: "labour".into(),
        territory_unit_id: town.into(),
        collective_size: 23,
        ..Default::default()
    };
    let police_dispute = police
        .report_dispute(authorized(
            ps::ReportDisputeRequest {
                request_id: request_id(),
                report: Some(report(dispute::Source::Policing, "Workers block the gate")),
            },
            &officer,
        ))
        .await
        .unwrap()
        .into_inner()
        .dispute
        .unwrap()
        .dispute_id;

    // The committee screens the same dispute, warns of the risk, links all three and supervises the town.
    let coordinator = agency_token(d, Agency::PoliticalLegal, plc, vec![Role::Coordinator]);
    let supervisor = agency_token(d, Agency::PoliticalLegal, meeting, vec![Role::Supervisor]);
    let mut committee = PoliticalLegalServiceClient::connect(url(3)).await.unwrap();
    let risk = committee
        .report_dispute(authorized(
            pl::ReportDisputeRequest {
                request_id: request_id(),
                report: Some(report(
                    dispute::Source::SpecialScreening,
                    "Wage arrears risk at the port",
                )),
            },
            &coordinator,
        ))
        .await
        .unwrap()
        .into_inner()
        .dispute
        .unwrap()
        .dispute_id;
    let dispute_step = |action: dispute::step::Action, v: u64| pl::ActOnDisputeRequest {
        request_id: request_id(),
        dispute_id: risk.clone(),
        expected_version: v,
        step: Some(dispute::Step {
            action: Some(action),
        }),
    };
    committee
        .act_on_dispute(authorized(
            dispute_step(
                dispute::step::Action::Assess(dispute::RiskLevel::High as i32),
                1,
            ),
            &coordinator,
        ))
        .await
        .unwrap();
    committee
        .act_on_dispute(authorized(
            dispute_step(dispute::step::Action::Warn(true), 2),
            &coordinator,
        ))
        .await
        .unwrap();
    let item = |kind: ItemKind, id: &str| {
        Some(ItemRef {
            kind: kind as i32,
            id: id.into(),
        })
    };
    for other in [
        item(ItemKind::Dispute, &police_dispute),
        item(ItemKind::Dispute, &risk),
    ] {
        let link = pl::LinkItemsRequest {
            request_id: request_id(),
            anchor: item(ItemKind::PetitionMatter, &matter),
            other,
            reason: "same site".into(),
        };
        committee
            .link_items(authorized(link, &coordinator))
            .await
            .unwrap();
    }
    let order = committee
        .issue_supervision_order(authorized(
            pl::IssueSupervisionOrderRequest {
                request_id: request_id(),
                subject: item(ItemKind::PetitionMatter, &matter),
                to_unit_id: town.into(),
                due_on: (legal_date(chrono::Utc::now()) + chrono::Days::new(7)).to_string(),
                reason: "risk".into(),
                requirements: "Secure the wages and report".into(),
            },
            &supervisor,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut ov = order.result.unwrap().version;
    for level in [pl::Escalation::Interview, pl::Escalation::ListedSupervision] {
        let escalate = pl::ActOnSupervisionOrderRequest {
            request_id: request_id(),
            order_id: order.order_id.clone(),
            expected_version: ov,
            action: Some(pl::act_on_supervision_order_request::Action::Escalate(
                pl::act_on_supervision_order_request::Escalate {
                    level: level as i32,
                    note: "no feedback".into(),
                },
            )),
        };
        ov = committee
            .act_on_supervision_order(authorized(escalate, &supervisor))
            .await
            .unwrap()
            .into_inner()
            .result
            .unwrap()
            .version;
    }
    // The order names the matter as its subject: it joins the matter's entry with no link made by hand.

    // The ledger shows one entry with everything, and the statistics count it.
    let mut ledger = LedgerServiceClient::connect(url(0)).await.unwrap();
    let mut entry = None;
    for _ in 0..100 {
        let got = ledger
            .get_entry(authorized(
                GetEntryRequest {
                    item: item(ItemKind::Dispute, &police_dispute),
                },
                &coordinator,
            ))
            .await;
        if let Ok(e) = got {
            let e = e.into_inner().entry.unwrap();
            if e.items.len() == 4
                && e.supervision_orders
                    .iter()
                    .any(|o| o.escalation() == pl::Escalation::ListedSupervision)
            {
                entry = Some(e);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let entry = entry.expect("the entry gathers all four items");
    assert_eq!(entry.root.as_ref().unwrap().id, matter);
    assert_eq!(
        (
            unit_id(&entry.responsible_unit),
            unit_id(&entry.territorial_unit)
        ),
        (bureau, town)
    );
    assert_eq!(unit_id(&entry.police_station), station);
    assert_eq!(entry.risk_level(), dispute::RiskLevel::High);
    assert!(
        entry
            .deadlines
            .iter()
            .any(|d| d.kind() == ledger_pb::DeadlineKind::Handling && d.article == "art. 34")
    );
    let agencies: std::collections::BTreeSet<i32> =
        entry.timeline.iter().map(|l| l.agency).collect();
    assert_eq!(agencies.len(), 3, "one timeline across the three agencies");
    assert!(
        entry
            .timeline
            .windows(2)
            .all(|w| w[0].occurred_at.unwrap().seconds <= w[1].occurred_at.unwrap().seconds)
    );

    let today = legal_date(chrono::Utc::now());
    let stats = ledger
        .get_statistics(authorized(
            GetStatisticsRequest {
                from_date: wire_day(today),
                to_date: wire_day(today),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &coordinator,
        ))
        .await
        .unwrap()
        .into_inner();
    for (name, n) in [
        ("matters_registered", 1),
        ("matters_accepted", 1),
        ("disputes_reported", 2),
        ("warnings_issued", 1),
        ("supervision_orders_issued", 1),
        ("supervision_escalations", 2),
    ] {
        assert_eq!(
            Some(figure(&stats, name)),
            Some(n),
            "{name}: {:?}",
            stats.figures
        );
    }
    let town_row = stats.units.iter().find(|u| unit_id(&u.unit) == town);
    assert_eq!(town_row.map(|u| u.supervision_orders), Some(1));
    process.kill().await.unwrap();
}

/// `oneledger` with `args`, its status, stdout and stderr.
async fn oneledger(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

/// On a stopped `up`'s data directory holding three projected petitions: `admin status`, `admin parked`
/// and `rebuild --verify`.
async fn operator_commands_read_and_settle_what_the_ledger_holds(dir: &std::path::Path) {
    let data = dir.to_str().unwrap();
    // Status: each feed at its store's head, nothing parked.
    let (ok, out, err) = oneledger(&["admin", "status", "--data-dir", data]).await;
    assert!(ok, "{err}");
    assert!(
        out.contains("store:petition") && out.contains("parked events: 0"),
        "{out}"
    );
    // A parked event (as the projector parks one it cannot read) is listed, then dropped with a record.
    let url = format!("sqlite://{}", dir.join("ledger.db").display());
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    sqlx::query("INSERT INTO ledger_parked VALUES ('petition', 99, 'petition.matter.assigned', 'to: expected a unit id', '{}')")
        .execute(&mut db)
        .await
        .unwrap();
    let (ok, out, _) = oneledger(&["admin", "parked", "list", "--data-dir", data]).await;
    assert!(
        ok && out.contains("1 parked") && out.contains("to: expected a unit id"),
        "{out}"
    );
    let drop = |position: &'static str| {
        let data = data.to_owned();
        async move {
            oneledger(&[
                "admin",
                "parked",
                "drop",
                "--data-dir",
                &data,
                "--agency",
                "petition",
                "--position",
                position,
                "--operator",
                "王工",
                "--why",
                "测试数据",
            ])
            .await
        }
    };
    let (ok, _, err) = drop("98").await;
    assert!(
        !ok && err.contains("--position"),
        "a drop of what is not parked is refused: {err}"
    );
    let (ok, _, err) = drop("99").await;
    assert!(ok, "{err}");
    let (_, out, _) = oneledger(&["admin", "parked", "list", "--data-dir", data]).await;
    assert!(
        out.contains("0 parked") && out.contains("王工") && out.contains("测试数据"),
        "{out}"
    );
    // A retry: an item the live ledger lost its events of, one of them parked as an older binary would
    // have, is projected again from its store's stream.
    let (position, item): (i64, String) = sqlx::query_as(
        "SELECT position, item FROM ledger_timeline WHERE agency = 'petition' ORDER BY position LIMIT 1",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    for statement in [
        // Statements of the test's own, never input.
        "DELETE FROM ledger_items WHERE item = $1",
        "DELETE FROM ledger_timeline WHERE item = $1",
    ] {
        sqlx::query(statement)
            .bind(&item)
            .execute(&mut db)
            .await
            .unwrap();
    }
    sqlx::query("INSERT INTO ledger_parked VALUES ('petition', $1, 'petition.matter.registered', 'an older binary could not read it', '{}')")
        .bind(position)
        .execute(&mut db)
        .await
        .unwrap();
    let at = position.to_string();
    let (ok, out, err) = oneledger(&[
        "admin",
        "parked",
        "retry",
        "--data-dir",
        data,
        "--agency",
        "petition",
        "--position",
        &at,
        "--operator",
        "王工",
        "--why",
        "升级后重放",
    ])
    .await;
    assert!(ok && out.contains("projected"), "{out}{err}");
    let (_, out, _) = oneledger(&["admin", "parked", "list", "--data-dir", data]).await;
    assert!(
        out.contains("0 parked") && out.contains("retry") && out.contains("升级后重放"),
        "{out}"
    );
    // Verify: the rebuilt ledger's digest equals the live one's, which stays in place …
    let (ok, out, err) = oneledger(&["rebuild", "--data-dir", data, "--verify"]).await;
    assert!(ok && out.contains("equal"), "{out}{err}");
    // … and differs once a timeline line of the live one is lost.
    sqlx::query(
        "DELETE FROM ledger_timeline WHERE position = (SELECT MAX(position) FROM ledger_timeline)",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let (ok, _, err) = oneledger(&["rebuild", "--data-dir", data, "--verify"]).await;
    assert!(!ok && err.contains("differs"), "{err}");
    sqlx::Connection::close(db).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rpc_answers_malformed_requests_and_forged_tokens_with_a_code_to_act_on_and_writes_nothing()
 {
    // Given a running system holding a petition.
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    for port in base..base + 4 {
        assert!(serving(port).await, "port {port}");
    }
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap()
        .register_petition(authorized(new_petition("占道经营", "王芳"), &clerk))
        .await
        .unwrap();
    let pem = std::fs::read(dir.path().join("issuer.pem")).unwrap();
    let issuer = DevIssuer::from_pem(&pem, "binhai").unwrap();
    // When every RPC is sent every bad shape of request and every forged token,
    let failures = adversarial::attack(dir.path(), base, &issuer, Duration::from_secs(600)).await;
    // then each answer was one to act on and nothing refused wrote, and the process never panicked.
    assert!(process.try_wait().unwrap().is_none(), "up still runs");
    let log = std::fs::read_to_string(dir.path().join("up.log")).unwrap();
    assert!(!log.contains("panicked"), "up panicked:\n{log}");
    assert!(
        failures.is_empty(),
        "{} answers were wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    process.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuilt_ledger_equals_the_live_one_and_is_swapped_in() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    assert!(serving(base + 1).await);
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    for title in ["Noise at night", "Blocked fire lane", "Unpaid wages"] {
        petition
            .register_petition(authorized(
                pb::RegisterPetitionRequest {
                    channel: pb::Channel::Letter as i32,
                    ..new_petition(title, "Sun Li")
                },
                &clerk,
            ))
            .await
            .unwrap();
    }
    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    entries_become(base, &coordinator, 3).await;
    process.kill().await.unwrap();
    let live_path = dir.path().join("ledger.db");
    let live =
        oneledger_projector::SqlLedger::connect(&format!("sqlite://{}", live_path.display()))
            .await
            .unwrap()
            .load_model()
            .await
            .unwrap();
    assert_eq!(live.items.len(), 3);
    operator_commands_read_and_settle_what_the_ledger_holds(dir.path()).await;

    let status = Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .arg("rebuild")
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .unwrap();
    assert!(status.success());
    let rebuilt =
        oneledger_projector::SqlLedger::connect(&format!("sqlite://{}", live_path.display()))
            .await
            .unwrap()
            .load_model()
            .await
            .unwrap();
    assert_eq!(
        rebuilt, live,
        "row by row, the rebuild equals the live ledger"
    );
    let kept = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("ledger.before-rebuild-")
        });
    assert!(kept, "the old ledger is kept aside");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_system_backed_up_while_it_runs_destroyed_and_restored_holds_the_same_ledger_and_reads_its_people()
 {
    // Given a running system holding petitions in Chinese, with a petitioner's name sealed.
    let root = tempfile::tempdir().unwrap();
    let (data, backup, keys) = (
        root.path().join("data"),
        root.path().join("backup"),
        root.path().join("keys"),
    );
    std::fs::create_dir_all(&data).unwrap();
    let base = free_ports();
    let mut process = up(&data, base);
    assert!(serving(base + 1).await);
    let clerk = token(&data, "binhai.petition_office", vec![Role::IntakeClerk]);
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let mut refs = Vec::new();
    for title in ["夜间施工噪声扰民", "消防通道被占用", "拖欠农民工工资"] {
        let registered = petition
            .register_petition(authorized(new_petition(title, "孙丽"), &clerk))
            .await
            .unwrap()
            .into_inner();
        refs.push(registered.person_refs[0].clone());
    }
    let coordinator = token(
        &data,
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    entries_become(base, &coordinator, 3).await;
    // When it is backed up while it runs (keys apart), and a petition comes in after the backup,
    let data_s = data.to_str().unwrap();
    let (ok, out, err) = oneledger(&[
        "backup",
        "--data-dir",
        data_s,
        "--to",
        backup.to_str().unwrap(),
        "--keys-to",
        keys.to_str().unwrap(),
    ])
    .await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = oneledger(&[
        "backup",
        "--data-dir",
        data_s,
        "--to",
        root.path().join("b2").to_str().unwrap(),
        "--keys-to",
        root.path().join("b2/keys").to_str().unwrap(),
    ])
    .await;
    assert!(
        !ok && err.contains("apart"),
        "keys inside the data backup are refused: {err}"
    );
    assert!(!backup.join("keys.json").exists() && keys.join("keys.json").exists());
    let url = |dir: &std::path::Path| format!("sqlite://{}", dir.join("ledger.db").display());
    // Read from a copy: opening a database writes to it, and the backup must stay as taken.
    let look = root.path().join("look");
    std::fs::create_dir_all(&look).unwrap();
    std::fs::copy(backup.join("ledger.db"), look.join("ledger.db")).unwrap();
    let digest_at_backup = oneledger_projector::SqlLedger::connect(&url(&look))
        .await
        .unwrap()
        .digest()
        .await
        .unwrap();
    petition
        .register_petition(authorized(new_petition("backup 之后", "李强"), &clerk))
        .await
        .unwrap();
    process.kill().await.unwrap();
    // and the data directory is destroyed and restored from the backup and its keys,
    std::fs::remove_dir_all(&data).unwrap();
    let (ok, out, err) = oneledger(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--keys-from",
        keys.to_str().unwrap(),
        "--data-dir",
        data_s,
    ])
    .await;
    assert!(ok, "{out}{err}");
    let (ok, _, err) = oneledger(&[
        "restore",
        "--from",
        backup.to_str().unwrap(),
        "--data-dir",
        data_s,
    ])
    .await;
    assert!(
        !ok && err.contains("empty data directory"),
        "a restore never overwrites: {err}"
    );
    // then the restored ledger is the one backed up, the system starts on it, and the petitioner's
    // name reads back under the restored master key.
    let restored = oneledger_projector::SqlLedger::connect(&url(&data))
        .await
        .unwrap();
    assert_eq!(restored.digest().await.unwrap(), digest_at_backup);
    drop(restored);
    let mut process = up(&data, base);
    assert!(serving(base + 1).await);
    assert_eq!(entries(base, &coordinator).await, 3);
    let reader = token(&data, "binhai.petition_office", vec![Role::PiiReader]);
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let read = petition
        .get_personal_data(authorized(
            pb::GetPersonalDataRequest {
                person_ref: refs[0].clone(),
                purpose: pb::Purpose::Handling as i32,
                fields: vec![pb::PersonalField::Name as i32],
            },
            &reader,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(read.petitioner.unwrap().name, "孙丽");
    process.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_read_the_ledger_and_a_petition_status_as_tables() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    assert!(serving(base).await && serving(base + 1).await);
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
                channel: pb::Channel::Phone as i32,
                claim_class: pb::ClaimClass::Suggestion as i32,
                ..new_petition("More buses to the industrial park", "Chen Jie")
            },
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner();
    // People write Chinese: a second petition whose title is Chinese must line up in the table too.
    petition
        .register_petition(authorized(
            new_petition("工业园区增开公交线路", "陈洁"),
            &clerk,
        ))
        .await
        .unwrap();
    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    for _ in 0..100 {
        if entries(base, &coordinator).await == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = async |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oneledger"))
            .args(args)
            .output()
            .await
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let ledger = format!("http://127.0.0.1:{base}");
    let list = run(&[
        "ledger",
        "list",
        "--address",
        &ledger,
        "--token",
        &coordinator,
    ])
    .await;
    assert!(
        list.contains(&registered.matter_id)
            && list.contains("More buses")
            && list.contains("工业园区增开公交线路"),
        "{list}"
    );
    // Columns line up by display width (a Chinese character takes two columns): the status column starts
    // at the same column in the header and in every row.
    let width = |s: &str| -> usize {
        s.chars()
            .map(|c| if ('\u{1100}'..).contains(&c) { 2 } else { 1 })
            .sum()
    };
    let status_column = |line: &str| {
        ["status", "open", "closed"]
            .iter()
            .filter_map(|w| line.find(&format!(" {w} ")))
            .min()
            .map(|at| width(&line[..at]))
    };
    // After the table, how many of how many the query matched.
    let (table, shown) = list.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(shown, "2 of 2", "{list}");
    let columns: Vec<_> = table
        .lines()
        .filter(|l| !l.starts_with('-'))
        .map(status_column)
        .collect();
    assert!(
        columns.len() == 3 && columns.iter().all(|c| c.is_some() && *c == columns[0]),
        "{columns:?}\n{list}"
    );
    let item = format!("petition_matter:{}", registered.matter_id);
    let show = run(&[
        "ledger",
        "show",
        "--address",
        &ledger,
        "--token",
        &coordinator,
        &item,
    ])
    .await;
    assert!(
        show.contains("petition.matter.registered") && show.contains("art. 22"),
        "{show}"
    );
    let today = legal_date(chrono::Utc::now()).to_string();
    let stats = run(&[
        "ledger",
        "stats",
        "--address",
        &ledger,
        "--token",
        &coordinator,
        "--from",
        &today,
        "--to",
        &today,
    ])
    .await;
    assert!(stats.contains("matters_registered"), "{stats}");
    let petition_address = format!("http://127.0.0.1:{}", base + 1);
    let status = run(&[
        "petition-status",
        "--address",
        &petition_address,
        &registered.matter_id,
        &registered.query_code,
    ])
    .await;
    assert!(status.contains("stage: registered"), "{status}");
    assert!(!status.contains("Chen Jie"), "no personal data");
    process.kill().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_loads_a_year_over_twelve_months_on_a_demo_clock_whose_statistics_show_the_reports_figures()
 {
    // given `up --demo-clock` on a fresh directory: a clock a year behind, which the demo moves
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up_with(dir.path(), base, &["--demo-clock"]);
    for port in base..base + 4 {
        assert!(serving(port).await);
    }
    let address = |n: u16| format!("http://127.0.0.1:{}", base + n);
    let output = Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .args(["demo", "--seed", "7", "--petitions", "200", "--data-dir"])
        .arg(dir.path())
        .args(["--ledger-address", &address(0)])
        .args(["--petition-address", &address(1)])
        .args(["--public-security-address", &address(2)])
        .args(["--political-legal-address", &address(3)])
        .args(["--demo-clock-address", &address(4)])
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let mut ledger = LedgerServiceClient::connect(address(0)).await.unwrap();
    let today = legal_date(chrono::Utc::now());
    let year_ago = today
        .checked_sub_months(chrono::Months::new(12))
        .unwrap()
        .succ_opt()
        .unwrap();
    let stats = ledger
        .get_statistics(authorized(
            GetStatisticsRequest {
                from_date: wire_day(year_ago),
                to_date: wire_day(today),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &coordinator,
        ))
        .await
        .unwrap()
        .into_inner();
    // then the year is spread over its twelve months: the first quarter alone holds a quarter of it
    let quarter = ledger
        .get_statistics(authorized(
            GetStatisticsRequest {
                from_date: wire_day(year_ago),
                to_date: wire_day(year_ago + chrono::Days::new(90)),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &coordinator,
        ))
        .await
        .unwrap()
        .into_inner();
    let registered =
        |s: &oneledger_proto::ledger::v2::GetStatisticsResponse| figure(s, "matters_registered");
    assert!(
        registered(&quarter) * 6 > registered(&stats)
            && registered(&quarter) * 3 < registered(&stats),
        "{} of {} in the first quarter",
        registered(&quarter),
        registered(&stats)
    );
    // and what was left open months ago is overdue now, with proposals for the joint meeting office
    for name in ["matters_overdue", "supervision_proposals"] {
        assert!(figure(&stats, name) > 0, "{name}: {stats:?}");
    }
    let overdue = ledger
        .list_entries(authorized(
            ListEntriesRequest {
                filter: Some(EntryFilter {
                    overdue_only: true,
                    ..Default::default()
                }),
                ..Default::default()
            },
            &coordinator,
        ))
        .await
        .unwrap()
        .into_inner()
        .entries;
    assert!(
        overdue.iter().any(|e| e
            .proposals
            .iter()
            .any(|p| p.status() == ledger_pb::ProposalStatus::Open)),
        "overdue entries with open proposals"
    );
    for (name, n) in [
        ("warnings_issued", 206),
        ("supervision_orders_issued", 186),
        ("resolution_reports", 269),
        ("collective_matters_assigned", 111),
        ("priority_matters_assigned", 110),
    ] {
        assert_eq!(Some(figure(&stats, name)), Some(n), "{name}: {stats:?}");
        assert!(stdout.contains(name), "the demo prints {name}");
    }
    for name in [
        "matters_registered",
        "matters_concluded",
        "repeat_petitions_refused",
        "handling_extensions",
        "re_reviews_requested",
        "joint_handlings_opened",
        "supervision_escalations",
        // repeat petitions found by intake itself, and the backlog of open repeat matters
        "first_petitions",
        "repeat_petitions",
        "repeat_petitions_merged",
        "repeat_petitions_as_new_matters",
        "matters_lawfully_concluded",
        "open_repeat_matters",
    ] {
        assert!(figure(&stats, name) > 0, "the year has {name}: {stats:?}");
    }
    assert!(
        ["upheld", "changed", "revoked"]
            .iter()
            .any(|o| figure(&stats, &format!("re_review_outcomes_{o}")) > 0),
        "re-review outcomes are counted: {stats:?}"
    );

    // A start without --demo-clock on the demo's directory is refused, naming the flag
    process.kill().await.unwrap();
    let _ = process.wait().await;
    let refusal = async |dir: &std::path::Path, extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_oneledger"))
            .arg("up")
            .args(extra)
            .arg("--data-dir")
            .arg(dir)
            .args(["--listen", &format!("127.0.0.1:{base}")])
            .output()
            .await
            .unwrap();
        assert!(!out.status.success(), "a start that must be refused ran");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let stderr = refusal(dir.path(), &[]).await;
    assert!(stderr.contains("--demo-clock"), "{stderr}");
    // and --demo-clock on a directory holding real data is refused
    let real = tempfile::tempdir().unwrap();
    std::fs::write(real.path().join("petition.db"), b"").unwrap();
    let stderr = refusal(real.path(), &["--demo-clock"]).await;
    assert!(stderr.contains("fresh"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_three_node_nats_cluster_a_node_killed_mid_load_loses_nothing() {
    let mut cluster = oneledger_testkit::NatsCluster::start().await.unwrap();
    // The cluster elects its JetStream leader before R3 streams can be made.
    let client = async_nats::connect(cluster.urls().split(',').collect::<Vec<_>>())
        .await
        .unwrap();
    let js = async_nats::jetstream::new(client);
    let mut ready = false;
    for _ in 0..300 {
        let probe = async_nats::jetstream::stream::Config {
            name: "READY_PROBE".into(),
            subjects: vec!["ready.probe".into()],
            num_replicas: 3,
            ..Default::default()
        };
        if js.create_stream(probe).await.is_ok() {
            js.delete_stream("READY_PROBE").await.unwrap();
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready, "the cluster's JetStream never came up");

    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let urls = cluster.urls();
    let _process = up_with(
        dir.path(),
        base,
        &["--nats-url", &urls, "--stream-replicas", "3"],
    );
    // Three replicated streams and their consumers are made first: slower than on one server.
    assert!(
        serving_within(base, 600).await && serving_within(base + 1, 600).await,
        "up did not serve:\n{}",
        std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default()
    );
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();

    // Four writers register 60 petitions each; after the first 80, the stream's leader is killed.
    const WRITERS: usize = 4;
    const EACH: usize = 60;
    let registered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (mut petition, clerk, registered) =
            (petition.clone(), clerk.clone(), registered.clone());
        writers.spawn(async move {
            let mut ids = Vec::new();
            for i in 0..EACH {
                let r = petition
                    .register_petition(authorized(
                        new_petition(&format!("Petition {w}-{i}"), "Zhao Lei"),
                        &clerk,
                    ))
                    .await
                    .unwrap()
                    .into_inner();
                ids.push(r.matter_id);
                registered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            }
            ids
        });
    }
    while registered.load(std::sync::atomic::Ordering::SeqCst) < 80 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // The node that leads the petition stream: the hardest one to lose.
    let name = oneledger_bus::StreamSpec::for_agency(Agency::Petition).name;
    let mut leader = None;
    for _ in 0..100 {
        // A stream may be between leaders for a moment.
        if let Ok(mut stream) = js.get_stream(&name).await
            && let Ok(info) = stream.info().await
        {
            leader = info.cluster.as_ref().and_then(|c| c.leader.clone());
        }
        if leader.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let leader = leader.expect("the petition stream has a leader");
    let node: usize = leader.trim_start_matches('n').parse().unwrap();
    cluster.kill(node).await.unwrap();
    let mut ids = Vec::new();
    while let Some(batch) = writers.join_next().await {
        ids.extend(batch.unwrap());
    }
    assert_eq!(ids.len(), WRITERS * EACH);

    // Every event reaches the R3 stream on the two nodes left, in order and without a hole…
    let store = oneledger_store::connect(&format!(
        "sqlite://{}",
        dir.path().join("petition.db").display()
    ))
    .await
    .unwrap();
    let head = store.head().await.unwrap();
    let mut last = 0;
    for _ in 0..600 {
        if let Ok(mut stream) = js.get_stream(&name).await
            && let Ok(info) = stream.info().await
        {
            assert_eq!(info.config.num_replicas, 3);
            last = info.state.last_sequence;
            if last == head {
                assert_eq!(info.state.messages, head, "no hole in the stream");
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        last,
        head,
        "the stream holds every stored event; up said:\n{}",
        std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default()
    );

    // … and every petition reaches the ledger, once.
    each_petition_in_the_ledger_once(dir.path(), base, &ids, 600).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_on_postgresql_keeps_each_store_and_the_ledger_in_a_database_of_its_own_and_they_dump_and_restore()
 {
    let db = oneledger_testkit::TestDatabase::create().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let args = ["--database-url", db.url.as_str()];
    let mut process = up_with(dir.path(), base, &args);
    assert!(serving(base).await && serving(base + 1).await);
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    petition
        .register_petition(authorized(
            new_petition("Heating off in a housing estate", "Liu Yang"),
            &clerk,
        ))
        .await
        .unwrap();
    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let mut seen = 0;
    for _ in 0..100 {
        seen = entries(base, &coordinator).await;
        if seen == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 1);
    assert!(
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .all(|e| !e.file_name().to_string_lossy().ends_with(".db")),
        "no SQLite file: the data is in PostgreSQL"
    );

    // The petition store is a database of its own, and a restart finds the data there.
    let store = oneledger_store::connect(&format!("{}_petition", db.url))
        .await
        .unwrap();
    assert!(store.head().await.unwrap() >= 1);
    drop(store);
    process.kill().await.unwrap();
    let ledger_url = format!("{}_ledger", db.url);
    let before = oneledger_projector::SqlLedger::connect(&ledger_url)
        .await
        .unwrap()
        .digest()
        .await
        .unwrap();
    // The documented procedure (deploy/README.md): pg_dump each database, the ledger first; lose them;
    // pg_restore each into an empty database of the same name.
    let parts = ["ledger", "petition", "public_security", "political_legal"];
    for part in parts {
        let file = dir.path().join(format!("{part}.dump"));
        let url = format!("{}_{part}", db.url);
        let status = std::process::Command::new("pg_dump")
            .args(["--format=custom", "--dbname", &url, "--file"])
            .arg(&file)
            .status()
            .unwrap();
        assert!(status.success(), "pg_dump {part}");
    }
    let mut admin =
        <sqlx::PgConnection as sqlx::Connection>::connect(&oneledger_testkit::admin_url())
            .await
            .unwrap();
    let name = db.url.rsplit('/').next().unwrap().to_owned();
    for part in parts {
        // Names of the test's own databases, never input.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE \"{name}_{part}\" WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE \"{name}_{part}\""
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        let status = std::process::Command::new("pg_restore")
            .args(["--no-owner", "--dbname", &format!("{}_{part}", db.url)])
            .arg(dir.path().join(format!("{part}.dump")))
            .status()
            .unwrap();
        assert!(status.success(), "pg_restore {part}");
    }
    let after = oneledger_projector::SqlLedger::connect(&ledger_url)
        .await
        .unwrap()
        .digest()
        .await
        .unwrap();
    assert_eq!(after, before, "the restored ledger is the one dumped");
    let _process = up_with(dir.path(), base, &args);
    assert!(serving(base).await);
    assert_eq!(entries(base, &coordinator).await, 1);
    drop(_process);
    db.drop_with_siblings(&["petition", "public_security", "political_legal", "ledger"])
        .await
        .unwrap();
}

/// Registers `count` petitions one after another, each retried under its request id while the service
/// answers UNAVAILABLE (as a client is told to), and counts each success in `registered`.
async fn register_retrying(
    mut petition: PetitionServiceClient<tonic::transport::Channel>,
    clerk: String,
    writer: usize,
    count: usize,
    registered: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let request = new_petition(&format!("停电后的供暖纠纷 {writer}-{i}"), "Zhao Lei");
        let id = loop {
            match petition
                .register_petition(authorized(request.clone(), &clerk))
                .await
            {
                Ok(r) => break r.into_inner().matter_id,
                Err(s) if s.code() == tonic::Code::Unavailable => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(s) => panic!("petition {writer}-{i}: {s:?}"),
            }
        };
        ids.push(id);
        registered.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_ends_nothing() {
    // The production layout on servers of the test's own: PostgreSQL for the stores and the ledger,
    // NATS JetStream between them.
    let mut pg = oneledger_testkit::PgServer::start().await.unwrap();
    let nats = oneledger_testkit::NatsServer::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let database = pg.url("postgres");
    let mut process = up_with(
        dir.path(),
        base,
        &["--database-url", &database, "--nats-url", &nats.url()],
    );
    // Four databases made on a fresh cluster, their migrations and three streams come first: on a busy
    // two-core machine (the other tests run beside it) that can take longer than ten seconds.
    assert!(
        serving_within(base, 600).await && serving_within(base + 1, 600).await,
        "up did not serve:\n{}",
        std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default()
    );
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();

    // Two writers register 40 petitions each; after the first 30, PostgreSQL stops as in a crash for 5 s.
    const WRITERS: usize = 2;
    const EACH: usize = 40;
    let registered = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let load = register_retrying(petition.clone(), clerk.clone(), w, EACH, registered.clone());
        writers.spawn(load);
    }
    while registered.load(std::sync::atomic::Ordering::SeqCst) < 30 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    pg.stop_immediate().await.unwrap();
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        process.try_wait().unwrap().is_none(),
        "up kept running while PostgreSQL was down:\n{}",
        std::fs::read_to_string(dir.path().join("up.log")).unwrap_or_default()
    );
    pg.restart().await.unwrap();

    let mut ids = Vec::new();
    while let Some(batch) = writers.join_next().await {
        ids.extend(batch.unwrap());
    }
    assert_eq!(ids.len(), WRITERS * EACH);
    // Every petition reaches the ledger, once, without anyone restarting up.
    each_petition_in_the_ledger_once(dir.path(), base, &ids, 300).await;
    assert!(process.try_wait().unwrap().is_none(), "up is still running");
}

/// Waits up to `tries` tenths of a second for the ledger of the `up` in `dir` at `base` to count exactly
/// `ids.len()` petitions registered today, then checks each has its entry; up's log explains a failure.
async fn each_petition_in_the_ledger_once(
    dir: &std::path::Path,
    base: u16,
    ids: &[String],
    tries: u32,
) {
    let coordinator = token(
        dir,
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    let today = legal_date(chrono::Utc::now());
    let mut seen = 0;
    for _ in 0..tries {
        let stats = ledger
            .get_statistics(authorized(
                GetStatisticsRequest {
                    from_date: wire_day(today),
                    to_date: wire_day(today),
                    unit_id: String::new(),
                    exclude_imported: false,
                },
                &coordinator,
            ))
            .await;
        seen = stats
            .ok()
            .map(|s| figure(&s.into_inner(), "matters_registered"))
            .unwrap_or_default();
        if seen >= ids.len() as u64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        seen,
        ids.len() as u64,
        "each petition counted once; up said:\n{}",
        std::fs::read_to_string(dir.join("up.log")).unwrap_or_default()
    );
    for id in ids {
        ledger
            .get_entry(authorized(
                GetEntryRequest {
                    item: Some(ItemRef {
                        kind: ItemKind::PetitionMatter as i32,
                        id: id.clone(),
                    }),
                },
                &coordinator,
            ))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_petition_with_new_facts_joins_its_original_s_entry_with_no_link_made_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    for port in base..base + 4 {
        assert!(serving(port).await);
    }
    let d = dir.path();
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let clerk = token(d, "binhai.petition_office", vec![Role::IntakeClerk]);
    let original = petition
        .register_petition(authorized(
            new_petition("新港街道某小区供暖不达标", "王芳"),
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner()
        .matter_id;
    let again = petition
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                same_matter_as: original.clone(),
                new_facts: true,
                ..new_petition("供暖不达标，新增室温检测报告", "王芳")
            },
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner()
        .matter_id;
    assert_ne!(again, original);

    // The committee's service joins the new matter to the original's entry by itself.
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    let viewer = token(
        d,
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let mut joined = None;
    for _ in 0..100 {
        let got = ledger
            .get_entry(authorized(
                GetEntryRequest {
                    item: Some(ItemRef {
                        kind: ItemKind::PetitionMatter as i32,
                        id: again.clone(),
                    }),
                },
                &viewer,
            ))
            .await;
        if let Ok(e) = got {
            let e = e.into_inner().entry.unwrap();
            if e.items.len() == 2 {
                joined = Some(e);
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    process.kill().await.unwrap();
    let entry = joined.expect("the repeat petition never joined its original's entry");
    assert_eq!(entry.root.unwrap().id, original);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_person_twice_has_one_ref_and_nothing_of_them_is_in_clear_in_any_file_or_log() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_ports();
    let mut process = up(dir.path(), base);
    for port in base..base + 4 {
        assert!(serving(port).await);
    }
    let clerk = token(
        dir.path(),
        "binhai.petition_office",
        vec![Role::IntakeClerk],
    );
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let (name, id_number, phone) = ("欧阳淑珍", "12011619650412356X", "13920001234");
    let register = |category: &str, id_number: &str, phone: &str| pb::RegisterPetitionRequest {
        petitioners: vec![pb::Petitioner {
            name: name.into(),
            id_number: id_number.into(),
            phone: phone.into(),
            address: "塘沽新港三号路八号".into(),
        }],
        narrative: "包工头拖欠我们三个月工资，联系不上。".into(),
        category: category.into(),
        respondent_unit_id: "binhai.human_resources_bureau".into(),
        ..new_petition("港区工地拖欠工资", name)
    };
    let first = petition
        .register_petition(authorized(register("劳动保障", id_number, phone), &clerk))
        .await
        .unwrap()
        .into_inner();
    // The same person as another clerk writes them: the ID number's letter in lower case.
    let second = petition
        .register_petition(authorized(
            register("劳动保障", &id_number.to_lowercase(), ""),
            &clerk,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.person_refs, second.person_refs);
    let intake = second.matter.unwrap().intake.unwrap();
    assert_eq!(intake.outcome, pb::IntakeOutcome::Merged as i32);
    assert_eq!(intake.original_matter_id, first.matter_id);

    // Once the ledger shows both in one entry, stop, and read every file and log `up` wrote.
    let coordinator = token(
        dir.path(),
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    let mut items = 0;
    for _ in 0..100 {
        let entry = ledger
            .get_entry(authorized(
                GetEntryRequest {
                    item: Some(ItemRef {
                        kind: ItemKind::PetitionMatter as i32,
                        id: second.matter_id.clone(),
                    }),
                },
                &coordinator,
            ))
            .await;
        items = entry.map_or(0, |e| e.into_inner().entry.unwrap().items.len());
        if items == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(items, 2, "the repeat joins its original's entry");
    process.kill().await.unwrap();
    process.wait().await.unwrap();
    let mut read = 0;
    for file in std::fs::read_dir(dir.path()).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        read += 1;
        for clear in [
            name,
            "12011619650412356",
            phone,
            "塘沽新港三号路",
            "联系不上",
        ] {
            assert!(
                !bytes.windows(clear.len()).any(|w| w == clear.as_bytes()),
                "{clear} in clear in {}",
                path.display()
            );
        }
    }
    assert!(read >= 4, "stores, ledger and the log were read");
}

/// `up` in the test's own process on a clock the test drives, until the returned token is cancelled.
async fn up_driven(
    dir: &std::path::Path,
    base: u16,
    clock: oneledger_clock::Clock,
) -> tokio_util::sync::CancellationToken {
    use clap::Parser;
    let config = oneledger::config::Config::try_parse_from([
        "oneledger",
        "up",
        "--data-dir",
        dir.to_str().unwrap(),
        "--listen",
        &format!("127.0.0.1:{base}"),
        "--watch-every-seconds",
        "1",
    ])
    .unwrap();
    let oneledger::config::Command::Up(args) = config.command else {
        unreachable!()
    };
    let stop = tokio_util::sync::CancellationToken::new();
    tokio::spawn(oneledger::up::run(args, clock, stop.clone()));
    for port in base..base + 4 {
        assert!(serving(port).await, "port {port} never reported SERVING");
    }
    stop
}

/// The entry of `matter` once `done` holds of it, within 20 s.
async fn entry_when(
    base: u16,
    token: &str,
    matter: &str,
    done: impl Fn(&oneledger_proto::ledger::v2::Entry) -> bool,
) -> oneledger_proto::ledger::v2::Entry {
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    let mut last = None;
    for _ in 0..200 {
        let request = GetEntryRequest {
            item: Some(ItemRef {
                kind: ItemKind::PetitionMatter as i32,
                id: matter.into(),
            }),
        };
        if let Ok(r) = ledger.get_entry(authorized(request, token)).await {
            let entry = r.into_inner().entry.unwrap();
            if done(&entry) {
                return entry;
            }
            last = Some(entry);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the entry never got there: {last:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_deadline_threshold_is_recorded_once_and_an_overdue_duty_proposes_supervision() {
    // given the system on a clock the test drives, at noon on Wednesday 2026-12-16 (Beijing)
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = free_ports();
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (clock, driver) = oneledger_clock::Clock::driven(chrono::Utc::now());
    driver.set_day(day("2026-12-16"));
    let stop = up_driven(d, base, clock.clone()).await;
    let (office, meeting) = ("binhai.petition_office", "binhai.joint_meeting_office");
    let viewer = agency_token(d, Agency::PoliticalLegal, meeting, vec![Role::Supervisor]);

    // and a petition registered that day: the office must forward or assign it within 15 days, by
    // Thursday 2026-12-31
    let mut petition = PetitionServiceClient::connect(format!("http://127.0.0.1:{}", base + 1))
        .await
        .unwrap();
    let clerk = token(d, office, vec![Role::IntakeClerk]);
    let matter = petition
        .register_petition(authorized(new_petition("拖欠工资", "王芳"), &clerk))
        .await
        .unwrap()
        .into_inner()
        .matter_id;
    let thresholds = |e: &oneledger_proto::ledger::v2::Entry| -> Vec<String> {
        e.thresholds
            .iter()
            .filter(|t| t.kind() == ledger_pb::DeadlineKind::ForwardOrAssign)
            .map(|t| {
                let threshold = t.threshold().as_str_name().trim_start_matches("THRESHOLD_");
                let due = wire::iso(t.due_on.as_ref());
                format!("{}@{due}", threshold.to_ascii_lowercase())
            })
            .collect()
    };
    let entry = entry_when(base, &viewer, &matter, |e| !e.deadlines.is_empty()).await;
    let forward = entry
        .deadlines
        .iter()
        .find(|x| x.kind() == ledger_pb::DeadlineKind::ForwardOrAssign)
        .unwrap();
    assert_eq!(
        (forward.due_on, unit_id(&forward.duty_unit)),
        (wire_day(day("2026-12-31")), office)
    );
    assert!(thresholds(&entry).is_empty(), "nothing is due yet");

    // when the clock reaches Monday the 28th, three working days before: due soon
    driver.set_day(day("2026-12-28"));
    entry_when(base, &viewer, &matter, |e| {
        thresholds(e) == ["due_soon@2026-12-31"]
    })
    .await;
    // then the last day: due today; the day after, New Year's Day: overdue, and a proposal
    driver.set_day(day("2026-12-31"));
    entry_when(base, &viewer, &matter, |e| thresholds(e).len() == 2).await;
    driver.set_day(day("2027-01-01"));
    let entry = entry_when(base, &viewer, &matter, |e| !e.proposals.is_empty()).await;
    assert_eq!(
        thresholds(&entry),
        [
            "due_soon@2026-12-31",
            "due_today@2026-12-31",
            "overdue@2026-12-31"
        ]
    );
    let proposal = &entry.proposals[0];
    assert_eq!(
        (
            proposal.source(),
            unit_id(&proposal.unit),
            proposal.article.as_str()
        ),
        (
            ledger_pb::ProposalSource::OverdueDeadline,
            office,
            "art. 22"
        )
    );
    assert_eq!(proposal.status(), ledger_pb::ProposalStatus::Open);
    let watch_events = |e: &oneledger_proto::ledger::v2::Entry| {
        e.timeline
            .iter()
            .filter(|l| l.event_type.starts_with("political_legal.deadline_watch."))
            .count()
    };
    assert_eq!(watch_events(&entry), 4, "three thresholds and one proposal");

    // when the system restarts and the watcher looks again on the same day, nothing is recorded twice
    stop.cancel();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stop = up_driven(d, base, clock.clone()).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let entry = entry_when(base, &viewer, &matter, |e| !e.proposals.is_empty()).await;
    assert_eq!(watch_events(&entry), 4);

    // when a supervisor issues the proposal, an order goes to the office, joined to the entry
    let mut committee =
        PoliticalLegalServiceClient::connect(format!("http://127.0.0.1:{}", base + 3))
            .await
            .unwrap();
    let supervisor = agency_token(d, Agency::PoliticalLegal, meeting, vec![Role::Supervisor]);
    let issue = pl::IssueSupervisionProposalRequest {
        request_id: request_id(),
        proposal_id: proposal.proposal_id.clone(),
        ..Default::default()
    };
    let issued = committee
        .issue_supervision_proposal(authorized(issue.clone(), &supervisor))
        .await
        .unwrap()
        .into_inner();
    assert!(!issued.escalated);
    // and a retry answers the same order
    let again = committee
        .issue_supervision_proposal(authorized(issue, &supervisor))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.order_id, issued.order_id);
    let entry = entry_when(base, &viewer, &matter, |e| {
        e.proposals[0].status() == ledger_pb::ProposalStatus::Issued
            && !e.supervision_orders.is_empty()
    })
    .await;
    assert_eq!(entry.proposals[0].order_id, issued.order_id);
    // and the statistics count the proposal and its issue
    let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
        .await
        .unwrap();
    let stats = ledger
        .get_statistics(authorized(
            GetStatisticsRequest {
                from_date: wire_day(day("2026-12-01")),
                to_date: wire_day(day("2027-01-31")),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(figure(&stats, "supervision_proposals"), 1, "{stats:?}");
    assert_eq!(figure(&stats, "supervision_proposals_issued"), 1);
    stop.cancel();
}

/// `oneledger import` against `up` at `base`, with `dir`'s keys: its output and whether it succeeded.
async fn import(
    dir: &std::path::Path,
    base: u16,
    file: &std::path::Path,
    extra: &[&str],
) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_oneledger"))
        .arg("import")
        .arg(file)
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .args(["--ledger-address", &format!("http://127.0.0.1:{base}")])
        .args([
            "--petition-address",
            &format!("http://127.0.0.1:{}", base + 1),
        ])
        .args([
            "--political-legal-address",
            &format!("http://127.0.0.1:{}", base + 3),
        ])
        .output()
        .await
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A petition ledger of `n` rows with the template's headers, registered over the year before today:
/// a third registered only, a third accepted, a third answered and delivered.
fn ledger_csv(n: usize, today: chrono::NaiveDate) -> String {
    let mut csv = String::from(
        "来源编号,登记日期,信访形式,诉求类别,标题,信访人,人数,发生地,交办日期,责任单位,属地单位,告知日期,受理日期,答复日期,办理结果,送达日期\n",
    );
    for i in 0..n {
        let registered = today - chrono::Days::new((i % 350 + 10) as u64);
        let day = |n: u64| (registered + chrono::Days::new(n)).to_string();
        let steps = match i % 3 {
            0 => ",,,,,,,".to_owned(),
            1 => format!(
                "{},滨海新区人力资源和社会保障局,滨海新区新港街道办事处,{},{},,,",
                day(1),
                day(2),
                day(3)
            ),
            _ => format!(
                "{},滨海新区住房和建设委员会,,{},{},{},不予支持,{}",
                day(1),
                day(2),
                day(3),
                day(5),
                day(6)
            ),
        };
        csv.push_str(&format!(
            "T-{i:05},{registered},来访,申诉求决,台账事项{i},信访人{i},1,滨海新区新港街道办事处,{steps}\n"
        ));
    }
    csv
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_thousand_row_ledger_is_checked_imported_once_with_its_dates_and_a_bad_row_writes_nothing()
 {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base = free_ports();
    let mut process = up(d, base);
    for port in base..base + 4 {
        assert!(serving(port).await);
    }
    let today = legal_date(chrono::Utc::now());
    let viewer = agency_token(
        d,
        Agency::PoliticalLegal,
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let registered = async |exclude_imported: bool| {
        let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
            .await
            .unwrap();
        let request = GetStatisticsRequest {
            from_date: wire_day(today - chrono::Days::new(400)),
            to_date: wire_day(today),
            unit_id: String::new(),
            exclude_imported,
        };
        let stats = ledger
            .get_statistics(authorized(request, &viewer))
            .await
            .unwrap()
            .into_inner();
        figure(&stats, "matters_registered")
    };

    // given a bad row of each kind, beside good rows: each is named by row, column and rule, and nothing
    // of the file is written, not even its good rows
    let bad = d.join("bad.csv");
    std::fs::write(
        &bad,
        "来源编号,登记日期,信访形式,诉求类别,标题,信访人,发生地,交办日期,责任单位,受理日期,答复日期,办理结果,送达日期\n\
         G-1,2026-03-02,来访,申诉求决,好的一行,甲,滨海新区新港街道办事处,,,,,,\n\
         B-1,2026-13-01,来访,申诉求决,日期错误,乙,滨海新区新港街道办事处,,,,,,\n\
         B-2,2026-03-02,飞鸽,申诉求决,形式错误,丙,滨海新区新港街道办事处,,,,,,\n\
         B-3,2026-03-02,来访,申诉求决,单位错误,丁,滨海新区新港街道办事处,2026-03-03,不存在的局,,,,\n\
         B-4,2026-03-02,来访,申诉求决,送达早于答复,戊,滨海新区新港街道办事处,2026-03-03,滨海新区人力资源和社会保障局,2026-03-06,2026-04-20,支持,2026-04-19\n\
         B-5,2026-03-02,来访,申诉求决,跳过受理,己,滨海新区新港街道办事处,2026-03-03,滨海新区人力资源和社会保障局,,2026-04-20,支持,\n\
         B-6,2026-03-02,来访,申诉求决,,庚,滨海新区新港街道办事处,,,,,,\n",
    )
    .unwrap();
    let (ok, out) = import(d, base, &bad, &[]).await;
    assert!(!ok, "{out}");
    for expected in [
        "登记日期",
        "not an ISO date",
        "信访形式",
        "飞鸽",
        "责任单位",
        "不存在的局",
        "送达日期",
        "2026-04-19 is before opinion_on (2026-04-20)",
        "答复日期",
        "accepted_on is empty",
        "标题",
        "nothing written",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    let (ok, out) = import(d, base, &std::path::PathBuf::from("no-such-file.csv"), &[]).await;
    assert!(!ok && out.contains("no-such-file.csv"), "{out}");

    // when a ten-thousand-row ledger is checked, then nothing is written
    let file = d.join("台账.csv");
    std::fs::write(&file, ledger_csv(10_000, today)).unwrap();
    let (ok, out) = import(d, base, &file, &["--dry-run"]).await;
    assert!(
        ok && out.contains("10000 rows, 0 with errors; nothing written (dry run)"),
        "{out}"
    );
    // when it is imported, then every row is, once
    let (ok, out) = import(d, base, &file, &[]).await;
    assert!(
        ok && out.contains("10000 matters imported, 0 imported before"),
        "{out}"
    );
    let (ok, out) = import(d, base, &file, &[]).await;
    assert!(
        ok && out.contains("0 matters imported, 10000 imported before"),
        "{out}"
    );
    // and the ledger holds them on their own dates: the bad file's good row never arrived
    let mut shown = 0;
    for _ in 0..300 {
        shown = registered(false).await;
        if shown >= 10_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(shown, 10_000);
    // and statistics can leave out what was imported
    assert_eq!(registered(true).await, 0);
    // and each event says where it came from, with its date as the ledger gave it
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&file).unwrap()))
    };
    let integrator = token(d, "binhai.petition_office", vec![Role::Integrator]);
    let mut feed =
        oneledger_proto::events::v1::event_feed_service_client::EventFeedServiceClient::connect(
            format!("http://127.0.0.1:{}", base + 1),
        )
        .await
        .unwrap();
    let mut events = feed
        .read_events(authorized(
            oneledger_proto::events::v1::ReadEventsRequest {
                after_position: 0,
                ..Default::default()
            },
            &integrator,
        ))
        .await
        .unwrap()
        .into_inner();
    let first = events.message().await.unwrap().unwrap();
    let first = first.events.first().cloned().unwrap();
    assert!(
        first
            .origin
            .starts_with(&format!("import sha256:{sha} row 2 id T-00000")),
        "{first:?}"
    );
    let occurred = first.occurred_at.unwrap();
    assert_eq!(
        chrono::DateTime::from_timestamp(occurred.seconds, 0)
            .unwrap()
            .date_naive(),
        today - chrono::Days::new(10)
    );

    // and a workbook with the same columns imports too, its dates read as dates
    let xlsx = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/petition-ledger.xlsx");
    let (ok, out) = import(d, base, &xlsx, &[]).await;
    assert!(ok && out.contains("2 matters imported"), "{out}");

    // and a dispute ledger goes to the committee's store the same way: once, and a bad row writes nothing
    let disputes =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/import/disputes.csv");
    let (ok, out) = import(d, base, &disputes, &[]).await;
    assert!(
        ok && out.contains("3 disputes imported, 0 imported before"),
        "{out}"
    );
    let (ok, out) = import(d, base, &disputes, &[]).await;
    assert!(
        ok && out.contains("0 disputes imported, 3 imported before"),
        "{out}"
    );
    // and the petition template's matters, then the supervision and joint-handling ledgers about
    // them and the disputes: each once, joined to its subject's entry with its units and dates
    let template = |name: &str| {
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../docs/import")
            .join(name)
    };
    let (ok, out) = import(d, base, &template("petition-matters.csv"), &[]).await;
    assert!(ok && out.contains("3 matters imported"), "{out}");
    let (ok, out) = import(d, base, &template("supervision-orders.csv"), &[]).await;
    assert!(ok && out.contains("2 orders imported"), "{out}");
    let joint = template("joint-handlings.csv");
    let (ok, out) = import(d, base, &joint, &[]).await;
    assert!(
        ok && out.contains("2 joint handlings imported, 0 imported before"),
        "{out}"
    );
    let (ok, out) = import(d, base, &joint, &[]).await;
    assert!(
        ok && out.contains("0 joint handlings imported, 2 imported before"),
        "{out}"
    );
    let coordinator = token(
        d,
        "binhai.political_legal_committee",
        vec![Role::Coordinator],
    );
    let entry_titled = async |title: &str| {
        let mut ledger = LedgerServiceClient::connect(format!("http://127.0.0.1:{base}"))
            .await
            .unwrap();
        for _ in 0..100 {
            let request = ListEntriesRequest {
                filter: Some(EntryFilter {
                    title_contains: title.into(),
                    ..Default::default()
                }),
                ..Default::default()
            };
            let found = ledger
                .list_entries(authorized(request, &coordinator))
                .await
                .unwrap()
                .into_inner()
                .entries;
            if let Some(e) = found.into_iter().find(|e| {
                e.items
                    .iter()
                    .any(|i| i.item.as_ref().unwrap().kind == ItemKind::JointHandling as i32)
                    && !e.supervision_orders.is_empty()
            }) {
                return e;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no entry {title} with its joint handling and order");
    };
    let property = entry_titled("小区物业收费争议").await;
    for station in ["binhai.police.tanggu", "binhai.judicial.tanggu"] {
        assert!(
            property
                .co_handling_units
                .iter()
                .any(|u| u.unit_id == station),
            "{station}: {property:?}"
        );
    }
    let lift = entry_titled("小区电梯长期停运").await;
    assert!(
        lift.co_handling_units
            .iter()
            .any(|u| u.unit_id == "binhai.tanggu_subdistrict"),
        "{lift:?}"
    );
    // and a bad joint-handling row of each kind is named by its column, and writes nothing
    let bad = d.join("bad-joint.csv");
    std::fs::write(
        &bad,
        "来源编号,处置事项类型,处置事项来源编号,启动日期,牵头单位,协同单位,任务内容,任务单位,任务期限,任务完成日期,化解报告日期,办结日期\n\
         LH-B1,矛盾纠纷,MD-NONE,2026-10-15,滨海新区塘沽街道办事处,塘沽派出所,,,,,,\n\
         LH-B2,矛盾纠纷,MD-2026-0001,2026-04-10,滨海新区新港街道办事处,不存在的所,,,,,,\n\
         LH-B3,矛盾纠纷,MD-2026-0001,2026-04-10,滨海新区新港街道办事处,新港派出所,调解,新港派出所,2026-04-09,,,\n\
         LH-B4,矛盾纠纷,MD-2026-0001,2026-04-10,滨海新区新港街道办事处,新港派出所,调解,新港派出所,2026-04-20,2026-04-08,,\n\
         LH-B5,矛盾纠纷,MD-2026-0001,2026-04-10,滨海新区新港街道办事处,新港派出所,,,,,,2026-04-30\n\
         LH-G1,矛盾纠纷,MD-2026-0001,2026-04-10,滨海新区新港街道办事处,新港派出所,,,,,,\n",
    )
    .unwrap();
    let (ok, out) = import(d, base, &bad, &[]).await;
    assert!(!ok, "{out}");
    for expected in [
        "处置事项来源编号",
        "MD-NONE",
        "协同单位",
        "不存在的所",
        "任务期限",
        "2026-04-09 must be after the day the task is set (2026-04-10)",
        "任务完成日期",
        "2026-04-08 is before",
        "办结日期",
        "reported_on is empty",
        "nothing written",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    let bad = d.join("bad-disputes.csv");
    std::fs::write(
        &bad,
        "来源编号,排查日期,排查方式,标题,类别,发生地,评估日期,风险等级,预警日期,交办日期,责任单位,属地单位,化解期限\n\
         D-1,2026-04-07,日常排查,低风险却预警,邻里纠纷,滨海新区新港街道办事处,2026-04-08,低,2026-04-08,,,,\n\
         D-2,2026-04-07,路边看到,方式错误,邻里纠纷,滨海新区新港街道办事处,,,,,,,\n\
         D-3,2026-04-07,日常排查,缺少期限,劳动争议,滨海新区新港街道办事处,2026-04-08,高,2026-04-08,2026-04-09,滨海新区人力资源和社会保障局,滨海新区新港街道办事处,\n",
    )
    .unwrap();
    let (ok, out) = import(d, base, &bad, &[]).await;
    assert!(!ok, "{out}");
    for expected in [
        "预警日期",
        "risk assessment",
        "排查方式",
        "路边看到",
        "化解期限",
        "nothing written",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    process.kill().await.unwrap();
}
