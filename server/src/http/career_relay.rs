//! `/v1/career-relay/…`: what HR managers read of the Career Relay programme: the ledger of
//! free referral slots (C1) and how the referred hires went (C6).
use actix_web::{web, HttpResponse};

use super::auth::{Auth, Viewer};
use super::error::ApiError;
use super::AppState;
use crate::relay::ledger::Ledger;
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/career-relay/ledger", web::get().to(ledger));
}

/// C1: registered rejected candidates, the ratio, and the slots they earned, used and left.
#[utoipa::path(get, path = "/v1/career-relay/ledger", tag = "career_relay",
    responses((status = 200, body = Ledger)), security(("bearer" = [])))]
async fn ledger(_: Auth<Viewer>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let counts = Store::referral_counts(&state.store.db).await?;
    Ok(HttpResponse::Ok().json(Ledger::new(counts, state.config.career_relay_ratio)))
}
