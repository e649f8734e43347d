//! Email: Handlebars templates (versioned, hot-reloaded, checked against their sample data),
//! the outbox (rendered in the caller's transaction, at most once per dedupe key), the sender
//! task and the transports (SMTP or `.eml` files).
pub mod budget;
pub mod catalog;
mod direct_smtp;
pub mod helpers;
mod reload;
pub mod sender;
pub mod structure;
pub mod templates;
pub mod transport;
pub mod variables;

use sea_orm::ConnectionTrait;
use serde_json::Value;
use std::sync::{Arc, RwLock};
use tokio_util::sync::CancellationToken;

pub use catalog::Rendered;
pub use templates::{check_dir, Meta, Part, Purpose, TemplateDoc, TemplateProblem};

use crate::config::Config;
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::names::TemplateName;
use crate::domain::time::now_millis;
use crate::metrics::Metrics;
use crate::readiness::Readiness;
use crate::store::documents::{DocumentKind, Origin};
use crate::store::entities::document_version;
use crate::store::outbox::{MailInsert, NewMail};
use crate::store::{Store, StoreError};
use catalog::Catalog;

/// A mail to send.
#[derive(Clone, Debug)]
pub struct OutgoingMail {
    pub template: TemplateName,
    pub to: Email,
    pub data: Value,
    /// Unix millis; `None` sends now.
    pub send_at: Option<i64>,
    /// The same key is queued at most once (e.g. `invite:{application_id}`).
    pub dedupe_key: String,
    /// Adds `List-Unsubscribe` (and the RFC 8058 one-click header) with this URL.
    pub list_unsubscribe: Option<String>,
}

/// What [`Mailer::enqueue`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnqueueOutcome {
    Queued {
        outbox_id: String,
    },
    /// The dedupe key was queued before; nothing new was queued.
    AlreadyQueued {
        outbox_id: String,
    },
}

impl EnqueueOutcome {
    pub fn outbox_id(&self) -> &str {
        match self {
            EnqueueOutcome::Queued { outbox_id } | EnqueueOutcome::AlreadyQueued { outbox_id } => {
                outbox_id
            }
        }
    }
}

/// What queueing `row` came to ([`Store::insert_mails`] answered `insert`), logged.
pub fn queued_as(row: &NewMail, insert: MailInsert) -> EnqueueOutcome {
    match insert {
        MailInsert::Inserted => {
            let to_domain = row.recipient.rsplit_once('@').map_or("", |(_, d)| d);
            tracing::info!(mail = %row.id, template = %row.template, %to_domain, "mail queued");
            EnqueueOutcome::Queued {
                outbox_id: row.id.clone(),
            }
        }
        MailInsert::Existing(outbox_id) => EnqueueOutcome::AlreadyQueued { outbox_id },
    }
}

/// What can go wrong with mail.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// A template that does not compile, does not render, or uses a variable its sample lacks.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Template(Vec<TemplateProblem>),
    #[error("template `{0}` not found")]
    UnknownTemplate(String),
    /// A promotional template asked for outside `invite()` (M4: opt-outs and the
    /// one-invitation rule are only applied there).
    #[error("`{template}` is promotional mail: only invite() sends it, so that opt-outs and one invitation per person hold")]
    Promotional { template: String },
    /// The render thread failed (it panicked or the runtime is shutting down).
    #[error("rendering did not finish: {0}")]
    Interrupted(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The public URL the shipped templates' sample data links under; previews show the
/// configured one instead.
pub const SAMPLE_PUBLIC_URL: &str = "https://hirelay.example.jp";

/// Templates, outbox and sender; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    config: Arc<Config>,
    store: Store,
    catalog: RwLock<Catalog>,
    readiness: Readiness,
    wake: Arc<tokio::sync::Notify>,
    /// The host in `Message-ID`s: the public URL's.
    host: String,
    reload: reload::ReloadState,
    /// Told the names scripts may `send_email` whenever the active templates change.
    listener: RwLock<Option<TemplateListener>>,
}

/// What [`Mailer::on_templates_changed`] calls: the names of the active templates a script may
/// send (every one but promotional mail, which only `invite()` sends).
pub type TemplateListener = Box<dyn Fn(Vec<String>) + Send + Sync>;

