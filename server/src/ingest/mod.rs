//! Inbound webhooks: signature check, typed parsing, reference checks, and the durable accept.
//!
//! Accepting is group commit: every request hands its event to a writer that stores
//! whatever is pending in one transaction, then answers each request. An event is acknowledged
//! (`202`) only once its transaction committed.
pub mod deliver;
pub mod signature;
mod writer;

use crate::config::SourceSecrets;
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::payload::{InboundEvent, PayloadError};
use crate::domain::status::EventSource;
use crate::store::events::{EventPerson, InsertOutcome, NewEvent};
use crate::store::{Store, StoreError};
use signature::{SignatureError, WebhookSecrets};
use tokio_util::sync::CancellationToken;

/// Why a delivery was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Signature(#[from] SignatureError),
    #[error("the body must be JSON (Content-Type: application/json)")]
    NotJson,
    #[error("the body is larger than the limit of {limit} bytes")]
    TooLarge { limit: usize },
    #[error("{message}")]
    Malformed {
        field: Option<String>,
        message: String,
    },
    #[error("{message}")]
    Refused {
        field: Option<String>,
        message: String,
    },
    #[error(
        "webhook-id `{webhook_id}` was already delivered with a different body (event {event_id})"
    )]
    IdempotencyConflict {
        webhook_id: String,
        event_id: String,
    },
    #[error("the server is shutting down; retry")]
    Unavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PayloadError> for IngestError {
    fn from(e: PayloadError) -> Self {
        IngestError::Malformed {
            field: e.field,
            message: e.message,
        }
    }
}

/// The Standard Webhooks headers of a delivery.
pub struct Delivery<'a> {
    pub webhook_id: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// The body as received; stored as the event's payload once it parsed as JSON.
    pub body: Vec<u8>,
}

/// What the sender is told.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    New { event_id: String },
    Duplicate { event_id: String },
}

/// The inbound side: verifies, parses, checks references and stores.
#[derive(Clone)]
pub struct Ingest {
    secrets: SourceSecrets,
    store: Store,
    writer: writer::Writer,
    /// The keyed hash each event's candidate address is recorded under (issue 16).
    key: AddressKey,
}

impl Ingest {
    /// Starts the group-commit writer(s) on `store` (on an SQLite file, a thread with a
    /// connection of its own, which fails to start if the file cannot be opened).
    pub fn start(store: Store, secrets: SourceSecrets, key: AddressKey) -> anyhow::Result<Ingest> {
        let writers = if store.is_postgres() { 4 } else { 1 };
        let writer = writer::Writer::start(store.clone(), writers)?;
        Ok(Ingest {
            secrets,
            store,
            writer,
            key,
        })
    }

    /// The secrets of an inbound source; `None` for `hirelay`, which is never received.
    fn secrets(&self, source: EventSource) -> Option<(&WebhookSecrets, &'static str)> {
        self.secrets.of(source)
    }

    /// Verifies, parses and durably stores one delivery.
    pub async fn accept(
        &self,
        source: EventSource,
        delivery: Delivery<'_>,
        now_secs: i64,
    ) -> Result<Accepted, IngestError> {
        let Some((secrets, variable)) = self.secrets(source) else {
            return Err(IngestError::Refused {
                field: None,
                message: "hirelay's own events are not received as webhooks".into(),
            });
        };
        if !secrets.is_configured() {
            return Err(SignatureError::NotConfigured(source.as_str(), variable).into());
        }
        let webhook_id = delivery
            .webhook_id
            .ok_or(SignatureError::MissingHeader("webhook-id"))?;
        let timestamp = delivery
            .timestamp
            .ok_or(SignatureError::MissingHeader("webhook-timestamp"))?;
        let signature = delivery
            .signature
            .ok_or(SignatureError::MissingHeader("webhook-signature"))?;
        secrets.verify(webhook_id, timestamp, signature, &delivery.body, now_secs)?;
        check_webhook_id(webhook_id)?;
        let event = InboundEvent::parse(source, &delivery.body)?;
        let candidate_id = self.check_references(&event).await?;
        // In the request path, so the writer's transaction only stores it.
        let person = event_person(&self.key, event.candidate_email(), candidate_id);
        let body_hash = body_hash(&delivery.body);
        // The body parsed as JSON, so it is UTF-8: this takes it over without copying.
        let payload = String::from_utf8(delivery.body).map_err(|e| IngestError::Malformed {
            field: None,
            message: format!("the body is not UTF-8: {e}"),
        })?;
        let new = NewEvent {
            id: new_id("evt"),
            source,
            kind: event.kind().to_owned(),
            webhook_id: webhook_id.to_owned(),
            body_hash,
            payload,
            received_at: crate::domain::time::now_millis(),
            person,
        };
        let (id, webhook_id) = (new.id.clone(), new.webhook_id.clone());
        match self.writer.submit(new).await? {
            InsertOutcome::Accepted => Ok(Accepted::New { event_id: id }),
            InsertOutcome::Duplicate { event_id } => Ok(Accepted::Duplicate { event_id }),
            InsertOutcome::Conflict { event_id } => Err(IngestError::IdempotencyConflict {
                webhook_id,
                event_id,
            }),
        }
    }

