//! ATS status webhooks end to end: applications found, created or updated, history kept,
//! out-of-order changes recorded without effect, and the shipped `status.rhai` deciding the
//! Career Relay invitation (C2, C8).
use crate::helpers::{sample, TestApp};
use serde_json::{json, Value};

/// Posts an ATS change and waits until it is processed; answers the event.
async fn post(app: &TestApp, webhook_id: &str, body: &str) -> Value {
    let res = app.post_webhook("ats", webhook_id, body).await;
    assert!(
        res.status() == 202 || res.status() == 200,
        "{}",
        res.text().await.unwrap()
    );
    let id = res.json::<Value>().await.unwrap()["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.wait_event(&id).await
}

async fn by_ats_id(app: &TestApp, ats_id: &str) -> Value {
    let found = app
        .get_json(&format!("/v1/applications?ats_application_id={ats_id}"))
        .await;
    let id = found["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no application {ats_id}: {found}"))
        .to_owned();
    app.get_json(&format!("/v1/applications/{id}")).await
}

/// Asserts from the captured logs that none of `ids` was handled again alone (after its
/// batch failed).
fn each_handled_in_its_batch(logs: &std::sync::Mutex<Vec<u8>>, ids: &[String]) {
    let logs = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    for id in ids {
        assert!(
            !logs.contains(&format!("event Some(\"{id}\") did not succeed")),
            "{id} was handled again alone"
        );
    }
}

/// The token Career Relay is handed when the candidate follows the link in `mail` (what its
/// registration webhooks carry as `invitation_token`).
pub(crate) fn relay_token(mail: &crate::smtp::ReceivedMail) -> String {
    hirelay::domain::invitation_tokens::InvitationTokens::from_tracking(tracking_token(mail))
        .career_relay
}

