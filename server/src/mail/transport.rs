//! How mail leaves: SMTP (`HIRELAY_SMTP_URL`, pooled connections with timeouts) or, when no
//! SMTP server is configured, `.eml` files under `DATA_DIR/outbox/`, written with mode 0600 in
//! a 0700 directory (they carry live tokens).
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::config::{redact_url, Config};
use crate::store::entities::mail_outbox;

/// How long one SMTP command may take before the try counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// SMTP connections kept open to the server, and mails the sender hands over at once.
/// `smtp://` connections are hirelay's own, with `TCP_NODELAY` ([`super::direct_smtp`]);
/// over lettre's pool (`smtps://`) each mail waits about 40 ms on its connection whatever
/// the server, since lettre writes the body and its final `.` in two writes without it, so
/// throughput there is connections over that wait (see docs/performance.md).
pub const SMTP_CONNECTIONS: u32 = 16;

/// How long an SMTP connection stays open between mails.
const SMTP_IDLE: Duration = Duration::from_secs(60);

/// The configured way out.
#[derive(Clone)]
pub enum Transport {
    /// `smtp://`: plain or STARTTLS, on connections opened with `TCP_NODELAY`.
    Direct(std::sync::Arc<super::direct_smtp::DirectSmtp>),
    /// `smtps://`: lettre's pool.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// `.eml` files in this directory.
    File(PathBuf),
}

impl Transport {
    /// SMTP when `smtp_url` is set (`smtp://host:port` plain, `smtp://…?tls=required`
    /// STARTTLS, `smtps://user:pass@host` TLS), else files under `data_dir/outbox/`.
    pub fn from_config(config: &Config) -> anyhow::Result<Transport> {
        match &config.smtp_url {
            Some(url) => {
                let url = url.expose_secret();
                if let Some(direct) =
                    super::direct_smtp::parse(url, SMTP_CONNECTIONS, SMTP_TIMEOUT, SMTP_IDLE)
                {
                    let direct = direct.map_err(|e| {
                        anyhow::anyhow!("HIRELAY_SMTP_URL `{}`: {e}", redact_url(url))
                    })?;
                    return Ok(Transport::Direct(std::sync::Arc::new(direct)));
                }
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("HIRELAY_SMTP_URL `{}`: {e}", redact_url(url)))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .pool_config(
                        PoolConfig::new()
                            .max_size(SMTP_CONNECTIONS)
                            .idle_timeout(SMTP_IDLE),
                    )
                    .build();
                Ok(Transport::Smtp(transport))
            }
            None => {
                let dir = config.data_dir.join("outbox");
                crate::private_files::ensure_private_dir(&dir)?;
                Ok(Transport::File(dir))
            }
        }
    }

    /// What logs may say about it.
    pub fn describe(&self) -> String {
        match self {
            Transport::Direct(_) | Transport::Smtp(_) => "smtp".to_owned(),
            Transport::File(dir) => format!("files in {}", dir.display()),
        }
    }

    /// Hands one message (of outbox row `id`) over; the error says why it was not taken.
    pub async fn send(&self, id: &str, message: Message) -> Result<(), String> {
        let sent = match self {
            Transport::Direct(direct) => {
                let body = message.formatted();
                tokio::time::timeout(SMTP_TIMEOUT * 2, direct.send(message.envelope(), &body))
                    .await
                    .map_err(|_| "the SMTP server did not answer in time".to_owned())?
            }
            Transport::Smtp(t) => tokio::time::timeout(SMTP_TIMEOUT * 2, t.send(message))
                .await
                .map_err(|_| "the SMTP server did not answer in time".to_owned())?
                .map(|_| ())
                .map_err(|e| e.to_string()),
            // Named after the outbox row, so that erasing its candidate finds it
            // ([`erase_files`]).
            Transport::File(dir) => {
                let path = dir.join(format!("{id}.eml"));
                crate::private_files::write_private(&path, &message.formatted())
                    .await
                    .map_err(|e| format!("writing {}: {e}", path.display()))
            }
        };
        sent
    }
}

/// Issue 16: removes the `.eml` files of erased outbox rows (`ids`) from `dir`, and any other
/// `.eml` file there addressed to the person (files written before they were named after their
/// row; a name is not enough: two people may share one). Answers how many were removed.
pub fn erase_files(dir: &std::path::Path, ids: &[String], address: &str) -> std::io::Result<u64> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let named = path
            .file_stem()
            .and_then(|s| s.to_str())
            .is_some_and(|stem| ids.iter().any(|id| id == stem));
        let holds = || {
            std::fs::read(&path)
                .map(|bytes| {
                    crate::domain::personal::holds_address(
                        &String::from_utf8_lossy(&bytes),
                        address,
                    )
                })
                .unwrap_or(false)
        };
        if named || holds() {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// The message of an outbox row: From, To, Subject (UTF-8, encoded as the RFC asks), its
/// `Message-ID`, `Date`, the stored extra headers, and a `multipart/alternative` body with the
/// text part first and the HTML part last (the one mail clients prefer).
pub fn build_message(from: &str, row: &mail_outbox::Model) -> Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("sender address: {e}"))?;
    let to: Mailbox = row
        .recipient
        .parse()
        .map_err(|e| format!("recipient address: {e}"))?;
    let mut builder = Message::builder()
        .from(from)
        .to(to)
        .subject(row.subject.clone())
        .message_id(Some(row.message_id.clone()))
        .date_now();
    let headers: BTreeMap<String, String> = serde_json::from_str(&row.headers).unwrap_or_default();
    for (name, value) in headers {
        let name = HeaderName::new_from_ascii(name.clone())
            .map_err(|_| format!("header name `{name}` is not valid"))?;
        builder = builder.raw_header(HeaderValue::new(name, value));
    }
    builder
        .multipart(MultiPart::alternative_plain_html(
            row.text_body.clone(),
            row.html.clone(),
        ))
        .map_err(|e| e.to_string())
}
