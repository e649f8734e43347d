//! B1–B4: importing a linked group's earlier applications on an admin's request.
//!
//! Fetches the group's whole history (so the answer can count what is too old, rather than not
//! see it), selects with
//! [`select_backfill`] (the latest 500 of the year, not rejected/declined/hired, not imported
//! yet) and stores each as an event with `webhook-id` `backfill:{application id}`, so running
//! it again imports nothing twice.
use chrono::Utc;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

use super::client::BizreachClient;
use super::events::{pulled_event, PullKind, PulledEvent};
use super::poller::count_stored;
use super::BizreachError;
use crate::domain::backfill::{select_backfill, BackfillCandidate, Skipped};
use crate::domain::link::LinkState;
use crate::store::{Store, StoreError};

/// Why a backfill was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    #[error("group account `{id}` is {state} ({state_ja}): a backfill is only for linked group accounts (B2)")]
    NotLinked {
        id: String,
        state: &'static str,
        state_ja: &'static str,
    },
    #[error("進捗連携がオンのため、グループアカウント `{id}` の過去応募は取り込めません。先に進捗連携をオフにしてください。 / Backfill refused: progress sync is on for group account `{id}`, and backfilled applications arrive as new ones, which sync would push over BizReach's real progress (B4). Switch it off first: PUT /v1/group-accounts/{id}/progress-sync {{\"enabled\": false}}")]
    ProgressSyncOn { id: String },
    #[error(transparent)]
    Bizreach(#[from] BizreachError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a backfill did.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BackfillReport {
    pub imported: u64,
    pub skipped: Skipped,
}

/// What a backfill needs.
pub struct Backfill<'a> {
    pub store: &'a Store,
    pub client: Option<&'a BizreachClient>,
    pub queue_wake: &'a Arc<tokio::sync::Notify>,
    /// Records each event's person (issue 16).
    pub key: &'a crate::crypto::AddressKey,
}

impl Backfill<'_> {
    /// Runs a backfill of group account `id` and answers when every event is stored.
    pub async fn run(&self, id: &str, actor: &str) -> Result<BackfillReport, BackfillError> {
        let group = Store::group_account(&self.store.db, id).await?;
        let state = super::linking::current_state(&group)?;
        if state != LinkState::Linked {
            return Err(BackfillError::NotLinked {
                id: id.to_owned(),
                state: state.as_str(),
                state_ja: state.japanese(),
            });
        }
        if group.progress_sync {
            return Err(BackfillError::ProgressSyncOn { id: id.to_owned() });
        }
        let client = self.client.ok_or(BizreachError::NotConfigured)?;
        let now = Utc::now();
        let mut pulled: HashMap<String, PulledEvent> = HashMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = client.applications(id, None, cursor.as_deref()).await?;
            for raw in &page.applications {
                match pulled_event(id, raw, PullKind::Backfill, self.key) {
                    Ok(p) => {
                        pulled.insert(p.event.application.id.as_str().to_owned(), p);
                    }
                    Err(e) => {
                        tracing::warn!(group = id, error = %e, "backfill: an application BizReach listed is malformed; skipped")
                    }
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let candidates: Vec<BackfillCandidate> = pulled
            .values()
            .map(|p| BackfillCandidate {
                id: p.event.application.id.as_str().to_owned(),
                applied_at: p.event.application.applied_at.with_timezone(&Utc),
                status: p.event.application.status,
            })
            .collect();
        let ids: Vec<String> = candidates.iter().map(|c| c.id.clone()).collect();
        let already = self.store.imported_bizreach_ids(&ids).await?;
        let selection = select_backfill(&candidates, now, &already);
        let events: Vec<_> = selection
            .take
            .iter()
            .filter_map(|id| pulled.remove(id).map(|p| p.new))
            .collect();
        let (imported, duplicates) = count_stored(&self.store.insert_events(&events).await?);
        let mut skipped = selection.skipped;
        // Stored meanwhile (another backfill at the same moment): already imported after all.
        skipped.already_imported += duplicates;
        if imported > 0 {
            self.queue_wake.notify_waiters();
        }
        let report = BackfillReport { imported, skipped };
        Store::audit(
            &self.store.db,
            actor,
            "group_account.backfill",
            id,
            serde_json::to_value(&report).unwrap_or_default(),
        )
        .await?;
        tracing::info!(group = id, imported, ?skipped, "backfill done");
        Ok(report)
    }
}
