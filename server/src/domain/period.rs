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

#[cfg(test)]
mod tests {
    use super::*;

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
