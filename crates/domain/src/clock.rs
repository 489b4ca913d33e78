//! Legal clocks: how the Regulations' periods are counted, and the deadlines they produce.
//!
//! Counting (Civil Code arts. 201, 203; DESIGN §6): days are calendar days unless a rule says working days;
//! the day of the triggering event is not counted; a period whose last day is a rest day (a weekend that is
//! not a swapped working day, or a public holiday) ends on the next working day. Working-day periods count
//! only working days. The holiday calendar is data ([`HolidayCalendar::parse`]); one for 2025–2026 ships.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, Offset, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::rule::Rule;

/// Legal days are counted in China Standard Time (UTC+8, no daylight saving).
pub const CHINA_STANDARD_TIME_SECS: i32 = 8 * 3600;

/// The legal date of an instant: its calendar date in China Standard Time.
pub fn legal_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(CHINA_STANDARD_TIME_SECS).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset).date_naive()
}

/// The shipped calendar's text: mainland China, 2025 and 2026.
pub const CHINA_2025_2026: &str = include_str!("../data/holidays-cn.txt");

/// Which days count and which are rest days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HolidayCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// A line of a calendar file that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("calendar line {line}: {reason}")]
pub struct CalendarError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl HolidayCalendar {
    /// Reads a calendar: one date a line, `YYYY-MM-DD holiday|workday [name]`; `#` starts a comment.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut calendar = HolidayCalendar::default();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let err = |reason: String| CalendarError {
                line: i + 1,
                reason,
            };
            let mut parts = line.split_whitespace();
            let date = parts.next().unwrap_or_default();
            let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| err(format!("{date:?} is not a YYYY-MM-DD date")))?;
            match parts.next() {
                Some("holiday") => calendar.holidays.insert(date),
                Some("workday") => calendar.workdays.insert(date),
                other => return Err(err(format!("expected holiday or workday, found {other:?}"))),
            };
            if calendar.holidays.contains(&date) && calendar.workdays.contains(&date) {
                return Err(err(format!("{date} is both a holiday and a working day")));
            }
        }
        Ok(calendar)
    }

    /// The shipped calendar for mainland China, 2025–2026.
    pub fn china() -> Self {
        // The shipped file is checked by a test; an empty calendar is the safe fallback.
        Self::parse(CHINA_2025_2026).unwrap_or_default()
    }

    /// True on a day people work: a weekday that is not a holiday, or a weekend day swapped to work.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) {
            return false;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The first working day on or after `day`.
    pub fn next_working_day(&self, mut day: NaiveDate) -> NaiveDate {
        while !self.is_working_day(day) {
            day = day + Days::new(1);
        }
        day
    }

    /// The last day of `period` counted from the day after `start`.
    pub fn due(&self, start: NaiveDate, period: Period) -> NaiveDate {
        match period.count {
            DayCount::Calendar => self.next_working_day(start + Days::new(u64::from(period.days))),
            DayCount::Working => {
                let mut day = start;
                let mut counted = 0;
                while counted < period.days {
                    day = day + Days::new(1);
                    if self.is_working_day(day) {
                        counted += 1;
                    }
                }
                day
            }
        }
    }
}

/// How a period's days are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// Every day counts; the period's last day rolls forward past rest days.
    Calendar,
    /// Only working days count.
    Working,
}

/// A length of time a rule allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    /// Number of days.
    pub days: u32,
    /// How they are counted.
    pub count: DayCount,
}

impl Period {
    /// `days` calendar days.
    pub const fn calendar(days: u32) -> Self {
        Period {
            days,
            count: DayCount::Calendar,
        }
    }

    /// `days` working days.
    pub const fn working(days: u32) -> Self {
        Period {
            days,
            count: DayCount::Working,
        }
    }
}

