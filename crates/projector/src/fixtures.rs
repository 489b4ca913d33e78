//! A realistic history of three agencies' stores, for the projector's tests.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use oneledger_domain::dispute::{Dispute, DisputeAction, DisputeSource};
use oneledger_domain::joint::{CoHandlerRole, JointAction, JointHandling};
use oneledger_domain::link::{LinkAction, LinkRegistry};
use oneledger_domain::petition::{
    Channel, ClaimClass, ClaimRoute, IntakeFindings, MatterAction, MatterSummary, PetitionMatter,
    Registration,
};
use oneledger_domain::police::{PoliceAction, PoliceParticipation};
use oneledger_domain::supervision::{
    EscalationLevel, OrderAction, SupervisionOrder, SupervisionReason,
};
use oneledger_domain::{
    Agency, Aggregate, Command, DisputeId, DomainEvent, ItemRef, JointHandlingId, MatterId,
    PersonRef, Rules, SupervisionOrderId, UnitId,
};
use oneledger_store::{EventMetadata, RecordedEvent};
use uuid::Uuid;

pub const OFFICE: &str = "binhai.petition_office";
pub const BUREAU: &str = "binhai.human_resources_bureau";
pub const TOWN: &str = "binhai.xingang_subdistrict";
pub const STATION: &str = "binhai.police.xingang";
pub const COMMITTEE: &str = "binhai.political_legal_committee";
pub const MEETING: &str = "binhai.joint_meeting_office";

/// Records an agency store's events as the store would: positions dense from 1, versions per stream.
pub struct Recorder {
    agency: Agency,
    events: Vec<RecordedEvent>,
    versions: BTreeMap<String, u64>,
    clock: DateTime<Utc>,
}

impl Recorder {
    pub fn new(agency: Agency) -> Self {
        Recorder {
            agency,
            events: vec![],
            versions: BTreeMap::new(),
            clock: Utc.with_ymd_and_hms(2026, 3, 2, 2, 0, 0).unwrap(),
        }
    }

    /// Decides `action` on the aggregate in `stream` (replaying what was recorded) and records the events.
    pub fn act<A: Aggregate>(&mut self, stream: &str, unit: &str, action: A::Action) {
        let history: Vec<A::Event> = self
            .events
            .iter()
            .filter(|e| e.stream_id == stream)
            .map(|e| serde_json::from_value(e.data.clone()).unwrap())
            .collect();
        let state = A::replay(&history);
        self.clock += Duration::hours(7);
        let command = Command {
            at: self.clock,
            unit: UnitId::from(unit),
            action,
        };
        for event in state.decide(&command, &Rules::shipped().unwrap()).unwrap() {
            let version = self.versions.entry(stream.to_owned()).or_default();
            *version += 1;
            self.events.push(RecordedEvent {
                position: self.events.len() as u64 + 1,
                stream_id: stream.to_owned(),
                stream_version: *version,
                event_id: Uuid::now_v7(),
                event_type: event.event_type(self.agency),
                schema_version: 1,
                data: serde_json::to_value(&event).unwrap(),
                metadata: EventMetadata {
                    occurred_at: self.clock,
                    district: "binhai".into(),
                    agency: self.agency,
                    acting_unit: unit.into(),
                    acting_role: "handler".into(),
                    correlation_id: Uuid::now_v7(),
                    causation_id: None,
                    origin: None,
                },
                request_id: Uuid::now_v7(),
                recorded_at: self.clock,
            });
        }
    }
}

impl Recorder {
    /// The legal date the next act happens on.
    pub fn next_date(&self) -> NaiveDate {
        oneledger_domain::clock::legal_date(self.clock + Duration::hours(7))
    }
}

/// A claim taken through review to re-review, where the re-reviewing unit has opened a hearing.
pub fn matter_in_a_hearing() -> Vec<RecordedEvent> {
    hearing().events
}

/// The claim in a hearing, where the re-reviewing unit records a 息诉罢访 agreement: the bureau pays
/// the wages, the petitioner ceases petitioning; the bureau's obligation is breached.
pub fn matter_with_a_breached_agreement() -> Vec<RecordedEvent> {
    use oneledger_domain::petition::{AgreementKind, Obligation, Obligor};
    let mut p = hearing();
    let (m, city) = ("petition_matter-PM2", "tianjin.city_government");
    let due_on = p.next_date() + Duration::days(10);
    let obligation = |id: &str, obligor: Obligor| Obligation {
        obligation_id: id.into(),
        obligor,
        description: "补发拖欠工资".into(),
        due_on,
    };
    p.act::<PetitionMatter>(
        m,
        city,
        MatterAction::RecordAgreement {
            agreement_id: "A1".into(),
            kind: AgreementKind::CeasePetitioning,
            obligations: vec![
                obligation("pay", Obligor::Unit(UnitId::from(BUREAU))),
                obligation("cease", Obligor::Petitioner(PersonRef::from("p-2"))),
            ],
        },
    );
    p.act::<PetitionMatter>(
        m,
        city,
        MatterAction::RecordObligationBreached {
            agreement_id: "A1".into(),
            obligation_id: "pay".into(),
        },
    );
    p.events
}

