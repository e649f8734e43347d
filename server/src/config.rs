//! Configuration: defaults → optional TOML file → `HIRELAY_*` variables → one validated [`Config`].
//!
//! [`SETTINGS`] is the one table of every setting, its default and its meaning; the README's
//! configuration table is checked against it by a test. A bad value stops start-up with a message
//! naming the variable and the file key.
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::domain::business_calendar::BusinessCalendar;
use crate::domain::recipients::RecipientAllowList;
pub use crate::domain::rules_source::RulesSource;
use crate::domain::schedule::Schedule;
use crate::domain::status_mapping::StatusMapping;
use crate::ingest::signature::WebhookSecrets;

/// One configurable setting: its file key (the variable is `HIRELAY_` + the key upper-cased).
pub struct Setting {
    pub key: &'static str,
    pub default: &'static str,
    pub doc: &'static str,
}

/// Every setting hirelay reads. Defaults that depend on another setting are described in `doc`
/// and left empty here.
pub const SETTINGS: &[Setting] = &[
    Setting { key: "bind", default: "127.0.0.1:8080", doc: "address and port the HTTP server listens on" },
    Setting { key: "data_dir", default: "./data", doc: "directory for the SQLite database, the mail outbox and the key file" },
    Setting { key: "database_url", default: "", doc: "`sqlite://…` or `postgres://…`; default an SQLite file `hirelay.db` in the data directory" },
    Setting { key: "rules_dir", default: "./rules", doc: "directory of the rule scripts (`import.rhai`, `status.rhai`, `career_relay.rhai`)" },
    Setting { key: "templates_dir", default: "./templates", doc: "directory of the email templates" },
    Setting { key: "rules_source", default: "both", doc: "which edits of rule scripts and templates win: `both` (a file's content is taken when that file changed since it was last taken, so an API edit is never undone by another file, or by an unchanged one), `files` (the files on disk always run; `PUT` and rollback answer `409`), `api` (files only seed what the database lacks; edits on disk are ignored after that)" },
    Setting { key: "smtp_url", default: "", doc: "`smtp://host:port` (or `smtps://user:pass@host`); unset: mail is written as `.eml` files under `DATA_DIR/outbox/`" },
    Setting { key: "public_url", default: "", doc: "base of links in emails; default `http://` + the bind address, and Career Relay invitations are held (recorded, not sent) until it is set" },
    Setting { key: "admin_token", default: "", doc: "a bootstrap admin API token, at least 24 characters (use `hirelay token create` for real ones)" },
    Setting { key: "admin_name", default: "", doc: "the person the bootstrap admin token acts for, named as the requester (ユーザー名) in the group link approval email; unset: the company's 採用担当" },
    Setting { key: "webhook_secret_bizreach", default: "", doc: "`whsec_…` secret(s) for `/v1/webhooks/bizreach`, space-separated during rotation" },
    Setting { key: "webhook_secret_ats", default: "", doc: "`whsec_…` secret(s) for `/v1/webhooks/ats`" },
    Setting { key: "webhook_secret_career_relay", default: "", doc: "`whsec_…` secret(s) for `/v1/webhooks/career-relay`" },
    Setting { key: "bizreach_url", default: "", doc: "base URL of the BizReach-compatible source API; `https://` (`http://` only for a loopback host)" },
    Setting { key: "bizreach_retry_base_ms", default: "500", doc: "first retry delay of calls to the BizReach source API, doubled per try, with jitter (3 tries)" },
    Setting { key: "bizreach_timeout_secs", default: "30", doc: "how long one call to the BizReach source API may take before it is given up (and retried); a poll that times out resumes from its cursor at the next run" },
    Setting { key: "career_relay_url", default: "", doc: "the Career Relay registration site the tracking link redirects to; invitations are held until it is set" },
    Setting { key: "mail_from", default: "", doc: "sender address, optionally with a display name (`株式会社サンプル 採用担当 <noreply@example.jp>`); default `noreply@` + the public URL's host; invitations are held while both are unset" },
    Setting { key: "sender_name", default: "", doc: "the sender's name every Career Relay invitation shows (特定電子メール法); invitations are held (recorded and queued, not sent) until it, `sender_address` and `sender_contact` are set" },
    Setting { key: "sender_address", default: "", doc: "the sender's postal address every invitation shows" },
    Setting { key: "sender_contact", default: "", doc: "an address or URL for inquiries and refusals every invitation shows" },
    Setting { key: "test_recipients", default: "", doc: "addresses and `@domain`s a template test-send may go to, e.g. `@example.co.jp hr@example.jp`; default the domain of `HIRELAY_MAIL_FROM`" },
    Setting { key: "poll_schedule", default: "0 */6 * * * *", doc: "cron expression of the BizReach poller (seconds field optional)" },
    Setting { key: "report_schedule", default: "0 0 1 * *", doc: "cron expression (UTC) of the monthly Career Relay report (C8); default 00:00 UTC on the 1st, 09:00 in Japan" },
    Setting { key: "sync_schedule", default: "0 */15 * * * *", doc: "cron expression of the progress sync to BizReach" },
    Setting { key: "status_mapping", default: "", doc: "progress sync's ATS → BizReach status mapping, overriding entries of the default table (docs/progress-sync.md), e.g. `offer=in_progress,joined=hired`" },
    Setting { key: "secret_key", default: "", doc: "base64 32-byte key encrypting secrets at rest; default a key file `secret.key` created in the data directory" },
    Setting {
        key: "database_pool",
        default: "16",
        doc: "database connections this instance opens besides event processing's own (one per worker, so webhooks never wait behind the workers); on SQLite at most 8, plus the ingest writer's 1",
    },
    Setting { key: "body_limit", default: "1048576", doc: "largest accepted webhook body, in bytes" },
    Setting { key: "workers", default: "", doc: "event-processing workers; default 2 on SQLite (one writer: more would only wait for it), 4 on PostgreSQL (more overlap each other's round trips)" },
    Setting { key: "max_attempts", default: "8", doc: "tries before a failing event is parked as `dead`" },
    Setting { key: "mail_lease_secs", default: "300", doc: "how long a mail sender holds the mails it claimed; mails a crashed instance had claimed are sent by another after this (once each: the sent mark is fenced by the lease)" },
    Setting { key: "event_lease_secs", default: "60", doc: "how long a worker holds claimed events (a batch stops taking more after half of it); a crashed worker's batch is pending again at once, an event it was retrying alone after this" },
    Setting { key: "company_name", default: "", doc: "the company name candidate emails and pages show; default the BizReach account name, else `HIRELAY_SENDER_NAME`, else 採用担当" },
    Setting { key: "retention_schedule", default: "0 30 18 * * *", doc: "cron expression (UTC) of the `retention` job, which purges what the `retention_*` windows let go (once across instances); default 03:30 in Japan" },
    Setting { key: "retention_payload_days", default: "365", doc: "days a finished event's stored webhook payload is kept (a purge marker stays, which replays and dry runs report); `0` keeps them" },
    Setting { key: "retention_mail_body_days", default: "90", doc: "days the body and template data of a mail no longer to be sent are kept; `0` keeps them" },
    Setting { key: "retention_script_log_days", default: "365", doc: "days a decision record's script log and context are kept (its actions stay); `0` keeps them" },
    Setting { key: "retention_candidate_days", default: "1095", doc: "days after their last activity (application change, invitation, click, registration) a candidate is erased as `DELETE /v1/candidates/{id}` erases, totals kept; `0` keeps them" },
    Setting { key: "retention_audit_days", default: "1825", doc: "days audit entries (changes, and who read or erased which candidate's data) are kept; `0` keeps them" },
    Setting { key: "invitation_cooldown_days", default: "365", doc: "the least days between two Career Relay invitations to one person (one normalised address), however many positions reject them; someone who registered is never invited again (C8)" },
    Setting { key: "career_relay_ratio", default: "10", doc: "registered rejected candidates per free referral slot (C1)" },
    Setting { key: "career_relay_targets", default: "", doc: "target rates of the funnel's steps from the step before (C5), e.g. `invitation_sent=0.95,link_clicked=0.3,registered=0.2`" },
    Setting { key: "business_closures", default: "12-29..01-03", doc: "days the company is closed every year besides weekends and national holidays, which `next_business_morning` and `is_business_day` skip: `MM-DD` days and `MM-DD..MM-DD` ranges (wrapping over the new year) separated by commas, e.g. `12-29..01-03,08-13..08-15`; empty: none" },
    Setting { key: "send_hour", default: "9", doc: "the hour (JST, 0–23) a business morning starts, as `next_business_morning` gives it" },
    Setting { key: "career_relay_fee_per_hire", default: "", doc: "what a hire through an agency would cost, in yen (an integer): the monthly report's ROI is the slots used in the month times this; unset, ROI is shown as not configured" },
    Setting { key: "session_idle_minutes", default: "120", doc: "a console session ends after this many minutes without a request" },
    Setting { key: "session_lifetime_hours", default: "12", doc: "a console session ends this many hours after sign-in, however busy" },
    Setting { key: "signin_max_failures", default: "5", doc: "failed sign-ins (each within `signin_lockout_minutes` of the one before) that lock a user account" },
    Setting { key: "signin_lockout_minutes", default: "15", doc: "how long a locked account refuses every sign-in (`429` with `Retry-After`), and the window its failures count in" },
    Setting { key: "log_format", default: "text", doc: "`text` or `json`" },
    Setting { key: "metrics_token", default: "", doc: "when set, `GET /metrics` needs `Authorization: Bearer` with this token" },
    Setting { key: "outbound_allow_hosts", default: "", doc: "hosts, addresses or CIDR networks outbound webhooks may reach although internal (loopback, private, link-local, CGNAT), separated by spaces or commas, e.g. `hooks.internal 10.1.0.0/16`; also the only hosts a webhook may reach over `http://`" },
    Setting { key: "trusted_proxies", default: "", doc: "addresses or CIDR networks of the reverse proxies in front of hirelay, separated by spaces or commas, e.g. `127.0.0.1`; a request from one of them is counted, by the per-address limits on failed sign-ins and tokens, under the nearest address of `X-Forwarded-For` that is not a proxy (without it, every client behind a proxy shares the proxy's address)" },
];

