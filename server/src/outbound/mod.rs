//! Outbound webhooks: the delivery worker that sends what `Store::enqueue_webhook` queued
//! (`webhook_deliveries`) to each subscriber, signed per Standard Webhooks, retried with
//! backoff until delivered or dead, and only to the targets [`target`] allows.
mod delivery;
pub mod target;

pub use delivery::{error_kind, DeliveryRound, DeliverySettings, DeliveryWorker};
pub use target::{AllowedHosts, TargetPolicy};
