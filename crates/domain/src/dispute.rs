//! Disputes and risk warnings (矛盾纠纷 / 预警): found by screening (排查) or met in policing, assessed for
//! risk, warned of, assigned to a responsible unit (属事) and a territorial unit (属地) with a due date,
//! mediated, resolved with a resolution report (化解报告), verified and closed.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::{Deadline, DeadlineKind, Period, days_between, legal_date};
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{DisputeId, PersonRef, UnitId, id_field, text};
use crate::rule::Rule;

/// How a dispute came to light.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeSource {
    /// Daily screening (日常排查).
    DailyScreening,
    /// Centralised screening (集中排查).
    CentralizedScreening,
    /// Special screening (专项排查).
    SpecialScreening,
    /// Met by the police in the course of policing.
    Policing,
    /// Reported by any other unit.
    UnitReport,
}

/// Assessed risk, lowest to highest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    /// Low: handled in the ordinary course.
    Low,
    /// Medium: warned of.
    Medium,
    /// High.
    High,
    /// Major: district-level attention.
    Major,
}

impl RiskLevel {
    /// Every level, lowest first.
    pub const ALL: [RiskLevel; 4] = [
        RiskLevel::Low,
        RiskLevel::Medium,
        RiskLevel::High,
        RiskLevel::Major,
    ];

    /// The level a name names.
    pub fn parse(name: &str) -> Option<RiskLevel> {
        RiskLevel::ALL.into_iter().find(|l| l.as_str() == name)
    }

    /// The stable name, as events and the APIs spell it: `high`.
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
            RiskLevel::Major => "major",
        }
    }
}

/// Stages of a dispute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisputeStage {
    /// Nothing recorded yet.
    #[default]
    Unreported,
    /// Reported.
    Reported,
    /// Risk assessed.
    Assessed,
    /// Assigned to units for resolution.
    Assigned,
    /// A resolution report awaits verification.
    ResolutionReported,
    /// Resolution verified: closed.
    Verified,
    /// Closed without assignment (resolved on the spot, or no dispute after all).
    Closed,
}

impl DisputeStage {
    /// The stage's stable name, as events and the APIs spell it: `resolution_reported`.
    pub fn as_str(self) -> &'static str {
        match self {
            DisputeStage::Unreported => "unreported",
            DisputeStage::Reported => "reported",
            DisputeStage::Assessed => "assessed",
            DisputeStage::Assigned => "assigned",
            DisputeStage::ResolutionReported => "resolution_reported",
            DisputeStage::Verified => "verified",
            DisputeStage::Closed => "closed",
        }
    }

    /// True when closed.
    pub fn is_closed(self) -> bool {
        matches!(self, DisputeStage::Verified | DisputeStage::Closed)
    }
}

/// A command to a dispute.
pub type DisputeCommand = Command<DisputeAction>;

/// The acts on a dispute.
#[derive(Debug, Clone, PartialEq)]
pub enum DisputeAction {
    /// Report a dispute.
    Report {
        /// Its id.
        dispute_id: DisputeId,
        /// How it came to light.
        source: DisputeSource,
        /// Title, no personal data.
        title: String,
        /// Category (labour, land, family, neighbourhood, …).
        category: String,
        /// Territory where it arose.
        territory: UnitId,
        /// The parties, pseudonymous.
        parties: Vec<PersonRef>,
        /// People involved.
        collective_size: u32,
    },
    /// Assess the risk (风险评估).
    Assess {
        /// The level.
        level: RiskLevel,
    },
    /// Issue a warning (预警) for an assessed medium or higher risk.
    Warn,
    /// Assign to a responsible and a territorial unit, due by a date.
    Assign {
        /// Responsible unit (属事).
        responsible_unit: UnitId,
        /// Territorial unit (属地).
        territorial_unit: UnitId,
        /// Resolution due by.
        due_on: NaiveDate,
    },
    /// Record a mediation attempt (e.g. by a police station).
    RecordMediation {
        /// True when the parties reached agreement.
        agreed: bool,
    },
    /// Submit the resolution report (化解报告).
    ReportResolution {
        /// What was done, no personal data.
        summary: String,
    },
    /// Verify the reported resolution.
    VerifyResolution {
        /// True when the resolution holds; false sends it back to the assigned units.
        accepted: bool,
        /// Why.
        note: String,
    },
    /// Close without assignment.
    Close {
        /// Why.
        reason: String,
    },
}

