//! What the benchmarks share: a real server (`Application::build`, the shipped rules and
//! templates) on a fresh SQLite file or on the PostgreSQL database given.
#![allow(dead_code)]
use std::collections::HashMap;
use std::time::Instant;

use hirelay::config::Config;
use hirelay::startup::{Application, Stopper};
use hirelay::store::entities::{application, candidate};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};

/// A running server and what to reach it by.
pub struct Server {
    pub state: actix_web::web::Data<hirelay::http::AppState>,
    pub stopper: Stopper,
    pub port: u16,
    /// Holds the SQLite file and the data directory until the run ends.
    pub dir: tempfile::TempDir,
}

/// Starts hirelay on `database_url` (default: a fresh SQLite file), with `extra` settings and
/// any `HIRELAY_*` variable of the environment (e.g. `HIRELAY_WORKERS`) on top.
pub async fn start(database_url: Option<&str>, extra: &[(&str, String)]) -> anyhow::Result<Server> {
    let dir = tempfile::tempdir()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or_else(|| anyhow::anyhow!("no repository root"))?
        .to_path_buf();
    let database_url = match database_url {
        Some(url) => url.to_owned(),
        None => format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        ),
    };
    let env: HashMap<String, String> = [
        ("HIRELAY_BIND", "127.0.0.1:0".to_owned()),
        (
            "HIRELAY_DATA_DIR",
            dir.path().join("data").display().to_string(),
        ),
        ("HIRELAY_DATABASE_URL", database_url),
        (
            "HIRELAY_RULES_DIR",
            root.join("rules").display().to_string(),
        ),
        (
            "HIRELAY_TEMPLATES_DIR",
            root.join("templates").display().to_string(),
        ),
    ]
    .into_iter()
    .chain(extra.iter().map(|(k, v)| (*k, v.clone())))
    .map(|(k, v)| (k.to_owned(), v))
    .chain(std::env::vars().filter(|(k, _)| k.starts_with("HIRELAY_")))
    .collect();
    let app = Application::build(Config::load(None, &env)?).await?;
    let (state, stopper, port) = (app.state.clone(), app.stopper(), app.port());
    tokio::spawn(app.run_until_stopped());
    Ok(Server {
        state,
        stopper,
        port,
        dir,
    })
}

/// The legal sender every invitation must show (特定電子メール法) and the URLs its links use,
/// so invitations are made and sent rather than held (issue 19).
pub fn sender_settings() -> Vec<(&'static str, String)> {
    vec![
        (
            "HIRELAY_PUBLIC_URL",
            "https://hirelay.bench.example.jp".to_owned(),
        ),
        (
            "HIRELAY_CAREER_RELAY_URL",
            "https://career-relay.bench.example.jp/register".to_owned(),
        ),
        ("HIRELAY_SENDER_NAME", "株式会社ベンチ".to_owned()),
        ("HIRELAY_SENDER_ADDRESS", "東京都千代田区1-1".to_owned()),
        (
            "HIRELAY_SENDER_CONTACT",
            "privacy@bench.example.jp".to_owned(),
        ),
        ("HIRELAY_COMPANY_NAME", "株式会社ベンチ".to_owned()),
    ]
}

