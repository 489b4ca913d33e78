//! Intake (登记): registering a petition, and what intake found about the same petitioner's earlier
//! petitions on the same matter — first petition (初信初访) or repeat (重信重访, art. 36 ¶3).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Agreement, ClaimClass, Decision, MatterEvent, PetitionMatter, Registration, Stage, Step,
};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{MatterId, PersonRef, UnitId, id_field, text};
use crate::rule::Rule;

/// Longest title of a matter, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Petitioners from which a visit counts as collective (集体访), as the Regulations' practice sets it.
pub const COLLECTIVE_THRESHOLD: u32 = 5;

/// How the petition came in (信访形式).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// In person (走访).
    Visit,
    /// By letter (来信).
    Letter,
    /// Online (网上信访).
    Online,
    /// By telephone.
    Phone,
}

/// A field of a petitioner's personal data, as a read names it (PIPL art. 6: only what the purpose needs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalField {
    /// Full name.
    Name,
    /// Resident ID number.
    IdNumber,
    /// Telephone.
    Phone,
    /// Address.
    Address,
    /// What the petitioner wrote or said (信访内容).
    Narrative,
}

impl PersonalField {
    /// Every field, in the order reports list them.
    pub const ALL: [PersonalField; 5] = [
        PersonalField::Name,
        PersonalField::IdNumber,
        PersonalField::Phone,
        PersonalField::Address,
        PersonalField::Narrative,
    ];

    /// The field's stable name: `id_number`.
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalField::Name => "name",
            PersonalField::IdNumber => "id_number",
            PersonalField::Phone => "phone",
            PersonalField::Address => "address",
            PersonalField::Narrative => "narrative",
        }
    }
}

/// One petitioner's personal data as the service sealed it: opaque to the domain, which only checks
/// that it belongs to a petitioner of the registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedPersonalData {
    /// The person.
    pub person_ref: PersonRef,
    /// Which fields were given.
    pub fields: Vec<PersonalField>,
    /// The sealed identity.
    pub sealed_identity: String,
    /// The sealed narrative, when this person gave one.
    pub sealed_narrative: Option<String>,
    /// How the ref was derived, as the service names it.
    pub derived_under: String,
}

/// What the service found at intake, for the domain to judge (art. 36 ¶3): the petitioners' earlier
/// matters as they stand, the original the clerk named if any, and whether the clerk finds new facts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeFindings {
    /// Every earlier matter of any of the petitioners, as it stands today.
    pub earlier: Vec<MatterSummary>,
    /// The original the clerk named (`same_matter_as`): decides over what the search found.
    pub same_matter_as: Option<MatterSummary>,
    /// True when the petitioner brings new facts or reasons (the clerk's finding).
    pub new_facts: bool,
}

/// What intake's findings mean for a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PriorPetition {
    /// No earlier matter on this claim: a first petition (初信初访).
    None,
    /// The same claim as an earlier matter (重信重访): the same petitioner, the same unit and category, or
    /// the original the clerk named.
    SameClaim {
        /// The earlier matter.
        original: MatterSummary,
        /// True when the petitioner brings new facts or reasons.
        new_facts: bool,
    },
    /// The same petitioner and unit but another category (or none filed), or the same category with no
    /// unit named: registered as a first petition and flagged for a clerk to confirm or dismiss.
    PossibleRepeat {
        /// The earlier matter it may repeat.
        of: MatterSummary,
    },
}

/// What another matter's intake needs to know of this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatterSummary {
    /// The matter.
    pub matter_id: MatterId,
    /// The root of its links (itself when unlinked): links always point at a root, never form a tree.
    pub root: MatterId,
    /// Its stage today (a lapsed window read as final).
    pub stage: Stage,
    /// Its receipt number, for the notice.
    pub receipt_number: String,
    /// Its petitioners.
    pub petitioners: Vec<PersonRef>,
    /// The category filed at intake.
    pub category: Option<String>,
    /// The units it is about: the unit named at intake, the accused unit, the responsible unit.
    pub concerns: BTreeSet<UnitId>,
    /// The day it was registered.
    pub registered_on: NaiveDate,
    /// The day it became final or was concluded, when it did.
    pub closed_on: Option<NaiveDate>,
    /// Its agreements by id (art. 33), for intake to show a petitioner who comes back.
    pub agreements: BTreeMap<String, Agreement>,
}

