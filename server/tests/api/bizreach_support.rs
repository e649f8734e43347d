//! A hirelay wired to a BizReach simulator on loopback, and the steps the BizReach tests share.
use bizreach_sim::{RunningSim, SimConfig};
use hirelay::domain::ids::{new_token, token_hash};
use hirelay::domain::time::now_millis;
use hirelay::store::Store;
use serde_json::{json, Value};

use crate::helpers::TestApp;

pub const SIM_EMAIL: &str = "admin@example.jp";
pub const SIM_PASSWORD: &str = "correct horse battery staple";

/// hirelay and the simulator it polls.
pub struct Bizreach {
    pub app: TestApp,
    pub sim: RunningSim,
    pub http: reqwest::Client,
}

/// A simulator with `applications_per_group` seeded applications per group.
pub async fn start_sim(applications_per_group: usize) -> RunningSim {
    bizreach_sim::start(
        SimConfig {
            applications_per_group,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("start the simulator")
}

/// The variables that point hirelay at `sim` with short retry delays.
pub fn sim_env(sim: &RunningSim) -> Vec<(&'static str, String)> {
    vec![
        ("HIRELAY_BIZREACH_URL", sim.base_url()),
        ("HIRELAY_BIZREACH_RETRY_BASE_MS", "10".to_owned()),
    ]
}

impl Bizreach {
    /// A simulator with `applications_per_group` seeded applications and a hirelay using it.
    pub async fn spawn(applications_per_group: usize) -> Bizreach {
        Self::spawn_with(applications_per_group, &[]).await
    }

    /// [`Bizreach::spawn`] with extra `HIRELAY_*` variables.
    pub async fn spawn_with(applications_per_group: usize, more: &[(&str, &str)]) -> Bizreach {
        let sim = start_sim(applications_per_group).await;
        let env = sim_env(&sim);
        let mut extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        extra.extend_from_slice(more);
        let app = TestApp::spawn_with(&extra).await;
        Bizreach {
            app,
            sim,
            http: reqwest::Client::new(),
        }
    }

    /// Signs in with the simulator's account (asserting success) and answers the body.
    pub async fn sign_in(&self) -> Value {
        let (status, body) = self
            .app
            .post_json(
                "/v1/bizreach/session",
                &json!({"email": SIM_EMAIL, "password": SIM_PASSWORD}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Requests a link for `group` and activates it through the approval page.
    pub async fn link(&self, group: &str) {
        let (status, body) = self
            .app
            .post_json(&format!("/v1/group-accounts/{group}/link"), &json!({}))
            .await;
        assert_eq!(status, 200, "{body}");
        let url = self.approval_mail(group).await.1;
        let res = self.app.client.post(url).send().await.unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        assert_eq!(self.group(group).await["status"], "linked");
    }

    /// The approval email whose link is the group's pending one (an earlier request's link is
    /// retired), and its activation URL pointing at this test server.
    pub async fn approval_mail(&self, group: &str) -> (crate::smtp::ReceivedMail, String) {
        let admin = self.group(group).await["admin_email"]
            .as_str()
            .unwrap()
            .to_lowercase();
        for _ in 0..300 {
            let pending = self
                .app
                .state
                .store
                .pending_link_approval(group, now_millis())
                .await
                .unwrap()
                .map(|p| p.token_hash);
            for mail in self.app.smtp.mails().into_iter().rev() {
                if !mail.to.iter().any(|t| t.to_lowercase() == admin) {
                    continue;
                }
                let text = mail.part("text/plain").expect("a text part");
                let start = text
                    .find("http://hirelay.test/v1/link-approvals/")
                    .expect("an activation link");
                let url: String = text[start..]
                    .chars()
                    .take_while(|c| !c.is_whitespace())
                    .collect();
                let token = url.rsplit('/').next().unwrap();
                if pending.as_deref() == Some(token_hash(token).as_str()) {
                    return (mail, url.replace("http://hirelay.test", &self.app.address));
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("no approval mail with the pending link reached the administrator of {group}");
    }

    /// One group account as `GET /v1/group-accounts` lists it.
    pub async fn group(&self, id: &str) -> Value {
        let list = self.app.get_json("/v1/group-accounts").await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("no group {id} in {list}"))
    }

    /// `POST` to the simulator's control API.
    pub async fn control(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url()));
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Adds applications to a group on the simulator; answers them as the API shows them.
    pub async fn add_applications(&self, group: &str, applications: Value) -> Vec<Value> {
        let out = self
            .control(
                reqwest::Method::POST,
                "/_sim/applications",
                Some(json!({"group_account_id": group, "applications": applications})),
            )
            .await;
        out["applications"].as_array().unwrap().clone()
    }

    /// Runs the poller now; answers its report.
    pub async fn poll(&self) -> (u16, Value) {
        self.app
            .post_json("/v1/scheduler/bizreach-poll/run", &json!({}))
            .await
    }

    /// Every stored event whose webhook id starts with `prefix`.
    pub async fn events(&self, prefix: &str) -> Vec<Value> {
        stored_events(&self.app, prefix).await
    }
}

/// Every stored event of `app` whose webhook id starts with `prefix`.
pub async fn stored_events(app: &TestApp, prefix: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/events?limit=500&cursor={c}"),
            None => "/v1/events?limit=500".to_owned(),
        };
        let page = app.get_json(&path).await;
        for e in page["items"].as_array().unwrap() {
            if e["webhook_id"].as_str().unwrap().starts_with(prefix) {
                out.push(e.clone());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// The application id in a pulled event's webhook id (`pull:{id}:{hash}`, `backfill:{id}`).
pub fn application_id(webhook_id: &str) -> String {
    webhook_id.split(':').nth(1).unwrap().to_owned()
}

/// Issues an approval token for `group` valid `hours` from now (negative: already expired), as
/// the link request does, and answers the token: a test cannot wait 72 hours for a real link
/// to expire.
pub async fn approval_token(app: &TestApp, group: &str, hours: i64) -> String {
    let token = new_token();
    let now = now_millis();
    Store::create_link_approval(
        &app.state.store.db,
        group,
        &token_hash(&token),
        now,
        now + hours * 3_600_000,
    )
    .await
    .unwrap();
    token
}