    /// 422s: a BizReach event for a group account that is not linked (L5); an ATS change for an
    /// application hirelay does not know, without the candidate to create it from; a
    /// registration with no invitation's token. Answers the candidate the look-up found (an
    /// ATS change without `candidate`, a registration), recorded with the event (issue 16).
    async fn check_references(&self, event: &InboundEvent) -> Result<Option<String>, IngestError> {
        match event {
            InboundEvent::Bizreach(e) => {
                let id = e.group_account_id.as_str();
                match self.store.group_account_status(id).await? {
                    Some(status) if status == "linked" => Ok(None),
                    Some(status) => Err(IngestError::Refused {
                        field: Some("group_account_id".into()),
                        message: format!("group account `{id}` is {status}, not linked: its candidates are not imported (L5)"),
                    }),
                    None => Err(IngestError::Refused {
                        field: Some("group_account_id".into()),
                        message: format!("group account `{id}` is unknown to hirelay: sign in and link it first (L5)"),
                    }),
                }
            }
            InboundEvent::Ats(change) if change.candidate.is_none() => {
                let known = self
                    .store
                    .application_candidate(
                        change
                            .source
                            .as_ref()
                            .map(|s| (s.system.as_str(), s.application_id.as_str())),
                        change.ats_application_id.as_ref().map(|t| t.as_str()),
                    )
                    .await?;
                match known {
                    Some(candidate) => Ok(Some(candidate)),
                    None => Err(IngestError::Refused {
                        field: Some("candidate".into()),
                        message: "hirelay does not know this application; send `candidate` so it can be created".into(),
                    }),
                }
            }
            InboundEvent::CareerRelay(
                crate::domain::payload::CareerRelayEvent::RegistrationCompleted {
                    invitation_token,
                    ..
                },
            ) => {
                match Store::invitation_by_token(
                    &self.store.db,
                    crate::domain::invitation_tokens::TokenUse::CareerRelay,
                    invitation_token.as_str(),
                )
                .await?
                {
                    Some(invitation) => Ok(Some(invitation.candidate_id)),
                    None => Err(IngestError::Refused {
                        field: Some("invitation_token".into()),
                        message: "no invitation has this token: use the token hirelay's tracking link gave Career Relay".into(),
                    }),
                }
            }
            _ => Ok(None),
        }
    }

    /// Records the person of events stored before m0018 (their `person_hash` is NULL): parsed
    /// as they were received, with the candidate the reference checks find. In batches, each
    /// its own short transaction, until none is left or `stop` is cancelled; answers how many
    /// were recorded. Until then an erasure finds them by their text.
    pub async fn record_people(&self, stop: &CancellationToken) -> Result<u64, IngestError> {
        let mut recorded = 0;
        while !stop.is_cancelled() {
            let batch = self.store.events_without_person(RECORD_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            let mut people = Vec::with_capacity(batch.len());
            for (id, source, payload) in batch {
                let parsed = EventSource::parse(&source)
                    .ok()
                    .and_then(|s| InboundEvent::parse(s, payload.as_bytes()).ok());
                let person = match parsed {
                    Some(event) => {
                        let candidate = self.check_references(&event).await.ok().flatten();
                        event_person(&self.key, event.candidate_email(), candidate)
                    }
                    None => EventPerson::default(),
                };
                people.push((id, person));
            }
            recorded += self.store.record_event_people(&people).await?;
        }
        Ok(recorded)
    }

    /// [`Ingest::record_people`] on a task of its own, logging what it did.
    pub fn record_people_in_background(
        &self,
        stop: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        let ingest = self.clone();
        tokio::spawn(async move {
            match ingest.record_people(&stop).await {
                Ok(0) => {}
                Ok(recorded) => {
                    tracing::info!(
                        recorded,
                        "recorded the person of events stored before m0018"
                    )
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "recording the person of older events stopped; an erasure finds them by their text meanwhile"
                ),
            }
        })
    }
}

/// Events [`Ingest::record_people`] reads and updates at a time.
const RECORD_BATCH: u64 = 500;

/// Issue 16: the person an event is recorded as about: the keyed hash of the candidate's
/// address it names (`""` if none) and the candidate, when known.
pub fn event_person(
    key: &AddressKey,
    address: Option<&Email>,
    candidate_id: Option<String>,
) -> EventPerson {
    EventPerson {
        address_hash: address
            .map(|a| key.hash(a).as_str().to_owned())
            .unwrap_or_default(),
        candidate_id,
    }
}

/// SHA-256 of a body, hex: how a redelivery is told apart from a different body.
pub fn body_hash(body: &[u8]) -> String {
    crate::domain::ids::token_hash_bytes(body)
}

/// The longest `webhook-id` kept, in bytes (Standard Webhooks ids are short, e.g. `msg_…`).
pub const MAX_WEBHOOK_ID: usize = 256;

/// Security review S1: the idempotency key must be one. An empty `webhook-id` made every
/// empty-id delivery a duplicate of the first (or a 409), and an id of any length was stored
/// and indexed as sent.
fn check_webhook_id(webhook_id: &str) -> Result<(), IngestError> {
    let problem = if webhook_id.trim().is_empty() {
        "must not be empty"
    } else if webhook_id.len() > MAX_WEBHOOK_ID {
        "must be at most 256 bytes"
    } else {
        return Ok(());
    };
    Err(IngestError::Malformed {
        field: Some("webhook-id".to_owned()),
        message: format!("header `webhook-id` {problem}"),
    })
}
