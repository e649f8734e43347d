//! Career Relay invitations: created once per application, found by the hash of one of their
//! tokens (tracking, unsubscribe, Career Relay: each good for its own use only), clicks and
//! registrations recorded. Opt-outs are kept apart, per address ([`super::opt_outs`]).
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::{HashMap, HashSet};

use super::entities::invitation;
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{new_id, token_hash};
use crate::domain::invitation_policy::{Basis, PastInvitations};
use crate::domain::invitation_tokens::{InvitationTokens, TokenUse};

/// An invitation as `GET /v1/invitations` lists it.
#[derive(Clone, Debug, sea_orm::FromQueryResult)]
pub struct InvitationRow {
    pub id: String,
    pub application_id: String,
    pub candidate_id: String,
    pub recipient: Option<String>,
    pub basis: Option<String>,
    pub consent_given_at: Option<i64>,
    pub consent_method: Option<String>,
    pub created_at: i64,
    pub send_at: i64,
    pub clicked_first_at: Option<i64>,
    pub registered_at: Option<i64>,
    pub outbox_id: Option<String>,
    pub template_version: Option<i32>,
    pub sent_at: Option<i64>,
    pub cancel_reason: Option<String>,
    /// `scheduled`, `sent`, `cancelled`, `clicked` or `registered`.
    pub status: String,
}

/// An invitation to create.
pub struct NewInvitation<'a> {
    pub application_id: &'a str,
    pub candidate_id: &'a str,
    /// The normalised address it goes to.
    pub recipient: &'a str,
    pub tokens: &'a InvitationTokens,
    /// What it is sent on (特定電子メール法).
    pub basis: &'a Basis,
    pub send_at: i64,
    pub event_id: &'a str,
    /// The outbox row its email is queued as.
    pub outbox_id: &'a str,
}

impl Store {
    /// An invitation to store with [`Store::create_invitations`].
    pub fn new_invitation(new: NewInvitation<'_>) -> invitation::Model {
        invitation::Model {
            id: new_id("inv"),
            application_id: new.application_id.to_owned(),
            candidate_id: new.candidate_id.to_owned(),
            token_hash: token_hash(&new.tokens.tracking),
            unsubscribe_token_hash: Some(token_hash(&new.tokens.unsubscribe)),
            relay_token_hash: Some(token_hash(&new.tokens.career_relay)),
            basis: Some(new.basis.as_str().to_owned()),
            consent_given_at: new.basis.consent().map(|c| c.given_at),
            consent_method: new.basis.consent().map(|c| c.method.as_str().to_owned()),
            recipient: Some(new.recipient.to_owned()),
            send_at: new.send_at,
            outbox_id: Some(new.outbox_id.to_owned()),
            event_id: Some(new.event_id.to_owned()),
            created_at: crate::domain::time::now_millis(),
            clicked_first_at: None,
            clicked_last_at: None,
            clicks: 0,
            registered_at: None,
            registration_attributes: None,
        }
    }

    /// Stores invitations with one statement and answers, in order, whether each was: one
    /// whose application has an invitation already is not (one per application). Only when
    /// some were not are they looked up.
    pub async fn create_invitations<C: ConnectionTrait>(
        db: &C,
        invitations: &[invitation::Model],
    ) -> StoreResult<Vec<bool>> {
        let ids: Vec<&str> = invitations.iter().map(|i| i.id.as_str()).collect();
        super::insert_each::<invitation::Entity, _, _>(
            db,
            invitations.iter().cloned(),
            &ids,
            invitation::Column::Id,
            [invitation::Column::ApplicationId],
        )
        .await
    }

    /// Which of `application_ids` have an invitation.
    pub async fn invited_applications<C: ConnectionTrait>(
        db: &C,
        application_ids: &[&str],
    ) -> StoreResult<HashSet<String>> {
        if application_ids.is_empty() {
            return Ok(HashSet::new());
        }
        Ok(invitation::Entity::find()
            .select_only()
            .column(invitation::Column::ApplicationId)
            .filter(invitation::Column::ApplicationId.is_in(application_ids.iter().copied()))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect())
    }

