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

pub mod statutory;

/// A calendar file's header as it is read: the coverage and the source, each declared once.
#[derive(Debug, Default)]
struct Header {
    covers: Option<(i32, i32)>,
    source: Option<String>,
}

impl Header {
    fn covers(&mut self, value: &str) -> Result<(), String> {
        if self.covers.is_some() {
            return Err("a second covers line".into());
        }
        let (first, last) = value.split_once('-').unwrap_or((value, value));
        let year = |s: &str| {
            s.trim()
                .parse::<i32>()
                .ok()
                .filter(|y| (1949..=2100).contains(y))
        };
        match (year(first), year(last)) {
            (Some(first), Some(last)) if first <= last => {
                self.covers = Some((first, last));
                Ok(())
            }
            _ => Err(format!("covers expects YYYY or YYYY-YYYY, found {value:?}")),
        }
    }

    fn source(&mut self, value: &str) -> Result<(), String> {
        if value.is_empty() {
            return Err("source names the notices the file transcribes; it is empty".into());
        }
        if self.source.replace(value.to_owned()).is_some() {
            return Err("a second source line".into());
        }
        Ok(())
    }

    fn coverage(&self) -> Result<Coverage, String> {
        match (&self.covers, &self.source) {
            (Some((first_year, last_year)), Some(source)) => Ok(Coverage {
                first_year: *first_year,
                last_year: *last_year,
                source: source.clone(),
            }),
            (None, _) => Err(
                "the file must declare the years it covers (covers YYYY-YYYY) before \
                              its first date"
                    .into(),
            ),
            (_, None) => Err(
                "the file must name its source (source <the notices>) before its \
                              first date"
                    .into(),
            ),
        }
    }
}

/// Legal days are counted in China Standard Time (UTC+8, no daylight saving).
pub const CHINA_STANDARD_TIME_SECS: i32 = 8 * 3600;

/// The legal date of an instant: its calendar date in China Standard Time.
pub fn legal_date(at: DateTime<Utc>) -> NaiveDate {
    let offset = FixedOffset::east_opt(CHINA_STANDARD_TIME_SECS).unwrap_or_else(|| Utc.fix());
    at.with_timezone(&offset).date_naive()
}

/// The shipped calendar's text: mainland China, 2025 and 2026.
pub const CHINA_2025_2026: &str = include_str!("../data/holidays-cn.txt");

/// Days before a calendar's coverage ends from which every process warns that the next year's notice
/// is due (the State Council publishes it in November or December).
pub const COVERAGE_WARNING_DAYS: i64 = 90;

/// The years a calendar file's notices cover, and where they come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// First year covered.
    pub first_year: i32,
    /// Last year covered.
    pub last_year: i32,
    /// The notices the file transcribes, as its `source` line names them.
    pub source: String,
}

impl Coverage {
    /// True when `day` lies in a covered year.
    pub fn contains(&self, day: NaiveDate) -> bool {
        (self.first_year..=self.last_year).contains(&day.year())
    }

    /// The last day covered: 31 December of the last year.
    pub fn ends_on(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.last_year, 12, 31).unwrap_or(NaiveDate::MAX)
    }

    /// Days from `today` to the end of coverage (negative once it has ended).
    pub fn days_left(&self, today: NaiveDate) -> i64 {
        (self.ends_on() - today).num_days()
    }

    /// A warning to show from [`COVERAGE_WARNING_DAYS`] before the end, `None` before then.
    pub fn warning(&self, today: NaiveDate) -> Option<String> {
        let left = self.days_left(today);
        let next = self.last_year + 1;
        if left < 0 {
            Some(format!(
                "the holiday calendar ended on {}: deadlines from then on are provisional (statutory \
                 holidays only) until the {next} notice is loaded with --calendar",
                self.ends_on()
            ))
        } else if left <= COVERAGE_WARNING_DAYS {
            Some(format!(
                "the holiday calendar ends on {} ({left} days): load the {next} notice with --calendar; \
                 deadlines past it are provisional",
                self.ends_on()
            ))
        } else {
            None
        }
    }
}

