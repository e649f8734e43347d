use sea_orm::entity::prelude::*;

/// A signed-in browser (m0013): the cookie's value is stored only as its SHA-256.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub id_hash: String,
    pub user_id: String,
    /// What state-changing requests of this session send as `X-CSRF-Token`.
    pub csrf_token: String,
    pub created_at: i64,
    /// Written at most once a minute; the idle expiry counts from it.
    pub last_seen_at: i64,
    /// The absolute expiry.
    pub expires_at: i64,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
