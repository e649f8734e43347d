//! Career Relay invitations: created once per application, found by the hash of their tracking
//! token, clicks and registrations recorded, opt-outs kept on the candidate.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use std::collections::HashSet;

use super::entities::{candidate, invitation};
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{new_id, token_hash};

/// An invitation to create.
pub struct NewInvitation<'a> {
    pub application_id: &'a str,
    pub candidate_id: &'a str,
    pub token: &'a str,
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
            token_hash: token_hash(new.token),
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

    pub async fn invitation_by_token<C: ConnectionTrait>(
        db: &C,
        token: &str,
    ) -> StoreResult<Option<invitation::Model>> {
        Ok(invitation::Entity::find()
            .filter(invitation::Column::TokenHash.eq(token_hash(token)))
            .one(db)
            .await?)
    }

    /// C2: records a click on the tracking link (first and latest); `None` for an unknown token.
    pub async fn record_click<C: ConnectionTrait>(
        db: &C,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<invitation::Model>> {
        let Some(found) = Self::invitation_by_token(db, token).await? else {
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
        Ok(Some(found))
    }

    /// Records a Career Relay registration on the invitation of `token`.
    pub async fn record_registration<C: ConnectionTrait>(
        db: &C,
        token: &str,
        at: i64,
        attributes: &serde_json::Value,
    ) -> StoreResult<invitation::Model> {
        let found = Self::invitation_by_token(db, token)
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
        }
        invitation::Entity::find_by_id(found.id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound("invitation".into()))
    }

    /// C8: opts the candidate of an invitation's token out; answers the candidate, or `None`
    /// for an unknown token. Opting out twice changes nothing.
    pub async fn opt_out_by_token<C: ConnectionTrait>(
        db: &C,
        token: &str,
        now: i64,
    ) -> StoreResult<Option<candidate::Model>> {
        let Some(found) = Self::invitation_by_token(db, token).await? else {
            return Ok(None);
        };
        candidate::Entity::update_many()
            .col_expr(candidate::Column::OptedOutAt, Expr::value(now))
            .filter(candidate::Column::Id.eq(found.candidate_id.as_str()))
            .filter(candidate::Column::OptedOutAt.is_null())
            .exec(db)
            .await?;
        Ok(candidate::Entity::find_by_id(found.candidate_id)
            .one(db)
            .await?)
    }
}
