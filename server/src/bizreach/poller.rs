//! I2, I3: the poller asks BizReach for each linked group's new applications and stores each as
//! an event, the same way a pushed webhook is stored.
//!
//! A group's poll starts at its `poll_since` (at first its `linked_at`, never earlier: I2) and
//! walks the pages, saving the cursor in the transaction that stores each page's events. A poll
//! that stops half-way (a crash, BizReach failing) continues from the saved cursor next time: no
//! gap, and a page stored twice gives duplicates by `webhook-id`, not new events. At the end of
//! the list `poll_since` moves to the newest `applied_at` seen and the cursor is cleared.
use chrono::{TimeZone, Utc};
use futures_util::StreamExt;
use serde::Serialize;
use std::sync::Arc;

use super::client::BizreachClient;
use super::events::{pulled_event, PullKind};
use super::BizreachError;
use crate::domain::time::now_millis;
use crate::store::entities::group_account;
use crate::store::events::{InsertOutcome, NewEvent};
use crate::store::group_accounts::PollPosition;
use crate::store::Store;

/// What one run did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PollReport {
    /// Linked group accounts polled.
    pub groups: u64,
    /// Applications BizReach listed.
    pub fetched: u64,
    /// Events stored now.
    pub new_events: u64,
    /// Applications already stored unchanged.
    pub duplicates: u64,
    pub errors: Vec<PollError>,
}

/// A group (or an application of it) that could not be polled.
impl PollReport {
    /// Adds another (a group's) report to this one.
    fn add(&mut self, other: PollReport) {
        self.groups += other.groups;
        self.fetched += other.fetched;
        self.new_events += other.new_events;
        self.duplicates += other.duplicates;
        self.errors.extend(other.errors);
    }
}

/// How many group accounts a poll fetches at once.
const GROUPS_AT_ONCE: usize = 4;

#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PollError {
    pub group_account_id: String,
    pub message: String,
}

/// The BizReach poller.
#[derive(Clone)]
pub struct Poller {
    pub store: Store,
    pub client: Option<BizreachClient>,
    /// Woken when new events were stored.
    pub queue_wake: Arc<tokio::sync::Notify>,
    /// Records each event's person (issue 16).
    pub key: crate::crypto::AddressKey,
}

impl Poller {
    /// Polls every linked group account once. A group that fails is reported and the others
    /// are still polled; with no source API configured the run fails.
    pub async fn poll(&self) -> Result<PollReport, BizreachError> {
        let client = self.client.as_ref().ok_or(BizreachError::NotConfigured)?;
        let groups = self.store.linked_group_accounts().await?;
        // Groups are fetched side by side: each one's pages wait on BizReach, not on the others.
        let reports: Vec<PollReport> = futures_util::stream::iter(groups)
            .map(|group| async move {
                let mut report = PollReport {
                    groups: 1,
                    ..PollReport::default()
                };
                if let Err(e) = self.poll_group(client, &group, &mut report).await {
                    tracing::warn!(group = %group.id, error = %e, "polling a group account failed");
                    report.errors.push(PollError {
                        group_account_id: group.id.clone(),
                        message: e.to_string(),
                    });
                }
                report
            })
            .buffered(GROUPS_AT_ONCE)
            .collect()
            .await;
        let mut report = PollReport::default();
        for each in reports {
            report.add(each);
        }
        if report.new_events > 0 {
            self.queue_wake.notify_waiters();
        }
        tracing::info!(
            groups = report.groups,
            fetched = report.fetched,
            new_events = report.new_events,
            duplicates = report.duplicates,
            errors = report.errors.len(),
            "BizReach poll done"
        );
        Ok(report)
    }

    async fn poll_group(
        &self,
        client: &BizreachClient,
        group: &group_account::Model,
        report: &mut PollReport,
    ) -> Result<(), BizreachError> {
        let Some(linked_at) = group.linked_at else {
            return Err(BizreachError::Store(crate::store::StoreError::Corrupt(
                format!("group account `{}` is linked without linked_at", group.id),
            )));
        };
        // BizReach gives `applied_at` in whole seconds: an application made in the second of
        // the link counts as made after it.
        let linked_at = linked_at - linked_at.rem_euclid(1000);
        let since_millis = group.poll_since.unwrap_or(linked_at).max(linked_at);
        let since = Utc
            .timestamp_millis_opt(since_millis)
            .single()
            .unwrap_or_default();
        let mut cursor = group.poll_cursor.clone();
        let mut newest = since_millis;
        loop {
            let page = client
                .applications(&group.id, Some(since), cursor.as_deref())
                .await?;
            let mut events: Vec<NewEvent> = Vec::with_capacity(page.applications.len());
            for raw in &page.applications {
                report.fetched += 1;
                match pulled_event(&group.id, raw, PullKind::Poll, &self.key) {
                    Ok(pulled) => {
                        let applied_at = pulled.event.application.applied_at.timestamp_millis();
                        newest = newest.max(applied_at);
                        // I2: never an application made before the link, whatever the source sends.
                        if applied_at >= linked_at {
                            events.push(pulled.new);
                        }
                    }
                    Err(e) => report.errors.push(PollError {
                        group_account_id: group.id.clone(),
                        message: format!(
                            "application {}: {e}",
                            raw.get("id").and_then(|v| v.as_str()).unwrap_or("?")
                        ),
                    }),
                }
            }
            let position = PollPosition {
                group_account_id: &group.id,
                cursor: page.next_cursor.as_deref(),
                // At the end of the list, the next poll starts from the newest seen.
                since: page.next_cursor.is_none().then_some(newest),
                now: now_millis(),
            };
            let stored = self.store.store_polled_page(&events, &position).await?;
            let (new, duplicates) = count_stored(&stored);
            if new > 0 {
                // Processing starts on each page as it is stored, not after the whole poll.
                self.queue_wake.notify_waiters();
            }
            report.new_events += new;
            report.duplicates += duplicates;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(()),
            }
        }
    }
}

/// `(new, duplicates)` of stored pulled events.
pub fn count_stored(outcomes: &[InsertOutcome]) -> (u64, u64) {
    let new = outcomes
        .iter()
        .filter(|o| **o == InsertOutcome::Accepted)
        .count() as u64;
    // A webhook id carries the body hash (poll) or is stored once (backfill): a conflict
    // means the same application was pushed under this id before, a duplicate too.
    (new, outcomes.len() as u64 - new)
}
