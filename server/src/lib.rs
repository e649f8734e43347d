//! hirelay: a self-hosted webhook-and-rules automation server for recruiting teams in Japan.
//!
//! Data flows one way: `http` → `ingest`/`queue` → `pipeline` → `scripting` → `domain`
//! decisions → `store`/`mail`.
pub mod accounts;
pub mod bizreach;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod export;
pub mod http;
pub mod ingest;
pub mod mail;
pub mod metrics;
pub mod outbound;
pub mod pipeline;
pub mod private_files;
pub mod queue;
pub mod rate_limit;
pub mod readiness;
pub mod relay;
pub mod retention;
pub mod scheduler;
pub mod scripting;
pub mod startup;
pub mod store;
pub mod sync;
pub mod telemetry;
pub mod versions;
pub mod views;
pub mod watch;
