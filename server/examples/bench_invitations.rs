//! Invitations benchmark: renders and queues N Career Relay invitations (default 10,000)
//! through the code event processing runs for `invite()`: `relay::plan` renders the active
//! invitation template with the send-time data, `relay::create` stores the invitations and
//! their mails in the outbox, one transaction per batch of 256 (as processing's batches). The
//! rejected applications and candidates are stored first and not timed.
//!
//! `cargo run --release -p hirelay --example bench_invitations [N] [postgres://…]`
use std::time::Instant;

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let server =
        support::start(args.get(2).map(String::as_str), &support::sender_settings()).await?;
    let pairs = support::rejected_applications(&server, n).await?;
    // Tomorrow: the sender leaves them in the outbox.
    let send_at = hirelay::domain::time::now_millis() + 86_400_000;
    let started = Instant::now();
    let queued = support::queue_invitations(&server, &pairs, send_at, 256).await?;
    let took = started.elapsed();
    anyhow::ensure!(queued == n, "{queued} of {n} invitations queued");
    println!(
        "invitations: {n} rendered and queued in {:.2} s",
        took.as_secs_f64()
    );
    println!("invitations: {:.0}/s", n as f64 / took.as_secs_f64());
    server.stopper.stop().await;
    Ok(())
}
