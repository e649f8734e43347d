//! `/v1/candidates` (admin, issue 16, APPI): a person's data exported, or erased from every
//! copy hirelay keeps (tombstones keep every total right; opt-outs stay as a keyed hash).
//! Both are audited with the candidate, without the values.
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{Admin, Auth};
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::domain::email::Email;
use crate::domain::time::{now_millis, rfc3339};
use crate::store::erasure::Erasure;
use crate::store::personal_data::PersonRecords;
use crate::store::Store;
use crate::views::{application_json, candidate_json, history_json};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/candidates", web::delete().to(erase_by_address))
        .route("/v1/candidates/{id}", web::delete().to(erase))
        .route("/v1/candidates/{id}/export", web::get().to(export));
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct AddressQuery {
    /// The person's address, in any case and spacing: it is normalised.
    pub email: Option<String>,
}

/// Erases a candidate (`200` with what changed where, counts only; `404` for an unknown id;
/// an erased one answers `already_erased`).
#[utoipa::path(delete, path = "/v1/candidates/{id}", tag = "candidates",
    responses((status = 200, body = Erasure), (status = 404)), security(("bearer" = [])))]
async fn erase(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    erase_candidate(&state, &auth.actor(), &id).await
}

/// Erases the candidate with this address (normalised), as `DELETE /v1/candidates/{id}`.
#[utoipa::path(delete, path = "/v1/candidates", tag = "candidates", params(AddressQuery),
    responses((status = 200, body = Erasure), (status = 400), (status = 404)), security(("bearer" = [])))]
async fn erase_by_address(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    query: web::Query<AddressQuery>,
) -> Result<HttpResponse, ApiError> {
    let given = query.email.as_deref().ok_or_else(|| {
        ApiError::field(
            ErrorCode::InvalidField,
            "email",
            "give the address to erase",
        )
    })?;
    let email = Email::parse(given).map_err(|e| {
        ApiError::field(
            ErrorCode::InvalidField,
            "email",
            format!("`{}` {e}", crate::domain::email::redact_invalid(given)),
        )
    })?;
    let found = Store::candidate_by_email(&state.store.db, &email)
        .await?
        .ok_or_else(|| ApiError::not_found("a candidate with that address"))?;
    erase_candidate(&state, &auth.actor(), &found.id).await
}

async fn erase_candidate(
    state: &AppState,
    actor: &str,
    id: &str,
) -> Result<HttpResponse, ApiError> {
    let key = state.secret_box.address_key();
    let mut erasure = state
        .store
        .erase_candidate(id, actor, &key, now_millis())
        .await?;
    if !erasure.already_erased {
        // Files after the commit: a rollback must not have removed them.
        let dir = state.config.data_dir.join("outbox");
        let (ids, address) = (erasure.mail_ids.clone(), erasure.address.clone());
        let removed = tokio::task::spawn_blocking(move || {
            crate::mail::transport::erase_files(&dir, &ids, &address)
        })
        .await;
        match removed {
            Ok(Ok(n)) => erasure.files = n,
            Ok(Err(e)) => {
                tracing::error!(candidate = id, error = %e, "an erased candidate's mail files could not all be removed")
            }
            Err(e) => {
                tracing::error!(candidate = id, error = %e, "removing an erased candidate's mail files stopped")
            }
        }
    }
    tracing::info!(candidate = id, "candidate erased");
    Ok(HttpResponse::Ok().json(erasure))
}

/// Everything hirelay holds on one person, as JSON: each part with `source` (where it came
/// from) and `items`. Audited (`candidate.export`).
#[utoipa::path(get, path = "/v1/candidates/{id}/export", tag = "candidates",
    responses((status = 200, description = "`{\"candidate_id\", \"exported_at\", \"erased_at\", \"parts\": {name: {\"source\", \"items\"}}}`"), (status = 404)),
    security(("bearer" = [])))]
async fn export(
    auth: Auth<Admin>,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let db = &state.store.db;
    let records = Store::person_records(db, &id, &state.secret_box.address_key()).await?;
    Store::audit_candidate(
        db,
        &auth.actor(),
        "candidate.export",
        &id,
        Some(&id),
        json!({}),
    )
    .await?;
    Ok(HttpResponse::Ok().json(export_json(&records)))
}

