//! Intake (登记): registering a petition, and what intake found about the same petitioner's earlier
//! petitions on the same matter — first petition (初信初访) or repeat (重信重访, art. 36 ¶3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ClaimClass, Decision, MatterEvent, PetitionMatter, Registration, Stage, Step};
use crate::clock::{DeadlineKind, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{MatterId, id_field, text};
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

/// What intake found about earlier petitions of the same petitioner on the same matter; the service looks
/// the earlier matter up and the clerk says whether the facts are new.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PriorPetition {
    /// No earlier petition on this matter: a first petition (初信初访).
    None,
    /// The same petitioner petitioned on the same matter before.
    SameMatter {
        /// The earlier matter as it stands.
        original: MatterSummary,
        /// True when the petitioner brings new facts or reasons.
        new_facts: bool,
    },
}

/// What another matter's intake needs to know of this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatterSummary {
    /// The matter.
    pub matter_id: MatterId,
    /// The root of its links (itself when unlinked): links always point at a root, never form a tree.
    pub root: MatterId,
    /// Its stage.
    pub stage: Stage,
}

/// The notice given to a petitioner whose same facts are not accepted again (不再受理, art. 36 ¶3).
pub fn not_accepted_again_notice(original: &MatterId) -> String {
    format!(
        "Matter {original} was lawfully concluded and the petition raises the same facts and reasons; under \
         article 36 paragraph 3 of the Regulations on Letters and Visits it is not accepted again."
    )
}

impl PetitionMatter {
    /// Registers a petition (登记) with what intake found of earlier petitions on the same matter: an open
    /// original takes the petition in, a concluded or final one refuses the same facts (art. 36 ¶3), new
    /// facts make a new matter linked to the old.
    pub(super) fn register(&self, step: Step<'_>, r: &Registration) -> Decision {
        let (at, office) = (step.at, step.unit);
        if self.stage != Stage::Unregistered {
            return Err(self.refuse(Rule::Art22, "the matter is already registered"));
        }
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

        let registered =
            |first_petition: bool, linked_to: Option<MatterId>| MatterEvent::Registered {
                at,
                matter_id: r.matter_id.clone(),
                office: office.clone(),
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
            };
        Ok(match &r.prior {
            PriorPetition::None => vec![registered(true, None)],
            PriorPetition::SameMatter {
                original,
                new_facts,
            } => {
                if original.matter_id == r.matter_id {
                    return Err(DomainError::invalid(
                        "prior",
                        "a matter cannot be its own original",
                    ));
                }
                let root = original.root.clone();
                if *new_facts {
                    // New facts or reasons: a new matter, linked to the old one's root.
                    vec![registered(false, Some(root))]
                } else if original.stage.bars_same_facts() {
                    vec![
                        registered(false, Some(root.clone())),
                        MatterEvent::NotAcceptedAgain {
                            at,
                            original: root.clone(),
                            notice: not_accepted_again_notice(&root),
                        },
                    ]
                } else if !original.stage.is_closed() {
                    vec![
                        registered(false, Some(root.clone())),
                        MatterEvent::MergedIntoOriginal { at, original: root },
                    ]
                } else {
                    // Closed some other way (channelled, not accepted, …): the petitioner may come back, and
                    // the new matter is linked so the ledger shows the history.
                    vec![registered(false, Some(root))]
                }
            }
        })
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
            ..
        } = event
        else {
            return;
        };
        self.matter_id = Some(matter_id.clone());
        self.stage = Stage::Registered;
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
        self.start_clock(DeadlineKind::ForwardOrAssign, legal_date(*at));
    }

    /// A repeat petition taken into its open original, or refused as the same facts: closed at intake.
    pub(super) fn closed_at_intake(&mut self, stage: Stage, at: DateTime<Utc>) {
        self.stage = stage;
        self.meet_clock(DeadlineKind::ForwardOrAssign, legal_date(at));
    }
}