/// A mail client's RFC 8058 one-click POST to a `List-Unsubscribe` header's URL; its status.
pub(crate) async fn one_click_opt_out(app: &TestApp, list_unsubscribe: &str) -> u16 {
    let url = list_unsubscribe
        .trim_matches(|c| c == '<' || c == '>')
        .replace("http://hirelay.test", &app.address);
    app.client
        .post(url)
        .form(&[("List-Unsubscribe", "One-Click")])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The token of the tracking link in an invitation email.
pub(crate) fn tracking_token(mail: &crate::smtp::ReceivedMail) -> String {
    let text = mail.part("text/plain").unwrap();
    let start = text
        .find("http://hirelay.test/r/")
        .expect("a tracking link");
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    link.rsplit('/').next().unwrap().to_owned()
}

/// Makes `status.rhai` invite at once instead of the next business morning, to read the email
/// now.
pub(crate) async fn invite_at_once(app: &TestApp) {
    let now_script = std::fs::read_to_string(app.rules_dir.join("status.rhai"))
        .unwrap()
        .replace("invite_at(next_business_morning(now));", "invite();");
    app.activate_rule("status", &now_script).await;
}

/// Posts a Career Relay event and waits until it is processed; answers the event.
async fn post_career_relay(app: &TestApp, webhook_id: &str, body: &str) -> Value {
    app.deliver("career-relay", webhook_id, body).await
}

pub(crate) fn change(ats_id: &str, email: &str, to: &str, changed_at: &str) -> String {
    json!({
        "type": "application.status_changed",
        "ats_application_id": ats_id,
        "candidate": {"name": "鈴木 一郎", "email": email, "attributes": {"age": 35}},
        "job": {"id": "job-7", "title": "カスタマーサクセス"},
        "to_status": to,
        "stage": "一次面接",
        "reason": "経験年数不足",
        "changed_at": changed_at,
    })
    .to_string()
}

#[tokio::test]
async fn a_rejection_from_another_channel_creates_the_application_and_queues_one_invitation() {
    let app = TestApp::spawn().await;
    let event = post(
        &app,
        "ats-1",
        &sample("ats-status-rejected-other-channel.json"),
    )
    .await;
    assert_eq!(event["status"], "done", "{event}");
    let actions = event["decision"]["actions"].as_array().unwrap();
    assert!(actions.iter().any(|a| a["type"] == "invite"), "{actions:?}");
    let application = by_ats_id(&app, "ats-790").await;
    assert_eq!(application["status"], "rejected");
    assert_eq!(
        application["candidate"]["email"],
        "ichiro.suzuki@example.org"
    );
    assert_eq!(application["history"].as_array().unwrap().len(), 1);
    assert!(application["job_id"].is_string(), "the ATS job is mirrored");
    // C2: the invitation waits for the next business morning (09:00 JST), so nothing is sent yet.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.smtp.mails().is_empty());

    // C8: the same rejection delivered again under a new id changes nothing and invites no one twice.
    let again = post(
        &app,
        "ats-1-again",
        &sample("ats-status-rejected-other-channel.json"),
    )
    .await;
    assert_eq!(again["status"], "done");
    assert!(
        again["decision"].is_null(),
        "a change that is not newer runs no script: {again}"
    );
    // Replaying the first event re-runs the script, but the invitation and the KPI stay one.
    let id = event["id"].as_str().unwrap();
    let (status, _) = app
        .post_json(&format!("/v1/events/{id}/replay"), &json!({}))
        .await;
    assert_eq!(status, 202);
    let replayed = app.wait_event(id).await;
    assert_eq!(replayed["decisions"].as_array().unwrap().len(), 2);
    let kpis = hirelay::store::Store::kpi_records(&app.state.store.db, "rejected")
        .await
        .unwrap();
    assert_eq!(kpis.len(), 1, "a replay counts a KPI once");
}

#[tokio::test]
async fn an_imported_application_is_found_by_its_source_and_gets_its_ats_id() {
    let b = crate::bizreach_support::Bizreach::spawn(0).await;
    b.sign_in().await;
    b.link("grp-001").await;
    crate::imports::import(&b.app, "imp-1", &sample("bizreach-direct-application.json")).await;
    let body = sample("ats-status-rejected.json").replace(
        "\"to_status\": \"rejected\"",
        "\"to_status\": \"interview\"",
    );
    let event = post(&b.app, "ats-src-1", &body).await;
    assert_eq!(event["status"], "done", "{event}");
    let application = by_ats_id(&b.app, "ats-789").await;
    assert_eq!(application["source_application_id"], "br-app-000123");
    assert_eq!(application["status"], "interview");
    assert_eq!(application["history"][0]["to_status"], "interview");
    assert_eq!(
        application["career_relay"],
        Value::Null,
        "not rejected, not invited"
    );
}

#[tokio::test]
async fn out_of_order_changes_are_recorded_but_change_nothing() {
    let app = TestApp::spawn().await;
    post(
        &app,
        "o-1",
        &change(
            "ats-1",
            "order@example.jp",
            "interview",
            "2026-11-21T18:00:00+09:00",
        ),
    )
    .await;
    let late = post(
        &app,
        "o-2",
        &change(
            "ats-1",
            "order@example.jp",
            "screening",
            "2026-11-21T17:00:00+09:00",
        ),
    )
    .await;
    assert_eq!(late["status"], "done");
    let application = by_ats_id(&app, "ats-1").await;
    assert_eq!(application["status"], "interview");
    let history = application["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    let applied: Vec<(String, bool)> = history
        .iter()
        .map(|h| {
            (
                h["to_status"].as_str().unwrap().to_owned(),
                h["applied"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        applied,
        [
            ("screening".to_owned(), false),
            ("interview".to_owned(), true)
        ]
    );
}

#[tokio::test]
async fn status_rhai_dry_run_works_on_the_contract_samples() {
    let app = TestApp::spawn().await;
    for file in [
        "ats-status-rejected.json",
        "ats-status-rejected-other-channel.json",
    ] {
        let payload: Value = serde_json::from_str(&sample(file)).unwrap();
        let (status, body) = app
            .post_json(
                "/v1/rules/status/dry-run",
                &json!({"event": payload, "context": {"status_applied": true}}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let types: Vec<&str> = body["actions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["type"].as_str().unwrap())
            .collect();
        assert!(
            types.contains(&"invite") && types.contains(&"kpi"),
            "{file}: {types:?}"
        );
    }
    // Nothing happened: no application, no event.
    let events = app.get_json("/v1/events").await;
    assert!(events["items"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn c2_c4_c8_invitation_link_is_tracked_and_opt_out_is_honoured() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    post(
        &app,
        "c2-1",
        &change(
            "ats-c2",
            "relay@example.jp",
            "rejected",
            "2026-11-21T18:00:00+09:00",
        ),
    )
    .await;
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, ["relay@example.jp"]);
    let unsubscribe = mail.header("List-Unsubscribe").expect("List-Unsubscribe");
    assert_eq!(
        mail.header("List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    // 特定電子メール法: the sender's name, postal address and contact, the refusal sentence and
    // the unsubscribe link, in both parts.
    for part in ["text/plain", "text/html"] {
        let body = mail.part(part).unwrap();
        for shown in [
            "株式会社テスト 採用担当",
            "〒100-0001 東京都千代田区千代田1-1",
            "recruit@example.jp",
            "配信停止リンクから今後の配信を停止できます",
            "/v1/unsubscribe/",
        ] {
            assert!(body.contains(shown), "{part} lacks {shown}:\n{body}");
        }
    }
    let token = tracking_token(mail);
    let relay = relay_token(mail);
    let find_invitation = || async {
        hirelay::store::Store::invitation_by_token(
            &app.state.store.db,
            hirelay::domain::invitation_tokens::TokenUse::Tracking,
            &token,
        )
        .await
        .unwrap()
        .unwrap()
    };
    let relay_status =
        || async { by_ats_id(&app, "ats-c2").await["career_relay"]["status"].clone() };
    assert_eq!(relay_status().await, "invited", "C4");

    // The tracking link records the click and redirects only to the registration site.
    let res = app
        .client
        .get(app.url(&format!("/r/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        location,
        format!("https://career-relay.test/register?token={relay}")
    );
    let res = app
        .client
        .get(app.url("/r/not-a-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert!(res.headers().get("location").is_none());
    let invitation = find_invitation().await;
    assert_eq!(invitation.clicks, 1);
    assert!(invitation.clicked_first_at.is_some());
    assert_eq!(relay_status().await, "clicked", "C4");

    // Each token is good for its own use only: the email's tracking token is no registration,
    // and neither it nor Career Relay's token opts anyone out.
    let with_token = |t: &str| {
        sample("career-relay-registration.json").replace("REPLACE_WITH_TOKEN_FROM_EMAIL", t)
    };
    let res = app
        .post_webhook("career-relay", "reg-tracking", &with_token(&token))
        .await;
    assert_eq!(res.status(), 422);
    for wrong in [&token, &relay] {
        let res = app
            .client
            .post(app.url(&format!("/v1/unsubscribe/{wrong}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    // The registration webhook with Career Relay's token is accepted and recorded.
    let registration = with_token(&relay);
    let event = post_career_relay(&app, "reg-1", &registration).await;
    assert_eq!(event["status"], "done");
    let invitation = find_invitation().await;
    assert!(invitation.registered_at.is_some());
    assert_eq!(relay_status().await, "registered", "C4: 紹介登録済");

    // RFC 8058 one-click opt-out; then a later rejection of the same person invites no one.
    assert_eq!(one_click_opt_out(&app, &unsubscribe).await, 200);
    post(
        &app,
        "c8-2",
        &change(
            "ats-c8-other",
            "relay@example.jp",
            "rejected",
            "2026-11-22T18:00:00+09:00",
        ),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        app.smtp.mails().len(),
        1,
        "an opted-out address is never invited again"
    );
}

/// Status changes claimed in one batch (their candidates upserted and their applications
/// looked up together) are each applied as if handled one after another: one that names an
/// application an import of the batch names, or a candidate an earlier change names, waits
/// for the next batch and then finds what the earlier event made (C8: one candidate per
/// email, whichever application brings them).
#[tokio::test]
async fn status_changes_claimed_together_are_each_applied_in_order() {
    use hirelay::domain::status::EventSource::{Ats, Bizreach};
    let logs = crate::helpers::log_capture();
    let interview = sample("ats-status-rejected.json").replace(
        "\"to_status\": \"rejected\"",
        "\"to_status\": \"interview\"",
    );
    let t = "2026-11-21T18:00:00+09:00";
    let kind = "application.status_changed";
    let (app, ids) = crate::helpers::queued_together(&[
        (
            Bizreach,
            "application.received",
            sample("bizreach-direct-application.json"),
        ),
        (Ats, kind, interview),
        (
            Ats,
            kind,
            change("ats-new-1", "new1@example.jp", "rejected", t),
        ),
        (
            Ats,
            kind,
            change("ats-new-2", "new2@example.jp", "interview", t),
        ),
        (
            Ats,
            kind,
            change("ats-new-3", "New1@Example.jp", "interview", t),
        ),
    ])
    .await;
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
        assert_eq!(event["attempts"], 1, "{event}");
    }
    let imported = by_ats_id(&app, "ats-789").await;
    assert_eq!(imported["source_application_id"], "br-app-000123");
    assert_eq!(imported["status"], "interview");
    let first = by_ats_id(&app, "ats-new-1").await;
    assert_eq!(first["status"], "rejected");
    assert_eq!(first["history"].as_array().unwrap().len(), 1);
    assert_eq!(by_ats_id(&app, "ats-new-2").await["status"], "interview");
    let third = by_ats_id(&app, "ats-new-3").await;
    assert_eq!(third["status"], "interview");
    assert_eq!(
        third["candidate"]["id"], first["candidate"]["id"],
        "one candidate per email"
    );
    let invited = hirelay::store::Store::invitation_for_application(
        &app.state.store.db,
        first["id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    assert!(invited.is_some(), "the rejection queued its invitation");
    // Each was handled in a batch, not again alone after its batch failed.
    each_handled_in_its_batch(&logs, &ids);
}

/// C2, C8: rejections claimed in one batch each get one invitation and one email (written
/// together when the batch ends), the invitation naming its email; a later rejection of an
/// invited application, in the next batch, gets neither.
#[tokio::test]
async fn c2_rejections_claimed_together_each_queue_one_invitation_and_its_email() {
    use hirelay::domain::status::EventSource::Ats;
    use hirelay::store::entities::mail_outbox;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let logs = crate::helpers::log_capture();
    let kind = "application.status_changed";
    let reject = |ats: &str, email: &str, at: &str| (Ats, kind, change(ats, email, "rejected", at));
    let (app, ids) = crate::helpers::queued_together(&[
        reject("ats-a", "a@example.jp", "2026-11-21T18:00:00+09:00"),
        reject("ats-b", "b@example.jp", "2026-11-21T18:00:00+09:00"),
        reject("ats-old", "old@example.jp", "2026-11-21T18:00:00+09:00"),
        // Names ats-old again: the batch stops before it, the next one starts with it.
        reject("ats-old", "old@example.jp", "2026-11-22T18:00:00+09:00"),
        reject("ats-c", "c@example.jp", "2026-11-21T18:00:00+09:00"),
    ])
    .await;
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
        assert_eq!(event["attempts"], 1, "{event}");
    }
    let db = &app.state.store.db;
    for (ats, email) in [
        ("ats-a", "a@example.jp"),
        ("ats-b", "b@example.jp"),
        ("ats-old", "old@example.jp"),
        ("ats-c", "c@example.jp"),
    ] {
        let application = by_ats_id(&app, ats).await;
        let application_id = application["id"].as_str().unwrap();
        let invitation = hirelay::store::Store::invitation_for_application(db, application_id)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{ats} has no invitation"));
        let mails = mail_outbox::Entity::find()
            .filter(mail_outbox::Column::DedupeKey.eq(format!("invite:{application_id}")))
            .all(db)
            .await
            .unwrap();
        assert_eq!(mails.len(), 1, "{ats}: one invitation email");
        assert_eq!(
            invitation.outbox_id.as_deref(),
            Some(mails[0].id.as_str()),
            "{ats}"
        );
        assert_eq!(mails[0].recipient, email);
        assert_eq!(mails[0].template, "career_relay_invitation");
    }
    let old = by_ats_id(&app, "ats-old").await;
    assert_eq!(old["history"].as_array().unwrap().len(), 2, "{old}");
    each_handled_in_its_batch(&logs, &ids);
}

/// Two events of one batch that turn out to concern one candidate (a status change that names
/// only its ATS id, and an import that updates the candidate) are handled one after another:
/// the status change, received first, sees the candidate as it was before the import.
#[tokio::test]
async fn a_candidate_two_events_of_a_batch_share_is_seen_in_their_order() {
    use hirelay::domain::status::EventSource::{Ats, Bizreach};
    let import = sample("bizreach-direct-application.json");
    let link = sample("ats-status-rejected.json").replace(
        "\"to_status\": \"rejected\"",
        "\"to_status\": \"interview\"",
    );
    let reject = json!({
        "type": "application.status_changed",
        "ats_application_id": "ats-789",
        "to_status": "rejected",
        "stage": "二次面接",
        "changed_at": "2026-11-22T10:00:00+09:00",
    })
    .to_string();
    let renamed = import
        .replace("br-app-000123", "br-app-000555")
        .replace("山田 太郎", "山田 太郎（更新）");
    // Another candidate, so that the batch upserts its candidates together.
    let other = import
        .replace("br-app-000123", "br-app-000777")
        .replace("Taro.Yamada@Example.jp", "other@example.jp");
    let kind = "application.status_changed";
    let (app, ids) = crate::helpers::queued_together_with_rules(
        &[("status.rhai", "log(candidate.name);\n")],
        &[
            (Bizreach, "application.received", import),
            (Ats, kind, link),
            (Ats, kind, reject),
            (Bizreach, "application.received", renamed),
            (Bizreach, "application.received", other),
        ],
    )
    .await;
    let mut events = Vec::new();
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
        events.push(event);
    }
    assert_eq!(
        events[2]["decision"]["log"],
        json!(["山田 太郎"]),
        "{}",
        events[2]
    );
    let candidate = &by_ats_id(&app, "ats-789").await["candidate"];
    assert_eq!(candidate["name"], "山田 太郎（更新）");
}

/// Rejects `n` candidates (stage 一次面接, on 2026-11-21) with invitations sent at once; answers
/// their invitation emails.
pub(crate) async fn rejected_and_invited(
    app: &TestApp,
    n: usize,
) -> Vec<crate::smtp::ReceivedMail> {
    invite_at_once(app).await;
    for i in 0..n {
        let email = format!("r{i}@example.jp");
        let body = change(
            &format!("ats-c1-{i}"),
            &email,
            "rejected",
            "2026-11-21T18:00:00+09:00",
        );
        assert_eq!(post(app, &format!("c1-{i}"), &body).await["status"], "done");
    }
    app.smtp.wait_for(n).await
}

/// Career Relay reports the registration of the candidate invited by `mail`.
pub(crate) async fn register(app: &TestApp, webhook_id: &str, mail: &crate::smtp::ReceivedMail) {
    let body = sample("career-relay-registration.json")
        .replace("REPLACE_WITH_TOKEN_FROM_EMAIL", &relay_token(mail));
    assert_eq!(
        post_career_relay(app, webhook_id, &body).await["status"],
        "done"
    );
}

/// C1, C6: rejected candidates who register earn slots at the configured ratio (each candidate
/// once, however often Career Relay reports it); each referral uses one, and is followed
/// through its hire. A viewer reads the ledger.
#[tokio::test]
async fn c1_c6_registrations_earn_slots_and_referrals_use_them() {
    use hirelay::domain::role::Role;
    let app = TestApp::spawn_with(&[("HIRELAY_CAREER_RELAY_RATIO", "2")]).await;
    let mails = rejected_and_invited(&app, 3).await;
    for (i, mail) in mails.iter().enumerate() {
        register(&app, &format!("reg-{i}"), mail).await;
    }
    // The first registration reported again (another delivery id) counts once.
    register(&app, "reg-again", &mails[0]).await;

    let viewer = app.token(Role::Viewer).await;
    let ledger = || async {
        let res = app
            .as_token(&viewer, reqwest::Method::GET, "/v1/career-relay/ledger")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()
    };
    let before = ledger().await;
    assert_eq!(
        (
            &before["registered"],
            &before["ratio"],
            &before["slots_earned"]
        ),
        (&json!(3), &json!(2), &json!(1))
    );
    assert_eq!(
        (&before["slots_used"], &before["slots_available"]),
        (&json!(0), &json!(1))
    );

    let referral = std::fs::read_to_string(
        crate::helpers::repo_root().join("examples/payloads/career-relay-referral.json"),
    )
    .unwrap();
    let hired = referral.replace("slot_used", "hired");
    for (id, body) in [("ref-1", &referral), ("ref-2", &hired), ("ref-3", &hired)] {
        assert_eq!(post_career_relay(&app, id, body).await["status"], "done");
    }
    let after = ledger().await;
    assert_eq!(
        (&after["slots_used"], &after["slots_available"]),
        (&json!(1), &json!(0))
    );
    assert_eq!((&after["hired"], &after["joined"]), (&json!(1), &json!(0)));

    let anonymous = app
        .client
        .get(app.url("/v1/career-relay/ledger"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// C5, C7, C8: the funnel follows the month's rejections through sent invitations, clicks and
/// registrations (split by selection stage), and the export has a row for each; a bad
/// parameter is a 400 naming it.
#[tokio::test]
async fn c5_c7_c8_the_funnel_follows_rejections_and_exports_them() {
    use hirelay::domain::role::Role;
    let app = TestApp::spawn_with(&[
        ("HIRELAY_CAREER_RELAY_RATIO", "2"),
        (
            "HIRELAY_CAREER_RELAY_TARGETS",
            "link_clicked=0.3,registered=0.9",
        ),
    ])
    .await;
    let mails = rejected_and_invited(&app, 3).await;
    let clicked = app
        .client
        .get(app.url(&format!("/r/{}", tracking_token(&mails[0]))))
        .send()
        .await
        .unwrap();
    assert_eq!(clicked.status(), 302);
    register(&app, "reg-0", &mails[0]).await;
    register(&app, "reg-1", &mails[1]).await;

    let viewer = app.token(Role::Viewer).await;
    let get = |path: String| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            app.as_token(&viewer, reqwest::Method::GET, &path)
                .send()
                .await
                .unwrap()
        }
    };
    let counts = |funnel: &Value| -> Vec<u64> {
        funnel["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["count"].as_u64().unwrap())
            .collect()
    };
    let november = "from=2026-11-01&to=2026-11-30";
    // From November to now: the invitations were sent when the test ran. The sender marks a
    // mail sent just after the SMTP server took it.
    let since_november = "from=2026-11-01";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let funnel = loop {
        let funnel: Value = get(format!("/v1/kpis/funnel?{since_november}"))
            .await
            .json()
            .await
            .unwrap();
        if funnel["steps"][1]["count"] == 3 || std::time::Instant::now() > deadline {
            break funnel;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    // The second registration implies its click (C5).
    assert_eq!(counts(&funnel), [3, 3, 2, 2, 1, 0, 0, 0, 0], "{funnel}");
    assert_eq!(funnel["steps"][2]["name"], "link_clicked");
    assert_eq!(funnel["steps"][3]["label"], "紹介登録済");
    assert_eq!(funnel["steps"][2]["rate_from_previous"], 0.6667);
    assert_eq!(funnel["steps"][2]["target_rate"], 0.3);
    assert_eq!(funnel["steps"][2]["on_target"], true);
    assert_eq!(
        funnel["steps"][3]["on_target"], true,
        "2 registered of 2 clicks"
    );
    assert!(funnel["steps"][1].get("target_rate").is_none());

    let by_stage: Value = get(format!("/v1/kpis/funnel?{since_november}&group_by=stage"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_stage["groups"][0]["key"], "一次面接", "{by_stage}");
    assert_eq!(counts(&by_stage["groups"][0]), [3, 3, 2, 2, 1]);
    let by_age: Value = get(format!(
        "/v1/kpis/funnel?{since_november}&group_by=attribute:age"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(by_age["group_by"], "attribute:age", "{by_age}");
    assert_eq!(by_age["groups"][0]["key"], "35", "C7: the candidates' age");
    assert_eq!(counts(&by_age["groups"][0]), [3, 3, 2, 2, 1]);
    let october: Value = get("/v1/kpis/funnel?from=2026-10-01&to=2026-10-31".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(counts(&october)[0], 0);

    let bad = get(format!("/v1/kpis/funnel?{november}&group_by=week")).await;
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "group_by", "{bad}");
    let bad: Value = get("/v1/kpis/funnel?from=yesterday".into())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bad["error"]["field"], "from", "{bad}");

    let export = get(format!("/v1/kpis/export.csv?{november}")).await;
    assert_eq!(export.status(), 200);
    assert!(export.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = export.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(rows[1..]
        .iter()
        .all(|r| r.contains(",2026-11-21T18:00:00+09:00,一次面接,経験年数不足,")));
    assert!(!csv.contains("@example.jp"), "no addresses in the export");
}

/// C2, 特定電子メール法, issue 19: without the sender's legal display the instance stays ready
/// with a notice naming what is missing, and an invitation is recorded and queued but held (not
/// sent, not failed); restarted with the settings, it is sent showing them.
#[tokio::test]
async fn c2_without_the_senders_legal_display_invitations_are_held_until_a_restart_with_it() {
    let app =
        TestApp::spawn_with(&[("HIRELAY_SENDER_NAME", ""), ("HIRELAY_SENDER_CONTACT", "")]).await;
    invite_at_once(&app).await;
    let ready = app.get_json("/readyz").await;
    assert_eq!(ready["status"], "ready", "{ready}");
    let notice = ready["checks"]["invitations"].as_str().unwrap();
    assert!(notice.contains("invitations not ready"), "{ready}");
    assert!(
        notice.contains("HIRELAY_SENDER_NAME, HIRELAY_SENDER_CONTACT"),
        "{ready}"
    );
    let event = post(
        &app,
        "c2-legal",
        &change(
            "ats-legal",
            "legal@example.jp",
            "rejected",
            "2026-11-21T18:00:00+09:00",
        ),
    )
    .await;
    assert_eq!(event["status"], "done", "{event}");
    let held = app.get_json("/v1/invitations?status=scheduled").await;
    assert_eq!(held["items"].as_array().unwrap().len(), 1, "{held}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert!(app.smtp.mails().is_empty());
    let outbox = app.get_json("/v1/outbox?status=scheduled").await;
    assert_eq!(outbox["items"].as_array().unwrap().len(), 1, "{outbox}");

    let (dir, database_url) = app.stop().await;
    let app = TestApp::spawn_in(dir, database_url, &[]).await;
    let ready = app.get_json("/readyz").await;
    assert!(ready["checks"]["invitations"].is_null(), "{ready}");
    let mail = app.smtp.wait_for(1).await.remove(0);
    let text = mail.part("text/plain").unwrap();
    assert!(text.contains("送信者: 株式会社テスト 採用担当"), "{text}");
    assert!(
        text.contains("お問い合わせ・配信停止のご連絡: recruit@example.jp"),
        "{text}"
    );
    assert!(!text.contains("未設定"), "{text}");
}

/// C8: one person, one invitation. Rejected from three positions (in one batch, and again in
/// later events) a candidate gets one invitation and one email; once registered they are never
/// invited again; scripts see both in `ctx`.
#[tokio::test]
async fn c8_a_candidate_rejected_from_three_positions_gets_one_invitation() {
    use hirelay::domain::status::EventSource::Ats;
    let kind = "application.status_changed";
    let reject = |ats: &str| {
        (
            Ats,
            kind,
            change(
                ats,
                "Same@Example.jp",
                "rejected",
                "2026-11-21T18:00:00+09:00",
            ),
        )
    };
    let now_script = std::fs::read_to_string(crate::helpers::repo_root().join("rules/status.rhai"))
        .unwrap()
        .replace("invite_at(next_business_morning(now));", "invite();")
        .replace(
            "let applied = ctx.status_applied == true;",
            "let applied = ctx.status_applied == true;\nlog(`seen: ${ctx.candidate_invited_at != ()} ${ctx.candidate_registered}`);",
        );
    let (app, ids) = crate::helpers::queued_together_with_rules(
        &[("status.rhai", &now_script)],
        &[reject("ats-p1"), reject("ats-p2"), reject("ats-p3")],
    )
    .await;
    let mut batch = Vec::new();
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done");
        batch.push(event["decision"].clone());
    }
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1, "the batch decided {batch:?}");
    // A fourth position, in an event of its own, the same morning.
    let fourth = post(
        &app,
        "c8-p4",
        &change(
            "ats-p4",
            "same@example.jp",
            "rejected",
            "2026-11-21T19:00:00+09:00",
        ),
    )
    .await;
    assert_eq!(fourth["status"], "done");
    let log = fourth["decision"]["log"].to_string();
    assert!(log.contains("seen: true false"), "{fourth}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp.mails().len(), 1, "one email for four rejections");
    assert_eq!(mails[0].to, ["same@example.jp"]);
    let invitations: Vec<_> = invitations_of(&app, &["ats-p1", "ats-p2", "ats-p3", "ats-p4"]).await;
    assert_eq!(invitations.iter().filter(|i| i.is_some()).count(), 1);

    // Registered: never invited again (the cooldown ending changes nothing: domain::invitation_policy).
    register(&app, "reg-same", &mails[0]).await;
    let later = post(
        &app,
        "c8-p5",
        &change(
            "ats-p5",
            "same@example.jp",
            "rejected",
            "2026-11-22T18:00:00+09:00",
        ),
    )
    .await;
    assert!(
        later["decision"]["log"]
            .to_string()
            .contains("seen: true true"),
        "{later}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp.mails().len(), 1);
}

/// The invitation of each application named by its ATS id, if any.
async fn invitations_of(
    app: &TestApp,
    ats_ids: &[&str],
) -> Vec<Option<hirelay::store::entities::invitation::Model>> {
    let mut found = Vec::new();
    for ats in ats_ids {
        let application = by_ats_id(app, ats).await;
        found.push(
            hirelay::store::Store::invitation_for_application(
                &app.state.store.db,
                application["id"].as_str().unwrap(),
            )
            .await
            .unwrap(),
        );
    }
    found
}

/// C4: the ATS learns the candidate-side statuses: a subscriber to the Career Relay event types
/// receives `career_relay.invited`, `.clicked` (once, however often the link is followed),
/// `.registered` and, the registration completing a slot, `.slot_earned`, each naming the
/// application by its ATS id.
#[tokio::test]
async fn c4_subscribers_learn_invited_clicked_registered_and_slot_earned() {
    use crate::outbound::{subscribe, Subscriber};
    let app = TestApp::spawn_with(&[("HIRELAY_CAREER_RELAY_RATIO", "1")]).await;
    let subscriber = Subscriber::start(0).await;
    let types = [
        "career_relay.invited",
        "career_relay.clicked",
        "career_relay.registered",
        "career_relay.slot_earned",
    ];
    subscribe(&app, &subscriber.url, &types).await;
    invite_at_once(&app).await;
    post(
        &app,
        "c4-out",
        &change(
            "ats-c4",
            "c4@example.jp",
            "rejected",
            "2026-11-21T18:00:00+09:00",
        ),
    )
    .await;
    let mail = app.smtp.wait_for(1).await.remove(0);
    for _ in 0..2 {
        let res = app
            .client
            .get(app.url(&format!("/r/{}", tracking_token(&mail))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 302);
    }
    register(&app, "reg-c4", &mail).await;
    let received = subscriber.wait_for(4, 20).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let bodies: Vec<Value> = subscriber
        .received()
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(bodies.len(), 4, "{bodies:?} ({} first)", received.len());
    let mut seen: Vec<&str> = bodies.iter().map(|b| b["type"].as_str().unwrap()).collect();
    seen.sort();
    let mut want = types.to_vec();
    want.sort();
    assert_eq!(seen, want);
    for body in &bodies {
        assert_eq!(body["ats_application_id"], "ats-c4", "{body}");
        assert!(body["invitation_id"].as_str().unwrap().starts_with("inv_"));
    }
    let slot = bodies
        .iter()
        .find(|b| b["type"] == "career_relay.slot_earned")
        .unwrap();
    assert_eq!(
        (slot["slot"].as_u64(), slot["registered"].as_u64()),
        (Some(1), Some(1))
    );
}

/// C8, issue 13: an invitation is checked again when it is sent. Scheduled ahead, it is
/// cancelled with the reason when the address opts out meanwhile or the ATS takes the rejection
/// back; a marketer lists the outbox with addresses by domain and cancels a scheduled mail.
#[tokio::test]
async fn c8_a_scheduled_invitation_is_cancelled_when_it_is_no_longer_wanted() {
    use hirelay::domain::role::Role;
    let app = TestApp::spawn().await;
    let marketer = app.token(Role::Marketer).await;
    let send_at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    app.activate_rule(
        "status",
        &format!("if event.to_status == \"rejected\" {{ invite_at(\"{send_at}\"); }}"),
    )
    .await;
    for (ats, email) in [
        ("ats-opt", "opt@example.jp"),
        ("ats-back", "back@example.jp"),
        ("ats-cxl", "cxl@example.jp"),
    ] {
        let rejected = change(ats, email, "rejected", "2026-11-21T18:00:00+09:00");
        post(&app, &format!("c8-{ats}"), &rejected).await;
    }
    let outbox = app
        .as_token(
            &marketer,
            reqwest::Method::GET,
            "/v1/outbox?status=scheduled&kind=career_relay_invitation",
        )
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let items = outbox["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{outbox}");
    assert!(
        items
            .iter()
            .all(|m| m["recipient"].as_str().unwrap().starts_with("***@")),
        "{outbox}"
    );
    let invitation_of = |ats: &'static str| {
        let app = &app;
        async move {
            let application = by_ats_id(app, ats).await;
            hirelay::store::Store::invitation_for_application(
                &app.state.store.db,
                application["id"].as_str().unwrap(),
            )
            .await
            .unwrap()
            .unwrap()
        }
    };
    // 1. The address opts out meanwhile (by mail to the company, recorded by an admin).
    let (status, body) = app
        .post_json(
            "/v1/opt-outs",
            &json!({"email": "opt@example.jp", "kind": "career_relay_invitation"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    // 2. The ATS takes the rejection back.
    let back = change(
        "ats-back",
        "back@example.jp",
        "interview",
        "2026-11-22T18:00:00+09:00",
    );
    post(&app, "c8-back-2", &back).await;
    // 3. A marketer cancels the third; once only.
    let cxl = invitation_of("ats-cxl").await.outbox_id.unwrap();
    for expected in [200, 409] {
        let res = app
            .as_token(
                &marketer,
                reqwest::Method::POST,
                &format!("/v1/outbox/{cxl}/cancel"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), expected);
    }

    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    assert!(app.smtp.mails().is_empty(), "nothing is sent");
    let cancelled = app.get_json("/v1/outbox?status=cancelled").await;
    let reasons: Vec<&str> = cancelled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["cancel_reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 3, "{cancelled}");
    for expected in [
        "opted out",
        "no longer rejected (now `interview`)",
        "cancelled by",
    ] {
        assert!(reasons.iter().any(|r| r.contains(expected)), "{reasons:?}");
    }
    // An admin sees addresses in full.
    assert!(!cancelled["items"][0]["recipient"]
        .as_str()
        .unwrap()
        .starts_with("***"));
}

/// Issue 13: a scheduled invitation is rendered when it is sent, so a marketer's fix to the
/// template reaches mails already scheduled.
#[tokio::test]
async fn c2_a_template_fix_reaches_invitations_already_scheduled() {
    let app = TestApp::spawn().await;
    let send_at = (chrono::Utc::now() + chrono::Duration::seconds(3)).to_rfc3339();
    app.activate_rule(
        "status",
        &format!("if event.to_status == \"rejected\" {{ invite_at(\"{send_at}\"); }}"),
    )
    .await;
    let rejected = change(
        "ats-fix",
        "fix@example.jp",
        "rejected",
        "2026-11-21T18:00:00+09:00",
    );
    post(&app, "c2-fix", &rejected).await;
    let current = app.get_json("/v1/templates/career_relay_invitation").await;
    let res = app
        .admin(
            reqwest::Method::PUT,
            "/v1/templates/career_relay_invitation",
        )
        .json(&json!({
            "subject": "【訂正版】キャリアリレーのご案内",
            "html": current["html"],
            "text": current["text"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(
        mails[0].decoded_header("Subject").unwrap(),
        "【訂正版】キャリアリレーのご案内"
    );
}

/// C2, C8 (特定電子メール法): each invitation records the basis it is sent on, the address it
/// goes to and the template version; `GET /v1/invitations` shows them, and an opt-out is
/// recorded with its channel.
#[tokio::test]
async fn c2_c8_each_invitation_records_its_basis_address_and_template_version() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    let rejected = change(
        "ats-basis",
        "Basis@Example.jp",
        "rejected",
        "2026-11-21T18:00:00+09:00",
    );
    post(&app, "c2-basis", &rejected).await;
    let mail = app.smtp.wait_for(1).await.remove(0);
    let mut sent = Value::Null;
    for _ in 0..100 {
        sent = app.get_json("/v1/invitations?status=sent").await;
        if sent["items"].as_array().is_some_and(|i| !i.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let invitation = &sent["items"][0];
    assert_eq!(invitation["recipient"], "basis@example.jp", "{sent}");
    assert_eq!(invitation["basis"], "exemption:business_relationship");
    assert!(invitation["basis_description"]
        .as_str()
        .unwrap()
        .contains("Art. 3(1)(iii)"));
    assert_eq!(invitation["template_version"], 1);
    assert!(invitation["sent_at"].is_string(), "{invitation}");
    let none = app.get_json("/v1/invitations?status=registered").await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let res = app
        .admin(reqwest::Method::GET, "/v1/invitations?since=yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // One-click opt-out, recorded with its channel.
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    assert_eq!(one_click_opt_out(&app, &unsubscribe).await, 200);
    let log = app.get_json("/v1/audit-log?limit=5").await;
    let opt_out = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "candidate.opt_out")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(opt_out["detail"]["channel"], "one_click", "{opt_out}");
    assert_eq!(opt_out["detail"]["kind"], "career_relay_invitation");
}
