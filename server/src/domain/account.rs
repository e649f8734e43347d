//! Personal user accounts (issue 14): a display name and a password that validate on
//! construction, and the sign-in lock-out rule as one pure function.
use secrecy::{ExposeSecret, SecretString};

/// The shortest password accepted (NIST SP 800-63B asks for at least 8; a console that reads
/// personal data asks for more).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// The longest: Argon2 takes any length, but a megabyte of password is only a way to burn CPU.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// The longest display name.
pub const MAX_NAME_CHARS: usize = 100;

/// A password someone chose: long enough, not absurdly long. Never shown by `Debug`.
pub struct NewPassword(SecretString);

impl NewPassword {
    /// Checks the length (in characters, so Japanese passphrases count as typed).
    pub fn parse(raw: SecretString) -> Result<NewPassword, String> {
        let chars = raw.expose_secret().chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!(
                "must be at least {MIN_PASSWORD_CHARS} characters long"
            ));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!(
                "must be at most {MAX_PASSWORD_CHARS} characters long"
            ));
        }
        Ok(NewPassword(raw))
    }

    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

/// The name the console and the audit log show for a person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    /// Trimmed; not empty, at most [`MAX_NAME_CHARS`], no control characters.
    pub fn parse(raw: &str) -> Result<DisplayName, String> {
        let name = raw.trim();
        if name.is_empty() {
            return Err("must not be empty".into());
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("must be at most {MAX_NAME_CHARS} characters long"));
        }
        if name.chars().any(char::is_control) {
            return Err("must not contain control characters".into());
        }
        Ok(DisplayName(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many failed sign-ins lock an account, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that lock the account, each within `window_ms` of the one before.
    pub max_failures: u32,
    pub window_ms: i64,
    /// How long the account stays locked.
    pub lock_ms: i64,
}

/// An account's failed sign-ins, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: i32,
    pub last_at: Option<i64>,
    pub locked_until: Option<i64>,
}

impl LockoutPolicy {
    /// Milliseconds the account is still locked at `now`, if it is.
    pub fn locked_for(&self, failures: &Failures, now: i64) -> Option<i64> {
        failures
            .locked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }

    /// The failures after one more at `now`: a failure more than a window after the previous
    /// one starts counting afresh; the `max_failures`-th locks the account and starts afresh.
    pub fn after_failure(&self, failures: &Failures, now: i64) -> Failures {
        let recent = failures
            .last_at
            .is_some_and(|at| now - at <= self.window_ms);
        let count = if recent { failures.count + 1 } else { 1 };
        if count >= self.max_failures as i32 {
            Failures {
                count: 0,
                last_at: Some(now),
                locked_until: Some(now + self.lock_ms),
            }
        } else {
            Failures {
                count,
                last_at: Some(now),
                locked_until: failures.locked_until,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;
    const POLICY: LockoutPolicy = LockoutPolicy {
        max_failures: 3,
        window_ms: 15 * MIN,
        lock_ms: 15 * MIN,
    };

    #[test]
    fn the_third_failure_within_the_window_locks_for_the_lock_time() {
        let mut f = Failures::default();
        for i in 0..2 {
            f = POLICY.after_failure(&f, i * MIN);
            assert_eq!(POLICY.locked_for(&f, i * MIN), None);
        }
        f = POLICY.after_failure(&f, 2 * MIN);
        assert_eq!(POLICY.locked_for(&f, 2 * MIN), Some(15 * MIN));
        assert_eq!(POLICY.locked_for(&f, 10 * MIN), Some(7 * MIN));
        assert_eq!(POLICY.locked_for(&f, 17 * MIN), None);
    }

    #[test]
    fn failures_further_apart_than_the_window_never_lock() {
        let mut f = Failures::default();
        for i in 0..10 {
            f = POLICY.after_failure(&f, i * 16 * MIN);
            assert_eq!(POLICY.locked_for(&f, i * 16 * MIN), None, "failure {i}");
        }
    }

    #[test]
    fn passwords_and_names_validate_on_construction() {
        let short = SecretString::from("short");
        assert!(NewPassword::parse(short).is_err());
        let japanese = SecretString::from("にほんごのパスフレーズです");
        assert!(NewPassword::parse(japanese).is_ok());
        assert!(NewPassword::parse(SecretString::from("x".repeat(257))).is_err());
        assert_eq!(
            DisplayName::parse("  山田 花子 ").unwrap().as_str(),
            "山田 花子"
        );
        assert!(DisplayName::parse(" ").is_err());
        assert!(DisplayName::parse("a\u{7}b").is_err());
    }
}