/// The sentence every invitation shows that its reader may refuse further mail (特定電子メール法
/// Art. 4): the `opt_out_notice` variable.
pub const OPT_OUT_NOTICE: &str =
    "このメールの受信を希望されない場合は、下記の配信停止リンクから今後の配信を停止できます。";

/// What every promotional mail must show of its sender (特定電子メール法 Art. 4): a name, a
/// postal address, and where to send inquiries and refusals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LegalSender {
    pub name: Option<String>,
    pub address: Option<String>,
    pub contact: Option<String>,
}

impl LegalSender {
    /// Sets the legal display's variables of a promotional mail's `data` to these values (those
    /// set), with the refusal sentence.
    pub fn fill(&self, data: &mut serde_json::Value) {
        let Some(fields) = data.as_object_mut() else {
            return;
        };
        for (key, value) in [
            ("sender_name", &self.name),
            ("sender_address", &self.address),
            ("sender_contact", &self.contact),
        ] {
            if let Some(value) = value {
                fields.insert(key.into(), value.clone().into());
            }
        }
        fields.insert("opt_out_notice".into(), OPT_OUT_NOTICE.into());
    }

    /// The variables still to set before an invitation may be sent.
    pub fn missing(&self) -> Vec<&'static str> {
        [
            ("HIRELAY_SENDER_NAME", &self.name),
            ("HIRELAY_SENDER_ADDRESS", &self.address),
            ("HIRELAY_SENDER_CONTACT", &self.contact),
        ]
        .into_iter()
        .filter(|(_, v)| v.is_none())
        .map(|(k, _)| k)
        .collect()
    }
}

