//! The ledger API over a real gRPC channel and a SQLite ledger holding the three stores' history.

use oneledger_auth::Role;
use oneledger_domain::Agency;
use oneledger_proto::common::v1 as common;
use oneledger_proto::convert::ledger as wire;
use oneledger_proto::ledger::v2::ledger_service_client::LedgerServiceClient;
use tonic::transport::Channel;

use super::*;
use crate::fixtures::{BUREAU, STATION, TOWN, history, repeat_petitions};

fn token(unit: &str, roles: &[Role]) -> String {
    oneledger_testkit::token(
        oneledger_testkit::issuer(),
        Agency::PoliticalLegal,
        unit,
        roles,
    )
}

/// A list request with this filter, in root order.
fn list(filter: pb::EntryFilter) -> pb::ListEntriesRequest {
    pb::ListEntriesRequest {
        filter: Some(filter),
        ..Default::default()
    }
}

/// An ISO day on the wire.
fn day(iso: &str) -> Option<oneledger_proto::google_type::Date> {
    Some(wire::date(
        chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d").unwrap(),
    ))
}

/// A figure of the statistics by its field name.
fn figure(stats: &pb::GetStatisticsResponse, name: &str) -> u64 {
    wire::figure_rows(&stats.figures.unwrap(), &stats.rates.unwrap())
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no figure {name}"))
        .value
        .count()
        .unwrap()
}

fn coordinator() -> String {
    token("binhai.political_legal_committee", &[Role::Coordinator])
}

fn req<T>(message: T, token: &str) -> Request<T> {
    oneledger_testkit::authorized(message, token)
}

async fn client(dir: &tempfile::TempDir) -> LedgerServiceClient<Channel> {
    client_at(dir).await.0
}

async fn client_at(
    dir: &tempfile::TempDir,
) -> (LedgerServiceClient<Channel>, std::net::SocketAddr) {
    client_on(dir, oneledger_clock::Clock::system()).await
}

