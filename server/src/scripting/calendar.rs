//! JST time for scripts: formatting and parsing of the timestamps they pass around. Business
//! days and mornings are the configured
//! [`crate::domain::business_calendar::BusinessCalendar`]'s (holidays computed by
//! [`crate::domain::holidays`], the company's closures, the send hour).
use chrono::{DateTime, Datelike, Utc};

use crate::domain::time::jst;

/// The JST date of `at` as people write it: `2026年11月26日`.
pub fn jst_date(at: DateTime<Utc>) -> String {
    let d = at.with_timezone(&jst());
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// `at` in RFC 3339 with the JST offset, e.g. `2026-11-24T09:00:00+09:00`.
pub fn to_jst_rfc3339(at: DateTime<Utc>) -> String {
    at.with_timezone(&jst())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Parses an RFC 3339 timestamp (any offset).
pub fn parse(ts: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(ts)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{ts}` is not an RFC 3339 timestamp ({e})"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::business_calendar::BusinessCalendar;

    fn t(s: &str) -> DateTime<Utc> {
        parse(s).unwrap()
    }

    fn next_business_morning(at: DateTime<Utc>) -> DateTime<Utc> {
        BusinessCalendar::default()
            .next_business_morning(at)
            .unwrap()
    }

    fn is_business_day(at: DateTime<Utc>) -> bool {
        BusinessCalendar::default().is_business_day(at).unwrap()
    }

    #[test]
    fn labour_thanksgiving_day_2026_is_skipped() {
        assert_eq!(
            crate::domain::holidays::holiday("2026-11-23".parse().unwrap()),
            Ok(Some("勤労感謝の日"))
        );
        let friday_evening = t("2026-11-20T18:00:00+09:00");
        assert_eq!(
            to_jst_rfc3339(next_business_morning(friday_evening)),
            "2026-11-24T09:00:00+09:00"
        );
    }

    #[test]
    fn a_business_day_before_nine_gets_the_same_morning() {
        assert_eq!(
            to_jst_rfc3339(next_business_morning(t("2026-11-25T07:30:00+09:00"))),
            "2026-11-25T09:00:00+09:00"
        );
        assert_eq!(
            to_jst_rfc3339(next_business_morning(t("2026-11-25T09:00:00+09:00"))),
            "2026-11-26T09:00:00+09:00"
        );
    }

    #[test]
    fn golden_week_and_new_year_are_skipped() {
        // Sat 2026-05-02 → Thu 05-07 (3, 4, 5 holidays, 6 substitute).
        assert_eq!(
            to_jst_rfc3339(next_business_morning(t("2026-05-02T12:00:00+09:00"))),
            "2026-05-07T09:00:00+09:00"
        );
        // New Year's Eve 2026 (Thu) evening → closed until 01-03, a Sunday → Mon 01-04.
        assert_eq!(
            to_jst_rfc3339(next_business_morning(t("2026-12-31T20:00:00+09:00"))),
            "2027-01-04T09:00:00+09:00"
        );
    }

    #[test]
    fn business_days_are_judged_by_the_jst_date() {
        // 2026-11-22T16:00Z is Mon 23 Nov 01:00 JST: a holiday.
        assert!(!is_business_day(t("2026-11-22T16:00:00Z")));
        assert!(is_business_day(t("2026-11-24T00:00:00+09:00")));
        assert!(!is_business_day(t("2026-11-21T12:00:00+09:00")));
    }

    #[test]
    fn dates_are_written_in_japanese() {
        assert_eq!(jst_date(t("2026-11-25T16:00:00Z")), "2026年11月26日");
        assert!(parse("next tuesday").is_err());
    }
}
