//! The demo year as a plan: every story decided up front from the seed, before any call is made, so the
//! same seed always loads the same year and the report's figures can be checked against the plan itself.

use std::collections::BTreeMap;

use anyhow::Context;
use oneledger_proto::directory::v1::{Unit, UnitKind};

/// The annual report's figures the demo reproduces (DESIGN.md §1).
pub mod report {
    /// Risk warnings assessed and handled.
    pub const WARNINGS: u64 = 206;
    /// Supervision orders (督办函) issued to units.
    pub const SUPERVISION_ORDERS: u64 = 186;
    /// Resolution reports (化解报告) submitted by units.
    pub const RESOLUTION_REPORTS: u64 = 269;
    /// Collective matters assigned to named units.
    pub const COLLECTIVE: u64 = 111;
    /// Priority matters assigned to named units.
    pub const PRIORITY: u64 = 110;
}

/// Priority disputes (重点): risk high or major, warned, assigned, resolved.
const PRIORITY_HIGH: usize = 80;
/// Priority disputes assessed major; each also gets a joint handling with its own resolution report.
const PRIORITY_MAJOR: usize = 30;
/// Disputes assessed medium: warned, assigned, resolved.
const MEDIUM: usize = 96;
/// Disputes assessed low and still assigned for resolution.
const LOW_ASSIGNED: usize = 33;
/// Disputes assessed low and closed on the spot.
const LOW_CLOSED: usize = 40;
/// Collective priority disputes (five or more people).
const COLLECTIVE_DISPUTES: usize = 40;
/// Priority disputes that also came in as a collective petition, linked into one entry.
const PETITION_LINKED: usize = 50;
/// Disputes the police met first; the committee's screened dispute is linked to each.
const POLICE_LINKED: usize = 60;
/// Petition-linked priority disputes the police also met first: entries all three agencies handled.
const THREE_AGENCIES: usize = 10;
/// Disputes the police mediated at the station and closed.
const POLICE_MEDIATED: usize = 90;
/// Supervision orders on priority disputes; the rest go to petition matters.
const ORDERS_ON_DISPUTES: usize = 66;

/// SplitMix64: a small, fast, well-mixed generator, enough for choosing a demo year.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The district's units, by the part they play, read from its directory.
#[derive(Debug, Clone)]
pub struct Units {
    /// The petition office (信访办), which registers and routes.
    pub petition_office: String,
    /// The political-legal committee (政法委), which screens, assesses, assigns and verifies.
    pub committee: String,
    /// The joint meeting office, which issues supervision orders: the department below the committee.
    pub meeting_office: String,
    /// Development zones, sub-districts and towns in being: territories and territorial units (属地).
    pub territories: Vec<String>,
    /// Their Chinese short names (新港街道), same order, for titles a clerk would write.
    pub territory_names: Vec<String>,
    /// Departments: responsible units by subject (属事), in [`SUBJECTS`]' numbering.
    pub departments: Vec<String>,
    /// The police station of each territory, same order.
    pub stations: Vec<String>,
    /// Who reviews each unit's opinions (arts. 35–36), by unit id.
    pub reviewers: BTreeMap<String, String>,
}

/// The departments [`SUBJECTS`] number, by their ids within the district.
const DEPARTMENTS: [&str; 10] = [
    "human_resources_bureau",
    "housing_bureau",
    "planning_bureau",
    "ecology_bureau",
    "market_regulation_bureau",
    "education_bureau",
    "health_commission",
    "civil_affairs_bureau",
    "transport_bureau",
    "agriculture_bureau",
];

