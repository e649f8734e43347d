use sea_orm::entity::prelude::*;

/// An API token, stored as the SHA-256 of the token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub role: String,
    pub token_hash: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// After this a request with the token is refused as expired (m0010).
    pub expires_at: Option<i64>,
    /// Updated at most once a minute (m0010).
    pub last_used_at: Option<i64>,
    /// The webhook source an integrator token is bound to (m0018); null for other roles and
    /// for integrator tokens bound to none.
    pub source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
