//! Opt-outs per kind of mail and consent records (C8, 特定電子メール法): kept under a keyed hash
//! of the normalised address, recorded by the email's link or an admin, never blocking
//! transactional mail, surviving the candidate's erasure; consent shows as the invitation's
//! basis with when and how.
use reqwest::Method;
use serde_json::{json, Value};

use crate::ats::{change, invite_at_once, one_click_opt_out};
use crate::bizreach_support::Bizreach;
use crate::helpers::TestApp;

const INVITATION: &str = "career_relay_invitation";

async fn opt_out(app: &TestApp, email: &str, kind: &str) -> (u16, Value) {
    app.post_json("/v1/opt-outs", &json!({"email": email, "kind": kind}))
        .await
}

async fn reject(app: &TestApp, webhook_id: &str, ats_id: &str, email: &str) -> Value {
    let event = app
        .deliver(
            "ats",
            webhook_id,
            &change(ats_id, email, "rejected", "2026-11-21T18:00:00+09:00"),
        )
        .await;
    assert_eq!(event["status"], "done", "{event}");
    event
}

async fn invitations(app: &TestApp) -> Vec<Value> {
    app.get_json("/v1/invitations").await["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn invited(event: &Value) -> bool {
    event["decision"]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a["type"] == "invite")
}

/// C8: an opt-out of invitations is of invitations only: the group administrator who refused
/// them still gets the link approval email (L4), the subscriber who refused them still gets
/// the notice of a new application (I5); and transactional mail cannot be opted out of.
#[tokio::test]
async fn c8_an_invitation_opt_out_never_blocks_a_link_approval_or_a_notice() {
    let b = Bizreach::spawn(0).await;
    b.sign_in().await;
    let group_admin = b.group("grp-001").await["admin_email"]
        .as_str()
        .unwrap()
        .to_owned();
    for address in [group_admin.as_str(), "hr.lead@example.jp"] {
        assert_eq!(opt_out(&b.app, address, INVITATION).await.0, 201);
    }
    for transactional in ["group_link_approval", "bizreach_application_notice"] {
        let (status, body) = opt_out(&b.app, &group_admin, transactional).await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(body["error"]["field"], "kind", "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("transactional"));
    }
    // L4: the approval email reaches the administrator (`link` asserts it arrived and works).
    b.link("grp-001").await;
    // I5: the notice reaches the subscriber.
    let res = b
        .app
        .admin(Method::PUT, "/v1/notifications/subscriptions")
        .json(&json!({"bizreach_application": true, "email": "hr.lead@example.jp"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let before = b.app.smtp.mails().len();
    crate::imports::import(
        &b.app,
        "c8-notice",
        &crate::helpers::sample("bizreach-direct-application.json"),
    )
    .await;
    let mails = b.app.smtp.wait_for(before + 1).await;
    assert!(
        mails
            .iter()
            .any(|m| m.to.contains(&"hr.lead@example.jp".to_owned())),
        "the notice reached the subscriber who refused invitations"
    );
}

/// C8: an admin records a refusal that came by mail or phone (channel `admin`, audited with
/// who did it); the address is then never invited, looked up in any case or spacing; the
/// admin withdraws it only when the person asks, and the next rejection invites again.
#[tokio::test]
async fn c8_an_admin_opt_out_is_recorded_with_its_channel_and_blocks_the_next_invitation() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    let (status, recorded) = opt_out(&app, "  Phone.Call@Example.JP ", INVITATION).await;
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["channel"], "admin");
    assert!(recorded["recorded_by"]
        .as_str()
        .unwrap()
        .contains("tok_bootstrap"));
    // The first opt-out is the record: again changes nothing.
    let (status, again) = opt_out(&app, "phone.call@example.jp", INVITATION).await;
    assert_eq!(status, 200);
    assert_eq!(again["opted_out_at"], recorded["opted_out_at"]);
    let found = app
        .get_json("/v1/opt-outs?email=PHONE.CALL%40example.jp")
        .await;
    assert_eq!(found["email"], "phone.call@example.jp");
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["kind"], INVITATION);
    assert_eq!(found["items"][0]["channel"], "admin");
    let nobody = app.get_json("/v1/opt-outs?email=other%40example.jp").await;
    assert!(nobody["items"].as_array().unwrap().is_empty());
    let res = app
        .admin(Method::GET, "/v1/opt-outs?email=not-an-address")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let log = app.get_json("/v1/audit-log?limit=5").await;
    let entry = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "opt_out.record")
        .unwrap_or_else(|| panic!("{log}"));
    assert_eq!(entry["detail"]["channel"], "admin");
    assert!(
        !entry.to_string().contains("phone.call"),
        "the audit log keeps the hash, not the address: {entry}"
    );

    // The next rejection: the script sees ctx.opted_out, nothing is planned or sent.
    let event = reject(&app, "c8-admin-1", "ats-admin-1", "phone.call@example.jp").await;
    assert!(!invited(&event), "{event}");
    let application = app
        .get_json("/v1/applications?ats_application_id=ats-admin-1")
        .await;
    let candidate = &application["items"][0]["candidate"];
    assert_eq!(candidate["opted_out"], true, "{candidate}");
    assert_eq!(candidate["opt_outs"][0]["channel"], "admin");
    assert!(invitations(&app).await.is_empty());

    // Withdrawn at the person's request: audited, and the next rejection invites.
    let withdraw = |kind: &'static str| {
        app.admin(
            Method::DELETE,
            &format!("/v1/opt-outs?email=phone.call%40example.jp&kind={kind}"),
        )
        .send()
    };
    assert_eq!(withdraw(INVITATION).await.unwrap().status(), 200);
    assert_eq!(withdraw(INVITATION).await.unwrap().status(), 404);
    let event = reject(&app, "c8-admin-2", "ats-admin-2", "phone.call@example.jp").await;
    assert!(invited(&event), "{event}");
    app.smtp.wait_for(1).await;
    assert_eq!(invitations(&app).await.len(), 1);
}