impl IntakeFindings {
    /// Judges the findings for registration `r` (art. 36 ¶3). The clerk's named original decides.
    /// Otherwise an earlier matter of a shared petitioner is the same claim when it is about the same
    /// unit and filed under the same category; a possible repeat when the unit matches and the category
    /// does not (or is missing on either side), or the category matches and the new petition names no
    /// unit. Of several, an open one wins (the petition joins it), then the newest. Matters closed at
    /// intake (merged, not accepted again) never count: their originals carry the story.
    pub fn judge(&self, r: &Registration) -> PriorPetition {
        if let Some(original) = &self.same_matter_as {
            return PriorPetition::SameClaim {
                original: original.clone(),
                new_facts: self.new_facts,
            };
        }
        let about = r.respondent.as_ref().or(r.accused_unit.as_ref());
        let category = r.category.as_deref().map(str::trim);
        let mut candidates: Vec<&MatterSummary> = self
            .earlier
            .iter()
            .filter(|m| m.matter_id != r.matter_id)
            .filter(|m| !matches!(m.stage, Stage::Merged | Stage::NotAcceptedAgain))
            .filter(|m| m.petitioners.iter().any(|p| r.petitioners.contains(p)))
            .collect();
        // Open first, then newest.
        candidates.sort_by_key(|m| (m.stage.is_closed(), std::cmp::Reverse(m.registered_on)));
        let same_unit = |m: &MatterSummary| about.map(|u| m.concerns.contains(u));
        let same_category = |m: &MatterSummary| {
            category
                .zip(m.category.as_deref())
                .map(|(a, b)| a == b.trim())
        };
        if let Some(original) = candidates
            .iter()
            .find(|m| same_unit(m) == Some(true) && same_category(m) == Some(true))
        {
            return PriorPetition::SameClaim {
                original: (*original).clone(),
                new_facts: self.new_facts,
            };
        }
        match candidates.iter().find(|m| {
            same_unit(m) == Some(true) || (about.is_none() && same_category(m) == Some(true))
        }) {
            Some(of) => PriorPetition::PossibleRepeat { of: (*of).clone() },
            None => PriorPetition::None,
        }
    }
}

/// The notice given to a petitioner whose same facts and reasons are not accepted again (不再受理, art. 36
/// ¶3): the original's receipt number and the day it became final or was concluded, in Chinese and English.
pub fn not_accepted_again_notice(
    original_receipt: &str,
    closed_on: Option<NaiveDate>,
    stage: Stage,
) -> String {
    let (on_zh, on_en) = match closed_on {
        Some(day) => (day.format("%Y年%m月%d日").to_string(), day.to_string()),
        None => ("此前".to_owned(), "earlier".to_owned()),
    };
    let (how_zh, how_en) = if stage == Stage::Concluded {
        ("经复核依法终结", "was concluded after re-review")
    } else {
        (
            "处理意见已发生效力（期限内未请求复查或复核）",
            "became final (no review was requested in time)",
        )
    };
    format!(
        "您反映的问题（原受理编号 {original_receipt}）已于{on_zh}{how_zh}。根据《信访工作条例》第三十六条第三款，\
         信访人以同一事实和理由再次提出的信访事项，不再受理。 Matter {original_receipt} {how_en} on {on_en}; \
         under article 36 paragraph 3 of the Regulations on Letters and Visits the same facts and reasons \
         are not accepted again."
    )
}

/// What intake found a registration to be, as it stands after any clerk's decision on a flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IntakeOutcome {
    /// A first petition (初信初访).
    FirstPetition,
    /// A repeat merged into its open original.
    Merged,
    /// A repeat of a final or concluded matter on the same facts (art. 36 ¶3).
    NotAcceptedAgain,
    /// A repeat that is a new matter in the original's entry (new facts, or an original closed otherwise).
    RepeatNewMatter,
    /// Registered as a first petition and flagged for a clerk.
    PossibleRepeat,
}

impl PetitionMatter {
    /// What intake found, with the original concerned (the one it may repeat, for a flagged one).
    pub fn intake(&self) -> (IntakeOutcome, Option<&MatterId>) {
        if let Some(of) = &self.possible_repeat_of {
            return (IntakeOutcome::PossibleRepeat, Some(of));
        }
        let outcome = match self.stage {
            _ if self.first_petition => IntakeOutcome::FirstPetition,
            Stage::Merged => IntakeOutcome::Merged,
            Stage::NotAcceptedAgain => IntakeOutcome::NotAcceptedAgain,
            _ => IntakeOutcome::RepeatNewMatter,
        };
        (outcome, self.linked_to.as_ref())
    }
}

/// Longest category name, in characters.
pub const MAX_CATEGORY_CHARS: usize = 64;
/// Longest sealed field, in characters of base64 (a sealed narrative of 20,000 characters fits).
const MAX_SEALED_CHARS: usize = 128 * 1024;

