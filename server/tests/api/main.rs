//! Black-box tests through HTTP against the real server: one test binary, one file per area.
// Shared test support: not every area uses every helper.
#[allow(dead_code)]
mod helpers;
#[allow(dead_code)]
mod smtp;

mod events;
mod templates;
mod webhooks;
