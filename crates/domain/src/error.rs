//! Why the domain refuses a command. Each variant's doc says how the gRPC edge maps it.

use chrono::NaiveDate;

use crate::ids::UnitId;
use crate::rule::Rule;

/// A refused command.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command breaks a rule of procedure in the item's current stage. gRPC: `FAILED_PRECONDITION`,
    /// naming the stage and the rule.
    #[error("{reason} (stage: {stage}; rule: {rule})")]
    Refused {
        /// The rule it breaks; its citation (`art. 35`) reaches the client.
        rule: Rule,
        /// The item's stage when the command came.
        stage: String,
        /// What is not allowed and why, in words.
        reason: String,
        /// The date a window closed or a limit fell due, when that is the reason.
        deadline: Option<NaiveDate>,
    },
    /// A field of the command is missing or malformed. gRPC: `INVALID_ARGUMENT`, naming the field.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The acting unit has no part in this step. gRPC: `PERMISSION_DENIED`.
    #[error("unit {unit} may not {action}")]
    NotAuthorized {
        /// The acting unit.
        unit: UnitId,
        /// What it tried.
        action: &'static str,
    },
}

impl DomainError {
    /// An invalid field.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        DomainError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// A refusal by `rule` in `stage`.
    pub fn refused(rule: Rule, stage: impl ToString, reason: impl Into<String>) -> Self {
        DomainError::Refused {
            rule,
            stage: stage.to_string(),
            reason: reason.into(),
            deadline: None,
        }
    }

    /// Refuses unless the acting `unit` is the one the step belongs to.
    pub fn require_unit(
        unit: &UnitId,
        expected: &Option<UnitId>,
        action: &'static str,
    ) -> Result<(), DomainError> {
        if expected.as_ref() == Some(unit) {
            Ok(())
        } else {
            Err(DomainError::NotAuthorized {
                unit: unit.clone(),
                action,
            })
        }
    }
}
