use sea_orm::entity::prelude::*;

/// A BizReach group account and its link state (L2, L3), progress sync switch (P1) and poll position.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "group_accounts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub name: String,
    pub admin_email: String,
    pub status: String,
    pub linked_at: Option<i64>,
    pub progress_sync: bool,
    pub poll_cursor: Option<String>,
    pub poll_since: Option<i64>,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
