//! Identifiers the domain speaks of. Newtypes, so a unit is never passed where a person is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::agency::Agency;

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

/// Longest unit id: units come from the district's reference data (`binhai.human_resources_bureau`).
pub const MAX_UNIT_ID_CHARS: usize = 128;
/// Longest id of an item or of a part of one (a task, an agreement), of a person ref, of a receipt number
/// or query code: all are minted by the services, far shorter.
pub const MAX_ITEM_ID_CHARS: usize = 64;

/// The kinds of item a ledger entry holds. Their names are the one spelling of the kind everywhere: in
/// item keys (`petition_matter:PM1`), in store stream ids (`petition_matter-PM1`), in the ledger's tables
/// and in the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ItemKind {
    /// 信访事项.
    PetitionMatter,
    /// 矛盾纠纷 / 预警.
    Dispute,
    /// 联合处置.
    JointHandling,
    /// 督办函.
    SupervisionOrder,
}

impl ItemKind {
    /// Every kind.
    pub const ALL: [ItemKind; 4] = [
        ItemKind::PetitionMatter,
        ItemKind::Dispute,
        ItemKind::JointHandling,
        ItemKind::SupervisionOrder,
    ];

    /// The kind's stable name: `petition_matter`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ItemKind::PetitionMatter => "petition_matter",
            ItemKind::Dispute => "dispute",
            ItemKind::JointHandling => "joint_handling",
            ItemKind::SupervisionOrder => "supervision_order",
        }
    }

    /// The kind a name names.
    pub fn parse(name: &str) -> Option<ItemKind> {
        ItemKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl ItemRef {
    /// An item of `kind` with `id`.
    pub fn new(kind: ItemKind, id: impl Into<String>) -> ItemRef {
        let id = id.into();
        match kind {
            ItemKind::PetitionMatter => ItemRef::PetitionMatter(MatterId(id)),
            ItemKind::Dispute => ItemRef::Dispute(DisputeId(id)),
            ItemKind::JointHandling => ItemRef::JointHandling(JointHandlingId(id)),
            ItemKind::SupervisionOrder => ItemRef::SupervisionOrder(SupervisionOrderId(id)),
        }
    }

    /// Its kind.
    pub fn kind(&self) -> ItemKind {
        match self {
            ItemRef::PetitionMatter(_) => ItemKind::PetitionMatter,
            ItemRef::Dispute(_) => ItemKind::Dispute,
            ItemRef::JointHandling(_) => ItemKind::JointHandling,
            ItemRef::SupervisionOrder(_) => ItemKind::SupervisionOrder,
        }
    }

    /// Its id within its kind.
    pub fn id(&self) -> &str {
        match self {
            ItemRef::PetitionMatter(id) => id.as_str(),
            ItemRef::Dispute(id) => id.as_str(),
            ItemRef::JointHandling(id) => id.as_str(),
            ItemRef::SupervisionOrder(id) => id.as_str(),
        }
    }

    /// The agency whose store keeps the item: petition matters the petition office's; joint handlings
    /// and supervision orders the committee's; a dispute the agency its id's namespace names
    /// (`PS-…`, `PL-…`). None for a dispute id without one (recorded before ids were namespaced, so
    /// kept by either agency).
    pub fn keeper(&self) -> Option<Agency> {
        match self {
            ItemRef::PetitionMatter(_) => Some(Agency::Petition),
            ItemRef::JointHandling(_) | ItemRef::SupervisionOrder(_) => {
                Some(Agency::PoliticalLegal)
            }
            ItemRef::Dispute(id) => [Agency::PublicSecurity, Agency::PoliticalLegal]
                .into_iter()
                .find(|a| {
                    id.as_str()
                        .strip_prefix(a.id_namespace())
                        .is_some_and(|rest| rest.starts_with('-'))
                }),
        }
    }

    /// Its stable text key, `<kind>:<id>`, as the ledger stores it and people type it.
    pub fn key(&self) -> String {
        format!("{}:{}", self.kind().as_str(), self.id())
    }

    /// The item a key names.
    pub fn from_key(key: &str) -> Option<ItemRef> {
        let (kind, id) = key.split_once(':')?;
        Some(ItemRef::new(ItemKind::parse(kind)?, id))
    }
}

/// The names of the streams of the agencies' stores: `<prefix>-<id>`. An item's stream prefix is its
/// kind's name; the others hold what is not a ledger item.
pub mod streams {
    use super::ItemKind;

    /// A person's sealed personal data (petition store); never projected.
    pub const PERSON: &str = "person";
    /// The district's links between items (political-legal store).
    pub const LINK: &str = "link";
    /// An item's deadline watch (political-legal store), `deadline_watch-<item key>`.
    pub const DEADLINE_WATCH: &str = "deadline_watch";
    /// A police station's part in a joint handling (public-security store), `<joint handling>.<station>`.
    pub const POLICE_PARTICIPATION: &str = "joint_participation";

    /// The stream of `id` under `prefix`.
    pub fn stream_id(prefix: &str, id: &str) -> String {
        format!("{prefix}-{id}")
    }

    /// A stream id's prefix and id.
    pub fn split(stream_id: &str) -> Option<(&str, &str)> {
        stream_id.split_once('-')
    }

    /// The stream prefix of an item kind.
    pub fn of(kind: ItemKind) -> &'static str {
        kind.as_str()
    }
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

/// Checks an id field: present, at most [`MAX_UNIT_ID_CHARS`] characters, no white space.
pub(crate) fn id_field(field: &'static str, value: &str) -> Result<(), crate::DomainError> {
    if value.is_empty()
        || value.chars().count() > MAX_UNIT_ID_CHARS
        || value.chars().any(char::is_whitespace)
    {
        return Err(crate::DomainError::invalid(
            field,
            "must be 1 to 128 characters without white space",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_key_names_the_kind_and_reads_back() {
        for kind in ItemKind::ALL {
            let item = ItemRef::new(kind, "X-1");
            assert_eq!(item.kind(), kind);
            assert_eq!(ItemRef::from_key(&item.key()), Some(item.clone()));
            // the serde tag is the same name
            assert_eq!(serde_json::to_value(&item).unwrap()["kind"], kind.as_str());
        }
        assert_eq!(
            ItemRef::new(ItemKind::PetitionMatter, "PM1").key(),
            "petition_matter:PM1"
        );
        assert_eq!(ItemRef::from_key("matter:PM1"), None);
        // who keeps an item follows from its kind, and for a dispute from its id's namespace
        let dispute = |id: &str| ItemRef::new(ItemKind::Dispute, id).keeper();
        assert_eq!(dispute("PS-XG-1"), Some(Agency::PublicSecurity));
        assert_eq!(dispute("PL-XG-1"), Some(Agency::PoliticalLegal));
        assert_eq!(dispute("PSXG-1"), None);
        assert_eq!(
            ItemRef::new(ItemKind::SupervisionOrder, "SO1").keeper(),
            Some(Agency::PoliticalLegal)
        );
        assert_eq!(ItemRef::from_key("no key"), None);
    }
}
