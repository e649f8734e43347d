//! Issue 19 item 1: signing and posting a webhook from the command line with the server's own
//! signing code and secrets (`hirelay webhook sign|send`), so an integrator's first delivery is
//! signed over the file's exact bytes (a shell's `curl -d @file` strips newlines, and a
//! hand-quoted header loses `webhook-id`).
use std::net::SocketAddr;

use crate::config::SourceSecrets;
use crate::domain::status::EventSource;

/// An inbound webhook source, as its URL names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Bizreach,
    Ats,
    CareerRelay,
}

impl Source {
    /// Its part of `/v1/webhooks/{source}`.
    pub fn path(self) -> &'static str {
        match self {
            Source::Bizreach => "bizreach",
            Source::Ats => "ats",
            Source::CareerRelay => "career-relay",
        }
    }

    pub fn event_source(self) -> EventSource {
        match self {
            Source::Bizreach => EventSource::Bizreach,
            Source::Ats => EventSource::Ats,
            Source::CareerRelay => EventSource::CareerRelay,
        }
    }
}

impl std::str::FromStr for Source {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bizreach" => Ok(Source::Bizreach),
            "ats" => Ok(Source::Ats),
            "career-relay" | "career_relay" => Ok(Source::CareerRelay),
            other => Err(format!(
                "unknown source `{other}`; allowed: ats, bizreach, career-relay"
            )),
        }
    }
}

/// Why a delivery could not be signed or sent.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error("no signing secret is configured for {webhooks} webhooks: set {variable}")]
    NoSecret {
        webhooks: &'static str,
        variable: &'static str,
    },
    #[error("cannot reach {url}: {cause} (is `hirelay serve` running there? --url sets another)")]
    Unreachable { url: String, cause: String },
}

/// The three Standard Webhooks headers of one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub id: String,
    pub timestamp: i64,
    pub signature: String,
}

impl Signed {
    /// `(name, value)` of each header, in the contract's order.
    pub fn headers(&self) -> [(&'static str, String); 3] {
        [
            ("webhook-id", self.id.clone()),
            ("webhook-timestamp", self.timestamp.to_string()),
            ("webhook-signature", self.signature.clone()),
        ]
    }

    /// One `name: value` line per header, as `curl -H @FILE` reads them.
    pub fn header_lines(&self) -> String {
        self.headers()
            .iter()
            .map(|(name, value)| format!("{name}: {value}\n"))
            .collect()
    }
}

/// Signs `body` as `source`'s delivery `id` (a new `msg_…` when `None`) at `now` (unix
/// seconds), with the first configured secret of that source.
pub fn sign(
    secrets: &SourceSecrets,
    source: Source,
    id: Option<String>,
    body: &[u8],
    now: i64,
) -> Result<Signed, DeliverError> {
    let (keys, variable) = secrets
        .of(source.event_source())
        .ok_or(DeliverError::NoSecret {
            webhooks: source.path(),
            variable: "HIRELAY_WEBHOOK_SECRET_*",
        })?;
    let id = id.unwrap_or_else(|| format!("msg_{}", uuid::Uuid::new_v4().simple()));
    let signature = keys.sign(&id, now, body).ok_or(DeliverError::NoSecret {
        webhooks: source.path(),
        variable,
    })?;
    Ok(Signed {
        id,
        timestamp: now,
        signature,
    })
}

/// The server's base URL from its bind address (`0.0.0.0` and `::` are reached on loopback).
pub fn base_url(bind: SocketAddr) -> String {
    let host = match bind.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        std::net::IpAddr::V4(ip) => ip.to_string(),
    };
    format!("http://{host}:{}", bind.port())
}

/// Posts `body` as it is, signed, to `{base}/v1/webhooks/{source}`; answers the status and the
/// body of the answer.
pub async fn send(
    base: &str,
    source: Source,
    signed: &Signed,
    body: Vec<u8>,
) -> Result<(u16, String), DeliverError> {
    let url = format!(
        "{}/v1/webhooks/{}",
        base.trim_end_matches('/'),
        source.path()
    );
    let unreachable = |e: reqwest::Error| DeliverError::Unreachable {
        url: url.clone(),
        cause: e.to_string(),
    };
    let mut request = reqwest::Client::new()
        .post(&url)
        .header("content-type", "application/json")
        .timeout(std::time::Duration::from_secs(30))
        .body(body);
    for (name, value) in signed.headers() {
        request = request.header(name, value);
    }
    let answer = request.send().await.map_err(unreachable)?;
    let status = answer.status().as_u16();
    let text = answer.text().await.map_err(unreachable)?;
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::signature::WebhookSecrets;

    const SECRET: &str = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

    #[test]
    fn a_signed_file_verifies_with_the_same_secret_over_its_exact_bytes() {
        let secrets = SourceSecrets {
            ats: WebhookSecrets::parse(SECRET).unwrap(),
            ..SourceSecrets::default()
        };
        let body = b"{\n  \"type\": \"x\"\n}\n";
        let signed = sign(
            &secrets,
            Source::Ats,
            Some("msg_1".into()),
            body,
            1_700_000_000,
        )
        .unwrap();
        assert!(secrets
            .ats
            .verify(
                "msg_1",
                "1700000000",
                &signed.signature,
                body,
                1_700_000_000
            )
            .is_ok());
        let stripped = b"{  \"type\": \"x\"}";
        assert!(secrets
            .ats
            .verify(
                "msg_1",
                "1700000000",
                &signed.signature,
                stripped,
                1_700_000_000
            )
            .is_err());
        assert_eq!(
            signed.header_lines(),
            format!(
                "webhook-id: msg_1\nwebhook-timestamp: 1700000000\nwebhook-signature: {}\n",
                signed.signature
            )
        );
    }

    #[test]
    fn an_unconfigured_source_names_its_variable() {
        let error = sign(
            &SourceSecrets::default(),
            Source::CareerRelay,
            None,
            b"{}",
            0,
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY"),
            "{error}"
        );
    }

    #[test]
    fn the_base_url_reaches_an_unspecified_bind_on_loopback() {
        assert_eq!(
            base_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url("127.0.0.1:9000".parse().unwrap()),
            "http://127.0.0.1:9000"
        );
        assert_eq!("career-relay".parse(), Ok(Source::CareerRelay));
        assert!("crm"
            .parse::<Source>()
            .unwrap_err()
            .contains("ats, bizreach"));
    }
}