impl PetitionMatter {
    /// Registers a petition (登记) with what intake found of the petitioners' earlier matters, judged
    /// by [`IntakeFindings::judge`]: an open original takes the petition in, a concluded or final one
    /// refuses the same facts (art. 36 ¶3), new facts make a new matter linked to the old, and a case
    /// intake cannot tell is flagged for the clerk.
    pub(super) fn register(&self, step: Step<'_>, r: &Registration) -> Decision {
        if self.stage != Stage::Unregistered {
            return Err(self.refuse(Rule::Art22, "the matter is already registered"));
        }
        check_registration(step, r)?;
        let registered =
            |first_petition: bool, linked_to: Option<MatterId>| MatterEvent::Registered {
                at: step.at,
                matter_id: r.matter_id.clone(),
                office: step.unit.clone(),
                channel: r.channel,
                claim_class: r.claim_class,
                title: r.title.trim().to_owned(),
                petitioners: r.petitioners.clone(),
                collective_size: r.collective_size,
                territory: r.territory.clone(),
                receipt_number: r.receipt_number.clone(),
                query_code_digest: r.query_code_digest.clone(),
                accused_unit: r.accused_unit.clone(),
                first_petition,
                linked_to,
                category: r.category.as_deref().map(|c| c.trim().to_owned()),
                respondent: r.respondent.clone(),
            };
        let personal_data = r
            .personal_data
            .iter()
            .map(|p| MatterEvent::PersonalDataRecorded {
                at: step.at,
                person_ref: p.person_ref.clone(),
                fields: p.fields.clone(),
                sealed_identity: p.sealed_identity.clone(),
                sealed_narrative: p.sealed_narrative.clone(),
                derived_under: Some(p.derived_under.clone()),
            });
        let mut events = match r.prior.judge(r) {
            PriorPetition::None => vec![registered(true, None)],
            PriorPetition::PossibleRepeat { of } => vec![
                registered(true, None),
                MatterEvent::PossibleRepeatFlagged {
                    at: step.at,
                    of: of.matter_id,
                    receipt_number: of.receipt_number,
                },
            ],
            PriorPetition::SameClaim {
                original,
                new_facts,
            } => {
                if original.matter_id == r.matter_id {
                    return Err(DomainError::invalid(
                        "same_matter_as",
                        "a matter cannot be its own original",
                    ));
                }
                let mut events = vec![registered(false, Some(original.root.clone()))];
                events.extend(repeat_outcome(step.at, &original, new_facts));
                events
            }
        };
        // Personal data right after the registration, so every later event finds its people recorded.
        events.splice(1..1, personal_data);
        Ok(events)
    }

    /// The clerk confirms the flagged repeat: the matter joins the original's root, and is merged or not
    /// accepted again as it would have been at intake. Only before routing: once forwarded or assigned,
    /// the responsible unit has the matter and the flag can only be dismissed.
    pub(super) fn confirm_repeat(
        &self,
        step: Step<'_>,
        original: &MatterSummary,
        new_facts: bool,
    ) -> Decision {
        self.check_flag_decider(step)?;
        if self.possible_repeat_of.as_ref() != Some(&original.matter_id) {
            return Err(DomainError::invalid(
                "original",
                format!(
                    "the matter is flagged as a possible repeat of {}, not {}",
                    self.possible_repeat_of
                        .as_ref()
                        .map_or("nothing", MatterId::as_str),
                    original.matter_id
                ),
            ));
        }
        if self.stage != Stage::Registered {
            return Err(self.refuse(
                Rule::Art36,
                "a repeat is confirmed at intake, before routing; dismiss the flag instead",
            ));
        }
        let mut events = vec![MatterEvent::RepeatConfirmed {
            at: step.at,
            original: original.root.clone(),
        }];
        events.extend(repeat_outcome(step.at, original, new_facts));
        Ok(events)
    }

    /// The clerk finds the flagged registration a claim of its own: it stays a first petition.
    pub(super) fn dismiss_repeat(&self, step: Step<'_>, reason: &str) -> Decision {
        self.check_flag_decider(step)?;
        if self.possible_repeat_of.is_none() {
            return Err(self.refuse(
                Rule::Art36,
                "the matter is not flagged as a possible repeat",
            ));
        }
        text("reason", reason, super::MAX_REASON_CHARS)?;
        Ok(vec![MatterEvent::RepeatDismissed {
            at: step.at,
            reason: reason.trim().to_owned(),
        }])
    }

