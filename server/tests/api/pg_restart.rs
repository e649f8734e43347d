//! Issue 15, item 2: PostgreSQL restarted under load. The test starts a PostgreSQL cluster of
//! its own (never the shared test server, which other tests use), runs a signed load against
//! the real binary, restarts the cluster with `pg_ctl restart -m fast` mid-load, and checks
//! that every answer was a `202` or a retryable `503` (never a `500`) and that every
//! acknowledged event was processed.
use crate::crash::{assert_none_lost, start_command, stored_once_processed};
use crate::faults::{load, Seen};
use crate::scale::on_postgres;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A PostgreSQL cluster in a temporary directory on a free port, stopped when dropped.
struct Cluster {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// The newest installed PostgreSQL's binaries, if any.
    fn binaries() -> Option<PathBuf> {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
            .collect();
        found.sort_by_key(|p| {
            p.parent()
                .and_then(|v| v.file_name())
                .and_then(|v| v.to_str())
                .and_then(|v| v.parse::<u32>().ok())
                .unwrap_or(0)
        });
        found.pop()
    }

    /// Runs `program args` as the `postgres` user when this is root (PostgreSQL refuses to run
    /// as root), else as this user; panics with its output when it fails.
    fn run(&self, program: &str, args: &[&str]) {
        run_as_postgres(&self.bin.join(program), args);
    }

    /// initdb, start, and a `hirelay` superuser with its database.
    fn start(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        if is_root() {
            let owned = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(owned.success(), "chown the cluster's directory");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let cluster = Cluster {
            bin,
            data,
            port,
            _dir: dir,
        };
        let data = cluster.data.display().to_string();
        cluster.run(
            "initdb",
            &[
                "-D",
                &data,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        );
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            cluster.port,
            cluster.socket_dir().display()
        );
        let log = format!("{data}/log");
        cluster.run(
            "pg_ctl",
            &["-D", &data, "-o", &options, "-l", &log, "-w", "start"],
        );
        let port = cluster.port.to_string();
        for sql in [
            "CREATE ROLE hirelay LOGIN SUPERUSER PASSWORD 'hirelay'",
            "CREATE DATABASE hirelay OWNER hirelay",
        ] {
            cluster.run(
                "psql",
                &["-h", "127.0.0.1", "-p", &port, "-U", "postgres", "-c", sql],
            );
        }
        cluster
    }

    fn socket_dir(&self) -> &Path {
        self.data.parent().unwrap()
    }

    fn url(&self) -> String {
        format!("postgres://hirelay:hirelay@127.0.0.1:{}/hirelay", self.port)
    }

    /// `pg_ctl restart -m fast`: every connection is cut, the server stops and starts again.
    /// The log file again: without it the new server would write to (and hold open) the pipe
    /// this test reads `pg_ctl`'s output from.
    fn restart(&self) {
        let data = self.data.display().to_string();
        let log = format!("{data}/log");
        self.run(
            "pg_ctl",
            &["-D", &data, "-l", &log, "-m", "fast", "-w", "restart"],
        );
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let data = self.data.display().to_string();
        let _ = as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "stop"],
        )
        .output();
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// `program args`, as the `postgres` user when this is root.
fn as_postgres(program: &Path, args: &[&str]) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(program)
            .args(args);
        command
    } else {
        let mut command = Command::new(program);
        command.args(args);
        command
    }
}

fn run_as_postgres(program: &Path, args: &[&str]) {
    let output = as_postgres(program, args).output().unwrap();
    assert!(
        output.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_postgres_restarted_under_load_answers_503_and_loses_nothing() {
    const TEST: &str = "issue15_postgres_restarted_under_load_answers_503_and_loses_nothing";
    if !on_postgres(TEST) {
        return;
    }
    let Some(bin) = Cluster::binaries() else {
        eprintln!(
            "{TEST}: skipped: no PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql"
        );
        return;
    };
    let cluster = Arc::new(Cluster::start(bin));
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_command(
        Command::new(env!("CARGO_BIN_EXE_hirelay")).arg("serve"),
        dir.path(),
        &cluster.url(),
        &[],
    );
    let (stop, seen): (_, Arc<Mutex<Seen>>) = (Arc::new(AtomicBool::new(false)), Arc::default());
    let senders = load(&base, "pgrestart", 8, stop.clone(), Arc::clone(&seen));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = seen.lock().unwrap().acked.len();
    let restarting = std::time::Instant::now();
    let restarted = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || restarted.restart())
        .await
        .unwrap();
    let restart_took = restarting.elapsed();
    let at_restart = seen.lock().unwrap().acked.len();
    tokio::time::sleep(Duration::from_secs(4)).await;
    stop.store(true, Ordering::SeqCst);
    for s in senders {
        s.await.unwrap();
    }
    let (stored, pending) = stored_once_processed(&base).await;
    let seen = seen.lock().unwrap();
    assert!(before > 0, "the load did not get going");
    assert!(
        seen.acked.len() > at_restart,
        "acknowledged again once PostgreSQL was back"
    );
    assert!(
        seen.others.keys().all(|status| *status == 503),
        "around the restart: only 202s and 503s, never a 500: {:?}",
        seen.others
    );
    assert_eq!(seen.without_retry_after, 0, "every 503 says Retry-After");
    assert_none_lost(&seen.acked, &stored);
    assert!(pending.is_empty(), "left unprocessed: {pending:?}");
    eprintln!(
        "postgres restarted in {restart_took:?} under load: {} acknowledged, answers other than 202: {:?}",
        seen.acked.len(),
        seen.others
    );
    crate::cli::terminate(&mut child);
}
