//! The `hirelay` command as a user runs it: help texts, tokens, `rules check`, `templates check`,
//! configuration errors, `migrate`, `serve` with no configuration at all, and no secret in its logs.
use crate::helpers::{fresh_database, repo_root};
use hirelay::ingest::signature::WebhookSecrets;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `hirelay` in `cwd` with an empty environment (only `PATH`): nothing leaks in from the
/// developer's shell, so every setting a test does not give is the default.
pub(crate) fn hirelay(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hirelay"));
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .current_dir(cwd);
    command
}

/// Runs a command that ends by itself, with a minute to do so.
pub(crate) fn run(command: &mut Command) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start hirelay");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("hirelay did not exit within 60 s")
        .expect("wait for hirelay")
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Copies a directory tree (the shipped rules or templates).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A running `hirelay serve`: its base URL and everything it wrote on stdout and stderr.
pub(crate) struct Served {
    child: Child,
    base: String,
    output: Arc<Mutex<String>>,
}

impl Served {
    /// Starts `command` (already given `serve` and its environment) and waits for `listening port=`.
    pub(crate) fn start(command: &mut Command) -> Served {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start hirelay serve");
        let output: Arc<Mutex<String>> = Arc::default();
        let mut err = child.stderr.take().unwrap();
        let err_output = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                err_output
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let out_output = output.clone();
        std::thread::spawn(move || {
            let mut port_tx = Some(port_tx);
            for line in lines.map_while(Result::ok) {
                if let Some(rest) = line.split("listening port=").nth(1) {
                    let port = rest.split_whitespace().next().unwrap_or_default();
                    if let Some(tx) = port_tx.take() {
                        let _ = tx.send(port.trim_matches('"').to_owned());
                    }
                }
                let mut all = out_output.lock().unwrap();
                all.push_str(&line);
                all.push('\n');
            }
        });
        let port = match port_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(port) => port,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "hirelay serve did not say which port it listens on:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Served {
            child,
            base: format!("http://127.0.0.1:{port}"),
            output,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then the exit status (within 30 s).
    pub(crate) fn terminate(&mut self) -> std::process::ExitStatus {
        terminate(&mut self.child)
    }

    pub(crate) fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends SIGTERM to `child` and waits up to 30 s for it to exit.
pub fn terminate(child: &mut Child) -> std::process::ExitStatus {
    crate::helpers::signal_process(child, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hirelay did not exit within 30 s of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The environment of a served instance on a test database, with the shipped rules and templates.
pub(crate) fn serve_command(dir: &Path, database_url: &str) -> Command {
    let mut command = hirelay(dir);
    command
        .arg("serve")
        .env("HIRELAY_BIND", "127.0.0.1:0")
        .env("HIRELAY_DATA_DIR", dir.join("data"))
        .env("HIRELAY_DATABASE_URL", database_url)
        .env("HIRELAY_RULES_DIR", repo_root().join("rules"))
        .env("HIRELAY_TEMPLATES_DIR", repo_root().join("templates"))
        .env("HIRELAY_TEST_RECIPIENTS", "@example.jp");
    command
}

#[test]
fn help_explains_the_command_and_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--help"],
            &[
                "webhook-and-rules automation",
                "serve",
                "migrate",
                "token",
                "rules",
                "templates",
                "report",
                "--config",
            ],
        ),
        (&["serve", "--help"], &["Run the HTTP server", "migrations"]),
        (&["migrate", "--help"], &["database migrations"]),
        (
            &["token", "--help"],
            &["API tokens", "create", "list", "revoke"],
        ),
        (
            &["token", "create", "--help"],
            &[
                "--role",
                "admin, integrator, marketer or viewer",
                "--name",
                "--expires-in-days",
            ],
        ),
        (&["rules", "--help"], &["rule scripts", "check"]),
        (
            &["rules", "check", "--help"],
            &["Compile every script", "file:line:column", "--dir"],
        ),
        (&["templates", "--help"], &["Email templates", "check"]),
        (&["templates", "check", "--help"], &["sample.json", "--dir"]),
        (
            &["report", "--help"],
            &["Career Relay report", "--month", "YYYY-MM", "--out"],
        ),
    ];
    for (args, phrases) in cases {
        let output = run(hirelay(dir.path()).args(*args));
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let text = stdout(&output);
        for phrase in *phrases {
            assert!(text.contains(phrase), "{args:?} lacks {phrase:?}:\n{text}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn token_create_prints_a_viewer_token_that_reads_but_cannot_administer() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let output = run(hirelay(dir.path())
        .args(["token", "create", "--role", "viewer", "--name", "x"])
        .env("HIRELAY_DATA_DIR", dir.path().join("data"))
        .env("HIRELAY_DATABASE_URL", &database_url));
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let token = printed.trim();
    assert_eq!(
        printed.lines().count(),
        1,
        "only the token on stdout: {printed:?}"
    );
    assert!(token.len() >= 32, "{token:?}");
    assert!(stderr(&output).contains("viewer"), "{}", stderr(&output));

    let served = Served::start(&mut serve_command(dir.path(), &database_url));
    let client = reqwest::Client::new();
    let res = client
        .get(served.url("/v1/applications?ats_application_id=x"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["items"], serde_json::json!([]));
    let res = client
        .get(served.url("/v1/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = client
        .get(served.url("/v1/events"))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[test]
fn token_create_with_an_unknown_role_names_the_allowed_ones() {
    let dir = tempfile::tempdir().unwrap();
    let output = run(hirelay(dir.path())
        .args(["token", "create", "--role", "boss", "--name", "x"])
        .env("HIRELAY_DATA_DIR", dir.path().join("data")));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("boss"), "{err}");
    for role in ["admin", "integrator", "marketer", "viewer"] {
        assert!(err.contains(role), "{role} missing: {err}");
    }
    assert!(stdout(&output).is_empty());
    assert!(
        !dir.path().join("data").exists(),
        "nothing is created for a refused command"
    );
}

/// `file:LINE:COL:` of `file` somewhere in `text`.
fn has_position(text: &str, file: &str, line: usize) -> bool {
    let prefix = format!("{file}:{line}:");
    text.match_indices(&prefix).any(|(at, _)| {
        let rest = &text[at + prefix.len()..];
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        digits > 0 && rest[digits..].starts_with(':')
    })
}

#[test]
fn rules_check_passes_the_shipped_scripts_and_names_line_and_column_of_a_broken_one() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_tree(&repo_root().join("rules"), &rules);
    let output = run(hirelay(dir.path())
        .args(["rules", "check", "--dir"])
        .arg(&rules));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "3 scripts OK");

    std::fs::write(
        rules.join("import.rhai"),
        "label(\"ok\");\nlet limit = ;\nlabel(\"never\");\n",
    )
    .unwrap();
    let output = run(hirelay(dir.path())
        .args(["rules", "check", "--dir"])
        .arg(&rules));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("import.rhai:2:13: "), "{err}");
    assert!(has_position(&err, "import.rhai", 2), "{err}");
    assert!(!err.contains("status.rhai"), "only the broken file: {err}");
    assert!(!stdout(&output).contains("OK"));
}

/// Issue 19: `rules check` fails on a call of an unknown function, as `PUT` does.
#[test]
fn issue19_rules_check_fails_on_an_unknown_function() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    copy_tree(&repo_root().join("rules"), &rules);
    std::fs::write(
        rules.join("status.rhai"),
        "kpi(\"x\");\ninvite_tomorrow();\n",
    )
    .unwrap();
    let output = run(hirelay(dir.path())
        .args(["rules", "check", "--dir"])
        .arg(&rules));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("status.rhai:2:1: unknown function `invite_tomorrow`: did you mean `invite`?"),
        "{err}"
    );
}

#[test]
fn rules_check_without_dir_reads_the_configured_rules_dir() {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&repo_root().join("rules"), &dir.path().join("rules"));
    // No --dir and no HIRELAY_RULES_DIR: the default ./rules of the working directory.
    let output = run(hirelay(dir.path()).args(["rules", "check"]));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "3 scripts OK");
}

