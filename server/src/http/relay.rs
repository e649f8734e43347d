//! Candidate-facing pages of Career Relay: the tracking link (C2) and the opt-out (C8). No token
//! is needed: the link's token is the credential, and an unknown one never redirects elsewhere.
use actix_web::{http::header, web, HttpResponse};

use super::candidate_page;
use super::error::ApiError;
use super::AppState;
use crate::domain::email::Email;
use crate::domain::invitation_tokens::{InvitationTokens, TokenUse};
use crate::domain::message_kind::{MessageKind, OptOutChannel};
use crate::domain::time::now_millis;
use crate::store::opt_outs::{NewOptOut, LINK_OPT_OUT};
use crate::store::Store;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{token}", web::get().to(track))
        .route("/v1/unsubscribe/{token}", web::get().to(unsubscribe_page))
        .route("/v1/unsubscribe/{token}", web::post().to(unsubscribe));
}

/// A short, polite page in Japanese under the company's name.
async fn page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    title: &str,
    body: &str,
) -> HttpResponse {
    let company = crate::relay::company_name(&state.store.db, &state.config).await;
    candidate_page::render(status, &company, title, body)
}

async fn unknown_link(state: &AppState) -> HttpResponse {
    page(
        state,
        actix_web::http::StatusCode::NOT_FOUND,
        "リンクが見つかりません",
        "<p>このリンクは無効です。メールに記載のリンクをもう一度お確かめください。</p>",
    )
    .await
}

/// C2: records the click (first and latest) and redirects to the registration site with the
/// invitation's Career Relay token; an unknown token gets a 404 page, never a redirect.
#[utoipa::path(get, path = "/r/{token}", tag = "career_relay",
    responses((status = 302, description = "to HIRELAY_CAREER_RELAY_URL?token=…"), (status = 200, description = "HIRELAY_CAREER_RELAY_URL is not set: the click is recorded and a polite page answers"), (status = 404)))]
async fn track(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let now = now_millis();
    // The click and the funnel's counters together.
    let txn = state
        .store
        .begin_writing()
        .await
        .map_err(crate::store::StoreError::from)?;
    let Some(invitation) = Store::record_click(&txn, &token, now).await? else {
        return Ok(unknown_link(&state).await);
    };
    txn.commit().await.map_err(crate::store::StoreError::from)?;
    if invitation.clicked_first_at.is_none() {
        // The candidate is on their way whatever happens here: a failure is logged, and the
        // redirect still answers.
        if let Err(e) = crate::relay::announce::clicked(&state.store.db, &invitation, now).await {
            tracing::error!(error = %e, invitation = %invitation.id, "career_relay.clicked could not be queued");
        }
    }
    let Some(target) = state.config.career_relay_url.as_deref() else {
        // Issue 19: the click is recorded; the candidate gets a polite page, not an error.
        tracing::warn!(invitation = %invitation.id, "a tracking link was clicked but HIRELAY_CAREER_RELAY_URL is not set: the click is recorded, no redirect");
        return Ok(page(
            &state,
            actix_web::http::StatusCode::OK,
            "キャリアリレーのご案内",
            "<p>ご関心をお寄せいただき、ありがとうございます。登録ページは現在準備中です。準備が整いしだい、改めてご案内いたします。</p>",
        )
        .await);
    };
    // Career Relay gets a token of its own, which can neither click nor opt out; an
    // invitation made before the tokens were split has only the one.
    let relay_token = match invitation.relay_token_hash {
        Some(_) => InvitationTokens::from_tracking(token.into_inner()).career_relay,
        None => token.into_inner(),
    };
    Ok(HttpResponse::Found()
        .insert_header((header::LOCATION, registration_url(target, &relay_token)))
        .finish())
}