/// Which days count and which are rest days: the yearly notices for the years a file covers, the
/// statutory holidays ([`statutory`]) for the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayCalendar {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
    coverage: Coverage,
    /// Statutory rest days of the years the file does not cover, read once (each year needs the lunar
    /// tables; deadlines are counted a day at a time).
    statutory: BTreeSet<NaiveDate>,
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
    /// Reads a calendar: a `covers YYYY-YYYY` line and a `source` line before any date, then one date a
    /// line, `YYYY-MM-DD holiday|workday [name]`, each in a covered year; `#` starts a comment. A file
    /// without a coverage, a date outside it or a covered year with no date is refused, never read as
    /// an empty calendar.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let mut header = Header::default();
        let mut holidays = BTreeSet::new();
        let mut workdays = BTreeSet::new();
        let mut last = 0;
        for (i, raw) in text.lines().enumerate() {
            last = i + 1;
            let line = raw.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let err = |reason: String| CalendarError {
                line: i + 1,
                reason,
            };
            let (first, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let rest = rest.trim();
            match first {
                "covers" => header.covers(rest).map_err(err)?,
                "source" => header.source(rest).map_err(err)?,
                date => {
                    let coverage = header.coverage().map_err(err)?;
                    let date = NaiveDate::parse_from_str(date, "%Y-%m-%d")
                        .map_err(|_| err(format!("{date:?} is not a YYYY-MM-DD date")))?;
                    if !coverage.contains(date) {
                        return Err(err(format!(
                            "{date} lies outside the years the file covers ({}-{})",
                            coverage.first_year, coverage.last_year
                        )));
                    }
                    match rest.split_whitespace().next() {
                        Some("holiday") => holidays.insert(date),
                        Some("workday") => workdays.insert(date),
                        other => {
                            return Err(err(format!(
                                "expected holiday or workday, found {other:?}"
                            )));
                        }
                    };
                    if holidays.contains(&date) && workdays.contains(&date) {
                        return Err(err(format!("{date} is both a holiday and a working day")));
                    }
                }
            }
        }
        let end = |reason: String| CalendarError {
            line: last.max(1),
            reason,
        };
        let coverage = header.coverage().map_err(end)?;
        if let Some(year) = (coverage.first_year..=coverage.last_year)
            .find(|y| !holidays.iter().any(|d| d.year() == *y))
        {
            return Err(end(format!(
                "the file covers {year} but lists no holiday of it"
            )));
        }
        Ok(HolidayCalendar::covering(holidays, workdays, coverage))
    }

    fn covering(
        holidays: BTreeSet<NaiveDate>,
        workdays: BTreeSet<NaiveDate>,
        coverage: Coverage,
    ) -> Self {
        let statutory = statutory::KNOWN_YEARS
            .filter(|y| !(coverage.first_year..=coverage.last_year).contains(y))
            .filter_map(statutory::rest_days)
            .flatten()
            .collect();
        HolidayCalendar {
            holidays,
            workdays,
            coverage,
            statutory,
        }
    }

    /// The shipped calendar for mainland China, 2025–2026. An error only if the shipped file is broken,
    /// which a test rules out.
    pub fn china() -> Result<Self, CalendarError> {
        Self::parse(CHINA_2025_2026)
    }

    /// The years whose notices the calendar holds.
    pub fn coverage(&self) -> &Coverage {
        &self.coverage
    }

    /// True when `day` is counted on a yearly notice, not on the statutory holidays alone.
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.coverage.contains(day)
    }

    /// True on a day people work: a weekday that is not a holiday, or a weekend day swapped to work.
    /// Outside the coverage only the statutory holidays and weekends rest: no swapped day is known.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.workdays.contains(&day) {
            return true;
        }
        if self.holidays.contains(&day) || self.statutory.contains(&day) {
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

impl HolidayCalendar {
    /// True when [`HolidayCalendar::due`] consulted a day outside the coverage: the last day of a
    /// calendar-day period (and the days it rolled past), every day of a working-day period.
    pub fn is_provisional(&self, start: NaiveDate, period: Period) -> bool {
        let due = self.due(start, period);
        let first = match period.count {
            DayCount::Calendar => start + Days::new(u64::from(period.days)),
            DayCount::Working => start + Days::new(1),
        };
        !self.covers(first) || !self.covers(due)
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

    /// The kind a stable name names.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }

    /// Every kind.
    pub const ALL: [DeadlineKind; 10] = [
        DeadlineKind::ForwardOrAssign,
        DeadlineKind::ReceiptNotice,
        DeadlineKind::RoutingObjection,
        DeadlineKind::Handling,
        DeadlineKind::ReviewRequest,
        DeadlineKind::ReviewOpinion,
        DeadlineKind::ReReviewRequest,
        DeadlineKind::ReReviewOpinion,
        DeadlineKind::Resolution,
        DeadlineKind::SupervisionFeedback,
    ];

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
        calendar.due(self.started_on, self.counted_period())
    }

    /// The period as counted: the allowed days plus extensions and ended pauses.
    fn counted_period(&self) -> Period {
        Period {
            days: self.period.days + self.extended_by + self.paused_days,
            count: self.period.count,
        }
    }

    /// The clock as it stands on `today`: a running pause counted up to `today`.
    fn as_on(&self, today: NaiveDate) -> Self {
        let mut clock = self.clone();
        if let Some(since) = clock.paused_since.take() {
            clock.paused_days += days_between(since, today);
        }
        clock
    }

    /// The due date as it stands on `today`, counting a running pause up to `today`.
    pub fn due_on(&self, calendar: &HolidayCalendar, today: NaiveDate) -> NaiveDate {
        self.as_on(today).due(calendar)
    }

    /// True when the due date as it stands on `today` is counted on a year the calendar does not
    /// cover: it holds the statutory holidays only and moves when that year's notice is loaded.
    pub fn is_provisional(&self, calendar: &HolidayCalendar, today: NaiveDate) -> bool {
        calendar.is_provisional(self.started_on, self.as_on(today).counted_period())
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
        let calendar = HolidayCalendar::china().unwrap();
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

    const HEADER: &str = "covers 2026\nsource a notice\n";

    fn parse_err(body: &str) -> CalendarError {
        HolidayCalendar::parse(body).unwrap_err()
    }

    #[test]
    fn malformed_calendar_lines_are_named() {
        let err = parse_err(&format!("{HEADER}2026-01-01 holiday\n2026-13-01 holiday\n"));
        assert_eq!(err.line, 4);
        assert_eq!(parse_err(&format!("{HEADER}2026-01-01 feast")).line, 3);
        assert_eq!(
            parse_err(&format!("{HEADER}2026-01-01 holiday\n2026-01-01 workday")).line,
            4
        );
    }

    #[test]
    fn a_calendar_never_reads_as_empty_or_beyond_its_coverage() {
        // given files that would have read as an empty calendar or one that claims too much
        let cases = [
            ("", 1, "covers"),
            ("# only a comment\n", 1, "covers"),
            ("2026-01-01 holiday\n", 1, "covers"),
            ("covers 2026\n2026-01-01 holiday\n", 2, "source"),
            ("covers 2026\nsource\n", 2, "source"),
            ("covers 26\n", 1, "YYYY"),
            ("covers 2027-2026\n", 1, "YYYY"),
            ("covers 2026\ncovers 2027\n", 2, "second"),
            ("covers 2026\nsource n\n2027-01-01 holiday\n", 3, "outside"),
            (
                "covers 2025-2026\nsource n\n2026-01-01 holiday\n",
                3,
                "2025",
            ),
        ];
        for (text, line, names) in cases {
            // when it is read, then the refusal names the line and what is wrong
            let err = parse_err(text);
            assert_eq!(err.line, line, "{text:?}: {err}");
            assert!(err.to_string().contains(names), "{text:?}: {err}");
        }
    }

    #[test]
    fn the_shipped_calendar_declares_its_coverage_and_source() {
        let calendar = HolidayCalendar::china().unwrap();
        let coverage = calendar.coverage();
        assert_eq!((coverage.first_year, coverage.last_year), (2025, 2026));
        assert!(
            coverage.source.contains("国务院办公厅"),
            "{}",
            coverage.source
        );
        assert_eq!(coverage.ends_on(), d("2026-12-31"));
        assert_eq!(coverage.warning(d("2026-10-01")), None);
        let warning = coverage.warning(d("2026-10-02")).unwrap();
        assert!(
            warning.contains("2026-12-31") && warning.contains("2027"),
            "{warning}"
        );
        assert!(coverage.warning(d("2027-01-01")).unwrap().contains("ended"));
    }

    #[test]
    fn given_a_period_past_the_coverage_then_it_rolls_past_statutory_days_and_is_provisional() {
        // given the shipped calendar (2025–2026) and a clock started 2026-12-17
        let calendar = HolidayCalendar::china().unwrap();
        let clock = Deadline::statutory(DeadlineKind::ForwardOrAssign, d("2026-12-17")).unwrap();
        // then day 15, 2027-01-01, is New Year's Day whatever the notice: due Monday 2027-01-04
        assert_eq!(clock.due(&calendar), d("2027-01-04"));
        assert!(clock.is_provisional(&calendar, d("2026-12-17")));
        // and 60 days from 2026-12-08 end on 2027-02-06, lunar New Year: past the eve to the 9th
        let handling = Deadline::statutory(DeadlineKind::Handling, d("2026-12-08")).unwrap();
        assert_eq!(handling.due(&calendar), d("2027-02-09"));
        assert!(handling.is_provisional(&calendar, d("2026-12-08")));
        // and a clock wholly inside the coverage is not provisional
        let early = Deadline::statutory(DeadlineKind::ForwardOrAssign, d("2026-11-02")).unwrap();
        assert!(!early.is_provisional(&calendar, d("2026-11-02")));
    }

    #[test]
    fn given_the_2027_notice_loaded_then_provisional_deadlines_are_counted_on_it() {
        // given a calendar that also covers 2027, with a New Year break to 2027-01-04 and Spring Festival
        // 2027-02-05..10 (a made-up notice: what matters is that it is read)
        let text = format!(
            "covers 2025-2027\nsource with 2027\n{}2027-01-01 holiday\n2027-01-02 holiday\n\
             2027-01-03 holiday\n2027-01-04 holiday\n{}",
            CHINA_2025_2026
                .lines()
                .filter(|l| !l.starts_with("covers") && !l.starts_with("source"))
                .map(|l| format!("{l}\n"))
                .collect::<String>(),
            (5..=10)
                .map(|day| format!("2027-02-{day:02} holiday\n"))
                .collect::<String>()
        );
        let calendar = HolidayCalendar::parse(&text).unwrap();
        let clock = Deadline::statutory(DeadlineKind::ForwardOrAssign, d("2026-12-17")).unwrap();
        // then the same clocks are due on the notice's days and are no longer provisional
        assert_eq!(clock.due(&calendar), d("2027-01-05"));
        assert!(!clock.is_provisional(&calendar, d("2026-12-17")));
        let handling = Deadline::statutory(DeadlineKind::Handling, d("2026-12-08")).unwrap();
        assert_eq!(handling.due(&calendar), d("2027-02-11"));
        assert!(!handling.is_provisional(&calendar, d("2026-12-08")));
    }

    #[test]
    fn given_receipt_on_a_monday_when_15_days_end_on_a_weekday_then_that_day_is_due() {
        let calendar = HolidayCalendar::china().unwrap();
        // Received Mon 2026-11-02; the day of receipt is not counted: day 15 is Tue 2026-11-17.
        assert_eq!(
            calendar.due(d("2026-11-02"), Period::calendar(15)),
            d("2026-11-17")
        );
    }

    #[test]
    fn given_a_period_ending_in_the_national_day_holiday_then_it_rolls_to_the_next_working_day() {
        let calendar = HolidayCalendar::china().unwrap();
        // 2026-09-16 + 15 days = 2026-10-01 (holiday through 10-07): due 2026-10-08.
        assert_eq!(
            calendar.due(d("2026-09-16"), Period::calendar(15)),
            d("2026-10-08")
        );
    }

    #[test]
    fn given_a_period_ending_on_a_swapped_working_saturday_then_that_saturday_is_due() {
        let calendar = HolidayCalendar::china().unwrap();
        // 2026-09-25 + 15 = Sat 2026-10-10, a working day by swap.
        assert_eq!(
            calendar.due(d("2026-09-25"), Period::calendar(15)),
            d("2026-10-10")
        );
    }

    #[test]
    fn given_working_days_then_weekends_and_holidays_are_skipped_and_swapped_days_count() {
        let calendar = HolidayCalendar::china().unwrap();
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
        let calendar = HolidayCalendar::china().unwrap();
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
        let calendar = HolidayCalendar::china().unwrap();
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
