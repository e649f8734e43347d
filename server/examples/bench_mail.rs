//! Mail sending benchmark: N Career Relay invitations (default 5,000) sent by hirelay's sender
//! to an SMTP server on loopback (this example's, a real SMTP conversation over TCP), with
//! the sender's pooled connections; timed from the moment they are due until the SMTP server
//! took the last one and the outbox shows every one `sent`. Each mail goes as in production:
//! checked again (still wanted), rendered again from the active template, sent, marked sent.
//!
//! `cargo run --release -p hirelay --example bench_mail [N] [postgres://…]`
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::ConnectionTrait;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

mod support;

/// Messages and connections the SMTP server took.
#[derive(Default)]
struct Taken {
    messages: AtomicUsize,
    connections: AtomicUsize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    hirelay::telemetry::init(hirelay::config::LogFormat::Text);
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let smtp_url = format!("smtp://{}", listener.local_addr()?);
    let taken = Arc::new(Taken::default());
    tokio::spawn(accept(listener, taken.clone()));
    let mut settings = support::sender_settings();
    settings.push(("HIRELAY_SMTP_URL", smtp_url));
    let server = support::start(args.get(2).map(String::as_str), &settings).await?;
    let state = &server.state;
    let pairs = support::rejected_applications(&server, n).await?;
    let tomorrow = hirelay::domain::time::now_millis() + 86_400_000;
    support::queue_invitations(&server, &pairs, tomorrow, 256).await?;
    let db = &state.store.db;
    let sent_before = sent(db).await?;

    let started = Instant::now();
    db.execute(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE mail_outbox SET next_attempt_at = $1 WHERE status = 'pending'"
            }
            _ => "UPDATE mail_outbox SET next_attempt_at = ? WHERE status = 'pending'",
        },
        [hirelay::domain::time::now_millis().into()],
    ))
    .await?;
    state.mailer.wake();
    while taken.messages.load(Ordering::Relaxed) < n {
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(300),
            "mails not sent"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let delivered = started.elapsed();
    while sent(db).await? - sent_before < n as i64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = started.elapsed();
    println!(
        "mails: {n} delivered in {:.2} s and marked sent in {:.2} s over {} SMTP connections",
        delivered.as_secs_f64(),
        took.as_secs_f64(),
        taken.connections.load(Ordering::Relaxed)
    );
    println!("mail: {:.0} mails/s", n as f64 / took.as_secs_f64());
    server.stopper.stop().await;
    Ok(())
}

async fn sent(db: &sea_orm::DatabaseConnection) -> anyhow::Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent'",
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no count"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

async fn accept(listener: tokio::net::TcpListener, taken: Arc<Taken>) {
    while let Ok((socket, _)) = listener.accept().await {
        taken.connections.fetch_add(1, Ordering::Relaxed);
        let taken = taken.clone();
        tokio::spawn(async move {
            if let Err(e) = session(socket, &taken).await {
                eprintln!("smtp session: {e}");
            }
        });
    }
}

/// The server's side of SMTP: greeting, EHLO, MAIL, RCPT, DATA (up to the lone dot), RSET,
/// NOOP, QUIT.
async fn session(socket: tokio::net::TcpStream, taken: &Taken) -> std::io::Result<()> {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 bench ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_ascii_uppercase();
        let reply: &[u8] = if command.starts_with("EHLO") {
            b"250-bench\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
        } else if command == "DATA" {
            write.write_all(b"354 go ahead\r\n").await?;
            loop {
                line.clear();
                if lines.read_line(&mut line).await? == 0 {
                    return Ok(());
                }
                if line == ".\r\n" {
                    break;
                }
            }
            taken.messages.fetch_add(1, Ordering::Relaxed);
            b"250 queued\r\n"
        } else if command == "QUIT" {
            write.write_all(b"221 bye\r\n").await?;
            return Ok(());
        } else if ["HELO", "MAIL", "RCPT", "RSET", "NOOP"]
            .iter()
            .any(|c| command.starts_with(c))
        {
            b"250 OK\r\n"
        } else {
            b"502 not implemented\r\n"
        };
        write.write_all(reply).await?;
    }
}
