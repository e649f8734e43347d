//! Issue 19, "a new user's first week": what a new user meets in the repository, at `/`, on the
//! candidate-facing pages, in the approval mail, in the log and in the command's messages.
use crate::helpers::{repo_root, TestApp};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Item 8 (g): `Cargo.toml` says Apache-2.0, and the repository carries the licence's text.
#[test]
fn the_repository_carries_the_apache_license_text() {
    let license = shipped("LICENSE");
    assert!(shipped("Cargo.toml").contains("license = \"Apache-2.0\""));
    assert!(
        license.contains("Apache License\n                           Version 2.0, January 2004")
    );
    assert!(license.contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"));
    assert!(license.contains("9. Accepting Warranty or Additional Liability."));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    assert!(license.contains("http://www.apache.org/licenses/LICENSE-2.0"));
}

/// Item 8 (e): the browser tests' screenshots show Japanese, so the install script adds a
/// Japanese font, and does not skip it when the browser is already there.
#[test]
fn the_test_browser_script_installs_a_japanese_font() {
    let script = shipped("scripts/install-test-browser.sh");
    let install = script
        .lines()
        .find(|l| l.contains("apt-get install"))
        .expect("an apt-get install line");
    assert!(install.contains("fonts-noto-cjk"), "{install}");
    let fast_path = script.split("exit 0").next().unwrap_or_default();
    assert!(fast_path.contains("fonts-noto-cjk"), "{fast_path}");
}

/// Item 8 (f): the examples' README tells how to run the demo script.
#[test]
fn the_examples_readme_documents_the_demo_script() {
    let readme = shipped("examples/README.md");
    assert!(readme.contains("examples/demo.sh"), "no `examples/demo.sh`");
    for variable in ["HIRELAY_BIN", "SIM_BIN", "KEEP"] {
        assert!(
            readme.contains(variable),
            "demo.sh's {variable} is not documented"
        );
    }
}

/// Item 8 (a): a browser opened on the server's root lands on the console.
#[tokio::test]
async fn the_root_redirects_to_the_console() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/console");
}

/// Item 8 (h): `/openapi.json` points to documents the repository has, and the webhook
/// operations show their body and their signature headers.
#[tokio::test]
async fn openapi_points_to_shipped_documents_and_describes_webhook_requests() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    let mut referenced = 0;
    for word in description.split(|c: char| c.is_whitespace() || c == '`' || c == '(' || c == ')') {
        let word = word.trim_end_matches(['.', ',', ';', ':']);
        if word.ends_with(".md") {
            referenced += 1;
            assert!(
                repo_root().join(word).is_file(),
                "{word} is not in the repository"
            );
        }
    }
    assert!(
        referenced > 0,
        "the description points to no document: {description}"
    );
    for source in ["bizreach", "ats", "career-relay"] {
        let op = &doc["paths"][format!("/v1/webhooks/{source}")]["post"];
        assert!(
            op["requestBody"]["content"]["application/json"].is_object(),
            "{source}: no JSON request body: {op}"
        );
        let headers: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{source}: no parameters: {op}"))
            .iter()
            .filter(|p| p["in"] == "header" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            assert!(
                headers.contains(&header),
                "{source}: no {header} header: {headers:?}"
            );
        }
    }
}

/// A candidate-facing page: its status, title, `<h1>` and Content-Security-Policy.
struct Page {
    status: u16,
    title: String,
    heading: String,
    html: String,
    policy: String,
}

async fn page(app: &TestApp, method: reqwest::Method, path: &str) -> Page {
    let res = app
        .client
        .request(method, app.url(path))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let policy = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = res.text().await.unwrap();
    let between = |open: &str, close: &str| {
        let start = html.find(open).map(|i| i + open.len()).unwrap_or_default();
        let end = html[start..].find(close).map_or(start, |i| start + i);
        html[start..end].to_owned()
    };
    Page {
        status,
        title: between("<title>", "</title>"),
        heading: between("<h1>", "</h1>"),
        policy,
        html,
    }
}

