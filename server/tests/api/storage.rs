//! What the schema asks of the database the suite runs on (SQLite, or PostgreSQL in CI).
use crate::helpers::TestApp;
use hirelay::domain::ids::new_id;
use hirelay::store::outbox::NewMail;
use hirelay::store::Store;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

fn mail(html: &str) -> NewMail {
    let id = new_id("mail");
    NewMail {
        message_id: format!("<{id}@test>"),
        dedupe_key: id.clone(),
        id,
        template: "career_relay_invitation".into(),
        template_version: 1,
        recipient: "c@example.jp".into(),
        subject: "キャリアリレーのご案内".into(),
        html: html.into(),
        text: "text".into(),
        headers: "{}".into(),
        data: None,
        send_at: 0,
        created_at: 0,
    }
}

/// The stored HTML of mail `id`, and on PostgreSQL how many bytes it takes there.
async fn stored_html(db: &DatabaseConnection, id: &str) -> (String, Option<i32>) {
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    let size = if postgres {
        "pg_column_size(html)"
    } else {
        "NULL"
    };
    let placeholder = if postgres { "$1" } else { "?" };
    let row = db
        .query_one(Statement::from_sql_and_values(
            db.get_database_backend(),
            format!("SELECT html, {size} FROM mail_outbox WHERE id = {placeholder}"),
            [id.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get_by_index(0).unwrap(),
        row.try_get_by_index(1).unwrap(),
    )
}

/// m0005: a queued mail of about 3 KB (a rendered invitation comes to about 2 KB) is kept as
/// written, and on PostgreSQL inline and uncompressed, which it was not before the migration.
#[tokio::test]
async fn queued_mails_are_stored_uncompressed() {
    let app = TestApp::spawn().await;
    let db = &app.state.store.db;
    let html = "<p>ご応募ありがとうございました。</p>".repeat(60);
    let queue = |mail: NewMail| async move {
        Store::insert_mails(db, std::slice::from_ref(&mail))
            .await
            .unwrap();
        stored_html(db, &mail.id).await
    };
    let (stored, size) = queue(mail(&html)).await;
    assert_eq!(stored, html);
    if db.get_database_backend() != DatabaseBackend::Postgres {
        assert_eq!(size, None);
        return; // SQLite never compresses a row.
    }
    let size = size.unwrap() as usize;
    assert!(size >= html.len(), "{size} bytes stored for {}", html.len());
    // Without the migration PostgreSQL compresses it. The schema is then m0004's, so the row is
    // written with the columns it had.
    crate::helpers::migrate_down_through(db, "m0005_outbox_inline").await;
    let old = mail(&html);
    db.execute(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO mail_outbox (id, dedupe_key, template, template_version, recipient, subject, \
         html, text_body, headers, message_id, status, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, 't', 1, 'a@example.jp', 's', $3, 'text', '{}', $4, 'pending', 0, 0, 0)",
        [
            old.id.clone().into(),
            old.dedupe_key.clone().into(),
            html.clone().into(),
            old.message_id.clone().into(),
        ],
    ))
    .await
    .unwrap();
    let (_, compressed) = stored_html(db, &old.id).await;
    assert!((compressed.unwrap() as usize) < html.len() / 2);
    Migrator::up(db, None).await.unwrap();
    let (_, again) = queue(mail(&html)).await;
    assert_eq!(again.unwrap() as usize, size);
}

/// Event processing has connections of its own, one per worker: with every one of them held in
/// a transaction, the rest of the server (webhooks, the admin API) still gets a connection at
/// once, and another processing transaction waits for its worker's connection instead of
/// taking theirs.
#[tokio::test]
async fn processing_holds_connections_of_its_own() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let store = Store::connect(&url, 1, 1).await.unwrap();
    store.migrate().await.unwrap();
    let held = store.begin_processing().await.unwrap();
    let wait = std::time::Duration::from_secs(5);
    tokio::time::timeout(wait, store.ping())
        .await
        .expect("the server's pool is not the workers'")
        .unwrap();
    tokio::time::timeout(wait, store.has_open_events())
        .await
        .expect("the server's pool is not the workers'")
        .unwrap();
    let second = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        store.begin_processing(),
    )
    .await;
    assert!(second.is_err(), "one processing connection per worker");
    held.rollback().await.unwrap();
    store
        .begin_processing()
        .await
        .unwrap()
        .rollback()
        .await
        .unwrap();
}

/// m0009 (M9): mails sent before the sender blanked bodies lose theirs (live tokens); mails
/// still to send keep them.
#[tokio::test]
async fn m9_bodies_of_mails_sent_earlier_are_blanked() {
    let app = TestApp::spawn().await;
    let db = &app.state.store.db;
    let sent = mail("<p>https://hirelay.test/r/live-token</p>");
    // Due next year: the running sender must not send (and blank) it while the test runs.
    let pending = NewMail {
        send_at: hirelay::domain::time::now_millis() + 365 * 86_400_000,
        ..mail("<p>still to send</p>")
    };
    Store::insert_mails(db, &[sent.clone(), pending.clone()])
        .await
        .unwrap();
    db.execute_unprepared(&format!(
        "UPDATE mail_outbox SET status = 'sent', sent_at = 1 WHERE id = '{}'",
        sent.id
    ))
    .await
    .unwrap();
    crate::helpers::migrate_down_through(db, "m0009_purge_sent_mail_bodies").await;
    Migrator::up(db, None).await.unwrap();
    let row = app.state.store.get_mail(&sent.id).await.unwrap();
    assert_eq!((row.html.as_str(), row.text_body.as_str()), ("", ""));
    assert!(!row.subject.is_empty());
    let row = app.state.store.get_mail(&pending.id).await.unwrap();
    assert_eq!(row.html, "<p>still to send</p>");
    assert_eq!(row.text_body, "text");
}

/// m0013 (issue 19): a decision recorded before it reads back with no context (dry runs then
/// rebuild one and say so); one recorded after keeps the context its script ran with.
#[tokio::test]
async fn m14_decisions_recorded_before_have_no_context_and_new_ones_keep_theirs() {
    let app = TestApp::spawn().await;
    let db = &app.state.store.db;
    crate::helpers::migrate_down_through(db, "m0014_decision_context").await;
    db.execute_unprepared(
        "INSERT INTO decisions (event_id, script, script_version, actions, log, error, duration_us, decided_at) \
         VALUES ('evt_before', 'status', 1, '[]', '[]', NULL, 5, 7)",
    )
    .await
    .unwrap();
    Migrator::up(db, None).await.unwrap();
    let before = Store::decisions_for(db, "evt_before").await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(
        (before[0].decided_at, before[0].context.as_ref()),
        (7, None)
    );

    let mut after = before[0].clone();
    after.event_id = "evt_after".into();
    after.context = Some(serde_json::json!({
        "ctx": {"already_invited": false, "opted_out": true},
        "now": "2026-11-20T09:00:00.000Z",
        "application": {"id": "app_1", "labels": ["x"]},
    }));
    Store::insert_decision(db, &after).await.unwrap();
    assert_eq!(
        Store::decisions_for(db, "evt_after").await.unwrap(),
        vec![after]
    );
}
