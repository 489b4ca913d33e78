//! The district's unit directory (单位名录): reference data, not events. Who the units are, what kind of
//! body each is, where it sits in the hierarchy, which unit reviews its opinions (one level up, arts.
//! 35–36) and which territories it covers. Loaded once per process from a file ([`load`]); a shipped
//! sample describes the Binhai New Area.
//!
//! Dated: a unit is valid from `valid_from` to `valid_to` (both inclusive, either open), so a
//! reorganisation ends the old unit and starts the new one without rewriting a single past entry. A
//! command may only name a unit valid on its legal date; the ledger resolves any id ever listed.
//!
//! Invariants, checked on load: ids are unique; every parent, reviewer and territory is in the
//! directory; territories are zones, sub-districts or towns; the parent chain has no cycle and ends at
//! a higher-level unit.

mod kind;
pub mod load;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use kind::{UnitKind, UnitRequirement};
pub use load::DirectoryError;

use crate::error::DomainError;
use crate::ids::UnitId;

/// The shipped sample directory: the Binhai New Area of Tianjin.
pub const BINHAI: &str = include_str!("../../data/units-binhai.csv");

/// One unit of the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unit {
    /// Its id, the one spelling commands and tokens use (`binhai.human_resources_bureau`).
    pub id: UnitId,
    /// Its Chinese name, as officials write it (滨海新区人力资源和社会保障局).
    pub name: String,
    /// Its English name.
    pub name_en: String,
    /// What kind of body it is.
    pub kind: UnitKind,
    /// The unit above it; none only for a unit above the district.
    pub parent: Option<UnitId>,
    /// The unit that reviews its opinions when not its parent (art. 35: one level up).
    pub reviewer: Option<UnitId>,
    /// The territories it covers (a station's or a judicial office's sub-district); a territory covers
    /// itself without listing it.
    pub territories: Vec<UnitId>,
    /// First day it exists; none: since before the ledger.
    pub valid_from: Option<NaiveDate>,
    /// Last day it exists; none: still in being.
    pub valid_to: Option<NaiveDate>,
}

impl Unit {
    /// True when the unit exists on `day`.
    pub fn is_valid_on(&self, day: NaiveDate) -> bool {
        self.valid_from.is_none_or(|from| from <= day) && self.valid_to.is_none_or(|to| day <= to)
    }

    /// The unit that reviews its opinions: the named reviewer, else its parent.
    pub fn reviewer(&self) -> Option<&UnitId> {
        self.reviewer.as_ref().or(self.parent.as_ref())
    }

    /// The territories it covers: itself when it is one, else those it lists.
    pub fn covered_territories(&self) -> Vec<UnitId> {
        if self.kind.is_territory() {
            vec![self.id.clone()]
        } else {
            self.territories.clone()
        }
    }
}

/// A district's units, with their hierarchy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitDirectory {
    units: BTreeMap<UnitId, Unit>,
    children: BTreeMap<UnitId, Vec<UnitId>>,
}

impl UnitDirectory {
    /// The shipped Binhai New Area sample.
    pub fn binhai() -> Result<Self, DirectoryError> {
        load::parse("units-binhai.csv", BINHAI)
    }

    /// A directory of already checked units (see [`load::parse`]).
    fn from_units(units: BTreeMap<UnitId, Unit>) -> Self {
        let mut children: BTreeMap<UnitId, Vec<UnitId>> = BTreeMap::new();
        for unit in units.values() {
            if let Some(parent) = &unit.parent {
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(unit.id.clone());
            }
        }
        UnitDirectory { units, children }
    }

    /// How many units it lists, past ones included.
    pub fn len(&self) -> usize {
        self.units.len()
    }

    /// True when it lists no unit.
    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// Every unit, by id.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.units.values()
    }

    /// The unit with `id`, whenever it existed.
    pub fn get(&self, id: &UnitId) -> Option<&Unit> {
        self.units.get(id)
    }

    /// The units directly below `id`.
    pub fn children(&self, id: &UnitId) -> impl Iterator<Item = &Unit> {
        self.children
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|c| self.units.get(c))
    }

    /// `id` and every unit below it, at any depth.
    pub fn subtree(&self, id: &UnitId) -> BTreeSet<UnitId> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![id.clone()];
        while let Some(next) = todo.pop() {
            if seen.insert(next.clone()) {
                todo.extend(self.children(&next).map(|c| c.id.clone()));
            }
        }
        seen
    }

    /// True when `unit` is `above` or below it, at any depth: `above`'s ledger holds what `unit` takes
    /// part in.
    pub fn is_at_or_below(&self, unit: &UnitId, above: &UnitId) -> bool {
        let mut at = Some(unit);
        // The parent chain has no cycle (checked on load), so this ends.
        while let Some(current) = at {
            if current == above {
                return true;
            }
            at = self.units.get(current).and_then(|u| u.parent.as_ref());
        }
        false
    }

    /// The unit that reviews `id`'s opinions (art. 35), when the directory knows `id`.
    pub fn reviewer_of(&self, id: &UnitId) -> Option<&UnitId> {
        self.units.get(id)?.reviewer()
    }

    /// The Chinese name of `id`, when listed.
    pub fn name_of(&self, id: &UnitId) -> Option<&str> {
        self.units.get(id).map(|u| u.name.as_str())
    }

    /// Checks a unit a command names in `field`: listed, valid on `day`, and of a kind the field admits.
    /// Refusals are `Invalid` naming the field and the value (gRPC: `INVALID_ARGUMENT`).
    pub fn require(
        &self,
        field: &'static str,
        id: &UnitId,
        day: NaiveDate,
        requirement: UnitRequirement,
    ) -> Result<&Unit, DomainError> {
        let Some(unit) = self.units.get(id) else {
            return Err(DomainError::invalid(
                field,
                format!("`{id}` is not a unit of the district's directory"),
            ));
        };
        if !unit.is_valid_on(day) {
            return Err(DomainError::invalid(
                field,
                format!("`{id}` ({}) does not exist on {day}", unit.name),
            ));
        }
        if !requirement.admits(unit.kind) {
            return Err(DomainError::invalid(
                field,
                format!(
                    "`{id}` ({}) is a {}, not {}",
                    unit.name,
                    unit.kind,
                    requirement.describe()
                ),
            ));
        }
        Ok(unit)
    }
}