/// The hash the policy must give for the page's one inline style, as a browser computes it.
fn style_hash(html: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let start = html.find("<style>").expect("an inline style") + "<style>".len();
    let end = start + html[start..].find("</style>").unwrap();
    let digest = sha2::Sha256::digest(&html.as_bytes()[start..end]);
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// Item 8 (b): the tracking link's, the opt-out's and the link approval's pages carry the
/// company's name (not "hirelay") in their title and header, and one inline style that their
/// Content-Security-Policy admits by its hash, with no script.
#[tokio::test]
async fn candidate_pages_are_styled_and_carry_the_company_name() {
    let app = TestApp::spawn_with(&[("HIRELAY_COMPANY_NAME", "株式会社テスト")]).await;
    let pages = [
        (
            reqwest::Method::GET,
            "/r/unknown-token",
            404,
            "リンクが見つかりません",
        ),
        (
            reqwest::Method::GET,
            "/v1/unsubscribe/unknown-token",
            404,
            "リンクが見つかりません",
        ),
        (
            reqwest::Method::POST,
            "/v1/unsubscribe/unknown-token",
            404,
            "リンクが見つかりません",
        ),
        (
            reqwest::Method::GET,
            "/v1/link-approvals/unknown-token",
            404,
            "このリンクは無効です",
        ),
    ];
    for (method, path, status, title) in pages {
        let p = page(&app, method, path).await;
        assert_eq!(p.status, status, "{path}");
        assert_eq!(p.title, format!("{title} - 株式会社テスト"), "{path}");
        assert_eq!(p.heading, title, "{path}");
        assert!(
            p.html.contains("<header>株式会社テスト</header>"),
            "{path}: {}",
            p.html
        );
        assert!(!p.html.contains("hirelay"), "{path}: {}", p.html);
        assert!(!p.html.contains("<script"), "{path}");
        assert!(
            p.policy.contains("default-src 'none'"),
            "{path}: {}",
            p.policy
        );
        assert!(
            p.policy.contains(&style_hash(&p.html)),
            "{path}: {}",
            p.policy
        );
        assert!(!p.policy.contains("unsafe-inline"), "{path}: {}", p.policy);
        assert!(
            p.policy.contains("frame-ancestors 'none'"),
            "{path}: {}",
            p.policy
        );
    }
}

/// Items 5 and 8 (b): with no company name configured and no BizReach account, the pages name
/// the sender's legal name (`HIRELAY_SENDER_NAME`), and only without that either say 採用担当.
#[tokio::test]
async fn candidate_pages_without_a_company_name_name_the_sender_else_saiyo_tanto() {
    let app = TestApp::spawn().await;
    let p = page(&app, reqwest::Method::GET, "/r/unknown-token").await;
    assert_eq!(p.title, "リンクが見つかりません - 株式会社テスト 採用担当");
    app.stop().await;
    let app = TestApp::spawn_with(&[("HIRELAY_SENDER_NAME", "")]).await;
    let p = page(&app, reqwest::Method::GET, "/r/unknown-token").await;
    assert_eq!(p.title, "リンクが見つかりません - 採用担当");
}

/// The approval email's text part (the one whose link is `group`'s pending one).
async fn approval_text(b: &crate::bizreach_support::Bizreach, group: &str) -> String {
    b.approval_mail(group)
        .await
        .0
        .part("text/plain")
        .expect("a text part")
}

/// Item 8 (c): the approval email names a person: `HIRELAY_ADMIN_NAME` for the bootstrap token,
/// a token's own name for the others, and the company's 採用担当, never "bootstrap admin".
#[tokio::test]
async fn the_approval_mail_names_a_person_not_the_bootstrap_token() {
    use crate::bizreach_support::Bizreach;
    use serde_json::json;
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let (status, body) = b
        .app
        .post_json("/v1/group-accounts/grp-001/link", &json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let text = approval_text(&b, "grp-001").await;
    assert!(
        text.contains("株式会社サンプル 人事部の採用担当様より"),
        "{text}"
    );
    assert!(!text.contains("bootstrap"), "{text}");

    let (_, token) = b
        .app
        .state
        .store
        .create_token("佐藤 一郎", hirelay::domain::role::Role::Admin)
        .await
        .unwrap();
    let res = b
        .app
        .as_token(
            &token,
            reqwest::Method::POST,
            "/v1/group-accounts/grp-002/link",
        )
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = approval_text(&b, "grp-002").await;
    assert!(text.contains("の佐藤 一郎様より"), "{text}");

    let b = Bizreach::spawn_with(0, &[("HIRELAY_ADMIN_NAME", "山田 花子")]).await;
    b.sign_in().await;
    b.app
        .post_json("/v1/group-accounts/grp-001/link", &json!({}))
        .await;
    let text = approval_text(&b, "grp-001").await;
    assert!(
        text.contains("株式会社サンプル 人事部の山田 花子様より"),
        "{text}"
    );
}

/// Item 8 (d): without BizReach the log says so once at start, not at every poll.
#[tokio::test]
async fn an_unconfigured_bizreach_is_said_once_not_at_every_poll() {
    use crate::cli::{serve_command, Served};
    let dir = tempfile::tempdir().unwrap();
    let database_url = crate::helpers::fresh_database(dir.path()).await;
    let served = Served::start(
        serve_command(dir.path(), &database_url).env("HIRELAY_POLL_SCHEDULE", "* * * * * *"),
    );
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let log = served.output();
    assert_eq!(
        log.matches("BizReach is not configured").count(),
        1,
        "{log}"
    );
    assert!(log.contains("HIRELAY_BIZREACH_URL"), "{log}");
    assert!(!log.contains("scheduled job failed"), "{log}");
}

/// The shipped rules and templates, copied into `dir`.
fn shipped_dirs(dir: &std::path::Path) {
    for name in ["rules", "templates"] {
        let status = std::process::Command::new("cp")
            .arg("-r")
            .arg(repo_root().join(name))
            .arg(dir.join(name))
            .status()
            .unwrap();
        assert!(status.success());
    }
}

/// Item 6: every command says on stderr which database, rules and templates it uses (absolute
/// paths), and `token create`'s stdout stays the token alone.
#[test]
fn every_command_says_which_database_rules_and_templates_it_uses() {
    use crate::cli::{hirelay, run, stderr, stdout};
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    shipped_dirs(cwd);
    let database = cwd.join("data").join("hirelay.db").display().to_string();
    let rules = cwd.join("rules").display().to_string();
    let templates = cwd.join("templates").display().to_string();
    let commands: &[&[&str]] = &[
        &["migrate"],
        &["token", "create", "--role", "viewer", "--name", "hr"],
        &["token", "list"],
        &["token", "revoke", "tok_nope"],
        &["rules", "check"],
        &["templates", "check"],
    ];
    for args in commands {
        let output = run(hirelay(cwd).args(*args));
        let err = stderr(&output);
        for (what, path) in [
            ("database", &database),
            ("rules", &rules),
            ("templates", &templates),
        ] {
            assert!(
                err.lines()
                    .any(|l| l.contains(what) && l.contains(path.as_str())),
                "{args:?}: no {what} {path} in stderr:\n{err}"
            );
        }
        assert!(!stdout(&output).contains(&database), "{args:?}: on stdout");
    }
    let output = run(hirelay(cwd).args(["token", "create", "--role", "viewer", "--name", "x"]));
    assert_eq!(stdout(&output).lines().count(), 1, "{}", stdout(&output));
}

/// Item 6: `serve` started where there are no rules or no templates refuses to start, naming
/// the directory and what it expected there.
#[test]
fn serve_refuses_a_rules_or_templates_directory_without_scripts_or_templates() {
    use crate::cli::{hirelay, run, stderr};
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let output = run(hirelay(cwd).arg("serve").env("HIRELAY_BIND", "127.0.0.1:0"));
    assert!(!output.status.success());
    let err = stderr(&output);
    let rules = cwd.join("rules").display().to_string();
    assert!(
        err.contains(&format!(
            "the rules directory {rules} has no `.rhai` scripts"
        )),
        "{err}"
    );
    assert!(err.contains("HIRELAY_RULES_DIR"), "{err}");

    shipped_dirs(cwd);
    let empty = cwd.join("no-templates");
    std::fs::create_dir(&empty).unwrap();
    let output = run(hirelay(cwd)
        .arg("serve")
        .env("HIRELAY_BIND", "127.0.0.1:0")
        .env("HIRELAY_TEMPLATES_DIR", &empty));
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains(&format!(
            "the templates directory {} has no templates",
            empty.display()
        )),
        "{err}"
    );
    assert!(err.contains("html.hbs"), "{err}");
}

/// Item 7: an address in use is named, with the variable that sets it.
#[test]
fn an_address_in_use_is_named() {
    use crate::cli::{hirelay, run, stderr};
    let dir = tempfile::tempdir().unwrap();
    shipped_dirs(dir.path());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let output = run(hirelay(dir.path())
        .arg("serve")
        .env("HIRELAY_BIND", &address));
    assert!(!output.status.success());
    let err = stderr(&output);
    let last = err.lines().last().unwrap_or_default();
    assert!(last.contains(&address), "{err}");
    assert!(last.contains("HIRELAY_BIND"), "{err}");
    assert!(last.contains("Address already in use"), "{err}");
}

/// Item 7: a database SQLite cannot open is named, and the cause is said once.
#[test]
fn a_database_that_cannot_be_opened_is_named_once() {
    use crate::cli::{hirelay, run, stderr};
    let dir = tempfile::tempdir().unwrap();
    let not_a_file = dir.path().join("a-directory");
    std::fs::create_dir(&not_a_file).unwrap();
    let output = run(hirelay(dir.path()).arg("migrate").env(
        "HIRELAY_DATABASE_URL",
        format!("sqlite://{}?mode=rwc", not_a_file.display()),
    ));
    assert!(!output.status.success());
    let err = stderr(&output);
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!(
            "cannot open the database {}",
            not_a_file.display()
        )),
        "{err}"
    );
    assert_eq!(
        last.matches("unable to open database file").count(),
        1,
        "{err}"
    );
}

/// Item 7: a port without a host, and a schedule in words, are refused with a valid example.
#[test]
fn a_bind_without_host_and_a_schedule_in_words_are_refused_with_an_example() {
    use crate::cli::{hirelay, run, stderr};
    let dir = tempfile::tempdir().unwrap();
    let output = run(hirelay(dir.path())
        .arg("migrate")
        .env("HIRELAY_BIND", "8080"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("HIRELAY_BIND"), "{err}");
    assert!(err.contains("`127.0.0.1:8080`"), "{err}");
    let output = run(hirelay(dir.path())
        .arg("migrate")
        .env("HIRELAY_POLL_SCHEDULE", "every 6 minutes"));
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("HIRELAY_POLL_SCHEDULE"), "{err}");
    assert!(err.contains("`0 */6 * * * *`"), "{err}");
    assert!(!err.contains('^'), "the cron crate's caret line: {err}");
}
