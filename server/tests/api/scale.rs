//! Issue 15, item 1: three `hirelay serve` processes on one PostgreSQL database, a signed mixed
//! load spread over them (BizReach imports of a linked group, ATS rejections that invite, Career
//! Relay registrations from the invitations' links), one instance killed with `kill -9` mid-load
//! and restarted. Counted at the end: every acknowledged event processed exactly once, every
//! invitation mailed exactly once at the real SMTP server, every scheduler tick run once, and a
//! script saved through one instance running on all of them within seconds.
//!
//! PostgreSQL only (SQLite is one process's file): without `HIRELAY_TEST_DATABASE_URL` the test
//! says so and passes. The load is 2,000 webhooks; `HIRELAY_SCALE_EVENTS=20000` runs the
//! issue's full size.
use crate::crash::{assert_none_lost, log_tail, start_with, stored_once_processed};
use crate::helpers::{fresh_database, ADMIN_TOKEN, NEVER, SECRET};
use crate::smtp::{ReceivedMail, SmtpServer};
use hirelay::ingest::signature::WebhookSecrets;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::process::Child;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// The saved `status.rhai`: the shipped one, inviting at once (not the next business morning)
/// and logging a marker, so a decision shows which version ran.
fn inviting_now_script() -> String {
    std::fs::read_to_string(crate::helpers::repo_root().join("rules/status.rhai"))
        .unwrap()
        .replace("invite_at(next_business_morning(now));", "invite();")
}

/// Whether this run is on PostgreSQL; says why not otherwise.
pub(crate) fn on_postgres(test: &str) -> bool {
    let on = std::env::var("HIRELAY_TEST_DATABASE_URL").is_ok_and(|u| !u.is_empty());
    if !on {
        eprintln!("{test}: skipped: it needs PostgreSQL (set HIRELAY_TEST_DATABASE_URL)");
    }
    on
}

/// The instances' mail lease: mails the killed instance had claimed go out from another this
/// long later. Long enough that a live instance finishes every mail it started in time (it
/// starts mails only in the first half) even on a machine busy with other builds.
const MAIL_LEASE_SECS: u64 = 30;

