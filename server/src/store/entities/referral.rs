use sea_orm::entity::prelude::*;

/// A Career Relay referral: one free slot used (C1), followed through hire, joining and
/// retention or leaving (C6); each step's time is the first report of it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub slot_used_at: Option<i64>,
    pub hired_at: Option<i64>,
    pub joined_at: Option<i64>,
    pub retained_at: Option<i64>,
    pub left_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
