//! Test support for the aggregates' given/when/then tests: dates, instants, and a scenario that drives
//! an aggregate through commands as a service would.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use crate::aggregate::{Aggregate, Command, Rules};
use crate::error::DomainError;
use crate::ids::UnitId;

/// A date from `YYYY-MM-DD`.
pub fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 10:00 in Beijing on the given legal date.
pub fn at(s: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d(s).and_hms_opt(2, 0, 0).unwrap())
}

/// A unit id.
pub fn u(s: &str) -> UnitId {
    UnitId::from(s)
}

/// An aggregate and the events it accepted, under the shipped calendar.
pub struct Scenario<A: Aggregate> {
    /// The rules decisions consult.
    pub rules: Rules,
    /// The current state.
    pub state: A,
    /// Every accepted event, in order.
    pub history: Vec<A::Event>,
}

impl<A: Aggregate> Scenario<A> {
    /// A fresh aggregate.
    pub fn new() -> Self {
        Scenario {
            rules: Rules::shipped().unwrap(),
            state: A::default(),
            history: Vec::new(),
        }
    }

    /// Decides `action` by `unit` on `date`; applies the events when accepted.
    pub fn when(
        &mut self,
        date: &str,
        unit: &str,
        action: A::Action,
    ) -> Result<Vec<A::Event>, DomainError> {
        let command = Command {
            at: at(date),
            unit: u(unit),
            action,
        };
        let events = self.state.decide(&command, &self.rules)?;
        for e in &events {
            self.state = self.state.clone().evolve(e);
        }
        self.history.extend(events.clone());
        Ok(events)
    }

    /// Like [`when`](Self::when), panicking on a refusal.
    pub fn ok(&mut self, date: &str, unit: &str, action: A::Action) -> &mut Self {
        if let Err(e) = self.when(date, unit, action) {
            panic!("expected acceptance, got {e}");
        }
        self
    }

    /// True when replaying the history rebuilds the current state.
    pub fn replays(&self) -> bool {
        A::replay(&self.history) == self.state
    }
}
