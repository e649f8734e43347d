//! Japan's national holidays (国民の祝日・休日), computed from the rules of 国民の祝日に関する法律
//! as in force, so the calendar never runs out the way a typed-in list does.
//!
//! Supported years: [`FIRST_YEAR`]–[`LAST_YEAR`]. 2020 is the first year of today's set of
//! holidays (天皇誕生日 on 23 February, スポーツの日), with the Olympic moves of 2020 and 2021
//! (special measures law) built in; 2099 is the last year the equinox approximation holds. Outside
//! them the answer is an [`OutsideSupportedYears`] error, not a guess.
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The first year whose holidays are computed.
pub const FIRST_YEAR: i32 = 2020;
/// The last year whose holidays are computed.
pub const LAST_YEAR: i32 = 2099;

/// The date lies in a year whose holidays are not computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{date} is outside the holiday calendar ({FIRST_YEAR}–{LAST_YEAR})")]
pub struct OutsideSupportedYears {
    /// The date asked about.
    pub date: NaiveDate,
}

/// 振替休日: the day off for a holiday that falls on a Sunday (Art. 3(2)).
pub const SUBSTITUTE_HOLIDAY: &str = "振替休日";
/// 国民の休日: a day between two holidays (Art. 3(3)).
pub const CITIZENS_HOLIDAY: &str = "国民の休日";

/// The name of the holiday on `date` (`None` on an ordinary day).
pub fn holiday(date: NaiveDate) -> Result<Option<&'static str>, OutsideSupportedYears> {
    Ok(holidays_of(date.year())
        .map_err(|_| OutsideSupportedYears { date })?
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, name)| name))
}

/// Every holiday of `year`, in date order, 振替休日 and 国民の休日 included.
pub fn holidays_of(year: i32) -> Result<Vec<(NaiveDate, &'static str)>, OutsideSupportedYears> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
        let date = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default();
        return Err(OutsideSupportedYears { date });
    }
    let national = national_holidays(year);
    let is_national = |d: NaiveDate| national.iter().any(|(n, _)| *n == d);
    let mut all = national.clone();
    for (date, _) in national.iter().filter(|(d, _)| d.weekday() == Weekday::Sun) {
        // The nearest following day that is not a national holiday (Golden Week pushes it on).
        let mut day = next_day(*date);
        while is_national(day) {
            day = next_day(day);
        }
        all.push((day, SUBSTITUTE_HOLIDAY));
    }
    for (date, _) in &national {
        let between = next_day(*date);
        if is_national(next_day(between)) && !all.iter().any(|(d, _)| *d == between) {
            all.push((between, CITIZENS_HOLIDAY));
        }
    }
    all.sort_by_key(|(d, _)| *d);
    Ok(all)
}

/// The 国民の祝日 of Art. 2 (before days off are added), with the moves of 2020 and 2021.
fn national_holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let on = |month, day| NaiveDate::from_ymd_opt(year, month, day).unwrap_or_default();
    let (marine, sports, mountain) = match year {
        2020 => (on(7, 23), on(7, 24), on(8, 10)),
        2021 => (on(7, 22), on(7, 23), on(8, 8)),
        _ => (nth_monday(year, 7, 3), nth_monday(year, 10, 2), on(8, 11)),
    };
    vec![
        (on(1, 1), "元日"),
        (nth_monday(year, 1, 2), "成人の日"),
        (on(2, 11), "建国記念の日"),
        (on(2, 23), "天皇誕生日"),
        (on(3, vernal_equinox_day(year)), "春分の日"),
        (on(4, 29), "昭和の日"),
        (on(5, 3), "憲法記念日"),
        (on(5, 4), "みどりの日"),
        (on(5, 5), "こどもの日"),
        (marine, "海の日"),
        (mountain, "山の日"),
        (nth_monday(year, 9, 3), "敬老の日"),
        (on(9, autumnal_equinox_day(year)), "秋分の日"),
        (sports, "スポーツの日"),
        (on(11, 3), "文化の日"),
        (on(11, 23), "勤労感謝の日"),
    ]
}

/// The day of March of 春分, by the approximation used for predictions (valid 1980–2099).
fn vernal_equinox_day(year: i32) -> u32 {
    equinox_day(20.8431, year)
}

/// The day of September of 秋分, by the same approximation.
fn autumnal_equinox_day(year: i32) -> u32 {
    equinox_day(23.2488, year)
}

fn equinox_day(base: f64, year: i32) -> u32 {
    let since = f64::from(year - 1980);
    (base + 0.242194 * since - (since / 4.0).floor()).floor() as u32
}

