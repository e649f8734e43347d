use sea_orm::entity::prelude::*;

/// A person, unique by normalised email (C8).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "candidates")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub email: String,
    pub name: String,
    pub phone: Option<String>,
    pub attributes: String,
    pub bizreach_candidate_id: Option<String>,
    pub opted_out_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the person was erased (m0017): the row is a tombstone, its values gone.
    pub erased_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
