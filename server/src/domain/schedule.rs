//! A cron schedule, parsed when built. Accepts the classic five fields (minute first) or the
//! `cron` crate's six or seven (seconds first).
use std::fmt;
use std::str::FromStr;

#[derive(Clone)]
pub struct Schedule {
    text: String,
    inner: cron::Schedule,
}

impl Schedule {
    /// The next fire times after `after`.
    pub fn after(
        &self,
        after: chrono::DateTime<chrono::Utc>,
    ) -> Option<chrono::DateTime<chrono::Utc>> {
        self.inner.after(&after).next()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl FromStr for Schedule {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim();
        let fields = text.split_whitespace().count();
        let full = if fields == 5 {
            format!("0 {text}")
        } else {
            text.to_owned()
        };
        let inner = cron::Schedule::from_str(&full).map_err(|e| {
            // The cron crate's message echoes the text and a caret line before the reason.
            let text = e.to_string();
            let reason = text.lines().last().unwrap_or_default().trim();
            format!(
                "not a cron expression ({reason}); give five fields (minute hour day month \
                 weekday) or six with seconds first, e.g. `0 */6 * * * *` (every 6 minutes) or \
                 `0 9 * * 1-5` (09:00 on weekdays)"
            )
        })?;
        Ok(Schedule {
            text: text.to_owned(),
            inner,
        })
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn i3_default_poll_fires_every_six_minutes() {
        let s: Schedule = "0 */6 * * * *".parse().unwrap();
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 26, 9, 1, 0).unwrap();
        assert_eq!(
            s.after(t).unwrap(),
            chrono::Utc.with_ymd_and_hms(2026, 11, 26, 9, 6, 0).unwrap()
        );
    }

    #[test]
    fn five_field_expressions_are_accepted() {
        let s: Schedule = "*/15 * * * *".parse().unwrap();
        let t = chrono::Utc.with_ymd_and_hms(2026, 11, 26, 9, 1, 0).unwrap();
        assert_eq!(
            s.after(t).unwrap(),
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 26, 9, 15, 0)
                .unwrap()
        );
        assert!("every day".parse::<Schedule>().is_err());
    }
}
