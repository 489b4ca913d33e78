//! The one source of "now" for every part that decides or shows by time: the agency services (the
//! instant a command is stamped with), the projector and the ledger API (the day overdue is judged on),
//! the deadline watcher (when a threshold passes).
//!
//! A running system reads the system clock and nothing else: the binary builds [`Clock::system`] and
//! has no flag that builds anything else. Tests build [`Clock::driven`] and move it with the
//! [`ClockDriver`] it comes with, so a year of deadlines passes in a test without waiting or faking
//! the process's time. Imported records carry their own dates as data, not through this clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use oneledger_domain::clock::legal_date;

/// Where the current time comes from. Cheap to clone; every clone reads the same source.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    /// `None` for the system clock; otherwise the driven instant in microseconds since the epoch.
    driven: Option<Arc<AtomicI64>>,
}

impl Clock {
    /// The system clock: what every running process uses.
    pub fn system() -> Self {
        Clock { driven: None }
    }

    /// A clock standing at `start` that moves only when its driver moves it (tests only).
    pub fn driven(start: DateTime<Utc>) -> (Self, ClockDriver) {
        let micros = Arc::new(AtomicI64::new(start.timestamp_micros()));
        (
            Clock {
                driven: Some(micros.clone()),
            },
            ClockDriver { micros },
        )
    }

    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.driven {
            None => Utc::now(),
            Some(micros) => DateTime::from_timestamp_micros(micros.load(Ordering::SeqCst))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// Today's legal (Beijing) date.
    pub fn today(&self) -> NaiveDate {
        legal_date(self.now())
    }

    /// True for a clock a test drives.
    pub fn is_driven(&self) -> bool {
        self.driven.is_some()
    }
}

/// Moves a driven clock; held by the test that built it.
#[derive(Debug, Clone)]
pub struct ClockDriver {
    micros: Arc<AtomicI64>,
}

impl ClockDriver {
    /// Moves the clock to `at` (backwards too: a test may replay a day).
    pub fn set(&self, at: DateTime<Utc>) {
        self.micros.store(at.timestamp_micros(), Ordering::SeqCst);
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: TimeDelta) {
        let by = by.num_microseconds().unwrap_or(i64::MAX);
        self.micros.fetch_add(by, Ordering::SeqCst);
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
}
