//! API tokens: created once (the token is shown once), stored as a hash, looked up by hash.
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::entities::api_token;
use super::{Store, StoreResult};
use crate::domain::ids::{new_id, new_token, token_hash};
use crate::domain::role::Role;

/// A token's identity, as requests carry it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenIdentity {
    pub id: String,
    pub name: String,
    pub role: Role,
}

impl Store {
    /// Creates a token; answers its identity and the token itself, which is not stored.
    pub async fn create_token(
        &self,
        name: &str,
        role: Role,
    ) -> StoreResult<(TokenIdentity, String)> {
        let token = format!("hr_{}", new_token());
        let id = new_id("tok");
        api_token::Entity::insert(api_token::ActiveModel {
            id: Set(id.clone()),
            name: Set(name.to_owned()),
            role: Set(role.as_str().to_owned()),
            token_hash: Set(token_hash(&token)),
            created_at: Set(crate::domain::time::now_millis()),
            revoked_at: Set(None),
        })
        .exec(&self.db)
        .await?;
        Ok((
            TokenIdentity {
                id,
                name: name.to_owned(),
                role,
            },
            token,
        ))
    }

    /// The identity of a token that exists and is not revoked.
    pub async fn find_token(&self, token: &str) -> StoreResult<Option<TokenIdentity>> {
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenHash.eq(token_hash(token)))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(&self.db)
            .await?;
        Ok(found.and_then(|t| {
            Some(TokenIdentity {
                role: t.role.parse().ok()?,
                id: t.id,
                name: t.name,
            })
        }))
    }
}