/// The registration site's URL with `token=` added to its query: after any query it has, and
/// before any fragment (security review R1: appended after a `#…`, the token stayed in the
/// browser and the registration could not be tied to the invitation).
fn registration_url(target: &str, token: &str) -> String {
    match reqwest::Url::parse(target) {
        Ok(mut url) => {
            url.query_pairs_mut().append_pair("token", token);
            url.into()
        }
        // Configuration accepts only http:// and https:// URLs; this is what it always did.
        Err(_) => {
            let separator = if target.contains('?') { '&' } else { '?' };
            format!("{target}{separator}token={}", urlencode(token))
        }
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// C8: a page with one button that opts the address out.
#[utoipa::path(get, path = "/v1/unsubscribe/{token}", tag = "career_relay", responses((status = 200), (status = 404)))]
async fn unsubscribe_page(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if Store::invitation_by_token(&state.store.db, TokenUse::Unsubscribe, &token)
        .await?
        .is_none()
    {
        return Ok(unknown_link(&state).await);
    }
    Ok(page(
        &state,
        actix_web::http::StatusCode::OK,
        "配信停止",
        "<p>キャリアリレーのご案内を今後お送りしないようにします。</p><form method=\"post\"><button type=\"submit\">配信を停止する</button></form>",
    )
    .await)
}

/// C8, RFC 8058: one POST (from the page or a mail client's one-click) opts the address out
/// of Career Relay invitations (kept under the address's keyed hash, with its channel);
/// an opted-out address is never invited again. Opting out twice keeps the first.
#[utoipa::path(post, path = "/v1/unsubscribe/{token}", tag = "career_relay", responses((status = 200), (status = 404)))]
async fn unsubscribe(
    state: web::Data<AppState>,
    token: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    // RFC 8058: a mail client's one-click POST says `List-Unsubscribe=One-Click`; the page's
    // button posts nothing.
    let channel = if String::from_utf8_lossy(&body).contains("List-Unsubscribe=One-Click") {
        OptOutChannel::OneClick
    } else {
        OptOutChannel::ConfirmationPage
    };
    let db = &state.store.db;
    let Some(invitation) = Store::invitation_by_token(db, TokenUse::Unsubscribe, &token).await?
    else {
        return Ok(unknown_link(&state).await);
    };
    // The address the invitation went to; an invitation from before it was recorded went to
    // its candidate's.
    let address = match invitation.recipient {
        Some(recipient) => recipient,
        None => {
            Store::get_candidate(db, &invitation.candidate_id)
                .await?
                .email
        }
    };
    let address = Email::parse(&address).map_err(|_| {
        crate::store::StoreError::Corrupt(format!("invitation {} has no address", invitation.id))
    })?;
    let kind = MessageKind::CareerRelayInvitation;
    let hashed = state.secret_box.address_key().hash(&address);
    state
        .store
        .in_transaction(async |txn| {
            let (_, recorded) = Store::record_opt_out(
                txn,
                NewOptOut {
                    address: &hashed,
                    kind,
                    at: now_millis(),
                    channel,
                    recorded_by: None,
                },
            )
            .await?;
            if recorded {
                Store::audit(
                    txn,
                    "candidate",
                    LINK_OPT_OUT,
                    &invitation.candidate_id,
                    serde_json::json!({"kind": kind.as_str(), "channel": channel.as_str()}),
                )
                .await?;
            }
            Ok::<_, crate::store::StoreError>(())
        })
        .await?;
    Ok(page(
        &state,
        actix_web::http::StatusCode::OK,
        "配信を停止しました",
        "<p>今後、キャリアリレーのご案内はお送りしません。</p>",
    )
    .await)
}

#[cfg(test)]
mod tests {
    use super::registration_url;

    /// Security review R1: the token goes into the query, whatever the configured URL holds.
    #[test]
    fn review_r1_the_token_goes_into_the_query_before_any_fragment() {
        for (target, expected) in [
            (
                "https://relay.test/join",
                "https://relay.test/join?token=t-1",
            ),
            (
                "https://relay.test/join?ref=hr",
                "https://relay.test/join?ref=hr&token=t-1",
            ),
            (
                "https://relay.test/join#form",
                "https://relay.test/join?token=t-1#form",
            ),
            (
                "https://relay.test/?a=1#x?y",
                "https://relay.test/?a=1&token=t-1#x?y",
            ),
        ] {
            assert_eq!(registration_url(target, "t-1"), expected, "{target}");
        }
        assert_eq!(
            registration_url("https://relay.test/j", "a b&c"),
            "https://relay.test/j?token=a+b%26c"
        );
    }
}
