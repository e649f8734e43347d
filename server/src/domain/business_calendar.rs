//! The company's business days and the hour its mail goes out: weekends, Japan's national
//! holidays ([`super::holidays`]) and the company's own closures (年末年始, お盆…), in JST.
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc, Weekday};
use std::str::FromStr;

use super::holidays::{self, OutsideSupportedYears};
use super::time::jst;

/// How a closure list is written, for error messages.
const CLOSURES_EXAMPLE: &str = "e.g. `12-29..01-03,08-13..08-15,05-01`";

/// How far [`BusinessCalendar::next_business_morning`] looks before giving up.
const LOOKAHEAD_DAYS: u64 = 400;

/// A day of the year, `MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MonthDay {
    month: u32,
    day: u32,
}

impl MonthDay {
    fn of(date: NaiveDate) -> MonthDay {
        MonthDay {
            month: date.month(),
            day: date.day(),
        }
    }
}

impl FromStr for MonthDay {
    type Err = String;

    fn from_str(s: &str) -> Result<MonthDay, String> {
        let bad = || format!("`{s}` is not a day of the year `MM-DD`");
        let (m, d) = s.trim().split_once('-').ok_or_else(bad)?;
        let (month, day): (u32, u32) =
            (m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
        // A leap year knows every day there is, 02-29 included.
        NaiveDate::from_ymd_opt(2028, month, day).ok_or_else(bad)?;
        Ok(MonthDay { month, day })
    }
}

/// One closure: a single day, or the days from `first` to `last` (both included), wrapping over
/// the new year when `last` comes before `first` (`12-29..01-03`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Closure {
    first: MonthDay,
    last: MonthDay,
}

impl Closure {
    /// Whether the company is closed on `date`.
    pub fn contains(&self, date: NaiveDate) -> bool {
        let day = MonthDay::of(date);
        if self.first <= self.last {
            self.first <= day && day <= self.last
        } else {
            day >= self.first || day <= self.last
        }
    }
}

/// The company's closures, the same every year (`HIRELAY_BUSINESS_CLOSURES`). Empty: none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Closures(Vec<Closure>);

impl Closures {
    /// Whether `date` falls in one of the closures.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.0.iter().any(|c| c.contains(date))
    }
}

impl FromStr for Closures {
    type Err = String;

    /// `MM-DD` days and `MM-DD..MM-DD` ranges separated by commas; never every day of the year.
    fn from_str(s: &str) -> Result<Closures, String> {
        let mut closures = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (first, last) = item.split_once("..").unwrap_or((item, item));
            let closure = Closure {
                first: first
                    .parse()
                    .map_err(|e| format!("{e}; {CLOSURES_EXAMPLE}"))?,
                last: last
                    .parse()
                    .map_err(|e| format!("{e}; {CLOSURES_EXAMPLE}"))?,
            };
            closures.push(closure);
        }
        let closures = Closures(closures);
        let leap_year = NaiveDate::from_ymd_opt(2028, 1, 1).unwrap_or_default();
        if leap_year
            .iter_days()
            .take(366)
            .all(|d| closures.contains(d))
        {
            return Err(format!(
                "`{s}` closes every day of the year; {CLOSURES_EXAMPLE}"
            ));
        }
        Ok(closures)
    }
}

/// The hour (JST, 0–23) business mornings start (`HIRELAY_SEND_HOUR`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendHour(u32);

impl SendHour {
    /// The hour, 0–23.
    pub fn hour(self) -> u32 {
        self.0
    }
}

impl Default for SendHour {
    fn default() -> Self {
        SendHour(9)
    }
}

impl FromStr for SendHour {
    type Err = String;

    fn from_str(s: &str) -> Result<SendHour, String> {
        match s.trim().parse::<u32>() {
            Ok(hour) if hour < 24 => Ok(SendHour(hour)),
            _ => Err(format!(
                "`{s}` is not an hour of the day 0–23 (JST), e.g. `9`"
            )),
        }
    }
}

