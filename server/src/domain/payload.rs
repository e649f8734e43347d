//! The contract's inbound payloads as typed structs. A body becomes one of these or a 400 that
//! names the field at fault (`application.candidate.email`).
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::email::Email;
use super::invitation_policy::{Consent, ConsentMethod};
use super::status::{AtsStatus, BizreachStatus, Channel, EventSource};

/// A string that is not empty (after trimming).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Text(String);

impl Text {
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let t = s.trim();
        if t.is_empty() {
            return Err(serde::de::Error::custom("must not be empty"));
        }
        Ok(Text(t.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        // The message reaches logs and stored errors: never the raw text (issue 18).
        Email::parse(&s).map_err(|e| {
            serde::de::Error::custom(format!(
                "`{}` {e}",
                crate::domain::email::redact_invalid(&s)
            ))
        })
    }
}

impl Serialize for Email {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The `type` of a BizReach event (I1): a direct application or a scout reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BizreachEventType {
    #[serde(rename = "application.received")]
    ApplicationReceived,
    #[serde(rename = "scout.replied")]
    ScoutReplied,
}

/// `POST /v1/webhooks/bizreach`, and what the poller and backfill turn each pulled application into.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct BizreachApplicationEvent {
    #[serde(rename = "type")]
    pub kind: BizreachEventType,
    pub group_account_id: Text,
    pub application: BizreachApplication,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct BizreachApplication {
    pub id: Text,
    pub channel: Channel,
    pub position_name: Text,
    pub applied_at: DateTime<FixedOffset>,
    pub status: BizreachStatus,
    pub candidate: BizreachCandidate,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct BizreachCandidate {
    #[serde(default)]
    pub id: Option<String>,
    pub name: Text,
    pub email: Email,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Optional: the candidate's consent to Career Relay invitations, when and how given.
    #[serde(default)]
    pub marketing_consent: Option<MarketingConsent>,
}

/// `candidate.marketing_consent`: the candidate consented to promotional mail (Career Relay
/// invitations) at `given_at`, in the way `method` says; invitations are then sent on that
/// consent (特定電子メール法 Art. 3(1)(i)) rather than the applicants' exemption.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct MarketingConsent {
    pub given_at: DateTime<FixedOffset>,
    pub method: ConsentMethod,
}

impl MarketingConsent {
    pub fn consent(&self) -> Consent {
        Consent {
            given_at: self.given_at.timestamp_millis(),
            method: self.method.clone(),
        }
    }
}

/// `POST /v1/webhooks/ats`: a selection status change in the ATS.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AtsStatusChange {
    #[serde(rename = "type")]
    pub kind: AtsEventType,
    #[serde(default)]
    pub ats_application_id: Option<Text>,
    #[serde(default)]
    pub source: Option<AtsSource>,
    #[serde(default)]
    pub candidate: Option<AtsCandidate>,
    #[serde(default)]
    pub job: Option<AtsJob>,
    #[serde(default)]
    pub from_status: Option<AtsStatus>,
    pub to_status: AtsStatus,
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    pub changed_at: DateTime<FixedOffset>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AtsEventType {
    #[serde(rename = "application.status_changed")]
    StatusChanged,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AtsSource {
    pub system: Text,
    pub application_id: Text,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AtsCandidate {
    pub name: Text,
    pub email: Email,
    #[serde(default)]
    pub attributes: Map<String, Value>,
    /// Optional, as for BizReach candidates.
    #[serde(default)]
    pub marketing_consent: Option<MarketingConsent>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct AtsJob {
    pub id: Text,
    #[serde(default)]
    pub title: Option<String>,
}

/// `POST /v1/webhooks/career-relay`.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(tag = "type")]
pub enum CareerRelayEvent {
    #[serde(rename = "registration.completed")]
    RegistrationCompleted {
        invitation_token: Text,
        registered_at: DateTime<FixedOffset>,
        #[serde(default)]
        attributes: Map<String, Value>,
    },
    #[serde(rename = "referral.updated")]
    ReferralUpdated {
        referral_id: Text,
        outcome: ReferralOutcome,
        at: DateTime<FixedOffset>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferralOutcome {
    SlotUsed,
    Hired,
    Joined,
    Retained,
    Left,
}

/// A parsed inbound event of any source.
#[derive(Clone, Debug)]
pub enum InboundEvent {
    Bizreach(BizreachApplicationEvent),
    Ats(AtsStatusChange),
    CareerRelay(CareerRelayEvent),
}

/// A body that is not a valid event: the message, and the field at fault when there is one.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct PayloadError {
    pub field: Option<String>,
    pub message: String,
}

impl InboundEvent {
    /// Parses a body of `source` into its typed event.
    pub fn parse(source: EventSource, body: &[u8]) -> Result<InboundEvent, PayloadError> {
        let event = match source {
            EventSource::Bizreach => InboundEvent::Bizreach(parse_json(body)?),
            EventSource::Ats => {
                let change: AtsStatusChange = parse_json(body)?;
                if change.ats_application_id.is_none() && change.source.is_none() {
                    return Err(PayloadError {
                        field: Some("ats_application_id".into()),
                        message: "`ats_application_id` or `source` is required to identify the application".into(),
                    });
                }
                InboundEvent::Ats(change)
            }
            EventSource::CareerRelay => InboundEvent::CareerRelay(parse_json(body)?),
            EventSource::Hirelay => {
                return Err(PayloadError {
                    field: None,
                    message: "events hirelay records of its own actions are not inbound events"
                        .into(),
                })
            }
        };
        Ok(event)
    }

    /// The address of the candidate the event names, if it names one (issue 16: recorded with
    /// the event as a keyed hash, so an erasure finds the event by index).
    pub fn candidate_email(&self) -> Option<&Email> {
        match self {
            InboundEvent::Bizreach(e) => Some(&e.application.candidate.email),
            InboundEvent::Ats(change) => change.candidate.as_ref().map(|c| &c.email),
            InboundEvent::CareerRelay(_) => None,
        }
    }

    /// The event's `type`, as stored.
    pub fn kind(&self) -> &'static str {
        match self {
            InboundEvent::Bizreach(e) => match e.kind {
                BizreachEventType::ApplicationReceived => "application.received",
                BizreachEventType::ScoutReplied => "scout.replied",
            },
            InboundEvent::Ats(_) => "application.status_changed",
            InboundEvent::CareerRelay(CareerRelayEvent::RegistrationCompleted { .. }) => {
                "registration.completed"
            }
            InboundEvent::CareerRelay(CareerRelayEvent::ReferralUpdated { .. }) => {
                "referral.updated"
            }
        }
    }
}

/// JSON into `T`, naming the path of the first field at fault.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PayloadError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = serde_path_to_error::deserialize::<_, T>(&mut de);
    if let Ok(v) = parsed {
        return de.end().map(|_| v).map_err(|e| PayloadError {
            field: None,
            message: format!("malformed JSON: {e}"),
        });
    }
    match parsed {
        Ok(v) => Ok(v),
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            let field = (path != "." && inner.is_data()).then_some(path.clone());
            let message = match (&field, inner.classify()) {
                (Some(f), _) => format!("field `{f}`: {}", strip_position(&inner.to_string())),
                (None, serde_json::error::Category::Data) => strip_position(&inner.to_string()),
                _ => format!("malformed JSON: {inner}"),
            };
            // A missing field is reported on its parent; name the field itself.
            let field = field.or_else(|| {
                missing_field(&inner.to_string()).map(|m| {
                    if path == "." {
                        m
                    } else {
                        format!("{path}.{m}")
                    }
                })
            });
            Err(PayloadError { field, message })
        }
    }
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn missing_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("missing field `")?;
    Some(rest.split('`').next()?.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> Vec<u8> {
        std::fs::read(format!(
            "{}/../../shared/samples/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    #[test]
    fn the_contract_samples_parse() {
        for (source, file) in [
            (EventSource::Bizreach, "bizreach-direct-application.json"),
            (EventSource::Bizreach, "bizreach-scout-reply-rejected.json"),
            (EventSource::Ats, "ats-status-rejected.json"),
            (EventSource::Ats, "ats-status-rejected-other-channel.json"),
            (EventSource::CareerRelay, "career-relay-registration.json"),
        ] {
            InboundEvent::parse(source, &sample(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        }
        let InboundEvent::Bizreach(e) = InboundEvent::parse(
            EventSource::Bizreach,
            &sample("bizreach-direct-application.json"),
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            e.application.candidate.email.as_str(),
            "taro.yamada@example.jp"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let body = br#"{"type":"application.received","group_account_id":"g","application":{"id":"a","channel":"direct","position_name":"p","applied_at":"2026-11-20T10:15:00+09:00","status":"new","candidate":{"name":"n","email":"nope"}}}"#;
        let err = InboundEvent::parse(EventSource::Bizreach, body).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("application.candidate.email"));
        let body = br#"{"type":"application.status_changed","ats_application_id":"x","to_status":"ghosted","changed_at":"2026-11-21T18:00:00+09:00"}"#;
        let err = InboundEvent::parse(EventSource::Ats, body).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("to_status"));
        assert!(err.message.contains("talent_pool"), "{}", err.message);
        let body = br#"{"type":"application.status_changed","ats_application_id":"x","changed_at":"2026-11-21T18:00:00+09:00"}"#;
        let err = InboundEvent::parse(EventSource::Ats, body).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("to_status"));
        let err = InboundEvent::parse(EventSource::Ats, b"{nope").unwrap_err();
        assert_eq!(err.field, None);
        assert!(err.message.starts_with("malformed JSON"));
    }
}