/// The variables every instance of the cluster gets.
fn cluster_env(smtp: &SmtpServer) -> Vec<(String, String)> {
    [
        ("HIRELAY_SMTP_URL", smtp.url()),
        ("HIRELAY_WEBHOOK_SECRET_BIZREACH", SECRET.into()),
        ("HIRELAY_WEBHOOK_SECRET_CAREER_RELAY", SECRET.into()),
        ("HIRELAY_PUBLIC_URL", "http://hirelay.test".into()),
        ("HIRELAY_TEST_RECIPIENTS", "@example.jp".into()),
        ("HIRELAY_SENDER_NAME", "株式会社テスト 採用担当".into()),
        (
            "HIRELAY_SENDER_ADDRESS",
            "〒100-0001 東京都千代田区千代田1-1".into(),
        ),
        ("HIRELAY_SENDER_CONTACT", "recruit@example.jp".into()),
        (
            "HIRELAY_CAREER_RELAY_URL",
            "https://career-relay.test/register".into(),
        ),
        (
            "HIRELAY_SECRET_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".into(),
        ),
        ("HIRELAY_DATABASE_POOL", "6".into()),
        ("HIRELAY_MAIL_LEASE_SECS", MAIL_LEASE_SECS.to_string()),
        ("HIRELAY_POLL_SCHEDULE", NEVER.into()),
        ("HIRELAY_REPORT_SCHEDULE", NEVER.into()),
        // A tick every 2 s, claimed by one of the three.
        ("HIRELAY_SYNC_SCHEDULE", "*/2 * * * * *".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

struct Instance {
    dir: PathBuf,
    child: Child,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The instances' base URLs, as a load balancer sees them (a restarted one comes back in).
type Balancer = Arc<RwLock<Vec<String>>>;

/// A signed webhook of `source`, sent to the instances in turn from `first` until one answers
/// `202` (a sender retries the same webhook-id elsewhere, as Svix retries); its event id, or
/// `None` when no instance took it within a minute.
async fn deliver(
    client: &reqwest::Client,
    balancer: &Balancer,
    first: usize,
    source: &str,
    webhook_id: &str,
    body: &str,
) -> Option<String> {
    let secrets = WebhookSecrets::parse(SECRET).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut n = first;
    while Instant::now() < deadline {
        let base = {
            let bases = balancer.read().unwrap();
            bases[n % bases.len()].clone()
        };
        n += 1;
        let ts = chrono::Utc::now().timestamp();
        let sent = client
            .post(format!("{base}/v1/webhooks/{source}"))
            .header("content-type", "application/json")
            .header("webhook-id", webhook_id)
            .header("webhook-timestamp", ts.to_string())
            .header(
                "webhook-signature",
                secrets.sign(webhook_id, ts, body.as_bytes()).unwrap(),
            )
            .body(body.to_owned())
            .timeout(Duration::from_secs(40))
            .send()
            .await;
        match sent {
            Ok(res) if res.status().is_success() => {
                let v: Value = res.json().await.ok()?;
                return v["event_id"].as_str().map(str::to_owned);
            }
            Ok(res) => {
                let status = res.status();
                assert!(
                    status.is_server_error(),
                    "{source} webhook {webhook_id}: {status} {}",
                    res.text().await.unwrap_or_default()
                );
                assert_ne!(status, 500, "never a 500 for {webhook_id}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    None
}

fn ats_rejection(i: usize) -> String {
    json!({
        "type": "application.status_changed",
        "ats_application_id": format!("ats-scale-{i}"),
        "candidate": {"name": format!("試験 {i}"), "email": format!("scale{i}@example.jp")},
        "job": {"id": "job-7", "title": "カスタマーサクセス"},
        "from_status": "screening",
        "to_status": "rejected",
        "stage": "書類選考",
        "reason": "経験年数不足",
        "changed_at": "2026-11-21T18:05:00+09:00",
    })
    .to_string()
}

fn bizreach_import(i: usize) -> String {
    json!({
        "type": "application.received",
        "group_account_id": "grp-001",
        "application": {
            "id": format!("br-scale-{i}"),
            "channel": if i.is_multiple_of(2) { "direct" } else { "scout" },
            "position_name": "バックエンドエンジニア（Rust）",
            "applied_at": "2026-11-20T10:15:00+09:00",
            "status": "new",
            "candidate": {
                "id": format!("br-cand-scale-{i}"),
                "name": format!("山田 {i}"),
                "email": format!("br{i}@example.jp"),
            }
        }
    })
    .to_string()
}

fn registration(token: &str) -> String {
    json!({
        "type": "registration.completed",
        "invitation_token": token,
        "registered_at": "2026-11-23T09:30:00+09:00",
        "attributes": {"prefecture": "東京都"},
    })
    .to_string()
}

async fn query(db: &sea_orm::DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

/// Posts one ATS rejection to each instance until the decision there was made by `version` of
/// `status.rhai` (a version saved through another instance); answers how long that took.
async fn wait_until_each_runs(
    client: &reqwest::Client,
    bases: &[String],
    version: i64,
    acked: &Mutex<Vec<(String, String)>>,
) -> Duration {
    let started = Instant::now();
    let secrets = WebhookSecrets::parse(SECRET).unwrap();
    let mut probe = 0;
    for base in bases {
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{base} did not run status.rhai v{version} within 30 s"
            );
            probe += 1;
            let i = 1_000_000 + probe;
            let body = ats_rejection(i);
            let id = format!("probe-{i}");
            let ts = chrono::Utc::now().timestamp();
            let res = client
                .post(format!("{base}/v1/webhooks/ats"))
                .header("content-type", "application/json")
                .header("webhook-id", &id)
                .header("webhook-timestamp", ts.to_string())
                .header(
                    "webhook-signature",
                    secrets.sign(&id, ts, body.as_bytes()).unwrap(),
                )
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202);
            let event = res.json::<Value>().await.unwrap()["event_id"]
                .as_str()
                .unwrap()
                .to_owned();

            let decided = loop {
                let e: Value = client
                    .get(format!("{base}/v1/events/{event}"))
                    .bearer_auth(ADMIN_TOKEN)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                if e["status"] == "done" {
                    break e["decision"]["script_version"].as_i64();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            };
            // A probe the earlier version decided invites the next business morning, after
            // the test: its mail is not counted.
            let kind = if decided == Some(version) {
                "ats"
            } else {
                "probe-scheduled"
            };
            acked.lock().unwrap().push((kind.into(), event.clone()));
            if decided == Some(version) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn issue15_three_instances_one_killed_nothing_lost_nothing_twice() {
    if !on_postgres("issue15_three_instances_one_killed_nothing_lost_nothing_twice") {
        return;
    }
    let total: usize = std::env::var("HIRELAY_SCALE_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2_000);
    let root = tempfile::tempdir().unwrap();
    let database_url = fresh_database(root.path()).await;
    let smtp = SmtpServer::start().await;
    let env = cluster_env(&smtp);
    let start = |n: usize| -> (Instance, String) {
        let dir = root.path().join(format!("instance-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let (child, base) = start_with(&dir, &database_url, &env);
        (Instance { dir, child }, base)
    };
    // The first one migrates the database; then the BizReach group is linked.
    let (first, base0) = start(0);
    let db = sea_orm::Database::connect(&database_url).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO group_accounts (id, name, admin_email, status, linked_at, progress_sync, updated_at) \
         VALUES ('grp-001', 'テスト', 'admin@example.jp', 'linked', 0, false, 0)",
    )
    .await
    .unwrap();
    let (second, base1) = start(1);
    let (third, base2) = start(2);
    let mut instances = vec![first, second, third];
    let bases = vec![base0.clone(), base1, base2];
    let client = reqwest::Client::new();
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();

    // A script saved through the first instance runs on all three within seconds.
    let res = client
        .put(format!("{base0}/v1/rules/status"))
        .bearer_auth(ADMIN_TOKEN)
        .header("content-type", "text/plain")
        .body(inviting_now_script())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let version = res.json::<Value>().await.unwrap()["version"]
        .as_i64()
        .unwrap();
    let took = wait_until_each_runs(&client, &bases, version, &acked).await;
    assert!(
        took < Duration::from_secs(10),
        "the saved script reached every instance only after {took:?}"
    );

    // The load: 16 lanes of ATS rejections and BizReach imports over the three instances,
    // and Career Relay registrations from the links of the invitations as they arrive.
    let balancer: Balancer = Arc::new(RwLock::new(bases.clone()));
    let load_started = Instant::now();
    let mut lanes = Vec::new();
    for lane in 0..16 {
        let (client, balancer, acked) = (client.clone(), balancer.clone(), acked.clone());
        lanes.push(tokio::spawn(async move {
            let mut i = lane;
            while i < total {
                let (source, body) = if i % 3 == 1 {
                    ("bizreach", bizreach_import(i))
                } else {
                    ("ats", ats_rejection(i))
                };
                let id = format!("scale-{i}");
                let event = deliver(&client, &balancer, i, source, &id, &body).await;
                let event = event.unwrap_or_else(|| panic!("no instance took {id}"));
                acked.lock().unwrap().push((source.to_owned(), event));
                i += 16;
            }
        }));
    }
    let lanes_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let registrations = {
        let (client, balancer, acked, smtp, done) = (
            client.clone(),
            balancer.clone(),
            acked.clone(),
            smtp.clone(),
            lanes_done.clone(),
        );
        tokio::spawn(async move {
            let mut seen = HashSet::new();
            let mut quiet_since = Instant::now();
            loop {
                let mut new = 0;
                for mail in smtp.mails() {
                    let to = mail.to.join(",");
                    // Every tenth invitation's candidate registers (a mail sent twice would be
                    // seen once here, and counted as twice below).
                    if !seen.insert(to.clone()) || !seen.len().is_multiple_of(10) {
                        continue;
                    }
                    new += 1;
                    let token = crate::ats::relay_token(&mail);
                    let body = registration(&token);
                    let id = format!("reg-{to}");
                    if let Some(event) =
                        deliver(&client, &balancer, seen.len(), "career-relay", &id, &body).await
                    {
                        acked.lock().unwrap().push(("career-relay".into(), event));
                    }
                }
                if new > 0 {
                    quiet_since = Instant::now();
                }
                if done.load(std::sync::atomic::Ordering::SeqCst)
                    && quiet_since.elapsed() > Duration::from_secs(20)
                {
                    return seen.len();
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };

    // A third of the way in, the third instance dies without warning; two seconds later it is
    // back (on a new port, which the balancer learns).
    for _ in 0..6_000 {
        if acked.lock().unwrap().len() >= total / 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    instances[2].child.kill().unwrap();
    instances[2].child.wait().unwrap();
    let killed_at = acked.lock().unwrap().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let dir = instances[2].dir.clone();
    let (child, base) = start_with(&dir, &database_url, &env);
    instances[2] = Instance { dir, child };
    balancer.write().unwrap()[2] = base;
    for lane in lanes {
        lane.await.unwrap();
    }
    let load_took = load_started.elapsed();
    lanes_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let registered_mails = registrations.await.unwrap();
    assert!(
        killed_at < total,
        "the kill came after the load ({killed_at} of {total} acknowledged)"
    );

    // Every acknowledged event stored and processed, each by one decision.
    let (stored, pending) = stored_once_processed(&base0).await;
    let acked = acked.lock().unwrap().clone();
    let acked_ids: HashSet<String> = acked.iter().map(|(_, id)| id.clone()).collect();
    assert_none_lost(&acked_ids, &stored);
    let logs = || {
        instances
            .iter()
            .map(|i| log_tail(&i.dir, 20))
            .collect::<Vec<_>>()
            .join("\n---\n")
    };
    assert!(
        pending.is_empty(),
        "left unprocessed: {pending:?}\n{}",
        logs()
    );
    let twice = query(
        &db,
        "SELECT event_id FROM decisions GROUP BY event_id HAVING COUNT(*) > 1",
    )
    .await;
    assert!(twice.is_empty(), "{} events decided twice", twice.len());
    let not_done = query(&db, "SELECT id FROM events WHERE status <> 'done'").await;
    assert!(
        not_done.is_empty(),
        "{} events not done\n{}",
        not_done.len(),
        logs()
    );
    let decided: i64 = query(&db, "SELECT COUNT(DISTINCT event_id) AS n FROM decisions").await[0]
        .try_get("", "n")
        .unwrap();
    assert_eq!(decided as usize, stored.len(), "every stored event decided");

    // Every invitation mailed exactly once: one per ATS rejection, each recipient once.
    let rejections = acked.iter().filter(|(s, _)| s == "ats").count();
    let deadline = Instant::now() + Duration::from_secs(120 + MAIL_LEASE_SECS);
    while smtp.mails().len() < rejections && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Longer than the mail lease: a mail claimed twice would have arrived twice by now.
    tokio::time::sleep(Duration::from_secs(MAIL_LEASE_SECS + 2)).await;
    let mails: Vec<ReceivedMail> = smtp.mails();
    let mut per_recipient: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    let mut copies: BTreeMap<String, usize> = BTreeMap::new();
    for mail in &mails {
        let message_id = mail.header("Message-ID").unwrap_or_default();
        per_recipient
            .entry(mail.to.join(","))
            .or_default()
            .insert(message_id.clone());
        *copies.entry(message_id).or_default() += 1;
    }
    // One invitation, one Message-ID, per recipient.
    let two_mails: Vec<_> = per_recipient
        .iter()
        .filter(|(_, ids)| ids.len() > 1)
        .collect();
    assert!(two_mails.is_empty(), "two invitations: {two_mails:?}");
    assert_eq!(
        per_recipient.len(),
        rejections,
        "one invitation per acknowledged rejection"
    );
    // The one window SMTP leaves: the killed instance's mails that the server had accepted
    // but that were not yet marked sent go out again, with the same Message-ID (which mail
    // clients show once). At most one per SMTP connection of that instance; none otherwise.
    let resent = mails.len() - copies.len();
    assert!(
        resent <= 16,
        "{resent} mails sent twice: more than the killed instance had in flight: {:?}\n\
         leases that ran out on live instances: {}",
        copies
            .iter()
            .filter(|(_, n)| **n > 1)
            .take(20)
            .collect::<Vec<_>>(),
        instances
            .iter()
            .map(|i| std::fs::read_to_string(i.dir.join("serve.log"))
                .unwrap_or_default()
                .matches("lease ran out")
                .count()
                .to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let registrations_done: i64 = query(
        &db,
        "SELECT COUNT(*) AS n FROM events WHERE source = 'career_relay' AND status = 'done'",
    )
    .await[0]
        .try_get("", "n")
        .unwrap();
    assert_eq!(registrations_done as usize, registered_mails / 10);

    // Every scheduler tick of the load's span claimed by one instance and run once.
    let ticks = query(
        &db,
        "SELECT tick, instance, finished_at FROM scheduler_runs WHERE job = 'progress-sync' ORDER BY tick",
    )
    .await;
    let instances_seen: HashSet<String> = ticks
        .iter()
        .map(|r| r.try_get::<String>("", "instance").unwrap())
        .collect();
    let tick_times: Vec<i64> = ticks
        .iter()
        .map(|r| r.try_get::<i64>("", "tick").unwrap())
        .collect();
    let unique: HashSet<i64> = tick_times.iter().copied().collect();
    assert_eq!(unique.len(), tick_times.len(), "a tick ran twice");
    // Ticks every 2 s: at most one (the kill's) may be missing between the first and last.
    if let (Some(first), Some(last)) = (tick_times.first(), tick_times.last()) {
        let expected = ((last - first) / 2_000 + 1) as usize;
        assert!(
            tick_times.len() + 2 >= expected,
            "{} of {expected} ticks ran",
            tick_times.len()
        );
    }
    assert!(
        ticks.len() >= 3,
        "only {} progress-sync ticks ran during the test",
        ticks.len()
    );
    let unfinished = ticks
        .iter()
        .filter(|r| {
            r.try_get::<Option<i64>>("", "finished_at")
                .unwrap()
                .is_none()
        })
        .count();
    assert!(
        unfinished <= 1,
        "{unfinished} ticks never finished (only the killed instance's may not)"
    );
    eprintln!(
        "scale: {} events acknowledged in {load_took:?} ({:.0}/s) over 3 instances, one killed after {killed_at}; \
         {} invitations, {resent} of them sent again after the kill; {} registrations; {} scheduler ticks by {} instance(s); script reached all in {took:?}",
        acked.len(),
        acked.len() as f64 / load_took.as_secs_f64(),
        per_recipient.len(),
        registrations_done,
        ticks.len(),
        instances_seen.len(),
    );
    db.close().await.ok();
    drop(instances);
}
