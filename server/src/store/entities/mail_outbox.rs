use sea_orm::entity::prelude::*;

/// A rendered email waiting to be sent (or sent); `dedupe_key` makes it at most once.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "mail_outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub dedupe_key: String,
    pub template: String,
    pub template_version: i32,
    pub recipient: String,
    pub subject: String,
    pub html: String,
    pub text_body: String,
    pub headers: String,
    pub message_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: i64,
    pub locked_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
    /// The data the mail is rendered from when it is sent (JSON; blanked once sent).
    pub data: Option<String>,
    /// Why it was cancelled, when it was.
    pub cancel_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
