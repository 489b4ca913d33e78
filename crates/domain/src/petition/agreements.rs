//! Mediation and settlement agreements (调解协议 / 和解协议, art. 33) recorded on a matter under handling,
//! review or re-review, and their obligations met or breached; an agency's breach calls for a supervision
//! order.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{Decision, MAX_REASON_CHARS, MatterEvent, PetitionMatter, Stage, Step};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{PersonRef, UnitId, id_field, text};
use crate::rule::Rule;

/// A mediation or settlement agreement (art. 33), or a petitioner's undertaking to cease petitioning
/// on the matter in return for what the agencies undertake (息诉罢访协议).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgreementKind {
    /// 调解协议.
    Mediation,
    /// 和解协议.
    Settlement,
    /// 息诉罢访协议.
    CeasePetitioning,
}

impl AgreementKind {
    /// The kind's stable name: `cease_petitioning`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementKind::Mediation => "mediation",
            AgreementKind::Settlement => "settlement",
            AgreementKind::CeasePetitioning => "cease_petitioning",
        }
    }
}

/// Who owes an obligation of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Obligor {
    /// A unit (an agency): its breach raises a supervision order.
    Unit(UnitId),
    /// A petitioner.
    Petitioner(PersonRef),
}

/// One obligation of an agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    /// Id within the agreement.
    pub obligation_id: String,
    /// Who owes it.
    pub obligor: Obligor,
    /// What is owed, in words (no personal data).
    pub description: String,
    /// By when.
    pub due_on: NaiveDate,
}

/// An agreement as the matter keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agreement {
    /// Kind.
    pub kind: AgreementKind,
    /// Obligations by id, with whether each was met (`Some(true)`), breached (`Some(false)`) or is open.
    pub obligations: BTreeMap<String, (Obligation, Option<bool>)>,
}

impl PetitionMatter {
    /// Records an agreement with at least one obligation, each id once.
    pub(super) fn record_agreement(
        &self,
        step: Step<'_>,
        agreement_id: &str,
        kind: AgreementKind,
        obligations: &[Obligation],
    ) -> Decision {
        self.require_stage(
            &[Stage::Handling, Stage::UnderReview, Stage::UnderReReview],
            "an agreement",
            Rule::Art33,
        )?;
        if !self.parties().contains(step.unit) {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "record an agreement on this matter",
            });
        }
        id_field("agreement_id", agreement_id)?;
        if self.agreements.contains_key(agreement_id) {
            return Err(DomainError::invalid("agreement_id", "already recorded"));
        }
        if obligations.is_empty() {
            return Err(DomainError::invalid(
                "obligations",
                "an agreement records at least one obligation",
            ));
        }
        let mut seen = BTreeSet::new();
        for o in obligations {
            id_field("obligation_id", &o.obligation_id)?;
            text("description", &o.description, MAX_REASON_CHARS)?;
            match &o.obligor {
                Obligor::Unit(unit) => step.unit("obligor", unit, UnitRequirement::Any)?,
                Obligor::Petitioner(person) if !self.petitioners.contains(person) => {
                    return Err(DomainError::invalid(
                        "obligor",
                        format!("{person} is not a petitioner of this matter"),
                    ));
                }
                Obligor::Petitioner(_) => {}
            }
            if !seen.insert(&o.obligation_id) {
                return Err(DomainError::invalid(
                    "obligation_id",
                    format!("{} appears twice", o.obligation_id),
                ));
            }
        }
        Ok(vec![MatterEvent::AgreementRecorded {
            at: step.at,
            agreement_id: agreement_id.to_owned(),
            kind,
            obligations: obligations.to_vec(),
        }])
    }

    /// Records an open obligation as met or breached; a unit's breach names it for a supervision order.
    pub(super) fn settle_obligation(
        &self,
        step: Step<'_>,
        agreement_id: &str,
        obligation_id: &str,
        met: bool,
    ) -> Decision {
        if !self.parties().contains(step.unit) {
            return Err(DomainError::NotAuthorized {
                unit: step.unit.clone(),
                action: "record on this matter's agreements",
            });
        }
        let Some(agreement) = self.agreements.get(agreement_id) else {
            return Err(DomainError::invalid(
                "agreement_id",
                format!("no agreement {agreement_id}"),
            ));
        };
        let Some((obligation, state)) = agreement.obligations.get(obligation_id) else {
            return Err(DomainError::invalid(
                "obligation_id",
                format!("no obligation {obligation_id}"),
            ));
        };
        if state.is_some() {
            return Err(self.refuse(
                Rule::Art33,
                format!("obligation {obligation_id} is already settled"),
            ));
        }
        let (at, agreement_id, obligation_id) =
            (step.at, agreement_id.to_owned(), obligation_id.to_owned());
        Ok(vec![if met {
            MatterEvent::ObligationMet {
                at,
                agreement_id,
                obligation_id,
            }
        } else {
            MatterEvent::ObligationBreached {
                at,
                agreement_id,
                obligation_id,
                supervision_due_for: match &obligation.obligor {
                    Obligor::Unit(u) => Some(u.clone()),
                    Obligor::Petitioner(_) => None,
                },
            }
        }])
    }

    pub(super) fn agreement_recorded(
        &mut self,
        agreement_id: &str,
        kind: AgreementKind,
        obligations: &[Obligation],
    ) {
        let obligations = obligations
            .iter()
            .map(|o| (o.obligation_id.clone(), (o.clone(), None)))
            .collect();
        self.agreements
            .insert(agreement_id.to_owned(), Agreement { kind, obligations });
    }

    pub(super) fn obligation_settled(
        &mut self,
        agreement_id: &str,
        obligation_id: &str,
        met: bool,
    ) {
        if let Some((_, state)) = self
            .agreements
            .get_mut(agreement_id)
            .and_then(|a| a.obligations.get_mut(obligation_id))
        {
            *state = Some(met);
        }
    }
}
