//! The BizReach integration: the source API client, the stored sign-in, group-account linking
//! (L1–L5), the poller (I2, I3) and the backfill (B1–B4).
//!
//! Pulled applications become events of the same shape as pushed webhooks, stored a page (poll)
//! or a selection (backfill) at a time with [`crate::store::Store::store_polled_page`] and
//! [`crate::store::Store::insert_events`]; the pipeline turns them into applications.
pub mod backfill;
pub mod client;
pub mod credentials;
pub mod events;
pub mod inbox;
pub mod linking;
pub mod poller;

pub use client::{BizreachClient, ClientSettings};

/// What can go wrong talking to the BizReach source API.
#[derive(Debug, thiserror::Error)]
pub enum BizreachError {
    #[error("the BizReach source API is not configured: set HIRELAY_BIZREACH_URL (or `bizreach_url` in the config file)")]
    NotConfigured,
    #[error(
        "no BizReach sign-in is stored: an admin signs in first with POST /v1/bizreach/session"
    )]
    NotSignedIn,
    #[error("BizReach refused the email and password (401)")]
    BadCredentials,
    #[error("BizReach refused the stored sign-in (401, also after signing in again): sign in again with POST /v1/bizreach/session")]
    Unauthorized,
    #[error("BizReach answered {status}: {message}")]
    Upstream { status: u16, message: String },
    #[error("BizReach could not be reached: {0}")]
    Network(String),
    #[error("BizReach answered something unreadable: {0}")]
    Decode(String),
    #[error("BizReach answered {status}, a redirect, which hirelay does not follow (it would re-send the request, password included): check HIRELAY_BIZREACH_URL")]
    Redirected { status: u16 },
    #[error("BizReach's answer is larger than {limit} bytes; it was not read further")]
    TooLarge { limit: usize },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Crypto(#[from] crate::crypto::CryptoError),
}
