//! P5: before switching progress sync on for a group, what it would overwrite on BizReach:
//! each covered application whose mapped ATS status differs from what BizReach shows.
use serde::Serialize;

use super::ProgressSync;
use crate::domain::status::AtsStatus;
use crate::store::{Store, StoreResult};

/// One application whose BizReach status would be overwritten.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PreviewItem {
    pub application_id: String,
    pub source_application_id: Option<String>,
    pub candidate_name: Option<String>,
    pub ats_status: String,
    /// What BizReach shows, as hirelay last saw it (`null`: not known).
    pub bizreach_status_now: Option<String>,
    /// What sync would push.
    pub bizreach_status_after: String,
}

/// What switching sync on for a group would overwrite.
#[derive(Clone, Debug, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Preview {
    pub group_account_id: String,
    /// Whether sync is on for the group now.
    pub progress_sync: bool,
    pub items: Vec<PreviewItem>,
    pub count: u64,
}

impl ProgressSync {
    /// P5: the preview of `group` (sync on or off); not found for an unknown group.
    pub async fn preview(&self, group: &str) -> StoreResult<Preview> {
        let account = Store::group_account(&self.store.db, group).await?;
        let items: Vec<PreviewItem> = self
            .store
            .covered_applications_of_group(group)
            .await?
            .into_iter()
            .filter_map(|covered| {
                let app = covered.application;
                let ats = AtsStatus::parse(&app.status).ok()?;
                let after = self
                    .mapping
                    .would_overwrite(ats, app.source_status.as_deref())?;
                Some(PreviewItem {
                    application_id: app.id,
                    source_application_id: app.source_application_id,
                    candidate_name: covered.candidate_name,
                    ats_status: app.status,
                    bizreach_status_now: app.source_status,
                    bizreach_status_after: after.as_str().to_owned(),
                })
            })
            .collect();
        Ok(Preview {
            group_account_id: account.id,
            progress_sync: account.progress_sync,
            count: items.len() as u64,
            items,
        })
    }
}
