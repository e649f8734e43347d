//! Time as stored: unix milliseconds, converted to RFC 3339 at the edges.
use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the unix epoch, now.
pub fn now_millis() -> i64 {
    Utc::now().timestamp_millis()
}

/// RFC 3339 (UTC) for a stored millisecond timestamp.
pub fn rfc3339(millis: i64) -> String {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp into milliseconds.
pub fn parse_rfc3339(s: &str) -> Result<i64, chrono::ParseError> {
    DateTime::parse_from_rfc3339(s).map(|t| t.timestamp_millis())
}

/// Japan Standard Time, the zone every date shown to people uses.
pub fn jst() -> chrono_tz::Tz {
    chrono_tz::Asia::Tokyo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_rfc3339() {
        let m = parse_rfc3339("2026-11-20T10:15:00+09:00").unwrap();
        assert_eq!(rfc3339(m), "2026-11-20T01:15:00.000Z");
    }
}
