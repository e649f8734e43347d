//! Standard Webhooks signatures: `v1,<base64 HMAC-SHA256>` over `"{id}.{timestamp}.{body}"`,
//! several signatures per header and several secrets per source (rotation), a 5-minute
//! tolerance, and a constant-time comparison.
use base64::{engine::general_purpose::STANDARD, Engine};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::sync::Arc;

/// How far a `webhook-timestamp` may be from now.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// The secrets a source's webhooks may be signed with (more than one during rotation). Keys are
/// kept as secrets: they never reach `Debug` or a log line.
#[derive(Clone, Default)]
pub struct WebhookSecrets {
    keys: Arc<Vec<SecretBox<Vec<u8>>>>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("a webhook secret must look like `whsec_` followed by base64")]
    Format,
    #[error("a webhook secret must decode to at least 16 bytes")]
    TooShort,
}

/// Why a delivery's signature was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("no signing secret is configured for {0} webhooks (set {1})")]
    NotConfigured(&'static str, &'static str),
    #[error("header `{0}` is missing")]
    MissingHeader(&'static str),
    #[error("header `webhook-timestamp` is not unix seconds")]
    BadTimestamp,
    #[error("`webhook-timestamp` is more than 5 minutes away from now")]
    StaleTimestamp,
    #[error("no signature in `webhook-signature` matches")]
    NoMatch,
}

impl std::fmt::Debug for WebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecrets({} keys)", self.keys.len())
    }
}

impl WebhookSecrets {
    /// Parses space- or comma-separated `whsec_…` secrets.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let keys = text
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|s| !s.is_empty())
            .map(|s| {
                let b64 = s.strip_prefix("whsec_").ok_or(SecretError::Format)?;
                let key = STANDARD.decode(b64).map_err(|_| SecretError::Format)?;
                if key.len() < 16 {
                    return Err(SecretError::TooShort);
                }
                Ok(SecretBox::new(Box::new(key)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WebhookSecrets {
            keys: Arc::new(keys),
        })
    }

    pub fn is_configured(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Checks a delivery: timestamp within tolerance of `now`, and at least one signature of the
    /// header made with one of the secrets.
    pub fn verify(
        &self,
        id: &str,
        timestamp: &str,
        signatures: &str,
        body: &[u8],
        now: i64,
    ) -> Result<(), SignatureError> {
        let ts: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| SignatureError::BadTimestamp)?;
        // `abs_diff` cannot overflow: a sender may put any i64 in the header (`now - i64::MIN`
        // would panic in a debug build and wrap to "fresh" in a release one).
        if now.abs_diff(ts) > TOLERANCE_SECS.unsigned_abs() {
            return Err(SignatureError::StaleTimestamp);
        }
        let offered: Vec<Vec<u8>> = signatures
            .split(' ')
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .collect();
        for key in self.keys.iter() {
            let expected = sign_raw(key.expose_secret(), id, timestamp.trim(), body);
            // `verify_slice` compares in constant time.
            if offered
                .iter()
                .any(|sig| expected.clone().verify_slice(sig).is_ok())
            {
                return Ok(());
            }
        }
        Err(SignatureError::NoMatch)
    }

    /// Signs a payload with the first secret, as outbound webhooks and tests need:
    /// the `webhook-signature` header value.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
        let key = self.keys.first()?;
        let mac = sign_raw(key.expose_secret(), id, &timestamp.to_string(), body);
        Some(format!(
            "v1,{}",
            STANDARD.encode(mac.finalize().into_bytes())
        ))
    }
}

fn sign_raw(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn accepts_a_reference_signature() {
        // Made with ../shared/samples/sign.py: sign.py SECRET body msg_1 at timestamp 1700000000.
        let secrets = WebhookSecrets::parse(SECRET).unwrap();
        let sig = secrets.sign("msg_1", 1_700_000_000, b"{}").unwrap();
        assert!(secrets
            .verify("msg_1", "1700000000", &sig, b"{}", 1_700_000_100)
            .is_ok());
        assert_eq!(
            secrets.verify("msg_1", "1700000000", &sig, b"{ }", 1_700_000_100),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            secrets.verify("msg_2", "1700000000", &sig, b"{}", 1_700_000_100),
            Err(SignatureError::NoMatch)
        );
    }

    #[test]
    fn any_one_of_several_signatures_and_secrets_is_enough() {
        let old = WebhookSecrets::parse("whsec_b2xkLW9sZC1vbGQtb2xkLW9sZA==").unwrap();
        let both =
            WebhookSecrets::parse(&format!("{SECRET} whsec_b2xkLW9sZC1vbGQtb2xkLW9sZA==")).unwrap();
        let sig = old.sign("m", 100, b"x").unwrap();
        assert!(both
            .verify("m", "100", &format!("v1,AAAA {sig}"), b"x", 100)
            .is_ok());
    }

    #[test]
    fn stale_and_malformed_timestamps_are_refused() {
        let secrets = WebhookSecrets::parse(SECRET).unwrap();
        let sig = secrets.sign("m", 1000, b"x").unwrap();
        assert_eq!(
            secrets.verify("m", "1000", &sig, b"x", 1000 + 301),
            Err(SignatureError::StaleTimestamp)
        );
        assert_eq!(
            secrets.verify("m", "1000", &sig, b"x", 1000 - 301),
            Err(SignatureError::StaleTimestamp)
        );
        assert!(secrets.verify("m", "1000", &sig, b"x", 1000 + 300).is_ok());
        assert_eq!(
            secrets.verify("m", "soon", &sig, b"x", 1000),
            Err(SignatureError::BadTimestamp)
        );
    }

    /// Issue 18: a timestamp at either end of i64 is stale, never an overflow.
    #[test]
    fn extreme_timestamps_are_stale_not_an_overflow() {
        let secrets = WebhookSecrets::parse(SECRET).unwrap();
        for (ts, now) in [
            (i64::MIN, 1_700_000_000),
            (i64::MAX, -1_700_000_000),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
        ] {
            let sig = secrets.sign("m", ts, b"x").unwrap();
            assert_eq!(
                secrets.verify("m", &ts.to_string(), &sig, b"x", now),
                Err(SignatureError::StaleTimestamp),
                "{ts} at {now}"
            );
        }
        let sig = secrets.sign("m", i64::MAX, b"x").unwrap();
        assert!(secrets
            .verify("m", &i64::MAX.to_string(), &sig, b"x", i64::MAX)
            .is_ok());
    }

    #[test]
    fn secrets_must_be_whsec_base64() {
        assert_eq!(
            WebhookSecrets::parse("MDEy").unwrap_err(),
            SecretError::Format
        );
        assert_eq!(
            WebhookSecrets::parse("whsec_!!!").unwrap_err(),
            SecretError::Format
        );
        assert_eq!(
            WebhookSecrets::parse("whsec_MDEy").unwrap_err(),
            SecretError::TooShort
        );
        assert!(!WebhookSecrets::parse("").unwrap().is_configured());
    }
}