impl Units {
    /// The units of `district` from its directory as the directory API lists them (units in being).
    pub fn from_directory(district: &str, listed: &[Unit]) -> anyhow::Result<Self> {
        let of_kind =
            |kind: UnitKind| -> Vec<&Unit> { listed.iter().filter(|u| u.kind() == kind).collect() };
        let one = |kind: UnitKind| -> anyhow::Result<String> {
            of_kind(kind)
                .first()
                .map(|u| u.unit_id.clone())
                .with_context(|| format!("the directory lists no {kind:?}"))
        };
        let committee = one(UnitKind::PoliticalLegalCommittee)?;
        let meeting_office = of_kind(UnitKind::Department)
            .into_iter()
            .find(|u| u.parent_unit_id == committee)
            .map(|u| u.unit_id.clone())
            .context("the directory lists no joint meeting office below the committee")?;
        let territorial: Vec<&Unit> = listed
            .iter()
            .filter(|u| {
                matches!(
                    u.kind(),
                    UnitKind::DevelopmentZone | UnitKind::Subdistrict | UnitKind::Town
                )
            })
            .collect();
        let stations = territorial
            .iter()
            .map(|t| {
                of_kind(UnitKind::PoliceStation)
                    .into_iter()
                    .find(|s| s.territory_unit_ids.contains(&t.unit_id))
                    .map(|s| s.unit_id.clone())
                    .with_context(|| format!("no police station covers {}", t.unit_id))
            })
            .collect::<anyhow::Result<_>>()?;
        let departments = DEPARTMENTS
            .iter()
            .map(|d| {
                let id = format!("{district}.{d}");
                listed
                    .iter()
                    .any(|u| u.unit_id == id)
                    .then_some(id)
                    .with_context(|| format!("the directory lists no {district}.{d}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Units {
            petition_office: one(UnitKind::PetitionOffice)?,
            committee,
            meeting_office,
            territories: territorial.iter().map(|t| t.unit_id.clone()).collect(),
            territory_names: territorial.iter().map(|t| short_name(&t.name)).collect(),
            departments,
            stations,
            reviewers: listed
                .iter()
                .map(|u| (u.unit_id.clone(), u.reviewer_unit_id.clone()))
                .collect(),
        })
    }

    /// The unit that reviews `unit`'s opinions.
    pub fn reviewer_of(&self, unit: &str) -> anyhow::Result<&str> {
        self.reviewers
            .get(unit)
            .map(String::as_str)
            .filter(|r| !r.is_empty())
            .with_context(|| format!("the directory names no reviewer of {unit}"))
    }
}

/// A territory's name as a clerk writes it in a title: `滨海新区新港街道办事处` → `新港街道`.
fn short_name(name: &str) -> String {
    let name = name.strip_prefix("滨海新区").unwrap_or(name);
    let name = name.strip_suffix("办事处").unwrap_or(name);
    let name = name.strip_suffix("管理委员会").unwrap_or(name);
    name.strip_suffix("人民政府").unwrap_or(name).to_owned()
}

/// What a matter is about: a title and the department responsible for it, by [`DEPARTMENTS`]' index.
const SUBJECTS: &[(&str, usize)] = &[
    ("建筑工地拖欠农民工工资", 0),
    ("用人单位未缴纳社会保险", 0),
    ("所购商品房逾期交付", 1),
    ("物业服务费收取纠纷", 1),
    ("征地补偿标准争议", 2),
    ("房屋征收安置条件争议", 2),
    ("工厂噪声扬尘扰民", 3),
    ("企业向河道排放污水", 3),
    ("健身房闭店预付卡无法退费", 4),
    ("农贸市场摊位食品安全", 4),
    ("随迁子女入学学位", 5),
    ("术后医疗纠纷", 6),
    ("最低生活保障申请被拒", 7),
    ("新建小区公交线路停运", 8),
    ("土地承包经营权边界争议", 9),
];

/// The category of each department's matters, as the committee's ledger files them.
const CATEGORIES: [&str; 5] = ["劳动保障", "住房城建", "土地征收", "生态环境", "消费维权"];

/// Where a petition's story stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PetitionPath {
    /// Registered, not yet routed.
    Registered,
    /// Assigned, not yet received.
    Assigned,
    /// Received, not yet accepted.
    Received,
    /// Not accepted (art. 28), with the competent channel named.
    NotAccepted,
    /// Accepted on a route other than the petition route (art. 31) and channelled.
    Channelled,
    /// Accepted on the petition route and being handled.
    Handling,
    /// Handling opinion delivered.
    Replied,
    /// Review (复查) opinion delivered.
    Reviewed,
    /// Re-review (复核) opinion delivered: concluded (终结).
    ReReviewed,
}

impl PetitionPath {
    /// Whether the matter gets assigned to a named unit on this path.
    pub fn assigned(self) -> bool {
        self != PetitionPath::Registered
    }
}

/// An opinion's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Supported (handling).
    Supported,
    /// Explained (handling).
    Explained,
    /// Not supported (handling).
    NotSupported,
    /// Upheld (review, re-review).
    Upheld,
    /// Changed (review, re-review).
    Changed,
    /// Revoked (review, re-review).
    Revoked,
}

