//! The sender keeps its SMTP connections (issue 13, performance: 500 mails/s to a local SMTP
//! server): mails go over a few pooled connections, several at a time, each delivered once
//! and marked sent.
use crate::helpers::TestApp;
use hirelay::mail::transport::SMTP_CONNECTIONS;

/// 48 invitations reach the SMTP server over at most `SMTP_CONNECTIONS` connections, each
/// once, and every one is marked sent.
#[tokio::test]
async fn pooled_sender_delivers_many_mails_over_few_connections() {
    let app = TestApp::spawn().await;
    let mails = crate::ats::rejected_and_invited(&app, 48).await;
    assert_eq!(mails.len(), 48);
    let mut ids: Vec<String> = mails
        .iter()
        .map(|m| m.header("Message-ID").unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 48, "each mail once");
    let connections = app.smtp.connections();
    assert!(
        (1..=SMTP_CONNECTIONS as usize).contains(&connections),
        "{connections} connections for 48 mails"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let sent = app.get_json("/v1/outbox?state=sent&limit=100").await;
        if sent["items"].as_array().map_or(0, Vec::len) == 48 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all marked sent: {sent}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
