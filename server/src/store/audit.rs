//! The audit log: who changed which script, template or setting.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entities::audit_entry;
use super::{Store, StoreResult};

/// The audit action of a read of a candidate's personal data.
pub const CANDIDATE_READ: &str = "candidate.read";

/// One candidate's data read through `target` (an application, an event).
pub struct CandidateRead<'a> {
    pub target: &'a str,
    pub candidate: &'a str,
}

impl Store {
    /// Appends an entry, inside the caller's transaction when it passes one.
    pub async fn audit<C: ConnectionTrait>(
        db: &C,
        actor: &str,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        Self::audit_candidate(db, actor, action, target, None, detail).await
    }

    /// [`Store::audit`] of a read or change of one candidate's data (issue 16), found again by
    /// [`Store::audit_entries`] with `candidate`.
    pub async fn audit_candidate<C: ConnectionTrait>(
        db: &C,
        actor: &str,
        action: &str,
        target: &str,
        candidate: Option<&str>,
        detail: serde_json::Value,
    ) -> StoreResult<()> {
        audit_entry::Entity::insert(audit_entry::ActiveModel {
            id: Default::default(),
            at: Set(crate::domain::time::now_millis()),
            actor: Set(actor.to_owned()),
            action: Set(action.to_owned()),
            target: Set(target.to_owned()),
            detail: Set(detail.to_string()),
            candidate_id: Set(candidate.map(str::to_owned)),
        })
        .exec(db)
        .await?;
        Ok(())
    }

    /// Issue 16: an admin's read of candidates' personal data, one `candidate.read` entry per
    /// candidate (what was read as its target, the endpoint as `via`), in one statement. The
    /// one way every endpoint that shows names or addresses records its reads.
    pub async fn audit_candidate_reads<C: ConnectionTrait>(
        db: &C,
        actor: &str,
        via: &str,
        reads: &[CandidateRead<'_>],
    ) -> StoreResult<()> {
        if reads.is_empty() {
            return Ok(());
        }
        let at = crate::domain::time::now_millis();
        let detail = serde_json::json!({ "via": via }).to_string();
        audit_entry::Entity::insert_many(reads.iter().map(|read| audit_entry::ActiveModel {
            id: Default::default(),
            at: Set(at),
            actor: Set(actor.to_owned()),
            action: Set(CANDIDATE_READ.to_owned()),
            target: Set(read.target.to_owned()),
            detail: Set(detail.clone()),
            candidate_id: Set(Some(read.candidate.to_owned())),
        }))
        .exec(db)
        .await?;
        Ok(())
    }

    /// The newest entries first.
    pub async fn audit_entries(&self, limit: u64) -> StoreResult<Vec<audit_entry::Model>> {
        self.audit_entries_about(limit, None).await
    }

    /// The newest entries first; only those about one candidate when `candidate` is given.
    pub async fn audit_entries_about(
        &self,
        limit: u64,
        candidate: Option<&str>,
    ) -> StoreResult<Vec<audit_entry::Model>> {
        let mut query = audit_entry::Entity::find();
        if let Some(candidate) = candidate {
            query = query.filter(audit_entry::Column::CandidateId.eq(candidate));
        }
        Ok(query
            .order_by(audit_entry::Column::Id, Order::Desc)
            .limit(limit)
            .all(&self.db)
            .await?)
    }
}