/// Why no business day could be given.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// A date on the way lies beyond the years whose holidays are known.
    #[error(transparent)]
    OutsideSupportedYears(#[from] OutsideSupportedYears),
    /// The closures leave no business day within the look-ahead.
    #[error("no business day within {LOOKAHEAD_DAYS} days after {0}")]
    NoBusinessDay(NaiveDate),
}

/// Business days (weekdays that are neither national holidays nor closures) and the hour
/// business mornings start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusinessCalendar {
    closures: Closures,
    send_hour: SendHour,
}

impl Default for BusinessCalendar {
    /// The shipped defaults (config's `business_closures` and `send_hour`): closed
    /// `12-29..01-03` (年末年始), mornings at 09:00.
    fn default() -> Self {
        BusinessCalendar::new(
            Closures(vec![Closure {
                first: MonthDay { month: 12, day: 29 },
                last: MonthDay { month: 1, day: 3 },
            }]),
            SendHour::default(),
        )
    }
}

impl BusinessCalendar {
    /// A calendar from already validated parts.
    pub fn new(closures: Closures, send_hour: SendHour) -> BusinessCalendar {
        BusinessCalendar {
            closures,
            send_hour,
        }
    }

    /// The hour business mornings start.
    pub fn send_hour(&self) -> SendHour {
        self.send_hour
    }

    /// A weekday that is neither a national holiday nor a closure.
    pub fn is_business_date(&self, date: NaiveDate) -> Result<bool, OutsideSupportedYears> {
        // The holiday look-up goes first: a date beyond the calendar is an error even when it
        // falls on a weekend or a closure, so the answer never depends on the weekday.
        let holiday = holidays::holiday(date)?;
        Ok(holiday.is_none()
            && !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
            && !self.closures.contains(date))
    }

    /// Whether the JST date of `at` is a business day.
    pub fn is_business_day(&self, at: DateTime<Utc>) -> Result<bool, OutsideSupportedYears> {
        self.is_business_date(at.with_timezone(&jst()).date_naive())
    }

    /// The first send hour (JST) on a business day strictly after `at`.
    pub fn next_business_morning(&self, at: DateTime<Utc>) -> Result<DateTime<Utc>, CalendarError> {
        let start = at.with_timezone(&jst()).date_naive();
        for date in start.iter_days().take(LOOKAHEAD_DAYS as usize) {
            if self.is_business_date(date)? {
                if let Some(morning) = self.morning_of(date).filter(|m| *m > at) {
                    return Ok(morning);
                }
            }
        }
        Err(CalendarError::NoBusinessDay(start))
    }