fn hearing() -> Recorder {
    let (district, city) = ("binhai.district_government", "tianjin.city_government");
    let mut p = Recorder::new(Agency::Petition);
    let m = "petition_matter-PM2";
    p.act::<PetitionMatter>(
        m,
        OFFICE,
        MatterAction::Register(Registration {
            matter_id: MatterId::from("PM2"),
            channel: Channel::Letter,
            claim_class: ClaimClass::Claim,
            title: "征地补偿标准争议".into(),
            petitioners: vec![PersonRef::from("p-2")],
            collective_size: 1,
            territory: UnitId::from(TOWN),
            receipt_number: "PM2".into(),
            query_code_digest: "d".into(),
            accused_unit: None,
            category: None,
            respondent: None,
            personal_data: vec![],
            prior: IntakeFindings::default(),
        }),
    );
    let assign = MatterAction::Assign {
        to: UnitId::from(BUREAU),
        territorial_unit: None,
    };
    p.act::<PetitionMatter>(m, OFFICE, assign);
    p.act::<PetitionMatter>(m, BUREAU, MatterAction::Receive);
    let accept = MatterAction::Accept {
        class: ClaimClass::Claim,
        route: Some(ClaimRoute::PetitionRoute),
        channel: None,
        accused_unit: None,
    };
    p.act::<PetitionMatter>(m, BUREAU, accept);
    let opinion = MatterAction::IssueHandlingOpinion {
        outcome: oneledger_domain::petition::HandlingOutcome::NotSupported,
    };
    p.act::<PetitionMatter>(m, BUREAU, opinion);
    let delivered_on = p.next_date();
    p.act::<PetitionMatter>(m, BUREAU, MatterAction::DeliverReply { delivered_on });
    let review = MatterAction::RequestReview {
        reviewing_unit: UnitId::from(district),
    };
    p.act::<PetitionMatter>(m, OFFICE, review);
    let upheld = oneledger_domain::petition::ReviewOutcome::Upheld;
    p.act::<PetitionMatter>(
        m,
        district,
        MatterAction::IssueReviewOpinion { outcome: upheld },
    );
    let delivered_on = p.next_date();
    p.act::<PetitionMatter>(m, district, MatterAction::DeliverReply { delivered_on });
    let re_review = MatterAction::RequestReReview {
        re_reviewing_unit: UnitId::from(city),
    };
    p.act::<PetitionMatter>(m, OFFICE, re_review);
    p.act::<PetitionMatter>(m, city, MatterAction::OpenHearing);
    p
}

pub fn matter() -> ItemRef {
    ItemRef::PetitionMatter(MatterId::from("PM1"))
}

/// A petition, a police-reported dispute, a joint handling with a station's part, links and an escalated
/// supervision order — the three stores' histories.
pub fn history() -> [Vec<RecordedEvent>; 3] {
    let mut petition = Recorder::new(Agency::Petition);
    let m = "petition_matter-PM1";
    petition.act::<PetitionMatter>(
        m,
        OFFICE,
        MatterAction::Register(Registration {
            matter_id: MatterId::from("PM1"),
            channel: Channel::Visit,
            claim_class: ClaimClass::Claim,
            title: "Unpaid wages at the port site".into(),
            petitioners: vec![PersonRef::from("p-1")],
            collective_size: 23,
            territory: UnitId::from(TOWN),
            receipt_number: "PM1".into(),
            query_code_digest: "d".into(),
            accused_unit: None,
            category: None,
            respondent: None,
            personal_data: vec![],
            prior: IntakeFindings::default(),
        }),
    );
    petition.act::<PetitionMatter>(
        m,
        OFFICE,
        MatterAction::Assign {
            to: UnitId::from(BUREAU),
            territorial_unit: Some(UnitId::from(TOWN)),
        },
    );
    petition.act::<PetitionMatter>(m, BUREAU, MatterAction::Receive);
    petition.act::<PetitionMatter>(
        m,
        BUREAU,
        MatterAction::Accept {
            class: ClaimClass::Claim,
            route: Some(ClaimRoute::PetitionRoute),
            channel: None,
            accused_unit: None,
        },
    );

    let mut police = Recorder::new(Agency::PublicSecurity);
    police.act::<Dispute>(
        "dispute-D1",
        STATION,
        DisputeAction::Report {
            dispute_id: oneledger_domain::DisputeId::from("D1"),
            source: DisputeSource::Policing,
            title: "Workers block the site gate".into(),
            category: "labour".into(),
            territory: UnitId::from(TOWN),
            parties: vec![],
            collective_size: 40,
        },
    );
    police.act::<Dispute>(
        "dispute-D1",
        STATION,
        DisputeAction::RecordMediation { agreed: false },
    );
    let part = format!("joint_participation-JH1.{STATION}");
    police.act::<PoliceParticipation>(
        &part,
        STATION,
        PoliceAction::Join {
            joint_handling_id: JointHandlingId::from("JH1"),
        },
    );
    police.act::<PoliceParticipation>(
        &part,
        STATION,
        PoliceAction::RecordAction {
            note: "patrol at the gate".into(),
        },
    );

    let mut committee = Recorder::new(Agency::PoliticalLegal);
    let link = |other: ItemRef| LinkAction::Link {
        anchor: matter(),
        other,
        reason: "same site".into(),
    };
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::Dispute(DisputeId::from("D1"))),
    );
    committee.act::<JointHandling>(
        "joint_handling-JH1",
        COMMITTEE,
        JointAction::Open {
            joint_handling_id: JointHandlingId::from("JH1"),
            subject: matter(),
            lead_unit: UnitId::from(TOWN),
            co_handlers: vec![(UnitId::from(STATION), CoHandlerRole::PoliceStation)],
            political_legal_committee: UnitId::from(COMMITTEE),
        },
    );
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::JointHandling(JointHandlingId::from("JH1"))),
    );
    let order = "supervision_order-SO1";
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Issue {
            order_id: SupervisionOrderId::from("SO1"),
            subject: matter(),
            to_unit: UnitId::from(TOWN),
            due_on: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap(),
            reason: SupervisionReason::Risk,
            requirements: "pay and report".into(),
        },
    );
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Escalate {
            level: EscalationLevel::Interview,
            note: "silent".into(),
        },
    );
    committee.act::<SupervisionOrder>(
        order,
        MEETING,
        OrderAction::Escalate {
            level: EscalationLevel::ListedSupervision,
            note: "still silent".into(),
        },
    );
    committee.act::<LinkRegistry>(
        "link-binhai",
        COMMITTEE,
        link(ItemRef::SupervisionOrder(SupervisionOrderId::from("SO1"))),
    );
    [petition.events, police.events, committee.events]
}

