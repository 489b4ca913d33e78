//! The one source of "now" for every part that decides or shows by time: the agency services (the
//! instant a command is stamped with), the projector and the ledger API (the day overdue is judged on),
//! the deadline watcher (when a threshold passes).
//!
//! A running system reads the system clock and nothing else: the binary builds [`Clock::system`]
//! except for a demo data directory (`up --demo-clock`, which a production start refuses), where
//! [`Clock::behind`] runs behind the system clock by an offset the demo shrinks to nothing as it loads
//! its year. Tests build [`Clock::driven`] and move it with the [`ClockDriver`] it comes with, so a
//! year of deadlines passes in a test without waiting or faking the process's time.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use oneledger_domain::clock::legal_date;

/// Where the current time comes from. Cheap to clone; every clone reads the same source.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    source: Source,
}

/// The three sources; the atomics are microseconds.
#[derive(Debug, Clone, Default)]
enum Source {
    /// The system clock.
    #[default]
    System,
    /// An instant that moves only when driven (tests).
    Driven(Arc<AtomicI64>),
    /// The system clock minus an offset (a demo's year).
    Behind(Arc<AtomicI64>),
}

impl Clock {
    /// The system clock: what every running process uses.
    pub fn system() -> Self {
        Clock {
            source: Source::System,
        }
    }

    /// A clock standing at `start` that moves only when its driver moves it (tests only).
    pub fn driven(start: DateTime<Utc>) -> (Self, ClockDriver) {
        let micros = Arc::new(AtomicI64::new(start.timestamp_micros()));
        (
            Clock {
                source: Source::Driven(micros.clone()),
            },
            ClockDriver {
                source: Source::Driven(micros),
            },
        )
    }

    /// A clock running with the system clock, `behind` behind it, until its driver moves it on (a
    /// demo data directory only).
    pub fn behind(behind: TimeDelta) -> (Self, ClockDriver) {
        let micros = Arc::new(AtomicI64::new(behind.num_microseconds().unwrap_or(0)));
        (
            Clock {
                source: Source::Behind(micros.clone()),
            },
            ClockDriver {
                source: Source::Behind(micros),
            },
        )
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        let at = |micros: i64| {
            DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        match &self.source {
            Source::System => Utc::now(),
            Source::Driven(micros) => at(micros.load(Ordering::SeqCst)),
            Source::Behind(behind) => {
                at(Utc::now().timestamp_micros() - behind.load(Ordering::SeqCst))
            }
        }
    }

    /// Today's legal (Beijing) date.
    pub fn today(&self) -> NaiveDate {
        legal_date(self.now())
    }

    /// True for any clock but the system's.
    pub fn is_driven(&self) -> bool {
        !matches!(self.source, Source::System)
    }
}

/// Moves a driven or behind clock; held by whoever built it.
#[derive(Debug, Clone)]
pub struct ClockDriver {
    source: Source,
}

impl ClockDriver {
    /// Moves the clock to `at` (backwards too: a test may replay a day). A clock behind the system's
    /// keeps running from there.
    pub fn set(&self, at: DateTime<Utc>) {
        match &self.source {
            Source::System => {}
            Source::Driven(micros) => micros.store(at.timestamp_micros(), Ordering::SeqCst),
            Source::Behind(behind) => behind.store(
                Utc::now().timestamp_micros() - at.timestamp_micros(),
                Ordering::SeqCst,
            ),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let by = by.num_microseconds().unwrap_or(i64::MAX);
        match &self.source {
            Source::System => {}
            Source::Driven(micros) => {
                micros.fetch_add(by, Ordering::SeqCst);
            }
            Source::Behind(behind) => {
                behind.fetch_sub(by, Ordering::SeqCst);
            }
        }
    }

    /// How far behind the system clock the clock is (zero for a driven clock).
    pub fn behind(&self) -> TimeDelta {
        match &self.source {
            Source::Behind(behind) => TimeDelta::microseconds(behind.load(Ordering::SeqCst)),
            _ => TimeDelta::zero(),
        }
    }

    /// Moves the clock to noon, Beijing time, of `day`: a test that works in legal days starts each at
    /// a time no time zone moves to another date.
    pub fn set_day(&self, day: NaiveDate) {
        let noon_utc = day.and_hms_opt(4, 0, 0).map(|t| t.and_utc());
        if let Some(at) = noon_utc {
            self.set(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_driven_clock_moves_only_when_driven_and_every_clone_sees_it() {
        let start = DateTime::parse_from_rfc3339("2026-12-31T15:00:00Z")
            .unwrap()
            .to_utc();
        let (clock, driver) = Clock::driven(start);
        let other = clock.clone();
        assert_eq!(clock.now(), start);
        assert_eq!(clock.today().to_string(), "2026-12-31");
        driver.advance(TimeDelta::hours(1));
        assert_eq!(
            other.today().to_string(),
            "2027-01-01",
            "16:00 UTC is Beijing midnight"
        );
        driver.set_day(NaiveDate::from_ymd_opt(2027, 2, 6).unwrap());
        assert_eq!(other.today().to_string(), "2027-02-06");
        assert!(clock.is_driven() && !Clock::system().is_driven());
    }

    #[test]
    fn a_clock_behind_runs_with_the_system_clock_and_catches_up_when_moved() {
        let (clock, driver) = Clock::behind(TimeDelta::days(365));
        let lag = Utc::now() - clock.now();
        assert!(
            (lag - TimeDelta::days(365)).num_seconds().abs() < 5,
            "{lag}"
        );
        driver.set(Utc::now() - TimeDelta::days(30));
        assert!((driver.behind() - TimeDelta::days(30)).num_seconds().abs() < 5);
        driver.advance(TimeDelta::days(30));
        assert!((Utc::now() - clock.now()).num_seconds().abs() < 5);
    }
}
