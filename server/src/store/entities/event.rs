use sea_orm::entity::prelude::*;

/// An accepted inbound event and its place in the queue.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source: String,
    pub kind: String,
    pub webhook_id: String,
    pub body_hash: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub locked_until: Option<i64>,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    /// Issue 16: the keyed hash of the candidate's address in the payload (`''`: none; NULL:
    /// stored before m0018 and not recorded yet).
    pub person_hash: Option<String>,
    /// Issue 16: the candidate the event is about, when known as it was stored.
    pub candidate_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
