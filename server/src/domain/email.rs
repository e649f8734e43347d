//! An email address, normalised when built (trimmed, lower-cased) so that one person is one
//! candidate (C8: no duplicate candidates).
use std::fmt;

/// A syntactically valid, normalised email address.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("is empty")]
    Empty,
    #[error("is not an email address (`local@domain`)")]
    Malformed,
    #[error("is longer than 254 characters")]
    TooLong,
}

impl Email {
    /// Parses and normalises: surrounding space removed, the whole address lower-cased.
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let bad = |p: &str| {
            p.is_empty()
                || p.chars().any(|c| {
                    c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ','
                })
        };
        if bad(local)
            || bad(domain)
            || local.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(EmailError::Malformed);
        }
        Ok(Email(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The domain part, which is all of an address that logs may show.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, d)| d)
    }

    /// `***@domain`, for logs.
    pub fn redacted(&self) -> String {
        format!("***@{}", self.domain())
    }
}

/// What a log line or an error message may show of text that is not a valid address: the part
/// after its last `@` (`***@domain`) when that looks like a domain, else only its length. The
/// local part (the person) never appears.
pub fn redact_invalid(raw: &str) -> String {
    let s = raw.trim();
    match s.rsplit_once('@') {
        Some((_, domain))
            if !domain.is_empty()
                && domain.len() <= 253
                && domain
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '.' || c == '-') =>
        {
            format!("***@{domain}")
        }
        _ => format!("({} characters)", s.chars().count()),
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Who mail comes from: an address with an optional display name, as `HIRELAY_MAIL_FROM` gives
/// it (`株式会社サンプル 採用担当 <noreply@example.jp>`, or the bare address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sender {
    pub name: Option<String>,
    pub address: Email,
}

impl Sender {
    pub fn parse(raw: &str) -> Result<Sender, EmailError> {
        let raw = raw.trim();
        let Some(open) = raw.rfind('<').filter(|_| raw.ends_with('>')) else {
            return Ok(Sender {
                name: None,
                address: Email::parse(raw)?,
            });
        };
        let address = Email::parse(&raw[open + 1..raw.len() - 1])?;
        let name = raw[..open].trim().trim_matches('"').trim();
        if name
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '<' || c == '>')
        {
            return Err(EmailError::Malformed);
        }
        Ok(Sender {
            name: (!name.is_empty()).then(|| name.to_owned()),
            address,
        })
    }
}

impl fmt::Display for Sender {
    /// `"name" <address>` (quoted, so any display name reads as one), or the bare address.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(name) => write!(f, "\"{name}\" <{}>", self.address),
            None => write!(f, "{}", self.address),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c2_a_sender_may_carry_a_display_name() {
        let s = Sender::parse(" 株式会社サンプル 採用担当 <NoReply@Example.jp> ").unwrap();
        assert_eq!(s.name.as_deref(), Some("株式会社サンプル 採用担当"));
        assert_eq!(s.address.as_str(), "noreply@example.jp");
        assert_eq!(
            s.to_string(),
            "\"株式会社サンプル 採用担当\" <noreply@example.jp>"
        );
        let bare = Sender::parse("noreply@example.jp").unwrap();
        assert_eq!(
            (bare.name.clone(), bare.to_string()),
            (None, "noreply@example.jp".into())
        );
        assert!(Sender::parse("名前 <nobody>").is_err());
        assert!(Sender::parse("a\"b <x@example.jp>").is_err());
    }

    #[test]
    fn invalid_addresses_are_redacted_to_their_domain_or_length() {
        assert_eq!(redact_invalid("taro yamada@example.jp"), "***@example.jp");
        assert_eq!(redact_invalid("taro@@example.jp"), "***@example.jp");
        assert_eq!(redact_invalid("taro.yamada.example.jp"), "(22 characters)");
        assert_eq!(redact_invalid("taro@"), "(5 characters)");
        assert_eq!(redact_invalid("taro@exa mple"), "(13 characters)");
    }

    #[test]
    fn c8_emails_are_normalised_so_one_person_is_one_candidate() {
        let a = Email::parse(" Taro.Yamada@Example.jp ").unwrap();
        let b = Email::parse("taro.yamada@example.jp").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "taro.yamada@example.jp");
        assert_eq!(a.redacted(), "***@example.jp");
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "taro",
            "taro@",
            "@example.jp",
            "a b@example.jp",
            "taro@localhost",
            "a@b@c.jp",
            "<a@b.jp>",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} was accepted");
        }
    }
}
