//! The three services over real gRPC channels (servers on port 0), on SQLite (petition) and PostgreSQL
//! (public security, political-legal), with the relay publishing to a nats-server the test starts.

#![allow(clippy::unwrap_used)] // test helpers may unwrap: a failure is a failed test

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail, ensure};
use chrono::{Days, Utc};
use cloudevents::AttributesReader;
use oneledger_clock::Clock;
use oneledger_domain::clock::legal_date;
use oneledger_domain::{Agency, Rules};
use oneledger_proto::common::v1::{self as common_pb, ItemKind, ItemRef};
use oneledger_proto::dispute::v1 as dispute;
use oneledger_proto::petition::v1::{
    self as pb, act_on_matter_request as act, petition_service_client::PetitionServiceClient,
};
use oneledger_proto::political_legal::v1::{
    self as pl, political_legal_service_client::PoliticalLegalServiceClient,
};
use oneledger_proto::public_security::v1::{
    self as ps, public_security_service_client::PublicSecurityServiceClient,
};
use oneledger_services::{Role, Settings, serve};
use oneledger_store::{EventStore, PgEventStore, SqliteEventStore};
use oneledger_testkit::{NatsServer, TestDatabase, authorized, request_id};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tonic::transport::Channel;
use tonic::{Code, Request};
use tonic_types::StatusExt;

const MASTER: [u8; 32] = [7; 32];
const OFFICE: &str = "binhai.petition_office";
const BUREAU: &str = "binhai.human_resources_bureau";
const TOWN: &str = "binhai.xingang_subdistrict";
const DISTRICT_GOV: &str = "binhai.district_government";
const CITY_GOV: &str = "tianjin.city_government";
const COMMITTEE: &str = "binhai.political_legal_committee";
const MEETING_OFFICE: &str = "binhai.joint_meeting_office";
const STATION: &str = "binhai.police.xingang";

fn token(agency: Agency, unit: &str, roles: &[Role]) -> String {
    oneledger_testkit::token(oneledger_testkit::issuer(), agency, unit, roles)
}

/// A service running on a free port until dropped.
struct Running {
    address: String,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn start(agency: Agency, store: Arc<dyn EventStore>) -> Result<Running> {
    start_with(agency, store, Default::default()).await
}

/// A service that also reads `peers`' stores, as `up` runs them.
async fn start_with(
    agency: Agency,
    store: Arc<dyn EventStore>,
    peers: std::collections::BTreeMap<Agency, Arc<dyn oneledger_store::EventLog>>,
) -> Result<Running> {
    start_settings(settings(agency, peers), store).await
}

/// The settings tests run a service with.
fn settings(
    agency: Agency,
    peers: std::collections::BTreeMap<Agency, Arc<dyn oneledger_store::EventLog>>,
) -> Settings {
    Settings {
        agency,
        district: "binhai".into(),
        verifier: oneledger_testkit::verifier(),
        master_key: Some(MASTER.to_vec()),
        pseudonym_key: Some([5; 32].to_vec()),
        rules: Arc::new(Rules::shipped().unwrap()),
        clock: Clock::system(),
        watch: None,
        tls: None,
        peers,
    }
}

/// A service with `settings` on a free port until dropped.
async fn start_settings(settings: Settings, store: Arc<dyn EventStore>) -> Result<Running> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = serve(settings, store, listener, async {}, async {
            let _ = stopped.await;
        })
        .await;
    });
    Ok(Running {
        address,
        stop: Some(stop),
    })
}

async fn channel(running: &Running) -> Result<Channel> {
    for _ in 0..50 {
        if let Ok(c) = Channel::from_shared(running.address.clone())?
            .connect()
            .await
        {
            return Ok(c);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("service did not start")
}

async fn sqlite(dir: &tempfile::TempDir, name: &str) -> Result<Arc<dyn EventStore>> {
    Ok(Arc::new(
        SqliteEventStore::connect(&format!("sqlite://{}", dir.path().join(name).display())).await?,
    ))
}

/// A petitioner whose resident ID number follows from the phone: two phones, two people.
fn petitioner(name: &str, phone: &str) -> pb::Petitioner {
    pb::Petitioner {
        name: name.into(),
        id_number: format!("1201161990{}", &phone[phone.len() - 8..]),
        phone: phone.into(),
        address: "Port Road 8".into(),
    }
}

fn registration(request_id: &str) -> pb::RegisterPetitionRequest {
    pb::RegisterPetitionRequest {
        request_id: request_id.into(),
        channel: pb::Channel::Visit as i32,
        claim_class: pb::ClaimClass::Claim as i32,
        title: "Unpaid wages at a port construction site".into(),
        petitioners: vec![
            petitioner("Zhang Wei", "13800138000"),
            petitioner("Li Na", "13900139000"),
        ],
        collective_size: 23,
        territory_unit_id: TOWN.into(),
        narrative: "We have not been paid since March; the contractor left.".into(),
        ..Default::default()
    }
}

struct Petition {
    client: PetitionServiceClient<Channel>,
    clerk: String,
    handler: String,
    district: String,
    city: String,
}

impl Petition {
    async fn new(running: &Running) -> Result<Self> {
        Ok(Petition {
            client: PetitionServiceClient::new(channel(running).await?),
            clerk: token(Agency::Petition, OFFICE, &[Role::IntakeClerk]),
            handler: token(Agency::Petition, BUREAU, &[Role::Handler]),
            district: token(Agency::Petition, DISTRICT_GOV, &[Role::Reviewer]),
            city: token(Agency::Petition, CITY_GOV, &[Role::Reviewer]),
        })
    }

    async fn step(
        &mut self,
        token: &str,
        matter: &str,
        version: u64,
        action: act::Action,
    ) -> Result<pb::ActOnMatterResponse, tonic::Status> {
        let r = pb::ActOnMatterRequest {
            request_id: request_id(),
            matter_id: matter.into(),
            expected_version: version,
            action: Some(action),
        };
        self.client
            .act_on_matter(authorized(r, token))
            .await
            .map(|r| r.into_inner())
    }

    /// Registers, assigns, receives and accepts on the petition route; returns the matter id and version.
    async fn accepted(&mut self) -> Result<(String, u64, pb::RegisterPetitionResponse)> {
        let registered = self
            .client
            .register_petition(authorized(registration(&request_id()), &self.clerk.clone()))
            .await?
            .into_inner();
        let id = registered.matter_id.clone();
        let clerk = self.clerk.clone();
        let handler = self.handler.clone();
        let mut v = registered.result.as_ref().unwrap().version;
        let route = act::Route {
            unit_id: BUREAU.into(),
            territorial_unit_id: TOWN.into(),
        };
        v = version(
            self.step(&clerk, &id, v, act::Action::Assign(route))
                .await?,
        );
        v = version(
            self.step(&handler, &id, v, act::Action::Receive(act::Empty {}))
                .await?,
        );
        let accept = act::Accept {
            claim_class: pb::ClaimClass::Claim as i32,
            route: pb::ClaimRoute::PetitionRoute as i32,
            ..Default::default()
        };
        v = version(
            self.step(&handler, &id, v, act::Action::Accept(accept))
                .await?,
        );
        Ok((id, v, registered))
    }
}

fn version(r: pb::ActOnMatterResponse) -> u64 {
    r.result.map(|r| r.version).unwrap_or_default()
}

fn stage(r: &pb::ActOnMatterResponse) -> String {
    r.matter
        .as_ref()
        .map(|m| m.stage.clone())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_petition_goes_through_the_whole_procedure_to_conclusion_and_a_repeat_is_not_accepted_again()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let (id, mut v, registered) = p.accepted().await?;
    ensure!(registered.query_code.len() == 16 && registered.person_refs.len() == 2);
    let (handler, district, city, clerk) = (
        p.handler.clone(),
        p.district.clone(),
        p.city.clone(),
        p.clerk.clone(),
    );
    let today = legal_date(Utc::now()).to_string();

    let opinion = |o: pb::Outcome| act::Opinion { outcome: o as i32 };
    v = version(
        p.step(
            &handler,
            &id,
            v,
            act::Action::IssueHandlingOpinion(opinion(pb::Outcome::NotSupported)),
        )
        .await?,
    );
    v = version(
        p.step(
            &handler,
            &id,
            v,
            act::Action::DeliverReply(act::Delivery {
                delivered_on: today.clone(),
            }),
        )
        .await?,
    );
    let unit = |u: &str| act::Unit { unit_id: u.into() };
    v = version(
        p.step(
            &district,
            &id,
            v,
            act::Action::RequestReview(unit(DISTRICT_GOV)),
        )
        .await?,
    );
    v = version(
        p.step(
            &district,
            &id,
            v,
            act::Action::IssueReviewOpinion(opinion(pb::Outcome::Upheld)),
        )
        .await?,
    );
    v = version(
        p.step(
            &district,
            &id,
            v,
            act::Action::DeliverReply(act::Delivery {
                delivered_on: today.clone(),
            }),
        )
        .await?,
    );
    v = version(
        p.step(&city, &id, v, act::Action::RequestReReview(unit(CITY_GOV)))
            .await?,
    );
    let hearing = p
        .step(&city, &id, v, act::Action::OpenHearing(act::Empty {}))
        .await?;
    ensure!(
        hearing
            .matter
            .as_ref()
            .unwrap()
            .deadlines
            .iter()
            .any(|d| d.kind == "re_review_opinion" && d.paused)
    );
    v = version(hearing);
    v = version(
        p.step(&city, &id, v, act::Action::CloseHearing(act::Empty {}))
            .await?,
    );
    v = version(
        p.step(
            &city,
            &id,
            v,
            act::Action::IssueReReviewOpinion(opinion(pb::Outcome::Upheld)),
        )
        .await?,
    );
    let concluded = p
        .step(
            &city,
            &id,
            v,
            act::Action::DeliverReply(act::Delivery {
                delivered_on: today.clone(),
            }),
        )
        .await?;
    ensure!(
        stage(&concluded) == "concluded",
        "stage {}",
        stage(&concluded)
    );
    ensure!(concluded.matter.as_ref().unwrap().closed);

    // The petitioner checks progress with the receipt and code; nothing personal comes back.
    let status = p
        .client
        .get_public_status(pb::GetPublicStatusRequest {
            receipt_number: id.clone(),
            query_code: registered.query_code.clone(),
        })
        .await?
        .into_inner();
    ensure!(status.stage == "concluded" && status.responsible_unit_id == BUREAU);
    ensure!(status.replies.len() == 3);
    let wrong = p
        .client
        .get_public_status(pb::GetPublicStatusRequest {
            receipt_number: id.clone(),
            query_code: "AAAAAAAAAAAAAAAA".into(),
        })
        .await;
    ensure!(wrong.unwrap_err().code() == Code::NotFound);

    // The same petitioners again about the unit that handled it, nobody naming the original: intake
    // finds it, but with no category filed it cannot tell the claim, so it flags the registration; the
    // clerk confirms, and the same facts are not accepted again (art. 36 ¶3), the notice in the response
    // and in the public status.
    let flagged = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                respondent_unit_id: BUREAU.into(),
                ..registration(&request_id())
            },
            &clerk,
        ))
        .await?
        .into_inner();
    let intake = flagged
        .matter
        .as_ref()
        .and_then(|m| m.intake.clone())
        .context("intake")?;
    ensure!(
        intake.outcome == pb::IntakeOutcome::PossibleRepeat as i32
            && intake.original_matter_id == id,
        "{intake:?}"
    );
    let confirmed = p
        .step(
            &clerk,
            &flagged.matter_id,
            flagged.result.as_ref().context("result")?.version,
            act::Action::ConfirmRepeat(act::ConfirmRepeat {
                original_matter_id: id.clone(),
                new_facts: false,
            }),
        )
        .await?;
    let matter = confirmed.matter.context("the matter")?;
    let intake = matter.intake.clone().context("intake")?;
    ensure!(
        matter.stage == "not_accepted_again"
            && intake.outcome == pb::IntakeOutcome::NotAcceptedAgain as i32
            && !matter.first_petition
            && matter.linked_to == id,
        "{matter:?}"
    );
    for part in [
        "第三十六条第三款",
        "article 36 paragraph 3",
        id.as_str(),
        today.as_str(),
    ] {
        ensure!(
            intake.notice.contains(part),
            "{part} missing: {}",
            intake.notice
        );
    }
    let status = p
        .client
        .get_public_status(pb::GetPublicStatusRequest {
            receipt_number: flagged.matter_id.clone(),
            query_code: flagged.query_code.clone(),
        })
        .await?
        .into_inner();
    ensure!(status.notice == intake.notice, "{status:?}");

    // The clerk naming the original: not accepted again at once.
    let mut again = registration(&request_id());
    again.same_matter_as = id.clone();
    let repeat = p
        .client
        .register_petition(authorized(again, &clerk))
        .await?
        .into_inner();
    ensure!(repeat.matter.as_ref().unwrap().stage == "not_accepted_again");
    ensure!(repeat.matter.as_ref().unwrap().linked_to == id);
    // New facts: a new matter in the original's entry.
    let mut new_facts = registration(&request_id());
    new_facts.same_matter_as = id.clone();
    new_facts.new_facts = true;
    let fresh = p
        .client
        .register_petition(authorized(new_facts, &clerk))
        .await?
        .into_inner()
        .matter
        .context("the matter")?;
    ensure!(
        fresh.stage == "registered"
            && fresh.linked_to == id
            && fresh.intake.context("intake")?.outcome == pb::IntakeOutcome::RepeatNewMatter as i32
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_finds_a_petitioners_earlier_matters_by_unit_and_category_on_both_backends()
-> Result<()> {
    on_both_backends(async |store| {
        let running = start(Agency::Petition, store).await?;
        repeats_found_at_intake(&mut Petition::new(&running).await?).await
    })
    .await
}

/// Runs `check` on a fresh SQLite and a fresh PostgreSQL petition store.
async fn on_both_backends(
    mut check: impl AsyncFnMut(Arc<dyn EventStore>) -> Result<()>,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = TestDatabase::create().await?;
    let outcome = async {
        check(sqlite(&dir, "petition.db").await?).await?;
        check(Arc::new(PgEventStore::connect(&db.url).await?)).await
    }
    .await;
    db.drop_db().await?;
    outcome
}

/// Registers the same petitioner (孙丽) about `respondent` under `category`: what intake found.
async fn register_sun_li(
    p: &mut Petition,
    category: &str,
    respondent: &str,
) -> Result<(pb::RegisterPetitionResponse, pb::Intake)> {
    let registered = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                title: "工地拖欠工资".into(),
                petitioners: vec![petitioner("孙丽", "13512345678")],
                collective_size: 1,
                category: category.into(),
                respondent_unit_id: respondent.into(),
                ..registration(&request_id())
            },
            &p.clerk,
        ))
        .await?
        .into_inner();
    let intake = registered
        .matter
        .as_ref()
        .and_then(|m| m.intake.clone())
        .context("intake")?;
    Ok((registered, intake))
}

