//! I8: routing applications from the import inbox to a job in bulk, optionally registering the
//! rule `BizReach {position} → {job}` so later imports of that position route themselves (I7).
//! Everything happens in one transaction, with one `application.routed` webhook queued per
//! routed application.
use sea_orm::TransactionTrait;

use crate::domain::time::{now_millis, rfc3339};
use crate::store::inbox::BIZREACH;
use crate::store::{Store, StoreError};

/// The outbound event type queued per routed application.
pub use crate::domain::outbound_events::APPLICATION_ROUTED;

/// The `application.routed` payload the ATS picks the application up with; the same whether
/// an admin routed it from the inbox or a script routed it on import.
pub fn routed_payload(
    app: &crate::store::entities::application::Model,
    job: &crate::store::entities::job::Model,
    rule_id: Option<&str>,
    now: i64,
) -> serde_json::Value {
    serde_json::json!({
        "type": APPLICATION_ROUTED,
        "application_id": app.id,
        "source": {"system": app.source_system, "application_id": app.source_application_id},
        "group_account_id": app.group_account_id,
        "position_name": app.position_name,
        "job": {"id": job.id, "title": job.title, "ats_job_id": job.ats_job_id},
        "rule_id": rule_id,
        "routed_at": rfc3339(now),
    })
}

/// What an admin picked in the inbox.
pub struct RouteRequest<'a> {
    pub application_ids: &'a [String],
    pub job_id: &'a str,
    pub register_rule: bool,
    pub actor: &'a str,
}

/// What routing did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteOutcome {
    pub routed: u64,
    pub rule_id: Option<String>,
    /// `BizReach {position} → {job title}` when a rule was registered.
    pub rule_name: Option<String>,
}

/// Why nothing was routed.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    #[error("choose at least one application")]
    NoApplications,
    #[error("job `{0}` does not exist")]
    UnknownJob(String),
    #[error("these applications are not BizReach imports hirelay knows: {}", .0.join(", "))]
    UnknownApplications(Vec<String>),
    #[error("these applications are not in the inbox any more (already routed): {}", .0.join(", "))]
    AlreadyRouted(Vec<String>),
    #[error("to register a rule, the applications must share one position name; they have: {}", .0.join(" / "))]
    MixedPositions(Vec<String>),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for InboxError {
    fn from(e: sea_orm::DbErr) -> Self {
        InboxError::Store(e.into())
    }
}

/// Routes the chosen inbox applications to the job, in one transaction.
pub async fn route_from_inbox(
    store: &Store,
    request: RouteRequest<'_>,
) -> Result<RouteOutcome, InboxError> {
    let mut ids: Vec<String> = request.application_ids.to_vec();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Err(InboxError::NoApplications);
    }
    let now = now_millis();
    let job = Store::find_job(&store.db, request.job_id)
        .await?
        .ok_or_else(|| InboxError::UnknownJob(request.job_id.to_owned()))?;
    let apps: Vec<_> = Store::applications_by_ids(&store.db, &ids)
        .await?
        .into_iter()
        .filter(|a| a.source_system.as_deref() == Some(BIZREACH))
        .collect();
    let unknown: Vec<String> = ids
        .iter()
        .filter(|id| !apps.iter().any(|a| &a.id == *id))
        .cloned()
        .collect();
    if !unknown.is_empty() {
        return Err(InboxError::UnknownApplications(unknown));
    }
    let routed_before: Vec<String> = apps
        .iter()
        .filter(|a| a.job_id.is_some())
        .map(|a| a.id.clone())
        .collect();
    if !routed_before.is_empty() {
        return Err(InboxError::AlreadyRouted(routed_before));
    }
    // Validated above from reads; the transaction starts with its write (on SQLite it then
    // holds the write lock), and a concurrent route of the same applications shows as fewer rows.
    let _turn = store.write_turn().await;
    let txn = store.db.begin().await?;
    let result = async {
        let routed = Store::route_applications(&txn, &ids, &job.id, now).await?;
        if routed != ids.len() as u64 {
            return Err(InboxError::AlreadyRouted(ids));
        }
        let mut rule_id = None;
        let mut rule_name = None;
        if request.register_rule {
            let mut positions: Vec<String> = apps
                .iter()
                .map(|a| a.position_name.clone().unwrap_or_default())
                .collect();
            positions.sort();
            positions.dedup();
            let [position] = positions.as_slice() else {
                return Err(InboxError::MixedPositions(positions));
            };
            if position.is_empty() {
                return Err(InboxError::MixedPositions(positions));
            }
            let rule =
                Store::create_routing_rule(&txn, position, &job.id, request.actor, now).await?;
            rule_name = Some(format!("BizReach {position} → {}", job.title));
            rule_id = Some(rule.id);
        }
        for app in &apps {
            let payload = routed_payload(app, &job, rule_id.as_deref(), now);
            Store::enqueue_webhook(
                &txn,
                APPLICATION_ROUTED,
                &payload,
                &format!("{APPLICATION_ROUTED}:{}:{}", app.id, job.id),
            )
            .await?;
        }
        Store::audit(
            &txn,
            request.actor,
            "inbox.route",
            &job.id,
            serde_json::json!({
                "applications": ids,
                "routed": routed,
                "rule_id": rule_id,
                "rule": rule_name,
            }),
        )
        .await?;
        Ok(RouteOutcome {
            routed,
            rule_id,
            rule_name,
        })
    }
    .await;
    crate::store::end_transaction(txn, result).await
}