/// A supervision order and how its story goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlan {
    /// Escalation steps taken (0: answered and accepted instead).
    pub escalations: usize,
}

/// One petition's story.
#[derive(Debug, Clone)]
pub struct PetitionPlan {
    /// Title.
    pub title: String,
    /// Collective size.
    pub collective_size: u32,
    /// Territory.
    pub territory: String,
    /// Responsible unit.
    pub responsible: String,
    /// Territorial unit.
    pub territorial: String,
    /// Where it stops.
    pub path: PetitionPath,
    /// Whether the notice of receipt is sent.
    pub notice: bool,
    /// Whether handling is extended (art. 34).
    pub extend: bool,
    /// The handling opinion.
    pub handling: Outcome,
    /// The review opinion.
    pub review: Outcome,
    /// The re-review opinion.
    pub re_review: Outcome,
    /// Whether the re-review holds a hearing.
    pub hearing: bool,
    /// Whether the petitioner comes back with the same facts after conclusion (refused, art. 36 ¶3).
    pub repeat: bool,
    /// A supervision order on the matter.
    pub order: Option<OrderPlan>,
    /// Who petitions (the first of the petitioners, the one intake records).
    pub petitioner: PetitionerPlan,
    /// The category intake files the matter under.
    pub category: String,
    /// Whether the petitioner comes back before the story ends, nobody naming the earlier matter.
    pub comes_back: Option<ComeBack>,
}

/// A petitioner as intake records them: made up, a common surname and given name, a resident ID
/// number of the district with a valid check digit, a mobile number.
#[derive(Debug, Clone)]
pub struct PetitionerPlan {
    /// Full name.
    pub name: String,
    /// Resident ID number.
    pub id_number: String,
    /// Mobile number.
    pub phone: String,
}

/// How a petitioner comes back on the matter (重信重访), intake finding the earlier matter itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComeBack {
    /// The same claim (unit and category): merged into the open matter, or a new matter in its entry
    /// when it was closed another way.
    SameClaim,
    /// The same unit under another category: flagged as a possible repeat, which the clerk confirms
    /// or dismisses.
    OtherCategory {
        /// True when the clerk confirms it.
        confirmed: bool,
    },
}

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
];
const GIVEN_NAMES: [&str; 12] = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇",
];

/// A made-up petitioner from `people`.
fn petitioner(people: &mut Rng) -> PetitionerPlan {
    let name = format!("{}{}", people.pick(&SURNAMES), people.pick(&GIVEN_NAMES));
    // 120116: Binhai New Area; born 1950–1999; a sequence number; the GB 11643 check digit.
    let body = format!(
        "120116{}{:02}{:02}{:03}",
        1950 + people.below(50),
        1 + people.below(12),
        1 + people.below(28),
        people.below(1000)
    );
    PetitionerPlan {
        name,
        id_number: format!("{body}{}", check_digit(&body)),
        phone: format!("13{:09}", people.below(1_000_000_000)),
    }
}

/// The check digit of a resident ID number's first 17 digits (GB 11643-1999, ISO 7064 MOD 11-2).
fn check_digit(body: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = body
        .chars()
        .filter_map(|c| c.to_digit(10))
        .zip(WEIGHTS)
        .map(|(d, w)| d * w)
        .sum();
    ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'][(sum % 11) as usize]
}