/// `n` petition matters registered, assigned, received and accepted, interleaved as a busy office records
/// them: one store's history large enough that a projector is stopped in the middle of its batches.
pub fn many_matters(n: usize) -> Vec<RecordedEvent> {
    let mut petition = Recorder::new(Agency::Petition);
    let stream = |i: usize| format!("petition_matter-PM{i}");
    for i in 0..n {
        petition.act::<PetitionMatter>(
            &stream(i),
            OFFICE,
            MatterAction::Register(Registration {
                matter_id: MatterId(format!("PM{i}")),
                channel: Channel::Online,
                claim_class: ClaimClass::Claim,
                title: format!("Matter {i}"),
                petitioners: vec![PersonRef(format!("p-{i}"))],
                collective_size: 1 + (i % 9) as u32,
                territory: UnitId::from(TOWN),
                receipt_number: format!("PM{i}"),
                query_code_digest: "d".into(),
                accused_unit: None,
                category: None,
                respondent: None,
                personal_data: vec![],
                prior: IntakeFindings::default(),
            }),
        );
        // Earlier matters move on while new ones arrive.
        if i >= 2 {
            petition.act::<PetitionMatter>(
                &stream(i - 2),
                OFFICE,
                MatterAction::Assign {
                    to: UnitId::from(BUREAU),
                    territorial_unit: Some(UnitId::from(TOWN)),
                },
            );
            petition.act::<PetitionMatter>(&stream(i - 2), BUREAU, MatterAction::Receive);
        }
    }
    petition.events
}

/// One petitioner (p-7) petitioning four times about the bureau: a first petition on labour, the same
/// claim again (merged), another category (flagged as a possible repeat) and the same claim with new
/// facts (a new matter in the original's entry).
pub fn repeat_petitions() -> Vec<RecordedEvent> {
    let mut p = Recorder::new(Agency::Petition);
    let original = MatterSummary {
        matter_id: MatterId::from("PM71"),
        root: MatterId::from("PM71"),
        stage: oneledger_domain::petition::Stage::Registered,
        receipt_number: "PM71".into(),
        petitioners: vec![PersonRef::from("p-7")],
        category: Some("劳动保障".into()),
        concerns: [UnitId::from(BUREAU)].into(),
        registered_on: p.next_date(),
        closed_on: None,
        agreements: Default::default(),
    };
    for (id, category, new_facts) in [
        ("PM71", "劳动保障", false),
        ("PM72", "劳动保障", false),
        ("PM73", "住房城建", false),
        ("PM74", "劳动保障", true),
    ] {
        let earlier = if id == "PM71" {
            vec![]
        } else {
            vec![original.clone()]
        };
        p.act::<PetitionMatter>(
            &format!("petition_matter-{id}"),
            OFFICE,
            MatterAction::Register(Registration {
                matter_id: MatterId::from(id),
                channel: Channel::Visit,
                claim_class: ClaimClass::Claim,
                title: "工地拖欠工资".into(),
                petitioners: vec![PersonRef::from("p-7")],
                collective_size: 1,
                territory: UnitId::from(TOWN),
                receipt_number: id.into(),
                query_code_digest: "d".into(),
                accused_unit: None,
                category: Some(category.into()),
                respondent: Some(UnitId::from(BUREAU)),
                personal_data: vec![],
                prior: IntakeFindings {
                    earlier,
                    same_matter_as: None,
                    new_facts,
                },
            }),
        );
    }
    p.events
}
