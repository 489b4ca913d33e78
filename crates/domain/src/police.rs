//! Public security's part in a joint handling (联合处置): a police station joins it, records the actions it
//! takes, and closes its part. Kept in public security's own store — an agency writes only its own
//! streams — and merged with the committee's joint handling in the ledger.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::clock::legal_date;
use crate::directory::UnitRequirement;
use crate::error::DomainError;
use crate::ids::{JointHandlingId, UnitId, id_field, text};
use crate::rule::Rule;

/// The acts of a police station in a joint handling.
#[derive(Debug, Clone, PartialEq)]
pub enum PoliceAction {
    /// Join the joint handling.
    Join {
        /// The committee's joint handling.
        joint_handling_id: JointHandlingId,
    },
    /// Record an action taken (a patrol, a mediation session, a warning talk).
    RecordAction {
        /// What was done, without personal data.
        note: String,
    },
    /// Close the station's part.
    ClosePart {
        /// What the station achieved.
        summary: String,
    },
}

/// A command to a station's participation.
pub type PoliceCommand = Command<PoliceAction>;

/// What a station's participation records.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum PoliceEvent {
    /// Joined.
    Joined {
        at: DateTime<Utc>,
        /// The joint handling.
        joint_handling_id: JointHandlingId,
        /// The station.
        station: UnitId,
    },
    /// An action recorded.
    ActionRecorded {
        at: DateTime<Utc>,
        /// What.
        note: String,
    },
    /// The part closed.
    PartClosed {
        at: DateTime<Utc>,
        /// Summary.
        summary: String,
    },
}

impl DomainEvent for PoliceEvent {
    const AGGREGATE: &'static str = "joint_participation";

    fn name(&self) -> &'static str {
        match self {
            PoliceEvent::Joined { .. } => "joined",
            PoliceEvent::ActionRecorded { .. } => "action_recorded",
            PoliceEvent::PartClosed { .. } => "part_closed",
        }
    }
}

/// A station's participation in one joint handling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PoliceParticipation {
    /// The joint handling (none until joined).
    pub joint_handling_id: Option<JointHandlingId>,
    /// The station.
    pub station: Option<UnitId>,
    /// Actions recorded.
    pub actions: u32,
    /// Whether the part is closed.
    pub closed: bool,
}

impl PoliceParticipation {
    fn refuse(&self, reason: &str) -> DomainError {
        let stage = match (self.joint_handling_id.is_some(), self.closed) {
            (false, _) => "not_joined",
            (_, true) => "part_closed",
            _ => "joined",
        };
        DomainError::refused(Rule::JointHandling, stage, reason)
    }
}

impl Aggregate for PoliceParticipation {
    type Action = PoliceAction;
    type Event = PoliceEvent;

    fn decide(
        &self,
        command: &PoliceCommand,
        rules: &Rules,
    ) -> Result<Vec<PoliceEvent>, DomainError> {
        let at = command.at;
        match &command.action {
            PoliceAction::Join { joint_handling_id } => {
                if self.joint_handling_id.is_some() {
                    return Err(self.refuse("the station already joined"));
                }
                id_field("joint_handling_id", joint_handling_id.as_str())?;
                let today = legal_date(at);
                // The acting unit is the token's, not a field: not being a station is not being allowed.
                rules
                    .directory
                    .require("unit", &command.unit, today, UnitRequirement::PoliceStation)
                    .map_err(|_| DomainError::NotAuthorized {
                        unit: command.unit.clone(),
                        action: "join a joint handling as a police station (the directory lists no such station)",
                    })?;
                Ok(vec![PoliceEvent::Joined {
                    at,
                    joint_handling_id: joint_handling_id.clone(),
                    station: command.unit.clone(),
                }])
            }
            action => {
                if self.joint_handling_id.is_none() {
                    return Err(self.refuse("the station has not joined"));
                }
                if self.closed {
                    return Err(self.refuse("the station's part is closed"));
                }
                if self.station.as_ref() != Some(&command.unit) {
                    return Err(DomainError::NotAuthorized {
                        unit: command.unit.clone(),
                        action: "act for another station",
                    });
                }
                Ok(vec![match action {
                    PoliceAction::RecordAction { note } => {
                        text("note", note, 2000)?;
                        PoliceEvent::ActionRecorded {
                            at,
                            note: note.clone(),
                        }
                    }
                    PoliceAction::ClosePart { summary } => {
                        text("summary", summary, 2000)?;
                        PoliceEvent::PartClosed {
                            at,
                            summary: summary.clone(),
                        }
                    }
                    PoliceAction::Join { .. } => {
                        return Err(self.refuse("the station already joined"));
                    }
                }])
            }
        }
    }

    fn evolve(mut self, event: &PoliceEvent) -> Self {
        match event {
            PoliceEvent::Joined {
                joint_handling_id,
                station,
                ..
            } => {
                self.joint_handling_id = Some(joint_handling_id.clone());
                self.station = Some(station.clone());
            }
            PoliceEvent::ActionRecorded { .. } => self.actions += 1,
            PoliceEvent::PartClosed { .. } => self.closed = true,
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Scenario;

    const STATION: &str = "binhai.police.xingang";

    #[test]
    fn given_a_unit_that_is_no_police_station_when_it_joins_then_it_is_not_authorized() {
        for unit in ["binhai.xingang_subdistrict", "binhai.police.nowhere"] {
            let mut s = Scenario::<PoliceParticipation>::new();
            let joined = s.when(
                "2026-05-15",
                unit,
                PoliceAction::Join {
                    joint_handling_id: JointHandlingId::from("JH1"),
                },
            );
            assert!(
                matches!(joined, Err(DomainError::NotAuthorized { .. })),
                "{unit}: {joined:?}"
            );
        }
    }

    #[test]
    fn given_a_station_when_it_joins_acts_and_closes_then_nothing_follows_the_close() {
        let mut s = Scenario::<PoliceParticipation>::new();
        assert!(
            s.when(
                "2026-05-15",
                STATION,
                PoliceAction::RecordAction {
                    note: "patrol".into()
                }
            )
            .is_err(),
            "not before joining"
        );
        s.ok(
            "2026-05-15",
            STATION,
            PoliceAction::Join {
                joint_handling_id: JointHandlingId::from("JH1"),
            },
        )
        .ok(
            "2026-05-16",
            STATION,
            PoliceAction::RecordAction {
                note: "mediation session at the site".into(),
            },
        );
        assert!(matches!(
            s.when(
                "2026-05-16",
                "binhai.police.tanggu",
                PoliceAction::RecordAction { note: "x".into() }
            ),
            Err(DomainError::NotAuthorized { .. })
        ));
        s.ok(
            "2026-05-20",
            STATION,
            PoliceAction::ClosePart {
                summary: "order kept; gate reopened".into(),
            },
        );
        assert!(
            s.when(
                "2026-05-21",
                STATION,
                PoliceAction::RecordAction {
                    note: "late".into()
                }
            )
            .is_err()
        );
        assert_eq!(s.state.actions, 1);
        assert!(s.state.closed && s.replays());
    }
}