/// A setting that could not be read, naming where it came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
    #[error("config file {path}: {message}")]
    File { path: String, message: String },
}

/// Where a raw value came from, for error messages.
#[derive(Clone, Debug)]
enum Origin {
    Default,
    File(String),
    Env,
}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: SecretString,
    pub rules_dir: PathBuf,
    pub templates_dir: PathBuf,
    /// Whether rule scripts and templates are edited on disk, through the API, or both.
    pub rules_source: RulesSource,
    pub smtp_url: Option<SecretString>,
    pub public_url: String,
    pub admin_token: Option<SecretString>,
    /// Who the bootstrap admin token acts for: the approval email's ユーザー名 (issue 19).
    pub admin_name: Option<String>,
    pub webhook_secrets: SourceSecrets,
    pub bizreach_url: Option<String>,
    pub bizreach_retry_base: std::time::Duration,
    /// One call to the BizReach source API is given up after this.
    pub bizreach_timeout: std::time::Duration,
    pub career_relay_url: Option<String>,
    pub mail_from: String,
    /// C8: the least days between two invitations to one person.
    pub invitation_cooldown_days: u32,
    /// Who promotional mail says it is from (特定電子メール法): name, postal address, contact.
    pub sender: LegalSender,
    /// The settings still at their defaults that Career Relay invitations need (issue 19):
    /// while any is, invitations are recorded and queued but held, not sent.
    pub invitations_missing: Vec<&'static str>,
    /// Who a template test-send may go to.
    pub test_recipients: RecipientAllowList,
    pub poll_schedule: Schedule,
    pub sync_schedule: Schedule,
    pub report_schedule: Schedule,
    /// Issue 16: when the `retention` job runs, and what it lets go.
    pub retention_schedule: Schedule,
    pub retention: crate::store::retention::RetentionWindows,
    /// Progress sync's ATS → BizReach status mapping (P2, P4).
    pub status_mapping: StatusMapping,
    pub secret_key: Option<SecretString>,
    pub body_limit: usize,
    pub database_pool: u32,
    pub workers: usize,
    pub max_attempts: u32,
    pub event_lease_secs: u64,
    pub mail_lease_secs: u64,
    pub career_relay_ratio: u32,
    pub career_relay_targets: crate::relay::funnel::Targets,
    /// Yen a referral slot saves (an agency's fee per hire): prices slots used as ROI (C6).
    pub career_relay_fee_per_hire: Option<u64>,
    pub company_name: Option<String>,
    /// Business days (holidays, weekends, the company's closures) and the send hour, for the
    /// scripts' `next_business_morning` and `is_business_day`.
    pub business_calendar: BusinessCalendar,
    pub log_format: LogFormat,
    /// Internal hosts outbound webhooks may reach anyway (M7).
    pub outbound_allow_hosts: crate::outbound::AllowedHosts,
    pub trusted_proxies: crate::http::client_ip::TrustedProxies,
    /// The bearer token `/metrics` needs, when set.
    pub metrics_token: Option<SecretString>,
    /// Console sessions: idle and absolute expiry.
    pub session_idle_minutes: u32,
    pub session_lifetime_hours: u32,
    /// Sign-in lock-out: failures that lock an account, and for how long.
    pub signin_max_failures: u32,
    pub signin_lockout_minutes: u32,
}

