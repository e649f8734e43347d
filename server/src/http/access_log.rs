//! The access log (issue 18): one line per request naming the matched route's pattern, never
//! the raw path or its query string, which carry capability tokens (`/r/{token}`,
//! `/v1/link-approvals/{token}`, `/v1/unsubscribe/{token}`) and search terms.
use std::time::Duration;

/// The target access lines are logged under (`RUST_LOG=hirelay::access=off` silences them).
pub const TARGET: &str = "hirelay::access";

/// Routes not logged: probes and scrapes would drown the rest.
const QUIET: [&str; 2] = ["/healthz", "/metrics"];

/// `GET /r/{token} 302 1.2ms`: the method, the route pattern (`(unmatched)` when no route
/// matched), the status and the time taken; `None` for a quiet route.
pub fn line(method: &str, route: Option<&str>, status: u16, took: Duration) -> Option<String> {
    if route.is_some_and(|r| QUIET.contains(&r)) {
        return None;
    }
    let route = route.unwrap_or("(unmatched)");
    let ms = took.as_secs_f64() * 1000.0;
    Some(format!("{method} {route} {status} {ms:.1}ms"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_names_the_route_pattern_and_never_the_path() {
        let took = Duration::from_micros(1_250);
        assert_eq!(
            line("GET", Some("/r/{token}"), 302, took).as_deref(),
            Some("GET /r/{token} 302 1.2ms")
        );
        assert_eq!(
            line("POST", None, 404, took).as_deref(),
            Some("POST (unmatched) 404 1.2ms")
        );
        assert_eq!(line("GET", Some("/healthz"), 200, took), None);
    }
}
