//! The roles a caller acts in (DESIGN §4). Tokens name them; [`crate::policy`] says which steps each
//! may take.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The roles of DESIGN §4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Registers and routes petitions.
    IntakeClerk,
    /// A unit's staff: accepts, handles, reports.
    Handler,
    /// A higher unit: review and re-review.
    Reviewer,
    /// The joint meeting office: supervision orders and escalation.
    Supervisor,
    /// The political-legal committee: screening, assignment, joint handling, links.
    Coordinator,
    /// A police officer.
    PoliceOfficer,
    /// Reads the ledger.
    Viewer,
    /// May read personal data, always audited.
    PiiReader,
    /// Reads the audit log.
    Auditor,
    /// An agency's own system (an integrator) reading that agency's event log: the log holds every
    /// matter's pseudonymous petitioners, accusations included, so no unit's staff read it.
    Integrator,
    /// Brings a district's existing ledger (台账) in with its real dates: records each step as the
    /// unit the ledger names did it, every event marked with its origin. Nothing else.
    Importer,
}

impl Role {
    /// Every role.
    pub const ALL: [Role; 11] = [
        Role::IntakeClerk,
        Role::Handler,
        Role::Reviewer,
        Role::Supervisor,
        Role::Coordinator,
        Role::PoliceOfficer,
        Role::Viewer,
        Role::PiiReader,
        Role::Auditor,
        Role::Integrator,
        Role::Importer,
    ];

    /// The roles that read the whole district's ledger, not one unit's (the committee, the joint meeting
    /// office, auditors).
    pub const DISTRICT_WIDE: [Role; 3] = [Role::Coordinator, Role::Supervisor, Role::Auditor];

    /// The role's name in tokens.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntakeClerk => "intake_clerk",
            Role::Handler => "handler",
            Role::Reviewer => "reviewer",
            Role::Supervisor => "supervisor",
            Role::Coordinator => "coordinator",
            Role::PoliceOfficer => "police_officer",
            Role::Viewer => "viewer",
            Role::PiiReader => "pii_reader",
            Role::Auditor => "auditor",
            Role::Integrator => "integrator",
            Role::Importer => "importer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("unknown role {s:?}"))
    }
}
