//! The public holidays the law itself fixes, whatever a year's notice adds: the rest days of
//! 全国年节及纪念日放假办法 art. 2 (Measures on National Holidays), used for the years a calendar file
//! does not cover.
//!
//! The yearly notice (部分节假日安排的通知) turns these into longer breaks with swapped working days;
//! without it, only the statutory days are certain, so a deadline counted on them is provisional. Lunar
//! dates come from `chinese-lunisolar-calendar` (the Purple Mountain Observatory's tables, 1901–2100);
//! Qingming is a solar term, not a lunar date, and comes from [`QINGMING_APRIL_DAY`].

use std::collections::BTreeSet;

use chinese_lunisolar_calendar::LunisolarDate;
use chrono::{Days, NaiveDate};

/// First year [`QINGMING_APRIL_DAY`] lists.
const QINGMING_FIRST_YEAR: i32 = 2008;

/// The April day of the Qingming solar term (清明, the sun at 15° longitude, Beijing time), 2008–2060: the
/// 21st-century solar-term formula (寿星通用公式, ⌊Y·0.2422 + 4.81⌋ − ⌊Y/4⌋), which gives the dates the
/// observatories publish; the years of the shipped notices are checked against the file by a test. 2008
/// is the first year Qingming was a public holiday (the 2007 revision of the Measures).
const QINGMING_APRIL_DAY: [u8; 53] = [
    4, 4, 5, 5, 4, 4, 5, 5, 4, 4, // 2008–2017
    5, 5, 4, 4, 5, 5, 4, 4, 5, 5, // 2018–2027
    4, 4, 5, 5, 4, 4, 5, 5, 4, 4, // 2028–2037
    5, 5, 4, 4, 4, 5, 4, 4, 4, 5, // 2038–2047
    4, 4, 4, 5, 4, 4, 4, 5, 4, 4, // 2048–2057
    4, 5, 4, // 2058–2060
];

/// The years the statutory days can be named for: Qingming is known for these and the lunar tables
/// reach past them.
pub const KNOWN_YEARS: std::ops::RangeInclusive<i32> = QINGMING_FIRST_YEAR..=2060;

/// Which revision of the Measures sets a year's holidays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Revision {
    /// 2007 revision, in force 2008–2013: Spring Festival is New Year's Eve and the first two days.
    Of2007,
    /// 2013 revision, in force 2014–2024: Spring Festival is the first three days; Labour Day one day.
    Of2013,
    /// 2024 revision, in force from 2025: Spring Festival from its eve, four days; Labour Day two days.
    Of2024,
}

impl Revision {
    fn in_force(year: i32) -> Self {
        match year {
            ..=2013 => Revision::Of2007,
            2014..=2024 => Revision::Of2013,
            _ => Revision::Of2024,
        }
    }
}

/// The statutory rest days of `year`, or `None` for a year outside [`KNOWN_YEARS`].
pub fn rest_days(year: i32) -> Option<BTreeSet<NaiveDate>> {
    if !KNOWN_YEARS.contains(&year) {
        return None;
    }
    let revision = Revision::in_force(year);
    let solar = |month, day| NaiveDate::from_ymd_opt(year, month, day);
    let mut days = BTreeSet::new();
    // New Year's Day; Labour Day; National Day.
    days.extend(solar(1, 1));
    days.extend(solar(5, 1));
    if revision == Revision::Of2024 {
        days.extend(solar(5, 2));
    }
    days.extend((1..=3).filter_map(|d| solar(10, d)));
    // Qingming.
    let index = usize::try_from(year - QINGMING_FIRST_YEAR).ok()?;
    days.extend(solar(4, u32::from(*QINGMING_APRIL_DAY.get(index)?)));
    // Spring Festival: the first day of the lunar year that begins in `year`, and its eve.
    let new_year = lunar(year, 1, 1)?;
    let eve = new_year.checked_sub_days(Days::new(1))?;
    let spring: Vec<NaiveDate> = match revision {
        Revision::Of2007 => vec![eve, new_year, after(new_year, 1)?],
        Revision::Of2013 => vec![new_year, after(new_year, 1)?, after(new_year, 2)?],
        Revision::Of2024 => vec![eve, new_year, after(new_year, 1)?, after(new_year, 2)?],
    };
    days.extend(spring);
    // Dragon Boat (fifth day of the fifth month) and Mid-Autumn (fifteenth of the eighth).
    days.extend(lunar(year, 5, 5));
    days.extend(lunar(year, 8, 15));
    Some(days)
}

fn after(day: NaiveDate, n: u64) -> Option<NaiveDate> {
    day.checked_add_days(Days::new(n))
}

/// The Gregorian date of `month`/`day` (not a leap month) of the lunar year that begins in `year`.
fn lunar(year: i32, month: u8, day: u8) -> Option<NaiveDate> {
    let year = u16::try_from(year).ok()?;
    LunisolarDate::from_ymd(year, month, false, day)
        .ok()
        .map(LunisolarDate::to_naive_date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn given_2027_then_the_thirteen_statutory_days_are_named() {
        let days = rest_days(2027).unwrap();
        let expected = [
            "2027-01-01", // New Year's Day
            "2027-02-05", // Spring Festival eve (New Year is 2027-02-06)
            "2027-02-06",
            "2027-02-07",
            "2027-02-08",
            "2027-04-05", // Qingming
            "2027-05-01",
            "2027-05-02",
            "2027-06-09", // Dragon Boat
            "2027-09-15", // Mid-Autumn
            "2027-10-01",
            "2027-10-02",
            "2027-10-03",
        ];
        assert_eq!(days, expected.iter().map(|s| d(s)).collect());
    }

    #[test]
    fn given_the_years_the_shipped_notices_cover_then_every_statutory_day_is_a_holiday_in_them() {
        // The 2025 and 2026 notices build on the statutory days: each is a holiday in the shipped file.
        let file = crate::clock::HolidayCalendar::china().unwrap();
        for year in [2025, 2026] {
            for day in rest_days(year).unwrap() {
                assert!(!file.is_working_day(day), "{day} is a statutory rest day");
            }
        }
    }

    #[test]
    fn given_an_older_year_then_the_revision_then_in_force_applies() {
        let days = rest_days(2024).unwrap();
        // 2024: Spring Festival 2024-02-10..12 without the eve, one Labour Day.
        assert!(days.contains(&d("2024-02-10")) && !days.contains(&d("2024-02-09")));
        assert!(days.contains(&d("2024-05-01")) && !days.contains(&d("2024-05-02")));
        assert_eq!(days.len(), 11);
        // 2010: the eve, the first and second days.
        let days = rest_days(2010).unwrap();
        assert!(days.contains(&d("2010-02-13")) && !days.contains(&d("2010-02-16")));
    }

    #[test]
    fn years_without_a_qingming_entry_are_unknown() {
        assert!(rest_days(2007).is_none());
        assert!(rest_days(2061).is_none());
    }
}