    /// C8: the invitations each of `candidate_ids` has had (latest send time, registered):
    /// one query for all.
    pub async fn past_invitations<C: ConnectionTrait>(
        db: &C,
        candidate_ids: &[&str],
    ) -> StoreResult<HashMap<String, PastInvitations>> {
        if candidate_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<(String, Option<i64>, Option<i64>)> = invitation::Entity::find()
            .select_only()
            .column(invitation::Column::CandidateId)
            .column_as(invitation::Column::SendAt.max(), "latest_send_at")
            .column_as(invitation::Column::RegisteredAt.max(), "registered_at")
            .filter(invitation::Column::CandidateId.is_in(candidate_ids.iter().copied()))
            .group_by(invitation::Column::CandidateId)
            .into_tuple()
            .all(db)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(candidate, latest, registered)| {
                (
                    candidate,
                    PastInvitations {
                        latest_send_at: latest,
                        registered: registered.is_some(),
                    },
                )
            })
            .collect())
    }

    /// Invitations created in `[since, until)` (unix millis), newest first, at most `limit`, in
    /// `status` when given (as [`InvitationRow::status`] names it), with their mail's state.
    pub async fn list_invitations(
        &self,
        status: Option<&str>,
        since: Option<i64>,
        until: Option<i64>,
        limit: u64,
    ) -> StoreResult<Vec<InvitationRow>> {
        use sea_orm::FromQueryResult;
        let state = "CASE WHEN i.registered_at IS NOT NULL THEN 'registered' \
             WHEN i.clicked_first_at IS NOT NULL THEN 'clicked' \
             WHEN m.status = 'sent' THEN 'sent' \
             WHEN m.status IN ('cancelled', 'dead') THEN 'cancelled' \
             ELSE 'scheduled' END";
        let sql = format!(
            "SELECT i.id, i.application_id, i.candidate_id, i.recipient, i.basis, \
             i.consent_given_at, i.consent_method, i.created_at, \
             i.send_at, i.clicked_first_at, i.registered_at, i.outbox_id, m.template_version, \
             m.sent_at, COALESCE(m.cancel_reason, m.last_error) AS cancel_reason, {state} AS status \
             FROM invitations i LEFT JOIN mail_outbox m ON m.id = i.outbox_id \
             WHERE i.created_at >= ? AND i.created_at < ? AND (? = '' OR {state} = ?) \
             ORDER BY i.created_at DESC, i.id DESC LIMIT ?"
        );
        let status = status.unwrap_or_default();
        let values: Vec<sea_orm::Value> = vec![
            since.unwrap_or(i64::MIN).into(),
            until.unwrap_or(i64::MAX).into(),
            status.into(),
            status.into(),
            (limit as i64).into(),
        ];
        Ok(
            InvitationRow::find_by_statement(super::statement(self.backend(), &sql, values))
                .all(&self.db)
                .await?,
        )
    }

    /// The invitation an outbox row carries, if it carries one.
    pub async fn invitation_by_outbox<C: ConnectionTrait>(
        db: &C,
        outbox_id: &str,
    ) -> StoreResult<Option<invitation::Model>> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::OutboxId.eq(outbox_id))
            .one(db)
            .await?)
    }

    /// Notes which outbox row carries the invitation.
    pub async fn set_invitation_outbox<C: ConnectionTrait>(
        db: &C,
        id: &str,
        outbox_id: &str,
    ) -> StoreResult<()> {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::OutboxId, Expr::value(outbox_id))
            .filter(invitation::Column::Id.eq(id))
            .exec(db)
            .await?;
        // That mail may have been sent already: the funnel counts it.
        if let Some(invitation) = invitation::Entity::find_by_id(id).one(db).await? {
            Self::refresh_funnel(db, &[invitation.application_id.as_str()]).await?;
        }
        Ok(())
    }

    pub async fn invitation_for_application<C: ConnectionTrait>(
        db: &C,
        application_id: &str,
    ) -> StoreResult<Option<invitation::Model>> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::ApplicationId.eq(application_id))
            .one(db)
            .await?)
    }

    /// The invitation a token stands for, for `used_as` only: an unsubscribe token is no
    /// tracking token, and Career Relay's token opts nobody out. An invitation made before the
    /// tokens were split answers to its one token for every use.
    pub async fn invitation_by_token<C: ConnectionTrait>(
        db: &C,
        used_as: TokenUse,
        token: &str,
    ) -> StoreResult<Option<invitation::Model>> {
        use invitation::Column;
        let hash = token_hash(token);
        let own = match used_as {
            TokenUse::Tracking => {
                return Ok(invitation::Entity::find()
                    .filter(Column::TokenHash.eq(hash))
                    .one(db)
                    .await?)
            }
            TokenUse::Unsubscribe => Column::UnsubscribeTokenHash,
            TokenUse::CareerRelay => Column::RelayTokenHash,
        };
        Ok(invitation::Entity::find()
            .filter(
                Condition::any().add(own.eq(hash.as_str())).add(
                    Condition::all()
                        .add(own.is_null())
                        .add(Column::TokenHash.eq(hash.as_str())),
                ),
            )
            .one(db)
            .await?)
    }

    /// C2: records a click on the tracking link (first and latest); `None` for an unknown token.
    pub async fn record_click<C: ConnectionTrait>(
        db: &C,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<invitation::Model>> {
        let Some(found) = Self::invitation_by_token(db, TokenUse::Tracking, token).await? else {
            return Ok(None);
        };
        invitation::Entity::update_many()
            .col_expr(
                invitation::Column::ClickedFirstAt,
                Expr::value(found.clicked_first_at.unwrap_or(now)),
            )
            .col_expr(invitation::Column::ClickedLastAt, Expr::value(now))
            .col_expr(
                invitation::Column::Clicks,
                Expr::col(invitation::Column::Clicks).add(1),
            )
            .filter(invitation::Column::Id.eq(found.id.as_str()))
            .exec(db)
            .await?;
        if found.clicked_first_at.is_none() {
            Self::refresh_funnel(db, &[found.application_id.as_str()]).await?;
        }
        Ok(Some(found))
    }

    /// Records a Career Relay registration on the invitation of Career Relay's `token`.
    pub async fn record_registration<C: ConnectionTrait>(
        db: &C,
        token: &str,
        at: i64,
        attributes: &serde_json::Value,
    ) -> StoreResult<invitation::Model> {
        let found = Self::invitation_by_token(db, TokenUse::CareerRelay, token)
            .await?
            .ok_or_else(|| StoreError::NotFound("invitation for that token".into()))?;
        if found.registered_at.is_none() {
            invitation::Entity::update_many()
                .col_expr(invitation::Column::RegisteredAt, Expr::value(at))
                .col_expr(
                    invitation::Column::RegistrationAttributes,
                    Expr::value(attributes.to_string()),
                )
                .filter(invitation::Column::Id.eq(found.id.as_str()))
                .exec(db)
                .await?;
            Self::refresh_funnel(db, &[found.application_id.as_str()]).await?;
        }
        invitation::Entity::find_by_id(found.id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound("invitation".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::store;

    async fn found(store: &Store, used_as: TokenUse, token: &str) -> Option<String> {
        Store::invitation_by_token(&store.db, used_as, token)
            .await
            .unwrap()
            .map(|i| i.application_id)
    }

    #[tokio::test]
    async fn each_token_opens_its_own_use_and_an_older_invitation_keeps_its_one_token() {
        let (_dir, store) = store().await;
        let tokens = InvitationTokens::new();
        let split = Store::new_invitation(NewInvitation {
            application_id: "app_new",
            candidate_id: "cand_1",
            recipient: "a@example.jp",
            tokens: &tokens,
            basis: &Basis::BusinessRelationship,
            send_at: 0,
            event_id: "evt_1",
            outbox_id: "mail_1",
        });
        // As m0008 leaves an invitation made before it: one token, no split hashes.
        let mut older = Store::new_invitation(NewInvitation {
            application_id: "app_old",
            candidate_id: "cand_2",
            recipient: "b@example.jp",
            tokens: &InvitationTokens::from_tracking("legacy".into()),
            basis: &Basis::BusinessRelationship,
            send_at: 0,
            event_id: "evt_2",
            outbox_id: "mail_2",
        });
        older.unsubscribe_token_hash = None;
        older.relay_token_hash = None;
        Store::create_invitations(&store.db, &[split, older])
            .await
            .unwrap();

        let new = Some("app_new".to_owned());
        assert_eq!(
            found(&store, TokenUse::Tracking, &tokens.tracking).await,
            new
        );
        assert_eq!(
            found(&store, TokenUse::Unsubscribe, &tokens.unsubscribe).await,
            new
        );
        assert_eq!(
            found(&store, TokenUse::CareerRelay, &tokens.career_relay).await,
            new
        );
        for (used_as, token) in [
            (TokenUse::Tracking, &tokens.unsubscribe),
            (TokenUse::Tracking, &tokens.career_relay),
            (TokenUse::Unsubscribe, &tokens.tracking),
            (TokenUse::Unsubscribe, &tokens.career_relay),
            (TokenUse::CareerRelay, &tokens.tracking),
            (TokenUse::CareerRelay, &tokens.unsubscribe),
        ] {
            assert_eq!(found(&store, used_as, token).await, None, "{used_as:?}");
        }
        for used_as in [
            TokenUse::Tracking,
            TokenUse::Unsubscribe,
            TokenUse::CareerRelay,
        ] {
            assert_eq!(
                found(&store, used_as, "legacy").await,
                Some("app_old".to_owned()),
                "{used_as:?}"
            );
        }
    }

    /// `m0008_invitation_tokens` can be undone and redone.
    #[tokio::test]
    async fn the_token_split_migration_rolls_back_and_forward() {
        use migrations::{Migrator, MigratorTrait};
        let (_dir, store) = store().await;
        let before_m0008 = Migrator::migrations()
            .iter()
            .position(|m| m.name() == "m0008_invitation_tokens")
            .unwrap() as u32;
        let after = Migrator::migrations().len() as u32 - before_m0008;
        Migrator::down(&store.db, Some(after)).await.unwrap();
        assert!(
            Store::invitation_by_token(&store.db, TokenUse::CareerRelay, "x")
                .await
                .is_err()
        );
        Migrator::up(&store.db, None).await.unwrap();
        assert_eq!(found(&store, TokenUse::CareerRelay, "x").await, None);
    }
}