/// C8, issue 16: an opt-out is kept under the address's hash, not on the candidate: with the
/// candidate erased (`DELETE /v1/candidates/{id}`), the same address (in another case and spacing) rejected again gets
/// no invitation, even from a script that does not look at `ctx.opted_out`.
#[tokio::test]
async fn c8_an_opt_out_survives_the_erasure_of_the_candidate() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    app.activate_rule("status", "if event.to_status == \"rejected\" { invite(); }")
        .await;
    reject(&app, "c8-erase-1", "ats-erase-1", "erased@example.jp").await;
    let mail = app.smtp.wait_for(1).await.remove(0);
    let unsubscribe = mail.header("List-Unsubscribe").unwrap();
    assert_eq!(one_click_opt_out(&app, &unsubscribe).await, 200);
    let kept = app.get_json("/v1/opt-outs?email=erased%40example.jp").await;
    assert_eq!(kept["items"][0]["channel"], "one_click", "{kept}");

    // Erase the candidate (issue 16): every copy of their values goes, the opt-out stays.
    let application = app
        .get_json("/v1/applications?ats_application_id=ats-erase-1")
        .await;
    let cand_id = application["items"][0]["candidate"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.erase_candidate(&cand_id).await;
    let kept = app.get_json("/v1/opt-outs?email=erased%40example.jp").await;
    assert_eq!(kept["items"][0]["channel"], "one_click", "{kept}");
    let db = &app.state.store.db;
    let left = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM opt_outs WHERE address_hash LIKE '%erased%'".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        left.try_get::<i64>("", "n").unwrap(),
        0,
        "no address in clear"
    );

    let event = reject(&app, "c8-erase-2", "ats-erase-2", "  Erased@EXAMPLE.jp ").await;
    assert!(invited(&event), "the script asked to invite: {event}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.smtp.mails().len(), 1, "no second invitation");
    assert_eq!(
        invitations(&app).await.len(),
        1,
        "only the erased person's tombstone, counted by the funnel"
    );
}

