//! A calendar month in Japan (`2026-11`): what a monthly report covers.
use chrono::{Datelike, NaiveDate, TimeZone};

use super::period::Period;
use super::time::jst;

/// A calendar month in JST, written `2026-11`: the month a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReportMonth {
    first: NaiveDate,
}

/// A `--month` that is not a month.
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not a month: expected YYYY-MM, e.g. 2026-11")]
pub struct BadMonth(String);

impl ReportMonth {
    /// `2026-11` → November 2026.
    pub fn parse(s: &str) -> Result<ReportMonth, BadMonth> {
        let bad = || BadMonth(s.to_owned());
        let (year, month) = s.trim().split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let month: u32 = month.parse().map_err(|_| bad())?;
        let first = NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        Ok(ReportMonth { first })
    }

    /// The month before the one `now` (unix ms) falls in, in JST.
    pub fn before(now: i64) -> ReportMonth {
        let today = jst()
            .timestamp_millis_opt(now)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default();
        let this_month = today.with_day(1).unwrap_or(today);
        let first = this_month
            .checked_sub_months(chrono::Months::new(1))
            .unwrap_or(this_month);
        ReportMonth { first }
    }

    /// Its first day.
    pub fn first_day(&self) -> NaiveDate {
        self.first
    }

    fn next(&self) -> NaiveDate {
        self.first
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(self.first)
    }

    /// Its last day.
    pub fn last_day(&self) -> NaiveDate {
        self.next().pred_opt().unwrap_or(self.first)
    }

    /// From 00:00 JST on its first day to 00:00 JST on the next month's.
    pub fn period(&self) -> Period {
        let start = |day: NaiveDate| {
            jst()
                .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
                .single()
                .map(|t| t.timestamp_millis())
                .unwrap_or_default()
        };
        Period {
            from: start(self.first),
            to: start(self.next()),
        }
    }

    /// `2026-11`.
    pub fn code(&self) -> String {
        self.first.format("%Y-%m").to_string()
    }
}

impl std::str::FromStr for ReportMonth {
    type Err = BadMonth;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ReportMonth::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> i64 {
        crate::domain::time::parse_rfc3339(s).unwrap()
    }

    /// C8: `--month` is YYYY-MM; anything else names the expected form.
    #[test]
    fn c8_a_report_month_is_yyyy_mm_in_jst() {
        let m = ReportMonth::parse("2026-11").unwrap();
        assert_eq!(
            (m.code(), m.last_day().to_string()),
            ("2026-11".into(), "2026-11-30".into())
        );
        assert_eq!(m.period().from, at("2026-11-01T00:00:00+09:00"));
        assert_eq!(m.period().to, at("2026-12-01T00:00:00+09:00"));
        for bad in [
            "2026-13",
            "2026-1",
            "26-11",
            "2026/11",
            "november",
            "2026-11-01",
            "",
        ] {
            let err = ReportMonth::parse(bad).unwrap_err().to_string();
            assert!(err.contains("YYYY-MM"), "{bad}: {err}");
        }
    }
}
