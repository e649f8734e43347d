use sea_orm::entity::prelude::*;

/// C8: an address's refusal of one kind of promotional mail, kept under the keyed hash of the
/// normalised address (`crypto::AddressKey`), so it outlives the candidate's erasure.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "opt_outs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub address_hash: String,
    /// `domain::message_kind::MessageKind`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub opted_out_at: i64,
    /// `domain::message_kind::OptOutChannel`.
    pub channel: String,
    /// The admin who recorded it (channel `admin`).
    pub recorded_by: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