async fn repeats_found_at_intake(p: &mut Petition) -> Result<()> {
    use pb::IntakeOutcome as O;
    let (first, intake) = register_sun_li(p, "劳动保障", BUREAU).await?;
    ensure!(intake.outcome == O::FirstPetition as i32, "{intake:?}");
    // The same claim while the first is open: merged into it, one entry.
    let (merged, intake) = register_sun_li(p, "劳动保障", BUREAU).await?;
    ensure!(
        intake.outcome == O::Merged as i32
            && intake.original_matter_id == first.matter_id
            && merged.person_refs == first.person_refs
            && merged.matter.as_ref().is_some_and(|m| m.stage == "merged"),
        "{intake:?}"
    );
    // Another unit, the same category: another claim, a first petition.
    let (_, intake) = register_sun_li(p, "劳动保障", "binhai.housing_bureau").await?;
    ensure!(intake.outcome == O::FirstPetition as i32, "{intake:?}");
    // The same unit, another category: intake cannot tell and flags it; the clerk dismisses the flag.
    let (flagged, intake) = register_sun_li(p, "消费维权", BUREAU).await?;
    ensure!(
        intake.outcome == O::PossibleRepeat as i32 && intake.original_matter_id == first.matter_id,
        "{intake:?}"
    );
    let version = flagged.result.as_ref().context("result")?.version;
    let wrong = p
        .step(
            &p.clerk.clone(),
            &flagged.matter_id,
            version,
            act::Action::ConfirmRepeat(act::ConfirmRepeat {
                original_matter_id: merged.matter_id.clone(),
                new_facts: false,
            }),
        )
        .await
        .unwrap_err();
    ensure!(wrong.code() == Code::InvalidArgument, "{wrong:?}");
    let dismissed = p
        .step(
            &p.clerk.clone(),
            &flagged.matter_id,
            version,
            act::Action::DismissRepeat(act::Reason {
                reason: "购买的商品与工资无关".into(),
            }),
        )
        .await?;
    let matter = dismissed.matter.context("the matter")?;
    ensure!(
        matter.first_petition
            && matter.intake.context("intake")?.outcome == O::FirstPetition as i32
            && matter.category == "消费维权"
            && matter.respondent_unit_id == BUREAU
    );
    // A flag the clerk confirms: merged into the open original.
    let (flagged, _) = register_sun_li(p, "住房城建", BUREAU).await?;
    let confirmed = p
        .step(
            &p.clerk.clone(),
            &flagged.matter_id,
            flagged.result.as_ref().context("result")?.version,
            act::Action::ConfirmRepeat(act::ConfirmRepeat {
                original_matter_id: first.matter_id.clone(),
                new_facts: false,
            }),
        )
        .await?;
    ensure!(stage(&confirmed) == "merged", "{confirmed:?}");
    // A unit that is not in the directory is refused, naming the field, and writes nothing.
    let refused = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                respondent_unit_id: "binhai.no_such_bureau".into(),
                ..registration(&request_id())
            },
            &p.clerk,
        ))
        .await
        .unwrap_err();
    ensure!(
        refused.code() == Code::InvalidArgument && bad_field(&refused).1 == "respondent",
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_on_a_matter_that_does_not_exist_is_not_found_and_writes_nothing() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let handler = p.handler.clone();
    let refused = p
        .step(
            &handler,
            "PMNOSUCHMATTER",
            1,
            act::Action::Receive(act::Empty {}),
        )
        .await
        .unwrap_err();
    ensure!(
        refused.code() == Code::NotFound && refused.message().contains("PMNOSUCHMATTER"),
        "{refused:?}"
    );
    ensure!(sqlite(&dir, "petition.db").await?.head().await? == 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_with_a_control_character_or_a_huge_unit_is_refused_naming_the_field_quoting_a_prefix()
-> Result<()> {
    // Given a petition office with nothing in it
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let handler = p.handler.clone();
    // When a step names a matter id holding a newline, a NUL or a right-to-left override
    for id in ["PM1\nforged log line", "PM\u{0}1", "PM\u{202e}1"] {
        let refused = p
            .step(&handler, id, 1, act::Action::Receive(act::Empty {}))
            .await
            .unwrap_err();
        // Then INVALID_ARGUMENT names matter_id, and the message writes the character out
        let (code, field, message) = bad_field(&refused);
        ensure!(
            code == Code::InvalidArgument
                && field == "matter_id"
                && !message.chars().any(char::is_control),
            "{id:?}: {refused:?}"
        );
    }
    // And a registration naming a 10,000-character territory is refused quoting only a prefix of it
    let mut huge = registration(&request_id());
    huge.territory_unit_id = "滨".repeat(10_000);
    let clerk = p.clerk.clone();
    let refused = p
        .client
        .register_petition(authorized(huge, &clerk))
        .await
        .unwrap_err();
    let (code, field, message) = bad_field(&refused);
    ensure!(
        code == Code::InvalidArgument
            && field == "territory_unit_id"
            && message.chars().count() < 700,
        "{code:?} {field} {} chars",
        message.chars().count()
    );
    // And nothing was written
    ensure!(sqlite(&dir, "petition.db").await?.head().await? == 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_after_its_window_is_refused_citing_art_35() -> Result<()> {
    // given a petition service on a clock the test drives, and a reply delivered the day it is written
    let dir = tempfile::tempdir()?;
    let (clock, driver) = Clock::driven(Utc::now());
    let written_on = clock.today();
    let running = start_settings(
        Settings {
            clock,
            ..settings(Agency::Petition, Default::default())
        },
        sqlite(&dir, "petition.db").await?,
    )
    .await?;
    let mut p = Petition::new(&running).await?;
    let (id, mut v, _) = p.accepted().await?;
    let handler = p.handler.clone();
    let district = p.district.clone();
    v = version(
        p.step(
            &handler,
            &id,
            v,
            act::Action::IssueHandlingOpinion(act::Opinion {
                outcome: pb::Outcome::NotSupported as i32,
            }),
        )
        .await?,
    );
    // a delivery dated before the opinion is refused citing art. 32
    let early = p
        .step(
            &handler,
            &id,
            v,
            act::Action::DeliverReply(act::Delivery {
                delivered_on: (written_on - Days::new(1)).to_string(),
            }),
        )
        .await
        .unwrap_err();
    ensure!(
        early.code() == Code::FailedPrecondition && early.message().contains("art. 32"),
        "{early:?}"
    );
    v = version(
        p.step(
            &handler,
            &id,
            v,
            act::Action::DeliverReply(act::Delivery {
                delivered_on: written_on.to_string(),
            }),
        )
        .await?,
    );
    // when 45 days pass and the petitioner asks for review
    driver.advance(chrono::TimeDelta::days(45));
    let refused = p
        .step(
            &district,
            &id,
            v,
            act::Action::RequestReview(act::Unit {
                unit_id: DISTRICT_GOV.into(),
            }),
        )
        .await
        .unwrap_err();
    ensure!(refused.code() == Code::FailedPrecondition, "{refused:?}");
    ensure!(
        refused.message().contains("art. 35") && refused.message().contains("window closed on"),
        "{}",
        refused.message()
    );
    let details = refused
        .get_details_precondition_failure()
        .context("PreconditionFailure details")?;
    ensure!(details.violations[0].r#type == "art. 35");
    let info = refused
        .get_details_error_info()
        .context("ErrorInfo details")?;
    let closed_on = info.metadata.get("deadline").context("the closing date")?;
    ensure!(
        info.metadata.get("rule").map(String::as_str) == Some("art. 35")
            && refused
                .message()
                .contains(&format!("closed on {closed_on}")),
        "{info:?} / {}",
        refused.message()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clerks_at_one_version_one_wins_and_a_retry_returns_the_first_result() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let clerk = p.clerk.clone();
    let registered = p
        .client
        .register_petition(authorized(registration(&request_id()), &clerk))
        .await?
        .into_inner();
    let id = registered.matter_id.clone();
    let v = registered.result.unwrap().version;

    let route = |u: &str| {
        act::Action::Forward(act::Route {
            unit_id: u.into(),
            territorial_unit_id: String::new(),
        })
    };
    let (mut c1, mut c2) = (p.client.clone(), p.client.clone());
    let (a, b) = tokio::join!(
        c1.act_on_matter(authorized(
            pb::ActOnMatterRequest {
                request_id: request_id(),
                matter_id: id.clone(),
                expected_version: v,
                action: Some(route(BUREAU))
            },
            &clerk
        )),
        c2.act_on_matter(authorized(
            pb::ActOnMatterRequest {
                request_id: request_id(),
                matter_id: id.clone(),
                expected_version: v,
                action: Some(route(TOWN))
            },
            &clerk
        )),
    );
    let outcomes = [a.map(|_| ()), b.map(|_| ())];
    ensure!(
        outcomes.iter().filter(|o| o.is_ok()).count() == 1,
        "{outcomes:?}"
    );
    let loser = outcomes.iter().find_map(|o| o.as_ref().err()).unwrap();
    ensure!(
        loser.code() == Code::Aborted && loser.message().contains(&format!("version {}", v + 1)),
        "{loser:?}"
    );

    // A retried registration returns the first result and records nothing.
    let request_id = request_id();
    let first = p
        .client
        .register_petition(authorized(registration(&request_id), &clerk))
        .await?
        .into_inner();
    let again = p
        .client
        .register_petition(authorized(registration(&request_id), &clerk))
        .await?
        .into_inner();
    ensure!(
        again.matter_id == first.matter_id
            && again.query_code == first.query_code
            && again.person_refs == first.person_refs
    );
    let (r1, r2) = (first.result.unwrap(), again.result.unwrap());
    ensure!(!r1.replayed && r2.replayed && r1.version == r2.version && r2.event_types.is_empty());

    // A retried step is answered with the matter as that step left it, not as it stands since.
    let step_id = oneledger_testkit::request_id();
    let forward = |request_id: &str| pb::ActOnMatterRequest {
        request_id: request_id.to_owned(),
        matter_id: first.matter_id.clone(),
        expected_version: r1.version,
        action: Some(route(BUREAU)),
    };
    let forwarded = p
        .client
        .act_on_matter(authorized(forward(&step_id), &clerk))
        .await?
        .into_inner();
    let handler = p.handler.clone();
    let v = version(forwarded.clone());
    p.step(
        &handler,
        &first.matter_id,
        v,
        act::Action::Receive(act::Empty {}),
    )
    .await?;
    let retried = p
        .client
        .act_on_matter(authorized(forward(&step_id), &clerk))
        .await?
        .into_inner();
    ensure!(
        retried.result.as_ref().is_some_and(|r| r.replayed)
            && stage(&retried) == "forwarded"
            && version(retried.clone()) == v,
        "{retried:?}"
    );
    // The same request id with another step is another command: refused, naming the request id.
    let other = pb::ActOnMatterRequest {
        action: Some(act::Action::SendReceiptNotice(act::Empty {})),
        expected_version: v + 1,
        ..forward(&step_id)
    };
    let refused = p
        .client
        .act_on_matter(authorized(other, &handler))
        .await
        .unwrap_err();
    ensure!(
        refused.code() == Code::AlreadyExists && refused.message().contains(&step_id),
        "{refused:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_mutual_tls_only_a_client_certified_by_the_districts_ca_is_served() -> Result<()> {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};
    // Given a service speaking TLS under a certificate of the district's CA, requiring client
    // certificates of that CA.
    let ca = oneledger_testkit::TestCa::new("binhai systems CA")?;
    let server = ca.server("petition")?;
    let mut settings = settings(Agency::Petition, Default::default());
    settings.tls = Some(
        ServerTlsConfig::new()
            .identity(Identity::from_pem(
                std::fs::read(&server.cert)?,
                std::fs::read(&server.key)?,
            ))
            .client_ca_root(Certificate::from_pem(ca.pem())),
    );
    let dir = tempfile::tempdir()?;
    let running = start_settings(settings, sqlite(&dir, "petition.db").await?).await?;
    let port = running
        .address
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let register = async |tls: Option<ClientTlsConfig>, scheme: &str| -> Result<Code> {
        let mut endpoint = Channel::from_shared(format!("{scheme}://localhost:{port}"))?
            .connect_timeout(Duration::from_secs(5));
        if let Some(tls) = tls {
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = match endpoint.connect().await {
            Ok(c) => c,
            Err(_) => return Ok(Code::Unavailable),
        };
        let answer = PetitionServiceClient::new(channel)
            .register_petition(authorized(registration(&request_id()), &clerk))
            .await;
        Ok(answer.map_or_else(|s| s.code(), |_| Code::Ok))
    };
    let trusting = || ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca.pem()));
    let certified = ca.client("political-legal")?;
    let identity = |c: &oneledger_testkit::TestCert| -> Result<Identity> {
        Ok(Identity::from_pem(
            std::fs::read(&c.cert)?,
            std::fs::read(&c.key)?,
        ))
    };
    // When a client with a certificate of the CA calls, then it is served.
    let mut ok = None;
    for _ in 0..50 {
        match register(Some(trusting().identity(identity(&certified)?)), "https").await? {
            Code::Unavailable => tokio::time::sleep(Duration::from_millis(20)).await,
            code => {
                ok = Some(code);
                break;
            }
        }
    }
    ensure!(ok == Some(Code::Ok), "a certified client is served: {ok:?}");
    // When a client brings no certificate, one of another CA, or no TLS at all, then nothing is served.
    let stranger = oneledger_testkit::TestCa::new("someone else's CA")?;
    let foreign = stranger.client("intruder")?;
    for (what, tls, scheme) in [
        ("no client certificate", Some(trusting()), "https"),
        (
            "a foreign CA's certificate",
            Some(trusting().identity(identity(&foreign)?)),
            "https",
        ),
        ("plaintext", None, "http"),
    ] {
        let code = register(tls, scheme).await?;
        ensure!(
            code != Code::Ok && code != Code::Unauthenticated,
            "{what}: {code:?}"
        );
    }
    Ok(())
}

/// `request` naming the caller's correlation id.
fn with_flow<T>(mut request: Request<T>, id: &str) -> Request<T> {
    request
        .metadata_mut()
        .insert("x-correlation-id", id.parse().unwrap());
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callers_correlation_id_ties_the_events_of_its_calls_and_a_malformed_one_writes_nothing()
-> Result<()> {
    // Given a petition service, and a flow the caller names with its own correlation id.
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let running = start(Agency::Petition, store.clone()).await?;
    let mut client = PetitionServiceClient::new(channel(&running).await?);
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let flow = uuid::Uuid::now_v7();
    // When it registers a petition and forwards it, each call naming the flow,
    let registered = client
        .register_petition(with_flow(
            authorized(registration(&request_id()), &clerk),
            &flow.to_string(),
        ))
        .await?
        .into_inner();
    client
        .act_on_matter(with_flow(
            authorized(
                pb::ActOnMatterRequest {
                    request_id: request_id(),
                    matter_id: registered.matter_id.clone(),
                    expected_version: registered.result.unwrap().version,
                    action: Some(act::Action::Forward(act::Route {
                        unit_id: BUREAU.into(),
                        territorial_unit_id: String::new(),
                    })),
                },
                &clerk,
            ),
            &flow.to_string(),
        ))
        .await?;
    // then every event of both calls carries the flow's id.
    let events = store.read_all(1, 100).await?;
    ensure!(events.len() >= 2);
    ensure!(events.iter().all(|e| e.metadata.correlation_id == flow));
    // When a call names something that is not a UUID, then it is refused naming the header, writing nothing.
    let head = store.head().await?;
    let refused = client
        .register_petition(with_flow(
            authorized(registration(&request_id()), &clerk),
            "flow-42",
        ))
        .await
        .unwrap_err();
    ensure!(refused.code() == Code::InvalidArgument);
    ensure!(refused.message().contains("x-correlation-id"));
    ensure!(store.head().await? == head);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_and_appends_are_counted_by_method_and_code_and_scraped_from_the_admin_port()
-> Result<()> {
    // Given a petition service and this process's admin port.
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut client = PetitionServiceClient::new(channel(&running).await?);
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let admin_address = admin.local_addr()?;
    tokio::spawn(oneledger_metrics::admin::serve(
        admin,
        std::future::pending(),
    ));
    // When one registration is refused for want of a token and one is taken.
    let _ = client
        .register_petition(Request::new(registration(&request_id())))
        .await;
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    client
        .register_petition(authorized(registration(&request_id()), &clerk))
        .await?;
    // Then a scrape of the admin port counts each by its code and times the append.
    let mut socket = tokio::net::TcpStream::connect(admin_address).await?;
    tokio::io::AsyncWriteExt::write_all(
        &mut socket,
        b"GET /metrics HTTP/1.1\r\nhost: admin\r\nconnection: close\r\n\r\n",
    )
    .await?;
    let mut scraped = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut socket, &mut scraped).await?;
    let method = "/oneledger.petition.v1.PetitionService/RegisterPetition";
    for line in [
        format!("oneledger_grpc_requests_total{{method=\"{method}\",code=\"UNAUTHENTICATED\"}}"),
        format!("oneledger_grpc_requests_total{{method=\"{method}\",code=\"OK\"}}"),
        "oneledger_store_append_seconds_count{agency=\"petition\"}".to_owned(),
    ] {
        ensure!(scraped.contains(&line), "{line} not scraped:\n{scraped}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_without_a_valid_token_role_or_agency_are_refused() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut client = PetitionServiceClient::new(channel(&running).await?);

    let none = client
        .register_petition(Request::new(registration(&request_id())))
        .await
        .unwrap_err();
    ensure!(none.code() == Code::Unauthenticated);
    let issuer = oneledger_testkit::issuer();
    let mut claims = issuer.claims(
        "u",
        Agency::Petition,
        OFFICE,
        &[Role::IntakeClerk],
        Duration::from_secs(60),
    );
    (claims.iat, claims.exp) = (claims.iat - 7200, claims.iat - 3600);
    let expired = issuer.sign(&claims)?;
    ensure!(
        client
            .register_petition(authorized(registration(&request_id()), &expired))
            .await
            .unwrap_err()
            .code()
            == Code::Unauthenticated
    );
    let forged = oneledger_testkit::token(
        &oneledger_services::DevIssuer::generate("binhai")?,
        Agency::Petition,
        OFFICE,
        &[Role::IntakeClerk],
    );
    ensure!(
        client
            .register_petition(authorized(registration(&request_id()), &forged))
            .await
            .unwrap_err()
            .code()
            == Code::Unauthenticated
    );
    let viewer = token(Agency::Petition, OFFICE, &[Role::Viewer]);
    ensure!(
        client
            .register_petition(authorized(registration(&request_id()), &viewer))
            .await
            .unwrap_err()
            .code()
            == Code::PermissionDenied
    );
    let police = token(Agency::PublicSecurity, OFFICE, &[Role::IntakeClerk]);
    ensure!(
        client
            .register_petition(authorized(registration(&request_id()), &police))
            .await
            .unwrap_err()
            .code()
            == Code::PermissionDenied
    );

    // Bad input names the field (BadRequest details) and records nothing.
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let mut bad = registration(&request_id());
    bad.petitioners[1].name = String::new();
    let status = client
        .register_petition(authorized(bad, &clerk))
        .await
        .unwrap_err();
    ensure!(status.code() == Code::InvalidArgument);
    let violations = status
        .get_details_bad_request()
        .context("BadRequest details")?
        .field_violations;
    ensure!(
        violations[0].field == "petitioners[1].name",
        "{violations:?}"
    );
    let mut bad = registration("not-a-uuid");
    bad.title = "x".into();
    ensure!(
        client
            .register_petition(authorized(bad, &clerk))
            .await
            .unwrap_err()
            .message()
            .contains("request_id")
    );
    // An unspecified enum is refused naming its field, never read as some real value.
    for (field, bad) in [
        (
            "channel",
            pb::RegisterPetitionRequest {
                channel: 0,
                ..registration(&request_id())
            },
        ),
        (
            "claim_class",
            pb::RegisterPetitionRequest {
                claim_class: 0,
                ..registration(&request_id())
            },
        ),
    ] {
        let status = client
            .register_petition(authorized(bad, &clerk))
            .await
            .unwrap_err();
        let violations = status
            .get_details_bad_request()
            .context("BadRequest details")?
            .field_violations;
        ensure!(
            status.code() == Code::InvalidArgument && violations[0].field == field,
            "{field}: {status:?}"
        );
    }
    // None of the refused registrations wrote anything.
    let store = sqlite(&dir, "petition.db").await?;
    ensure!(store.head().await? == 0, "refused requests write nothing");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_is_read_only_with_audit_and_erasure_makes_it_unreadable_for_good()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let running = start(Agency::Petition, store.clone()).await?;
    let mut client = PetitionServiceClient::new(channel(&running).await?);
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let registered = client
        .register_petition(authorized(registration(&request_id()), &clerk))
        .await?
        .into_inner();
    let person = registered.person_refs[0].clone();

    let ask = || pb::GetPersonalDataRequest {
        person_ref: person.clone(),
        purpose: pb::Purpose::Handling as i32,
        fields: vec![
            pb::PersonalField::Name as i32,
            pb::PersonalField::Narrative as i32,
        ],
    };
    ensure!(
        client
            .get_personal_data(authorized(ask(), &clerk))
            .await
            .unwrap_err()
            .code()
            == Code::PermissionDenied
    );
    let reader = token(Agency::Petition, OFFICE, &[Role::PiiReader]);
    let data = client
        .get_personal_data(authorized(ask(), &reader))
        .await?
        .into_inner();
    ensure!(data.petitioner.as_ref().unwrap().name == "Zhang Wei" && !data.erased);
    // Need to know: a reader of a unit handling none of the person's matters reads nothing, whatever
    // its role — a bureau the matter was never routed to, a police station.
    for (agency, unit) in [
        (Agency::Petition, BUREAU),
        (Agency::PublicSecurity, STATION),
    ] {
        let outsider = token(agency, unit, &[Role::PiiReader]);
        let refused = client
            .get_personal_data(authorized(ask(), &outsider))
            .await
            .unwrap_err();
        ensure!(
            refused.code() == Code::PermissionDenied,
            "{unit}: {refused:?}"
        );
    }
    ensure!(
        data.narratives
            .get(&registered.matter_id)
            .is_some_and(|n| n.contains("not been paid"))
    );

    let auditor = token(Agency::Petition, OFFICE, &[Role::Auditor]);
    let reads = client
        .list_personal_data_reads(authorized(
            pb::ListPersonalDataReadsRequest {
                person_ref: person.clone(),
                page_size: 10,
            },
            &auditor,
        ))
        .await?
        .into_inner()
        .reads;
    ensure!(
        reads.len() == 1
            && reads[0].purpose == "handling"
            && reads[0].unit_id == OFFICE
            && reads[0].fields == "name,narrative",
        "{reads:?}"
    );
    // Only the fields named are returned; a read naming none is refused naming `fields`.
    let phone_only = client
        .get_personal_data(authorized(
            pb::GetPersonalDataRequest {
                fields: vec![pb::PersonalField::Phone as i32],
                ..ask()
            },
            &reader,
        ))
        .await?
        .into_inner();
    let petitioner = phone_only.petitioner.context("the phone")?;
    ensure!(
        petitioner.phone == "13800138000"
            && petitioner.name.is_empty()
            && petitioner.id_number.is_empty()
            && phone_only.narratives.is_empty(),
        "{petitioner:?}"
    );
    let none = client
        .get_personal_data(authorized(
            pb::GetPersonalDataRequest {
                fields: vec![],
                ..ask()
            },
            &reader,
        ))
        .await
        .unwrap_err();
    ensure!(
        none.code() == Code::InvalidArgument && bad_field(&none).1 == "fields",
        "{none:?}"
    );
    let no_purpose = client
        .get_personal_data(authorized(
            pb::GetPersonalDataRequest {
                purpose: 0,
                ..ask()
            },
            &reader,
        ))
        .await
        .unwrap_err();
    ensure!(bad_field(&no_purpose).1 == "purpose", "{no_purpose:?}");

    client
        .erase_person(authorized(
            pb::ErasePersonRequest {
                request_id: request_id(),
                person_ref: person.clone(),
            },
            &reader,
        ))
        .await?;
    let after = client
        .get_personal_data(authorized(ask(), &reader))
        .await?
        .into_inner();
    ensure!(after.erased && after.petitioner.is_none());
    // Erasure ends the pseudonym: the same person petitioning again gets a ref that cannot be tied to
    // the erased one.
    let again = client
        .register_petition(authorized(registration(&request_id()), &clerk))
        .await?
        .into_inner();
    ensure!(
        again.person_refs[0] != person,
        "{:?} after erasing {person}",
        again.person_refs
    );
    // The matter's history still replays; only the person's sealed fields are gone.
    let viewer = token(Agency::Petition, OFFICE, &[Role::Viewer]);
    let matter = client
        .get_matter(authorized(
            pb::GetMatterRequest {
                matter_id: registered.matter_id.clone(),
            },
            &viewer,
        ))
        .await?;
    ensure!(
        matter
            .into_inner()
            .matter
            .unwrap()
            .person_refs
            .contains(&person)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_published_event_is_a_cloudevent_without_personal_data_in_clear() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let running = start(Agency::Petition, store.clone()).await?;
    let mut p = Petition::new(&running).await?;
    let (id, v, _) = p.accepted().await?;
    let handler = p.handler.clone();
    p.step(
        &handler,
        &id,
        v,
        act::Action::SendReceiptNotice(act::Empty {}),
    )
    .await?;

    let nats = NatsServer::start().await?;
    let spec = oneledger_bus::StreamSpec::for_agency(Agency::Petition);
    let (client, events) = oneledger_bus::connect(&nats.url(), "test").await?;
    let relay = oneledger_bus::Relay::new(
        store.clone(),
        client,
        events,
        spec.clone(),
        oneledger_bus::RelayConfig::new(&spec, "test"),
    );
    let mut published = relay.published();
    let head = store.head().await?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(relay.run(async {
        let _ = stopped.await;
    }));
    tokio::time::timeout(Duration::from_secs(30), published.wait_for(|p| *p >= head)).await??;
    let _ = stop.send(());
    task.await??;

    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await?);
    let stream = js.get_stream(&spec.name).await?;
    for seq in 1..=head {
        let message = stream.get_raw_message(seq).await?;
        let text = String::from_utf8(message.payload.to_vec())?;
        for secret in [
            "Zhang Wei",
            "Li Na",
            "13800138000",
            petitioner("Zhang Wei", "13800138000").id_number.as_str(),
            "Port Road",
            "not been paid",
        ] {
            ensure!(
                !text.contains(secret),
                "{secret:?} in clear in message {seq}: {text}"
            );
        }
        let ce: cloudevents::Event = serde_json::from_str(&text)?;
        ensure!(
            ce.specversion().as_str() == "1.0"
                && ce.source().as_str() == "/oneledger/binhai/petition"
        );
        ensure!(ce.ty().starts_with("oneledger.petition.") && ce.id().len() == 36);
    }
    Ok(())
}

/// Public security's and the committee's services on PostgreSQL, with clients; the services run while
/// the returned pair lives.
async fn police_and_committee(
    ps_db: &TestDatabase,
    pl_db: &TestDatabase,
) -> Result<(
    PublicSecurityServiceClient<Channel>,
    PoliticalLegalServiceClient<Channel>,
    (Running, Running),
)> {
    let police = start(
        Agency::PublicSecurity,
        Arc::new(PgEventStore::connect(&ps_db.url).await?),
    )
    .await?;
    let committee = start(
        Agency::PoliticalLegal,
        Arc::new(PgEventStore::connect(&pl_db.url).await?),
    )
    .await?;
    Ok((
        PublicSecurityServiceClient::new(channel(&police).await?),
        PoliticalLegalServiceClient::new(channel(&committee).await?),
        (police, committee),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_police_dispute_and_a_petition_are_linked_and_a_supervision_order_is_escalated()
-> Result<()> {
    let (ps_db, pl_db) = (TestDatabase::create().await?, TestDatabase::create().await?);
    let outcome = async {
        let (mut ps_client, mut pl_client, _running) = police_and_committee(&ps_db, &pl_db).await?;

        let officer = token(Agency::PublicSecurity, STATION, &[Role::PoliceOfficer]);
        let report = dispute::Report {
            source: dispute::Source::Policing as i32,
            title: "Workers block the site gate over unpaid wages".into(),
            category: "labour".into(),
            territory_unit_id: TOWN.into(),
            collective_size: 23,
            ..Default::default()
        };
        let reported = ps_client
            .report_dispute(authorized(
                ps::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(report.clone()),
                },
                &officer,
            ))
            .await?
            .into_inner();
        let dispute_id = reported.dispute.unwrap().dispute_id;
        ensure!(dispute_id.starts_with("PS-"), "{dispute_id}");

        // Two agencies reporting under one caller id keep two items: ids are namespaced by agency.
        let named = |source: dispute::Source| dispute::Report {
            dispute_id: "XG-2026-0001".into(),
            source: source as i32,
            ..report.clone()
        };
        let by_police = ps_client
            .report_dispute(authorized(
                ps::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(named(dispute::Source::Policing)),
                },
                &officer,
            ))
            .await?
            .into_inner()
            .dispute
            .context("the police's dispute")?;
        let screener = token(Agency::PoliticalLegal, COMMITTEE, &[Role::Coordinator]);
        let by_committee = pl_client
            .report_dispute(authorized(
                pl::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(named(dispute::Source::DailyScreening)),
                },
                &screener,
            ))
            .await?
            .into_inner()
            .dispute
            .context("the committee's dispute")?;
        ensure!(
            by_police.dispute_id == "PS-XG-2026-0001"
                && by_committee.dispute_id == "PL-XG-2026-0001",
            "{by_police:?} {by_committee:?}"
        );
        // The police cannot assess: that is the committee's, in its own service.
        let assess = ps::ActOnDisputeRequest {
            request_id: request_id(),
            dispute_id: dispute_id.clone(),
            expected_version: 1,
            step: Some(dispute::Step {
                action: Some(dispute::step::Action::Assess(
                    dispute::RiskLevel::High as i32,
                )),
            }),
        };
        ensure!(
            ps_client
                .act_on_dispute(authorized(assess, &officer))
                .await
                .unwrap_err()
                .code()
                == Code::PermissionDenied
        );

        // The station joins the committee's joint handling, acts, and closes its part, in its own store.
        let step = |action, v| ps::ActInJointHandlingRequest {
            request_id: request_id(),
            joint_handling_id: "JH1".into(),
            expected_version: v,
            action: Some(action),
        };
        use ps::act_in_joint_handling_request::Action as Jh;
        let joined = ps_client
            .act_in_joint_handling(authorized(step(Jh::Join(true), 0), &officer))
            .await?
            .into_inner();
        let v = joined.result.unwrap().version;
        let v = ps_client
            .act_in_joint_handling(authorized(
                step(Jh::RecordAction("mediation at the gate".into()), v),
                &officer,
            ))
            .await?
            .into_inner()
            .result
            .unwrap()
            .version;
        let closed = ps_client
            .act_in_joint_handling(authorized(
                step(Jh::ClosePart("order kept".into()), v),
                &officer,
            ))
            .await?
            .into_inner();
        ensure!(
            closed.result.unwrap().event_types
                == ["public_security.joint_participation.part_closed"]
        );

        let coordinator = token(Agency::PoliticalLegal, COMMITTEE, &[Role::Coordinator]);
        let item = |kind: ItemKind, id: &str| ItemRef {
            kind: kind as i32,
            id: id.into(),
        };
        let link = |anchor: ItemRef, other: ItemRef| pl::LinkItemsRequest {
            request_id: request_id(),
            anchor: Some(anchor),
            other: Some(other),
            reason: "same site".into(),
        };
        let linked = pl_client
            .link_items(authorized(
                link(
                    item(ItemKind::PetitionMatter, "PM1"),
                    item(ItemKind::Dispute, &dispute_id),
                ),
                &coordinator,
            ))
            .await?
            .into_inner();
        ensure!(linked.root.unwrap().id == "PM1");
        let again = pl_client
            .link_items(authorized(
                link(
                    item(ItemKind::Dispute, &dispute_id),
                    item(ItemKind::PetitionMatter, "PM1"),
                ),
                &coordinator,
            ))
            .await;
        ensure!(
            again.unwrap_err().code() == Code::FailedPrecondition,
            "already one matter"
        );

        let supervisor = token(Agency::PoliticalLegal, MEETING_OFFICE, &[Role::Supervisor]);
        let order = pl_client
            .issue_supervision_order(authorized(
                pl::IssueSupervisionOrderRequest {
                    request_id: request_id(),
                    subject: Some(item(ItemKind::PetitionMatter, "PM1")),
                    to_unit_id: TOWN.into(),
                    due_on: (legal_date(Utc::now()) + Days::new(14)).to_string(),
                    reason: "overdue".into(),
                    requirements: "Pay the wages and report within two weeks".into(),
                },
                &supervisor,
            ))
            .await?
            .into_inner();
        // The order names PM1 as its subject, so it is already in PM1's entry: no link by hand is needed,
        // and one is refused as the same matter.
        let by_hand = pl_client
            .link_items(authorized(
                link(
                    item(ItemKind::PetitionMatter, "PM1"),
                    item(ItemKind::SupervisionOrder, &order.order_id),
                ),
                &coordinator,
            ))
            .await
            .unwrap_err();
        ensure!(
            by_hand.code() == Code::FailedPrecondition && by_hand.message().contains("one root"),
            "{by_hand:?}"
        );
        let mut v = order.result.unwrap().version;
        use pl::Escalation as E;
        for level in [
            E::Interview,
            E::PublicNotice,
            E::ListedSupervision,
            E::BackwardInvestigation,
            E::AccountabilityRecommendation,
        ] {
            let step = pl::ActOnSupervisionOrderRequest {
                request_id: request_id(),
                order_id: order.order_id.clone(),
                expected_version: v,
                action: Some(pl::act_on_supervision_order_request::Action::Escalate(
                    pl::act_on_supervision_order_request::Escalate {
                        level: level as i32,
                        note: "no feedback".into(),
                    },
                )),
            };
            let r = pl_client
                .act_on_supervision_order(authorized(step, &supervisor))
                .await?
                .into_inner();
            ensure!(r.escalation == level as i32);
            v = r.result.unwrap().version;
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    ps_db.drop_db().await?;
    pl_db.drop_db().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_serving_and_read_events_catches_up_then_follows() -> Result<()> {
    use oneledger_proto::events::v1::{
        ReadEventsRequest, event_feed_service_client::EventFeedServiceClient,
    };
    use tonic_health::pb::{
        HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
    };

    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let channel = channel(&running).await?;
    let mut health = HealthClient::new(channel.clone());
    let mut serving = false;
    for _ in 0..50 {
        let status = health
            .check(HealthCheckRequest {
                service: "oneledger.petition.v1.PetitionService".into(),
            })
            .await?
            .into_inner()
            .status;
        if status == ServingStatus::Serving as i32 {
            serving = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(serving, "health never turned SERVING");

    let mut p = Petition::new(&running).await?;
    p.accepted().await?;
    let viewer = token(Agency::Petition, OFFICE, &[Role::Integrator]);
    let mut feed = EventFeedServiceClient::new(channel);
    let ask = ReadEventsRequest {
        after_position: 0,
        max_batch_size: 2,
        follow: true,
        event_type_prefixes: vec!["petition.matter.".into()],
    };
    // Another agency's system reads the shared ledger, not the petition office's own log; and no unit's
    // staff read the log, which names every matter's petitioners (a bureau's viewer may be accused).
    for outsider in [
        token(Agency::PublicSecurity, STATION, &[Role::Integrator]),
        token(Agency::Petition, BUREAU, &[Role::Viewer, Role::Handler]),
    ] {
        let refused = feed
            .read_events(authorized(ask.clone(), &outsider))
            .await
            .unwrap_err();
        ensure!(refused.code() == Code::PermissionDenied, "{refused:?}");
    }
    let mut stream = feed
        .read_events(authorized(ask, &viewer))
        .await?
        .into_inner();
    let mut seen = Vec::new();
    let mut resume = 0;
    while seen.len() < 6 {
        let batch = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await??
            .context("stream ended")?;
        ensure!(
            batch.resume_after_position > resume,
            "resume positions advance"
        );
        resume = batch.resume_after_position;
        seen.extend(batch.events.into_iter().map(|e| e.event_type));
    }
    ensure!(
        seen[..6]
            == [
                "petition.matter.registered",
                "petition.matter.personal_data_recorded",
                "petition.matter.personal_data_recorded",
                "petition.matter.assigned",
                "petition.matter.received",
                "petition.matter.accepted"
            ],
        "{seen:?}"
    );
    // Following: a new step arrives on the open stream.
    let (id, v, _) = p.accepted().await?;
    let handler = p.handler.clone();
    p.step(
        &handler,
        &id,
        v,
        act::Action::SendReceiptNotice(act::Empty {}),
    )
    .await?;
    let mut live = Vec::new();
    while !live
        .iter()
        .any(|t: &String| t == "petition.matter.receipt_notice_sent")
    {
        let batch = tokio::time::timeout(Duration::from_secs(10), stream.message())
            .await??
            .context("stream ended")?;
        live.extend(batch.events.into_iter().map(|e| e.event_type));
    }
    ensure!(
        !live.iter().any(|t| t.starts_with("petition.person.")),
        "filtered by prefix"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agency_breaching_an_agreement_gets_a_supervision_proposal_a_supervisor_issues_and_a_repeat_is_shown_the_agreement()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let petition_store = sqlite(&dir, "petition.db").await?;
    let committee_store = sqlite(&dir, "committee.db").await?;
    let running = start(Agency::Petition, petition_store.clone()).await?;
    // The committee's service follows the petition office's log, as `up` runs it.
    let committee = start_with(
        Agency::PoliticalLegal,
        committee_store.clone(),
        [(
            Agency::Petition,
            petition_store.clone() as Arc<dyn oneledger_store::EventLog>,
        )]
        .into(),
    )
    .await?;
    let mut p = Petition::new(&running).await?;
    let (id, v, registered) = p.accepted().await?;
    let handler = p.handler.clone();
    let due = (legal_date(Utc::now()) + Days::new(10)).to_string();
    let obligation = |id: &str, unit: &str, person: &str| act::Obligation {
        obligation_id: id.into(),
        obligor_unit_id: unit.into(),
        obligor_person_ref: person.into(),
        description: "按协议先行垫付拖欠工资".into(),
        due_on: due.clone(),
    };
    let agreement = |obligations| act::Agreement {
        agreement_id: "a1".into(),
        kind: common_pb::AgreementKind::CeasePetitioning as i32,
        obligations,
        ..Default::default()
    };
    // An obligor the directory does not list is refused, naming the field.
    let typo = p
        .step(
            &handler,
            &id,
            v,
            act::Action::RecordAgreement(agreement(vec![obligation(
                "pay",
                "binhai.xingnag_subdistrict",
                "",
            )])),
        )
        .await
        .unwrap_err();
    ensure!(bad_field(&typo).1 == "obligor", "{typo:?}");
    let mut v = version(
        p.step(
            &handler,
            &id,
            v,
            act::Action::RecordAgreement(agreement(vec![
                obligation("pay", TOWN, ""),
                obligation("withdraw", "", &registered.person_refs[0]),
            ])),
        )
        .await?,
    );
    // Both breaches are recorded facts; only the unit's proposes supervising it, and nothing is issued.
    for obligation_id in ["withdraw", "pay"] {
        let breach = act::ObligationOutcome {
            agreement_id: "a1".into(),
            obligation_id: obligation_id.into(),
            met: false,
        };
        let r = p
            .step(&handler, &id, v, act::Action::RecordObligation(breach))
            .await?;
        ensure!(
            r.result.as_ref().context("result")?.event_types
                == ["petition.matter.obligation_breached"]
        );
        v = version(r);
    }
    let of_type = async |event_type: &str| -> Result<Vec<oneledger_store::RecordedEvent>> {
        Ok(committee_store
            .read_all(1, 1000)
            .await?
            .into_iter()
            .filter(|e| e.event_type == event_type)
            .collect())
    };
    let mut proposed = Vec::new();
    for _ in 0..200 {
        proposed = of_type("political_legal.deadline_watch.supervision_proposed").await?;
        if !proposed.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ensure!(proposed.len() == 1, "{} proposals", proposed.len());
    let proposal = &proposed[0].data;
    ensure!(
        proposal["unit"] == TOWN
            && proposal["source"] == "breached_obligation"
            && proposal["article"] == "art. 33",
        "{proposal}"
    );
    ensure!(
        of_type("political_legal.supervision_order.issued")
            .await?
            .is_empty()
    );
    // A supervisor issues it: the order goes to the town, for the agreement.
    let mut pl_client = PoliticalLegalServiceClient::new(channel(&committee).await?);
    let proposal_id = format!("petition_matter:{id}/1");
    let supervisor = token(Agency::PoliticalLegal, MEETING_OFFICE, &[Role::Supervisor]);
    let issue = |rid: String| pl::IssueSupervisionProposalRequest {
        request_id: rid,
        proposal_id: proposal_id.clone(),
        ..Default::default()
    };
    let handler_token = token(Agency::PoliticalLegal, TOWN, &[Role::Handler]);
    let denied = pl_client
        .issue_supervision_proposal(authorized(issue(request_id()), &handler_token))
        .await
        .unwrap_err();
    ensure!(denied.code() == Code::PermissionDenied, "{denied:?}");
    pl_client
        .issue_supervision_proposal(authorized(issue(request_id()), &supervisor))
        .await?;
    let twice = pl_client
        .issue_supervision_proposal(authorized(issue(request_id()), &supervisor))
        .await
        .unwrap_err();
    ensure!(twice.code() == Code::FailedPrecondition, "{twice:?}");
    let issued = of_type("political_legal.supervision_order.issued").await?;
    ensure!(issued.len() == 1, "{} orders", issued.len());
    let order = &issued[0].data;
    ensure!(
        order["to_unit"] == TOWN
            && order["reason"]["kind"] == "agreement_breach"
            && order["subject"].to_string().contains(&id),
        "{order}"
    );
    // The petitioner comes back on the matter: intake shows the agreement and where it stands.
    let again = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                same_matter_as: id.clone(),
                ..registration(&request_id())
            },
            &p.clerk.clone(),
        ))
        .await?
        .into_inner();
    let intake = again.matter.and_then(|m| m.intake).context("intake")?;
    let shown = intake
        .original_agreements
        .first()
        .context("the agreement")?;
    let status = |o: &str| {
        shown
            .obligations
            .iter()
            .find(|x| x.obligation_id == o)
            .map(|x| (x.status, x.owed_by_petitioner, x.obligor_unit_id.clone()))
    };
    ensure!(
        shown.kind == common_pb::AgreementKind::CeasePetitioning as i32
            && status("pay")
                == Some((
                    common_pb::ObligationStatus::Breached as i32,
                    false,
                    TOWN.to_owned()
                ))
            && status("withdraw")
                == Some((
                    common_pb::ObligationStatus::Breached as i32,
                    true,
                    String::new()
                )),
        "{intake:?}"
    );
    Ok(())
}

/// The field a refusal's BadRequest names, and its message.
fn bad_field(status: &tonic::Status) -> (Code, String, String) {
    let field = status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default();
    (status.code(), field, status.message().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typo_d_or_wrong_kind_of_unit_is_refused_naming_the_field_and_review_is_one_level_up()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let clerk = p.clerk.clone();

    // Registration: a typo'd territory, a department given as territory.
    for (territory, field) in [
        ("binhai.xingnag_subdistrict", "territory"),
        ("binhai.housing_bureau", "territory"),
    ] {
        let bad = pb::RegisterPetitionRequest {
            territory_unit_id: territory.into(),
            ..registration(&request_id())
        };
        let status = p
            .client
            .register_petition(authorized(bad, &clerk))
            .await
            .unwrap_err();
        let (code, named, message) = bad_field(&status);
        ensure!(
            code == Code::InvalidArgument && named == field && message.contains(territory),
            "{territory}: {status:?}"
        );
    }
    // An accusation against a typo'd unit.
    let accusation = pb::RegisterPetitionRequest {
        claim_class: pb::ClaimClass::Accusation as i32,
        accused_unit_id: "binhai.housing_buerau".into(),
        ..registration(&request_id())
    };
    let status = p
        .client
        .register_petition(authorized(accusation, &clerk))
        .await
        .unwrap_err();
    ensure!(bad_field(&status).1 == "accused_unit", "{status:?}");
    // Assignment to a typo'd bureau, and a territorial unit that is a department.
    let registered = p
        .client
        .register_petition(authorized(registration(&request_id()), &clerk))
        .await?
        .into_inner();
    let (id, v) = (registered.matter_id, registered.result.unwrap().version);
    for (unit, territorial, field) in [
        ("binhai.human_resouces_bureau", TOWN, "to"),
        (BUREAU, "binhai.housing_bureau", "territorial_unit"),
    ] {
        let route = act::Route {
            unit_id: unit.into(),
            territorial_unit_id: territorial.into(),
        };
        let status = p
            .step(&clerk, &id, v, act::Action::Assign(route))
            .await
            .unwrap_err();
        let (code, named, _) = bad_field(&status);
        ensure!(
            code == Code::InvalidArgument && named == field,
            "{unit}: {status:?}"
        );
    }

    // Diversion to a ghost organ.
    let divert = act::Action::Divert(act::Divert {
        diversion: "other_procedure".into(),
        unit_id: "binhai.people_courtt".into(),
        channel: "向人民法院起诉".into(),
    });
    let status = p.step(&clerk, &id, v, divert).await.unwrap_err();
    ensure!(bad_field(&status).1 == "to", "{status:?}");

    // A token whose unit the directory does not list acts for no one.
    let ghost = token(
        Agency::Petition,
        "binhai.petiton_office",
        &[Role::IntakeClerk],
    );
    let status = p
        .client
        .register_petition(authorized(registration(&request_id()), &ghost))
        .await
        .unwrap_err();
    ensure!(
        status.code() == Code::PermissionDenied && status.message().contains("directory"),
        "{status:?}"
    );

    // Review: by a peer department, by the territorial sub-district → art. 35, naming the unit one
    // level up; by the district government (the bureau's reviewer) → accepted.
    let (id, mut v, _) = p.accepted().await?;
    let handler = p.handler.clone();
    let extend = act::Action::ExtendHandling(act::Extend {
        days: 30,
        approver_unit_id: "binhai.district_govenment".into(),
        reason: "需现场勘验".into(),
    });
    let status = p.step(&handler, &id, v, extend).await.unwrap_err();
    ensure!(bad_field(&status).1 == "approver", "{status:?}");
    for action in [
        act::Action::IssueHandlingOpinion(act::Opinion {
            outcome: pb::Outcome::NotSupported as i32,
        }),
        act::Action::DeliverReply(act::Delivery {
            delivered_on: legal_date(Utc::now()).to_string(),
        }),
    ] {
        v = version(p.step(&handler, &id, v, action).await?);
    }
    for peer in ["binhai.housing_bureau", TOWN] {
        let review = act::Action::RequestReview(act::Unit {
            unit_id: peer.into(),
        });
        let status = p.step(&clerk, &id, v, review).await.unwrap_err();
        let info = status.get_details_error_info().context("ErrorInfo")?;
        ensure!(
            status.code() == Code::FailedPrecondition
                && info.metadata.get("rule").map(String::as_str) == Some("art. 35")
                && status.message().contains(DISTRICT_GOV),
            "{peer}: {status:?}"
        );
    }
    let review = act::Action::RequestReview(act::Unit {
        unit_id: DISTRICT_GOV.into(),
    });
    let accepted = p.step(&clerk, &id, v, review).await?;
    ensure!(stage(&accepted) == "under_review", "{accepted:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_committee_and_the_police_name_only_units_of_the_directory() -> Result<()> {
    let (ps_db, pl_db) = (TestDatabase::create().await?, TestDatabase::create().await?);
    let outcome = async {
        let (mut ps_client, mut pl_client, _running) = police_and_committee(&ps_db, &pl_db).await?;
        let coordinator = token(Agency::PoliticalLegal, COMMITTEE, &[Role::Coordinator]);
        let report = dispute::Report {
            source: dispute::Source::DailyScreening as i32,
            title: "小区业主因延期交房聚集".into(),
            category: "住房城建".into(),
            territory_unit_id: TOWN.into(),
            collective_size: 30,
            ..Default::default()
        };
        let ghost_territory = pl_client
            .report_dispute(authorized(
                pl::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(dispute::Report {
                        territory_unit_id: "binhai.xingnag_subdistrict".into(),
                        ..report.clone()
                    }),
                },
                &coordinator,
            ))
            .await
            .unwrap_err();
        ensure!(
            bad_field(&ghost_territory).1 == "territory",
            "{ghost_territory:?}"
        );
        let subject = pl_client
            .report_dispute(authorized(
                pl::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(report),
                },
                &coordinator,
            ))
            .await?
            .into_inner()
            .dispute
            .context("the dispute")?;
        // Assignment to a ghost department, and to a department as territorial unit.
        for (responsible, territorial, field) in [
            ("binhai.housing_buerau", TOWN, "responsible_unit"),
            (
                "binhai.housing_bureau",
                "binhai.housing_bureau",
                "territorial_unit",
            ),
        ] {
            let assign = pl::ActOnDisputeRequest {
                request_id: request_id(),
                dispute_id: subject.dispute_id.clone(),
                expected_version: 1,
                step: Some(dispute::Step {
                    action: Some(dispute::step::Action::Assign(dispute::Assignment {
                        responsible_unit_id: responsible.into(),
                        territorial_unit_id: territorial.into(),
                        due_on: (legal_date(Utc::now()) + Days::new(30)).to_string(),
                    })),
                }),
            };
            let status = pl_client
                .act_on_dispute(authorized(assign, &coordinator))
                .await
                .unwrap_err();
            ensure!(bad_field(&status).1 == field, "{field}: {status:?}");
        }
        let subject = ItemRef {
            kind: ItemKind::Dispute as i32,
            id: subject.dispute_id,
        };
        // A joint handling led by a ghost sub-district, or with a ghost station informed.
        let open = |lead: &str, station: &str| pl::OpenJointHandlingRequest {
            request_id: request_id(),
            subject: Some(subject.clone()),
            lead_unit_id: lead.into(),
            co_handlers: vec![pl::CoHandler {
                unit_id: station.into(),
                role: pl::CoHandlerRole::PoliceStation as i32,
            }],
        };
        for (lead, station, field) in [
            ("binhai.xingnag_subdistrict", STATION, "lead_unit"),
            (TOWN, "binhai.police.xingnag", "co_handlers"),
        ] {
            let status = pl_client
                .open_joint_handling(authorized(open(lead, station), &coordinator))
                .await
                .unwrap_err();
            let (code, named, message) = bad_field(&status);
            ensure!(
                code == Code::InvalidArgument && named == field && message.contains("directory"),
                "{lead}/{station}: {status:?}"
            );
        }
        // A supervision order to a ghost department.
        let supervisor = token(Agency::PoliticalLegal, MEETING_OFFICE, &[Role::Supervisor]);
        let status = pl_client
            .issue_supervision_order(authorized(
                pl::IssueSupervisionOrderRequest {
                    request_id: request_id(),
                    subject: Some(subject.clone()),
                    to_unit_id: "binhai.housing_buerau".into(),
                    due_on: (legal_date(Utc::now()) + Days::new(14)).to_string(),
                    reason: "overdue".into(),
                    requirements: "两周内报告化解进展".into(),
                },
                &supervisor,
            ))
            .await
            .unwrap_err();
        ensure!(bad_field(&status).1 == "to_unit", "{status:?}");

        // Only a police station joins as one: a sub-district's officer token is refused.
        let town_officer = token(Agency::PublicSecurity, TOWN, &[Role::PoliceOfficer]);
        let join = ps::ActInJointHandlingRequest {
            request_id: request_id(),
            joint_handling_id: "JH1".into(),
            expected_version: 0,
            action: Some(ps::act_in_joint_handling_request::Action::Join(true)),
        };
        let status = ps_client
            .act_in_joint_handling(authorized(join, &town_officer))
            .await
            .unwrap_err();
        ensure!(status.code() == Code::PermissionDenied, "{status:?}");
        Ok::<_, anyhow::Error>(())
    }
    .await;
    ps_db.drop_db().await?;
    pl_db.drop_db().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_a_command_names_must_exist_where_it_is_kept() -> Result<()> {
    let (ps_db, pl_db) = (TestDatabase::create().await?, TestDatabase::create().await?);
    let outcome = async {
        let ps_store: Arc<dyn EventStore> = Arc::new(PgEventStore::connect(&ps_db.url).await?);
        let pl_store: Arc<dyn EventStore> = Arc::new(PgEventStore::connect(&pl_db.url).await?);
        let peer = |agency: Agency, store: &Arc<dyn EventStore>| {
            [(agency, store.clone() as Arc<dyn oneledger_store::EventLog>)].into()
        };
        let police = start_with(
            Agency::PublicSecurity,
            ps_store.clone(),
            peer(Agency::PoliticalLegal, &pl_store),
        )
        .await?;
        let committee = start_with(
            Agency::PoliticalLegal,
            pl_store.clone(),
            peer(Agency::PublicSecurity, &ps_store),
        )
        .await?;
        let mut ps_client = PublicSecurityServiceClient::new(channel(&police).await?);
        let mut pl_client = PoliticalLegalServiceClient::new(channel(&committee).await?);
        let officer = token(Agency::PublicSecurity, STATION, &[Role::PoliceOfficer]);
        let supervisor = token(Agency::PoliticalLegal, MEETING_OFFICE, &[Role::Supervisor]);
        let coordinator = token(Agency::PoliticalLegal, COMMITTEE, &[Role::Coordinator]);
        let dispute = |id: &str| ItemRef {
            kind: ItemKind::Dispute as i32,
            id: id.into(),
        };
        let order = |subject: ItemRef| pl::IssueSupervisionOrderRequest {
            request_id: request_id(),
            subject: Some(subject),
            to_unit_id: TOWN.into(),
            due_on: (legal_date(Utc::now()) + Days::new(14)).to_string(),
            reason: "overdue".into(),
            requirements: "两周内报告化解进展".into(),
        };
        let not_found = |status: tonic::Status, field: &str| {
            ensure!(
                status.code() == Code::NotFound && status.message().contains(field),
                "{field}: {status:?}"
            );
            Ok(())
        };
        // A supervision order on a dispute nobody reported, a joint handling on a police dispute that
        // is not in the police's store, a link between two items that do not exist.
        for subject in ["DNOSUCHDISPUTE", "PS-NOSUCH", "PL-NOSUCH"] {
            let status = pl_client
                .issue_supervision_order(authorized(order(dispute(subject)), &supervisor))
                .await
                .unwrap_err();
            not_found(status, "subject")?;
        }
        let open = pl::OpenJointHandlingRequest {
            request_id: request_id(),
            subject: Some(dispute("PS-NOSUCH")),
            lead_unit_id: TOWN.into(),
            co_handlers: vec![pl::CoHandler {
                unit_id: STATION.into(),
                role: pl::CoHandlerRole::PoliceStation as i32,
            }],
        };
        not_found(
            pl_client
                .open_joint_handling(authorized(open, &coordinator))
                .await
                .unwrap_err(),
            "subject",
        )?;
        let link = pl::LinkItemsRequest {
            request_id: request_id(),
            anchor: Some(dispute("PL-NOSUCH")),
            other: Some(dispute("PS-NOSUCH")),
            reason: "same site".into(),
        };
        not_found(
            pl_client
                .link_items(authorized(link, &coordinator))
                .await
                .unwrap_err(),
            "anchor",
        )?;
        // A station joining a joint handling the committee never opened.
        let join = ps::ActInJointHandlingRequest {
            request_id: request_id(),
            joint_handling_id: "JHNOSUCHJOINTHANDLING".into(),
            expected_version: 0,
            action: Some(ps::act_in_joint_handling_request::Action::Join(true)),
        };
        not_found(
            ps_client
                .act_in_joint_handling(authorized(join, &officer))
                .await
                .unwrap_err(),
            "joint_handling_id",
        )?;
        // The refusals wrote nothing.
        ensure!(pl_store.head().await? == 0 && ps_store.head().await? == 0);

        // A dispute the police did report is found in their store: the order on it is issued.
        let reported = ps_client
            .report_dispute(authorized(
                ps::ReportDisputeRequest {
                    request_id: request_id(),
                    report: Some(dispute::Report {
                        source: dispute::Source::Policing as i32,
                        title: "工地大门被堵".into(),
                        category: "劳动保障".into(),
                        territory_unit_id: TOWN.into(),
                        collective_size: 12,
                        ..Default::default()
                    }),
                },
                &officer,
            ))
            .await?
            .into_inner()
            .dispute
            .context("the police's dispute")?;
        pl_client
            .issue_supervision_order(authorized(
                order(dispute(&reported.dispute_id)),
                &supervisor,
            ))
            .await?;
        Ok::<_, anyhow::Error>(())
    }
    .await;
    ps_db.drop_db().await?;
    pl_db.drop_db().await?;
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_registration_writes_nothing_not_even_sealed_personal_data() -> Result<()> {
    on_both_backends(async |store| {
        {
            let running = start(Agency::Petition, store.clone()).await?;
            let mut p = Petition::new(&running).await?;
            let clerk = p.clerk.clone();
            let refused = [
                (
                    "title",
                    pb::RegisterPetitionRequest {
                        title: "   ".into(),
                        ..registration(&request_id())
                    },
                ),
                (
                    "title",
                    pb::RegisterPetitionRequest {
                        title: "欠".repeat(500),
                        ..registration(&request_id())
                    },
                ),
                (
                    "collective_size",
                    pb::RegisterPetitionRequest {
                        collective_size: 0,
                        ..registration(&request_id())
                    },
                ),
                (
                    "territory",
                    pb::RegisterPetitionRequest {
                        territory_unit_id: "binhai.xingnag_subdistrict".into(),
                        ..registration(&request_id())
                    },
                ),
                (
                    "accused_unit",
                    pb::RegisterPetitionRequest {
                        accused_unit_id: "binhai.housing_bureau".into(),
                        ..registration(&request_id())
                    },
                ),
            ];
            for (field, request) in refused {
                let status = p
                    .client
                    .register_petition(authorized(request, &clerk))
                    .await
                    .unwrap_err();
                ensure!(
                    status.code() == Code::InvalidArgument && bad_field(&status).1 == field,
                    "{field}: {status:?}"
                );
            }
            let unknown = pb::RegisterPetitionRequest {
                same_matter_as: "PMNOSUCHMATTER".into(),
                ..registration(&request_id())
            };
            let status = p
                .client
                .register_petition(authorized(unknown, &clerk))
                .await
                .unwrap_err();
            ensure!(status.code() == Code::NotFound, "{status:?}");
            ensure!(
                store.head().await? == 0,
                "refused registrations wrote {} events",
                store.head().await?
            );
            // And an accepted one writes the person's sealed data and the matter.
            p.client
                .register_petition(authorized(registration(&request_id()), &clerk))
                .await?;
            ensure!(store.head().await? > 0);
        }
        Ok(())
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_person_on_two_petitions_has_one_pseudonym_and_is_never_named_twice_on_one()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let running = start(Agency::Petition, store.clone()).await?;
    let mut client = PetitionServiceClient::new(channel(&running).await?);
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let person = |name: &str, id_number: &str, phone: &str| pb::Petitioner {
        name: name.into(),
        id_number: id_number.into(),
        phone: phone.into(),
        address: "塘沽街道新港二号路".into(),
    };
    let register = |petitioners: Vec<pb::Petitioner>, title: &str| pb::RegisterPetitionRequest {
        petitioners,
        collective_size: 2,
        title: title.into(),
        ..registration(&request_id())
    };
    let accepted = async |petitioners, title| -> Result<pb::RegisterPetitionResponse> {
        Ok(client
            .clone()
            .register_petition(authorized(register(petitioners, title), &clerk))
            .await?
            .into_inner())
    };
    let first = accepted(
        vec![
            person("赵磊", "12011619850315201X", "13602020202"),
            person("钱芳", "", "022-2532 6688"),
        ],
        "港区工地拖欠工资",
    )
    .await?;
    // The same two people, written as another clerk would, on another petition.
    let second = accepted(
        vec![
            person("赵 磊", "12011619850315201x", ""),
            person("钱芳", "", "+86 02225326688"),
        ],
        "港区工地拖欠工资，包工头失联",
    )
    .await?;
    ensure!(
        first.person_refs == second.person_refs,
        "{:?} vs {:?}",
        first.person_refs,
        second.person_refs
    );
    ensure!(first.matter_id != second.matter_id);
    // One person twice on one petition is refused naming the second, and writes nothing.
    let head = store.head().await?;
    let status = client
        .register_petition(authorized(
            register(
                vec![
                    person("赵磊", "12011619850315201X", ""),
                    person("Zhao Lei", "120116 19850315201X", ""),
                ],
                "重复登记",
            ),
            &clerk,
        ))
        .await
        .unwrap_err();
    ensure!(
        status.code() == Code::InvalidArgument && bad_field(&status).1 == "petitioners[1]",
        "{status:?}"
    );
    ensure!(store.head().await? == head);
    // Nothing of who they are is in any event in clear.
    for event in store.read_all(1, 10_000).await? {
        let text = serde_json::to_string(&event.data)?;
        for clear in [
            "赵磊",
            "12011619850315201",
            "13602020202",
            "25326688",
            "钱芳",
        ] {
            ensure!(!text.contains(clear), "{clear} in {}", event.event_type);
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_matter_answers_whom_the_ledger_would_show_the_entry_and_no_one_else() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let (id, _, _) = p.accepted().await?;
    let get = |unit: &str, roles: &[Role]| {
        let request = authorized(
            pb::GetMatterRequest {
                matter_id: id.clone(),
            },
            &token(Agency::Petition, unit, roles),
        );
        let mut client = p.client.clone();
        async move { client.get_matter(request).await.map(|_| ()) }
    };
    // The bureau handles it; the sub-district is its territory; the district government is above both;
    // the committee reads the whole district.
    for (unit, roles) in [
        (BUREAU, &[Role::Viewer][..]),
        (TOWN, &[Role::Viewer]),
        (DISTRICT_GOV, &[Role::Viewer]),
        (COMMITTEE, &[Role::Coordinator]),
    ] {
        get(unit, roles)
            .await
            .with_context(|| format!("{unit} should see the matter"))?;
    }
    // A peer department's and a police station's viewers see nothing of it.
    for unit in ["binhai.housing_bureau", STATION] {
        let refused = get(unit, &[Role::Viewer]).await.unwrap_err();
        ensure!(
            refused.code() == Code::PermissionDenied,
            "{unit}: {refused:?}"
        );
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accused_unit_learns_nothing_of_its_accusers_named_at_registration_or_at_acceptance()
-> Result<()> {
    use oneledger_proto::events::v1::{
        ReadEventsRequest, event_feed_service_client::EventFeedServiceClient,
    };
    // The district government is above the territory, so it sees the matter in its ledger.
    const ACCUSED: &str = DISTRICT_GOV;
    let dir = tempfile::tempdir()?;
    let running = start(Agency::Petition, sqlite(&dir, "petition.db").await?).await?;
    let mut p = Petition::new(&running).await?;
    let accusation = || pb::RegisterPetitionRequest {
        claim_class: pb::ClaimClass::Accusation as i32,
        title: "举报征地补偿款被截留".into(),
        ..registration(&request_id())
    };
    // Named at registration.
    let at_registration = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                accused_unit_id: ACCUSED.into(),
                ..accusation()
            },
            &p.clerk.clone(),
        ))
        .await?
        .into_inner();
    // Named by the responsible unit at acceptance.
    let later = p
        .client
        .register_petition(authorized(accusation(), &p.clerk.clone()))
        .await?
        .into_inner();
    let (clerk, handler) = (p.clerk.clone(), p.handler.clone());
    let mut v = later.result.as_ref().context("result")?.version;
    let route = act::Route {
        unit_id: BUREAU.into(),
        territorial_unit_id: String::new(),
    };
    v = version(
        p.step(&clerk, &later.matter_id, v, act::Action::Assign(route))
            .await?,
    );
    v = version(
        p.step(
            &handler,
            &later.matter_id,
            v,
            act::Action::Receive(act::Empty {}),
        )
        .await?,
    );
    let accept = act::Accept {
        claim_class: pb::ClaimClass::Accusation as i32,
        accused_unit_id: ACCUSED.into(),
        ..Default::default()
    };
    p.step(&handler, &later.matter_id, v, act::Action::Accept(accept))
        .await?;

    let staff = token(
        Agency::Petition,
        ACCUSED,
        &[Role::Viewer, Role::PiiReader, Role::Handler, Role::Reviewer],
    );
    for registered in [&at_registration, &later] {
        let matter = p
            .client
            .get_matter(authorized(
                pb::GetMatterRequest {
                    matter_id: registered.matter_id.clone(),
                },
                &staff,
            ))
            .await?
            .into_inner()
            .matter
            .context("the matter")?;
        ensure!(matter.person_refs.is_empty(), "{matter:?}");
        for person in &registered.person_refs {
            let read = p
                .client
                .get_personal_data(authorized(
                    pb::GetPersonalDataRequest {
                        person_ref: person.clone(),
                        purpose: pb::Purpose::Review as i32,
                        fields: vec![pb::PersonalField::Name as i32],
                    },
                    &staff,
                ))
                .await
                .unwrap_err();
            ensure!(read.code() == Code::PermissionDenied, "{read:?}");
            let report = p
                .client
                .get_person_access_report(authorized(
                    pb::GetPersonAccessReportRequest {
                        person_ref: person.clone(),
                    },
                    &staff,
                ))
                .await
                .unwrap_err();
            ensure!(report.code() == Code::PermissionDenied, "{report:?}");
        }
    }
    let feed = EventFeedServiceClient::new(channel(&running).await?)
        .read_events(authorized(
            ReadEventsRequest {
                after_position: 0,
                max_batch_size: 100,
                follow: false,
                event_type_prefixes: vec![],
            },
            &staff,
        ))
        .await
        .unwrap_err();
    ensure!(feed.code() == Code::PermissionDenied, "{feed:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_access_report_and_erasure_cover_every_one_of_their_matters() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let running = start(Agency::Petition, store.clone()).await?;
    let mut p = Petition::new(&running).await?;
    // Two matters of the same two people; the second with no narrative.
    let (first, _, _) = p.accepted().await?;
    let second = p
        .client
        .register_petition(authorized(
            pb::RegisterPetitionRequest {
                narrative: String::new(),
                ..registration(&request_id())
            },
            &p.clerk.clone(),
        ))
        .await?
        .into_inner();
    let person = second.person_refs[0].clone();
    let reader = token(Agency::Petition, OFFICE, &[Role::PiiReader]);
    let auditor = token(Agency::Petition, OFFICE, &[Role::Auditor]);
    let read = pb::GetPersonalDataRequest {
        person_ref: person.clone(),
        purpose: pb::Purpose::Handling as i32,
        fields: vec![
            pb::PersonalField::Phone as i32,
            pb::PersonalField::Narrative as i32,
        ],
    };
    let data = p
        .client
        .get_personal_data(authorized(read.clone(), &reader))
        .await?
        .into_inner();
    ensure!(data.narratives.contains_key(&first) && data.narratives.len() == 1);
    let reports = p.client.clone();
    let report = |token: String| {
        let mut client = reports.clone();
        let person = person.clone();
        async move {
            client
                .get_person_access_report(authorized(
                    pb::GetPersonAccessReportRequest { person_ref: person },
                    &token,
                ))
                .await
                .map(|r| r.into_inner())
        }
    };
    let held = report(auditor.clone()).await?;
    let matters: Vec<&str> = held.matters.iter().map(|m| m.matter_id.as_str()).collect();
    ensure!(
        matters == [first.as_str(), second.matter_id.as_str()],
        "{matters:?}"
    );
    let field = |f: pb::PersonalField| f as i32;
    ensure!(
        held.matters[0]
            .fields
            .contains(&field(pb::PersonalField::Narrative))
            && !held.matters[1]
                .fields
                .contains(&field(pb::PersonalField::Narrative))
            && held.matters[1]
                .fields
                .contains(&field(pb::PersonalField::IdNumber)),
        "{held:?}"
    );
    ensure!(
        held.reads.len() == 1 && held.reads[0].fields == "phone,narrative" && !held.erased,
        "{:?}",
        held.reads
    );
    // A clerk is no auditor; a bureau handles none of these matters at the second.
    ensure!(report(p.clerk.clone()).await.unwrap_err().code() == Code::PermissionDenied);

    // Erased once: gone from both matters, which still replay.
    p.client
        .erase_person(authorized(
            pb::ErasePersonRequest {
                request_id: request_id(),
                person_ref: person.clone(),
            },
            &reader,
        ))
        .await?;
    let after = p
        .client
        .get_personal_data(authorized(read, &reader))
        .await?
        .into_inner();
    ensure!(after.erased && after.petitioner.is_none() && after.narratives.is_empty());
    let held = report(auditor).await?;
    ensure!(held.erased && held.matters.len() == 2);
    for matter in [&first, &second.matter_id] {
        ensure!(
            p.client
                .get_matter(authorized(
                    pb::GetMatterRequest {
                        matter_id: matter.clone(),
                    },
                    &p.clerk.clone(),
                ))
                .await?
                .into_inner()
                .matter
                .is_some_and(|m| m.person_refs.contains(&person))
        );
    }
    // An unknown person is NOT_FOUND, naming the field.
    let unknown = p
        .client
        .erase_person(authorized(
            pb::ErasePersonRequest {
                request_id: request_id(),
                person_ref: "p-000000000000000000000000".into(),
            },
            &reader,
        ))
        .await
        .unwrap_err();
    ensure!(unknown.code() == Code::NotFound, "{unknown:?}");
    Ok(())
}

/// Records what a version before stable refs wrote for one petition: the matter's registration naming
/// a ref of that petition alone, and the person's sealed data in the person's own stream.
async fn record_as_before_stable_refs(
    store: &Arc<dyn EventStore>,
    person_ref: &str,
    matter_id: &str,
    who: &pb::Petitioner,
) -> Result<()> {
    use oneledger_domain::petition::{Channel as DChannel, ClaimClass as DClass, MatterEvent};
    use oneledger_domain::{MatterId, PersonRef, UnitId};
    use oneledger_services::pii::{Identity, PersonEvent, Vault};
    use oneledger_store::{AppendRequest, EventMetadata, ExpectedVersion, NewEvent};
    let vault = Vault::new(&MASTER, store.clone()).map_err(anyhow::Error::msg)?;
    let key = vault.key_for_new_data(person_ref).await?.context("a key")?;
    let identity = Identity {
        name: who.name.clone(),
        id_number: who.id_number.clone(),
        phone: who.phone.clone(),
        address: who.address.clone(),
    };
    let at = Utc::now();
    let registered = MatterEvent::Registered {
        at,
        matter_id: MatterId::from(matter_id),
        office: UnitId::from(OFFICE),
        channel: DChannel::Letter,
        claim_class: DClass::Claim,
        title: "拖欠工资（旧台账）".into(),
        petitioners: vec![PersonRef::from(person_ref)],
        collective_size: 1,
        territory: UnitId::from(TOWN),
        receipt_number: matter_id.into(),
        query_code_digest: "0".repeat(64),
        accused_unit: None,
        first_petition: true,
        linked_to: None,
        category: None,
        respondent: None,
    };
    let data = PersonEvent::DataRecorded {
        at,
        person_ref: person_ref.into(),
        matter_id: matter_id.into(),
        accused_unit: None,
        sealed_identity: vault.seal(&key, person_ref, &serde_json::to_vec(&identity)?)?,
        sealed_narrative: Some(vault.seal(&key, person_ref, "旧台账里的陈述".as_bytes())?),
    };
    for (stream, event_type, data) in [
        (
            format!("person-{person_ref}"),
            data.event_type().to_owned(),
            serde_json::to_value(&data)?,
        ),
        (
            format!("petition_matter-{matter_id}"),
            "petition.matter.registered".to_owned(),
            serde_json::to_value(&registered)?,
        ),
    ] {
        let request_id = uuid::Uuid::now_v7();
        store
            .append(AppendRequest {
                stream_id: stream,
                expected_version: ExpectedVersion::Any,
                events: vec![NewEvent {
                    event_id: uuid::Uuid::now_v7(),
                    event_type,
                    schema_version: 1,
                    data,
                    metadata: EventMetadata {
                        occurred_at: at,
                        district: "binhai".into(),
                        agency: Agency::Petition,
                        acting_unit: OFFICE.into(),
                        acting_role: "intake_clerk".into(),
                        correlation_id: request_id,
                        causation_id: None,
                        origin: None,
                    },
                }],
                request_id,
                command: None,
            })
            .await?;
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refs_recorded_before_stable_refs_or_under_a_replaced_key_join_the_persons_current_ref()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    let store = sqlite(&dir, "petition.db").await?;
    let who = petitioner("周强", "13722223333");
    // given a matter recorded before refs were stable
    record_as_before_stable_refs(&store, "p-0123456789abcdef01234567", "PMLEGACY1", &who).await?;
    let reader = token(Agency::Petition, OFFICE, &[Role::PiiReader, Role::Auditor]);
    let clerk = token(Agency::Petition, OFFICE, &[Role::IntakeClerk]);
    let register = |client: &mut PetitionServiceClient<Channel>| {
        let mut client = client.clone();
        let request = pb::RegisterPetitionRequest {
            petitioners: vec![who.clone()],
            collective_size: 1,
            ..registration(&request_id())
        };
        let clerk = clerk.clone();
        async move {
            Ok::<_, anyhow::Error>(
                client
                    .register_petition(authorized(request, &clerk))
                    .await?
                    .into_inner(),
            )
        }
    };
    let matters_of = |client: &mut PetitionServiceClient<Channel>, person: String| {
        let mut client = client.clone();
        let reader = reader.clone();
        async move {
            let report = client
                .get_person_access_report(authorized(
                    pb::GetPersonAccessReportRequest { person_ref: person },
                    &reader,
                ))
                .await?
                .into_inner();
            Ok::<_, anyhow::Error>(
                report
                    .matters
                    .into_iter()
                    .map(|m| m.matter_id)
                    .collect::<Vec<_>>(),
            )
        }
    };
    // when the service starts, and the person petitions again
    let first_key = start(Agency::Petition, store.clone()).await?;
    let mut client = PetitionServiceClient::new(channel(&first_key).await?);
    let again = register(&mut client).await?;
    let current = again.person_refs[0].clone();
    // then the legacy matter is theirs under the ref they have now: its data reads, for both matters
    let mut held = vec![];
    for _ in 0..100 {
        held = matters_of(&mut client, current.clone()).await?;
        if held.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(held.contains(&"PMLEGACY1".to_owned()), "{held:?}");
    let read = |person: String| pb::GetPersonalDataRequest {
        person_ref: person,
        purpose: pb::Purpose::Handling as i32,
        fields: vec![
            pb::PersonalField::Name as i32,
            pb::PersonalField::Narrative as i32,
        ],
    };
    let data = client
        .get_personal_data(authorized(read(current.clone()), &reader))
        .await?
        .into_inner();
    ensure!(
        data.petitioner.as_ref().is_some_and(|p| p.name == "周强")
            && data.narratives.get("PMLEGACY1").map(String::as_str) == Some("旧台账里的陈述"),
        "{data:?}"
    );
    drop(first_key);

    // when the pseudonym key is replaced and the service restarts
    let rekeyed = start_settings(
        Settings {
            pseudonym_key: Some([6; 32].to_vec()),
            ..settings(Agency::Petition, Default::default())
        },
        store.clone(),
    )
    .await?;
    let mut client = PetitionServiceClient::new(channel(&rekeyed).await?);
    let after = register(&mut client).await?;
    let new_ref = after.person_refs[0].clone();
    ensure!(new_ref != current, "a new key derives a new ref");
    // then all three matters are the person's under the new ref
    let mut held = vec![];
    for _ in 0..100 {
        held = matters_of(&mut client, new_ref.clone()).await?;
        if held.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ensure!(held.len() == 3, "{held:?}");
    // and one erasure destroys the data under every ref
    client
        .erase_person(authorized(
            pb::ErasePersonRequest {
                request_id: request_id(),
                person_ref: new_ref.clone(),
            },
            &reader,
        ))
        .await?;
    for person in [new_ref, current] {
        let gone = client
            .get_personal_data(authorized(read(person.clone()), &reader))
            .await?
            .into_inner();
        ensure!(
            gone.erased && gone.petitioner.is_none(),
            "{person}: {gone:?}"
        );
    }
    Ok(())
}

/// Two deadline watchers racing on `store` over one threshold, then a restarted one.
async fn racing_watchers_record_once(store: Arc<dyn EventStore>) -> Result<()> {
    use oneledger_domain::DeadlineKind;
    use oneledger_domain::watch::Threshold;
    use oneledger_services::political_legal::PoliticalLegalService;
    use oneledger_services::proposals::SeenThreshold;
    use oneledger_services::repo::Context;
    let context = || {
        Arc::new(Context {
            store: store.clone(),
            agency: Agency::PoliticalLegal,
            district: "binhai".into(),
            rules: Arc::new(Rules::shipped().unwrap()),
            clock: Clock::system(),
            items: Default::default(),
        })
    };
    let caller = oneledger_services::Caller {
        subject: "deadline-watcher".into(),
        agency: Agency::PoliticalLegal,
        unit: MEETING_OFFICE.into(),
        roles: vec![Role::Supervisor],
    };
    // given a handling deadline of a matter overdue, seen at once by two watchers' services
    let seen = SeenThreshold {
        item: oneledger_domain::ItemRef::PetitionMatter("PM-RACE".into()),
        deadline: DeadlineKind::Handling,
        due_on: chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap(),
        threshold: Threshold::Overdue,
        duty_of: Some(BUREAU.into()),
    };
    let (first, second) = (
        PoliticalLegalService::new(context()),
        PoliticalLegalService::new(context()),
    );
    // when both record it at the same moment
    let (a, b) = tokio::join!(
        first.record_threshold(&caller, &seen),
        second.record_threshold(&caller, &seen)
    );
    // then exactly one recorded it: one threshold event and one proposal on the item's watch
    ensure!(
        a? ^ b?,
        "exactly one of the racing watchers records the threshold"
    );
    let stream = "deadline_watch-petition_matter:PM-RACE";
    let events = store.read_stream(stream, 1, 100).await?;
    let types: Vec<&str> = events.iter().map(|e| e.event_type.as_str()).collect();
    ensure!(
        types
            == [
                "political_legal.deadline_watch.threshold_passed",
                "political_legal.deadline_watch.supervision_proposed"
            ],
        "{types:?}"
    );
    // and a watcher started afresh records nothing more, though it has seen nothing yet
    let restarted = PoliticalLegalService::new(context());
    ensure!(!restarted.record_threshold(&caller, &seen).await?);
    ensure!(store.read_stream(stream, 1, 100).await?.len() == 2);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_and_restarted_deadline_watchers_record_each_threshold_once_on_both_backends()
-> Result<()> {
    let dir = tempfile::tempdir()?;
    racing_watchers_record_once(sqlite(&dir, "political_legal.db").await?).await?;
    let db = TestDatabase::create().await?;
    let store: Arc<dyn EventStore> = Arc::new(PgEventStore::connect(&db.url).await?);
    racing_watchers_record_once(store).await?;
    db.drop_db().await
}
