//! Issue 14: personal user accounts for the web console, and their sign-in sessions.
//!
//! `users` holds one row per person (email normalised and unique, an Argon2id PHC string, the
//! role, a disabled flag, the lock-out bookkeeping, and the hash of a pending invitation link); `sessions` one row per signed-in browser,
//! its id stored only as a hash, with the CSRF secret its state-changing requests must echo.
use sea_orm_migration::prelude::*;

use crate::col::{flag, id, int, millis, millis_null, text, text_null};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0016_user_accounts"
    }
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    Role,
    PasswordHash,
    PasswordChangeRequired,
    Disabled,
    FailedAttempts,
    LastFailedAt,
    LockedUntil,
    InviteTokenHash,
    InviteExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    IdHash,
    UserId,
    CsrfToken,
    CreatedAt,
    LastSeenAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(id(Users::Id))
                .col(
                    ColumnDef::new(Users::Email)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(text(Users::Name))
                .col(ColumnDef::new(Users::Role).string().not_null())
                .col(text(Users::PasswordHash))
                .col(flag(Users::PasswordChangeRequired))
                .col(flag(Users::Disabled))
                .col(int(Users::FailedAttempts))
                .col(millis_null(Users::LastFailedAt))
                .col(millis_null(Users::LockedUntil))
                .col(text_null(Users::InviteTokenHash))
                .col(millis_null(Users::InviteExpiresAt))
                .col(millis(Users::CreatedAt))
                .col(millis(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(id(Sessions::Id))
                .col(
                    ColumnDef::new(Sessions::IdHash)
                        .string()
                        .not_null()
                        .unique_key(),
                )
                .col(ColumnDef::new(Sessions::UserId).string().not_null())
                .col(text(Sessions::CsrfToken))
                .col(millis(Sessions::CreatedAt))
                .col(millis(Sessions::LastSeenAt))
                .col(millis(Sessions::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("sessions_user")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Sessions::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