fn part(source: &str, items: Vec<Value>) -> Value {
    json!({"source": source, "items": items})
}

fn stored_json(text: Option<&str>) -> Value {
    text.map_or(Value::Null, |t| {
        serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
    })
}

/// The export document (see [`export`]).
fn export_json(r: &PersonRecords) -> Value {
    let c = &r.candidate;
    let parts = json!({
        "candidate": part(
            "the person as BizReach imports and ATS webhooks gave them (name, address, phone, attributes, BizReach id)",
            vec![json!({
                "record": candidate_json(c),
                "bizreach_candidate_id": c.bizreach_candidate_id,
                "created_at": rfc3339(c.created_at),
                "updated_at": rfc3339(c.updated_at),
            })],
        ),
        "applications": part(
            "applications, from a BizReach import (`source_system` bizreach, `imported_via` push, poll or backfill) or an ATS webhook",
            r.applications.iter().map(|a| application_json(a, None)).collect(),
        ),
        "status_history": part(
            "status changes the ATS sent by webhook (`event_id`), or imports recorded",
            r.history.iter().map(|h| json!({"application_id": h.application_id, "change": history_json(h)})).collect(),
        ),
        "invitations": part(
            "Career Relay invitations hirelay made under its rules, with clicks it recorded and registrations Career Relay reported",
            r.invitations.iter().map(|i| json!({
                "application_id": i.application_id,
                "invitation": crate::relay::invitation_json(i),
                "recipient": i.recipient,
                "registration_attributes": stored_json(i.registration_attributes.as_deref()),
            })).collect(),
        ),
        "events": part(
            "webhooks as received from the ATS, BizReach or Career Relay (`source`), with their stored payload",
            r.events.iter().map(|e| json!({
                "id": e.id, "source": e.source, "type": e.kind, "received_at": rfc3339(e.received_at),
                "status": e.status,
                "payload": stored_json(Some(&e.payload)),
                "purged": crate::domain::personal::purge_note(&e.payload),
            })).collect(),
        ),
        "decisions": part(
            "what the rule scripts decided on those events: actions, script log, context",
            r.decisions.iter().map(|d| json!({
                "event_id": d.event_id, "script": d.script, "script_version": d.script_version,
                "decided_at": rfc3339(d.decided_at),
                "actions": stored_json(Some(&d.actions)), "log": stored_json(Some(&d.log)),
                "error": d.error, "context": stored_json(d.context.as_deref()),
            })).collect(),
        ),
        "mails": part(
            "mails hirelay queued to or about the person (invitations, notifications of their application), with their bodies while kept",
            r.mails.iter().map(|m| json!({
                "id": m.id, "template": m.template, "template_version": m.template_version,
                "recipient": m.recipient, "subject": m.subject, "text": m.text_body,
                "status": m.status, "created_at": rfc3339(m.created_at), "sent_at": m.sent_at.map(rfc3339),
            })).collect(),
        ),
        "kpi_records": part(
            "KPI points the rule scripts recorded on their events",
            r.kpi_records.iter().map(|k| json!({
                "name": k.name, "value": k.value, "tags": stored_json(Some(&k.tags)),
                "recorded_at": rfc3339(k.recorded_at),
            })).collect(),
        ),
        "opt_outs": part(
            "refusals of promotional mail, kept under a keyed hash of the address (one-click link, confirmation page or an admin)",
            r.opt_outs.iter().map(|o| json!({"kind": o.kind, "opted_out_at": rfc3339(o.opted_out_at), "channel": o.channel})).collect(),
        ),
        "consents": part(
            "consent to promotional mail, from an ATS webhook or an admin, under a keyed hash of the address",
            r.consents.iter().map(|c| json!({"kind": c.kind, "given_at": rfc3339(c.given_at), "method": c.method, "recorded_by": c.recorded_by})).collect(),
        ),
        "access_log": part(
            "who read, exported or changed this person's data (the audit log)",
            r.audit.iter().map(|a| json!({"at": rfc3339(a.at), "actor": a.actor, "action": a.action})).collect(),
        ),
    });
    json!({
        "candidate_id": c.id,
        "exported_at": rfc3339(now_millis()),
        "erased_at": c.erased_at.map(rfc3339),
        "parts": parts,
    })
}
