use sea_orm::entity::prelude::*;

/// A subscriber to hirelay's outbound events; the signing secret is encrypted at rest.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscriptions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub url: String,
    pub event_types: String,
    pub secret_enc: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// The source of the integrator token that made it (m0018); null when an admin or an
    /// integrator token bound to no source made it.
    pub owner_source: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
