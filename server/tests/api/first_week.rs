//! Issue 19, "a new user's first week": what a new user meets in the repository, at `/`, on the
//! candidate-facing pages, in the approval mail, in the log and in the command's messages.
use crate::helpers::{repo_root, TestApp};

fn shipped(path: &str) -> String {
    std::fs::read_to_string(repo_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Item 8 (g): `Cargo.toml` says Apache-2.0, and the repository carries the licence's text.
#[test]
fn the_repository_carries_the_apache_license_text() {
    let license = shipped("LICENSE");
    assert!(shipped("Cargo.toml").contains("license = \"Apache-2.0\""));
    assert!(
        license.contains("Apache License\n                           Version 2.0, January 2004")
    );
    assert!(license.contains("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION"));
    assert!(license.contains("9. Accepting Warranty or Additional Liability."));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    assert!(license.contains("http://www.apache.org/licenses/LICENSE-2.0"));
}

/// Item 8 (e): the browser tests' screenshots show Japanese, so the install script adds a
/// Japanese font, and does not skip it when the browser is already there.
#[test]
fn the_test_browser_script_installs_a_japanese_font() {
    let script = shipped("scripts/install-test-browser.sh");
    let install = script
        .lines()
        .find(|l| l.contains("apt-get install"))
        .expect("an apt-get install line");
    assert!(install.contains("fonts-noto-cjk"), "{install}");
    let fast_path = script.split("exit 0").next().unwrap_or_default();
    assert!(fast_path.contains("fonts-noto-cjk"), "{fast_path}");
}

/// Item 8 (f): the examples' README tells how to run the demo script.
#[test]
fn the_examples_readme_documents_the_demo_script() {
    let readme = shipped("examples/README.md");
    assert!(readme.contains("examples/demo.sh"), "no `examples/demo.sh`");
    for variable in ["HIRELAY_BIN", "SIM_BIN", "KEEP"] {
        assert!(
            readme.contains(variable),
            "demo.sh's {variable} is not documented"
        );
    }
}

/// Item 8 (a): a browser opened on the server's root lands on the console.
#[tokio::test]
async fn the_root_redirects_to_the_console() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], "/console");
}

/// Item 8 (h): `/openapi.json` points to documents the repository has, and the webhook
/// operations show their body and their signature headers.
#[tokio::test]
async fn openapi_points_to_shipped_documents_and_describes_webhook_requests() {
    let app = TestApp::spawn().await;
    let doc = app.openapi().await;
    let description = doc["info"]["description"].as_str().unwrap_or_default();
    let mut referenced = 0;
    for word in description.split(|c: char| c.is_whitespace() || c == '`' || c == '(' || c == ')') {
        let word = word.trim_end_matches(['.', ',', ';', ':']);
        if word.ends_with(".md") {
            referenced += 1;
            assert!(
                repo_root().join(word).is_file(),
                "{word} is not in the repository"
            );
        }
    }
    assert!(
        referenced > 0,
        "the description points to no document: {description}"
    );
    for source in ["bizreach", "ats", "career-relay"] {
        let op = &doc["paths"][format!("/v1/webhooks/{source}")]["post"];
        assert!(
            op["requestBody"]["content"]["application/json"].is_object(),
            "{source}: no JSON request body: {op}"
        );
        let headers: Vec<&str> = op["parameters"]
            .as_array()
            .unwrap_or_else(|| panic!("{source}: no parameters: {op}"))
            .iter()
            .filter(|p| p["in"] == "header" && p["required"] == true)
            .filter_map(|p| p["name"].as_str())
            .collect();
        for header in ["webhook-id", "webhook-timestamp", "webhook-signature"] {
            assert!(
                headers.contains(&header),
                "{source}: no {header} header: {headers:?}"
            );
        }
    }
}
