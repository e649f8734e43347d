//! A simulator of the BizReach-compatible source API that hirelay polls and pushes
//! statuses to (see the contract's "BizReach-compatible source API").
//!
//! It serves seeded, deterministic data over real HTTP, plus a control API under
//! `/_sim` to add applications, change statuses, read the status pushes it received,
//! inject faults and count requests. hirelay's tests start it in-process on port 0:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = bizreach_sim::start(bizreach_sim::SimConfig::default(), "127.0.0.1:0").await?;
//! let base_url = sim.base_url(); // e.g. http://127.0.0.1:41234, for HIRELAY_BIZREACH_URL
//! # let _ = base_url;
//! sim.stop().await;
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod control;
pub mod cursor;
pub mod data;
pub mod error;
pub mod model;
pub mod state;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpServer};
use tokio::task::JoinHandle;

use crate::state::{Shared, Store};

/// The largest request body accepted (the control API can add many applications at once).
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// What the simulator serves: the account to sign in with and the data to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// Seed of the generated data; the same seed gives the same data.
    pub seed: u64,
    /// How many group accounts (`grp-001` …).
    pub groups: usize,
    /// How many applications each group starts with.
    pub applications_per_group: usize,
    /// How far back the seeded applications' `applied_at` reach, in days before start.
    pub days_back: i64,
    /// The email `POST /api/session` accepts (compared ignoring ASCII case).
    pub email: String,
    /// The password `POST /api/session` accepts.
    pub password: String,
    /// The `account_name` a session answers.
    pub account_name: String,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            groups: 3,
            applications_per_group: 20,
            days_back: 400,
            email: "admin@example.jp".to_owned(),
            password: "correct horse battery staple".to_owned(),
            account_name: "株式会社サンプル 人事部".to_owned(),
        }
    }
}

/// A simulator serving on the caller's runtime; [`RunningSim::stop`] ends it (dropped
/// without stopping, it serves until the runtime shuts down).
#[derive(Debug)]
pub struct RunningSim {
    addr: SocketAddr,
    handle: ServerHandle,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningSim {
    /// `http://host:port` to reach it at, with no trailing slash. An unspecified bind
    /// address (`0.0.0.0`, `::`) is given as loopback.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port it listens on (the one chosen by the OS when bound to port 0).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops accepting, lets requests in flight finish (up to a second), and returns
    /// when the server is gone.
    pub async fn stop(self) {
        self.handle.stop(true).await;
        // The task's outcome only repeats what stopping it already did.
        let _ = self.task.await;
    }
}

/// Seeds the data from `config`, binds `bind` (e.g. `127.0.0.1:0`) and serves on the
/// current tokio runtime with one worker. Fails only if the address cannot be bound.
pub async fn start(config: SimConfig, bind: &str) -> std::io::Result<RunningSim> {
    let listener = TcpListener::bind(bind)?;
    let addr = reachable(listener.local_addr()?);
    let shared = web::Data::new(Shared::new(Store::seeded(&config, model::now_jst())));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(shared.clone())
            .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
            .configure(api::configure)
            .configure(control::configure)
            .default_service(web::to(api::not_found))
    })
    .workers(1)
    .disable_signals()
    .shutdown_timeout(1)
    .listen(listener)?
    .run();
    let handle = server.handle();
    let task = tokio::spawn(server);
    Ok(RunningSim { addr, handle, task })
}

/// The address a client on this machine can connect to.
fn reachable(mut addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => addr.set_ip(Ipv4Addr::LOCALHOST.into()),
        IpAddr::V6(ip) if ip.is_unspecified() => addr.set_ip(Ipv6Addr::LOCALHOST.into()),
        _ => {}
    }
    addr
}
