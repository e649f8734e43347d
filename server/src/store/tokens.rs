//! API tokens: created once (the token is shown once), stored as a hash, looked up by hash;
//! listed without their secret, revoked by id, refused after their expiry.
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
};

use super::entities::api_token;
use super::{Store, StoreError, StoreResult};
use crate::domain::ids::{new_id, new_token, token_hash};
use crate::domain::role::{Role, Scope};
use crate::domain::status::EventSource;

/// A caller's identity, as requests carry it: an API token's, or a signed-in user's (then
/// `id` is the user's and `email` is set).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIdentity {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The person's address, for a console user.
    pub email: Option<String>,
    /// The webhook source an integrator token is bound to (issue 15).
    pub source: Option<EventSource>,
}

impl TokenIdentity {
    /// What of the events and outbound webhooks this caller reaches.
    pub fn scope(&self) -> Scope {
        Scope::of(self.role, self.source)
    }
}

/// A token to create.
#[derive(Clone, Debug)]
pub struct NewToken<'a> {
    pub name: &'a str,
    pub role: Role,
    /// Only for an integrator: the webhook source it is bound to.
    pub source: Option<EventSource>,
    /// Refused after this (unix milliseconds); `None`: never.
    pub expires_at: Option<i64>,
}

/// What a presented token turns out to be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TokenCheck {
    Valid(TokenIdentity),
    /// Known and not revoked, but past its expiry.
    Expired,
    /// Unknown, or revoked.
    Unknown,
}

/// A token as `hirelay token list` shows it: everything but the secret, which is not stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    /// The webhook source of an integrator token bound to one.
    pub source: Option<String>,
}

/// How stale `last_used_at` may get before a request writes it again: a write a minute per
/// token at most, not one per request.
const LAST_USED_PRECISION_MS: i64 = 60_000;

