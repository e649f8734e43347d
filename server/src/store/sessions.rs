//! Console sign-in sessions (issue 14): the cookie's value is stored only as its hash; a session
//! ends at its absolute expiry, after an idle time, at sign-out, or when its user is disabled.
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::{session, user};
use super::{Store, StoreResult};
use crate::domain::ids::{new_id, new_token, token_hash};

/// How stale `last_seen_at` may get before a request writes it again (as for API tokens).
const LAST_SEEN_PRECISION_MS: i64 = 60_000;

/// A new session: the cookie value (shown once, to the browser) and the CSRF token.
pub struct NewSession {
    pub cookie: String,
    pub csrf_token: String,
    pub expires_at: i64,
}

impl Store {
    /// Opens a session for `user_id` that ends at `expires_at` at the latest.
    pub async fn create_session(
        &self,
        user_id: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<NewSession> {
        let cookie = new_token();
        let csrf_token = new_token();
        session::Entity::insert(session::ActiveModel {
            id: Set(new_id("ses")),
            id_hash: Set(token_hash(&cookie)),
            user_id: Set(user_id.to_owned()),
            csrf_token: Set(csrf_token.clone()),
            created_at: Set(now),
            last_seen_at: Set(now),
            expires_at: Set(expires_at),
        })
        .exec(&self.db)
        .await?;
        Ok(NewSession {
            cookie,
            csrf_token,
            expires_at,
        })
    }

    /// The session a cookie names and its user, while the session has not expired at `now`
    /// (absolute expiry, or `idle_ms` since it was last seen); notes that it was seen.
    pub async fn live_session(
        &self,
        cookie: &str,
        now: i64,
        idle_ms: i64,
    ) -> StoreResult<Option<(session::Model, user::Model)>> {
        let Some(session) = session::Entity::find()
            .filter(session::Column::IdHash.eq(token_hash(cookie)))
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        let Some(user) = user::Entity::find_by_id(&session.user_id)
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        if session.expires_at <= now || session.last_seen_at + idle_ms <= now {
            session::Entity::delete_by_id(&session.id)
                .exec(&self.db)
                .await?;
            return Ok(None);
        }
        if now - session.last_seen_at >= LAST_SEEN_PRECISION_MS {
            // Bookkeeping only: a failure to write it never refuses the request.
            if let Err(e) = session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, now.into())
                .filter(session::Column::Id.eq(&session.id))
                .exec(&self.db)
                .await
            {
                tracing::warn!(session_id = %session.id, error = %e, "cannot note the session's last use");
            }
        }
        Ok(Some((session, user)))
    }

    /// Ends the session a cookie names (signing out); nothing when there is none.
    pub async fn end_session(&self, cookie: &str) -> StoreResult<()> {
        session::Entity::delete_many()
            .filter(session::Column::IdHash.eq(token_hash(cookie)))
            .exec(&self.db)
            .await?;
        Ok(())
    }

    /// Ends every session of `user_id` (disabled, or its password changed).
    pub async fn end_sessions_of<C: ConnectionTrait>(db: &C, user_id: &str) -> StoreResult<u64> {
        Ok(session::Entity::delete_many()
            .filter(session::Column::UserId.eq(user_id))
            .exec(db)
            .await?
            .rows_affected)
    }
}
