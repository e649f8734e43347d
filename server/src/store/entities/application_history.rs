use sea_orm::entity::prelude::*;

/// One status change of an application, applied or (out of order) only recorded.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "application_history")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub application_id: String,
    pub event_id: Option<String>,
    pub from_status: Option<String>,
    pub to_status: String,
    pub stage: Option<String>,
    pub reason: Option<String>,
    pub changed_at: i64,
    pub applied: bool,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