    /// Only the registering office decides its intake's flag.
    fn check_flag_decider(&self, step: Step<'_>) -> Result<(), DomainError> {
        if self.office.as_ref() != Some(step.unit) {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "decide a possible repeat registered by another office",
            });
        }
        Ok(())
    }

    pub(super) fn registered(&mut self, event: &MatterEvent) {
        let MatterEvent::Registered {
            at,
            matter_id,
            office,
            claim_class,
            title,
            petitioners,
            collective_size,
            territory,
            receipt_number,
            query_code_digest,
            accused_unit,
            first_petition,
            linked_to,
            category,
            respondent,
            ..
        } = event
        else {
            return;
        };
        self.matter_id = Some(matter_id.clone());
        self.stage = Stage::Registered;
        self.registered_on = Some(legal_date(*at));
        self.office = Some(office.clone());
        self.class = Some(*claim_class);
        self.title = title.clone();
        self.petitioners = petitioners.clone();
        self.collective_size = *collective_size;
        self.territory = Some(territory.clone());
        self.receipt_number = receipt_number.clone();
        self.query_code_digest = query_code_digest.clone();
        self.accused_unit = accused_unit.clone();
        self.first_petition = *first_petition;
        self.linked_to = linked_to.clone();
        self.category = category.clone();
        self.respondent = respondent.clone();
        self.start_clock(DeadlineKind::ForwardOrAssign, legal_date(*at));
    }

    /// A repeat petition taken into its open original, or refused as the same facts: closed at intake.
    pub(super) fn closed_at_intake(&mut self, stage: Stage, at: DateTime<Utc>) {
        self.stage = stage;
        self.meet_clock(DeadlineKind::ForwardOrAssign, legal_date(at));
    }

    /// A confirmed repeat joins its original's root and is no first petition.
    pub(super) fn repeat_confirmed(&mut self, original: &MatterId) {
        self.first_petition = false;
        self.linked_to = Some(original.clone());
        self.possible_repeat_of = None;
    }
}

/// What a repeat of `original` comes to, after its registration: merged into an open original, not
/// accepted again on a final or concluded one without new facts (with the notice), or nothing more (a
/// new matter linked to the old: new facts, or an original closed some other way, as channelled or not
/// accepted, to which the petitioner may come back).
fn repeat_outcome(
    at: DateTime<Utc>,
    original: &MatterSummary,
    new_facts: bool,
) -> Vec<MatterEvent> {
    let root = original.root.clone();
    if new_facts {
        vec![]
    } else if original.stage.bars_same_facts() {
        vec![MatterEvent::NotAcceptedAgain {
            at,
            notice: not_accepted_again_notice(
                &original.receipt_number,
                original.closed_on,
                original.stage,
            ),
            original: root,
            original_receipt: original.receipt_number.clone(),
            closed_on: original.closed_on,
        }]
    } else if !original.stage.is_closed() {
        vec![MatterEvent::MergedIntoOriginal { at, original: root }]
    } else {
        vec![]
    }
}

/// The registration's own fields, each named when wrong.
fn check_registration(step: Step<'_>, r: &Registration) -> Result<(), DomainError> {
    id_field("matter_id", r.matter_id.as_str())?;
    text("title", &r.title, MAX_TITLE_CHARS)?;
    step.unit("territory", &r.territory, UnitRequirement::Territory)?;
    text("receipt_number", &r.receipt_number, 64)?;
    text("query_code_digest", &r.query_code_digest, 128)?;
    if r.petitioners.is_empty() {
        return Err(DomainError::invalid(
            "petitioners",
            "at least one petitioner",
        ));
    }
    for p in &r.petitioners {
        id_field("petitioners", p.as_str())?;
    }
    if (r.collective_size as usize) < r.petitioners.len() {
        return Err(DomainError::invalid(
            "collective_size",
            format!(
                "{} is fewer than the {} petitioners",
                r.collective_size,
                r.petitioners.len()
            ),
        ));
    }
    if let Some(accused) = &r.accused_unit {
        step.unit("accused_unit", accused, UnitRequirement::Any)?;
    }
    if r.accused_unit.is_some() && r.claim_class != ClaimClass::Accusation {
        return Err(DomainError::invalid(
            "accused_unit",
            "only an accusation names an accused unit",
        ));
    }
    if let Some(respondent) = &r.respondent {
        step.unit("respondent", respondent, UnitRequirement::Any)?;
    }
    if let Some(category) = &r.category {
        text("category", category, MAX_CATEGORY_CHARS)?;
    }
    let mut seen = BTreeSet::new();
    for p in &r.personal_data {
        if !r.petitioners.contains(&p.person_ref) || !seen.insert(&p.person_ref) {
            return Err(DomainError::invalid(
                "personal_data",
                format!("{} is not a petitioner, or is given twice", p.person_ref),
            ));
        }
        let sealed = std::iter::once(&p.sealed_identity).chain(&p.sealed_narrative);
        if sealed
            .into_iter()
            .any(|s| s.is_empty() || s.len() > MAX_SEALED_CHARS)
        {
            return Err(DomainError::invalid(
                "personal_data",
                "sealed data must be 1 to 128 KiB",
            ));
        }
    }
    Ok(())
}
