//! The control API under `/_sim`, for tests and demos. It needs no token and is never
//! counted nor faulted.
//!
//! | route | what |
//! |---|---|
//! | `POST /_sim/applications` | add applications to a group (generated where fields are missing) |
//! | `GET /_sim/applications/{id}` | read one application |
//! | `PUT /_sim/applications/{id}` `{"status"}` | change a status on the BizReach side (not logged) |
//! | `GET /_sim/status-log` | the status pushes received, in arrival order |
//! | `POST /_sim/faults`, `DELETE /_sim/faults` | inject or clear faults on `/api/*` |
//! | `GET /_sim/stats` | request counts per `/api` route |
//! | `DELETE /_sim/sessions` | end every session (tokens stop working) |

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use crate::api::StatusIn;
use crate::data::Generator;
use crate::error::{parse_json, SimError};
use crate::model::{now_jst, Application, Channel, Status};
use crate::state::{FaultPlan, Shared};

/// The most applications one `POST /_sim/applications` may add.
pub const MAX_ADDED: usize = 10_000;
/// The longest injectable delay.
pub const MAX_DELAY_MS: u64 = 600_000;

/// Registers the `/_sim` scope.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/_sim")
            .route("/applications", web::post().to(add_applications))
            .route("/applications/{id}", web::get().to(get_application))
            .route("/applications/{id}", web::put().to(set_status))
            .route("/status-log", web::get().to(status_log))
            .route("/faults", web::post().to(set_faults))
            .route("/faults", web::delete().to(clear_faults))
            .route("/stats", web::get().to(stats))
            .route("/sessions", web::delete().to(end_sessions))
            .default_service(web::to(crate::api::not_found)),
    );
}

/// `POST /_sim/applications`: which group, and either explicit (partial)
/// applications or how many to generate.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddApplications {
    group_account_id: String,
    applications: Option<Vec<ApplicationDraft>>,
    count: Option<usize>,
    /// For applications that give no `applied_at`; default now.
    applied_at: Option<DateTime<FixedOffset>>,
}

/// An application with any field left out; what is missing is generated.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ApplicationDraft {
    id: Option<String>,
    channel: Option<Channel>,
    position_name: Option<String>,
    applied_at: Option<DateTime<FixedOffset>>,
    status: Option<Status>,
    candidate: Option<CandidateDraft>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CandidateDraft {
    id: Option<String>,
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ApplicationDraft {
    /// A generated application with this draft's fields laid over it.
    fn build(self, generator: &mut Generator, default_at: DateTime<FixedOffset>) -> Application {
        let mut app = generator.application_at(self.applied_at.unwrap_or(default_at));
        if let Some(id) = self.id {
            app.id = id;
        }
        if let Some(channel) = self.channel {
            app.channel = channel;
        }
        if let Some(position_name) = self.position_name {
            app.position_name = position_name;
        }
        if let Some(status) = self.status {
            app.status = status;
        }
        let c = self.candidate.unwrap_or_default();
        let candidate = &mut app.candidate;
        if let Some(id) = c.id {
            candidate.id = id;
        }
        if let Some(name) = c.name {
            candidate.name = name;
        }
        if let Some(email) = c.email {
            candidate.email = email;
        }
        if let Some(phone) = c.phone {
            candidate.phone = phone;
        }
        if let Some(attributes) = c.attributes {
            candidate.attributes = attributes;
        }
        app
    }
}

/// Adds applications and answers `201 {"applications": [...]}` with the ones created.
/// Unknown group → 404; an id already taken → 409 (and nothing is added).
async fn add_applications(
    shared: web::Data<Shared>,
    body: web::Bytes,
) -> Result<HttpResponse, SimError> {
    let input: AddApplications = parse_json(&body)?;
    let drafts = match (input.applications, input.count) {
        (Some(_), Some(_)) => {
            return Err(SimError::parameter(
                "count",
                "give either `applications` or `count`, not both",
            ))
        }
        (Some(drafts), None) => drafts,
        (None, count) => {
            let count = count.unwrap_or(1);
            if count > MAX_ADDED {
                return Err(SimError::parameter(
                    "count",
                    format!("at most {MAX_ADDED} at once"),
                ));
            }
            (0..count).map(|_| ApplicationDraft::default()).collect()
        }
    };
    if drafts.len() > MAX_ADDED {
        return Err(SimError::parameter(
            "applications",
            format!("at most {MAX_ADDED} at once"),
        ));
    }
    let default_at = input.applied_at.unwrap_or_else(now_jst);
    let mut store = shared.lock();
    let apps: Vec<Application> = drafts
        .into_iter()
        .map(|draft| draft.build(store.generator(), default_at))
        .collect();
    store.add(&input.group_account_id, apps.clone())?;
    Ok(HttpResponse::Created().json(Added { applications: apps }))
}

/// The answer to `POST /_sim/applications`.
#[derive(Serialize)]
struct Added {
    applications: Vec<Application>,
}

/// `GET /_sim/applications/{id}` → the application.
async fn get_application(
    shared: web::Data<Shared>,
    id: web::Path<String>,
) -> Result<HttpResponse, SimError> {
    let store = shared.lock();
    Ok(HttpResponse::Ok().json(store.application(&id)?))
}

/// `PUT /_sim/applications/{id}` `{"status"}` → the changed application; not logged.
async fn set_status(
    shared: web::Data<Shared>,
    id: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, SimError> {
    let input: StatusIn = parse_json(&body)?;
    let mut store = shared.lock();
    Ok(HttpResponse::Ok().json(store.set_status(&id, input.status)?))
}

/// `GET /_sim/status-log` → `[{"application_id","status","at"}]`.
async fn status_log(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.lock().status_log())
}

/// `POST /_sim/faults`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultsIn {
    /// How many of the next `/api/*` requests to affect; every one until cleared if absent.
    fail_next: Option<u32>,
    /// The status they answer: default 503, or the normal answer if only `delay_ms` is given.
    status: Option<u16>,
    /// How long each affected request sleeps first.
    delay_ms: Option<u64>,
    /// Answer `200`, then close the connection part-way through the body.
    cut: Option<bool>,
    /// Answer nothing: hold the request until the client gives up (a source that hangs).
    hang: Option<bool>,
}

