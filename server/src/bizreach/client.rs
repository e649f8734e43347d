//! The client of the contract's BizReach-compatible source API (`HIRELAY_BIZREACH_URL`).
//!
//! Every call has a connect timeout (5 s) and a request timeout (`HIRELAY_BIZREACH_TIMEOUT_SECS`,
//! default 30 s). Server errors (5xx), time-outs and
//! network failures are retried with exponential backoff and jitter (3 tries). A `401` on a
//! signed-in call signs in again once with the stored credentials, then gives
//! [`BizreachError::Unauthorized`].
//!
//! Redirects are not followed (a 307/308 would re-send the sign-in, password included, to
//! wherever it points): a 3xx is [`BizreachError::Redirected`]. Every answer's body is read up
//! to [`ClientSettings::body_limit`] (16 MiB), never further.
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rand::Rng;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;

use super::BizreachError;
use crate::config::Config;
use crate::domain::status::BizreachStatus;

/// How the client reaches the source API.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    pub base_url: String,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    /// Tries per call, the first included.
    pub tries: u32,
    /// The first retry's delay; each later one doubles it, plus up to as much again of jitter.
    pub retry_base: Duration,
    /// The most bytes of one answer's body that are read.
    pub body_limit: usize,
}

/// The default [`ClientSettings::body_limit`]: far above a page of applications.
pub const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// How much of an error answer is read for its message.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

impl ClientSettings {
    /// The settings of `config`, or `None` when `HIRELAY_BIZREACH_URL` is not set.
    pub fn from_config(config: &Config) -> Option<ClientSettings> {
        config.bizreach_url.as_ref().map(|url| ClientSettings {
            base_url: url.trim_end_matches('/').to_owned(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: config.bizreach_timeout,
            tries: 3,
            retry_base: config.bizreach_retry_base,
            body_limit: BODY_LIMIT,
        })
    }
}

/// An email and password to sign in with.
pub struct Credentials {
    pub email: String,
    pub password: SecretString,
}

/// Where the client finds the stored sign-in when its session ends.
#[async_trait]
pub trait CredentialSource: Send + Sync {
    /// The stored credentials, or `None` when no admin signed in yet.
    async fn load(&self) -> Result<Option<Credentials>, BizreachError>;
}

/// A signed-in session.
pub struct Session {
    pub account_name: String,
    pub token: SecretString,
}

/// A group account as BizReach lists it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct RemoteGroupAccount {
    pub id: String,
    pub name: String,
    pub admin_email: String,
}

/// One page of a group's applications, oldest first. Applications are kept as sent (the
/// contract's `application` object); the poller and backfill parse each one.
#[derive(Clone, Debug, Deserialize)]
pub struct Page {
    pub applications: Vec<serde_json::Value>,
    pub next_cursor: Option<String>,
}

/// The source API client. Cheap to clone; clones share the session.
#[derive(Clone)]
pub struct BizreachClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    settings: ClientSettings,
    token: tokio::sync::Mutex<Option<SecretString>>,
    credentials: Arc<dyn CredentialSource>,
}

#[derive(Deserialize)]
struct SessionOut {
    account_name: String,
    token: SecretString,
}

#[derive(Deserialize)]
struct ErrorOut {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
}

impl BizreachClient {
    /// A client of `settings.base_url` that signs in again with what `credentials` loads.
    pub fn new(
        settings: ClientSettings,
        credentials: Arc<dyn CredentialSource>,
    ) -> Result<BizreachClient, BizreachError> {
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("hirelay/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| BizreachError::Network(e.to_string()))?;
        Ok(BizreachClient {
            inner: Arc::new(Inner {
                http,
                settings,
                token: tokio::sync::Mutex::new(None),
                credentials,
            }),
        })
    }

    /// The base URL, for messages.
    pub fn base_url(&self) -> &str {
        &self.inner.settings.base_url
    }

    /// Signs in with `email` and `password` (L1); the session is used by later calls.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Session, BizreachError> {
        let mut token = self.inner.token.lock().await;
        let session = self.request_session(email, password).await?;
        *token = Some(session.token.clone());
        Ok(session)
    }

