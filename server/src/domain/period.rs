//! A period of time as the reporting endpoints take it (`from`, `to`), and the error of a query
//! parameter that does not say what it should.
use chrono::{NaiveDate, TimeZone};

use super::time::{jst, parse_rfc3339};

/// A query parameter that does not say what it should: the field and why.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct QueryError {
    pub field: &'static str,
    pub message: String,
}

pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> QueryError {
    QueryError {
        field,
        message: message.into(),
    }
}

/// `[from, to)` in unix milliseconds, `from` before `to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
}

impl Period {
    /// From the query's `from` and `to`: a day (`2026-11-01`, in JST; `to` includes its day)
    /// or an RFC 3339 time. Without `from`, from the beginning; without `to`, up to `now`.
    pub fn parse(from: Option<&str>, to: Option<&str>, now: i64) -> Result<Period, QueryError> {
        let from = match from {
            Some(s) => bound("from", s, 0)?,
            None => 0,
        };
        let to = match to {
            Some(s) => bound("to", s, 1)?,
            None => now + 1,
        };
        if from >= to {
            return Err(invalid("to", "must be after `from`"));
        }
        Ok(Period { from, to })
    }

    pub fn contains(&self, at: i64) -> bool {
        (self.from..self.to).contains(&at)
    }
}

/// A day's start in JST, `days_after` days later, or an RFC 3339 time as given.
fn bound(field: &'static str, s: &str, days_after: u64) -> Result<i64, QueryError> {
    if let Ok(day) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = day
            .checked_add_days(chrono::Days::new(days_after))
            .ok_or_else(|| invalid(field, format!("`{s}` is out of range")))?;
        return jst()
            .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
            .single()
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| invalid(field, format!("`{s}` is not a day in JST")));
    }
    parse_rfc3339(s).map_err(|_| {
        invalid(
            field,
            format!("`{s}` is neither a day (2026-11-01) nor an RFC 3339 time"),
        )
    })
}

/// Milliseconds in a day.
const DAY_MILLIS: i64 = 86_400_000;
/// JST is UTC+9 all year (no daylight saving).
const JST_OFFSET_MILLIS: i64 = 9 * 3_600_000;

/// The day (JST) a time falls on, as days since 1970-01-01 in JST: what the funnel's and the
/// KPIs' daily counters are keyed by (the same formula as migration m0013's SQL).
pub fn day_of(at: i64) -> i64 {
    (at + JST_OFFSET_MILLIS).div_euclid(DAY_MILLIS)
}

/// When day `day` (see [`day_of`]) starts, in unix milliseconds.
pub fn day_start(day: i64) -> i64 {
    day * DAY_MILLIS - JST_OFFSET_MILLIS
}

impl Period {
    /// The whole days (JST) within the period, `[first, end)` as [`day_of`] numbers (empty
    /// when `first >= end`), and the parts of the period outside them: at most one before and
    /// one after, each within a day.
    pub fn whole_days(&self) -> (std::ops::Range<i64>, Vec<Period>) {
        let first = day_of(self.from - 1) + 1;
        let end = day_of(self.to);
        if first >= end {
            return (first..first, vec![*self]);
        }
        let parts = [
            Period {
                from: self.from,
                to: day_start(first),
            },
            Period {
                from: day_start(end),
                to: self.to,
            },
        ];
        (
            first..end,
            parts.into_iter().filter(|p| p.from < p.to).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole days of a period and its parts cover it exactly once.
    #[test]
    fn c5_a_period_is_whole_days_and_at_most_two_parts() {
        let nov_1 = Period::parse(Some("2026-11-01"), Some("2026-11-01"), 0).unwrap();
        let (days, parts) = nov_1.whole_days();
        assert_eq!((days.end - days.start, parts), (1, vec![]));
        assert_eq!(day_start(days.start), nov_1.from);
        let p = Period {
            from: nov_1.from + 5,
            to: nov_1.to + 3 * DAY + 7,
        };
        let (days, parts) = p.whole_days();
        assert_eq!(days.end - days.start, 3);
        assert_eq!(
            parts,
            [
                Period {
                    from: p.from,
                    to: nov_1.to
                },
                Period {
                    from: nov_1.to + 3 * DAY,
                    to: p.to
                }
            ]
        );
        let within = Period {
            from: nov_1.from + 5,
            to: nov_1.from + 9,
        };
        let (days, parts) = within.whole_days();
        assert!(days.is_empty());
        assert_eq!(parts, [within]);
    }

    const DAY: i64 = 86_400_000;
    /// 2026-11-01T00:00:00+09:00.
    const NOV_1: i64 = 1_793_458_800_000;

    #[test]
    fn periods_are_days_in_jst_or_rfc3339_times() {
        let p = Period::parse(Some("2026-11-01"), Some("2026-11-30"), 0).unwrap();
        assert_eq!((p.from, p.to), (NOV_1, NOV_1 + 30 * DAY));
        let p = Period::parse(Some("2026-11-01T00:00:00Z"), None, NOV_1 + DAY).unwrap();
        assert_eq!((p.from, p.to), (NOV_1 + 9 * 3_600_000, NOV_1 + DAY + 1));
        assert!(p.contains(NOV_1 + DAY) && !p.contains(NOV_1));
        let err = Period::parse(Some("2026-11-31"), None, 0).unwrap_err();
        assert_eq!(err.field, "from");
        let err = Period::parse(Some("2026-12-01"), Some("2026-11-01"), 0).unwrap_err();
        assert_eq!(err.field, "to");
    }
}
