use sea_orm::entity::prelude::*;

/// What a script decided for an event: its version, the actions, its log, or its error.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "decisions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub event_id: String,
    pub script: String,
    pub script_version: i32,
    pub actions: String,
    pub log: String,
    pub error: Option<String>,
    pub duration_us: i64,
    pub decided_at: i64,
    /// JSON: `{"ctx", "now", "application"}` the script ran with (issue 19).
    pub context: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