/// The `n`-th Monday of `month` (ハッピーマンデー制度).
fn nth_monday(year: i32, month: u32, n: u32) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Mon, n as u8).unwrap_or_default()
}

fn next_day(date: NaiveDate) -> NaiveDate {
    date.checked_add_days(Days::new(1)).unwrap_or(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// The hand-written list of 2026–2035 (Cabinet Office, and the law with NAOJ's equinox
    /// predictions for the years not yet published).
    fn published() -> Vec<(NaiveDate, String)> {
        let text = include_str!("../../tests/data/jp_holidays_2026_2035.csv");
        text.lines()
            .filter(|l| !l.starts_with('#') && !l.starts_with("date,"))
            .map(|l| {
                let (d, name) = l.split_once(',').unwrap();
                (date(d), name.to_owned())
            })
            .collect()
    }

    /// C2: invitations go out on business mornings, so the holidays they skip must be the
    /// real ones, in both directions: no holiday missed, none invented.
    #[test]
    fn c2_holidays_2026_to_2035_match_the_published_dates() {
        let published = published();
        let computed: Vec<(NaiveDate, String)> = (2026..=2035)
            .flat_map(|y| holidays_of(y).unwrap())
            .map(|(d, n)| (d, n.to_owned()))
            .collect();
        for day in &published {
            assert!(computed.contains(day), "not computed: {day:?}");
        }
        for day in &computed {
            assert!(published.contains(day), "not published: {day:?}");
        }
        let count = |y| published.iter().filter(|(d, _)| d.year() == y).count();
        assert_eq!(
            (2026..=2035).map(count).collect::<Vec<_>>(),
            [18, 17, 16, 19, 19, 19, 17, 17, 17, 19]
        );
    }

    #[test]
    fn days_off_follow_the_law() {
        assert_eq!(holiday(date("2026-09-22")), Ok(Some(CITIZENS_HOLIDAY)));
        assert_eq!(holiday(date("2026-05-06")), Ok(Some(SUBSTITUTE_HOLIDAY)));
        // 2031: みどりの日 on Sunday, こどもの日 on Monday → the day off is Tuesday.
        assert_eq!(holiday(date("2031-05-06")), Ok(Some(SUBSTITUTE_HOLIDAY)));
        assert_eq!(holiday(date("2026-11-24")), Ok(None));
    }

    #[test]
    fn the_olympic_years_moved_three_holidays() {
        assert_eq!(holiday(date("2020-07-24")), Ok(Some("スポーツの日")));
        assert_eq!(holiday(date("2020-10-12")), Ok(None));
        assert_eq!(holiday(date("2021-08-08")), Ok(Some("山の日")));
        assert_eq!(holiday(date("2021-08-09")), Ok(Some(SUBSTITUTE_HOLIDAY)));
        assert_eq!(holiday(date("2021-07-22")), Ok(Some("海の日")));
        assert_eq!(holidays_of(2020).unwrap().len(), 18);
        assert_eq!(holidays_of(2021).unwrap().len(), 17);
    }

    #[test]
    fn every_supported_year_has_the_holidays_on_the_weekdays_the_law_gives_them() {
        for year in FIRST_YEAR..=LAST_YEAR {
            let days = holidays_of(year).unwrap();
            // 16 national holidays, up to 5 days off (2024 had 21 days in all).
            assert!((16..=21).contains(&days.len()), "{year}: {days:?}");
            for (date, name) in &days {
                assert_eq!(date.year(), year, "{date} {name}");
                match *name {
                    "成人の日" | "敬老の日" => assert_eq!(date.weekday(), Weekday::Mon),
                    "海の日" | "スポーツの日" if year > 2021 => {
                        assert_eq!(date.weekday(), Weekday::Mon, "{date} {name}")
                    }
                    "春分の日" => assert!((19..=21).contains(&date.day()), "{date}"),
                    "秋分の日" => assert!((21..=24).contains(&date.day()), "{date}"),
                    SUBSTITUTE_HOLIDAY | CITIZENS_HOLIDAY => {
                        assert_ne!(date.weekday(), Weekday::Sun, "{date} {name}");
                        let before = date.pred_opt().unwrap();
                        assert!(days.iter().any(|(d, _)| *d == before), "{date} {name}");
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn years_outside_the_calendar_are_an_error() {
        let err = holiday(date("2100-01-01")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2100-01-01 is outside the holiday calendar (2020–2099)"
        );
        assert!(holiday(date("2019-05-01")).is_err());
    }
}
