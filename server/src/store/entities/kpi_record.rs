use sea_orm::entity::prelude::*;

/// A KPI data point a script recorded; `dedupe_key` makes a replay count it once.
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "kpi_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub dedupe_key: String,
    pub name: String,
    pub value: f64,
    pub tags: String,
    pub event_id: Option<String>,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
