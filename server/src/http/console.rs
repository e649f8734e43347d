//! `/console`: the web console (issue 14). One page (the shell) and its modules: the router
//! and navigation (`app.js`), the API wrapper (`api.js`), the words (`i18n.js`), shared form
//! helpers (`ui.js`) and one module per page under `pages/`. People sign in with their own
//! account (`/v1/session`); every page works on the public `/v1` API.
//!
//! The files are compiled into the binary from [`ASSETS`] (no files to deploy, no build step,
//! no Node.js). They are served with a strict Content-Security-Policy: scripts, styles and
//! requests only from this server, nothing inline, no framing; the scripts set everything they
//! show as text.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The console's routes, and `/`, which leads a browser opened on the server to the console.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/console", web::get().to(page))
        .route("/console/{file:.*}", web::get().to(file));
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the console serves under `/console/`: its path, type and content.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "console.css",
        "text/css; charset=utf-8",
        include_str!("../../console/console.css"),
    ),
    ("app.js", JS, include_str!("../../console/app.js")),
    ("api.js", JS, include_str!("../../console/api.js")),
    ("i18n.js", JS, include_str!("../../console/i18n.js")),
    ("ui.js", JS, include_str!("../../console/ui.js")),
    (
        "pages/signin.js",
        JS,
        include_str!("../../console/pages/signin.js"),
    ),
    (
        "pages/password.js",
        JS,
        include_str!("../../console/pages/password.js"),
    ),
    (
        "pages/welcome.js",
        JS,
        include_str!("../../console/pages/welcome.js"),
    ),
    (
        "pages/dashboard.js",
        JS,
        include_str!("../../console/pages/dashboard.js"),
    ),
    (
        "pages/users.js",
        JS,
        include_str!("../../console/pages/users.js"),
    ),
    (
        "pages/tokens.js",
        JS,
        include_str!("../../console/pages/tokens.js"),
    ),
    // The admin pages of issue 14: import inbox, group accounts, settings.
    (
        "pages/inbox.js",
        JS,
        include_str!("../../console/pages/inbox.js"),
    ),
    (
        "pages/groups.js",
        JS,
        include_str!("../../console/pages/groups.js"),
    ),
    (
        "pages/settings.js",
        JS,
        include_str!("../../console/pages/settings.js"),
    ),
    (
        "pages/charts.js",
        JS,
        include_str!("../../console/pages/charts.js"),
    ),
    (
        "pages/events.js",
        JS,
        include_str!("../../console/pages/events.js"),
    ),
    (
        "pages/placeholder.js",
        JS,
        include_str!("../../console/pages/placeholder.js"),
    ),
];

const PAGE: &str = include_str!("../../console/index.html");

const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn asset(content_type: &str, body: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CONTENT_SECURITY_POLICY, POLICY))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(body)
}

/// Issue 19: the server's root is where a new user types first; it is the console.
async fn root() -> HttpResponse {
    HttpResponse::Found()
        .insert_header((header::LOCATION, "/console"))
        .finish()
}

async fn page() -> HttpResponse {
    asset("text/html; charset=utf-8", PAGE)
}

/// A file of [`ASSETS`], or the API's `404` for any other path.
async fn file(path: web::Path<String>) -> Result<HttpResponse, super::error::ApiError> {
    let wanted = path.into_inner();
    ASSETS
        .iter()
        .find(|(name, _, _)| *name == wanted)
        .map(|(_, content_type, body)| asset(content_type, body))
        .ok_or_else(|| super::error::ApiError::not_found(format!("console file `{wanted}`")))
}
