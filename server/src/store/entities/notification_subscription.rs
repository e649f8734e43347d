use sea_orm::entity::prelude::*;

/// A token's user's notification switches (I5).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notification_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_id: String,
    pub bizreach_application: bool,
    pub email: String,
    /// C8: the monthly Career Relay report.
    pub monthly_report: bool,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