/// The signing secrets of each inbound webhook source.
#[derive(Clone, Default)]
pub struct SourceSecrets {
    pub bizreach: WebhookSecrets,
    pub ats: WebhookSecrets,
    pub career_relay: WebhookSecrets,
}

impl SourceSecrets {
    /// The secrets of an inbound source, with the variable that sets them; `None` for
    /// `hirelay`, which is never received.
    pub fn of(
        &self,
        source: crate::domain::status::EventSource,
    ) -> Option<(&WebhookSecrets, &'static str)> {
        use crate::domain::status::EventSource;
        match source {
            EventSource::Bizreach => Some((&self.bizreach, "HIRELAY_WEBHOOK_SECRET_BIZREACH")),
            EventSource::Ats => Some((&self.ats, "HIRELAY_WEBHOOK_SECRET_ATS")),
            EventSource::CareerRelay => {
                Some((&self.career_relay, "HIRELAY_WEBHOOK_SECRET_CAREER_RELAY"))
            }
            EventSource::Hirelay => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field("database", &redact_url(self.database_url.expose_secret()))
            .field("rules_dir", &self.rules_dir)
            .field("templates_dir", &self.templates_dir)
            .field(
                "smtp",
                &self
                    .smtp_url
                    .as_ref()
                    .map(|u| redact_url(u.expose_secret())),
            )
            .field("public_url", &self.public_url)
            .field("bizreach_url", &self.bizreach_url)
            .field("mail_from", &self.mail_from)
            .field("sender", &self.sender)
            .field("invitation_cooldown_days", &self.invitation_cooldown_days)
            .field("test_recipients", &self.test_recipients)
            .finish_non_exhaustive()
    }
}

/// `scheme://user:pass@host/…` → `scheme://host/…`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://{}", &url[..s], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

struct Raw {
    values: HashMap<&'static str, (String, Origin)>,
}

impl Raw {
    fn get(&self, key: &str) -> Option<(&str, &Origin)> {
        self.values
            .get(key)
            .filter(|(v, _)| !v.trim().is_empty())
            .map(|(v, o)| (v.trim(), o))
    }

    fn origin_name(key: &str, origin: &Origin) -> String {
        let var = format!("HIRELAY_{}", key.to_uppercase());
        match origin {
            Origin::Env => var,
            Origin::File(path) => format!("`{key}` in {path}"),
            Origin::Default => format!("default of {var}"),
        }
    }

    fn invalid(key: &str, origin: &Origin, message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: Self::origin_name(key, origin),
            message: message.into(),
        }
    }

    fn parse<T: FromStr>(&self, key: &str) -> Result<Option<T>, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.get(key) {
            None => Ok(None),
            Some((v, origin)) => v
                .parse::<T>()
                .map(Some)
                .map_err(|e| Self::invalid(key, origin, format!("{e} (got `{v}`)"))),
        }
    }

    fn required<T: FromStr>(&self, key: &str) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.parse(key)?
            .ok_or_else(|| Self::invalid(key, &Origin::Default, "has no value"))
    }

    fn string(&self, key: &str) -> Option<String> {
        self.get(key).map(|(v, _)| v.to_owned())
    }

    fn secrets(&self, key: &str) -> Result<WebhookSecrets, ConfigError> {
        match self.get(key) {
            None => Ok(WebhookSecrets::default()),
            Some((v, origin)) => {
                WebhookSecrets::parse(v).map_err(|e| Self::invalid(key, origin, e.to_string()))
            }
        }
    }
}

