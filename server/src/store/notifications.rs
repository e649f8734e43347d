//! I5: who wants to be notified of what, per API token's user.
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};

use super::entities::notification_subscription;
use super::{Store, StoreResult};
use crate::domain::email::Email;
use crate::domain::status::NotificationKind;

impl Store {
    /// A token's switches, or `None` when never set.
    pub async fn notification_subscription(
        &self,
        token_id: &str,
    ) -> StoreResult<Option<notification_subscription::Model>> {
        Ok(notification_subscription::Entity::find_by_id(token_id)
            .one(&self.db)
            .await?)
    }

    /// Sets a token's switches.
    pub async fn set_notification_subscription(
        &self,
        token_id: &str,
        bizreach_application: bool,
        email: Option<&Email>,
        now: i64,
    ) -> StoreResult<notification_subscription::Model> {
        let model = notification_subscription::Model {
            token_id: token_id.to_owned(),
            bizreach_application,
            email: email.map(|e| e.as_str().to_owned()).unwrap_or_default(),
            updated_at: now,
        };
        notification_subscription::Entity::insert(notification_subscription::ActiveModel {
            token_id: Set(model.token_id.clone()),
            bizreach_application: Set(bizreach_application),
            email: Set(model.email.clone()),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(notification_subscription::Column::TokenId)
                .update_columns([
                    notification_subscription::Column::BizreachApplication,
                    notification_subscription::Column::Email,
                    notification_subscription::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(&self.db)
        .await?;
        Ok(model)
    }

    /// I5: the addresses to notify of `kind`, each once.
    pub async fn subscribers_for<C: ConnectionTrait>(
        db: &C,
        kind: NotificationKind,
    ) -> StoreResult<Vec<Email>> {
        let column = match kind {
            NotificationKind::BizreachApplication => {
                notification_subscription::Column::BizreachApplication
            }
        };
        let rows = notification_subscription::Entity::find()
            .filter(column.eq(true))
            .order_by(notification_subscription::Column::TokenId, Order::Asc)
            .all(db)
            .await?;
        let mut emails: Vec<Email> = rows
            .iter()
            .filter_map(|r| Email::parse(&r.email).ok())
            .collect();
        emails.sort();
        emails.dedup();
        Ok(emails)
    }
}
