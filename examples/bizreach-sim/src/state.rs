//! The simulator's in-memory BizReach: accounts, applications, sessions, the log of
//! status pushes, injected faults and request counts.
//!
//! One [`Store`] behind one mutex; handlers hold the lock only for in-memory work and
//! never across an `.await`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use actix_web::http::StatusCode;
use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::cursor::PageKey;
use crate::data::Generator;
use crate::error::SimError;
use crate::model::{Application, GroupAccount, Status};
use crate::SimConfig;

/// The store, shared by every handler.
#[derive(Debug)]
pub struct Shared(Mutex<Store>);

impl Shared {
    /// Wraps a store.
    pub fn new(store: Store) -> Self {
        Self(Mutex::new(store))
    }

    /// Locks the store. A handler that panicked cannot leave it half-updated (every
    /// change is checked before it is made), so a poisoned lock is still usable.
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One status push received through `PUT /api/applications/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusChange {
    /// The application it was for.
    pub application_id: String,
    /// The status pushed.
    pub status: Status,
    /// When it arrived (RFC 3339, JST, milliseconds).
    pub at: String,
}

/// What `POST /_sim/faults` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultPlan {
    /// How many more `/api/*` requests it affects; `None` until cleared.
    pub remaining: Option<u32>,
    /// The status they answer; `None` to answer normally (after the delay).
    pub status: Option<StatusCode>,
    /// How long they wait before answering.
    pub delay: Duration,
    /// Answer `200` and close the connection part-way through the body.
    pub cut: bool,
    /// Answer nothing until the client gives up.
    pub hang: bool,
}

/// What to do to one request under a [`FaultPlan`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FaultAction {
    /// Answer this status instead of handling the request.
    pub status: Option<StatusCode>,
    /// Sleep this long first.
    pub delay: Duration,
    /// Close the connection part-way through the answer.
    pub cut: bool,
    /// Answer nothing until the client gives up.
    pub hang: bool,
}

/// Request counts for `GET /_sim/stats`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Per route, keyed `"METHOD /pattern"` (e.g. `GET /api/group-accounts/{id}/applications`).
    pub requests: BTreeMap<String, u64>,
    /// How many requests were answered by an injected fault.
    pub faulted: u64,
}

/// A page of a group's applications.
#[derive(Debug)]
pub struct Page {
    /// Oldest first.
    pub applications: Vec<Application>,
    /// Set when more applications follow.
    pub next: Option<PageKey>,
}

/// The simulated BizReach.
#[derive(Debug)]
pub struct Store {
    email: String,
    password: String,
    account_name: String,
    tokens: HashSet<String>,
    groups: Vec<GroupAccount>,
    applications: HashMap<String, Application>,
    /// Per group, its applications' ids in list order.
    by_group: HashMap<String, BTreeMap<PageKey, String>>,
    status_log: Vec<StatusChange>,
    faults: Option<FaultPlan>,
    stats: Stats,
    generator: Generator,
}

impl Store {
    /// A store filled from `config.seed`, with applications spread over the
    /// `config.days_back` days before `now`.
    pub fn seeded(config: &SimConfig, now: DateTime<FixedOffset>) -> Self {
        let groups = Generator::group_accounts(config.groups);
        let mut store = Self {
            email: config.email.clone(),
            password: config.password.clone(),
            account_name: config.account_name.clone(),
            tokens: HashSet::new(),
            by_group: groups
                .iter()
                .map(|g| (g.id.clone(), BTreeMap::new()))
                .collect(),
            groups,
            applications: HashMap::new(),
            status_log: Vec::new(),
            faults: None,
            stats: Stats::default(),
            generator: Generator::new(config.seed),
        };
        let group_ids: Vec<String> = store.groups.iter().map(|g| g.id.clone()).collect();
        for group_id in group_ids {
            for _ in 0..config.applications_per_group {
                let app = store.generator.application(now, config.days_back);
                store.insert(&group_id, app);
            }
        }
        store
    }

    /// Checks the credentials and opens a session; answers the account name and a token.
    pub fn sign_in(&mut self, email: &str, password: &str) -> Result<(String, String), SimError> {
        let email_matches = email.trim().eq_ignore_ascii_case(self.email.trim());
        if !email_matches || password != self.password {
            return Err(SimError::InvalidCredentials);
        }
        let token = format!("brs_{}", uuid::Uuid::new_v4().simple());
        self.tokens.insert(token.clone());
        Ok((self.account_name.clone(), token))
    }

    /// Whether `token` is one of the open sessions.
    pub fn is_signed_in(&self, token: &str) -> bool {
        self.tokens.contains(token)
    }

    /// Ends every session, so the next `/api/*` call needs a new sign-in.
    pub fn end_sessions(&mut self) {
        self.tokens.clear();
    }

    /// The group accounts, in id order.
    pub fn groups(&self) -> &[GroupAccount] {
        &self.groups
    }

    /// One application by id.
    pub fn application(&self, id: &str) -> Result<&Application, SimError> {
        self.applications
            .get(id)
            .ok_or_else(|| SimError::NotFound(format!("no application `{id}`")))
    }

    /// Up to `limit` applications of `group_id` applied at `since` or later, after `after`.
    pub fn page(
        &self,
        group_id: &str,
        since: Option<DateTime<FixedOffset>>,
        after: Option<&PageKey>,
        limit: usize,
    ) -> Result<Page, SimError> {
        let index = self.group_index(group_id)?;
        let from_since = since.map(|at| PageKey {
            applied_at: at.timestamp(),
            id: String::new(),
        });
        // The later of the two lower bounds; `since` is inclusive, a cursor is not.
        let lower = match (from_since, after) {
            (Some(s), Some(a)) if s > *a => Bound::Included(s),
            (_, Some(a)) => Bound::Excluded(a.clone()),
            (Some(s), None) => Bound::Included(s),
            (None, None) => Bound::Unbounded,
        };
        let mut keys = index.range((lower, Bound::Unbounded));
        let applications: Vec<Application> = keys
            .by_ref()
            .take(limit)
            .filter_map(|(_, id)| self.applications.get(id).cloned())
            .collect();
        let next = match (keys.next(), applications.last()) {
            (Some(_), Some(last)) => Some(key_of(last)),
            _ => None,
        };
        Ok(Page { applications, next })
    }

    /// Records a status push and applies it.
    pub fn push_status(
        &mut self,
        id: &str,
        status: Status,
        at: DateTime<FixedOffset>,
    ) -> Result<(), SimError> {
        self.set_status(id, status)?;
        self.status_log.push(StatusChange {
            application_id: id.to_owned(),
            status,
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, false),
        });
        Ok(())
    }

    /// Changes a status on the BizReach side, without logging it as a push.
    pub fn set_status(&mut self, id: &str, status: Status) -> Result<&Application, SimError> {
        let app = self
            .applications
            .get_mut(id)
            .ok_or_else(|| SimError::NotFound(format!("no application `{id}`")))?;
        app.status = status;
        Ok(app)
    }

    /// The status pushes, in arrival order.
    pub fn status_log(&self) -> &[StatusChange] {
        &self.status_log
    }

    /// The generator, to build applications that are then added with [`Store::add`].
    pub fn generator(&mut self) -> &mut Generator {
        &mut self.generator
    }

    /// Adds applications to a group, all or none: fails on an unknown group or an id
    /// that is taken (by a stored application or by another one of `apps`).
    pub fn add(&mut self, group_id: &str, apps: Vec<Application>) -> Result<(), SimError> {
        self.group_index(group_id)?;
        let mut ids = HashSet::new();
        for app in &apps {
            if self.applications.contains_key(&app.id) || !ids.insert(app.id.as_str()) {
                return Err(SimError::Conflict(format!(
                    "application id `{}` is already taken",
                    app.id
                )));
            }
        }
        for app in apps {
            self.insert(group_id, app);
        }
        Ok(())
    }

    /// Replaces the fault plan.
    pub fn set_faults(&mut self, plan: FaultPlan) {
        self.faults = Some(plan);
    }

    /// Clears the fault plan.
    pub fn clear_faults(&mut self) {
        self.faults = None;
    }

    /// Counts a request to `route` and tells what fault, if any, it meets.
    pub fn arrive(&mut self, route: String) -> Option<FaultAction> {
        *self.stats.requests.entry(route).or_default() += 1;
        let plan = self.faults.as_mut()?;
        let action = FaultAction {
            status: plan.status,
            delay: plan.delay,
            cut: plan.cut,
            hang: plan.hang,
        };
        match &mut plan.remaining {
            Some(0) => {
                self.faults = None;
                return None;
            }
            Some(n) => {
                *n -= 1;
                if *n == 0 {
                    self.faults = None;
                }
            }
            None => {}
        }
        if action.status.is_some() || action.cut || action.hang {
            self.stats.faulted += 1;
        }
        Some(action)
    }

    /// The request counts.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    fn group_index(&self, group_id: &str) -> Result<&BTreeMap<PageKey, String>, SimError> {
        self.by_group
            .get(group_id)
            .ok_or_else(|| SimError::NotFound(format!("no group account `{group_id}`")))
    }

    /// Inserts without checks: callers made sure the group exists and the id is free.
    fn insert(&mut self, group_id: &str, app: Application) {
        if let Some(index) = self.by_group.get_mut(group_id) {
            index.insert(key_of(&app), app.id.clone());
            self.applications.insert(app.id.clone(), app);
        }
    }
}

fn key_of(app: &Application) -> PageKey {
    PageKey {
        applied_at: app.applied_at.timestamp(),
        id: app.id.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration as Days;

    fn now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-11-20T10:15:00+09:00").unwrap()
    }

    fn store(per_group: usize) -> Store {
        let config = SimConfig {
            applications_per_group: per_group,
            ..SimConfig::default()
        };
        Store::seeded(&config, now())
    }

    fn all_pages(
        store: &Store,
        since: Option<DateTime<FixedOffset>>,
        limit: usize,
    ) -> Vec<Vec<Application>> {
        let mut pages = Vec::new();
        let mut after = None;
        loop {
            let page = store.page("grp-002", since, after.as_ref(), limit).unwrap();
            pages.push(page.applications);
            match page.next {
                Some(key) => after = Some(key),
                None => return pages,
            }
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_store() {
        let a = store(30);
        let b = store(30);
        let page = |s: &Store| s.page("grp-003", None, None, 500).unwrap().applications;
        assert_eq!(page(&a), page(&b));
        assert_eq!(page(&a).len(), 30);
    }

    #[test]
    fn pages_cover_the_group_once_oldest_first() {
        let store = store(45);
        let pages = all_pages(&store, None, 10);
        assert_eq!(
            pages.iter().map(Vec::len).collect::<Vec<_>>(),
            [10, 10, 10, 10, 5]
        );
        let flat: Vec<_> = pages.concat();
        assert_eq!(flat.len(), 45);
        assert!(flat.windows(2).all(|w| key_of(&w[0]) < key_of(&w[1])));
        let ids: HashSet<_> = flat.iter().map(|a| a.id.clone()).collect();
        assert_eq!(ids.len(), 45);
        for app in &flat {
            assert!(store
                .page("grp-001", None, None, 500)
                .unwrap()
                .applications
                .iter()
                .all(|o| o.id != app.id));
        }
    }

    #[test]
    fn an_exact_last_page_has_no_next_cursor() {
        let store = store(20);
        let pages = all_pages(&store, None, 10);
        assert_eq!(pages.len(), 2);
    }

    #[test]
    fn since_is_inclusive_and_filters_older_applications() {
        let store = store(60);
        let everything = store.page("grp-002", None, None, 500).unwrap().applications;
        let pivot = everything[everything.len() / 2].applied_at;
        let expected: Vec<_> = everything
            .iter()
            .filter(|a| a.applied_at >= pivot)
            .cloned()
            .collect();
        assert_eq!(all_pages(&store, Some(pivot), 7).concat(), expected);
        let later = all_pages(&store, Some(now() + Days::seconds(1)), 7);
        assert_eq!(later, vec![Vec::<Application>::new()]);
    }

    #[test]
    fn unknown_groups_are_not_found() {
        let err = store(1).page("grp-999", None, None, 10).unwrap_err();
        assert_eq!(err.code(), "not_found");
    }

    #[test]
    fn pushes_are_logged_and_change_the_status() {
        let mut store = store(2);
        let id = store.page("grp-001", None, None, 1).unwrap().applications[0]
            .id
            .clone();
        store.push_status(&id, Status::Rejected, now()).unwrap();
        store.set_status(&id, Status::Hired).unwrap();
        assert_eq!(store.status_log().len(), 1);
        assert_eq!(store.status_log()[0].status, Status::Rejected);
        assert_eq!(store.application(&id).unwrap().status, Status::Hired);
        assert!(store
            .push_status("br-app-nope", Status::New, now())
            .is_err());
    }

    #[test]
    fn a_counted_fault_runs_out() {
        let mut store = store(0);
        store.set_faults(FaultPlan {
            remaining: Some(2),
            status: Some(StatusCode::SERVICE_UNAVAILABLE),
            delay: Duration::ZERO,
            cut: false,
            hang: false,
        });
        assert!(store.arrive("GET /x".into()).is_some());
        assert!(store.arrive("GET /x".into()).is_some());
        assert!(store.arrive("GET /x".into()).is_none());
        assert_eq!(store.stats().requests["GET /x"], 3);
        assert_eq!(store.stats().faulted, 2);
    }
}
