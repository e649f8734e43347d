//! `/console`: the web console, for now the HR managers' Career Relay dashboard (C5): the ledger
//! and the funnel, read from the admin API with the token the user gives.
//!
//! The page, its script and its style are compiled into the binary (no files to deploy, no
//! build step). They are served with a strict Content-Security-Policy: scripts, styles and
//! requests only from this server, nothing inline, no framing; the script sets everything it
//! shows as text.
use actix_web::http::header;
use actix_web::{web, HttpResponse};

/// The console's routes, and `/`, which leads a browser opened on the server to the console.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(root))
        .route("/console", web::get().to(page))
        .route("/console/console.js", web::get().to(script))
        .route("/console/console.css", web::get().to(style));
}

const PAGE: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/console.js");
const STYLE: &str = include_str!("../../console/console.css");

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

async fn script() -> HttpResponse {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> HttpResponse {
    asset("text/css; charset=utf-8", STYLE)
}
