//! The one shell of every page a candidate or a group's administrator opens from an email (the
//! tracking link's, the opt-out's and the link approval's pages): Japanese, titled and headed
//! with the company's name (never "hirelay", which they do not know), one small inline style.
//!
//! The style is inline so the pages need no other request; their Content-Security-Policy
//! admits that one style by its hash, no script at all, and forms only to this server.
use actix_web::http::{header, StatusCode};
use actix_web::HttpResponse;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

/// Readable on a phone, in the system's Japanese font, with one primary button.
const STYLE: &str = "body{margin:0;background:#f5f6f8;color:#222;\
font-family:system-ui,-apple-system,\"Hiragino Sans\",\"Noto Sans CJK JP\",\"Yu Gothic\",sans-serif;line-height:1.7}\
header{background:#fff;border-bottom:1px solid #dde1e6;padding:.75rem 1.25rem;font-weight:600}\
main{max-width:36rem;margin:2rem auto;padding:1.5rem 1.25rem;background:#fff;border:1px solid #dde1e6;border-radius:8px}\
h1{font-size:1.3rem;margin:0 0 1rem}\
button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:6px;background:#1f5fbf;color:#fff;cursor:pointer}\
button:focus-visible{outline:3px solid #9cc0f5;outline-offset:2px}";

/// The policy of these pages: nothing but the inline style above and forms to this server.
static POLICY: LazyLock<String> = LazyLock::new(|| {
    let hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(STYLE));
    format!(
        "default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
});

/// A page of `status` titled and headed `title`, under the company's name; `body` is HTML whose
/// every value the caller has escaped with [`escape`].
pub fn render(status: StatusCode, company: &str, title: &str, body: &str) -> HttpResponse {
    let (company, title) = (escape(company), escape(title));
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY.as_str()))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title} - {company}</title><style>{STYLE}</style></head>\
             <body><header>{company}</header><main><h1>{title}</h1>{body}</main></body></html>"
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