/// Everything that happens to a dispute.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DisputeEvent {
    /// Reported.
    Reported {
        at: DateTime<Utc>,
        /// Id.
        dispute_id: DisputeId,
        /// Reporting unit.
        reporting_unit: UnitId,
        /// Source.
        source: DisputeSource,
        /// Title.
        title: String,
        /// Category.
        category: String,
        /// Territory.
        territory: UnitId,
        /// Parties.
        parties: Vec<PersonRef>,
        /// People involved.
        collective_size: u32,
    },
    /// Risk assessed.
    Assessed {
        at: DateTime<Utc>,
        /// Level.
        level: RiskLevel,
    },
    /// Warning issued.
    Warned {
        at: DateTime<Utc>,
        /// Level warned of.
        level: RiskLevel,
    },
    /// Assigned.
    Assigned {
        at: DateTime<Utc>,
        /// Responsible unit.
        responsible_unit: UnitId,
        /// Territorial unit.
        territorial_unit: UnitId,
        /// Due by.
        due_on: NaiveDate,
    },
    /// Mediation recorded.
    MediationRecorded {
        at: DateTime<Utc>,
        /// Mediating unit.
        mediator: UnitId,
        /// Agreement reached.
        agreed: bool,
    },
    /// Resolution reported.
    ResolutionReported {
        at: DateTime<Utc>,
        /// Reporting unit.
        by: UnitId,
        /// Summary.
        summary: String,
    },
    /// Resolution verified (or sent back).
    ResolutionVerified {
        at: DateTime<Utc>,
        /// Holds.
        accepted: bool,
        /// Note.
        note: String,
    },
    /// Closed without assignment.
    Closed {
        at: DateTime<Utc>,
        /// Why.
        reason: String,
    },
}

impl DomainEvent for DisputeEvent {
    const AGGREGATE: &'static str = "dispute";

    fn name(&self) -> &'static str {
        match self {
            DisputeEvent::Reported { .. } => "reported",
            DisputeEvent::Assessed { .. } => "assessed",
            DisputeEvent::Warned { .. } => "warned",
            DisputeEvent::Assigned { .. } => "assigned",
            DisputeEvent::MediationRecorded { .. } => "mediation_recorded",
            DisputeEvent::ResolutionReported { .. } => "resolution_reported",
            DisputeEvent::ResolutionVerified { .. } => "resolution_verified",
            DisputeEvent::Closed { .. } => "closed",
        }
    }
}

/// The state of a dispute.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dispute {
    /// Id (none until reported).
    pub dispute_id: Option<DisputeId>,
    /// Stage.
    pub stage: DisputeStage,
    /// Reporting unit.
    pub reporting_unit: Option<UnitId>,
    /// Source.
    pub source: Option<DisputeSource>,
    /// Title.
    pub title: String,
    /// Category.
    pub category: String,
    /// Territory.
    pub territory: Option<UnitId>,
    /// Parties.
    pub parties: Vec<PersonRef>,
    /// People involved.
    pub collective_size: u32,
    /// Assessed level.
    pub risk_level: Option<RiskLevel>,
    /// Highest level warned of.
    pub warned: Option<RiskLevel>,
    /// Responsible unit.
    pub responsible_unit: Option<UnitId>,
    /// Territorial unit.
    pub territorial_unit: Option<UnitId>,
    /// Resolution clock.
    pub resolution_deadline: Option<Deadline>,
    /// Mediations attempted, and how many reached agreement.
    pub mediations: (u32, u32),
    /// Resolution reports submitted.
    pub resolution_reports: u32,
}

impl Dispute {
    fn refuse(&self, rule: Rule, reason: impl Into<String>) -> DomainError {
        DomainError::refused(rule, self.stage.as_str(), reason)
    }

    fn require(&self, allowed: &[DisputeStage], action: &str) -> Result<(), DomainError> {
        if allowed.contains(&self.stage) {
            Ok(())
        } else {
            Err(self.refuse(
                Rule::DisputeProcedure,
                format!("{action} is not allowed in this stage"),
            ))
        }
    }
}

impl Aggregate for Dispute {
    type Action = DisputeAction;
    type Event = DisputeEvent;

