use sea_orm::entity::prelude::*;

/// An address's consent to one kind of promotional mail (特定電子メール法 Art. 3(1)(i)), with
/// when and how it was given, kept under the keyed hash of the normalised address (Art. 3(2)
/// asks the sender to keep the record).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub address_hash: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub given_at: i64,
    pub method: String,
    pub recorded_at: i64,
    /// Who recorded it: the event that carried it, or the admin.
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