/// C8, 特定電子メール法 Art. 3(1)(i): consent the ATS sends with the candidate (when and how) is
/// recorded under the address and becomes the invitation's basis, shown by
/// `GET /v1/invitations`, `GET /v1/applications/{id}` and `GET /v1/consents`; without it the
/// basis is the applicants' exemption.
#[tokio::test]
async fn c8_consent_given_with_when_and_how_is_the_invitations_basis() {
    let app = TestApp::spawn().await;
    invite_at_once(&app).await;
    let mut with_consent: Value = serde_json::from_str(&change(
        "ats-consent",
        "agreed@example.jp",
        "rejected",
        "2026-11-21T18:00:00+09:00",
    ))
    .unwrap();
    with_consent["candidate"]["marketing_consent"] =
        json!({"given_at": "2026-10-01T12:00:00+09:00", "method": "説明会の申込フォームで同意"});
    let event = app
        .deliver("ats", "c8-consent", &with_consent.to_string())
        .await;
    assert_eq!(event["status"], "done", "{event}");
    reject(&app, "c8-exempt", "ats-exempt", "plain@example.jp").await;
    app.smtp.wait_for(2).await;

    let listed = invitations(&app).await;
    let of = |address: &str| {
        listed
            .iter()
            .find(|i| i["recipient"] == address)
            .unwrap_or_else(|| panic!("{listed:?}"))
            .clone()
    };
    let consented = of("agreed@example.jp");
    assert_eq!(consented["basis"], "consent", "{consented}");
    assert_eq!(consented["consent_given_at"], "2026-10-01T03:00:00.000Z");
    assert_eq!(consented["consent_method"], "説明会の申込フォームで同意");
    assert!(consented["basis_description"]
        .as_str()
        .unwrap()
        .contains("Art. 3(1)(i)"));
    let exempt = of("plain@example.jp");
    assert_eq!(exempt["basis"], "exemption:business_relationship");
    assert!(exempt["consent_given_at"].is_null());

    let found = app
        .get_json("/v1/applications?ats_application_id=ats-consent")
        .await;
    let id = found["items"][0]["id"].as_str().unwrap().to_owned();
    let application = app.get_json(&format!("/v1/applications/{id}")).await;
    let basis = &application["career_relay"]["basis"];
    assert_eq!(basis["type"], "consent", "{application}");
    assert_eq!(basis["given_at"], "2026-10-01T03:00:00.000Z");
    assert_eq!(basis["method"], "説明会の申込フォームで同意");

    let consents = app.get_json("/v1/consents?email=Agreed%40example.jp").await;
    assert_eq!(consents["items"][0]["kind"], INVITATION, "{consents}");
    assert!(consents["items"][0]["recorded_by"]
        .as_str()
        .unwrap()
        .contains("webhook"));

    // An admin records consent given on paper; a bad one is a 4xx naming the field.
    let (status, body) = app
        .post_json(
            "/v1/consents",
            &json!({"email": "paper@example.jp", "kind": INVITATION,
                    "given_at": "2026-09-01T10:00:00+09:00", "method": "書面で同意"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    for (bad, field, expected) in [
        (json!({"given_at": "yesterday"}), "given_at", 400),
        (
            json!({"given_at": "2999-01-01T00:00:00+09:00"}),
            "given_at",
            422,
        ),
        (json!({"method": " "}), "method", 400),
        (json!({"kind": "group_link_approval"}), "kind", 422),
    ] {
        let mut request = json!({"email": "paper@example.jp", "kind": INVITATION,
            "given_at": "2026-09-01T10:00:00+09:00", "method": "書面で同意"});
        for (k, v) in bad.as_object().unwrap() {
            request[k] = v.clone();
        }
        let (status, body) = app.post_json("/v1/consents", &request).await;
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    // The webhook's consent is checked like any field.
    with_consent["candidate"]["marketing_consent"]["method"] = json!("");
    let res = app
        .post_webhook("ats", "c8-bad-consent", &with_consent.to_string())
        .await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["field"], "candidate.marketing_consent.method",
        "{body}"
    );
}

/// m0013: an opt-out kept on a candidate before it is moved into the opt-out table at
/// start-up (with `legacy` as its channel when none was audited) and honoured; the migration
/// goes down on an empty table and refuses while it holds opt-outs.
#[tokio::test]
async fn c8_m0013_keeps_earlier_opt_outs_and_goes_down_only_when_empty() {
    use migrations::{Migrator, MigratorTrait};
    use sea_orm::ConnectionTrait;
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_database(dir.path()).await;
    let store = hirelay::store::Store::connect(&url, 2, 1).await.unwrap();
    store.migrate().await.unwrap();
    let db = &store.db;
    crate::helpers::migrate_down_through(db, "m0013_opt_outs_and_consent").await;
    db.execute_unprepared(
        "INSERT INTO candidates (id, email, name, attributes, opted_out_at, created_at, updated_at) \
         VALUES ('cand_before', 'before@example.jp', '前田', '{}', 1700000000000, 0, 0)",
    )
    .await
    .unwrap();
    Migrator::up(db, None).await.unwrap();
    store.db.clone().close().await.unwrap();

    let app = TestApp::spawn_in(dir, url, &[]).await;
    let kept = app.get_json("/v1/opt-outs?email=before%40example.jp").await;
    assert_eq!(kept["items"][0]["channel"], "legacy", "{kept}");
    assert_eq!(kept["items"][0]["opted_out_at"], "2023-11-14T22:13:20.000Z");
    invite_at_once(&app).await;
    let event = reject(&app, "m0013-1", "ats-before", "before@example.jp").await;
    assert!(!invited(&event), "{event}");

    let db = &app.state.store.db;
    // The migrations after m0013 go first, then m0013 itself refuses while it holds a refusal.
    crate::helpers::migrate_down_through(db, "m0014_decision_context").await;
    let refused = Migrator::down(db, Some(1)).await.unwrap_err();
    assert!(refused.to_string().contains("opt_outs"), "{refused}");
    db.execute_unprepared("DELETE FROM opt_outs").await.unwrap();
    Migrator::down(db, Some(1)).await.unwrap();
    assert!(db
        .execute_unprepared("SELECT 1 FROM opt_outs")
        .await
        .is_err());
    Migrator::up(db, None).await.unwrap();
}

/// C8 in a batch: rejections handled together read their addresses' opt-outs with the batch
/// (the opted-out one, kept on its candidate before m0013, is moved at start-up and honoured),
/// and the others are invited.
#[tokio::test]
async fn c8_rejections_handled_together_honour_each_addresss_opt_out() {
    use hirelay::domain::status::EventSource::Ats;
    let kind = "application.status_changed";
    let reject = |ats: &str, email: &str| {
        (
            Ats,
            kind,
            change(ats, email, "rejected", "2026-11-21T18:00:00+09:00"),
        )
    };
    let (app, ids) = crate::helpers::queued_together_with(
        &[(
            "status.rhai",
            "if event.to_status == \"rejected\" && !ctx.opted_out { invite(); }",
        )],
        &["INSERT INTO candidates (id, email, name, attributes, opted_out_at, created_at, updated_at) \
           VALUES ('cand_refused', 'refused@example.jp', '拒否', '{}', 1, 0, 0)"],
        &[
            reject("ats-batch-1", "first@example.jp"),
            reject("ats-batch-2", "Refused@Example.jp"),
            reject("ats-batch-3", "third@example.jp"),
        ],
    )
    .await;
    for id in &ids {
        let event = app.wait_event(id).await;
        assert_eq!(event["status"], "done", "{event}");
    }
    app.smtp.wait_for(2).await;
    let mut invited: Vec<String> = invitations(&app)
        .await
        .iter()
        .map(|i| i["recipient"].as_str().unwrap().to_owned())
        .collect();
    invited.sort();
    assert_eq!(invited, ["first@example.jp", "third@example.jp"]);
}