/// The API over the history, its day read from `clock`.
async fn client_on(
    dir: &tempfile::TempDir,
    clock: oneledger_clock::Clock,
) -> (LedgerServiceClient<Channel>, std::net::SocketAddr) {
    let ledger = SqlLedger::connect(&format!(
        "sqlite://{}",
        dir.path().join("ledger.db").display()
    ))
    .await
    .unwrap();
    for (i, events) in history().iter().enumerate() {
        ledger
            .apply_batch(&format!("store:{i}"), events)
            .await
            .unwrap();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let socket = listener.local_addr().unwrap();
    let address = format!("http://{socket}");
    let api = LedgerApi::new(
        ledger,
        oneledger_testkit::verifier(),
        Arc::new(Rules::shipped().unwrap()),
        clock,
    )
    .unwrap();
    tokio::spawn(serve(
        api,
        WebSettings {
            allow_origins: vec![http::HeaderValue::from_static(
                "https://dashboard.example.gov.cn",
            )],
            tls: None,
        },
        listener,
        std::future::pending(),
    ));
    for _ in 0..50 {
        if let Ok(c) = LedgerServiceClient::connect(address.clone()).await {
            return (c, socket);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("ledger API did not start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_unit_sees_its_own_ledger_and_district_roles_see_all() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = client(&dir).await;
    let all = c
        .list_entries(req(
            pb::ListEntriesRequest::default(),
            &token("binhai.political_legal_committee", &[Role::Coordinator]),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(all.entries.len(), 1);
    assert_eq!(all.entries[0].items.len(), 4);
    let bureau = c
        .list_entries(req(
            pb::ListEntriesRequest::default(),
            &token(BUREAU, &[Role::Viewer]),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(bureau.entries.len(), 1, "the bureau is responsible");
    let stranger = c
        .list_entries(req(
            pb::ListEntriesRequest::default(),
            &token("binhai.tax_bureau", &[Role::Viewer]),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(stranger.entries.is_empty());
    // The station only co-handles; the district government and the public security bureau see what
    // the units below them take part in; a unit asks for a unit below it, never beside it.
    for (unit, asked) in [
        (STATION, ""),
        ("binhai.district_government", ""),
        ("binhai.public_security_bureau", ""),
        ("binhai.district_government", BUREAU),
    ] {
        let listed = c
            .list_entries(req(
                list(pb::EntryFilter {
                    unit_id: asked.into(),
                    ..Default::default()
                }),
                &token(unit, &[Role::Viewer]),
            ))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.entries.len(), 1, "{unit} asking {asked:?}");
    }
    let get = |unit: &str| {
        let mut c = c.clone();
        let token = token(unit, &[Role::Viewer]);
        async move {
            c.get_entry(req(
                pb::GetEntryRequest {
                    item: Some(common::ItemRef {
                        kind: common::ItemKind::JointHandling as i32,
                        id: "JH1".into(),
                    }),
                },
                &token,
            ))
            .await
        }
    };
    let seen = get(STATION).await.unwrap().into_inner().entry.unwrap();
    // Units come with their names from the directory, for people to read.
    let name = |u: &Option<pb::Unit>| u.as_ref().unwrap().name.clone();
    assert_eq!(name(&seen.responsible_unit), "滨海新区人力资源和社会保障局");
    assert_eq!(name(&seen.police_station), "新港派出所");
    assert_eq!(name(&seen.territorial_unit), "滨海新区新港街道办事处");
    assert_eq!(
        get("binhai.tax_bureau").await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );
    let ghost = list(pb::EntryFilter {
        unit_id: "binhai.human_resouces_bureau".into(),
        ..Default::default()
    });
    assert_eq!(
        c.list_entries(req(
            ghost,
            &token("binhai.political_legal_committee", &[Role::Coordinator])
        ))
        .await
        .unwrap_err()
        .code(),
        tonic::Code::InvalidArgument
    );
    let peek = list(pb::EntryFilter {
        unit_id: BUREAU.into(),
        ..Default::default()
    });
    assert_eq!(
        c.list_entries(req(peek, &token("binhai.tax_bureau", &[Role::Viewer])))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::PermissionDenied
    );
    let filtered = list(pb::EntryFilter {
        stage: pb::ItemStage::MatterHandling as i32,
        status: pb::EntryStatus::Open as i32,
        title_contains: "wages".into(),
        ..Default::default()
    });
    assert_eq!(
        c.list_entries(req(
            filtered,
            &token("binhai.political_legal_committee", &[Role::Coordinator])
        ))
        .await
        .unwrap()
        .into_inner()
        .entries
        .len(),
        1
    );
    let none = list(pb::EntryFilter {
        status: pb::EntryStatus::Closed as i32,
        ..Default::default()
    });
    assert!(
        c.list_entries(req(
            none,
            &token("binhai.political_legal_committee", &[Role::Coordinator])
        ))
        .await
        .unwrap()
        .into_inner()
        .entries
        .is_empty()
    );
    for (bad, field) in [
        (
            pb::EntryFilter {
                min_risk: 9,
                ..Default::default()
            },
            "filter.min_risk",
        ),
        (
            pb::EntryFilter {
                stage: 999,
                ..Default::default()
            },
            "filter.stage",
        ),
        (
            pb::EntryFilter {
                due_before: Some(oneledger_proto::google_type::Date {
                    year: 2026,
                    month: 2,
                    day: 30,
                }),
                ..Default::default()
            },
            "filter.due_before",
        ),
        (
            pb::EntryFilter {
                territory_unit_id: BUREAU.into(),
                ..Default::default()
            },
            "filter.territory_unit_id",
        ),
        (
            pb::EntryFilter {
                title_contains: "欠".repeat(101),
                ..Default::default()
            },
            "filter.title_contains",
        ),
        (
            pb::EntryFilter {
                unit_id: "binhai.housing\u{202e}_bureau".into(),
                ..Default::default()
            },
            "filter.unit_id",
        ),
        (
            pb::EntryFilter {
                unit_id: "滨".repeat(50_000),
                ..Default::default()
            },
            "filter.unit_id",
        ),
        (
            pb::EntryFilter {
                territory_unit_id: "binhai.xingang\u{0}".into(),
                ..Default::default()
            },
            "filter.territory_unit_id",
        ),
    ] {
        let status = c
            .list_entries(req(list(bad), &coordinator()))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{field}");
        assert!(status.message().contains(field), "{field}: {status:?}");
        // A bounded message with no control character or direction mark in it.
        assert!(status.message().chars().count() < 700, "{field}");
        assert!(
            !status
                .message()
                .chars()
                .any(|c| c.is_control() || oneledger_proto::convert::is_bidi_mark(c)),
            "{field}: {status:?}"
        );
    }
    // A request past the one limit of every port is refused before it is read.
    let huge = pb::EntryFilter {
        title_contains: "欠".repeat(oneledger_proto::MAX_REQUEST_BYTES / 3 + 1),
        ..Default::default()
    };
    let status = c
        .list_entries(req(list(huge), &coordinator()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert_eq!(
        c.list_entries(Request::new(pb::ListEntriesRequest::default()))
            .await
            .unwrap_err()
            .code(),
        tonic::Code::Unauthenticated
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ledger_call_refuses_a_caller_whose_roles_do_not_read_the_ledger() {
    // Given the ledger, and tokens of the committee's unit whose roles are an agency system's, an
    // importer's and a personal-data reader's (none of them reads the ledger).
    let dir = tempfile::tempdir().unwrap();
    let mut c = client(&dir).await;
    let committee = "binhai.political_legal_committee";
    let item = Some(common::ItemRef {
        kind: common::ItemKind::PetitionMatter as i32,
        id: "PMN00000001".into(),
    });
    for role in [Role::Integrator, Role::Importer, Role::PiiReader] {
        let t = token(committee, &[role]);
        // When each ledger call is made with one, then each is PERMISSION_DENIED naming the roles.
        let codes = [
            c.list_entries(req(pb::ListEntriesRequest::default(), &t))
                .await
                .map(|_| ()),
            c.get_entry(req(pb::GetEntryRequest { item: item.clone() }, &t))
                .await
                .map(|_| ()),
            c.watch_entries(req(pb::WatchEntriesRequest::default(), &t))
                .await
                .map(|_| ()),
            c.get_statistics(req(pb::GetStatisticsRequest::default(), &t))
                .await
                .map(|_| ()),
            c.export_ledger(req(pb::ExportLedgerRequest::default(), &t))
                .await
                .map(|_| ()),
        ];
        for (n, result) in codes.into_iter().enumerate() {
            let status = result.expect_err("refused");
            assert_eq!(
                status.code(),
                tonic::Code::PermissionDenied,
                "{role} call {n}"
            );
            assert!(
                status.message().contains("needs one of the roles viewer"),
                "{}",
                status.message()
            );
        }
    }
    // And a viewer of the same unit reads.
    assert!(
        c.list_entries(req(
            pb::ListEntriesRequest::default(),
            &token(committee, &[Role::Viewer])
        ))
        .await
        .is_ok()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_shows_every_agency_in_one_timeline_and_the_statistics_count_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = client(&dir).await;
    let by_dispute = common::ItemRef {
        kind: common::ItemKind::Dispute as i32,
        id: "D1".into(),
    };
    let entry = c
        .get_entry(req(
            pb::GetEntryRequest {
                item: Some(by_dispute),
            },
            &token(STATION, &[Role::Viewer]),
        ))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(entry.root.unwrap().id, "PM1");
    let id = |u: &Option<pb::Unit>| u.as_ref().unwrap().unit_id.clone();
    assert_eq!(
        (id(&entry.responsible_unit), id(&entry.territorial_unit)),
        (BUREAU.to_owned(), TOWN.to_owned())
    );
    assert_eq!(id(&entry.police_station), STATION);
    let agencies: std::collections::BTreeSet<i32> =
        entry.timeline.iter().map(|l| l.agency).collect();
    assert_eq!(agencies.len(), 3, "all three agencies in one timeline");
    assert!(
        entry
            .deadlines
            .iter()
            .any(|d| d.kind() == pb::DeadlineKind::Handling && d.article == "art. 34")
    );
    let orders: Vec<_> = entry
        .supervision_orders
        .iter()
        .map(|o| (o.order_id.as_str(), o.escalation()))
        .collect();
    assert_eq!(
        orders,
        [(
            "SO1",
            oneledger_proto::political_legal::v1::Escalation::ListedSupervision
        )]
    );
    let stages: Vec<_> = entry.items.iter().map(|i| i.stage()).collect();
    assert!(
        stages.contains(&pb::ItemStage::MatterHandling),
        "{stages:?}"
    );
    let (first, last) = (entry.registered_at.unwrap(), entry.last_changed_at.unwrap());
    assert!(last.seconds >= first.seconds);

    let stats = c
        .get_statistics(req(
            pb::GetStatisticsRequest {
                from_date: day("2026-03-01"),
                to_date: day("2026-03-31"),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &token("binhai.political_legal_committee", &[Role::Coordinator]),
        ))
        .await
        .unwrap()
        .into_inner();
    for (name, n) in [
        ("matters_registered", 1),
        ("matters_accepted", 1),
        ("disputes_reported", 1),
        ("joint_handlings_opened", 1),
        ("supervision_orders_issued", 1),
        ("supervision_escalations", 2),
        ("collective_matters_assigned", 1),
    ] {
        assert_eq!(figure(&stats, name), n, "{name}: {:?}", stats.figures);
    }
    let town = stats
        .units
        .iter()
        .find(|u| u.unit.as_ref().unwrap().unit_id == TOWN)
        .expect("a row for the town");
    assert_eq!(town.supervision_orders, 1);
    assert_eq!(town.unit.as_ref().unwrap().name, "滨海新区新港街道办事处");
    assert_eq!(stats.months.len(), 1);
    assert_eq!(stats.months[0].matters_registered, 1);
    let april = pb::GetStatisticsRequest {
        from_date: day("2026-04-01"),
        to_date: day("2026-04-30"),
        unit_id: String::new(),
        exclude_imported: false,
    };
    let april = c
        .get_statistics(req(april, &coordinator()))
        .await
        .unwrap()
        .into_inner();
    // Every figure is there, zero included.
    assert_eq!(figure(&april, "matters_registered"), 0);
    assert_eq!(figure(&april, "warnings_issued"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_streams_changed_entries_from_a_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = client(&dir).await;
    let mut stream = c
        .watch_entries(req(
            pb::WatchEntriesRequest { after_cursor: 0 },
            &token("binhai.political_legal_committee", &[Role::Coordinator]),
        ))
        .await
        .unwrap()
        .into_inner();
    let first = tokio::time::timeout(Duration::from_secs(5), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(first.cursor >= 1 && first.entry.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_reaches_the_ledger_over_grpc_web() {
    use prost::Message;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_at(&dir).await;
    let message = pb::ListEntriesRequest::default().encode_to_vec();
    let mut body = vec![0u8];
    body.extend((message.len() as u32).to_be_bytes());
    body.extend(message);
    let head = format!(
        "POST /oneledger.ledger.v2.LedgerService/ListEntries HTTP/1.1\r\nhost: {socket}\r\n\
         content-type: application/grpc-web+proto\r\nx-grpc-web: 1\r\nauthorization: Bearer {}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n",
        token("binhai.political_legal_committee", &[Role::Coordinator]),
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(socket).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut response))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_lowercase()
            .contains("content-type: application/grpc-web"),
        "{text}"
    );
    assert!(
        text.contains("grpc-status:0") || text.contains("grpc-status: 0"),
        "{text}"
    );
    assert!(
        text.contains("Unpaid wages at the port site"),
        "the entry comes back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_lists_units_by_kind_a_page_at_a_time_and_gets_one_with_its_children() {
    use oneledger_proto::directory::v1::{
        self as dir_pb, directory_service_client::DirectoryServiceClient,
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_at(&dir).await;
    let mut c = DirectoryServiceClient::connect(format!("http://{socket}"))
        .await
        .unwrap();
    let viewer = token(BUREAU, &[Role::Viewer]);
    let stations = |page_token: String| dir_pb::ListUnitsRequest {
        kind: dir_pb::UnitKind::PoliceStation as i32,
        page_size: 10,
        page_token,
        ..Default::default()
    };
    // Page through today's police stations: one per territory, the merged Yujiapu's left out.
    let mut seen = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = c
            .list_units(req(stations(page_token), &viewer))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(page.total_size, 26);
        seen.extend(page.units);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    assert_eq!(seen.len(), 26);
    let xingang = seen
        .iter()
        .find(|u| u.unit_id == STATION)
        .expect("the Xingang station");
    assert_eq!(xingang.name, "新港派出所");
    assert_eq!(xingang.territory_unit_ids, [TOWN]);
    assert_eq!(xingang.reviewer_unit_id, "binhai.public_security_bureau");
    // Chinese text search, and the merged unit when asked for the inactive too.
    let found = c
        .list_units(req(
            dir_pb::ListUnitsRequest {
                name_contains: "于家堡".into(),
                include_inactive: true,
                ..Default::default()
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.total_size, 2, "{found:?}");
    assert!(found.units.iter().all(|u| u.valid_to == "2013-12-31"));
    // One unit with its children.
    let government = c
        .get_unit(req(
            dir_pb::GetUnitRequest {
                unit_id: "binhai.district_government".into(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        government.unit.unwrap().reviewer_unit_id,
        "tianjin.city_government"
    );
    assert!(government.children.iter().any(|u| u.unit_id == BUREAU));
    // What the directory does not know is named.
    let ghost = c
        .get_unit(req(
            dir_pb::GetUnitRequest {
                unit_id: "binhai.human_resouces_bureau".into(),
            },
            &viewer,
        ))
        .await
        .unwrap_err();
    assert_eq!(ghost.code(), tonic::Code::NotFound);
    for bad in [
        dir_pb::ListUnitsRequest {
            page_token: "forged".into(),
            ..Default::default()
        },
        dir_pb::ListUnitsRequest {
            parent_unit_id: "binhai.nowhere".into(),
            ..Default::default()
        },
        dir_pb::ListUnitsRequest {
            on: "2026-13-01".into(),
            ..Default::default()
        },
    ] {
        let status = c.list_units(req(bad.clone(), &viewer)).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bad:?}");
    }
    // A token is needed, as for the ledger.
    let anonymous = c.list_units(dir_pb::ListUnitsRequest::default()).await;
    assert_eq!(anonymous.unwrap_err().code(), tonic::Code::Unauthenticated);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_count_first_and_repeat_petitions_once_and_the_open_repeat_backlog() {
    // given one petitioner's four petitions about the bureau, in another store's feed
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = client_with_repeats(&dir).await;
    // when the district asks for March
    let stats = c
        .get_statistics(req(
            pb::GetStatisticsRequest {
                from_date: day("2026-03-01"),
                to_date: day("2026-03-31"),
                unit_id: String::new(),
                exclude_imported: false,
            },
            &token("binhai.political_legal_committee", &[Role::Coordinator]),
        ))
        .await
        .unwrap()
        .into_inner();
    let count = |name: &str| figure(&stats, name);
    // then the history's own matter and the first and flagged petitions are first petitions; the merged
    // one and the one with new facts are repeats, each counted once
    assert_eq!(count("matters_registered"), 5, "{:?}", stats.figures);
    assert_eq!(count("first_petitions"), 3, "{:?}", stats.figures);
    assert_eq!(count("repeat_petitions"), 2);
    assert_eq!(count("repeat_petitions_merged"), 1);
    assert_eq!(count("repeat_petitions_as_new_matters"), 1);
    assert_eq!(count("possible_repeats_undecided"), 1);
    // and the open repeat matter (the one with new facts) is the backlog, in exactly one age
    assert_eq!(count("open_repeat_matters"), 1);
    let by_age: u64 = oneledger_domain::statistics::BACKLOG_AGES
        .iter()
        .map(|(name, _)| count(name))
        .sum();
    assert_eq!(by_age, 1);
    // and the flagged one shows on its entry
    let flagged = c
        .get_entry(req(
            pb::GetEntryRequest {
                item: Some(common::ItemRef {
                    kind: common::ItemKind::PetitionMatter as i32,
                    id: "PM73".into(),
                }),
            },
            &token("binhai.political_legal_committee", &[Role::Coordinator]),
        ))
        .await
        .unwrap()
        .into_inner()
        .entry
        .unwrap();
    assert_eq!(flagged.possible_repeats.len(), 1);
    assert_eq!(flagged.possible_repeats[0].of_matter_id, "PM71");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_reports_its_coverage_and_warns_from_ninety_days_before_its_end() {
    use oneledger_proto::directory::v1::{
        GetCalendarRequest, directory_service_client::DirectoryServiceClient,
    };
    let day = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (clock, driver) = oneledger_clock::Clock::driven(chrono::Utc::now());
    driver.set_day(day("2026-09-01"));
    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_on(&dir, clock).await;
    let mut c = DirectoryServiceClient::connect(format!("http://{socket}"))
        .await
        .unwrap();
    let viewer = token(BUREAU, &[Role::Viewer]);
    let mut ask = async || {
        c.get_calendar(req(GetCalendarRequest {}, &viewer))
            .await
            .unwrap()
            .into_inner()
    };
    // given the shipped calendar, on 2026-09-01: its years and source, and no warning yet
    let early = ask().await;
    assert_eq!((early.first_year, early.last_year), (2025, 2026));
    assert_eq!(
        (early.ends_on.as_str(), early.days_left),
        ("2026-12-31", 121)
    );
    assert!(early.source.contains("国务院办公厅") && early.warning.is_empty());
    // when 90 days are left, then it warns, naming the year to load
    driver.set_day(day("2026-10-02"));
    let late = ask().await;
    assert_eq!(late.days_left, 90);
    assert!(late.warning.contains("2027"), "{}", late.warning);
    // and past the end it says deadlines are provisional
    driver.set_day(day("2027-01-05"));
    let past = ask().await;
    assert!(
        past.days_left < 0 && past.warning.contains("provisional"),
        "{}",
        past.warning
    );
}

/// The API over the history and the repeat petitions: several entries to page through.
async fn client_with_repeats(
    dir: &tempfile::TempDir,
) -> (LedgerServiceClient<Channel>, std::net::SocketAddr) {
    let (c, socket) = client_at(dir).await;
    let ledger = SqlLedger::connect(&format!(
        "sqlite://{}",
        dir.path().join("ledger.db").display()
    ))
    .await
    .unwrap();
    let after_history: Vec<_> = repeat_petitions()
        .into_iter()
        .map(|mut e| {
            e.position += 10_000;
            e
        })
        .collect();
    ledger.apply_batch("store:0", &after_history).await.unwrap();
    (c, socket)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_in_any_order_cover_every_entry_once_and_a_token_serves_only_its_own_query() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = client_with_repeats(&dir).await;
    let everything = c
        .list_entries(req(pb::ListEntriesRequest::default(), &coordinator()))
        .await
        .unwrap()
        .into_inner();
    let roots = |entries: &[pb::Entry]| -> Vec<String> {
        entries
            .iter()
            .map(|e| e.root.as_ref().unwrap().id.clone())
            .collect()
    };
    let total = everything.total_size as usize;
    assert!(total >= 3, "{:?}", roots(&everything.entries));
    assert_eq!(everything.entries.len(), total);
    assert!(everything.next_page_token.is_empty());
    for order in [
        pb::EntryOrder::Root,
        pb::EntryOrder::NextDue,
        pb::EntryOrder::Risk,
        pb::EntryOrder::LastChange,
        pb::EntryOrder::Registered,
    ] {
        // given pages of one entry in this order
        let mut seen = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = c
                .list_entries(req(
                    pb::ListEntriesRequest {
                        order_by: order as i32,
                        page_size: 1,
                        page_token: page_token.clone(),
                        ..Default::default()
                    },
                    &coordinator(),
                ))
                .await
                .unwrap()
                .into_inner();
            assert_eq!(page.total_size as usize, total);
            // then a full page is never followed by an empty one
            assert_eq!(page.entries.len(), 1, "{order:?}");
            seen.extend(page.entries);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        // then every entry comes once
        let mut ids = roots(&seen);
        assert_eq!(ids.len(), total, "{order:?}");
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), total, "{order:?}");
        if order == pb::EntryOrder::Registered {
            let at: Vec<i64> = seen
                .iter()
                .map(|e| e.registered_at.unwrap().seconds)
                .collect();
            assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first: {at:?}");
        }
    }
    // A token of one query is refused for another, and a made-up one too.
    let first = c
        .list_entries(req(
            pb::ListEntriesRequest {
                page_size: 1,
                ..Default::default()
            },
            &coordinator(),
        ))
        .await
        .unwrap()
        .into_inner();
    for (order, page_token) in [
        (pb::EntryOrder::Risk, first.next_page_token.clone()),
        (pb::EntryOrder::Root, "petition_matter:PM1".to_owned()),
    ] {
        let status = c
            .list_entries(req(
                pb::ListEntriesRequest {
                    order_by: order as i32,
                    page_size: 1,
                    page_token,
                    ..Default::default()
                },
                &coordinator(),
            ))
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::InvalidArgument);
        assert!(status.message().contains("page_token"), "{status:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_holds_the_rows_the_list_shows_in_chinese_and_is_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (mut c, _) = client_with_repeats(&dir).await;
    let listed = c
        .list_entries(req(
            pb::ListEntriesRequest {
                order_by: pb::EntryOrder::NextDue as i32,
                ..Default::default()
            },
            &coordinator(),
        ))
        .await
        .unwrap()
        .into_inner();
    // when the same query is exported as CSV
    let file = c
        .export_ledger(req(
            pb::ExportLedgerRequest {
                format: pb::ExportFormat::Csv as i32,
                what: Some(pb::export_ledger_request::What::Entries(pb::EntryQuery {
                    filter: None,
                    order_by: pb::EntryOrder::NextDue as i32,
                })),
            },
            &coordinator(),
        ))
        .await
        .unwrap()
        .into_inner();
    // then after its account of itself, the header and one row per listed entry, in order
    let text = String::from_utf8(file.content.clone()).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let header = records
        .iter()
        .position(|r| r.get(0) == Some("序号"))
        .expect("the header");
    assert!(
        records[..header]
            .iter()
            .any(|r| r.get(0) == Some("截至台账游标"))
    );
    assert_eq!(
        &records[header].iter().collect::<Vec<_>>(),
        &export::ENTRY_COLUMNS
    );
    let rows: Vec<String> = records[header + 1..]
        .iter()
        .map(|r| r.get(1).unwrap().to_owned())
        .collect();
    let ids: Vec<String> = listed
        .entries
        .iter()
        .map(|e| e.root.as_ref().unwrap().id.clone())
        .collect();
    assert_eq!(rows, ids);
    assert_eq!(file.rows as usize, ids.len());
    assert!(
        text.contains("滨海新区人力资源和社会保障局"),
        "unit names in Chinese"
    );
    assert!(file.file_name.starts_with("台账-") && file.file_name.ends_with(".csv"));
    // and an XLSX of the statistics is a workbook
    let workbook = c
        .export_ledger(req(
            pb::ExportLedgerRequest {
                format: pb::ExportFormat::Xlsx as i32,
                what: Some(pb::export_ledger_request::What::Statistics(
                    pb::GetStatisticsRequest {
                        from_date: day("2026-03-01"),
                        to_date: day("2026-03-31"),
                        ..Default::default()
                    },
                )),
            },
            &coordinator(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(workbook.content.starts_with(b"PK"), "a zip container");
    // and both are recorded, by whom
    let ledger = SqlLedger::connect(&format!(
        "sqlite://{}",
        dir.path().join("ledger.db").display()
    ))
    .await
    .unwrap();
    let exports = ledger.exports().await.unwrap();
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0].unit, "binhai.political_legal_committee");
    assert_eq!(
        (exports[0].format.as_str(), exports[1].format.as_str()),
        ("csv", "xlsx")
    );
    // and a refused export writes nothing
    let refused = c
        .export_ledger(req(
            pb::ExportLedgerRequest {
                format: pb::ExportFormat::Unspecified as i32,
                what: None,
            },
            &coordinator(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert_eq!(ledger.exports().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_origin_passes_the_preflight_and_another_does_not() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_at(&dir).await;
    let preflight = async |origin: &str| {
        let head = format!(
            "OPTIONS /oneledger.ledger.v2.LedgerService/ListEntries HTTP/1.1\r\nhost: {socket}\r\n\
             origin: {origin}\r\naccess-control-request-method: POST\r\n\
             access-control-request-headers: authorization,content-type,x-grpc-web\r\n\
             connection: close\r\n\r\n"
        );
        let mut stream = tokio::net::TcpStream::connect(socket).await.unwrap();
        stream.write_all(head.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        String::from_utf8_lossy(&response).to_lowercase()
    };
    let allowed = preflight("https://dashboard.example.gov.cn").await;
    assert!(
        allowed.contains("access-control-allow-origin: https://dashboard.example.gov.cn"),
        "{allowed}"
    );
    assert!(allowed.contains("authorization"), "{allowed}");
    let other = preflight("https://elsewhere.example.com").await;
    assert!(!other.contains("access-control-allow-origin"), "{other}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reflection_lists_exactly_what_the_port_serves_in_v1_and_v1alpha() {
    use tonic_reflection::pb::{v1, v1alpha};
    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_at(&dir).await;
    let address = format!("http://{socket}");
    let channel = Channel::from_shared(address)
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut v1c = v1::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let ask = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(v1::server_reflection_request::MessageRequest::ListServices(
            String::new(),
        )),
    };
    let mut answers = v1c
        .server_reflection_info(tokio_stream::iter([ask]))
        .await
        .unwrap()
        .into_inner();
    let Some(v1::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        answers.message().await.unwrap().unwrap().message_response
    else {
        panic!("a list of services")
    };
    let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "oneledger.directory.v1.DirectoryService",
            "oneledger.ledger.v2.LedgerService",
        ]
    );
    let mut alpha = v1alpha::server_reflection_client::ServerReflectionClient::new(channel);
    let ask = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::FileContainingSymbol(
                "oneledger.ledger.v2.LedgerService".into(),
            ),
        ),
    };
    let answer = alpha
        .server_reflection_info(tokio_stream::iter([ask]))
        .await
        .unwrap()
        .into_inner()
        .message()
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(
        answer.message_response,
        Some(v1alpha::server_reflection_response::MessageResponse::FileDescriptorResponse(_))
    ));
}

/// One HTTP/1.1 GET with `headers`, answered with the head (names lowercased, values as sent) and
/// the body as bytes, unchunked.
async fn http_get(socket: std::net::SocketAddr, path: &str, headers: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(socket).await.unwrap();
    let head =
        format!("GET {path} HTTP/1.1\r\nhost: {socket}\r\n{headers}connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let body = response.split_off(split + 4);
    let head = String::from_utf8(response).unwrap();
    let head = head
        .lines()
        .map(|l| match l.split_once(':') {
            Some((name, value)) => format!("{}:{value}", name.to_lowercase()),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    if !head.contains("transfer-encoding: chunked") {
        return (head, body);
    }
    // Chunks: a hex size line, that many bytes, CRLF; a zero size ends them.
    let (mut rest, mut whole) = (body.as_slice(), Vec::new());
    loop {
        let line = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line]).unwrap(), 16).unwrap();
        if size == 0 {
            return (head, whole);
        }
        whole.extend_from_slice(&rest[line + 2..line + 2 + size]);
        rest = &rest[line + 2 + size + 2..];
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_on_the_ledgers_port_without_a_token_gzipped_and_tagged() {
    use std::io::Read;
    let dir = tempfile::tempdir().unwrap();
    let (_, socket) = client_at(&dir).await;
    for (path, kind, holds) in [
        ("/", "text/html", "全区一本账"),
        ("/app.js", "text/javascript", "authorization"),
        ("/app.css", "text/css", "overdue"),
    ] {
        // Given a browser that takes gzip
        let (head, body) = http_get(socket, path, "accept-encoding: gzip, br\r\n").await;
        assert!(head.contains(" 200 "), "{path}: {head}");
        assert!(head.contains(&format!("content-type: {kind}")), "{path}");
        assert!(head.contains("content-encoding: gzip"), "{path}: {head}");
        let mut text = String::new();
        flate2::read::GzDecoder::new(body.as_slice())
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains(holds), "{path} holds {holds}");
        // When it asks again with the tag it was given, and a browser that takes no gzip asks
        let tag = head
            .lines()
            .find_map(|l| l.strip_prefix("etag: "))
            .expect("an etag")
            .to_owned();
        let (again, empty) = http_get(socket, path, &format!("if-none-match: {tag}\r\n")).await;
        let (plain_head, plain) = http_get(socket, path, "").await;
        // Then the first is told nothing changed, without a body; the second gets the file as it is
        assert!(again.contains(" 304 "), "{path}: {again}");
        assert!(empty.is_empty());
        assert!(!plain_head.contains("content-encoding"), "{path}");
        assert!(String::from_utf8(plain).unwrap().contains(holds));
    }
}