impl Mailer {
    /// Loads templates from `config.templates_dir` (a directory per template; partials in
    /// `partials/`) as versions in the store, activates the newest version of each that
    /// compiles, hot-reloads from disk and from the store (versions saved by other instances),
    /// and starts the sender task, which stops on `shutdown` after the mail in hand.
    pub async fn start(
        config: Arc<Config>,
        store: Store,
        readiness: Readiness,
        metrics: Metrics,
        address_key: crate::crypto::AddressKey,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Mailer> {
        let (mailer, _sender) =
            Self::start_with_handle(config, store, readiness, metrics, address_key, shutdown)
                .await?;
        Ok(mailer)
    }

    /// As [`Mailer::start`], also handing back the sender task to wait for at shutdown.
    /// `address_key` is the key opt-outs are kept under, which the sender checks (C8).
    pub async fn start_with_handle(
        config: Arc<Config>,
        store: Store,
        readiness: Readiness,
        metrics: Metrics,
        address_key: crate::crypto::AddressKey,
        shutdown: CancellationToken,
    ) -> anyhow::Result<(Mailer, tokio::task::JoinHandle<()>)> {
        readiness.expect("templates");
        let transport = transport::Transport::from_config(&config)?;
        let mailer = Mailer {
            inner: Arc::new(Inner {
                host: url_host(&config.public_url).to_owned(),
                config: config.clone(),
                store: store.clone(),
                catalog: RwLock::new(Catalog::new()),
                readiness,
                wake: Arc::new(tokio::sync::Notify::new()),
                reload: reload::ReloadState::default(),
                listener: RwLock::new(None),
            }),
        };
        mailer.reload_from_disk().await;
        mailer.spawn_reloaders(shutdown.clone());
        let sender = sender::Sender {
            mailer: mailer.clone(),
            store,
            transport,
            from: config.mail_from.clone(),
            metrics,
            settings: sender::SenderSettings {
                lease: std::time::Duration::from_secs(config.mail_lease_secs),
                ..sender::SenderSettings::default()
            },
            address_key,
        };
        let wake = mailer.inner.wake.clone();
        let handle = tokio::spawn(sender.run(wake, shutdown));
        Ok((mailer, handle))
    }

    fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.inner.catalog.read().unwrap_or_else(|p| p.into_inner())
    }

    fn catalog_mut(&self) -> std::sync::RwLockWriteGuard<'_, Catalog> {
        self.inner
            .catalog
            .write()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Renders the active version of `template` for preview, on a blocking thread: what `data`
    /// does not give is filled from the template's sample data; warnings name variables the
    /// result lacks and data the template does not use.
    pub async fn render(
        &self,
        template: &TemplateName,
        configured: Value,
        data: Value,
    ) -> Result<Rendered, MailError> {
        let (this, template) = (self.clone(), template.clone());
        off_thread(move || {
            let merged = this.with_sample(&template, &configured, &data)?;
            let mut rendered = this.render_exact(&template, &merged)?.1;
            rendered
                .warnings
                .extend(this.catalog().unused_keys(template.as_str(), &data));
            Ok(rendered)
        })
        .await
    }

    /// Renders a draft of `template` that is not saved, as [`Mailer::render`] renders the
    /// active version: checked first as a save would check it (a promotional draft without the
    /// legal display is refused, naming the part), then rendered with the active sample data.
    pub async fn render_draft(
        &self,
        template: &TemplateName,
        doc: TemplateDoc,
        configured: Value,
        data: Value,
    ) -> Result<Rendered, MailError> {
        self.check(template, &doc)?;
        let (this, template) = (self.clone(), template.clone());
        off_thread(move || {
            let mut scratch = Catalog::new();
            scratch.set_partials(this.catalog().partials().sources.clone());
            scratch
                .activate(template.as_str(), 0, doc)
                .map_err(MailError::Template)?;
            let merged = this.with_sample(&template, &configured, &data)?;
            let mut rendered = scratch
                .render(template.as_str(), &merged)
                .ok_or_else(|| MailError::UnknownTemplate(template.to_string()))?
                .map_err(|p| MailError::Template(vec![p]))?;
            rendered
                .warnings
                .extend(scratch.unused_keys(template.as_str(), &data));
            Ok(rendered)
        })
        .await
    }

    /// `data` laid over the template's sample data, itself shown with the `configured` values
    /// ([`Mailer::configured_values`]) of the variables it has, and with its links under
    /// `HIRELAY_PUBLIC_URL` (issue 19: a marketer sees what a candidate would).
    pub fn with_sample(
        &self,
        template: &TemplateName,
        configured: &Value,
        data: &Value,
    ) -> Result<Value, MailError> {
        let catalog = self.catalog();
        let active = catalog
            .get(template.as_str())
            .ok_or_else(|| MailError::UnknownTemplate(template.to_string()))?;
        let mut sample = active.doc.sample.clone();
        if let (Some(fields), Some(configured)) = (sample.as_object_mut(), configured.as_object()) {
            let public_url = self.inner.config.public_url.trim_end_matches('/');
            for value in fields.values_mut() {
                let rebased = value
                    .as_str()
                    .and_then(|v| v.strip_prefix(SAMPLE_PUBLIC_URL))
                    .map(|rest| format!("{public_url}{rest}"));
                if let Some(url) = rebased {
                    *value = url.into();
                }
            }
            for (key, value) in configured {
                if let Some(field) = fields.get_mut(key) {
                    *field = value.clone();
                }
            }
        }
        Ok(catalog::deep_merge(&sample, data))
    }

