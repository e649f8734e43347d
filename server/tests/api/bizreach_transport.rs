//! M8: how hirelay talks to the BizReach source API when it misbehaves: redirects are not
//! followed (the sign-in would carry the organisation admin's password elsewhere) and answers
//! are read up to a bound. The source here is a bare HTTP server on loopback.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::json;

use crate::helpers::TestApp;

const PASSWORD: &str = "m8-password-that-must-not-travel";

/// A loopback HTTP/1.1 server that answers every request with `respond` and keeps each
/// request's head and body as text.
struct RawServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    fn start(respond: impl Fn(&mut TcpStream) + Send + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    request.push_str(&line);
                    if line == "\r\n" {
                        break;
                    }
                }
                let mut body = vec![0u8; length];
                let _ = reader.read_exact(&mut body);
                request.push_str(&String::from_utf8_lossy(&body));
                kept.lock().unwrap().push(request);
                respond(&mut stream);
            }
        });
        RawServer { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

async fn sign_in(app: &TestApp) -> (u16, serde_json::Value) {
    app.post_json(
        "/v1/bizreach/session",
        &json!({"email": "admin@example.jp", "password": PASSWORD}),
    )
    .await
}

async fn spawn_against(source: &RawServer) -> TestApp {
    TestApp::spawn_with(&[
        ("HIRELAY_BIZREACH_URL", &source.url),
        ("HIRELAY_BIZREACH_RETRY_BASE_MS", "10"),
    ])
    .await
}

/// M8: a 307 to the sign-in is an error; the password is not re-sent where it points.
#[tokio::test]
async fn m8_a_redirected_sign_in_is_not_followed() {
    let elsewhere = RawServer::start(|s| {
        let body = r#"{"account_name":"elsewhere","token":"stolen"}"#;
        let _ = write!(
            s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
    });
    let location = format!("{}/api/session", elsewhere.url);
    let source = RawServer::start(move |s| {
        let _ = write!(
            s,
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    });
    let app = spawn_against(&source).await;
    let (status, body) = sign_in(&app).await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["error"]["code"], "upstream_error", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("307") && message.contains("redirect"),
        "{message}"
    );
    assert!(!message.contains(PASSWORD));
    assert_eq!(source.requests().len(), 1, "a redirect is not retried");
    assert!(source.requests()[0].contains(PASSWORD));
    assert!(
        elsewhere.requests().is_empty(),
        "the sign-in followed the redirect: {:?}",
        elsewhere.requests()
    );
}

/// M8: an answer past the 16 MiB bound is an error as soon as it passes it, whatever follows.
#[tokio::test]
async fn m8_an_oversized_answer_is_refused_once_past_the_bound() {
    let source = RawServer::start(|s| {
        // No Content-Length: the body runs until the connection closes.
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n",
        );
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..(17 * 16) {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
        let _ = s.write_all(br#"{"account_name":"big","token":"t"}"#);
    });
    let app = spawn_against(&source).await;
    let (status, body) = sign_in(&app).await;
    assert_eq!(status, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("larger than 16777216 bytes"), "{message}");
}
