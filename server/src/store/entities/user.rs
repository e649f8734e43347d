use sea_orm::entity::prelude::*;

/// A person who signs in to the console (m0013). The password is an Argon2id PHC string.
#[derive(Clone, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Normalised (trimmed, lower-cased); unique.
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    /// Set when an admin chose the password: the user is asked to change it.
    pub password_change_required: bool,
    pub disabled: bool,
    /// Failed sign-ins since `last_failed_at`'s window began.
    pub failed_attempts: i32,
    pub last_failed_at: Option<i64>,
    pub locked_until: Option<i64>,
    /// The SHA-256 of a pending invitation's single-use link token, and when it expires.
    pub invite_token_hash: Option<String>,
    pub invite_expires_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Never shows the password hash.
impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish_non_exhaustive()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
