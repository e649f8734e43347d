//! Personal user accounts (issue 14): created, listed, changed; failed sign-ins counted.
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder,
};

use super::entities::user;
use super::{Store, StoreError, StoreResult};
use crate::domain::account::{DisplayName, Failures};
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::role::Role;

/// A user to create: everything is validated already; `password_hash` is an Argon2id PHC string.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub role: Role,
    pub password_hash: String,
    pub password_change_required: bool,
    /// A pending invitation: the hash of its link token, and when it expires.
    pub invite: Option<(String, i64)>,
}

/// What an update changes; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChange {
    pub name: Option<DisplayName>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    /// A new Argon2id hash, and whether the user must change it at the next sign-in.
    pub password: Option<(String, bool)>,
}

impl Store {
    /// Creates a user; `Conflict` when the (normalised) email is taken.
    pub async fn create_user(&self, new: NewUser<'_>, now: i64) -> StoreResult<user::Model> {
        let model = user::Model {
            id: new_id("usr"),
            email: new.email.as_str().to_owned(),
            name: new.name.as_str().to_owned(),
            role: new.role.as_str().to_owned(),
            password_hash: new.password_hash,
            password_change_required: new.password_change_required,
            disabled: false,
            failed_attempts: 0,
            last_failed_at: None,
            locked_until: None,
            invite_token_hash: new.invite.as_ref().map(|(hash, _)| hash.clone()),
            invite_expires_at: new.invite.as_ref().map(|(_, at)| *at),
            created_at: now,
            updated_at: now,
        };
        let active: user::ActiveModel = model.clone().into();
        match user::Entity::insert(active).exec(&self.db).await {
            Ok(_) => Ok(model),
            Err(e) if StoreError::is_unique_violation(&e) => Err(StoreError::Conflict(format!(
                "a user with the email `{}` exists already",
                new.email
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> StoreResult<Vec<user::Model>> {
        Ok(user::Entity::find()
            .order_by_asc(user::Column::CreatedAt)
            .order_by_asc(user::Column::Id)
            .all(&self.db)
            .await?)
    }

    pub async fn find_user(&self, id: &str) -> StoreResult<Option<user::Model>> {
        Ok(user::Entity::find_by_id(id).one(&self.db).await?)
    }

    pub async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await?)
    }

    /// The user whose pending invitation has the link token hash `hash`.
    pub async fn find_user_by_invite(&self, hash: &str) -> StoreResult<Option<user::Model>> {
        Ok(user::Entity::find()
            .filter(user::Column::InviteTokenHash.eq(hash))
            .one(&self.db)
            .await?)
    }

    /// Applies `change` to user `id`; `NotFound` for an unknown id.
    pub async fn update_user<C: ConnectionTrait>(
        db: &C,
        id: &str,
        change: UserChange,
        now: i64,
    ) -> StoreResult<user::Model> {
        let found = user::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user `{id}`")))?;
        let mut active: user::ActiveModel = found.into();
        if let Some(name) = change.name {
            active.name = Set(name.as_str().to_owned());
        }
        if let Some(role) = change.role {
            active.role = Set(role.as_str().to_owned());
        }
        if let Some(disabled) = change.disabled {
            active.disabled = Set(disabled);
        }
        if let Some((hash, required)) = change.password {
            active.password_hash = Set(hash);
            active.password_change_required = Set(required);
            // A password set by any means ends a pending invitation.
            active.invite_token_hash = Set(None);
            active.invite_expires_at = Set(None);
        }
        active.updated_at = Set(now);
        Ok(active.update(db).await?)
    }

    /// Stores an account's failed sign-ins (after one more, or cleared after a success).
    pub async fn set_user_failures(&self, id: &str, failures: Failures) -> StoreResult<()> {
        user::Entity::update_many()
            .col_expr(user::Column::FailedAttempts, failures.count.into())
            .col_expr(user::Column::LastFailedAt, failures.last_at.into())
            .col_expr(user::Column::LockedUntil, failures.locked_until.into())
            .filter(user::Column::Id.eq(id))
            .exec(&self.db)
            .await?;
        Ok(())
    }
}

/// The stored failures of `user`.
pub fn failures(user: &user::Model) -> Failures {
    Failures {
        count: user.failed_attempts,
        last_at: user.last_failed_at,
        locked_until: user.locked_until,
    }
}