/// Which legal limit a deadline enforces; each names its article.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Register, then forward (转送) or assign (交办): 15 days from receipt (art. 22).
    ForwardOrAssign,
    /// Written notice of receipt and route to the petitioner: 15 days from receipt (art. 23).
    ReceiptNotice,
    /// Objection to a misrouted matter: 5 working days from receipt (art. 23 ¶3).
    RoutingObjection,
    /// Handle a claim on the petition route: 60 days from acceptance, +≤30 with approval (art. 34).
    Handling,
    /// The petitioner may ask for review (复查): 30 days from delivery of the written reply (art. 35).
    ReviewRequest,
    /// Review opinion: 30 days from the review request (art. 35).
    ReviewOpinion,
    /// The petitioner may ask for re-review (复核): 30 days from delivery of the review reply (art. 36).
    ReReviewRequest,
    /// Re-review opinion: 30 days from the request, hearing time not counted (art. 36 ¶2).
    ReReviewOpinion,
    /// A dispute's resolution by its assigned units, by the due date the assignment set.
    Resolution,
    /// Feedback on a supervision order, by the due date the order set (arts. 39–40).
    SupervisionFeedback,
}

impl DeadlineKind {
    /// The rule the deadline enforces.
    pub fn rule(self) -> Rule {
        match self {
            DeadlineKind::ForwardOrAssign => Rule::Art22,
            DeadlineKind::ReceiptNotice => Rule::Art23,
            DeadlineKind::RoutingObjection => Rule::Art23P3,
            DeadlineKind::Handling => Rule::Art34,
            DeadlineKind::ReviewRequest | DeadlineKind::ReviewOpinion => Rule::Art35,
            DeadlineKind::ReReviewRequest => Rule::Art36,
            DeadlineKind::ReReviewOpinion => Rule::Art36P2,
            DeadlineKind::Resolution => Rule::Assignment,
            DeadlineKind::SupervisionFeedback => Rule::Arts39To40,
        }
    }

    /// The kind's stable name, as events and the APIs spell it: `review_request`.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::ForwardOrAssign => "forward_or_assign",
            DeadlineKind::ReceiptNotice => "receipt_notice",
            DeadlineKind::RoutingObjection => "routing_objection",
            DeadlineKind::Handling => "handling",
            DeadlineKind::ReviewRequest => "review_request",
            DeadlineKind::ReviewOpinion => "review_opinion",
            DeadlineKind::ReReviewRequest => "re_review_request",
            DeadlineKind::ReReviewOpinion => "re_review_opinion",
            DeadlineKind::Resolution => "resolution",
            DeadlineKind::SupervisionFeedback => "supervision_feedback",
        }
    }

    /// The statutory period, where the Regulations fix one.
    pub fn statutory_period(self) -> Option<Period> {
        Some(match self {
            DeadlineKind::ForwardOrAssign | DeadlineKind::ReceiptNotice => Period::calendar(15),
            DeadlineKind::RoutingObjection => Period::working(5),
            DeadlineKind::Handling => Period::calendar(60),
            DeadlineKind::ReviewRequest
            | DeadlineKind::ReviewOpinion
            | DeadlineKind::ReReviewRequest
            | DeadlineKind::ReReviewOpinion => Period::calendar(30),
            DeadlineKind::Resolution | DeadlineKind::SupervisionFeedback => return None,
        })
    }
}

impl fmt::Display for DeadlineKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            DeadlineKind::ForwardOrAssign => "forward or assign",
            DeadlineKind::ReceiptNotice => "receipt notice",
            DeadlineKind::RoutingObjection => "routing objection",
            DeadlineKind::Handling => "handling",
            DeadlineKind::ReviewRequest => "review request",
            DeadlineKind::ReviewOpinion => "review opinion",
            DeadlineKind::ReReviewRequest => "re-review request",
            DeadlineKind::ReReviewOpinion => "re-review opinion",
            DeadlineKind::Resolution => "resolution",
            DeadlineKind::SupervisionFeedback => "supervision feedback",
        };
        f.write_str(name)
    }
}