impl FaultsIn {
    fn into_plan(self) -> Result<FaultPlan, SimError> {
        if self.fail_next == Some(0) {
            return Err(SimError::parameter("fail_next", "must be at least 1"));
        }
        let delay_ms = self.delay_ms.unwrap_or(0);
        if delay_ms > MAX_DELAY_MS {
            return Err(SimError::parameter(
                "delay_ms",
                format!("at most {MAX_DELAY_MS}"),
            ));
        }
        let cut = self.cut.unwrap_or(false);
        let hang = self.hang.unwrap_or(false);
        if hang && (cut || self.status.is_some() || self.delay_ms.is_some()) {
            return Err(SimError::parameter(
                "hang",
                "give `hang` alone (with `fail_next` if you like): a hung request answers nothing",
            ));
        }
        let status = match (self.status, self.delay_ms) {
            _ if hang => None,
            (Some(_), _) if cut => {
                return Err(SimError::parameter(
                    "cut",
                    "give `cut` or `status`, not both",
                ))
            }
            (None, _) if cut => None,
            (Some(code), _) => Some(
                StatusCode::from_u16(code)
                    .ok()
                    .filter(|s| s.is_client_error() || s.is_server_error())
                    .ok_or_else(|| SimError::parameter("status", "must be between 400 and 599"))?,
            ),
            (None, Some(_)) => None,
            (None, None) => Some(StatusCode::SERVICE_UNAVAILABLE),
        };
        Ok(FaultPlan {
            remaining: self.fail_next,
            status,
            delay: Duration::from_millis(delay_ms),
            cut,
            hang,
        })
    }
}

/// Replaces the fault plan → 204.
async fn set_faults(shared: web::Data<Shared>, body: web::Bytes) -> Result<HttpResponse, SimError> {
    let plan = parse_json::<FaultsIn>(&body)?.into_plan()?;
    shared.lock().set_faults(plan);
    Ok(HttpResponse::NoContent().finish())
}

/// Clears the fault plan → 204.
async fn clear_faults(shared: web::Data<Shared>) -> HttpResponse {
    shared.lock().clear_faults();
    HttpResponse::NoContent().finish()
}

/// `GET /_sim/stats` → `{"requests": {"METHOD /pattern": n}, "faulted": n}`.
async fn stats(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.lock().stats())
}

/// Ends every session → 204; the next `/api/*` call with an old token gets 401.
async fn end_sessions(shared: web::Data<Shared>) -> HttpResponse {
    shared.lock().end_sessions();
    HttpResponse::NoContent().finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(json: &str) -> Result<FaultPlan, SimError> {
        parse_json::<FaultsIn>(json.as_bytes())?.into_plan()
    }

    #[test]
    fn faults_default_to_503_until_cleared() {
        let p = plan("{}").unwrap();
        assert_eq!(p.status, Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(p.remaining, None);
    }

    #[test]
    fn a_delay_alone_answers_normally() {
        let p = plan(r#"{"fail_next": 1, "delay_ms": 50}"#).unwrap();
        assert_eq!(p.status, None);
        assert_eq!(p.delay, Duration::from_millis(50));
    }

    #[test]
    fn bad_fault_plans_are_rejected() {
        for bad in [
            r#"{"status": 200}"#,
            r#"{"status": 1000}"#,
            r#"{"fail_next": 0}"#,
            r#"{"fail_next": -1}"#,
            r#"{"delay_ms": 600001}"#,
            r#"{"stauts": 503}"#,
            r#"{"cut": true, "status": 503}"#,
            r#"{"hang": true, "status": 503}"#,
            r#"{"hang": true, "cut": true}"#,
            r#"{"hang": true, "delay_ms": 10}"#,
        ] {
            assert!(plan(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_hang_answers_nothing() {
        let p = plan(r#"{"fail_next": 2, "hang": true}"#).unwrap();
        assert!(p.hang && !p.cut);
        assert_eq!((p.status, p.remaining), (None, Some(2)));
    }

    #[test]
    fn a_cut_answers_no_status_of_its_own() {
        let p = plan(r#"{"fail_next": 1, "cut": true}"#).unwrap();
        assert!(p.cut);
        assert_eq!(p.status, None);
    }

    #[test]
    fn a_draft_keeps_its_fields_and_fills_the_rest() {
        let draft: ApplicationDraft = parse_json(
            br#"{"id": "br-app-x", "status": "hired", "candidate": {"email": "A@B.jp"}}"#,
        )
        .unwrap();
        let at = DateTime::parse_from_rfc3339("2026-01-02T03:04:05.678Z").unwrap();
        let app = draft.build(&mut Generator::new(1), at);
        assert_eq!(app.id, "br-app-x");
        assert_eq!(app.status, Status::Hired);
        assert_eq!(app.candidate.email, "A@B.jp");
        assert!(app.candidate.name.contains(' '));
        assert_eq!(
            crate::model::rfc3339(&app.applied_at),
            "2026-01-02T12:04:05+09:00"
        );
    }
}