#[test]
fn templates_check_passes_the_shipped_templates_and_names_a_variable_absent_from_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    copy_tree(&repo_root().join("templates"), &templates);
    let output = run(hirelay(dir.path())
        .args(["templates", "check", "--dir"])
        .arg(&templates));
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output).trim(), "5 templates OK");

    std::fs::write(
        templates.join("group_link_approval/text.hbs"),
        "{{user_name}} 様\n{{no_such_variable}}\n",
    )
    .unwrap();
    let output = run(hirelay(dir.path())
        .args(["templates", "check", "--dir"])
        .arg(&templates));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(err.contains("group_link_approval"), "{err}");
    assert!(err.contains("no_such_variable"), "{err}");
    assert!(has_position(&err, "text.hbs", 2), "{err}");
}

#[test]
fn a_bad_configuration_value_exits_2_naming_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    for (variable, value) in [
        ("HIRELAY_BIND", "nowhere"),
        ("HIRELAY_POLL_SCHEDULE", "bad"),
        ("HIRELAY_WORKERS", "many"),
    ] {
        let output = run(hirelay(dir.path())
            .arg("serve")
            .env("HIRELAY_DATA_DIR", dir.path().join("data"))
            .env(variable, value));
        assert_eq!(output.status.code(), Some(2), "{variable}={value}");
        let err = stderr(&output);
        assert!(err.contains(variable), "{variable}: {err}");
        assert!(
            !dir.path().join("data").exists(),
            "{variable}: nothing is created before the configuration is valid"
        );
    }
}

