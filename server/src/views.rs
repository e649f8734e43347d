//! The JSON shapes of stored applications and candidates: what the API answers and what rule
//! scripts read, one shape for both, built here rather than in the store.
use serde_json::{json, Value};

use crate::domain::time::rfc3339;
use crate::store::entities::{application, application_history, candidate};

/// A candidate as the API and scripts see it.
pub fn candidate_json(c: &candidate::Model) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "email": c.email,
        "phone": c.phone,
        "attributes": serde_json::from_str::<Value>(&c.attributes).unwrap_or_else(|_| json!({})),
    })
}

/// An application as the API and scripts see it (the contract's fields and more).
pub fn application_json(app: &application::Model, candidate: Option<&candidate::Model>) -> Value {
    json!({
        "id": app.id,
        "source_system": app.source_system,
        "source_application_id": app.source_application_id,
        "ats_application_id": app.ats_application_id,
        "group_account_id": app.group_account_id,
        "channel": app.channel,
        "position_name": app.position_name,
        "source_status": app.source_status,
        "status": app.status,
        "status_changed_at": app.status_changed_at.map(rfc3339),
        "stage": app.stage,
        "reason": app.reason,
        "job_id": app.job_id,
        "labels": serde_json::from_str::<Value>(&app.labels).unwrap_or_else(|_| json!([])),
        "applied_at": app.applied_at.map(rfc3339),
        "imported_via": app.imported_via,
        "synced_status": app.synced_status,
        "synced_at": app.synced_at.map(rfc3339),
        "created_at": rfc3339(app.created_at),
        "updated_at": rfc3339(app.updated_at),
        "candidate": candidate.map(candidate_json),
    })
}

/// A history entry as the API shows it.
pub fn history_json(h: &application_history::Model) -> Value {
    json!({
        "event_id": h.event_id,
        "from_status": h.from_status,
        "to_status": h.to_status,
        "stage": h.stage,
        "reason": h.reason,
        "changed_at": rfc3339(h.changed_at),
        "applied": h.applied,
        "recorded_at": rfc3339(h.recorded_at),
    })
}