/// One dispute's story in the committee's service.
#[derive(Debug, Clone)]
pub struct DisputePlan {
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Territory (and territorial unit).
    pub territory: String,
    /// The territory's police station.
    pub station: String,
    /// Responsible department.
    pub responsible: String,
    /// Collective size.
    pub collective_size: u32,
    /// Assessed risk: 1 low … 4 major.
    pub risk: u8,
    /// Warned.
    pub warn: bool,
    /// Assigned, resolution reported and verified; otherwise closed on the spot.
    pub assign: bool,
    /// A joint handling with the station, whose lead reports and closes it.
    pub joint: bool,
    /// The police met it first: their dispute is linked.
    pub police_first: bool,
    /// It also came in as a collective petition, linked.
    pub petition: Option<PetitionPlan>,
    /// A supervision order on the dispute.
    pub order: Option<OrderPlan>,
}

/// A dispute the police mediated at the station.
#[derive(Debug, Clone)]
pub struct MediationPlan {
    /// Title.
    pub title: String,
    /// The station.
    pub station: String,
    /// Territory.
    pub territory: String,
}

/// One story: the calls about one matter, made in order.
#[derive(Debug, Clone)]
pub enum Story {
    /// A petition.
    Petition(PetitionPlan),
    /// A dispute screened by the committee.
    Dispute(DisputePlan),
    /// A dispute mediated by the police.
    Mediation(MediationPlan),
}

fn order_plan(rng: &mut Rng) -> OrderPlan {
    let escalations = match rng.below(100) {
        0..60 => 0,
        60..85 => 1,
        85..95 => 2,
        _ => 3,
    };
    OrderPlan { escalations }
}

fn petition(rng: &mut Rng, people: &mut Rng, units: &Units, collective: bool) -> PetitionPlan {
    let (subject, department) = *rng.pick(SUBJECTS);
    let t = rng.below(units.territories.len());
    let path = match rng.below(100) {
        0..2 if !collective => PetitionPath::Registered,
        0..5 => PetitionPath::Assigned,
        5..8 => PetitionPath::Received,
        8..14 => PetitionPath::NotAccepted,
        14..24 => PetitionPath::Channelled,
        24..44 => PetitionPath::Handling,
        44..84 => PetitionPath::Replied,
        84..94 => PetitionPath::Reviewed,
        _ => PetitionPath::ReReviewed,
    };
    let outcome = |rng: &mut Rng, first: bool| match (first, rng.below(10)) {
        (true, 0..3) => Outcome::Supported,
        (true, 3..7) => Outcome::Explained,
        (true, _) => Outcome::NotSupported,
        (false, 0..7) => Outcome::Upheld,
        (false, 7..9) => Outcome::Changed,
        (false, _) => Outcome::Revoked,
    };
    // Town matters go to the town, the rest to the department the subject belongs to.
    let responsible = if rng.chance(25) {
        units.territories[t].clone()
    } else {
        units.departments[department].clone()
    };
    PetitionPlan {
        title: format!("{}{subject}", units.territory_names[t]),
        collective_size: if collective {
            5 + rng.below(60) as u32
        } else {
            1 + rng.below(4) as u32
        },
        territory: units.territories[t].clone(),
        territorial: units.territories[t].clone(),
        responsible,
        path,
        notice: rng.chance(95),
        extend: rng.chance(12),
        handling: outcome(rng, true),
        review: outcome(rng, false),
        re_review: outcome(rng, false),
        hearing: rng.chance(50),
        repeat: rng.chance(50),
        order: None,
        petitioner: petitioner(people),
        category: CATEGORIES[department.min(9) / 2].to_owned(),
        // Drawn from `people`, so the year's figures stay what the plan says.
        comes_back: match people.below(100) {
            0..12 => Some(ComeBack::SameClaim),
            12..16 => Some(ComeBack::OtherCategory { confirmed: true }),
            16..20 => Some(ComeBack::OtherCategory { confirmed: false }),
            _ => None,
        },
    }
}

/// Another category than `category`, for a petitioner coming back about the same unit.
pub fn other_category(category: &str) -> &'static str {
    let at = CATEGORIES.iter().position(|c| *c == category).unwrap_or(0);
    CATEGORIES[(at + 1) % CATEGORIES.len()]
}