    /// The group accounts of the signed-in contract (L2).
    pub async fn group_accounts(&self) -> Result<Vec<RemoteGroupAccount>, BizreachError> {
        let res = self
            .signed_in(Method::GET, "/api/group-accounts", &[], None)
            .await?;
        decode(res, self.inner.settings.body_limit).await
    }

    /// A page of `group`'s applications applied at `since` or later, after `cursor`.
    pub async fn applications(
        &self,
        group: &str,
        since: Option<DateTime<Utc>>,
        cursor: Option<&str>,
    ) -> Result<Page, BizreachError> {
        let mut query = Vec::new();
        if let Some(since) = since {
            query.push((
                "since",
                since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            ));
        }
        if let Some(cursor) = cursor {
            query.push(("cursor", cursor.to_owned()));
        }
        let path = format!("/api/group-accounts/{}/applications", segment(group));
        let res = self.signed_in(Method::GET, &path, &query, None).await?;
        decode(res, self.inner.settings.body_limit).await
    }

    /// Pushes an application's status to BizReach (P2).
    pub async fn put_status(
        &self,
        application_id: &str,
        status: BizreachStatus,
    ) -> Result<(), BizreachError> {
        let path = format!("/api/applications/{}/status", segment(application_id));
        let body = serde_json::json!({ "status": status.as_str() });
        self.signed_in(Method::PUT, &path, &[], Some(body)).await?;
        Ok(())
    }

    async fn request_session(
        &self,
        email: &str,
        password: &SecretString,
    ) -> Result<Session, BizreachError> {
        let url = self.url("/api/session");
        let res = self
            .with_retries(|| {
                self.inner.http.post(&url).json(&serde_json::json!({
                    "email": email,
                    "password": password.expose_secret(),
                }))
            })
            .await?;
        if res.status() == StatusCode::UNAUTHORIZED {
            return Err(BizreachError::BadCredentials);
        }
        let out: SessionOut = decode(res, self.inner.settings.body_limit).await?;
        Ok(Session {
            account_name: out.account_name,
            token: out.token,
        })
    }

    /// The current token, signing in with the stored credentials when there is none or when
    /// it is `rejected` (calls side by side that were all refused sign in again once).
    async fn token(&self, rejected: Option<&SecretString>) -> Result<SecretString, BizreachError> {
        let mut token = self.inner.token.lock().await;
        if let Some(t) = token.as_ref() {
            if rejected.is_none_or(|r| r.expose_secret() != t.expose_secret()) {
                return Ok(t.clone());
            }
        }
        *token = None;
        let credentials = self
            .inner
            .credentials
            .load()
            .await?
            .ok_or(BizreachError::NotSignedIn)?;
        let session = self
            .request_session(&credentials.email, &credentials.password)
            .await
            .map_err(|e| match e {
                BizreachError::BadCredentials => BizreachError::Unauthorized,
                other => other,
            })?;
        tracing::info!(
            account = %session.account_name,
            "signed in to BizReach with the stored credentials"
        );
        *token = Some(session.token.clone());
        Ok(session.token)
    }

    /// A call that needs the session: on `401`, signs in again once and repeats it.
    async fn signed_in(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<serde_json::Value>,
    ) -> Result<reqwest::Response, BizreachError> {
        let url = self.url(path);
        let mut rejected: Option<SecretString> = None;
        loop {
            let renew = rejected.is_some();
            let token = self.token(rejected.as_ref()).await?;
            let res = self
                .with_retries(|| {
                    let mut req = self
                        .inner
                        .http
                        .request(method.clone(), &url)
                        .bearer_auth(token.expose_secret())
                        .query(query);
                    if let Some(body) = &body {
                        req = req.json(body);
                    }
                    req
                })
                .await?;
            if res.status() != StatusCode::UNAUTHORIZED {
                return ok(res).await;
            }
            if renew {
                *self.inner.token.lock().await = None;
                return Err(BizreachError::Unauthorized);
            }
            tracing::info!(%path, "BizReach session ended (401); signing in again");
            rejected = Some(token);
        }
    }