impl Config {
    /// Reads the configuration: `file` if given (it must exist), else `hirelay.toml` if present,
    /// then the `HIRELAY_*` variables of `env`.
    pub fn load(file: Option<&Path>, env: &HashMap<String, String>) -> Result<Config, ConfigError> {
        let mut values: HashMap<&'static str, (String, Origin)> = SETTINGS
            .iter()
            .map(|s| (s.key, (s.default.to_owned(), Origin::Default)))
            .collect();
        let default_file = Path::new("hirelay.toml");
        let file = match file {
            Some(f) => Some(f),
            None if default_file.exists() => Some(default_file),
            None => None,
        };
        if let Some(path) = file {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
                path: shown.clone(),
                message: e.to_string(),
            })?;
            let table: toml::Table =
                text.parse()
                    .map_err(|e: toml::de::Error| ConfigError::File {
                        path: shown.clone(),
                        message: e.to_string(),
                    })?;
            for (key, value) in table {
                let Some(setting) = SETTINGS.iter().find(|s| s.key == key) else {
                    return Err(ConfigError::File {
                        path: shown,
                        message: format!("unknown key `{key}`"),
                    });
                };
                let value = match value {
                    toml::Value::String(s) => s,
                    other => other.to_string(),
                };
                values.insert(setting.key, (value, Origin::File(shown.clone())));
            }
        }
        for setting in SETTINGS {
            if let Some(v) = env.get(&format!("HIRELAY_{}", setting.key.to_uppercase())) {
                values.insert(setting.key, (v.clone(), Origin::Env));
            }
        }
        Self::from_raw(&Raw { values })
    }

    /// The configuration from the process environment.
    pub fn from_env(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load(file, &std::env::vars().collect())
    }

    fn from_raw(raw: &Raw) -> Result<Config, ConfigError> {
        let bind = bind_address(raw)?;
        let data_dir: PathBuf = raw.required("data_dir")?;
        let database_url = match raw.get("database_url") {
            Some((url, origin)) => {
                if !(url.starts_with("sqlite:")
                    || url.starts_with("postgres://")
                    || url.starts_with("postgresql://"))
                {
                    return Err(Raw::invalid(
                        "database_url",
                        origin,
                        "must start with sqlite:// or postgres://",
                    ));
                }
                url.to_owned()
            }
            None => format!(
                "sqlite://{}?mode=rwc",
                data_dir.join("hirelay.db").display()
            ),
        };
        let public_url = raw
            .string("public_url")
            .unwrap_or_else(|| format!("http://{bind}"))
            .trim_end_matches('/')
            .to_owned();
        if let Some((v, origin)) = raw.get("public_url") {
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(Raw::invalid(
                    "public_url",
                    origin,
                    "must be an http:// or https:// URL",
                ));
            }
        }
        if let Some((v, origin)) = raw.get("career_relay_url") {
            if !(v.starts_with("http://") || v.starts_with("https://")) {
                return Err(Raw::invalid(
                    "career_relay_url",
                    origin,
                    "must be an http:// or https:// URL",
                ));
            }
        }
        if let Some((v, origin)) = raw.get("bizreach_url") {
            // The organisation admin's password goes there: never in clear text over a network.
            let loopback = v.starts_with("http://") && is_loopback_host(url_host(v));
            if !(v.starts_with("https://") || loopback) {
                return Err(Raw::invalid(
                    "bizreach_url",
                    origin,
                    "must be an https:// URL (http:// only for a loopback host such as 127.0.0.1)",
                ));
            }
        }
        let mail_from = match raw.get("mail_from") {
            Some((v, origin)) => crate::domain::email::Sender::parse(v)
                .map_err(|e| {
                    Raw::invalid(
                        "mail_from",
                        origin,
                        format!("{e} (e.g. `株式会社サンプル 採用担当 <noreply@example.jp>`)"),
                    )
                })?
                .to_string(),
            None => format!("noreply@{}", url_host(&public_url)),
        };
        let sender = LegalSender {
            name: raw.string("sender_name").filter(|v| !v.trim().is_empty()),
            address: raw
                .string("sender_address")
                .filter(|v| !v.trim().is_empty()),
            contact: raw
                .string("sender_contact")
                .filter(|v| !v.trim().is_empty()),
        };
        let invitations_missing = invitations_missing(raw, &sender);
        let test_recipients = match raw.parse("test_recipients")? {
            Some(list) => list,
            None => RecipientAllowList::domain(
                mail_from
                    .rsplit_once('@')
                    .map_or("", |(_, d)| d.trim_end_matches('>')),
            ),
        };
        let log_format = match raw.get("log_format") {
            Some(("json", _)) => LogFormat::Json,
            Some(("text", _)) | None => LogFormat::Text,
            Some((_, origin)) => {
                return Err(Raw::invalid(
                    "log_format",
                    origin,
                    "must be `text` or `json`",
                ))
            }
        };
        let positive = |key: &str| -> Result<u64, ConfigError> {
            let v: u64 = raw.required(key)?;
            if v == 0 {
                let origin = raw
                    .get(key)
                    .map(|(_, o)| o.clone())
                    .unwrap_or(Origin::Default);
                return Err(Raw::invalid(key, &origin, "must be at least 1"));
            }
            Ok(v)
        };
        let workers = match raw.get("workers") {
            Some(_) => positive("workers")? as usize,
            None if database_url.starts_with("sqlite:") => 2,
            None => 4,
        };
        Ok(Config {
            bind,
            database_url: SecretString::from(database_url),
            rules_dir: raw.required("rules_dir")?,
            templates_dir: raw.required("templates_dir")?,
            rules_source: raw.required("rules_source")?,
            smtp_url: raw.string("smtp_url").map(SecretString::from),
            admin_token: admin_token(raw)?,
            admin_name: raw.string("admin_name"),
            webhook_secrets: SourceSecrets {
                bizreach: raw.secrets("webhook_secret_bizreach")?,
                ats: raw.secrets("webhook_secret_ats")?,
                career_relay: raw.secrets("webhook_secret_career_relay")?,
            },
            bizreach_url: raw
                .string("bizreach_url")
                .map(|u| u.trim_end_matches('/').to_owned()),
            bizreach_retry_base: std::time::Duration::from_millis(
                raw.required("bizreach_retry_base_ms")?,
            ),
            bizreach_timeout: std::time::Duration::from_secs(positive("bizreach_timeout_secs")?),
            career_relay_url: raw.string("career_relay_url"),
            mail_from,
            invitation_cooldown_days: raw.required("invitation_cooldown_days")?,
            sender,
            invitations_missing,
            test_recipients,
            poll_schedule: raw.required("poll_schedule")?,
            sync_schedule: raw.required("sync_schedule")?,
            report_schedule: raw.required("report_schedule")?,
            retention_schedule: raw.required("retention_schedule")?,
            retention: crate::store::retention::RetentionWindows {
                payload_days: raw.required("retention_payload_days")?,
                mail_body_days: raw.required("retention_mail_body_days")?,
                script_log_days: raw.required("retention_script_log_days")?,
                candidate_days: raw.required("retention_candidate_days")?,
                audit_days: raw.required("retention_audit_days")?,
            },
            status_mapping: raw.parse("status_mapping")?.unwrap_or_default(),
            secret_key: raw.string("secret_key").map(SecretString::from),
            body_limit: positive("body_limit")? as usize,
            database_pool: positive("database_pool")? as u32,
            workers,
            max_attempts: positive("max_attempts")? as u32,
            event_lease_secs: positive("event_lease_secs")?,
            mail_lease_secs: positive("mail_lease_secs")?,
            career_relay_ratio: positive("career_relay_ratio")? as u32,
            career_relay_targets: raw.parse("career_relay_targets")?.unwrap_or_default(),
            career_relay_fee_per_hire: raw.parse("career_relay_fee_per_hire")?,
            company_name: raw.string("company_name"),
            business_calendar: BusinessCalendar::new(
                raw.parse("business_closures")?.unwrap_or_default(),
                raw.required("send_hour")?,
            ),
            log_format,
            outbound_allow_hosts: raw.parse("outbound_allow_hosts")?.unwrap_or_default(),
            trusted_proxies: raw.parse("trusted_proxies")?.unwrap_or_default(),
            metrics_token: raw.string("metrics_token").map(SecretString::from),
            session_idle_minutes: positive("session_idle_minutes")? as u32,
            session_lifetime_hours: positive("session_lifetime_hours")? as u32,
            signin_max_failures: positive("signin_max_failures")? as u32,
            signin_lockout_minutes: positive("signin_lockout_minutes")? as u32,
            public_url,
            data_dir,
        })
    }

    /// Where the database is, for people: an SQLite file's absolute path, a PostgreSQL URL
    /// without its password (issue 19: a command run in the wrong directory says so).
    pub fn database_location(&self) -> String {
        crate::store::database_location(self.database_url.expose_secret())
    }

    /// Whether the database is SQLite (the embedded default).
    pub fn is_sqlite(&self) -> bool {
        self.database_url.expose_secret().starts_with("sqlite:")
    }
}

