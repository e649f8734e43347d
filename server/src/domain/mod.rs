//! Domain types and pure rules: no I/O, no actix. Each type validates on construction.
pub mod backfill;
pub mod email;
pub mod ids;
pub mod invitation_tokens;
pub mod link;
pub mod month;
pub mod names;
pub mod payload;
pub mod period;
pub mod recipients;
pub mod role;
pub mod schedule;
pub mod status;
pub mod status_mapping;
pub mod time;
