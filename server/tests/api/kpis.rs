//! The KPIs the shipped scripts record, read back: totals over a period split by a tag, and the
//! data points as CSV for BI (C8).
use crate::helpers::TestApp;
use hirelay::domain::role::Role;
use serde_json::{json, Value};

#[tokio::test]
async fn c8_recorded_kpis_are_totalled_by_tag_and_exported() {
    let app = TestApp::spawn().await;
    // status.rhai records `rejected` with the stage and reason; career_relay.rhai `registered`.
    let mails = crate::ats::rejected_and_invited(&app, 3).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    let viewer = app.token(Role::Viewer).await;
    let get = |path: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            app.as_token(&viewer, reqwest::Method::GET, path)
                .send()
                .await
                .unwrap()
        }
    };
    let all: Value = get("/v1/kpis").await.json().await.unwrap();
    let items = all["items"].as_array().unwrap();
    let total = |name: &str| items.iter().find(|i| i["name"] == name).cloned();
    assert_eq!(
        total("rejected"),
        Some(json!({"name": "rejected", "count": 3, "sum": 3.0})),
        "{all}"
    );
    assert_eq!(total("registered").unwrap()["count"], 1, "{all}");

    let by_stage: Value = get("/v1/kpis?name=rejected&tag=stage")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        by_stage["items"],
        json!([{"name": "rejected", "tag_value": "一次面接", "count": 3, "sum": 3.0}])
    );
    let before: Value = get("/v1/kpis?to=2020-01-01").await.json().await.unwrap();
    assert_eq!(before["items"], json!([]), "nothing recorded before 2020");

    let bad = get("/v1/kpis?tag=stage')--").await;
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "tag", "{bad}");

    let export = get("/v1/kpis/records.csv?name=rejected").await;
    assert_eq!(export.status(), 200);
    assert_eq!(
        export.headers()["content-disposition"],
        "attachment; filename=\"kpi-records.csv\""
    );
    let csv = export.text().await.unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "name,value,tags,event_id,recorded_at");
    assert_eq!(rows.len(), 4, "{csv}");
    assert!(
        rows[1..].iter().all(|r| r.starts_with("rejected,1,\"{")),
        "{csv}"
    );
    assert!(rows[1].contains("\"\"stage\"\":\"\"一次面接\"\""), "{csv}");

    let anonymous = app.client.get(app.url("/v1/kpis")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

/// C8: a user who switches the monthly report on (an address is required) gets the Career Relay
/// report with the ledger and the previous month's funnel; running the job again in the same
/// month writes to nobody twice.
#[tokio::test]
async fn c8_the_monthly_report_reaches_subscribers_once_a_month() {
    let app = TestApp::spawn().await;
    let mails = crate::ats::rejected_and_invited(&app, 2).await;
    crate::ats::register(&app, "reg-0", &mails[0]).await;
    let viewer = app.token(Role::Viewer).await;
    let subscribe = |body: Value| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            app.as_token(
                &viewer,
                reqwest::Method::PUT,
                "/v1/notifications/subscriptions",
            )
            .json(&body)
            .send()
            .await
            .unwrap()
        }
    };
    let no_address =
        subscribe(json!({"bizreach_application": false, "monthly_report": true})).await;
    assert_eq!(no_address.status(), 400);
    let on = subscribe(json!({
        "bizreach_application": false,
        "monthly_report": true,
        "email": "hr@example.jp"
    }))
    .await;
    assert_eq!(on.status(), 200);
    assert_eq!(on.json::<Value>().await.unwrap()["monthly_report"], true);

    let (status, run) = app
        .post_json("/v1/scheduler/career-relay-report/run", &json!({}))
        .await;
    assert_eq!(status, 200, "{run}");
    assert_eq!(
        (&run["recipients"], &run["queued"]),
        (&json!(1), &json!(1)),
        "{run}"
    );
    let received = app.smtp.wait_for(3).await;
    let report = received
        .iter()
        .find(|m| m.to == ["hr@example.jp"])
        .expect("the report");
    let month = run["month"].as_str().unwrap();
    let (year, number) = month.split_once('-').unwrap();
    let label = format!("{year}年{}月", number.trim_start_matches('0'));
    let subject = report.decoded_header("Subject").unwrap();
    assert!(
        subject.contains(&format!("{label} の月次レポート")),
        "{subject}"
    );
    let text = report.part("text/plain").unwrap();
    assert!(
        text.contains("登録した不合格者: 1 名（10 名で 1 枠）"),
        "{text}"
    );
    assert!(text.contains("紹介登録済: "), "{text}");
    assert!(report.part("text/html").unwrap().contains("紹介枠"));
    // The same figures as `hirelay report`: the targets and the ROI (no fee configured here).
    assert!(
        text.contains("■ 目標") && text.contains("目標は設定されていません。"),
        "{text}"
    );
    assert!(text.contains("ROI（削減した採用費）: 未設定"), "{text}");
    assert!(text.contains("■ 紹介枠（"), "{text}");

    let (_, again) = app
        .post_json("/v1/scheduler/career-relay-report/run", &json!({}))
        .await;
    assert_eq!(again["queued"], 0, "{again}");
}

/// C8: `?excel=1` starts the Career Relay export with a UTF-8 byte order mark, so that Excel
/// reads its Japanese right; without it there is none, for other tools. Both are the same CSV.
#[tokio::test]
async fn c8_the_export_for_excel_starts_with_a_byte_order_mark() {
    let app = TestApp::spawn().await;
    crate::ats::rejected_and_invited(&app, 2).await;
    let viewer = app.token(Role::Viewer).await;
    let get = |path: &'static str| {
        let viewer = viewer.clone();
        let app = &app;
        async move {
            let res = app
                .as_token(&viewer, reqwest::Method::GET, path)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
            res.bytes().await.unwrap().to_vec()
        }
    };
    let november = "from=2026-11-01&to=2026-11-30";
    let excel = get("/v1/kpis/export.csv?from=2026-11-01&to=2026-11-30&excel=1").await;
    let plain = get("/v1/kpis/export.csv?from=2026-11-01&to=2026-11-30").await;
    let zero = get("/v1/kpis/export.csv?from=2026-11-01&to=2026-11-30&excel=0").await;
    assert_eq!(&excel[..3], b"\xEF\xBB\xBF", "the BOM");
    assert!(
        plain.starts_with(b"application_id,"),
        "no BOM without excel=1"
    );
    assert_eq!(excel[3..], plain[..]);
    assert_eq!(zero, plain);
    let text = String::from_utf8(plain).unwrap();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.contains(",一次面接,経験年数不足,"), "{text}");

    let bad = app
        .as_token(
            &viewer,
            reqwest::Method::GET,
            &format!("/v1/kpis/export.csv?{november}&excel=yes"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["field"], "excel", "{bad}");

    let openapi = app.openapi().await;
    let params = &openapi["paths"]["/v1/kpis/export.csv"]["get"]["parameters"];
    assert!(
        params
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"] == "excel"),
        "{params}"
    );
}