/// A running legal clock: when it started, its period, and what stretched or stopped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    /// The limit it enforces.
    pub kind: DeadlineKind,
    /// The day of the triggering event (not counted).
    pub started_on: NaiveDate,
    /// The period allowed.
    pub period: Period,
    /// Days added by an approved extension.
    pub extended_by: u32,
    /// Calendar days the clock stood still (hearings), already ended.
    pub paused_days: u32,
    /// The day a pause began, while the clock stands still.
    pub paused_since: Option<NaiveDate>,
    /// The day the duty was met, if it was.
    pub met_on: Option<NaiveDate>,
}

impl Deadline {
    /// A clock of `period` started by an event on `started_on`.
    pub fn start(kind: DeadlineKind, started_on: NaiveDate, period: Period) -> Self {
        Deadline {
            kind,
            started_on,
            period,
            extended_by: 0,
            paused_days: 0,
            paused_since: None,
            met_on: None,
        }
    }

    /// A clock with the statutory period of `kind`; `None` for kinds whose due date a unit sets.
    pub fn statutory(kind: DeadlineKind, started_on: NaiveDate) -> Option<Self> {
        kind.statutory_period()
            .map(|p| Deadline::start(kind, started_on, p))
    }

    /// The last day, on `calendar`. Extensions and ended pauses add calendar days to the period; a clock
    /// paused now is due no earlier than the end of its pause plus what it had left.
    pub fn due(&self, calendar: &HolidayCalendar) -> NaiveDate {
        let period = Period {
            days: self.period.days + self.extended_by + self.paused_days,
            count: self.period.count,
        };
        calendar.due(self.started_on, period)
    }

    /// The due date as it stands on `today`, counting a running pause up to `today`.
    pub fn due_on(&self, calendar: &HolidayCalendar, today: NaiveDate) -> NaiveDate {
        match self.paused_since {
            Some(since) => {
                let mut paused = self.clone();
                paused.paused_days += days_between(since, today);
                paused.paused_since = None;
                paused.due(calendar)
            }
            None => self.due(calendar),
        }
    }

    /// True once `today` is past the due date and the duty is not met.
    pub fn is_overdue(&self, calendar: &HolidayCalendar, today: NaiveDate) -> bool {
        self.met_on.is_none() && today > self.due_on(calendar, today)
    }

    /// Stops the clock from `day` (a hearing opened).
    pub fn pause(&mut self, day: NaiveDate) {
        if self.paused_since.is_none() {
            self.paused_since = Some(day);
        }
    }

    /// Restarts the clock on `day`, adding the days it stood still.
    pub fn resume(&mut self, day: NaiveDate) {
        if let Some(since) = self.paused_since.take() {
            self.paused_days += days_between(since, day);
        }
    }
}

