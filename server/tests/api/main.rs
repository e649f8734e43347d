//! Black-box tests through HTTP against the real server: one test binary, one file per area.
// Shared test support: not every area uses every helper.
#[allow(dead_code)]
mod helpers;
mod imports;
mod kpis;
#[allow(dead_code)]
mod smtp;

mod accounts;
mod ats;
mod backfill;
mod backup;
mod bizreach;
#[allow(dead_code)]
mod bizreach_support;
mod bizreach_transport;
mod browser;
mod cli;
mod console;
mod console_admin;
mod console_editors;
mod console_pages;
mod crash;
mod events;
mod faults;
mod first_week;
mod first_week_invitations;
mod funnel;
mod funnel_counters;
mod fuzz;
mod hostile;
mod integrator;
mod ops;
mod opt_outs;
mod outbound;
mod pg_restart;
mod privacy;
mod private_files;
mod progress_sync;
mod properties;
mod report;
mod review;
mod routing;
mod rules;
mod rules_source;
mod scale;
mod scheduler;
mod secrets;
mod security;
mod sending;
mod sessions;
mod storage;
mod templates;
mod walkthrough;
mod webhooks;