    fn decide(
        &self,
        command: &DisputeCommand,
        rules: &Rules,
    ) -> Result<Vec<DisputeEvent>, DomainError> {
        let at = command.at;
        let today = legal_date(at);
        let unit = &command.unit;
        use DisputeAction as A;
        use DisputeStage as S;
        Ok(vec![match &command.action {
            A::Report {
                dispute_id,
                source,
                title,
                category,
                territory,
                parties,
                collective_size,
            } => {
                self.require(&[S::Unreported], "reporting")?;
                id_field("dispute_id", dispute_id.as_str())?;
                text("title", title, 200)?;
                text("category", category, 64)?;
                rules.directory.require(
                    "territory",
                    territory,
                    today,
                    UnitRequirement::Territory,
                )?;
                if (*collective_size as usize) < parties.len() {
                    return Err(DomainError::invalid(
                        "collective_size",
                        "fewer than the parties named",
                    ));
                }
                DisputeEvent::Reported {
                    at,
                    dispute_id: dispute_id.clone(),
                    reporting_unit: unit.clone(),
                    source: *source,
                    title: title.trim().to_owned(),
                    category: category.trim().to_owned(),
                    territory: territory.clone(),
                    parties: parties.clone(),
                    collective_size: *collective_size,
                }
            }
            A::Assess { level } => {
                self.require(&[S::Reported, S::Assessed, S::Assigned], "an assessment")?;
                DisputeEvent::Assessed { at, level: *level }
            }
            A::Warn => {
                let Some(level) = self.risk_level else {
                    return Err(
                        self.refuse(Rule::RiskAssessment, "a warning follows a risk assessment")
                    );
                };
                if level < RiskLevel::Medium {
                    return Err(self.refuse(
                        Rule::RiskAssessment,
                        "a low risk is handled without a warning",
                    ));
                }
                if self.warned.is_some_and(|w| w >= level) || self.stage.is_closed() {
                    return Err(self.refuse(
                        Rule::RiskAssessment,
                        format!("a {level:?} warning was already issued"),
                    ));
                }
                DisputeEvent::Warned { at, level }
            }
            A::Assign {
                responsible_unit,
                territorial_unit,
                due_on,
            } => {
                self.require(&[S::Reported, S::Assessed], "an assignment")?;
                let directory = &rules.directory;
                directory.require(
                    "responsible_unit",
                    responsible_unit,
                    today,
                    UnitRequirement::Any,
                )?;
                directory.require(
                    "territorial_unit",
                    territorial_unit,
                    today,
                    UnitRequirement::Territory,
                )?;
                if *due_on <= today {
                    return Err(DomainError::invalid(
                        "due_on",
                        format!("{due_on} is not after today, {today}"),
                    ));
                }
                DisputeEvent::Assigned {
                    at,
                    responsible_unit: responsible_unit.clone(),
                    territorial_unit: territorial_unit.clone(),
                    due_on: *due_on,
                }
            }
            A::RecordMediation { agreed } => {
                self.require(&[S::Reported, S::Assessed, S::Assigned], "a mediation")?;
                DisputeEvent::MediationRecorded {
                    at,
                    mediator: unit.clone(),
                    agreed: *agreed,
                }
            }
            A::ReportResolution { summary } => {
                self.require(&[S::Assigned], "a resolution report")?;
                if Some(unit) != self.responsible_unit.as_ref()
                    && Some(unit) != self.territorial_unit.as_ref()
                {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "report the resolution of a dispute not assigned to it",
                    });
                }
                text("summary", summary, 2000)?;
                DisputeEvent::ResolutionReported {
                    at,
                    by: unit.clone(),
                    summary: summary.clone(),
                }
            }
            A::VerifyResolution { accepted, note } => {
                self.require(&[S::ResolutionReported], "verification")?;
                if Some(unit) == self.responsible_unit.as_ref()
                    || Some(unit) == self.territorial_unit.as_ref()
                {
                    return Err(DomainError::NotAuthorized {
                        unit: unit.clone(),
                        action: "verify its own resolution",
                    });
                }
                text("note", note, 1000)?;
                DisputeEvent::ResolutionVerified {
                    at,
                    accepted: *accepted,
                    note: note.clone(),
                }
            }
            A::Close { reason } => {
                self.require(&[S::Reported, S::Assessed], "closing without assignment")?;
                text("reason", reason, 1000)?;
                DisputeEvent::Closed {
                    at,
                    reason: reason.clone(),
                }
            }
        }])
    }

    fn evolve(mut self, event: &DisputeEvent) -> Self {
        use DisputeEvent as E;
        match event {
            E::Reported {
                dispute_id,
                reporting_unit,
                source,
                title,
                category,
                territory,
                parties,
                collective_size,
                ..
            } => {
                self.dispute_id = Some(dispute_id.clone());
                self.stage = DisputeStage::Reported;
                self.reporting_unit = Some(reporting_unit.clone());
                self.source = Some(*source);
                self.title = title.clone();
                self.category = category.clone();
                self.territory = Some(territory.clone());
                self.parties = parties.clone();
                self.collective_size = *collective_size;
            }
            E::Assessed { level, .. } => {
                self.risk_level = Some(*level);
                if self.stage == DisputeStage::Reported {
                    self.stage = DisputeStage::Assessed;
                }
            }
            E::Warned { level, .. } => self.warned = Some(*level),
            E::Assigned {
                at,
                responsible_unit,
                territorial_unit,
                due_on,
            } => {
                let started = legal_date(*at);
                self.stage = DisputeStage::Assigned;
                self.responsible_unit = Some(responsible_unit.clone());
                self.territorial_unit = Some(territorial_unit.clone());
                self.resolution_deadline = Some(Deadline::start(
                    DeadlineKind::Resolution,
                    started,
                    Period::calendar(days_between(started, *due_on)),
                ));
            }
            E::MediationRecorded { agreed, .. } => {
                self.mediations.0 += 1;
                self.mediations.1 += u32::from(*agreed);
            }
            E::ResolutionReported { .. } => {
                self.stage = DisputeStage::ResolutionReported;
                self.resolution_reports += 1;
            }
            E::ResolutionVerified { at, accepted, .. } => {
                if *accepted {
                    self.stage = DisputeStage::Verified;
                    if let Some(d) = &mut self.resolution_deadline {
                        d.met_on.get_or_insert(legal_date(*at));
                    }
                } else {
                    self.stage = DisputeStage::Assigned;
                }
            }
            E::Closed { .. } => self.stage = DisputeStage::Closed,
        }
        self
    }
}

#[cfg(test)]
mod tests;
