//! Outbound webhooks: subscriptions (secret sealed at rest) and the deliveries queued for them.
//! The delivery worker claims `webhook_deliveries` rows; this module only queues them.
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{webhook_delivery, webhook_subscription};
use super::{json_column, Store, StoreError, StoreResult};
use crate::domain::ids::new_id;
use crate::domain::role::Scope;
use crate::domain::status::{DeliveryStatus, EventSource};

/// How one try of a claimed delivery ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryResult {
    /// The subscriber answered 2xx.
    Delivered,
    /// Failed; tried again at `at`.
    Retry { at: i64, error: String },
    /// Failed for the last time.
    Dead { error: String },
}

/// A page of deliveries, newest first.
pub struct DeliveryPage {
    pub items: Vec<webhook_delivery::Model>,
    pub next_cursor: Option<String>,
}

/// A subscription to create; the secret is already sealed.
pub struct NewSubscription<'a> {
    pub url: &'a str,
    pub event_types: &'a [String],
    pub secret_sealed: &'a str,
    /// The source of the integrator token that makes it (`None`: an admin or a token bound to
    /// no source): integrator tokens of that source see it, those of others do not.
    pub owner: Option<EventSource>,
}

/// The subscriptions `scope` reaches, as a condition on `webhook_subscriptions`.
fn subscriptions_of(scope: Scope) -> sea_orm::Condition {
    let owner = webhook_subscription::Column::OwnerSource;
    match scope {
        Scope::All => sea_orm::Condition::all(),
        Scope::Source(source) => sea_orm::Condition::all().add(owner.eq(source.as_str())),
        Scope::Unbound => sea_orm::Condition::all().add(owner.is_null()),
    }
}

impl Store {
    /// Creates a subscription.
    pub async fn create_webhook_subscription<C: ConnectionTrait>(
        db: &C,
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
            owner_source: new.owner.map(|s| s.as_str().to_owned()),
        };
        webhook_subscription::Entity::insert(webhook_subscription::ActiveModel {
            id: Set(model.id.clone()),
            url: Set(model.url.clone()),
            event_types: Set(model.event_types.clone()),
            secret_enc: Set(model.secret_enc.clone()),
            created_at: Set(now),
            disabled_at: Set(None),
            owner_source: Set(model.owner_source.clone()),
        })
        .exec(db)
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

