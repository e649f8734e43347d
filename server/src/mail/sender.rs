//! The sender task: claims due outbox rows, hands each to the transport, and marks it `sent`
//! (or schedules a retry with backoff, or `dead` after [`MAX_TRIES`]).
//!
//! A row is claimed by one sender at a time (a lease; `FOR UPDATE SKIP LOCKED` on PostgreSQL)
//! and marked `sent` right after the transport took it, fenced by the claim's lease. The one
//! window left is a crash between the transport accepting the mail and that mark: the lease
//! then runs out and the row is sent again, with the same `Message-ID`.
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use serde_json::Value;

use super::transport::{build_message, Transport, SMTP_CONNECTIONS};
use super::MailError;
use crate::domain::names::{TemplateName, INVITATION_TEMPLATE};
use crate::domain::time::now_millis;
use crate::metrics::Metrics;
use crate::queue::retry;
use crate::store::entities::mail_outbox;
use crate::store::outbox::MailOutcome;
use crate::store::Store;

/// Tries before a mail is parked as `dead`.
pub const MAX_TRIES: i32 = 10;

/// How the sender runs.
#[derive(Clone, Debug)]
pub struct SenderSettings {
    pub lease: Duration,
    pub batch: u64,
    pub idle_poll: Duration,
}

impl Default for SenderSettings {
    fn default() -> Self {
        SenderSettings {
            // Longer than the transport's own timeouts, so a live sender never loses its lease.
            lease: Duration::from_secs(300),
            // A few rounds of the SMTP connections per claim.
            batch: 4 * SMTP_CONNECTIONS as u64,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// One sender; [`Sender::run_once`] drives it by hand.
pub struct Sender {
    /// Renders a mail again from its data when it is sent.
    pub mailer: super::Mailer,
    pub store: Store,
    pub transport: Transport,
    pub from: String,
    pub metrics: Metrics,
    pub settings: SenderSettings,
    /// Opt-outs are looked up by the keyed hash of the address (C8).
    pub address_key: crate::crypto::AddressKey,
}

impl Sender {
    /// Runs until `shutdown`, finishing the mail in hand; woken early by `wake`.
    pub async fn run(self, wake: Arc<tokio::sync::Notify>, shutdown: CancellationToken) {
        tracing::info!(transport = %self.transport.describe(), "mail sender started");
        while !shutdown.is_cancelled() {
            match self.run_once(&shutdown).await {
                Ok(0) => {
                    tokio::select! {
                        _ = wake.notified() => {}
                        _ = tokio::time::sleep(self.settings.idle_poll) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "claiming mail failed");
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                        _ = shutdown.cancelled() => {}
                    }
                }
            }
        }
        tracing::info!("mail sender stopped");
    }

    /// Claims and sends one batch, [`SMTP_CONNECTIONS`] mails at a time (each over its own
    /// pooled connection); answers how many mails it took. Mails of the batch not yet tried
    /// when `shutdown` comes are put back untouched.
    pub async fn run_once(
        &self,
        shutdown: &CancellationToken,
    ) -> Result<usize, crate::store::StoreError> {
        use futures_util::StreamExt;
        let now = now_millis();
        let lease = now + self.settings.lease.as_millis() as i64;
        // Mails are started only in the first half of the lease, the rest put back: a mail
        // started late could still be on its way when the lease runs out and another instance
        // claims and sends it again (as the event workers stop taking events half-way).
        let start_until = now + self.settings.lease.as_millis() as i64 / 2;
        // Issue 19: invitations wait, unclaimed, until every setting they need is configured.
        let held = (!self.mailer.config().invitations_missing.is_empty())
            .then_some(crate::relay::INVITATION_DEDUPE_PREFIX);
        let batch = self
            .store
            .claim_mails(now, lease, self.settings.batch, held)
            .await?;
        // A mail is started only while fewer than SMTP_CONNECTIONS are on their way or sent
        // and not yet marked: a crash can then leave at most that many mails sent but unmarked
        // (sent again after the lease, with the same Message-ID), however slow the marks are.
        let unmarked = tokio::sync::Semaphore::new(SMTP_CONNECTIONS as usize);
        type Delivery<'a> = std::pin::Pin<
            Box<
                dyn std::future::Future<
                        Output = (
                            (String, MailOutcome),
                            Option<tokio::sync::SemaphorePermit<'a>>,
                        ),
                    > + Send
                    + 'a,
            >,
        >;
        let deliveries: Vec<Delivery<'_>> = batch
            .iter()
            .map(|row| {
                let unmarked = &unmarked;
                Box::pin(async move {
                    let permit = unmarked.acquire().await.ok();
                    (self.deliver(row, start_until, shutdown).await, permit)
                }) as Delivery<'_>
            })
            .collect();
        // Marked as they come back, every mail sent meanwhile with one statement: a mail is
        // marked sent a moment after its server took it, and the database is not asked once
        // per mail; its place among the unmarked is given back once the mark is written. The
        // deliveries keep running while a mark is written (they are polled together): a
        // delivery paused halfway through a query would hold its pooled connection, and the
        // mark could wait for one. Every delivery runs to its end even when marking fails.
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        let deliver_all = async move {
            let mut deliveries =
                futures_util::stream::iter(deliveries).buffer_unordered(SMTP_CONNECTIONS as usize);
            while let Some(delivered) = deliveries.next().await {
                // The receiver outlives this loop (both run to their end together).
                let _ = done.send(delivered);
            }
        };
        let mark_all = async {
            let mut failed = None;
            while let Some((first, permit)) = finished.recv().await {
                let mut chunk = vec![first];
                let mut permits = vec![permit];
                while let Ok((more, permit)) = finished.try_recv() {
                    chunk.push(more);
                    permits.push(permit);
                }
                if failed.is_some() {
                    continue;
                }
                let marked = self.store.finish_mails(chunk, lease, now_millis()).await;
                drop(permits);
                match marked {
                    Ok(lost) => {
                        for mail in lost {
                            tracing::warn!(%mail, "the mail's lease ran out while it was being sent");
                        }
                    }
                    Err(e) => failed = Some(e),
                }
            }
            failed
        };
        let ((), failed) = tokio::join!(deliver_all, mark_all);
        match failed {
            Some(e) => Err(e),
            None => Ok(batch.len()),
        }
    }

    /// Sends one claimed mail (unless `shutdown` came, or it is past `start_until`: a mail is
    /// started only in the first half of the lease, so it ends before another sender may claim
    /// it); answers how that went.
    async fn deliver(
        &self,
        row: &mail_outbox::Model,
        start_until: i64,
        shutdown: &CancellationToken,
    ) -> (String, MailOutcome) {
        let outcome = if shutdown.is_cancelled() || now_millis() > start_until {
            MailOutcome::Released
        } else {
            match self.ready(row).await {
                Ok(ready) => self.send_one(&ready).await,
                Err(outcome) => outcome,
            }
        };
        (row.id.clone(), outcome)
    }

    /// The mail as it goes now (issue 13: checked again when sent, not only when planned): an
    /// invitation no longer wanted is cancelled with the reason, and a mail kept with its data
    /// is rendered again from the active template (a fix reaches mails already scheduled;
    /// a promotional mail shows the sender's legal display as configured now).
    async fn ready(&self, row: &mail_outbox::Model) -> Result<mail_outbox::Model, MailOutcome> {
        let retry = |error: String| MailOutcome::Retry {
            at: now_millis() + retry::backoff_millis(row.attempts.max(1) as u32, retry::jitter()),
            error,
        };
        if row.template == INVITATION_TEMPLATE {
            let invitation = Store::invitation_by_outbox(&self.store.db, &row.id)
                .await
                .map_err(|e| retry(e.to_string()))?;
            if let Some(invitation) = invitation {
                match crate::relay::still_wanted(&self.store.db, &self.address_key, &invitation)
                    .await
                {
                    Ok(Ok(())) => {}
                    Ok(Err(reason)) => {
                        tracing::info!(mail = %row.id, %reason, "invitation cancelled before sending");
                        return Err(MailOutcome::Cancelled { reason });
                    }
                    Err(e) => return Err(retry(e.to_string())),
                }
            }
        }
        let Some(data) = row.data.as_deref() else {
            return Ok(row.clone());
        };
        let mut data: Value = serde_json::from_str(data).map_err(|e| MailOutcome::Cancelled {
            reason: format!("its stored data is not JSON: {e}"),
        })?;
        let mut headers = row.headers.clone();
        if row
            .dedupe_key
            .starts_with(crate::relay::INVITATION_DEDUPE_PREFIX)
        {
            // Held while the public URL was unset, its links would name the bind address.
            let public_url = &self.mailer.config().public_url;
            if let Some(unsubscribe) = crate::relay::rebase_links(&mut data, public_url) {
                headers = with_list_unsubscribe(&row.headers, &unsubscribe);
            }
        }
        let template = TemplateName::parse(&row.template).map_err(|e| MailOutcome::Cancelled {
            reason: e.to_string(),
        })?;
        match self.mailer.render_at_send(&template, data).await {
            Ok(rendered) => Ok(mail_outbox::Model {
                subject: rendered.subject,
                html: rendered.html,
                text_body: rendered.text,
                headers,
                ..row.clone()
            }),
            Err(MailError::Interrupted(e)) => Err(retry(e)),
            Err(e) => Err(MailOutcome::Cancelled {
                reason: format!("its template no longer renders: {e}"),
            }),
        }
    }

    async fn send_one(&self, row: &mail_outbox::Model) -> MailOutcome {
        let domain = row.recipient.rsplit_once('@').map_or("", |(_, d)| d);
        let span = tracing::info_span!("mail", id = %row.id, template = %row.template, to_domain = %domain, attempt = row.attempts);
        self.try_send(row).instrument(span).await
    }

    async fn try_send(&self, row: &mail_outbox::Model) -> MailOutcome {
        let sent = match build_message(&self.from, row) {
            Ok(message) => self.transport.send(&row.id, message).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                self.metrics.add("hirelay_mails_sent_total", 1);
                tracing::info!("mail sent");
                MailOutcome::Sent
            }
            Err(error) => {
                self.metrics.add("hirelay_mails_failed_total", 1);
                if row.attempts >= MAX_TRIES {
                    tracing::error!(%error, "mail failed for the last time; parked as dead");
                    MailOutcome::Dead { error }
                } else {
                    let wait = retry::backoff_millis(row.attempts.max(1) as u32, retry::jitter());
                    tracing::warn!(%error, retry_in_ms = wait, "mail failed; will retry");
                    MailOutcome::Retry {
                        at: now_millis() + wait,
                        error,
                    }
                }
            }
        }
    }
}

/// The stored headers (a JSON object) with `List-Unsubscribe` pointing at `url`.
fn with_list_unsubscribe(headers: &str, url: &str) -> String {
    let mut map: serde_json::Map<String, Value> = serde_json::from_str(headers).unwrap_or_default();
    map.insert("List-Unsubscribe".into(), format!("<{url}>").into());
    Value::Object(map).to_string()
}
