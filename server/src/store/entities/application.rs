use sea_orm::entity::prelude::*;

/// An application: imported from BizReach and/or known to the ATS.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source_system: Option<String>,
    pub source_application_id: Option<String>,
    pub ats_application_id: Option<String>,
    pub group_account_id: Option<String>,
    pub channel: Option<String>,
    pub position_name: Option<String>,
    pub source_status: Option<String>,
    pub status: String,
    pub status_changed_at: Option<i64>,
    pub stage: Option<String>,
    pub reason: Option<String>,
    pub job_id: Option<String>,
    pub candidate_id: String,
    pub applied_at: Option<i64>,
    pub imported_via: Option<String>,
    pub labels: String,
    pub synced_status: Option<String>,
    pub synced_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