/// Stores `n` rejected applications with their candidates (ids unique to this run), a
/// thousand to a statement; answers them.
pub async fn rejected_applications(
    server: &Server,
    n: usize,
) -> anyhow::Result<Vec<(application::Model, candidate::Model)>> {
    use sea_orm::EntityTrait;
    let run = hirelay::domain::ids::new_id("run");
    let run = &run[run.len() - 8..];
    let now = hirelay::domain::time::now_millis();
    let pairs: Vec<(application::Model, candidate::Model)> = (0..n)
        .map(|i| {
            let candidate = candidate::Model {
                id: format!("cand_{run}_{i}"),
                email: format!("inv{i}-{run}@example.jp"),
                name: format!("鈴木 {i}"),
                phone: None,
                attributes: "{}".into(),
                bizreach_candidate_id: None,
                opted_out_at: None,
                created_at: now,
                updated_at: now,
                erased_at: None,
            };
            let application = application::Model {
                id: format!("app_{run}_{i}"),
                source_system: None,
                source_application_id: None,
                ats_application_id: Some(format!("ats-{run}-{i}")),
                group_account_id: None,
                channel: None,
                position_name: Some("バックエンドエンジニア（Rust）".into()),
                source_status: None,
                status: "rejected".into(),
                status_changed_at: Some(now),
                stage: Some("一次面接".into()),
                reason: Some("経験年数不足".into()),
                job_id: None,
                candidate_id: candidate.id.clone(),
                applied_at: Some(now),
                imported_via: None,
                labels: "[]".into(),
                synced_status: None,
                synced_at: None,
                created_at: now,
                updated_at: now,
            };
            (application, candidate)
        })
        .collect();
    let db = &server.state.store.db;
    for chunk in pairs.chunks(1_000) {
        candidate::Entity::insert_many(
            chunk
                .iter()
                .map(|(_, c)| candidate::ActiveModel::from(c.clone())),
        )
        .exec_without_returning(db)
        .await?;
        application::Entity::insert_many(
            chunk
                .iter()
                .map(|(a, _)| application::ActiveModel::from(a.clone())),
        )
        .exec_without_returning(db)
        .await?;
    }
    Ok(pairs)
}

/// Plans and queues the invitations of `pairs` to be sent at `send_at` as event processing
/// does (`relay::plan`: the active template rendered with the send-time data, then
/// `relay::create` in one transaction per batch of `batch`); answers how many were queued.
pub async fn queue_invitations(
    server: &Server,
    pairs: &[(application::Model, candidate::Model)],
    send_at: i64,
    batch: usize,
) -> anyhow::Result<usize> {
    use hirelay::relay::{self, InviteSettings, Invited, Plan};
    let state = &server.state;
    let settings = InviteSettings {
        public_url: &state.config.public_url,
        company_name: state.config.company_name.as_deref().unwrap_or("採用担当"),
        sender: &state.config.sender,
    };
    // Fresh candidates: no opt-out and no consent (the pipeline reads theirs per batch).
    let standing = hirelay::store::opt_outs::Standing::default();
    let mut queued = 0;
    for chunk in pairs.chunks(batch.max(1)) {
        let mut planned = Vec::with_capacity(chunk.len());
        for (app, candidate) in chunk {
            match relay::plan(
                &state.mailer,
                &settings,
                app,
                candidate,
                &standing,
                send_at,
                "evt_bench",
            )
            .await?
            {
                Plan::Invite(p) => planned.push(*p),
                Plan::OptedOut => anyhow::bail!("{} opted out", candidate.id),
            }
        }
        let txn = state.store.begin_processing().await?;
        let outcomes = relay::create(&txn, planned).await?;
        txn.commit().await?;
        queued += outcomes
            .iter()
            .filter(|o| matches!(o, Invited::Queued(_)))
            .count();
    }
    Ok(queued)
}

/// 2025-12-01T00:00:00+09:00: the year the loaded data spans starts here.
pub const YEAR_START: i64 = 1_764_514_800_000;
pub const YEAR_MILLIS: i64 = 365 * 86_400_000;

/// The first column of the first row of `sql`.
pub async fn scalar(db: &DatabaseConnection, sql: &str) -> anyhow::Result<i64> {
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no row"))?;
    Ok(row.try_get_by_index::<i64>(0)?)
}

/// `insert` of rows `select`ed for n in 0..count (those `filter` keeps), generated by the
/// database: a recursive CTE on SQLite, `generate_series` on PostgreSQL.
pub fn series(postgres: bool, count: i64, insert: &str, select: &str, filter: &str) -> String {
    if postgres {
        format!(
            "{insert} {select} FROM generate_series(CAST(0 AS BIGINT), {}) AS s(n) WHERE {filter}",
            count - 1
        )
    } else {
        format!(
            "WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) \
             {insert} {select} FROM s WHERE {filter}",
            count - 1
        )
    }
}

