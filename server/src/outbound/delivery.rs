//! The delivery worker: claims due deliveries, POSTs each payload as JSON to its subscription's
//! URL with `webhook-id` (the delivery id), `webhook-timestamp` and `webhook-signature` (HMAC
//! with the subscription's secret), and records the outcome: 2xx → `delivered`; otherwise
//! retried with the queue's backoff and jitter, `dead` after the last try.
//!
//! Only the status code and a short error kind are kept of a failure, never the receiver's
//! answer (it could echo what an internal host holds). Connections go only to addresses
//! [`TargetPolicy`] allows, checked on the resolved address itself.
use futures_util::future::join_all;
use secrecy::ExposeSecret;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::crypto::SecretBox;
use crate::domain::time::now_millis;
use crate::ingest::signature::WebhookSecrets;
use crate::metrics::Metrics;
use crate::outbound::target::{self, TargetPolicy};
use crate::queue::retry;
use crate::store::entities::webhook_delivery;
use crate::store::webhooks::DeliveryResult;
use crate::store::{Store, StoreResult};

/// How the worker runs.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// Deliveries claimed (and sent concurrently) per round.
    pub batch: u64,
    /// How long a claimed delivery is held before another worker may take it.
    pub lease: Duration,
    /// Sleep when nothing is due.
    pub idle_poll: Duration,
    /// Per request.
    pub timeout: Duration,
    /// Tries before a delivery is `dead`.
    pub max_attempts: u32,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            batch: 16,
            lease: Duration::from_secs(60),
            idle_poll: Duration::from_millis(500),
            timeout: Duration::from_secs(10),
            max_attempts: 10,
        }
    }
}

/// What one round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryRound {
    pub delivered: u64,
    pub retried: u64,
    pub dead: u64,
}

impl DeliveryRound {
    pub fn total(&self) -> u64 {
        self.delivered + self.retried + self.dead
    }
}

/// Sends outbound webhooks. Cheap to clone.
#[derive(Clone)]
pub struct DeliveryWorker {
    store: Store,
    secret_box: SecretBox,
    http: reqwest::Client,
    metrics: Metrics,
    settings: DeliverySettings,
    targets: TargetPolicy,
}

impl DeliveryWorker {
    pub fn new(
        store: Store,
        secret_box: SecretBox,
        metrics: Metrics,
        settings: DeliverySettings,
        targets: TargetPolicy,
    ) -> anyhow::Result<DeliveryWorker> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Names resolve through the policy; a proxy would resolve them beyond its reach.
            .dns_resolver(targets.resolver())
            .no_proxy()
            .user_agent(concat!("hirelay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(DeliveryWorker {
            store,
            secret_box,
            http,
            metrics,
            settings,
            targets,
        })
    }

    /// Runs rounds until `shutdown` (finishing the round in hand).
    pub fn spawn(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            while !shutdown.is_cancelled() {
                let pause = match self.run_once().await {
                    Ok(round) if round.total() > 0 => continue,
                    Ok(_) => self.settings.idle_poll,
                    Err(e) => {
                        tracing::error!(error = %e, "claiming webhook deliveries failed");
                        Duration::from_secs(1)
                    }
                };
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
            }
            tracing::debug!("webhook delivery worker stopped");
        })
    }

    /// Claims one batch, sends it concurrently and records each outcome.
    pub async fn run_once(&self) -> StoreResult<DeliveryRound> {
        let now = now_millis();
        let lease_until = now + self.settings.lease.as_millis() as i64;
        let batch = self
            .store
            .claim_webhook_deliveries(now, lease_until, self.settings.batch)
            .await?;
        let outcomes = join_all(batch.iter().map(|d| self.send(d))).await;
        let mut round = DeliveryRound::default();
        for (delivery, outcome) in batch.iter().zip(outcomes) {
            let result = match outcome {
                Ok(()) => {
                    round.delivered += 1;
                    self.metrics.add("hirelay_webhooks_delivered_total", 1);
                    DeliveryResult::Delivered
                }
                Err(Failure { error, permanent }) => {
                    self.metrics.add("hirelay_webhooks_failed_total", 1);
                    let tries = delivery.attempts.max(1) as u32;
                    tracing::warn!(delivery = %delivery.id, event_type = %delivery.event_type, tries, %error, "webhook delivery failed");
                    if permanent || tries >= self.settings.max_attempts {
                        round.dead += 1;
                        DeliveryResult::Dead { error }
                    } else {
                        round.retried += 1;
                        DeliveryResult::Retry {
                            at: now_millis() + retry::backoff_millis(tries, retry::jitter()),
                            error,
                        }
                    }
                }
            };
            if !self
                .store
                .finish_webhook_delivery(&delivery.id, lease_until, result, now_millis())
                .await?
            {
                tracing::warn!(delivery = %delivery.id, "lease ran out before the delivery was recorded; another worker has it");
            }
        }
        Ok(round)
    }

    /// One try. The error never carries the URL, which may hold credentials.
    async fn send(&self, delivery: &webhook_delivery::Model) -> Result<(), Failure> {
        let sub = self
            .store
            .webhook_subscription(&delivery.subscription_id)
            .await
            .map_err(|e| Failure::retry(format!("reading the subscription failed: {e}")))?
            .ok_or_else(|| {
                Failure::permanent(format!(
                    "subscription {} no longer exists",
                    delivery.subscription_id
                ))
            })?;
        if sub.disabled_at.is_some() {
            return Err(Failure::permanent(format!(
                "subscription {} was deleted",
                sub.id
            )));
        }
        let secrets = self
            .secret_box
            .open(&sub.secret_enc)
            .map_err(|e| format!("the subscription's secret cannot be opened: {e}"))
            .and_then(|secret| {
                WebhookSecrets::parse(secret.expose_secret())
                    .map_err(|e| format!("the subscription's secret is unusable: {e}"))
            })
            .map_err(Failure::permanent)?;
        let timestamp = chrono::Utc::now().timestamp();
        let body = delivery.payload.as_bytes();
        let signature = secrets
            .sign(&delivery.id, timestamp, body)
            .ok_or_else(|| Failure::permanent("the subscription has no secret".to_owned()))?;
        // An address in the URL itself never reaches the resolver: checked here, on every try
        // (the allowed hosts may have changed since the subscription was made).
        let url = reqwest::Url::parse(&sub.url)
            .map_err(|_| Failure::permanent("the subscription's URL is not valid".to_owned()))?;
        self.targets
            .check_url(&url)
            .map_err(|_| Failure::retry(REFUSED.to_owned()))?;
        let res = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.payload.clone())
            .send()
            .await
            .map_err(|e| {
                Failure::retry(if e.is_timeout() {
                    format!("timed out after {} s", self.settings.timeout.as_secs())
                } else if target::is_refused(&e) {
                    REFUSED.to_owned()
                } else if e.is_connect() {
                    "connection failed".to_owned()
                } else {
                    "request failed".to_owned()
                })
            })?;
        let status = res.status();
        if status.is_success() {
            return Ok(());
        }
        // The answer's body is dropped unread.
        Err(Failure::retry(format!("HTTP {}", status.as_u16())))
    }
}