/// The whole year for `petitions` petitions, decided by `seed`.
///
/// Who petitions is drawn from `people_seed` apart from the rest, so that two loads of one seed into one
/// system are two years of different people (the same people would come back as repeats) with the same
/// figures.
pub fn year(seed: u64, people_seed: u64, petitions: usize, units: &Units) -> Vec<Story> {
    let mut rng = Rng::new(seed);
    let mut people = Rng::new(people_seed);
    let mut stories = Vec::new();

    // The committee's disputes, riskiest first.
    let kinds = [
        (PRIORITY_MAJOR, 4u8),
        (PRIORITY_HIGH, 3),
        (MEDIUM, 2),
        (LOW_ASSIGNED, 1),
        (LOW_CLOSED, 1),
    ];
    let mut index = 0;
    for (n, (count, risk)) in kinds.into_iter().enumerate() {
        for _ in 0..count {
            let (subject, department) = *rng.pick(SUBJECTS);
            let t = rng.below(units.territories.len());
            let priority = risk >= 3;
            let collective = priority && index < COLLECTIVE_DISPUTES;
            let mut linked_petition = None;
            if priority && index < PETITION_LINKED {
                let mut p = petition(&mut rng, &mut people, units, collective);
                p.path = PetitionPath::Handling;
                p.title = subject.to_owned();
                p.territory = units.territories[t].clone();
                p.territorial = units.territories[t].clone();
                p.responsible = units.departments[department].clone();
                p.collective_size = if collective {
                    5 + rng.below(60) as u32
                } else {
                    1 + rng.below(4) as u32
                };
                linked_petition = Some(p);
            }
            stories.push(Story::Dispute(DisputePlan {
                title: subject.to_owned(),
                category: CATEGORIES[department.min(9) / 2].to_owned(),
                territory: units.territories[t].clone(),
                station: units.stations[t].clone(),
                responsible: units.departments[department].clone(),
                collective_size: if collective {
                    5 + rng.below(80) as u32
                } else {
                    1 + rng.below(4) as u32
                },
                risk,
                warn: risk >= 2,
                assign: n < 4,
                joint: risk == 4,
                police_first: (risk == 2 && index - PRIORITY_HIGH - PRIORITY_MAJOR < POLICE_LINKED)
                    || (linked_petition.is_some() && index < THREE_AGENCIES),
                petition: linked_petition,
                order: (priority && index < ORDERS_ON_DISPUTES).then(|| order_plan(&mut rng)),
            }));
            index += 1;
        }
    }
    for _ in 0..POLICE_MEDIATED {
        let (subject, _) = *rng.pick(SUBJECTS);
        let t = rng.below(units.territories.len());
        stories.push(Story::Mediation(MediationPlan {
            title: subject.to_owned(),
            station: units.stations[t].clone(),
            territory: units.territories[t].clone(),
        }));
    }

    // Petitions: the collective ones the linked petitions leave over, then the rest.
    let linked_collective = PETITION_LINKED.min(COLLECTIVE_DISPUTES);
    let collective_petitions =
        report::COLLECTIVE as usize - COLLECTIVE_DISPUTES - linked_collective;
    let mut orders_left = report::SUPERVISION_ORDERS as usize - ORDERS_ON_DISPUTES;
    for i in 0..petitions.max(collective_petitions) {
        let mut p = petition(&mut rng, &mut people, units, i < collective_petitions);
        if orders_left > 0 && p.path.assigned() && p.path != PetitionPath::NotAccepted {
            p.order = Some(order_plan(&mut rng));
            orders_left -= 1;
        }
        stories.push(Story::Petition(p));
    }
    // Too few petitions for the rest of the orders: they go to assigned disputes.
    for story in stories.iter_mut() {
        if orders_left == 0 {
            break;
        }
        if let Story::Dispute(d) = story
            && d.assign
            && d.order.is_none()
        {
            d.order = Some(order_plan(&mut rng));
            orders_left -= 1;
        }
    }

    // Interleave the stories as a year mixes them, deterministically.
    for i in (1..stories.len()).rev() {
        let j = rng.below(i + 1);
        stories.swap(i, j);
    }
    stories
}