    /// The values a candidate's mail would take from the configuration, for previews and
    /// test-sends: the company's name (`company_name`, as [`crate::relay::company_name`]
    /// answers it) and the sender's legal display, those set.
    pub fn configured_values(&self, company_name: &str) -> Value {
        let mut values = serde_json::json!({"company_name": company_name});
        self.inner.config.sender.fill(&mut values);
        values
    }

    /// Renders with exactly `data`; answers the version rendered and its purpose.
    fn render_exact(
        &self,
        template: &TemplateName,
        data: &Value,
    ) -> Result<(i32, Rendered, Purpose), MailError> {
        let catalog = self.catalog();
        let active = catalog
            .get(template.as_str())
            .ok_or_else(|| MailError::UnknownTemplate(template.to_string()))?;
        let rendered = catalog
            .render(template.as_str(), data)
            .ok_or_else(|| MailError::UnknownTemplate(template.to_string()))?
            .map_err(|p| MailError::Template(vec![p]))?;
        Ok((active.version, rendered, active.doc.meta.purpose))
    }

    /// Renders now and queues the mail in `db` (the caller's transaction): at most once per
    /// dedupe key. Call [`Mailer::wake`] after the transaction commits.
    pub async fn enqueue<C: ConnectionTrait>(
        &self,
        db: &C,
        mail: OutgoingMail,
    ) -> Result<EnqueueOutcome, MailError> {
        let row = self.compose(new_id("mail"), mail).await?;
        let queued = Store::insert_mails(db, std::slice::from_ref(&row))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("one mail queued, no outcome".into()))?;
        Ok(queued_as(&row, queued))
    }

    /// Renders a queued mail again as it is sent, from its stored data, on a blocking thread; a
    /// promotional mail shows the sender's legal display as configured now.
    pub async fn render_at_send(
        &self,
        template: &TemplateName,
        mut data: Value,
    ) -> Result<Rendered, MailError> {
        let this = self.clone();
        let template = template.clone();
        off_thread(move || {
            if this.catalog().purpose(template.as_str()) == Some(Purpose::Marketing) {
                this.inner.config.sender.fill(&mut data);
            }
            this.render_exact(&template, &data)
                .map(|(_, rendered, _)| rendered)
        })
        .await
    }

    /// Renders `mail` on a blocking thread into the outbox row `id`, to be queued with others
    /// ([`Store::insert_mails`], then [`queued_as`] for each).
    pub async fn compose(&self, id: String, mail: OutgoingMail) -> Result<NewMail, MailError> {
        let this = self.clone();
        off_thread(move || this.compose_now(id, mail)).await
    }

    /// [`Mailer::compose`] on the calling thread, which must be one that may block (a render
    /// may take up to the render budget): event processing's scripts thread.
    pub fn compose_blocking(&self, id: String, mail: OutgoingMail) -> Result<NewMail, MailError> {
        self.compose_now(id, mail)
    }

    fn compose_now(&self, id: String, mail: OutgoingMail) -> Result<NewMail, MailError> {
        let unsubscribe = mail
            .list_unsubscribe
            .as_deref()
            .filter(|url| self.is_own_url(url));
        if self.catalog().purpose(mail.template.as_str()) == Some(Purpose::Marketing)
            && unsubscribe.is_none()
        {
            return Err(MailError::Promotional {
                template: mail.template.to_string(),
            });
        }
        let (version, rendered, _) = self.render_exact(&mail.template, &mail.data)?;
        if !rendered.warnings.is_empty() {
            tracing::warn!(template = %mail.template, warnings = ?rendered.warnings, "mail rendered with variables missing from its data");
        }
        let mut headers = serde_json::Map::new();
        if let Some(url) = unsubscribe {
            headers.insert(
                "List-Unsubscribe".into(),
                format!("<{}>", url.trim()).into(),
            );
            headers.insert(
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            );
        }
        let now = now_millis();
        Ok(NewMail {
            message_id: format!("<{id}@{}>", self.inner.host),
            id,
            dedupe_key: mail.dedupe_key,
            template: mail.template.to_string(),
            template_version: version,
            recipient: mail.to.to_string(),
            subject: rendered.subject,
            html: rendered.html,
            text: rendered.text,
            headers: Value::Object(headers).to_string(),
            data: Some(mail.data.to_string()),
            send_at: mail.send_at.unwrap_or(now),
            created_at: now,
        })
    }

    /// Whether `url` is under hirelay's own public URL (M4: `List-Unsubscribe` never points
    /// elsewhere).
    fn is_own_url(&self, url: &str) -> bool {
        let base = self.inner.config.public_url.trim_end_matches('/');
        url.strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// Calls `listener` now and whenever a template is activated, with the names scripts may
    /// send (a template a marketer adds through the API can be used at once).
    pub fn on_templates_changed(&self, listener: TemplateListener) {
        *self
            .inner
            .listener
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(listener);
        self.templates_changed();
    }

    /// Tells the listener the active templates' names.
    fn templates_changed(&self) {
        let names: Vec<String> = self
            .catalog()
            .all()
            .iter()
            .filter(|(_, a)| a.doc.meta.purpose != Purpose::Marketing)
            .map(|(name, _)| name.clone())
            .collect();
        if let Some(listener) = self
            .inner
            .listener
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
        {
            listener(names);
        }
    }

    /// Wakes the sender (after a commit that queued mail).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// Every active template: name, version, meta.
    pub fn templates(&self) -> Vec<(String, i32, Meta)> {
        self.catalog()
            .all()
            .iter()
            .map(|(name, a)| (name.clone(), a.version, a.doc.meta.clone()))
            .collect()
    }

    /// The active version of a template.
    pub fn active(&self, template: &TemplateName) -> Result<(i32, TemplateDoc), MailError> {
        self.catalog()
            .get(template.as_str())
            .map(|a| (a.version, a.doc.clone()))
            .ok_or_else(|| MailError::UnknownTemplate(template.to_string()))
    }

    /// Checks a template without saving it: syntax of each part, then its variables against
    /// its sample data.
    pub fn check(&self, template: &TemplateName, doc: &TemplateDoc) -> Result<(), MailError> {
        let problems = doc.check(template.as_str(), self.catalog().partials());
        if problems.is_empty() {
            Ok(())
        } else {
            Err(MailError::Template(problems))
        }
    }

    /// Checks, saves as the next version (by `author`) and activates it; with `if_latest`,
    /// only while that is still the newest version (`If-Match`).
    pub async fn save(
        &self,
        template: &TemplateName,
        doc: TemplateDoc,
        author: &str,
        if_latest: Option<i32>,
    ) -> Result<document_version::Model, MailError> {
        self.check(template, &doc)?;
        let saved = self
            .inner
            .store
            .save_document(
                DocumentKind::Template,
                template.as_str(),
                &doc.to_json(),
                Origin::Api,
                author,
                if_latest,
            )
            .await?;
        self.catalog_mut()
            .activate(template.as_str(), saved.version, doc)
            .map_err(MailError::Template)?;
        self.templates_changed();
        self.inner.reload.seen.saw(template.as_str(), saved.version);
        Ok(saved)
    }

    /// Saves an earlier version again as the newest, and activates it.
    pub async fn rollback(
        &self,
        template: &TemplateName,
        version: i32,
        author: &str,
    ) -> Result<document_version::Model, MailError> {
        self.active(template)?;
        let old = self
            .inner
            .store
            .document_version(DocumentKind::Template, template.as_str(), version)
            .await?;
        let doc = TemplateDoc::from_json(&old.body)
            .map_err(|e| StoreError::Corrupt(format!("template {template} v{version}: {e}")))?;
        self.save(template, doc, author, None).await
    }

    /// Every stored version of a template, oldest first.
    pub async fn versions(
        &self,
        template: &TemplateName,
    ) -> Result<Vec<document_version::Model>, MailError> {
        self.active(template)?;
        Ok(self
            .inner
            .store
            .document_versions(DocumentKind::Template, template.as_str())
            .await?)
    }

    /// The stored row of the active version (author, time).
    pub async fn active_version_record(
        &self,
        template: &TemplateName,
    ) -> Result<(TemplateDoc, document_version::Model), MailError> {
        let (version, doc) = self.active(template)?;
        let record = self
            .inner
            .store
            .document_version(DocumentKind::Template, template.as_str(), version)
            .await?;
        Ok((doc, record))
    }

    /// The configuration the mailer runs with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }
}

/// Runs a render on the blocking pool: a render may take up to the render budget
/// ([`budget::RENDER_TIME_LIMIT`]), which the async runtime's threads must never wait out.
async fn off_thread<T: Send + 'static>(
    render: impl FnOnce() -> Result<T, MailError> + Send + 'static,
) -> Result<T, MailError> {
    tokio::task::spawn_blocking(render)
        .await
        .map_err(|e| MailError::Interrupted(e.to_string()))?
}

/// The host of an `http(s)://host[:port]/…` URL.
fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) && !h.is_empty() => h,
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn message_ids_use_the_public_host() {
        assert_eq!(
            super::url_host("https://hirelay.example.jp:8443/x"),
            "hirelay.example.jp"
        );
        assert_eq!(super::url_host("http://hirelay.test"), "hirelay.test");
    }
}