#[test]
fn a_bad_value_in_the_config_file_exits_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hirelay.toml"), "bind = \"nowhere\"\n").unwrap();
    let output = run(hirelay(dir.path()).arg("migrate"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("bind"), "{err}");
}

#[test]
fn migrate_on_a_fresh_data_dir_creates_the_database_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        // The second run finds everything applied and succeeds all the same.
        let output = run(hirelay(dir.path())
            .arg("migrate")
            .env("HIRELAY_DATA_DIR", dir.path().join("data")));
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("migrations are up to date"),
            "{}",
            stdout(&output)
        );
        assert!(dir.path().join("data/hirelay.db").exists());
    }
}

fn eml_files(outbox: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(outbox)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn serve_with_no_configuration_keeps_everything_under_the_working_directory() {
    // The working directory of a new user: the shipped rules and templates, nothing else.
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    copy_tree(&repo_root().join("rules"), &cwd.join("rules"));
    copy_tree(&repo_root().join("templates"), &cwd.join("templates"));
    // Only the port is overridden (the default 127.0.0.1:8080 may be taken on a test machine).
    let mut served = Served::start(hirelay(cwd).arg("serve").env("HIRELAY_BIND", "127.0.0.1:0"));
    assert!(cwd.join("data/hirelay.db").exists(), "./data/hirelay.db");
    assert!(cwd.join("data/secret.key").exists(), "./data/secret.key");
    let log = served.output();
    for default in [
        "data_dir: \"./data\"",
        "rules_dir: \"./rules\"",
        "templates_dir: \"./templates\"",
        "smtp: None",
    ] {
        assert!(
            log.contains(default),
            "{default} missing from the start-up log:\n{log}"
        );
    }

    let client = reqwest::Client::new();
    let ready: serde_json::Value = client
        .get(served.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["status"], "ready", "{ready}");

    // An admin token made the documented way, on the same default database.
    let output = run(hirelay(cwd).args(["token", "create", "--role", "admin", "--name", "first"]));
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output).trim().to_owned();

    let res = client
        .post(served.url("/v1/templates/group_link_approval/test-send"))
        .bearer_auth(&token)
        // With no configuration, test-sends go to the sender's own domain only (M5).
        .json(&serde_json::json!({"to": "admin@127.0.0.1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());

    let outbox = cwd.join("data/outbox");
    let deadline = Instant::now() + Duration::from_secs(30);
    let files = loop {
        let files = eml_files(&outbox);
        if !files.is_empty() {
            break files;
        }
        assert!(Instant::now() < deadline, "no .eml under ./data/outbox/");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let eml = std::fs::read_to_string(&files[0]).unwrap();
    assert!(eml.contains("To: admin@127.0.0.1"), "{eml}");
    assert!(eml.contains("Subject:"), "{eml}");

    let status = served.terminate();
    assert!(
        status.success(),
        "hirelay exited with {status} after SIGTERM:\n{}",
        served.output()
    );
    // Emails are logged by domain only.
    let log = served.output();
    assert!(
        log.contains("to_domain=127.0.0.1"),
        "the mail is logged by domain:\n{log}"
    );
    assert!(!log.contains("admin@127.0.0.1"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_reach_the_log_even_at_debug_level() {
    const ADMIN: &str = "adm-Zq8vT3kW9pLx2mN4-rT6yH1sD";
    const WEBHOOK_KEY: &str = "c2VjcmV0LXdlYmhvb2sta2V5LWZvci1sb2dzLXRlc3Q=";
    const SMTP_PASSWORD: &str = "s3cr3tpass";
    let webhook_secret = format!("whsec_{WEBHOOK_KEY}");
    let dir = tempfile::tempdir().unwrap();
    let database_url = fresh_database(dir.path()).await;
    let mut served = Served::start(
        serve_command(dir.path(), &database_url)
            .env("RUST_LOG", "debug")
            .env("HIRELAY_ADMIN_TOKEN", ADMIN)
            .env("HIRELAY_WEBHOOK_SECRET_ATS", &webhook_secret)
            .env(
                "HIRELAY_SMTP_URL",
                format!("smtp://user:{SMTP_PASSWORD}@127.0.0.1:1"),
            ),
    );
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        client.get(served.url(path)).send().await.unwrap();
    }
    let res = client
        .get(served.url("/v1/events"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .get(served.url("/v1/events"))
        .bearer_auth(format!("{ADMIN}-wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    let body = r#"{"type":"application.status_changed","ats_application_id":"ats-log-1","candidate":{"name":"記録 花子","email":"hanako@example.jp"},"to_status":"rejected","changed_at":"2026-11-21T18:00:00+09:00"}"#;
    let secrets = WebhookSecrets::parse(&webhook_secret).unwrap();
    let ts = chrono::Utc::now().timestamp();
    let res = client
        .post(served.url("/v1/webhooks/ats"))
        .header("content-type", "application/json")
        .header("webhook-id", "log-1")
        .header("webhook-timestamp", ts.to_string())
        .header(
            "webhook-signature",
            secrets.sign("log-1", ts, body.as_bytes()).unwrap(),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let res = client
        .post(served.url("/v1/webhooks/ats"))
        .header("content-type", "application/json")
        .header("webhook-id", "log-2")
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", "v1,AAAA")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A mail the sender tries (and fails) to hand to the SMTP server with the password.
    let res = client
        .post(served.url("/v1/templates/group_link_approval/test-send"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"to": "admin@example.jp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !served.output().contains("127.0.0.1:1") && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let status = served.terminate();
    assert!(
        status.success(),
        "hirelay exited with {status} after SIGTERM:\n{}",
        served.output()
    );
    std::thread::sleep(Duration::from_millis(200));
    let log = served.output();
    assert!(log.contains("DEBUG"), "RUST_LOG=debug took effect:\n{log}");
    assert!(log.contains("listening"), "{log}");
    let mut secrets: Vec<String> = [ADMIN, WEBHOOK_KEY, SMTP_PASSWORD]
        .map(String::from)
        .to_vec();
    if database_url.starts_with("postgres") {
        // The `user:password@` of the database URL.
        let credentials = database_url
            .split("://")
            .nth(1)
            .and_then(|rest| rest.split_once('@'))
            .map(|(credentials, _)| format!("{credentials}@"))
            .unwrap();
        secrets.push(credentials);
    }
    for secret in &secrets {
        let secret = secret.as_str();
        assert!(
            !log.contains(secret),
            "{secret:?} appears in the log:\n{}",
            log.lines()
                .filter(|l| l.contains(secret))
                .take(5)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}