/// Issue 19: what a candidate would otherwise get from defaults — no legal display, links to
/// the bind address, mail from `noreply@` that address, a tracking link leading nowhere — as the
/// variables to set, in the README's order.
fn invitations_missing(raw: &Raw, sender: &LegalSender) -> Vec<&'static str> {
    let mut missing = sender.missing();
    let public_url_unset = raw.get("public_url").is_none();
    if public_url_unset {
        missing.push("HIRELAY_PUBLIC_URL");
    }
    // Derived from a configured public URL, `noreply@` its host is a real domain.
    if public_url_unset && raw.get("mail_from").is_none() {
        missing.push("HIRELAY_MAIL_FROM");
    }
    if raw.get("career_relay_url").is_none() {
        missing.push("HIRELAY_CAREER_RELAY_URL");
    }
    missing
}

/// The address to listen on: a host and a port (issue 19: `8080` alone was refused without
/// saying what would do).
fn bind_address(raw: &Raw) -> Result<SocketAddr, ConfigError> {
    let (value, origin) = raw
        .get("bind")
        .ok_or_else(|| Raw::invalid("bind", &Origin::Default, "has no value"))?;
    value.parse().map_err(|e| {
        let hint = if value.parse::<u16>().is_ok() {
            format!("give a host and the port, e.g. `127.0.0.1:{value}` (this machine only) or `0.0.0.0:{value}` (every interface)")
        } else {
            "give a host and a port, e.g. `127.0.0.1:8080` (this machine only) or `0.0.0.0:8080` (every interface)".to_owned()
        };
        Raw::invalid("bind", origin, format!("{e} (got `{value}`); {hint}"))
    })
}

/// The shortest bootstrap admin token accepted: it opens everything, so it must not be
/// guessable (issue 18).
pub const MIN_ADMIN_TOKEN_CHARS: usize = 24;

/// The bootstrap admin token, refused when short; the message never shows it.
fn admin_token(raw: &Raw) -> Result<Option<SecretString>, ConfigError> {
    match raw.get("admin_token") {
        None => Ok(None),
        Some((token, origin)) if token.chars().count() < MIN_ADMIN_TOKEN_CHARS => {
            Err(Raw::invalid(
                "admin_token",
                origin,
                format!(
                    "is {} characters long; an admin token needs at least {MIN_ADMIN_TOKEN_CHARS} \
                     (e.g. the output of `openssl rand -hex 24`)",
                    token.chars().count()
                ),
            ))
        }
        Some((token, _)) => Ok(Some(SecretString::from(token.to_owned()))),
    }
}

