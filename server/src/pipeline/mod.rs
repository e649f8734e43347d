//! From a claimed event to committed effects: parse the stored payload, apply the source's
//! domain step, run its rule script, carry out the actions, record the decision — all in the
//! event's transaction (see `queue::worker`).
mod apply;
mod prepare;
mod scope;

pub use apply::APPLICATION_LABELED;

use async_trait::async_trait;
use sea_orm::DatabaseTransaction;
use std::sync::Arc;

use crate::config::Config;
use crate::domain::payload::InboundEvent;
use crate::domain::status::EventSource;
use crate::domain::time::now_millis;
use crate::mail::Mailer;
use crate::queue::{BatchFailure, HandleError, Handler};
use crate::scripting::{InputBuilder, ScriptError, ScriptInput, Scripts};
use crate::store::decisions::DecisionRecord;
use crate::store::entities::event;
use crate::store::Store;
use scope::BatchScope;
use tracing::Instrument;

/// The queue's handler for every inbound event.
#[derive(Clone)]
pub struct Pipeline {
    store: Store,
    scripts: Scripts,
    mailer: Mailer,
    config: Arc<Config>,
}

impl Pipeline {
    pub fn new(store: Store, scripts: Scripts, mailer: Mailer, config: Arc<Config>) -> Self {
        Pipeline {
            store,
            scripts,
            mailer,
            config,
        }
    }

    /// The company name candidate emails show.
    async fn company_name(&self) -> String {
        if let Some(name) = &self.config.company_name {
            return name.clone();
        }
        match self.store.bizreach_credentials().await {
            Ok(Some(c)) => c.account_name,
            _ => "採用担当".to_owned(),
        }
    }
}

fn parse(event: &event::Model) -> Result<InboundEvent, HandleError> {
    let source = EventSource::parse(&event.source).map_err(HandleError::Invalid)?;
    InboundEvent::parse(source, event.payload.as_bytes())
        .map_err(|e| HandleError::Invalid(format!("stored payload: {e}")))
}

#[async_trait]
impl Handler for Pipeline {
    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        batch: &[event::Model],
        until: i64,
    ) -> Result<Vec<Option<DecisionRecord>>, BatchFailure> {
        let mut scope = BatchScope::default();
        // Each stored payload is parsed once: for the batch's shared step, then for its event.
        let parsed: Vec<Result<InboundEvent, HandleError>> = batch.iter().map(parse).collect();
        let all_parsed: Option<Vec<(&event::Model, &InboundEvent)>> = batch
            .iter()
            .zip(&parsed)
            .map(|(e, p)| p.as_ref().ok().map(|p| (e, p)))
            .collect();
        if let Some(all_parsed) = all_parsed {
            prepare::import_batch(txn, &mut scope, &all_parsed)
                .await
                .map_err(|error| BatchFailure {
                    event_id: None,
                    error,
                })?;
        }
        let mut records = Vec::with_capacity(batch.len());
        for (event, parsed) in batch.iter().zip(parsed) {
            if now_millis() > until {
                break;
            }
            let span = tracing::info_span!("event", id = %event.id, kind = %event.kind);
            let record = async { self.handle_in(txn, event, parsed?, &mut scope).await }
                .instrument(span)
                .await
                .map_err(|error| BatchFailure {
                    event_id: Some(event.id.clone()),
                    error,
                })?;
            records.push(record);
        }
        if records.len() < batch.len() && scope.has_kept_imports() {
            // The rest was upserted with the batch: stopping here would commit their domain
            // step without their scripts. Handled again one by one instead.
            return Err(BatchFailure {
                event_id: None,
                error: HandleError::Transient(anyhow::anyhow!(
                    "the batch reached its time limit after its imports were stored"
                )),
            });
        }
        scope.flush(txn).await.map_err(|error| BatchFailure {
            event_id: None,
            error,
        })?;
        Ok(records)
    }

    fn after_commit(&self) {
        self.mailer.wake();
    }
}

impl Pipeline {
    /// One event of a batch: domain step, script, actions; answers its decision record.
    async fn handle_in(
        &self,
        txn: &DatabaseTransaction,
        event: &event::Model,
        parsed: InboundEvent,
        scope: &mut BatchScope,
    ) -> Result<Option<DecisionRecord>, HandleError> {
        let t0 = std::time::Instant::now();
        let Some(prepared) = prepare::prepare(txn, scope, event, &parsed).await? else {
            return Ok(None);
        };
        let t_prepared = t0.elapsed();
        let (scripts, name, input) = (
            self.scripts.clone(),
            prepared.script.clone(),
            prepared.input.clone(),
        );
        let run = tokio::task::spawn_blocking(move || scripts.run(&name, &input))
            .await
            .map_err(|e| {
                HandleError::Transient(anyhow::anyhow!("the script's thread failed: {e}"))
            })?;
        let decision = match run {
            Ok(decision) => decision,
            Err(err) => {
                let version = self
                    .scripts
                    .active(prepared.script.as_str())
                    .map_or(0, |s| s.version);
                return Err(script_failure(
                    event,
                    prepared.script.as_str(),
                    version,
                    &err,
                ));
            }
        };
        let t1 = t0.elapsed();
        // Only invitations show the company name: looked up when one is decided, once a batch.
        let company_name = if decision
            .actions
            .iter()
            .any(|a| matches!(a, crate::scripting::Action::Invite { .. }))
        {
            scope.company_name(self.company_name()).await.to_owned()
        } else {
            String::new()
        };
        let effects = apply::Effects {
            mailer: &self.mailer,
            public_url: &self.config.public_url,
            company_name: &company_name,
        };
        let record = |error: Option<String>| DecisionRecord {
            event_id: event.id.clone(),
            script: decision.script.clone(),
            script_version: decision.version,
            actions: serde_json::to_value(&decision.actions).unwrap_or_default(),
            log: decision.log.clone(),
            error,
            duration_us: decision.duration.as_micros() as i64,
            decided_at: now_millis(),
        };
        if let Err(err) =
            apply::apply(txn, scope, &effects, event, &prepared, &decision.actions).await
        {
            return Err(match err {
                HandleError::Script { message, .. } => HandleError::Script {
                    record: Some(Box::new(record(Some(message.clone())))),
                    message,
                },
                other => other,
            });
        }
        tracing::debug!(prepare_us = t_prepared.as_micros() as u64, prepare_and_script_us = t1.as_micros() as u64, apply_us = (t0.elapsed() - t1).as_micros() as u64, kind = %event.kind, "event handled");
        Ok(Some(record(None)))
    }
}

fn script_failure(
    event: &event::Model,
    script: &str,
    version: i32,
    err: &ScriptError,
) -> HandleError {
    let message = err.to_string();
    HandleError::Script {
        record: Some(Box::new(DecisionRecord {
            event_id: event.id.clone(),
            script: script.to_owned(),
            script_version: version,
            actions: serde_json::json!([]),
            log: Vec::new(),
            error: Some(message.clone()),
            duration_us: 0,
            decided_at: now_millis(),
        })),
        message,
    }
}

/// Dry runs over stored history get the same input the pipeline would build, read from the
/// current state without writing.
#[async_trait]
impl InputBuilder for Pipeline {
    async fn input_for(&self, event: &event::Model) -> Result<ScriptInput, String> {
        let parsed = parse(event).map_err(|e| e.to_string())?;
        prepare::lookup(&self.store.db, event, &parsed)
            .await
            .map_err(|e| e.to_string())
    }
}