impl Store {
    /// Creates a token that never expires; answers its identity and the token itself, which is
    /// not stored.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
    ) -> StoreResult<(TokenIdentity, String)> {
        self.create_token_expiring(name, role, None).await
    }

    /// Creates a token refused after `expires_at` (unix milliseconds) if given.
    pub async fn create_token_expiring(
        &self,
        name: &str,
        role: Role,
        expires_at: Option<i64>,
    ) -> StoreResult<(TokenIdentity, String)> {
        self.create_token_with(&NewToken {
            name,
            role,
            source: None,
            expires_at,
        })
        .await
    }

    /// Creates `new`; answers its identity and the token itself, which is not stored. A
    /// source is kept for an integrator token only (the callers refuse it for other roles).
    pub async fn create_token_with(
        &self,
        new: &NewToken<'_>,
    ) -> StoreResult<(TokenIdentity, String)> {
        Self::insert_token(&self.db, new).await
    }

    /// Creates a token as `actor` asked, with its audit entry (`token.create`: name, role,
    /// source, expiry; never the token), both or neither.
    pub async fn create_token_audited(
        &self,
        new: &NewToken<'_>,
        actor: &str,
    ) -> StoreResult<(TokenIdentity, String)> {
        self.in_transaction(async |txn| {
            let (identity, token) = Self::insert_token(txn, new).await?;
            let detail = serde_json::json!({"name": identity.name, "role": identity.role.as_str(),
                "source": identity.source, "expires_at": new.expires_at});
            Store::audit(txn, actor, "token.create", &identity.id, detail).await?;
            Ok((identity, token))
        })
        .await
    }

    /// Stores a new token; answers its identity and the token itself (shown once).
    async fn insert_token<C: ConnectionTrait>(
        db: &C,
        new: &NewToken<'_>,
    ) -> StoreResult<(TokenIdentity, String)> {
        let NewToken {
            name,
            role,
            expires_at,
            ..
        } = *new;
        let source = new.source.filter(|_| role == Role::Integrator);
        let token = format!("hr_{}", new_token());
        let id = new_id("tok");
        api_token::Entity::insert(api_token::ActiveModel {
            id: Set(id.clone()),
            name: Set(name.to_owned()),
            role: Set(role.as_str().to_owned()),
            token_hash: Set(token_hash(&token)),
            created_at: Set(crate::domain::time::now_millis()),
            revoked_at: Set(None),
            expires_at: Set(expires_at),
            last_used_at: Set(None),
            source: Set(source.map(|s| s.as_str().to_owned())),
        })
        .exec(db)
        .await?;
        Ok((
            TokenIdentity {
                id,
                name: name.to_owned(),
                role,
                email: None,
                source,
            },
            token,
        ))
    }

    /// The identity of a token that exists and is not revoked (expired or not).
    pub async fn find_token(&self, token: &str) -> StoreResult<Option<TokenIdentity>> {
        Ok(self.stored_token(token).await?.and_then(|t| identity(&t)))
    }

    /// Checks a presented token at `now`, and notes that it was used.
    pub async fn check_token(&self, token: &str, now: i64) -> StoreResult<TokenCheck> {
        let Some(stored) = self.stored_token(token).await? else {
            return Ok(TokenCheck::Unknown);
        };
        if stored.expires_at.is_some_and(|at| at <= now) {
            return Ok(TokenCheck::Expired);
        }
        let Some(identity) = identity(&stored) else {
            return Ok(TokenCheck::Unknown);
        };
        if stored
            .last_used_at
            .is_none_or(|at| now - at >= LAST_USED_PRECISION_MS)
        {
            // Bookkeeping only: a failure to write it never refuses the request.
            if let Err(e) = api_token::Entity::update_many()
                .col_expr(api_token::Column::LastUsedAt, now.into())
                .filter(api_token::Column::Id.eq(&stored.id))
                .exec(&self.db)
                .await
            {
                tracing::warn!(token_id = %stored.id, error = %e, "cannot note the token's last use");
            }
        }
        Ok(TokenCheck::Valid(identity))
    }

    /// Every token, revoked and expired ones too, oldest first.
    pub async fn list_tokens(&self) -> StoreResult<Vec<TokenInfo>> {
        let tokens = api_token::Entity::find()
            .order_by_asc(api_token::Column::CreatedAt)
            .order_by_asc(api_token::Column::Id)
            .all(&self.db)
            .await?;
        Ok(tokens.into_iter().map(info).collect())
    }

    /// Revokes token `id` at `now`: the next request with it is refused. Answers the token as
    /// it was (already revoked if `revoked_at` is set); `NotFound` for an unknown id.
    pub async fn revoke_token<C: ConnectionTrait>(
        db: &C,
        id: &str,
        now: i64,
    ) -> StoreResult<TokenInfo> {
        let found = api_token::Entity::find_by_id(id)
            .one(db)
            .await?
            .map(info)
            .ok_or_else(|| StoreError::NotFound(format!("token `{id}`")))?;
        if found.revoked_at.is_none() {
            api_token::Entity::update_many()
                .col_expr(api_token::Column::RevokedAt, now.into())
                .filter(api_token::Column::Id.eq(id))
                .filter(api_token::Column::RevokedAt.is_null())
                .exec(db)
                .await?;
        }
        Ok(found)
    }

    /// Revokes token `id` as `actor` asked, with its audit entry (`token.revoke`) when it was
    /// not revoked already, both or neither; answers the token as it was.
    pub async fn revoke_token_audited(
        &self,
        id: &str,
        actor: &str,
        now: i64,
    ) -> StoreResult<TokenInfo> {
        self.in_transaction(async |txn| {
            let before = Self::revoke_token(txn, id, now).await?;
            if before.revoked_at.is_none() {
                let detail = serde_json::json!({"name": before.name, "role": before.role});
                Store::audit(txn, actor, "token.revoke", id, detail).await?;
            }
            Ok(before)
        })
        .await
    }

    async fn stored_token(&self, token: &str) -> StoreResult<Option<api_token::Model>> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(token)))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?)
    }
}

fn info(t: api_token::Model) -> TokenInfo {
    TokenInfo {
        id: t.id,
        name: t.name,
        role: t.role,
        created_at: t.created_at,
        last_used_at: t.last_used_at,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
        source: t.source,
    }
}

/// The identity of a stored token; `None` (refused as unknown) when its role or source is not
/// one this binary knows.
fn identity(t: &api_token::Model) -> Option<TokenIdentity> {
    let source = match &t.source {
        Some(s) => Some(EventSource::parse(s).ok()?),
        None => None,
    };
    Some(TokenIdentity {
        role: t.role.parse().ok()?,
        id: t.id.clone(),
        name: t.name.clone(),
        email: None,
        source,
    })
}