    /// Sends what `build` makes, retrying server errors and network failures.
    async fn with_retries(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, BizreachError> {
        let tries = self.inner.settings.tries.max(1);
        let mut last = BizreachError::Network("no try was made".into());
        for attempt in 0..tries {
            if attempt > 0 {
                tokio::time::sleep(backoff(self.inner.settings.retry_base, attempt)).await;
            }
            match build().send().await {
                Ok(res) if res.status().is_server_error() => {
                    last = upstream(res).await;
                    tracing::warn!(attempt = attempt + 1, tries, error = %last, "BizReach call failed");
                }
                Ok(res) => return Ok(res),
                Err(e) => {
                    last = BizreachError::Network(without_url(&e));
                    tracing::warn!(attempt = attempt + 1, tries, error = %last, "BizReach call failed");
                }
            }
        }
        Err(last)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.inner.settings.base_url)
    }
}

/// The delay before try `attempt + 1` (attempt ≥ 1): base·2^(attempt−1) plus jitter up to as much.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let step = base.saturating_mul(1 << (attempt - 1).min(16));
    let jitter_ms = step.as_millis().min(u128::from(u64::MAX)) as u64;
    step + Duration::from_millis(rand::thread_rng().gen_range(0..=jitter_ms))
}

/// A path segment with the characters that would change the path escaped.
fn segment(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '-' | '_' | '.' | '~' => c.to_string(),
            other => {
                let mut buf = [0u8; 4];
                other
                    .encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}

/// A network error's message without the URL (which could carry a query string).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    match std::error::Error::source(e) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

/// A successful answer, or the error it carries.
async fn ok(res: reqwest::Response) -> Result<reqwest::Response, BizreachError> {
    if res.status().is_success() {
        Ok(res)
    } else {
        Err(upstream(res).await)
    }
}

/// The body of `res`, read as it streams in, and refused once it passes `limit` bytes (a
/// `Content-Length` above it is refused before reading).
async fn read_limited(mut res: reqwest::Response, limit: usize) -> Result<Vec<u8>, BizreachError> {
    if res.content_length().is_some_and(|n| n > limit as u64) {
        return Err(BizreachError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| BizreachError::Network(without_url(&e)))?
    {
        if body.len() + chunk.len() > limit {
            return Err(BizreachError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn upstream(res: reqwest::Response) -> BizreachError {
    let status = res.status().as_u16();
    if res.status().is_redirection() {
        return BizreachError::Redirected { status };
    }
    let text = match read_limited(res, ERROR_BODY_LIMIT).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    };
    let message = match serde_json::from_str::<ErrorOut>(&text) {
        Ok(ErrorOut { error }) => format!(
            "{}: {}",
            error.code.unwrap_or_else(|| "error".into()),
            error.message.unwrap_or_default()
        ),
        Err(_) => text.chars().take(200).collect(),
    };
    BizreachError::Upstream { status, message }
}

async fn decode<T: serde::de::DeserializeOwned>(
    res: reqwest::Response,
    limit: usize,
) -> Result<T, BizreachError> {
    let res = ok(res).await?;
    let bytes = read_limited(res, limit).await?;
    serde_json::from_slice(&bytes).map_err(|e| BizreachError::Decode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter() {
        let base = Duration::from_millis(100);
        for _ in 0..50 {
            let first = backoff(base, 1);
            let second = backoff(base, 2);
            assert!((100..=200).contains(&first.as_millis()), "{first:?}");
            assert!((200..=400).contains(&second.as_millis()), "{second:?}");
        }
    }

    #[test]
    fn path_segments_are_escaped() {
        assert_eq!(segment("grp-001"), "grp-001");
        assert_eq!(segment("a/b?c"), "a%2Fb%3Fc");
    }
}