/// Whole days from `from` to `to` (0 when `to` is not later).
pub fn days_between(from: NaiveDate, to: NaiveDate) -> u32 {
    u32::try_from((to - from).num_days()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_shipped_calendar_reads() {
        let calendar = HolidayCalendar::parse(CHINA_2025_2026).unwrap();
        assert!(!calendar.is_working_day(d("2026-10-01")), "National Day");
        assert!(
            calendar.is_working_day(d("2026-10-10")),
            "a Saturday swapped to work"
        );
        assert!(
            calendar.is_working_day(d("2026-11-26")),
            "an ordinary Thursday"
        );
        assert!(
            !calendar.is_working_day(d("2026-11-28")),
            "an ordinary Saturday"
        );
    }

    #[test]
    fn malformed_calendar_lines_are_named() {
        let err = HolidayCalendar::parse("2026-01-01 holiday\n2026-13-01 holiday\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(HolidayCalendar::parse("2026-01-01 feast").is_err());
        assert!(HolidayCalendar::parse("2026-01-01 holiday\n2026-01-01 workday").is_err());
    }

    #[test]
    fn given_receipt_on_a_monday_when_15_days_end_on_a_weekday_then_that_day_is_due() {
        let calendar = HolidayCalendar::china();
        // Received Mon 2026-11-02; the day of receipt is not counted: day 15 is Tue 2026-11-17.
        assert_eq!(
            calendar.due(d("2026-11-02"), Period::calendar(15)),
            d("2026-11-17")
        );
    }

    #[test]
    fn given_a_period_ending_in_the_national_day_holiday_then_it_rolls_to_the_next_working_day() {
        let calendar = HolidayCalendar::china();
        // 2026-09-16 + 15 days = 2026-10-01 (holiday through 10-07): due 2026-10-08.
        assert_eq!(
            calendar.due(d("2026-09-16"), Period::calendar(15)),
            d("2026-10-08")
        );
    }

    #[test]
    fn given_a_period_ending_on_a_swapped_working_saturday_then_that_saturday_is_due() {
        let calendar = HolidayCalendar::china();
        // 2026-09-25 + 15 = Sat 2026-10-10, a working day by swap.
        assert_eq!(
            calendar.due(d("2026-09-25"), Period::calendar(15)),
            d("2026-10-10")
        );
    }

    #[test]
    fn given_working_days_then_weekends_and_holidays_are_skipped_and_swapped_days_count() {
        let calendar = HolidayCalendar::china();
        // From Tue 2026-09-29: 30 Wed(1), 10-01..07 holiday, 08 Thu(2), 09 Fri(3), 10 Sat swap(4), 12 Mon(5).
        assert_eq!(
            calendar.due(d("2026-09-29"), Period::working(5)),
            d("2026-10-12")
        );
        // An ordinary week: from Mon 2026-11-23, five working days end Mon 2026-11-30.
        assert_eq!(
            calendar.due(d("2026-11-23"), Period::working(5)),
            d("2026-11-30")
        );
    }

    #[test]
    fn given_a_paused_clock_then_the_pause_moves_the_due_date() {
        let calendar = HolidayCalendar::china();
        let mut deadline =
            Deadline::statutory(DeadlineKind::ReReviewOpinion, d("2026-11-02")).unwrap();
        assert_eq!(deadline.due(&calendar), d("2026-12-02"));
        deadline.pause(d("2026-11-10"));
        assert_eq!(
            deadline.due_on(&calendar, d("2026-11-20")),
            d("2026-12-14"),
            "10 paused days so far"
        );
        deadline.resume(d("2026-11-17"));
        assert_eq!(deadline.due(&calendar), d("2026-12-09"));
        assert!(!deadline.is_overdue(&calendar, d("2026-12-09")));
        assert!(deadline.is_overdue(&calendar, d("2026-12-10")));
    }

    #[test]
    fn given_an_extension_then_it_adds_to_the_period() {
        let calendar = HolidayCalendar::china();
        let mut handling = Deadline::statutory(DeadlineKind::Handling, d("2026-03-02")).unwrap();
        assert_eq!(
            handling.due(&calendar),
            d("2026-05-06"),
            "May 1 lands in the Labour Day holiday"
        );
        handling.extended_by = 30;
        assert_eq!(
            handling.due(&calendar),
            d("2026-06-01"),
            "day 90 is Sunday 2026-05-31"
        );
    }

    #[test]
    fn legal_dates_are_beijing_dates() {
        let late_evening_utc = DateTime::parse_from_rfc3339("2026-11-26T17:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(legal_date(late_evening_utc), d("2026-11-27"));
    }

    #[test]
    fn the_legal_day_turns_at_16_00_utc() {
        // given instants either side of Beijing midnight, and the 23:30 UTC of issue #10
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        // then the legal date is the UTC date until 15:59:59 and the next day from 16:00
        assert_eq!(legal_date(at("2026-12-01T15:59:59Z")), d("2026-12-01"));
        assert_eq!(legal_date(at("2026-12-01T16:00:00Z")), d("2026-12-02"));
        assert_eq!(legal_date(at("2026-12-01T23:30:00Z")), d("2026-12-02"));
        assert_eq!(legal_date(at("2026-12-31T20:00:00Z")), d("2027-01-01"));
    }
}