/// The host of an `http(s)://host[:port]/…` URL (an IPv6 address without its brackets).
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    host.split(':').next().unwrap_or(host)
}

/// `localhost` or a loopback address (127.0.0.0/8, ::1).
fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_need_no_configuration() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(
            c.database_url.expose_secret(),
            "sqlite://./data/hirelay.db?mode=rwc"
        );
        assert_eq!(c.public_url, "http://127.0.0.1:8080");
        assert_eq!(c.mail_from, "noreply@127.0.0.1");
        assert!(c.smtp_url.is_none());
        assert_eq!(c.career_relay_ratio, 10);
        assert_eq!(c.status_mapping, StatusMapping::default());
        assert_eq!(c.workers, 2);
    }

    /// PostgreSQL takes several writers: more workers overlap each other's round trips.
    #[test]
    fn workers_default_by_database_and_as_set() {
        let postgres = [("HIRELAY_DATABASE_URL", "postgres://h:p@127.0.0.1/h")];
        assert_eq!(Config::load(None, &env(&postgres)).unwrap().workers, 4);
        let set = [postgres[0], ("HIRELAY_WORKERS", "5")];
        assert_eq!(Config::load(None, &env(&set)).unwrap().workers, 5);
        let zero = Config::load(None, &env(&[("HIRELAY_WORKERS", "0")])).unwrap_err();
        assert!(zero.to_string().contains("HIRELAY_WORKERS"), "{zero}");
    }

    #[test]
    fn p3_default_sync_schedule_is_every_15_minutes() {
        use chrono::TimeZone;
        let c = Config::load(None, &env(&[])).unwrap();
        let start = chrono::Utc
            .with_ymd_and_hms(2026, 11, 20, 10, 1, 0)
            .unwrap();
        let first = c.sync_schedule.after(start).unwrap();
        let second = c.sync_schedule.after(first).unwrap();
        assert_eq!(
            first,
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 20, 10, 15, 0)
                .unwrap()
        );
        assert_eq!(second - first, chrono::Duration::minutes(15));
    }

    #[test]
    fn status_mapping_overrides_the_default_table() {
        let c = Config::load(None, &env(&[("HIRELAY_STATUS_MAPPING", "offer=hired")])).unwrap();
        assert_eq!(
            c.status_mapping
                .map(crate::domain::status::AtsStatus::Offer),
            Some(crate::domain::status::BizreachStatus::Hired)
        );
    }

    /// Issue 18: a short bootstrap admin token stops start-up, naming the variable and never
    /// showing the token.
    #[test]
    fn a_short_admin_token_is_refused() {
        let short = "dev-admin-token";
        let err = Config::load(None, &env(&[("HIRELAY_ADMIN_TOKEN", short)])).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with("HIRELAY_ADMIN_TOKEN:"), "{message}");
        assert!(message.contains("at least 24"), "{message}");
        assert!(!message.contains(short), "{message}");
        let long = "0123456789abcdef01234567";
        let c = Config::load(None, &env(&[("HIRELAY_ADMIN_TOKEN", long)])).unwrap();
        assert_eq!(c.admin_token.unwrap().expose_secret(), long);
    }

    #[test]
    fn a_bad_value_names_the_variable() {
        let err = Config::load(None, &env(&[("HIRELAY_BIND", "nowhere")])).unwrap_err();
        assert!(err.to_string().starts_with("HIRELAY_BIND:"), "{err}");
        let err = Config::load(
            None,
            &env(&[("HIRELAY_POLL_SCHEDULE", "every now and then")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("HIRELAY_POLL_SCHEDULE:"),
            "{err}"
        );
        let err = Config::load(None, &env(&[("HIRELAY_WEBHOOK_SECRET_ATS", "nope")])).unwrap_err();
        assert!(
            err.to_string().contains("HIRELAY_WEBHOOK_SECRET_ATS"),
            "{err}"
        );
        let err = Config::load(None, &env(&[("HIRELAY_WORKERS", "0")])).unwrap_err();
        assert!(err.to_string().contains("HIRELAY_WORKERS"), "{err}");
        let err =
            Config::load(None, &env(&[("HIRELAY_STATUS_MAPPING", "offer=pending")])).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("HIRELAY_STATUS_MAPPING:"), "{text}");
        assert!(text.contains("in_progress, rejected"), "{text}");
        let err = Config::load(
            None,
            &env(&[("HIRELAY_CAREER_RELAY_TARGETS", "clicks=0.5")]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("HIRELAY_CAREER_RELAY_TARGETS:"), "{text}");
        assert!(text.contains("link_clicked"), "{text}");
    }

    #[test]
    fn variables_override_the_file_and_unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hirelay.toml");
        std::fs::write(
            &path,
            "bind = \"127.0.0.1:9000\"\npublic_url = \"https://jobs.example.jp\"\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), &env(&[("HIRELAY_BIND", "127.0.0.1:9001")])).unwrap();
        assert_eq!(c.bind.port(), 9001);
        assert_eq!(c.mail_from, "noreply@jobs.example.jp");
        std::fs::write(&path, "bnid = \"x\"\n").unwrap();
        let err = Config::load(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("unknown key `bnid`"), "{err}");
        std::fs::write(&path, "workers = 0\n").unwrap();
        let err = Config::load(Some(&path), &env(&[])).unwrap_err();
        assert!(err.to_string().contains("`workers` in"), "{err}");
    }

    /// The business calendar comes from config: closures (年末年始 by default) and the send hour;
    /// a bad value stops start-up naming the variable, with an example.
    #[test]
    fn c2_business_closures_and_send_hour_are_configured() {
        let c = Config::load(None, &env(&[])).unwrap();
        assert_eq!(c.business_calendar, BusinessCalendar::default());
        let c = Config::load(
            None,
            &env(&[
                ("HIRELAY_BUSINESS_CLOSURES", "08-13..08-15"),
                ("HIRELAY_SEND_HOUR", "10"),
            ]),
        )
        .unwrap();
        let calendar = &c.business_calendar;
        assert_eq!(calendar.send_hour().hour(), 10);
        let obon = chrono::NaiveDate::from_ymd_opt(2027, 8, 13).unwrap();
        let year_end = chrono::NaiveDate::from_ymd_opt(2027, 12, 29).unwrap();
        assert_eq!(calendar.is_business_date(obon), Ok(false));
        assert_eq!(calendar.is_business_date(year_end), Ok(true));
        let none = Config::load(None, &env(&[("HIRELAY_BUSINESS_CLOSURES", "")])).unwrap();
        assert_eq!(none.business_calendar.is_business_date(year_end), Ok(true));

        let err = Config::load(None, &env(&[("HIRELAY_BUSINESS_CLOSURES", "12-29-01-03")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("HIRELAY_BUSINESS_CLOSURES:"), "{err}");
        assert!(err.contains("e.g. `12-29..01-03"), "{err}");
        let err = Config::load(None, &env(&[("HIRELAY_SEND_HOUR", "24")]))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("HIRELAY_SEND_HOUR:"), "{err}");
        assert!(err.contains("e.g. `9`"), "{err}");
    }

    /// The README's configuration table lists every setting with its default.
    #[test]
    fn the_readme_documents_every_setting() {
        let readme =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
        for setting in SETTINGS {
            let default = if setting.default.is_empty() {
                "—".to_owned()
            } else {
                format!("`{}`", setting.default)
            };
            let row = format!(
                "| `HIRELAY_{}` (`{}`) | {default} | {} |",
                setting.key.to_uppercase(),
                setting.key,
                setting.doc
            );
            assert!(readme.contains(&row), "README.md lacks the row:\n{row}");
        }
    }

    /// M8: the BizReach password never travels in clear text beyond this machine.
    #[test]
    fn m8_the_bizreach_url_needs_https_except_on_loopback() {
        let err = Config::load(
            None,
            &env(&[("HIRELAY_BIZREACH_URL", "http://bizreach.example.com")]),
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("HIRELAY_BIZREACH_URL:"), "{text}");
        assert!(text.contains("https://"), "{text}");
        // A loopback-looking name that is not a loopback host is refused too.
        for url in [
            "http://127.0.0.1.example.com",
            "http://localhost.example.com:80",
        ] {
            assert!(
                Config::load(None, &env(&[("HIRELAY_BIZREACH_URL", url)])).is_err(),
                "{url}"
            );
        }
        for url in [
            "https://bizreach.example.com",
            "http://127.0.0.1:8081",
            "http://localhost:8081/",
            "http://[::1]:8081",
        ] {
            let c = Config::load(None, &env(&[("HIRELAY_BIZREACH_URL", url)])).unwrap();
            assert!(c.bizreach_url.is_some(), "{url}");
        }
    }

    #[test]
    fn m7_outbound_allow_hosts_are_parsed_and_bad_ones_named() {
        let c = Config::load(
            None,
            &env(&[("HIRELAY_OUTBOUND_ALLOW_HOSTS", "127.0.0.1, hooks.internal")]),
        )
        .unwrap();
        assert!(c
            .outbound_allow_hosts
            .allows_ip("127.0.0.1".parse().unwrap()));
        assert!(c.outbound_allow_hosts.allows_name("hooks.internal"));
        let err = Config::load(
            None,
            &env(&[("HIRELAY_OUTBOUND_ALLOW_HOSTS", "10.0.0.0/40")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("HIRELAY_OUTBOUND_ALLOW_HOSTS:"),
            "{err}"
        );
    }

    #[test]
    fn urls_are_redacted_for_logs() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/h"),
            "postgres://db:5432/h"
        );
        assert_eq!(redact_url("sqlite://./data/x.db"), "sqlite://./data/x.db");
    }
}
