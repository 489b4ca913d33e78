//! Identifiers the domain speaks of. Newtypes, so a unit is never passed where a person is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }
    };
}

id!(
    /// A unit from the district's reference data (单位): a department, a sub-district, a police station, ….
    UnitId
);
id!(
    /// A pseudonymous reference to a person (信访人 and others). The person's data lives encrypted
    /// elsewhere; the domain never sees a name, an ID number or a phone number.
    PersonRef
);
id!(
    /// A petition matter (信访事项).
    MatterId
);
id!(
    /// A dispute report or risk warning (矛盾纠纷 / 预警).
    DisputeId
);
id!(
    /// A joint handling (联合处置).
    JointHandlingId
);
id!(
    /// A supervision order (督办函).
    SupervisionOrderId
);

/// Any item of the ledger, as a link names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ItemRef {
    /// A petition matter.
    PetitionMatter(MatterId),
    /// A dispute or risk warning.
    Dispute(DisputeId),
    /// A joint handling.
    JointHandling(JointHandlingId),
    /// A supervision order.
    SupervisionOrder(SupervisionOrderId),
}

/// Checks a free-text field: present and at most `max` characters.
pub(crate) fn text(field: &'static str, value: &str, max: usize) -> Result<(), crate::DomainError> {
    let n = value.trim().chars().count();
    if n == 0 {
        return Err(crate::DomainError::invalid(field, "must not be empty"));
    }
    if n > max {
        return Err(crate::DomainError::invalid(
            field,
            format!("at most {max} characters, got {n}"),
        ));
    }
    Ok(())
}

/// Checks an id field: present, at most 128 characters, no white space.
pub(crate) fn id_field(field: &'static str, value: &str) -> Result<(), crate::DomainError> {
    if value.is_empty() || value.len() > 128 || value.chars().any(char::is_whitespace) {
        return Err(crate::DomainError::invalid(
            field,
            "must be 1 to 128 characters without white space",
        ));
    }
    Ok(())
}
