//! L4: the approval link of the email. `GET` shows the group and an "有効にする" button; the
//! button POSTs to the same URL, which links the group. The token is the credential: single use,
//! 72 hours. Pages are in Japanese, every value escaped.
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};

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
    Ok(render(&page, &token))
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
    Ok(render(&page, &token))
}

fn render(page: &ApprovalPage, token: &str) -> HttpResponse {
    let (status, title, body) = match page {
        ApprovalPage::Ready(group) => (
            StatusCode::OK,
            "ビズリーチグループ連携の承認",
            format!(
                "<p>hirelay とビズリーチのグループアカウント「<strong>{group}</strong>」の連携を有効にします。</p>\
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
                 <p>これ以降の応募が hirelay に取り込まれます。このページは閉じてかまいません。</p>",
                escape(&group.name)
            ),
        ),
        ApprovalPage::Used => (
            StatusCode::GONE,
            "このリンクは使用済みです",
            "<p>この承認リンクはすでに使用されたか、新しい承認メールで置き換えられました。</p>\
             <p>連携の状態は hirelay の管理者にご確認ください。</p>"
                .to_owned(),
        ),
        ApprovalPage::Expired => (
            StatusCode::GONE,
            "このリンクは有効期限が切れています",
            "<p>この承認リンクの有効期限(72時間)が切れています。</p>\
             <p>hirelay の管理者に、連携の申請をやり直すよう依頼してください。</p>"
                .to_owned(),
        ),
        ApprovalPage::Unknown => (
            StatusCode::NOT_FOUND,
            "このリンクは無効です",
            "<p>この承認リンクは見つかりませんでした。メールのリンクを省略せずに開いてください。</p>"
                .to_owned(),
        ),
    };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .body(format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} - hirelay</title></head><body><h1>{title}</h1>{body}</body></html>"
        ))
}

/// HTML-escapes text for element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(
            escape("株式会社サンプル 東京本社"),
            "株式会社サンプル 東京本社"
        );
    }
}
