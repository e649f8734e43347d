//! Outbound webhooks: the delivery worker that sends what `Store::enqueue_webhook` queued
//! (`webhook_deliveries`) to each subscriber, signed per Standard Webhooks, retried with
//! backoff until delivered or dead.
mod delivery;

pub use delivery::{DeliveryRound, DeliverySettings, DeliveryWorker};