    /// The active subscriptions `scope` reaches, oldest first.
    pub async fn webhook_subscriptions_in(
        &self,
        scope: Scope,
    ) -> StoreResult<Vec<webhook_subscription::Model>> {
        Ok(webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::DisabledAt.is_null())
            .filter(subscriptions_of(scope))
            .order_by(webhook_subscription::Column::Id, Order::Asc)
            .all(&self.db)
            .await?)
    }

    /// Ends a subscription `scope` reaches: nothing more is queued for it. One outside the
    /// scope is `NotFound`, like an unknown one, so that ids do not leak.
    pub async fn disable_webhook_subscription<C: ConnectionTrait>(
        db: &C,
        id: &str,
        scope: Scope,
        now: i64,
    ) -> StoreResult<()> {
        let result = webhook_subscription::Entity::update_many()
            .col_expr(webhook_subscription::Column::DisabledAt, Expr::value(now))
            .filter(webhook_subscription::Column::Id.eq(id))
            .filter(subscriptions_of(scope))
            .filter(webhook_subscription::Column::DisabledAt.is_null())
            .exec(db)
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

    /// Whether a subscription receives `event_type`.
    pub fn subscribes_to(sub: &webhook_subscription::Model, event_type: &str) -> StoreResult<bool> {
        Ok(Self::subscription_event_types(sub)?
            .iter()
            .any(|t| t == event_type))
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
        let subscriptions = Self::webhook_subscriptions(db).await?;
        Self::enqueue_webhook_for(db, &subscriptions, event_type, payload, dedupe_key).await
    }

    /// [`Store::enqueue_webhook`] with the active subscriptions already read (once for many).
    pub async fn enqueue_webhook_for<C: ConnectionTrait>(
        db: &C,
        subscriptions: &[webhook_subscription::Model],
        event_type: &str,
        payload: &serde_json::Value,
        dedupe_key: &str,
    ) -> StoreResult<u64> {
        let now = crate::domain::time::now_millis();
        let mut queued = 0;
        for sub in subscriptions {
            if !Self::subscribes_to(sub, event_type)? {
                continue;
            }
            queued += webhook_delivery::Entity::insert(webhook_delivery::ActiveModel {
                id: Set(new_id("whd")),
                subscription_id: Set(sub.id.clone()),
                event_type: Set(event_type.to_owned()),
                payload: Set(payload.to_string()),
                dedupe_key: Set(format!("{dedupe_key}:{}", sub.id)),
                status: Set(DeliveryStatus::Pending.as_str().to_owned()),
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

    /// Claims up to `limit` due deliveries (`pending`, `next_attempt_at <= now`) and counts the
    /// try. The lease is `next_attempt_at = locked_until = lease_until`: a worker that dies
    /// holding a delivery leaves it due again when the lease ends. On PostgreSQL `FOR UPDATE
    /// SKIP LOCKED` gives each delivery to one claimer; on SQLite the single writer does.
    pub async fn claim_webhook_deliveries(
        &self,
        now: i64,
        lease_until: i64,
        limit: u64,
    ) -> StoreResult<Vec<webhook_delivery::Model>> {
        let _turn = self.write_turn().await;
        let sql = "UPDATE webhook_deliveries SET locked_until = ?, next_attempt_at = ?, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ? \
             ORDER BY next_attempt_at, id LIMIT ?{lock}) RETURNING *";
        let values: Vec<sea_orm::Value> = vec![
            lease_until.into(),
            lease_until.into(),
            now.into(),
            (limit as i64).into(),
        ];
        let mut claimed = webhook_delivery::Model::find_by_statement(super::statement(
            self.backend(),
            sql,
            values,
        ))
        .all(&self.db)
        .await?;
        claimed.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(claimed)
    }

    /// Records how a try of a delivery claimed with `lease_until` ended; `false` when the lease
    /// ran out and another worker holds it now (nothing is written).
    pub async fn finish_webhook_delivery(
        &self,
        id: &str,
        lease_until: i64,
        result: DeliveryResult,
        now: i64,
    ) -> StoreResult<bool> {
        let _turn = self.write_turn().await;
        use webhook_delivery::Column as C;
        let update = webhook_delivery::Entity::update_many()
            .col_expr(C::LockedUntil, Expr::value(Option::<i64>::None))
            .filter(C::Id.eq(id))
            .filter(C::Status.eq(DeliveryStatus::Pending.as_str()))
            .filter(C::LockedUntil.eq(lease_until));
        let update = match result {
            DeliveryResult::Delivered => update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Delivered.as_str()))
                .col_expr(C::DeliveredAt, Expr::value(now))
                .col_expr(C::LastError, Expr::value(Option::<String>::None)),
            DeliveryResult::Retry { at, error } => update
                .col_expr(C::NextAttemptAt, Expr::value(at))
                .col_expr(C::LastError, Expr::value(error)),
            DeliveryResult::Dead { error } => update
                .col_expr(C::Status, Expr::value(DeliveryStatus::Dead.as_str()))
                .col_expr(C::LastError, Expr::value(error)),
        };
        Ok(update.exec(&self.db).await?.rows_affected == 1)
    }

    /// One subscription, also a disabled one (a delivery queued before it was disabled).
    pub async fn webhook_subscription(
        &self,
        id: &str,
    ) -> StoreResult<Option<webhook_subscription::Model>> {
        Ok(webhook_subscription::Entity::find_by_id(id)
            .one(&self.db)
            .await?)
    }

    /// Deliveries to the subscriptions `scope` reaches (disabled ones too), newest first,
    /// optionally of one status; `cursor` is the last id of the previous page.
    pub async fn list_webhook_deliveries(
        &self,
        scope: Scope,
        status: Option<DeliveryStatus>,
        cursor: Option<&str>,
        limit: u64,
    ) -> StoreResult<DeliveryPage> {
        use webhook_delivery::Column as C;
        let mut query = webhook_delivery::Entity::find()
            .order_by(C::Id, Order::Desc)
            .limit(limit + 1);
        if scope != Scope::All {
            let reached = sea_orm::sea_query::Query::select()
                .column(webhook_subscription::Column::Id)
                .from(webhook_subscription::Entity)
                .cond_where(subscriptions_of(scope))
                .to_owned();
            query = query.filter(C::SubscriptionId.in_subquery(reached));
        }
        if let Some(status) = status {
            query = query.filter(C::Status.eq(status.as_str()));
        }
        if let Some(cursor) = cursor {
            query = query.filter(C::Id.lt(cursor));
        }
        let mut items = query.all(&self.db).await?;
        let next_cursor = if items.len() as u64 > limit {
            items.truncate(limit as usize);
            items.last().map(|d| d.id.clone())
        } else {
            None
        };
        Ok(DeliveryPage { items, next_cursor })
    }
}
