//! Headers every response carries (issue 18), set in one place: no MIME sniffing, no framing,
//! no referrer; `no-store` on the pages a token in the URL opens; HSTS when hirelay is served
//! over https. A handler's own stricter policy (the console's CSP) is kept.
use actix_web::http::header::{self, HeaderMap, HeaderValue};

/// Paths whose last segment is a capability token: nothing may keep a copy of their pages.
const TOKEN_PAGES: [&str; 3] = ["/r/", "/v1/unsubscribe/", "/v1/link-approvals/"];

/// One year, as browsers' preload lists expect.
const HSTS: &str = "max-age=31536000";

/// Adds the headers to a response to `path`; `https` when the public URL is https.
pub fn apply(headers: &mut HeaderMap, path: &str, https: bool) {
    let fixed = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        );
    }
    if TOKEN_PAGES.iter().any(|p| path.starts_with(p)) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_pages_are_not_stored_and_a_stricter_policy_is_kept() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
        apply(&mut headers, "/console", false);
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            "default-src 'none'; frame-ancestors 'none'"
        );
        assert!(!headers.contains_key(header::CACHE_CONTROL));
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY));

        let mut headers = HeaderMap::new();
        apply(&mut headers, "/r/abc", true);
        assert_eq!(headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
        assert_eq!(
            headers.get(header::CONTENT_SECURITY_POLICY).unwrap(),
            "frame-ancestors 'none'"
        );
        assert_eq!(
            headers.get(header::STRICT_TRANSPORT_SECURITY).unwrap(),
            HSTS
        );
    }
}
