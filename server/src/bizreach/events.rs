//! A pulled application as the event hirelay stores: the contract's BizReach application event,
//! with `type` derived from the channel (I1: `direct` → `application.received`, `scout` →
//! `scout.replied`), stored through the same path as pushed webhooks.
use crate::crypto::AddressKey;
use crate::domain::ids::new_id;
use crate::domain::payload::{parse_json, BizreachApplicationEvent, PayloadError};
use crate::domain::status::EventSource;
use crate::domain::time::now_millis;
use crate::ingest::{body_hash, event_person};
use crate::store::events::NewEvent;

/// How the event of a pulled application is keyed for idempotency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullKind {
    /// `pull:{id}:{16 hex of the body hash}`: a changed application is a new event, an
    /// unchanged one a duplicate.
    Poll,
    /// `backfill:{id}`: an application is backfilled once.
    Backfill,
}

/// A pulled application, parsed, and the event to store for it.
pub struct PulledEvent {
    pub event: BizreachApplicationEvent,
    pub new: NewEvent,
}

/// The event for `application` (as the source API sent it) of `group_account_id`, recorded as
/// about the candidate's address under `key`.
pub fn pulled_event(
    group_account_id: &str,
    application: &serde_json::Value,
    kind: PullKind,
    key: &AddressKey,
) -> Result<PulledEvent, PayloadError> {
    let event_type = match application.get("channel").and_then(|c| c.as_str()) {
        Some("scout") => "scout.replied",
        _ => "application.received",
    };
    let payload = serde_json::json!({
        "type": event_type,
        "group_account_id": group_account_id,
        "application": application,
    })
    .to_string();
    let event: BizreachApplicationEvent = parse_json(payload.as_bytes())?;
    let hash = body_hash(payload.as_bytes());
    let id = event.application.id.as_str();
    let webhook_id = match kind {
        PullKind::Poll => format!("pull:{id}:{}", &hash[..16]),
        PullKind::Backfill => format!("backfill:{id}"),
    };
    Ok(PulledEvent {
        new: NewEvent {
            id: new_id("evt"),
            source: EventSource::Bizreach,
            kind: event_type.to_owned(),
            webhook_id,
            body_hash: hash,
            payload,
            received_at: now_millis(),
            person: event_person(key, Some(&event.application.candidate.email), None),
        },
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(status: &str) -> serde_json::Value {
        serde_json::json!({"id": "br-app-1", "channel": "scout", "position_name": "SRE",
            "applied_at": "2026-11-20T10:15:00+09:00", "status": status,
            "candidate": {"id": "c", "name": "山田 太郎", "email": "Taro@Example.jp"}})
    }

    #[test]
    fn i1_scout_applications_become_scout_replied_and_changes_are_new_events() {
        let a = pulled_event(
            "grp-001",
            &app("new"),
            PullKind::Poll,
            &AddressKey::for_tests(),
        )
        .unwrap();
        assert_eq!(a.new.kind, "scout.replied");
        assert!(a.new.webhook_id.starts_with("pull:br-app-1:"));
        assert_eq!(a.new.webhook_id.len(), "pull:br-app-1:".len() + 16);
        let same = pulled_event(
            "grp-001",
            &app("new"),
            PullKind::Poll,
            &AddressKey::for_tests(),
        )
        .unwrap();
        assert_eq!(a.new.webhook_id, same.new.webhook_id);
        let changed = pulled_event(
            "grp-001",
            &app("rejected"),
            PullKind::Poll,
            &AddressKey::for_tests(),
        )
        .unwrap();
        assert_ne!(a.new.webhook_id, changed.new.webhook_id);
        let b = pulled_event(
            "grp-001",
            &app("new"),
            PullKind::Backfill,
            &AddressKey::for_tests(),
        )
        .unwrap();
        assert_eq!(b.new.webhook_id, "backfill:br-app-1");
        // Stored as sent: the email is normalised by the pipeline, not here.
        assert!(a.new.payload.contains("Taro@Example.jp"));
    }

    #[test]
    fn a_malformed_application_names_the_field() {
        let mut bad = app("new");
        bad["status"] = "lost".into();
        let err = pulled_event("grp-001", &bad, PullKind::Poll, &AddressKey::for_tests())
            .err()
            .unwrap();
        assert_eq!(err.field.as_deref(), Some("application.status"));
    }
}
