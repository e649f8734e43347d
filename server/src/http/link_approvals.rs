//! L4: the approval link of the email. `GET` shows the group and an "有効にする" button; the
//! button POSTs to the same URL, which links the group. The token is the credential: single use,
//! 72 hours. Pages are in Japanese, every value escaped.
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

use super::candidate_page::{self, escape};
use super::error::ApiError;
use super::AppState;
use crate::bizreach::linking::{self, ApprovalPage};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/v1/link-approvals/{token}", web::get().to(show))
        .route("/v1/link-approvals/{token}", web::post().to(activate));
}

/// The approval page: the group's name and a button to activate the link.
#[utoipa::path(get, path = "/v1/link-approvals/{token}", tag = "bizreach",
    responses((status = 200, description = "HTML page with the 有効にする button", content_type = "text/html"),
        (status = 404, description = "unknown link"), (status = 410, description = "used or expired link")))]
async fn show(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = linking::look_up_approval(&state.store, &token).await?;
    Ok(render(&state, &page, &token).await)
}

/// Activates the link: the group account becomes `linked`.
#[utoipa::path(post, path = "/v1/link-approvals/{token}", tag = "bizreach",
    responses((status = 200, description = "HTML page: linked", content_type = "text/html"),
        (status = 404, description = "unknown link"), (status = 410, description = "used or expired link")))]
async fn activate(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let page = linking::approve(&state.store, &token).await?;
    Ok(render(&state, &page, &token).await)
}

async fn render(state: &AppState, page: &ApprovalPage, token: &str) -> HttpResponse {
    let company = crate::relay::company_name(&state.store.db, &state.config).await;
    let (status, title, body) = match page {
        ApprovalPage::Ready(group) => (
            StatusCode::OK,
            "ビズリーチグループ連携の承認",
            format!(
                "<p>採用管理システムとビズリーチのグループアカウント「<strong>{group}</strong>」の連携を有効にします。</p>\
                 <p>グループ管理者の方は、下のボタンを押して連携を有効にしてください。</p>\
                 <form method=\"post\" action=\"/v1/link-approvals/{token}\">\
                 <button type=\"submit\">有効にする</button></form>",
                group = escape(&group.name),
                token = escape(token),
            ),
        ),
        ApprovalPage::Activated(group) => (
            StatusCode::OK,
            "連携を有効にしました",
            format!(
                "<p>グループアカウント「<strong>{}</strong>」の連携が有効になりました(連携済み)。</p>\
                 <p>これ以降の応募が採用管理システムに取り込まれます。このページは閉じてかまいません。</p>",
                escape(&group.name)
            ),
        ),
        ApprovalPage::Used => (
            StatusCode::GONE,
            "このリンクは使用済みです",
            "<p>この承認リンクはすでに使用されたか、新しい承認メールで置き換えられました。</p>\
             <p>連携の状態は採用担当者にご確認ください。</p>"
                .to_owned(),
        ),
        ApprovalPage::Expired => (
            StatusCode::GONE,
            "このリンクは有効期限が切れています",
            "<p>この承認リンクの有効期限(72時間)が切れています。</p>\
             <p>採用担当者に、連携の申請をやり直すよう依頼してください。</p>"
                .to_owned(),
        ),
        ApprovalPage::Unknown => (
            StatusCode::NOT_FOUND,
            "このリンクは無効です",
            "<p>この承認リンクは見つかりませんでした。メールのリンクを省略せずに開いてください。</p>"
                .to_owned(),
        ),
    };
    candidate_page::render(status, &company, title, &body)
}
