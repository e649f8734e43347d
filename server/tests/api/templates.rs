//! Email templates through HTTP: preview, checked edits with versions and rollback, test-send
//! to the real SMTP server (headers, both parts, List-Unsubscribe), retries, the `.eml` file
//! transport, roles and escaping; and the outbox's once-per-dedupe-key guarantee.
use crate::helpers::TestApp;
use hirelay::domain::email::Email;
use hirelay::domain::names::TemplateName;
use hirelay::domain::role::Role;
use hirelay::mail::{EnqueueOutcome, OutgoingMail};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// The outbox row once it reached `status` (the SMTP server sees the mail a moment before the
/// row is marked).
async fn mail_row(
    app: &TestApp,
    id: &str,
    status: &str,
) -> hirelay::store::entities::mail_outbox::Model {
    for _ in 0..200 {
        let row = app.state.store.get_mail(id).await.unwrap();
        if row.status == status {
            return row;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("mail {id} did not reach {status}");
}

async fn put_template(app: &TestApp, name: &str, body: &Value) -> (u16, Value) {
    let res = app
        .admin(Method::PUT, &format!("/v1/templates/{name}"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

#[tokio::test]
async fn shipped_templates_are_listed_with_their_versions() {
    let app = TestApp::spawn().await;
    let list = app.get_json("/v1/templates").await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec![
            "bizreach_application_notice",
            "career_relay_invitation",
            "career_relay_monthly_report",
            "group_link_approval",
            "user_invitation"
        ]
    );
    let t = app.get_json("/v1/templates/group_link_approval").await;
    assert_eq!(t["version"], 1);
    assert_eq!(t["author"], "file");
    assert_eq!(t["meta"]["purpose"], "transactional");
    assert!(t["sample"]["company_name"].is_string());
    let res = app
        .admin(Method::GET, "/v1/templates/no_such_template")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn l4_preview_fills_from_the_sample_and_warns_on_an_unknown_variable() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/templates/group_link_approval/preview",
            &json!({"data": {"company_name": "株式会社テスト", "user_nme": "typo"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["subject"],
        "ビズリーチグループ連携案内 - 株式会社テスト 山田 太郎 様より"
    );
    let html = body["html"].as_str().unwrap();
    assert!(html.contains("有効にする"), "{html}");
    assert!(html.contains("2026年11月26日(木) 18:00"), "{html}");
    assert!(body["text"]
        .as_str()
        .unwrap()
        .contains("東京本社 採用グループ"));
    let warnings = body["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("user_nme")),
        "{warnings:?}"
    );
}

#[tokio::test]
async fn a_template_that_does_not_compile_is_refused_with_its_position_and_the_old_version_stays() {
    let app = TestApp::spawn().await;
    let (status, body) = put_template(
        &app,
        "group_link_approval",
        &json!({"subject": "件名 {{company_name}}", "html": "<p>\n  {{#if company_name}}\n</p>", "text": "x"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "template_invalid");
    let details = &body["error"]["details"];
    assert_eq!(details["template"], "group_link_approval");
    assert_eq!(details["part"], "html");
    assert!(details["line"].as_u64().unwrap() >= 2, "{details}");
    assert!(details["column"].as_u64().is_some(), "{details}");
    let t = app.get_json("/v1/templates/group_link_approval").await;
    assert_eq!(t["version"], 1);
    assert!(t["subject"]
        .as_str()
        .unwrap()
        .starts_with("ビズリーチグループ連携案内"));
}

#[tokio::test]
async fn a_variable_missing_from_the_sample_is_refused() {
    let app = TestApp::spawn().await;
    let (status, body) = put_template(
        &app,
        "group_link_approval",
        &json!({"subject": "{{company_name}}", "html": "<p>{{company_name}}</p>\n<p>{{grop_name}}</p>", "text": "{{company_name}}"}),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"]["line"], 2);
    assert_eq!(body["error"]["details"]["column"], 4);
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("grop_name"));
    // Giving the variable in the sample makes it acceptable.
    let (status, body) = put_template(
        &app,
        "group_link_approval",
        &json!({"subject": "{{company_name}}", "html": "<p>{{grop_name}}</p>", "text": "t",
                "sample": {"company_name": "A", "grop_name": "B"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn versions_are_kept_and_a_rollback_restores_an_earlier_one() {
    let app = TestApp::spawn().await;
    let original = app
        .get_json("/v1/templates/bizreach_application_notice")
        .await;
    let (status, saved) = put_template(
        &app,
        "bizreach_application_notice",
        &json!({"subject": "新着: {{candidate_name}}", "html": "<p>{{candidate_name}}</p>", "text": "{{candidate_name}}"}),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["version"], 2);
    assert!(saved["author"].as_str().unwrap().contains("bootstrap"));
    assert_eq!(
        saved["sample"], original["sample"],
        "sample kept when omitted"
    );
    let (_, preview) = app
        .post_json(
            "/v1/templates/bizreach_application_notice/preview",
            &json!({}),
        )
        .await;
    assert_eq!(preview["subject"], "新着: 佐藤 花子");

    let versions = app
        .get_json("/v1/templates/bizreach_application_notice/versions")
        .await;
    let numbers: Vec<i64> = versions["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, vec![1, 2]);

    let (status, rolled) = app
        .post_json(
            "/v1/templates/bizreach_application_notice/rollback",
            &json!({"version": 1}),
        )
        .await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled["version"], 3);
    assert_eq!(rolled["subject"], original["subject"]);
    let (_, preview) = app
        .post_json(
            "/v1/templates/bizreach_application_notice/preview",
            &json!({}),
        )
        .await;
    assert!(preview["subject"]
        .as_str()
        .unwrap()
        .starts_with("【ビズリーチ】新しい応募がありました"));
    let (status, _) = app
        .post_json(
            "/v1/templates/bizreach_application_notice/rollback",
            &json!({"version": 99}),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn l4_test_send_arrives_with_subject_message_id_and_both_parts() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/templates/group_link_approval/test-send",
            &json!({"to": "Admin@Example.jp", "data": {"user_name": "鈴木 一郎"}}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let outbox_id = body["outbox_id"].as_str().unwrap().to_owned();
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert_eq!(mail.to, vec!["admin@example.jp"]);
    assert_eq!(mail.from, "noreply@hirelay.test");
    assert_eq!(
        mail.decoded_header("Subject").unwrap(),
        "ビズリーチグループ連携案内 - 株式会社テスト 採用担当 鈴木 一郎 様より"
    );
    assert_eq!(
        mail.header("Message-ID").unwrap(),
        format!("<{outbox_id}@hirelay.test>")
    );
    assert!(mail.header("Date").is_some());
    assert!(mail
        .header("Content-Type")
        .unwrap()
        .starts_with("multipart/alternative"));
    let text = mail.part("text/plain").unwrap();
    let html = mail.part("text/html").unwrap();
    assert!(text.contains("鈴木 一郎様より"), "{text}");
    assert!(text.contains("http://hirelay.test/v1/link-approvals/SAMPLE_TOKEN"));
    assert!(html.contains(">有効にする</a>"), "{html}");
    assert!(mail.header("List-Unsubscribe").is_none());

    let row = mail_row(&app, &outbox_id, "sent").await;
    assert!(row.sent_at.is_some());
    assert_eq!(row.message_id, format!("<{outbox_id}@hirelay.test>"));

    let res = app
        .admin(Method::POST, "/v1/templates/group_link_approval/test-send")
        .json(&json!({"to": "not-an-address"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn c2_invitation_carries_one_click_list_unsubscribe() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/templates/career_relay_invitation/test-send",
            &json!({"to": "taro@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let mails = app.smtp.wait_for(1).await;
    let mail = &mails[0];
    // A test-send's link is hirelay's own and opts nobody out.
    assert_eq!(
        mail.header("List-Unsubscribe").unwrap(),
        "<http://hirelay.test/v1/unsubscribe/test-send>"
    );
    assert_eq!(
        mail.header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert!(mail
        .part("text/plain")
        .unwrap()
        .contains("http://hirelay.test/r/SAMPLE_TOKEN"));
}

#[tokio::test]
async fn a_refused_mail_is_retried_and_arrives_exactly_once() {
    let app = TestApp::spawn().await;
    app.smtp.refuse(true);
    let (status, body) = app
        .post_json(
            "/v1/templates/bizreach_application_notice/test-send",
            &json!({"to": "hr@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let id = body["outbox_id"].as_str().unwrap().to_owned();
    let mut failed = false;
    for _ in 0..100 {
        let row = app.state.store.get_mail(&id).await.unwrap();
        if row.attempts >= 1 && row.status == "pending" {
            assert!(row.last_error.is_some());
            failed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(failed, "the refused try was not recorded");
    assert!(app.smtp.mails().is_empty());
    app.smtp.refuse(false);
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.smtp.mails().len(), 1, "sent more than once");
    let row = mail_row(&app, &id, "sent").await;
    assert!(row.attempts >= 2);
}

#[tokio::test]
async fn without_an_smtp_url_mail_is_written_as_eml_files() {
    let app = TestApp::spawn_with(&[("HIRELAY_SMTP_URL", "")]).await;
    let (status, body) = app
        .post_json(
            "/v1/templates/group_link_approval/test-send",
            &json!({"to": "admin@example.jp"}),
        )
        .await;
    assert_eq!(status, 202, "{body}");
    let dir = app.dir.path().join("data").join("outbox");
    let mut found = None;
    for _ in 0..100 {
        let files: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        if let Some(f) = files
            .iter()
            .find(|p| p.extension().is_some_and(|e| e == "eml"))
        {
            found = Some(std::fs::read_to_string(f).unwrap());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let eml = found.expect("no .eml file written");
    assert!(eml.contains("To: admin@example.jp"), "{eml}");
    assert!(eml.contains(&format!(
        "Message-ID: <{}@hirelay.test>",
        body["outbox_id"].as_str().unwrap()
    )));
    assert!(app.smtp.mails().is_empty());
}

#[tokio::test]
async fn templates_need_the_marketer_role() {
    let app = TestApp::spawn().await;
    let viewer = app.token(Role::Viewer).await;
    for (method, path) in [
        (Method::GET, "/v1/templates"),
        (Method::GET, "/v1/templates/group_link_approval"),
        (Method::POST, "/v1/templates/group_link_approval/preview"),
    ] {
        let res = app
            .as_token(&viewer, method, path)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{path}");
    }
    let marketer = app.token(Role::Marketer).await;
    let res = app
        .as_token(
            &marketer,
            Method::POST,
            "/v1/templates/group_link_approval/preview",
        )
        .json(&json!({"data": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_script_tag_in_a_value_is_escaped_in_html_only() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post_json(
            "/v1/templates/career_relay_invitation/preview",
            &json!({"data": {"candidate_name": "<script>alert(1)</script>"}}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let html = body["html"].as_str().unwrap();
    assert!(!html.contains("<script>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;様"),
        "{html}"
    );
    assert!(body["text"]
        .as_str()
        .unwrap()
        .starts_with("<script>alert(1)</script>様"));
}

#[tokio::test]
async fn c8_enqueue_twice_with_the_same_dedupe_key_sends_one_mail() {
    let app = TestApp::spawn().await;
    let mailer = &app.state.mailer;
    let mail = OutgoingMail {
        template: TemplateName::parse("career_relay_invitation").unwrap(),
        to: Email::parse("hanako@example.jp").unwrap(),
        data: json!({
            "candidate_name": "佐藤 花子", "company_name": "株式会社テスト", "position_name": "営業",
            "tracking_url": "http://hirelay.test/r/abc", "unsubscribe_url": "http://hirelay.test/v1/unsubscribe/abc"
        }),
        send_at: None,
        dedupe_key: "invite:app_1".into(),
        list_unsubscribe: None,
    };
    // M4: promotional mail needs hirelay's own unsubscribe link, which only invite() gives.
    for link in [None, Some("https://elsewhere.example/v1/unsubscribe/abc")] {
        let mut bare = mail.clone();
        bare.list_unsubscribe = link.map(str::to_owned);
        let refused = mailer.enqueue(&app.state.store.db, bare).await.unwrap_err();
        assert!(
            refused.to_string().contains("only invite() sends it"),
            "{refused}"
        );
    }
    let mail = OutgoingMail {
        list_unsubscribe: Some("http://hirelay.test/v1/unsubscribe/abc".into()),
        ..mail
    };
    let first = mailer
        .enqueue(&app.state.store.db, mail.clone())
        .await
        .unwrap();
    let second = mailer
        .enqueue(&app.state.store.db, mail.clone())
        .await
        .unwrap();
    let EnqueueOutcome::Queued { outbox_id } = &first else {
        panic!("{first:?}")
    };
    assert_eq!(
        second,
        EnqueueOutcome::AlreadyQueued {
            outbox_id: outbox_id.clone()
        }
    );
    mailer.wake();
    let mails = app.smtp.wait_for(1).await;
    assert_eq!(mails.len(), 1);
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(app.smtp.mails().len(), 1);
    assert_eq!(
        mails[0].decoded_header("Subject").unwrap(),
        "株式会社テストの選考にご応募いただきありがとうございました"
    );
}

#[tokio::test]
async fn a_changed_file_is_hot_reloaded_and_a_broken_one_is_never_activated() {
    let app = TestApp::spawn().await;
    let subject = app
        .templates_dir
        .join("group_link_approval")
        .join("subject.hbs");
    std::fs::write(&subject, "承認のお願い - {{company_name}}\n").unwrap();
    let mut reloaded = None;
    for _ in 0..300 {
        let t = app.get_json("/v1/templates/group_link_approval").await;
        if t["version"] == 2 {
            reloaded = Some(t);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let t = reloaded.expect("the changed file was not picked up");
    assert_eq!(t["subject"], "承認のお願い - {{company_name}}");
    assert_eq!(t["author"], "file");

    std::fs::write(
        app.templates_dir
            .join("group_link_approval")
            .join("html.hbs"),
        "<p>{{#if company_name}}</p>",
    )
    .unwrap();
    let mut reported = false;
    for _ in 0..300 {
        let res = app.client.get(app.url("/readyz")).send().await.unwrap();
        if res.status() == 503 {
            let body: Value = res.json().await.unwrap();
            assert!(
                body.to_string().contains("group_link_approval/html.hbs"),
                "{body}"
            );
            reported = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(reported, "readiness did not report the broken template");
    let t = app.get_json("/v1/templates/group_link_approval").await;
    assert_eq!(t["version"], 2, "a broken version was activated");
    let (status, preview) = app
        .post_json("/v1/templates/group_link_approval/preview", &json!({}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(preview["subject"], "承認のお願い - 株式会社テスト 採用担当");
}

/// Issue 14 (C8): the console previews a draft as the marketer types. `preview` with
/// `template` renders the draft (not saved), and checks it as `PUT` would: an invitation draft
/// without the sender's postal address is refused with the part that lacks it.
#[tokio::test]
async fn issue14_c8_a_draft_is_previewed_and_its_legal_display_checked_as_typed() {
    let app = TestApp::spawn().await;
    let active = app.get_json("/v1/templates/career_relay_invitation").await;
    let html = active["html"].as_str().unwrap();
    let draft = |subject: &str, html: &str| json!({"template": {"subject": subject, "html": html, "text": active["text"]}});
    let (status, body) = app
        .post_json(
            "/v1/templates/career_relay_invitation/preview",
            &draft(
                "下書き {{company_name}}",
                &format!("{html}<p>下書きの一文</p>"),
            ),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["subject"].as_str().unwrap().starts_with("下書き "),
        "{body}"
    );
    assert!(
        body["html"].as_str().unwrap().contains("下書きの一文"),
        "{body}"
    );

    let without_address = html.replace("{{sender_address}}", "");
    let (status, body) = app
        .post_json(
            "/v1/templates/career_relay_invitation/preview",
            &draft("件名", &without_address),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "template_invalid");
    let problems = body["error"]["details"]["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p["part"] == "html"
                && p["message"].as_str().unwrap().contains("sender_address")),
        "{body}"
    );
    let now = app.get_json("/v1/templates/career_relay_invitation").await;
    assert_eq!(now["version"], active["version"], "a preview saves nothing");
    assert_eq!(now["html"], active["html"]);
}

/// Issue 14: a template save with `If-Match` of a version someone else replaced is refused
/// (`412 version_conflict`) and saves nothing.
#[tokio::test]
async fn issue14_a_template_save_over_a_newer_version_is_refused_with_412() {
    let app = TestApp::spawn().await;
    let read = app
        .admin(Method::GET, "/v1/templates/group_link_approval")
        .send()
        .await
        .unwrap();
    let opened = read.headers()["etag"].to_str().unwrap().to_owned();
    let doc: Value = read.json().await.unwrap();
    let put = |subject: &str| {
        app.admin(Method::PUT, "/v1/templates/group_link_approval")
            .header("if-match", &opened)
            .json(&json!({"subject": subject, "html": doc["html"], "text": doc["text"]}))
            .send()
    };
    assert_eq!(put("先に保存した件名").await.unwrap().status(), 200);
    let res = put("後から保存した件名").await.unwrap();
    assert_eq!(res.status(), 412);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "version_conflict", "{body}");
    let now = app.get_json("/v1/templates/group_link_approval").await;
    assert_eq!(now["subject"], "先に保存した件名");
}
