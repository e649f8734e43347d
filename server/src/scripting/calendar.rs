//! Business days in Japan: weekends and the national holidays (国民の祝日, including 振替休日
//! and 国民の休日) of a built-in list for 2025–2027. Pure functions over JST dates and instants.
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc, Weekday};

use crate::domain::time::jst;

/// The national holidays of 2025–2027 as `(year, month, day, name)`.
pub const HOLIDAYS: &[(i32, u32, u32, &str)] = &[
    (2025, 1, 1, "元日"),
    (2025, 1, 13, "成人の日"),
    (2025, 2, 11, "建国記念の日"),
    (2025, 2, 23, "天皇誕生日"),
    (2025, 2, 24, "振替休日"),
    (2025, 3, 20, "春分の日"),
    (2025, 4, 29, "昭和の日"),
    (2025, 5, 3, "憲法記念日"),
    (2025, 5, 4, "みどりの日"),
    (2025, 5, 5, "こどもの日"),
    (2025, 5, 6, "振替休日"),
    (2025, 7, 21, "海の日"),
    (2025, 8, 11, "山の日"),
    (2025, 9, 15, "敬老の日"),
    (2025, 9, 23, "秋分の日"),
    (2025, 10, 13, "スポーツの日"),
    (2025, 11, 3, "文化の日"),
    (2025, 11, 23, "勤労感謝の日"),
    (2025, 11, 24, "振替休日"),
    (2026, 1, 1, "元日"),
    (2026, 1, 12, "成人の日"),
    (2026, 2, 11, "建国記念の日"),
    (2026, 2, 23, "天皇誕生日"),
    (2026, 3, 20, "春分の日"),
    (2026, 4, 29, "昭和の日"),
    (2026, 5, 3, "憲法記念日"),
    (2026, 5, 4, "みどりの日"),
    (2026, 5, 5, "こどもの日"),
    (2026, 5, 6, "振替休日"),
    (2026, 7, 20, "海の日"),
    (2026, 8, 11, "山の日"),
    (2026, 9, 21, "敬老の日"),
    (2026, 9, 22, "国民の休日"),
    (2026, 9, 23, "秋分の日"),
    (2026, 10, 12, "スポーツの日"),
    (2026, 11, 3, "文化の日"),
    (2026, 11, 23, "勤労感謝の日"),
    (2027, 1, 1, "元日"),
    (2027, 1, 11, "成人の日"),
    (2027, 2, 11, "建国記念の日"),
    (2027, 2, 23, "天皇誕生日"),
    (2027, 3, 21, "春分の日"),
    (2027, 3, 22, "振替休日"),
    (2027, 4, 29, "昭和の日"),
    (2027, 5, 3, "憲法記念日"),
    (2027, 5, 4, "みどりの日"),
    (2027, 5, 5, "こどもの日"),
    (2027, 7, 19, "海の日"),
    (2027, 8, 11, "山の日"),
    (2027, 9, 20, "敬老の日"),
    (2027, 9, 23, "秋分の日"),
    (2027, 10, 11, "スポーツの日"),
    (2027, 11, 3, "文化の日"),
    (2027, 11, 23, "勤労感謝の日"),
];

/// The hour (JST) a business morning starts.
pub const MORNING_HOUR: u32 = 9;

/// The name of the national holiday on `date`, if it is one.
pub fn holiday(date: NaiveDate) -> Option<&'static str> {
    HOLIDAYS
        .iter()
        .find(|(y, m, d, _)| date.year() == *y && date.month() == *m && date.day() == *d)
        .map(|(.., name)| *name)
}

/// A weekday that is not a national holiday.
pub fn is_business_date(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) && holiday(date).is_none()
}

/// Whether the JST date of `at` is a business day.
pub fn is_business_day(at: DateTime<Utc>) -> bool {
    is_business_date(at.with_timezone(&jst()).date_naive())
}

/// The first 09:00 JST on a business day strictly after `at`.
pub fn next_business_morning(at: DateTime<Utc>) -> DateTime<Utc> {
    let mut date = at.with_timezone(&jst()).date_naive();
    loop {
        if is_business_date(date) {
            if let Some(morning) = morning_of(date).filter(|m| *m > at) {
                return morning;
            }
        }
        date = date.checked_add_days(Days::new(1)).unwrap_or(date);
    }
}

fn morning_of(date: NaiveDate) -> Option<DateTime<Utc>> {
    let local = date.and_hms_opt(MORNING_HOUR, 0, 0)?;
    jst()
        .from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
}

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

    fn t(s: &str) -> DateTime<Utc> {
        parse(s).unwrap()
    }

    #[test]
    fn holidays_fall_on_the_weekdays_the_law_gives_them() {
        // Happy Monday holidays are Mondays; substitute holidays follow a Sunday holiday.
        for (y, m, d, name) in HOLIDAYS {
            let date = NaiveDate::from_ymd_opt(*y, *m, *d).unwrap();
            match *name {
                "成人の日" | "海の日" | "敬老の日" | "スポーツの日" => {
                    assert_eq!(date.weekday(), Weekday::Mon, "{date} {name}")
                }
                "振替休日" => {
                    let before = date.pred_opt().unwrap();
                    assert!(holiday(before).is_some(), "{date}: {before} is no holiday");
                }
                _ => {}
            }
        }
        assert_eq!(HOLIDAYS.iter().filter(|h| h.0 == 2026).count(), 18);
    }

    #[test]
    fn labour_thanksgiving_day_2026_is_skipped() {
        assert_eq!(
            holiday(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()),
            Some("勤労感謝の日")
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
        // New Year's Eve 2026 (Thu) evening → Fri 2027-01-01 is a holiday → Mon 01-04.
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
