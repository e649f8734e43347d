//! I5: who wants to be notified of what, per API token's user.
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder};

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
        switches: Switches,
        email: Option<&Email>,
        now: i64,
    ) -> StoreResult<notification_subscription::Model> {
        use notification_subscription::Column;
        let model = notification_subscription::Model {
            token_id: token_id.to_owned(),
            bizreach_application: switches.bizreach_application,
            email: email.map(|e| e.as_str().to_owned()).unwrap_or_default(),
            monthly_report: switches.monthly_report,
            updated_at: now,
        };
        notification_subscription::Entity::insert(notification_subscription::ActiveModel::from(
            model.clone(),
        ))
        .on_conflict(
            OnConflict::column(Column::TokenId)
                .update_columns([
                    Column::BizreachApplication,
                    Column::MonthlyReport,
                    Column::Email,
                    Column::UpdatedAt,
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
        subscribed(db, column).await
    }

    /// C8: the addresses the monthly Career Relay report goes to, each once.
    pub async fn monthly_report_recipients<C: ConnectionTrait>(db: &C) -> StoreResult<Vec<Email>> {
        subscribed(db, notification_subscription::Column::MonthlyReport).await
    }
}

/// A token's user's switches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Switches {
    /// I5: a BizReach application was imported.
    pub bizreach_application: bool,
    /// C8: the monthly Career Relay report.
    pub monthly_report: bool,
}

impl Switches {
    pub fn any(self) -> bool {
        self.bizreach_application || self.monthly_report
    }
}

/// The addresses of the subscriptions whose switch `column` is on, each once, sorted.
async fn subscribed<C: ConnectionTrait>(
    db: &C,
    column: notification_subscription::Column,
) -> StoreResult<Vec<Email>> {
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