    fn morning_of(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let local = date.and_hms_opt(self.send_hour.hour(), 0, 0)?;
        jst()
            .from_local_datetime(&local)
            .single()
            .map(|t| t.with_timezone(&Utc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn jst_text(at: DateTime<Utc>) -> String {
        at.with_timezone(&jst())
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    }

    fn next(calendar: &BusinessCalendar, at: &str) -> String {
        jst_text(calendar.next_business_morning(t(at)).unwrap())
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn closures_wrap_over_the_new_year() {
        let closures: Closures = "12-29..01-03, 08-13..08-15 ,05-01".parse().unwrap();
        for closed in [
            "2026-12-29",
            "2026-12-31",
            "2027-01-01",
            "2027-01-03",
            "2027-08-14",
            "2027-05-01",
        ] {
            assert!(closures.contains(date(closed)), "{closed}");
        }
        for open in [
            "2026-12-28",
            "2027-01-04",
            "2027-08-12",
            "2027-08-16",
            "2027-05-02",
        ] {
            assert!(!closures.contains(date(open)), "{open}");
        }
        assert_eq!("".parse::<Closures>(), Ok(Closures::default()));
        assert_eq!(
            "12-29..01-03"
                .parse::<Closures>()
                .map(|c| BusinessCalendar::new(c, SendHour::default())),
            Ok(BusinessCalendar::default())
        );
    }

    #[test]
    fn bad_closures_are_refused_with_an_example() {
        for bad in ["13-01", "12-29..", "02-30", "12/29", "01-02..01-01", "xmas"] {
            let err = bad.parse::<Closures>().unwrap_err();
            assert!(err.contains("e.g. `12-29..01-03"), "{bad}: {err}");
        }
        assert!("02-29".parse::<Closures>().is_ok());
    }

    #[test]
    fn a_rejection_on_28_december_waits_for_the_new_year() {
        let calendar = BusinessCalendar::default();
        // Mon 2026-12-28 evening: closed 29 Dec–3 Jan, Mon 4 Jan is open.
        assert_eq!(
            next(&calendar, "2026-12-28T18:00:00+09:00"),
            "2027-01-04T09:00:00+09:00"
        );
        // Tue 2027-12-28: Mon 3 Jan is still closed, Tue 4 Jan opens.
        assert_eq!(
            next(&calendar, "2027-12-28T18:00:00+09:00"),
            "2028-01-04T09:00:00+09:00"
        );
        // Fri 2030-12-27: 4 Jan 2031 is a Saturday, so Monday the 6th.
        assert_eq!(
            next(&calendar, "2030-12-27T18:00:00+09:00"),
            "2031-01-06T09:00:00+09:00"
        );
        // Without closures only the weekend and 元日 are skipped.
        let open = BusinessCalendar::new(Closures::default(), SendHour::default());
        assert_eq!(
            next(&open, "2026-12-28T18:00:00+09:00"),
            "2026-12-29T09:00:00+09:00"
        );
        assert_eq!(
            next(&open, "2026-12-31T18:00:00+09:00"),
            "2027-01-04T09:00:00+09:00"
        );
        assert!(!calendar
            .is_business_day(t("2026-12-30T12:00:00+09:00"))
            .unwrap());
        assert!(open
            .is_business_day(t("2026-12-30T12:00:00+09:00"))
            .unwrap());
    }

    #[test]
    fn a_holiday_in_2031_is_skipped() {
        let calendar = BusinessCalendar::default();
        // Sun 23 Nov 2031 勤労感謝の日 → Mon 24 Nov 振替休日.
        assert_eq!(
            next(&calendar, "2031-11-21T18:00:00+09:00"),
            "2031-11-25T09:00:00+09:00"
        );
        // Golden Week 2031: Sat 3, Sun 4, Mon 5, and Tue 6 振替休日.
        assert_eq!(
            next(&calendar, "2031-05-02T18:00:00+09:00"),
            "2031-05-07T09:00:00+09:00"
        );
    }

    #[test]
    fn the_send_hour_moves_the_morning() {
        let ten = BusinessCalendar::new(Closures::default(), "10".parse().unwrap());
        assert_eq!(ten.send_hour().hour(), 10);
        assert_eq!(
            next(&ten, "2026-11-25T09:30:00+09:00"),
            "2026-11-25T10:00:00+09:00"
        );
        assert_eq!(
            next(&ten, "2026-11-25T10:00:00+09:00"),
            "2026-11-26T10:00:00+09:00"
        );
        let midnight = BusinessCalendar::new(Closures::default(), "0".parse().unwrap());
        // Fri evening → Sat and Sun are no business days → Mon 00:00 JST (Sun 15:00 UTC).
        let monday = midnight
            .next_business_morning(t("2026-11-27T18:00:00+09:00"))
            .unwrap();
        assert_eq!(monday, t("2026-11-29T15:00:00Z"));
        for bad in ["24", "-1", "nine", ""] {
            let err = bad.parse::<SendHour>().unwrap_err();
            assert!(err.contains("0–23"), "{bad}: {err}");
        }
    }

    #[test]
    fn beyond_the_holiday_calendar_is_an_error() {
        let err = BusinessCalendar::default()
            .next_business_morning(t("2099-12-28T18:00:00+09:00"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "2100-01-01 is outside the holiday calendar (2020–2099)"
        );
    }
}
