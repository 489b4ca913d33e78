//! Links between ledger items of different agencies that are one matter of concern — a petition, a dispute
//! the police met and a screened risk about the same dispute. Kept by the political-legal committee in one
//! registry per district, so every link is decided against all the others: items form groups with exactly
//! one root, and every member points at the root directly (one root, never a tree).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{Aggregate, Command, DomainEvent, Rules};
use crate::error::DomainError;
use crate::ids::{ItemRef, text};
use crate::rule::Rule;

/// The acts on the link registry.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkAction {
    /// Join the groups of `anchor` and `other`; the anchor's root stays the root.
    Link {
        /// The item whose root the merged group keeps.
        anchor: ItemRef,
        /// The item joining it, with its whole group.
        other: ItemRef,
        /// Why they are one matter.
        reason: String,
    },
}

/// A command to the link registry.
pub type LinkCommand = Command<LinkAction>;

/// What the registry records.
///
/// Every variant's `at` is the instant its step was recorded; its legal (Beijing) date is the day periods
/// count from.
#[allow(missing_docs)] // `at`, the one field documented above rather than on each variant
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum LinkEvent {
    /// Items joined a root.
    Linked {
        at: DateTime<Utc>,
        /// The root of the merged group.
        root: ItemRef,
        /// Every item that now points at `root` and did not before (the other group's root and members).
        joined: Vec<ItemRef>,
        /// Why.
        reason: String,
    },
}

impl DomainEvent for LinkEvent {
    const AGGREGATE: &'static str = "link";

    fn name(&self) -> &'static str {
        match self {
            LinkEvent::Linked { .. } => "linked",
        }
    }
}

/// Every group of linked items in a district.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinkRegistry {
    /// The root of every linked non-root item.
    pub root_of: BTreeMap<ItemRef, ItemRef>,
    /// The members of every root, the root excluded.
    pub members: BTreeMap<ItemRef, BTreeSet<ItemRef>>,
}

impl LinkRegistry {
    /// The root of `item` (itself when it is not linked under another).
    pub fn root(&self, item: &ItemRef) -> ItemRef {
        self.root_of
            .get(item)
            .cloned()
            .unwrap_or_else(|| item.clone())
    }
}

impl Aggregate for LinkRegistry {
    type Action = LinkAction;
    type Event = LinkEvent;

    fn decide(&self, command: &LinkCommand, _rules: &Rules) -> Result<Vec<LinkEvent>, DomainError> {
        let LinkAction::Link {
            anchor,
            other,
            reason,
        } = &command.action;
        text("reason", reason, 1000)?;
        if anchor == other {
            return Err(DomainError::invalid(
                "other",
                "an item is not linked to itself",
            ));
        }
        let (root, other_root) = (self.root(anchor), self.root(other));
        if root == other_root {
            return Err(DomainError::refused(
                Rule::OneRoot,
                "linked",
                "the items are already one matter",
            ));
        }
        let mut joined = vec![other_root.clone()];
        joined.extend(self.members.get(&other_root).into_iter().flatten().cloned());
        Ok(vec![LinkEvent::Linked {
            at: command.at,
            root,
            joined,
            reason: reason.clone(),
        }])
    }

    fn evolve(mut self, event: &LinkEvent) -> Self {
        let LinkEvent::Linked { root, joined, .. } = event;
        for item in joined {
            self.members.remove(item);
            self.root_of.insert(item.clone(), root.clone());
            self.members
                .entry(root.clone())
                .or_default()
                .insert(item.clone());
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::{DisputeId, MatterId};
    use crate::testing::Scenario;

    fn matter(n: u32) -> ItemRef {
        ItemRef::PetitionMatter(MatterId(format!("m{n}")))
    }

    fn dispute(n: u32) -> ItemRef {
        ItemRef::Dispute(DisputeId(format!("d{n}")))
    }

    fn link(a: ItemRef, b: ItemRef) -> LinkAction {
        LinkAction::Link {
            anchor: a,
            other: b,
            reason: "same building site".into(),
        }
    }

    #[test]
    fn given_two_groups_when_linked_then_every_member_points_at_one_root() {
        let mut s = Scenario::<LinkRegistry>::new();
        s.ok("2026-05-01", "plc", link(matter(1), dispute(1)))
            .ok("2026-05-02", "plc", link(dispute(2), dispute(3)))
            .ok("2026-05-03", "plc", link(dispute(1), dispute(3)));
        for item in [dispute(1), dispute(2), dispute(3)] {
            assert_eq!(s.state.root(&item), matter(1));
        }
        assert_eq!(s.state.members[&matter(1)].len(), 3);
        assert!(
            !s.state.members.contains_key(&dispute(2)),
            "the old root is no root any more"
        );
        assert!(s.replays());
    }

    #[test]
    fn given_one_group_when_two_members_are_linked_again_then_it_is_refused() {
        let mut s = Scenario::<LinkRegistry>::new();
        s.ok("2026-05-01", "plc", link(matter(1), dispute(1))).ok(
            "2026-05-01",
            "plc",
            link(matter(1), dispute(2)),
        );
        let again = s.when("2026-05-02", "plc", link(dispute(2), dispute(1)));
        assert!(matches!(
            again,
            Err(DomainError::Refused {
                rule: Rule::OneRoot,
                ..
            })
        ));
        assert!(matches!(
            s.when("2026-05-02", "plc", link(matter(9), matter(9))),
            Err(DomainError::Invalid { .. })
        ));
    }

    proptest! {
        #[test]
        fn links_never_form_a_tree(pairs in prop::collection::vec((0u32..12, 0u32..12), 0..40)) {
            let mut s = Scenario::<LinkRegistry>::new();
            for (a, b) in pairs {
                let _ = s.when("2026-05-01", "plc", link(matter(a), matter(b)));
            }
            for (item, root) in &s.state.root_of {
                prop_assert!(!s.state.root_of.contains_key(root), "{item:?} points at a non-root");
                prop_assert!(s.state.members[root].contains(item));
            }
            prop_assert!(s.replays());
        }
    }
}