/// The report's figures as the plan will produce them: (warnings, orders, resolution reports, collective,
/// priority).
pub fn figures(stories: &[Story]) -> [u64; 5] {
    let mut f = [0u64; 5];
    let petition = |f: &mut [u64; 5], p: &PetitionPlan| {
        f[1] += u64::from(p.order.is_some());
        f[3] += u64::from(p.path.assigned() && p.collective_size >= 5);
    };
    for story in stories {
        match story {
            Story::Petition(p) => petition(&mut f, p),
            Story::Dispute(d) => {
                f[0] += u64::from(d.warn);
                f[1] += u64::from(d.order.is_some());
                f[2] += u64::from(d.assign) + u64::from(d.joint);
                f[3] += u64::from(d.assign && d.collective_size >= 5);
                f[4] += u64::from(d.assign && d.risk >= 3);
                if let Some(p) = &d.petition {
                    petition(&mut f, p);
                }
            }
            Story::Mediation(_) => {}
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped Binhai directory's units in being, as the directory API lists them.
    fn binhai() -> Units {
        let directory = oneledger_domain::UnitDirectory::binhai().unwrap();
        let listed: Vec<Unit> = directory
            .units()
            .filter(|u| u.valid_to.is_none())
            .map(Into::into)
            .collect();
        Units::from_directory("binhai", &listed).unwrap()
    }

    #[test]
    fn given_the_shipped_directory_then_every_territory_has_its_station_and_a_chinese_name() {
        let units = binhai();
        assert_eq!(units.territories.len(), 26);
        assert_eq!(units.stations.len(), 26);
        let xingang = units
            .territories
            .iter()
            .position(|t| t == "binhai.xingang_subdistrict")
            .unwrap();
        assert_eq!(units.territory_names[xingang], "新港街道");
        assert_eq!(units.stations[xingang], "binhai.police.xingang");
        assert_eq!(units.meeting_office, "binhai.joint_meeting_office");
        assert_eq!(
            units.reviewer_of("binhai.housing_bureau").unwrap(),
            "binhai.district_government"
        );
    }

    #[test]
    fn given_any_seed_and_size_then_the_plan_has_the_reports_figures() {
        for (seed, petitions) in [(1, 0), (7, 300), (2024, 2400), (99, 5000)] {
            let plan = year(seed, seed ^ 1, petitions, &binhai());
            assert_eq!(
                figures(&plan),
                [
                    report::WARNINGS,
                    report::SUPERVISION_ORDERS,
                    report::RESOLUTION_REPORTS,
                    report::COLLECTIVE,
                    report::PRIORITY
                ],
                "seed {seed}, {petitions} petitions"
            );
        }
    }

    #[test]
    fn given_any_year_then_some_entries_are_handled_by_all_three_agencies() {
        // Given a year of any size
        for petitions in [0, 120, 2400] {
            // When its disputes are planned
            let plan = year(2024, 1, petitions, &binhai());
            // Then some the police met first also came in as a petition: one entry, three agencies
            let three = plan
                .iter()
                .filter(
                    |s| matches!(s, Story::Dispute(d) if d.police_first && d.petition.is_some()),
                )
                .count();
            assert_eq!(three, THREE_AGENCIES, "{petitions} petitions");
        }
    }

    #[test]
    fn given_one_seed_then_the_same_year() {
        let units = binhai();
        let titles = |seed| -> Vec<String> {
            year(seed, 0, 500, &units)
                .iter()
                .map(|s| match s {
                    Story::Petition(p) => p.title.clone(),
                    Story::Dispute(d) => d.title.clone(),
                    Story::Mediation(m) => m.title.clone(),
                })
                .collect()
        };
        assert_eq!(titles(3), titles(3));
        assert_ne!(titles(3), titles(4));
    }

    #[test]
    fn given_a_resident_id_number_then_its_check_digit_is_the_standards() {
        // the standard's own example, and a number whose check is 0
        assert_eq!(check_digit("11010519491231002"), 'X');
        assert_eq!(check_digit("44052418800101001"), '4');
        let mut people = Rng::new(9);
        let p = petitioner(&mut people);
        assert_eq!(p.id_number.len(), 18);
        assert_eq!(
            p.id_number.chars().last(),
            Some(check_digit(&p.id_number[..17]))
        );
        assert!(p.id_number.starts_with("120116") && p.phone.len() == 11);
    }
}
