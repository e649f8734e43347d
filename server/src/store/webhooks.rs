//! Outbound webhooks: subscriptions (secret sealed at rest) and the deliveries queued for them.
//! The delivery worker claims `webhook_deliveries` rows; this module only queues them.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, Order, QueryFilter, QueryOrder,
};

use super::entities::{webhook_delivery, webhook_subscription};
use super::{json_column, Store, StoreError, StoreResult};
use crate::domain::ids::new_id;

/// A subscription to create; the secret is already sealed.
pub struct NewSubscription<'a> {
    pub url: &'a str,
    pub event_types: &'a [String],
    pub secret_sealed: &'a str,
}

impl Store {
    /// Creates a subscription.
    pub async fn create_webhook_subscription(
        &self,
        new: NewSubscription<'_>,
        now: i64,
    ) -> StoreResult<webhook_subscription::Model> {
        let model = webhook_subscription::Model {
            id: new_id("sub"),
            url: new.url.to_owned(),
            event_types: serde_json::to_string(new.event_types).unwrap_or_else(|_| "[]".into()),
            secret_enc: new.secret_sealed.to_owned(),
            created_at: now,
            disabled_at: None,
        };
        webhook_subscription::Entity::insert(webhook_subscription::ActiveModel {
            id: Set(model.id.clone()),
            url: Set(model.url.clone()),
            event_types: Set(model.event_types.clone()),
            secret_enc: Set(model.secret_enc.clone()),
            created_at: Set(now),
            disabled_at: Set(None),
        })
        .exec(&self.db)
        .await?;
        Ok(model)
    }

    /// The active subscriptions, oldest first.
    pub async fn webhook_subscriptions<C: ConnectionTrait>(
        db: &C,
    ) -> StoreResult<Vec<webhook_subscription::Model>> {
        Ok(webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::DisabledAt.is_null())
            .order_by(webhook_subscription::Column::Id, Order::Asc)
            .all(db)
            .await?)
    }

    /// Ends a subscription: nothing more is queued for it.
    pub async fn disable_webhook_subscription(&self, id: &str, now: i64) -> StoreResult<()> {
        let result = webhook_subscription::Entity::update_many()
            .col_expr(webhook_subscription::Column::DisabledAt, Expr::value(now))
            .filter(webhook_subscription::Column::Id.eq(id))
            .filter(webhook_subscription::Column::DisabledAt.is_null())
            .exec(&self.db)
            .await?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound(format!("webhook subscription `{id}`")));
        }
        Ok(())
    }

    /// The event types a subscription receives.
    pub fn subscription_event_types(sub: &webhook_subscription::Model) -> StoreResult<Vec<String>> {
        json_column(&sub.event_types, "webhook_subscriptions.event_types")
    }

    /// Queues `payload` as `event_type` for every active subscription to that type, in the
    /// caller's transaction, at most once per (`dedupe_key`, subscription). Answers how many
    /// deliveries were queued.
    pub async fn enqueue_webhook<C: ConnectionTrait>(
        db: &C,
        event_type: &str,
        payload: &serde_json::Value,
        dedupe_key: &str,
    ) -> StoreResult<u64> {
        let now = crate::domain::time::now_millis();
        let mut queued = 0;
        for sub in Self::webhook_subscriptions(db).await? {
            if !Self::subscription_event_types(&sub)?
                .iter()
                .any(|t| t == event_type)
            {
                continue;
            }
            queued += webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                id: Set(new_id("whd")),
                subscription_id: Set(sub.id.clone()),
                event_type: Set(event_type.to_owned()),
                payload: Set(payload.to_string()),
                dedupe_key: Set(format!("{dedupe_key}:{}", sub.id)),
                status: Set("pending".to_owned()),
                attempts: Set(0),
                next_attempt_at: Set(now),
                locked_until: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                delivered_at: Set(None),
            })
            .on_conflict(
                OnConflict::column(webhook_delivery::Column::DedupeKey)
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
        }
        Ok(queued)
    }

    /// The deliveries queued for an event type, oldest first (for tests and the console).
    pub async fn webhook_deliveries(
        &self,
        event_type: &str,
    ) -> StoreResult<Vec<webhook_delivery::Model>> {
        Ok(webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::EventType.eq(event_type))
            .order_by(webhook_delivery::Column::CreatedAt, Order::Asc)
            .order_by(webhook_delivery::Column::Id, Order::Asc)
            .all(&self.db)
            .await?)
    }
}
