use sea_orm::entity::prelude::*;

/// A Career Relay invitation: one per application (C8), its tracking token stored hashed (C2).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub application_id: String,
    pub candidate_id: String,
    pub token_hash: String,
    pub send_at: i64,
    pub outbox_id: Option<String>,
    pub event_id: Option<String>,
    pub created_at: i64,
    pub clicked_first_at: Option<i64>,
    pub clicked_last_at: Option<i64>,
    pub clicks: i32,
    pub registered_at: Option<i64>,
    pub registration_attributes: Option<String>,
    /// Null on invitations made before the tokens were split (their one token serves all).
    pub unsubscribe_token_hash: Option<String>,
    pub relay_token_hash: Option<String>,
    /// What the invitation is sent on under 特定電子メール法 (`domain::invitation_policy::Basis`);
    /// null on invitations made before it was recorded.
    pub basis: Option<String>,
    /// The normalised address it is sent to.
    pub recipient: Option<String>,
    /// With basis `consent`: when (unix millis) and how the recipient consented.
    pub consent_given_at: Option<i64>,
    pub consent_method: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