/// Generates a year of `rejections` rejected applications (each with its candidate, application
/// and history row; 80 % with an invitation sent, a quarter clicked, one in twenty registered)
/// and `kpis` KPI points in the database itself: rejection `n` happens `n` steps into the year.
pub async fn load_rejections(
    db: &DatabaseConnection,
    rejections: i64,
    kpis: i64,
) -> anyhow::Result<()> {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let series = |count, insert: &str, select: &str, filter: &str| {
        series(postgres, count, insert, select, filter)
    };
    // Four in five rejections were invited (their mail sent).
    let (all, invited) = ("TRUE", "n % 5 <> 0");
    let step = YEAR_MILLIS / rejections.max(1);
    let at = format!("({YEAR_START} + n * {step})");
    let stage = "CASE n % 4 WHEN 0 THEN '書類選考' WHEN 1 THEN '一次面接' WHEN 2 THEN '二次面接' ELSE '最終面接' END";
    let reason = "CASE n % 5 WHEN 0 THEN '経験年数不足' WHEN 1 THEN 'スキル不一致' WHEN 2 THEN '条件不一致' \
                  WHEN 3 THEN '他候補者決定' ELSE 'その他' END";
    let applied = if postgres { "TRUE" } else { "1" };
    let sent_at = format!("({at} + 54000000)");
    let statements = [
        series(
            rejections,
            "INSERT INTO candidates (id, email, name, attributes, created_at, updated_at)",
            &format!("SELECT 'cand_b' || n, 'b' || n || '@example.jp', 'ベンチ 候補者', \
                      '{{\"age\": ' || (22 + n % 30) || '}}', {at}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO applications (id, ats_application_id, position_name, status, status_changed_at, \
             stage, reason, candidate_id, labels, created_at, updated_at)",
            &format!("SELECT 'app_b' || n, 'ats-b' || n, 'バックエンドエンジニア', 'rejected', {at}, \
                      {stage}, {reason}, 'cand_b' || n, '[]', {at}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO application_history (application_id, to_status, stage, reason, changed_at, \
             applied, recorded_at)",
            &format!("SELECT 'app_b' || n, 'rejected', {stage}, {reason}, {at}, {applied}, {at}"),
            all,
        ),
        series(
            rejections,
            "INSERT INTO mail_outbox (id, dedupe_key, template, template_version, recipient, subject, \
             html, text_body, headers, message_id, status, attempts, next_attempt_at, created_at, sent_at)",
            &format!("SELECT 'mail_b' || n, 'invite:app_b' || n, 'career_relay_invitation', 1, \
                      'b' || n || '@example.jp', '選考結果のご連絡', '', '', '{{}}', '<mail_b' || n || '@bench>', \
                      'sent', 1, {at}, {at}, {sent_at}"),
            invited,
        ),
        series(
            rejections,
            "INSERT INTO invitations (id, application_id, candidate_id, token_hash, send_at, outbox_id, \
             created_at, clicked_first_at, clicked_last_at, clicks, registered_at)",
            &format!("SELECT 'inv_b' || n, 'app_b' || n, 'cand_b' || n, 'bench-token-' || n, {at}, 'mail_b' || n, {at}, \
                      CASE WHEN n % 4 = 1 THEN {sent_at} + 86400000 END, \
                      CASE WHEN n % 4 = 1 THEN {sent_at} + 86400000 END, \
                      CASE WHEN n % 4 = 1 THEN 1 ELSE 0 END, \
                      CASE WHEN n % 20 = 1 THEN {sent_at} + 172800000 END"),
            invited,
        ),
        series(
            kpis,
            "INSERT INTO kpi_records (dedupe_key, name, value, tags, recorded_at)",
            &format!("SELECT 'bench-' || n, CASE n % 3 WHEN 0 THEN 'rejected' WHEN 1 THEN 'invited' ELSE 'registered' END, \
                      1.0, '{{}}', {YEAR_START} + n * {}", YEAR_MILLIS / kpis.max(1)),
            all,
        ),
    ];
    for sql in statements {
        let started = Instant::now();
        db.execute_unprepared(&sql).await?;
        let table = sql
            .split("INSERT INTO ")
            .nth(1)
            .and_then(|s| s.split(' ').next())
            .unwrap_or("?");
        println!("  {table}: {:.1} s", started.elapsed().as_secs_f64());
    }
    Ok(())
}
