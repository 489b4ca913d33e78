//! The shape every aggregate has: decide (command → events, or a refusal) and evolve (event → state).
//! Both are synchronous and free of side effects; time and the holiday calendar come in as arguments.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::agency::Agency;
use crate::clock::{CalendarError, HolidayCalendar};
use crate::directory::{DirectoryError, UnitDirectory};
use crate::error::DomainError;
use crate::ids::UnitId;

/// What a decision may consult besides the state: the legal calendar and the district's units.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Holidays and swapped working days, for counting periods.
    pub calendar: HolidayCalendar,
    /// The district's units: who may be named where, and who reviews whom. Shared: every command of a
    /// process consults the one directory it loaded.
    pub directory: Arc<UnitDirectory>,
}

impl Rules {
    /// Rules of `calendar` and `directory`.
    pub fn new(calendar: HolidayCalendar, directory: UnitDirectory) -> Self {
        Rules {
            calendar,
            directory: Arc::new(directory),
        }
    }

    /// Rules with the shipped calendar for mainland China and the shipped Binhai directory.
    pub fn shipped() -> Result<Self, ReferenceDataError> {
        Ok(Rules::new(
            HolidayCalendar::china()?,
            UnitDirectory::binhai()?,
        ))
    }
}

/// Reference data that does not read: the process stops, naming the file's line.
#[derive(Debug, thiserror::Error)]
pub enum ReferenceDataError {
    /// The holiday calendar.
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    /// The unit directory.
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}

/// An event of an aggregate: a serde type with a stable type name and schema version.
pub trait DomainEvent: Clone + Debug + PartialEq + Serialize + DeserializeOwned {
    /// The aggregate's name in event types, e.g. `matter`.
    const AGGREGATE: &'static str;
    /// Schema version of the serialised form; bumped with an upcaster when a field changes meaning.
    const SCHEMA_VERSION: u32 = 1;

    /// The event's name within its aggregate, e.g. `registered`.
    fn name(&self) -> &'static str;

    /// The full type as recorded by `agency`'s store, e.g. `petition.matter.registered`. The same
    /// aggregate may be kept by more than one agency (a dispute reported by the police or by screening).
    fn event_type(&self, agency: Agency) -> String {
        format!("{}.{}.{}", agency.token(), Self::AGGREGATE, self.name())
    }
}

/// A command to an aggregate: who acts, when, and what.
#[derive(Debug, Clone, PartialEq)]
pub struct Command<A> {
    /// When the act happens; legal days are counted from its Beijing date.
    pub at: DateTime<Utc>,
    /// The acting unit, from the caller's token (never from a request body).
    pub unit: UnitId,
    /// The act.
    pub action: A,
}

/// A consistency boundary of the domain.
pub trait Aggregate: Default + Clone + Debug + PartialEq {
    /// What can be asked of it.
    type Action;
    /// What it records.
    type Event: DomainEvent;

    /// Decides a command against the current state: the events to record, or why not.
    fn decide(
        &self,
        command: &Command<Self::Action>,
        rules: &Rules,
    ) -> Result<Vec<Self::Event>, DomainError>;

    /// The state after an event. Total: an event was decided against this state, so it always applies.
    fn evolve(self, event: &Self::Event) -> Self;

    /// The state after a history of events.
    fn replay<'a>(events: impl IntoIterator<Item = &'a Self::Event>) -> Self
    where
        Self::Event: 'a,
    {
        events.into_iter().fold(Self::default(), Self::evolve)
    }
}