/// The error of a try refused because the target is an internal address.
const REFUSED: &str = "refused: the target address is internal (HIRELAY_OUTBOUND_ALLOW_HOSTS)";

/// What an answer shows of a stored error: older versions kept up to 200 characters of the
/// receiver's answer after `HTTP nnn:`; only the status stays.
pub fn error_kind(stored: &str) -> String {
    match stored.strip_prefix("HTTP ") {
        Some(rest) => format!("HTTP {}", rest.split(':').next().unwrap_or(rest).trim()),
        None => stored.to_owned(),
    }
}

/// Why a try failed, and whether trying again can help.
struct Failure {
    error: String,
    permanent: bool,
}

impl Failure {
    fn retry(error: String) -> Failure {
        Failure {
            error,
            permanent: false,
        }
    }

    /// Nothing a later try could change (the subscription is gone): `dead` at once.
    fn permanent(error: String) -> Failure {
        Failure {
            error,
            permanent: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::webhooks::NewSubscription;

    use crate::store::test_support::store;

    #[test]
    fn m7_stored_errors_show_no_answer_text() {
        assert_eq!(error_kind("HTTP 500: root:x:0:0:/root"), "HTTP 500");
        assert_eq!(error_kind("HTTP 404"), "HTTP 404");
        assert_eq!(error_kind("connection failed"), "connection failed");
    }

    #[tokio::test]
    async fn a_claimed_delivery_comes_back_when_its_lease_runs_out() {
        let (_dir, store) = store().await;
        let secret_box =
            SecretBox::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "test").unwrap();
        Store::create_webhook_subscription(
            &store.db,
            NewSubscription {
                url: "http://127.0.0.1:9/hook",
                event_types: &["application.routed".to_owned()],
                secret_sealed: &secret_box
                    .seal("whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
                owner: None,
            },
            1,
        )
        .await
        .unwrap();
        let queued = Store::enqueue_webhook(
            &store.db,
            "application.routed",
            &serde_json::json!({"type": "application.routed"}),
            "k1",
        )
        .await
        .unwrap();
        assert_eq!(queued, 1);
        let now = now_millis();
        let first = store
            .claim_webhook_deliveries(now, now + 1_000, 10)
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].attempts, 1);
        // Held: nobody else gets it.
        assert!(store
            .claim_webhook_deliveries(now + 500, now + 1_500, 10)
            .await
            .unwrap()
            .is_empty());
        // The holder died; after the lease another claimer takes it.
        let again = store
            .claim_webhook_deliveries(now + 1_000, now + 2_000, 10)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 2);
        // The first holder's late result is not written over the second's lease.
        assert!(!store
            .finish_webhook_delivery(&first[0].id, now + 1_000, DeliveryResult::Delivered, now)
            .await
            .unwrap());
        assert!(store
            .finish_webhook_delivery(&again[0].id, now + 2_000, DeliveryResult::Delivered, now)
            .await
            .unwrap());
        // Queuing the same key again adds nothing.
        assert_eq!(
            Store::enqueue_webhook(
                &store.db,
                "application.routed",
                &serde_json::json!({}),
                "k1"
            )
            .await
            .unwrap(),
            0
        );
    }
}
