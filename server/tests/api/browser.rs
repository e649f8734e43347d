//! Pages in a real headless Chromium, driven over WebDriver (Debian's `chromium` and
//! `chromium-driver`) with the HTTP client the tests already use: a session, a page, its text,
//! a click on a button.
//!
//! `.ci/run` installs both (`scripts/install-test-browser.sh`) and sets
//! `HIRELAY_TEST_BROWSER=required`, so a missing browser fails there; elsewhere a test that needs
//! one says it was skipped.
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The W3C name of an element reference in WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A chromedriver process and one headless Chromium session of it.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a free port and a headless Chromium with a fresh profile; `None`
    /// (after saying so) when they are not installed and not required.
    pub async fn start() -> Option<Browser> {
        let installed = [CHROMIUM, CHROMEDRIVER]
            .iter()
            .all(|p| std::path::Path::new(p).exists());
        if !installed {
            let required = std::env::var("HIRELAY_TEST_BROWSER").as_deref() == Ok("required");
            assert!(
                !required,
                "HIRELAY_TEST_BROWSER=required but {CHROMIUM} or {CHROMEDRIVER} is missing: run scripts/install-test-browser.sh"
            );
            eprintln!(
                "skipped: no headless Chromium here (scripts/install-test-browser.sh installs it)"
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // A process group of its own, so the browser it starts goes with it (see `Drop`).
        let driver = Command::new(CHROMEDRIVER)
            .process_group(0)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            http: reqwest::Client::new(),
            session: format!("http://127.0.0.1:{port}/session"),
            driver,
            profile,
        };
        // These flags keep Chromium off the network beyond the page under test (this machine
        // refuses the rest) and let it run as root in a container.
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", browser.profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let mut answer = Value::Null;
        for _ in 0..100 {
            match browser
                .http
                .post(&browser.session)
                .json(&capabilities)
                .send()
                .await
            {
                Ok(res) => {
                    answer = res.json().await.unwrap();
                    break;
                }
                // chromedriver is still starting.
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        let id = answer["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {answer}"));
        browser.session = format!("{}/{id}", browser.session);
        Some(browser)
    }

    /// A WebDriver command of this session; panics with the driver's answer on an error.
    async fn command(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.expect("chromedriver answers");
        let status = res.status();
        let answer: Value = res.json().await.unwrap();
        assert!(status.is_success(), "WebDriver {path}: {status} {answer}");
        answer["value"].clone()
    }

    /// Opens `url` and waits until the page has loaded.
    pub async fn open(&self, url: &str) {
        self.command(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The title of the page shown now.
    pub async fn title(&self) -> String {
        let title = self.command(reqwest::Method::GET, "/title", None).await;
        title.as_str().unwrap_or_default().to_owned()
    }

    /// What `script` (a function body, e.g. `return document.title`) returns on the page.
    pub async fn eval(&self, script: &str) -> Value {
        let script = json!({"script": script, "args": []});
        self.command(reqwest::Method::POST, "/execute/sync", Some(script))
            .await
    }

    /// The text of the page shown now, as a reader sees it.
    pub async fn text(&self) -> String {
        let text = self.eval("return document.body.innerText").await;
        text.as_str().unwrap_or_default().to_owned()
    }

    /// The WebDriver id of the element `using` (`css selector`, `xpath`) finds as `value`.
    async fn find(&self, using: &str, value: &str) -> String {
        let find = json!({"using": using, "value": value});
        let element = self
            .command(reqwest::Method::POST, "/element", Some(find))
            .await;
        element[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {value}: {element}"))
            .to_owned()
    }

    async fn button(&self, label: &str) -> String {
        let xpath = format!("//button[normalize-space()='{label}']");
        self.find("xpath", &xpath).await
    }

    /// Replaces what the field the CSS `selector` finds holds with `text`, typed.
    pub async fn fill(&self, selector: &str, text: &str) {
        let id = self.find("css selector", selector).await;
        let clear = format!("/element/{id}/clear");
        self.command(reqwest::Method::POST, &clear, Some(json!({})))
            .await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Types `keys` (WebDriver key codes allowed, e.g. `\u{E003}` Backspace) into the element
    /// the CSS `selector` finds, as a person would: for a code editor (`.cm-content`), at the
    /// end of its text.
    pub async fn type_keys(&self, selector: &str, keys: &str) {
        let id = self.find("css selector", selector).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": keys})),
        )
        .await;
    }

    /// Replaces the whole text of the code editor the CSS `selector` finds (its `.cm-content`)
    /// with `text`, as a paste over everything selected (Ctrl+A) would.
    pub async fn paste_over(&self, selector: &str, text: &str) {
        self.type_keys(selector, "\u{E009}a\u{E000}").await;
        let script = json!({
            "script": "const data = new DataTransfer(); data.setData('text/plain', arguments[1]); \
                       document.querySelector(arguments[0]).dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}));",
            "args": [selector, text],
        });
        self.command(reqwest::Method::POST, "/execute/sync", Some(script))
            .await;
    }

    /// What `script` returns in the document of the `<iframe>` the CSS `selector` finds.
    pub async fn in_frame(&self, selector: &str, script: &str) -> Value {
        let id = self.find("css selector", selector).await;
        self.command(
            reqwest::Method::POST,
            "/frame",
            Some(json!({"id": {ELEMENT: id}})),
        )
        .await;
        let answer = self.eval(script).await;
        self.command(reqwest::Method::POST, "/frame/parent", Some(json!({})))
            .await;
        answer
    }

    /// Clicks the button labelled `label` on a page that stays (a script answers it).
    pub async fn press(&self, label: &str) {
        let id = self.button(label).await;
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The page's text once it contains `wanted` (a script filled it in); panics after 10 s.
    pub async fn wait_for_text(&self, wanted: &str) -> String {
        let mut text = String::new();
        for _ in 0..200 {
            text = self.text().await;
            if text.contains(wanted) {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("`{wanted}` did not appear within 10 s; the page shows:\n{text}");
    }

    /// Clicks the button labelled `label` and waits until the page it leads to has loaded (the
    /// button's page is gone: its element is stale; the new one's `readyState` is complete).
    pub async fn click_button(&self, label: &str) {
        let id = self.button(label).await;
        let name = format!("/element/{id}/name");
        // While its page is shown, the button answers (below, its page is gone when it does not).
        assert_eq!(
            self.command(reqwest::Method::GET, &name, None).await,
            "button"
        );
        self.command(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
        let ready = json!({"script": "return document.readyState", "args": []});
        for _ in 0..200 {
            let button = self
                .http
                .get(format!("{}{name}", self.session))
                .send()
                .await
                .expect("chromedriver answers");
            let left = !button.status().is_success();
            if left
                && self
                    .command(reqwest::Method::POST, "/execute/sync", Some(ready.clone()))
                    .await
                    == "complete"
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("pressing {label} led to no new page within 10 s");
    }

    /// Sets the size of the page's viewport in CSS pixels (1280×800 desktop, 390×844 a phone):
    /// the window is made larger by what its frame takes.
    pub async fn resize(&self, width: u32, height: u32) {
        let window = |w: u32, h: u32| json!({"width": w, "height": h});
        self.command(
            reqwest::Method::POST,
            "/window/rect",
            Some(window(width, height)),
        )
        .await;
        let inner = self
            .eval("return [window.innerWidth, window.innerHeight]")
            .await;
        let size = |i: usize, wanted: u32| inner[i].as_u64().map_or(wanted, |v| v as u32);
        let (w, h) = (size(0, width), size(1, height));
        if (w, h) != (width, height) {
            let outer = window(
                width + width.saturating_sub(w),
                height + height.saturating_sub(h),
            );
            self.command(reqwest::Method::POST, "/window/rect", Some(outer))
                .await;
        }
    }

    /// A PNG of what the window shows now (WebDriver's screenshot command).
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let png = self
            .command(reqwest::Method::GET, "/screenshot", None)
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("a screenshot is base64 text"))
            .expect("a screenshot is valid base64")
    }

    /// Ends the session (Chromium quits); chromedriver stops when the browser is dropped.
    pub async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

impl Drop for Browser {
    /// Stops chromedriver and whatever it started, also when a test failed half-way.
    fn drop(&mut self) {
        crate::helpers::signal_group(&self.driver, nix::sys::signal::Signal::SIGKILL);
        let _ = self.driver.wait();
    }
}
