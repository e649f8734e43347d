//! C4: subscribers (the ATS) learn where a rejected candidate is on the Career Relay side, as
//! outbound webhooks `career_relay.invited`, `career_relay.clicked`, `career_relay.registered`
//! and `career_relay.slot_earned`, each queued at most once in the caller's transaction.
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use crate::domain::outbound_events::{
    CAREER_RELAY_CLICKED, CAREER_RELAY_INVITED, CAREER_RELAY_REGISTERED, CAREER_RELAY_SLOT_EARNED,
};
use crate::domain::time::rfc3339;
use crate::store::entities::{invitation, webhook_subscription};
use crate::store::{Store, StoreResult};

/// What every Career Relay event says of its invitation: which application (as hirelay and the
/// ATS know it) and when.
async fn payload<C: ConnectionTrait>(
    db: &C,
    event_type: &str,
    invitation: &invitation::Model,
    at: i64,
) -> StoreResult<Value> {
    let app = Store::get_application(db, &invitation.application_id).await?;
    Ok(json!({
        "type": event_type,
        "invitation_id": invitation.id,
        "application_id": app.id,
        "ats_application_id": app.ats_application_id,
        "source": {"system": app.source_system, "application_id": app.source_application_id},
        "at": rfc3339(at),
    }))
}

fn wanted(subscriptions: &[webhook_subscription::Model], event_type: &str) -> StoreResult<bool> {
    for sub in subscriptions {
        if Store::subscribes_to(sub, event_type)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `career_relay.invited` for invitations just stored (`at`: when each is to be sent).
pub async fn invited<C: ConnectionTrait>(
    db: &C,
    subscriptions: &[webhook_subscription::Model],
    invitations: &[&invitation::Model],
) -> StoreResult<()> {
    if invitations.is_empty() || !wanted(subscriptions, CAREER_RELAY_INVITED)? {
        return Ok(());
    }
    for invitation in invitations {
        let mut body = payload(db, CAREER_RELAY_INVITED, invitation, invitation.send_at).await?;
        body["send_at"] = json!(rfc3339(invitation.send_at));
        let key = format!("{CAREER_RELAY_INVITED}:{}", invitation.id);
        Store::enqueue_webhook_for(db, subscriptions, CAREER_RELAY_INVITED, &body, &key).await?;
    }
    Ok(())
}

/// `career_relay.clicked`, once per invitation (its first click).
pub async fn clicked<C: ConnectionTrait>(
    db: &C,
    invitation: &invitation::Model,
    at: i64,
) -> StoreResult<()> {
    let subscriptions = Store::webhook_subscriptions(db).await?;
    if !wanted(&subscriptions, CAREER_RELAY_CLICKED)? {
        return Ok(());
    }
    let body = payload(db, CAREER_RELAY_CLICKED, invitation, at).await?;
    let key = format!("{CAREER_RELAY_CLICKED}:{}", invitation.id);
    Store::enqueue_webhook_for(db, &subscriptions, CAREER_RELAY_CLICKED, &body, &key).await?;
    Ok(())
}

/// `career_relay.registered`, once per invitation, and `career_relay.slot_earned` when the
/// registration completes a slot (every `ratio`-th registered candidate, C1), once per slot.
pub async fn registered<C: ConnectionTrait>(
    db: &C,
    invitation: &invitation::Model,
    ratio: u32,
) -> StoreResult<()> {
    let subscriptions = Store::webhook_subscriptions(db).await?;
    let at = invitation.registered_at.unwrap_or(invitation.created_at);
    if wanted(&subscriptions, CAREER_RELAY_REGISTERED)? {
        let body = payload(db, CAREER_RELAY_REGISTERED, invitation, at).await?;
        let key = format!("{CAREER_RELAY_REGISTERED}:{}", invitation.id);
        Store::enqueue_webhook_for(db, &subscriptions, CAREER_RELAY_REGISTERED, &body, &key)
            .await?;
    }
    if wanted(&subscriptions, CAREER_RELAY_SLOT_EARNED)? {
        let registered = Store::referral_counts(db).await?.registered;
        let ratio = u64::from(ratio.max(1));
        if registered > 0 && registered % ratio == 0 {
            let slot = registered / ratio;
            let mut body = payload(db, CAREER_RELAY_SLOT_EARNED, invitation, at).await?;
            body["slot"] = json!(slot);
            body["registered"] = json!(registered);
            let key = format!("{CAREER_RELAY_SLOT_EARNED}:{slot}");
            Store::enqueue_webhook_for(db, &subscriptions, CAREER_RELAY_SLOT_EARNED, &body, &key)
                .await?;
        }
    }
    Ok(())
}
