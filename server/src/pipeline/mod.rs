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
use crate::crypto::AddressKey;
use crate::domain::names::ScriptName;
use crate::domain::payload::CareerRelayEvent;
use crate::domain::payload::InboundEvent;
use crate::domain::status::EventSource;
use crate::domain::time::now_millis;
use crate::mail::Mailer;
use crate::queue::{BatchFailure, HandleError, Handler};
use crate::scripting::{Decision, InputBuilder, ScriptError, ScriptInput, Scripts};
use crate::store::applications::BIZREACH;
use crate::store::decisions::DecisionRecord;
use crate::store::entities::event;
use crate::store::Store;
use prepare::Subject;
use scope::BatchScope;
use std::collections::HashSet;
use std::time::Duration;
use tracing::Instrument;

/// How long the scripts of one chunk may run together; the batch is handled again one event
/// at a time past it (each script keeps its own limit).
const SCRIPTS_OF_A_CHUNK: Duration = Duration::from_secs(5);

/// How many events' scripts run together while the database works on others.
const CHUNK: usize = 64;

/// What an event's script runs for: its name, the records its actions apply to, and the
/// context it reads (kept with the decision, for dry runs over history).
type Step = (ScriptName, Subject, serde_json::Value);

/// A script's decision, with the invitation it decided planned next to it.
type Decided = (Result<Decision, ScriptError>, apply::Preplanned);

/// Events whose domain step is done and whose scripts are running.
struct Chunk<'e> {
    steps: Vec<(&'e event::Model, Option<Step>)>,
    scripts: tokio::task::JoinHandle<Vec<Decided>>,
}

/// What an event's invitation, if its script decides one, is planned from on the scripts'
/// thread: what the `invite` action would plan it from (`apply`), read before the script runs.
struct InviteBasis {
    application: crate::store::entities::application::Model,
    candidate: crate::store::entities::candidate::Model,
    standing: crate::store::opt_outs::Standing,
    company_name: String,
    event_id: String,
}

/// The queue's handler for every inbound event.
#[derive(Clone)]
pub struct Pipeline {
    scripts: Scripts,
    mailer: Mailer,
    config: Arc<Config>,
    /// Hashes addresses for their opt-outs and consent (C8).
    address_key: AddressKey,
}

impl Pipeline {
    /// Everything an event's handling reads and writes goes through the worker's transaction:
    /// the pipeline holds no connection of its own.
    pub fn new(
        scripts: Scripts,
        mailer: Mailer,
        config: Arc<Config>,
        address_key: AddressKey,
    ) -> Self {
        Pipeline {
            scripts,
            mailer,
            config,
            address_key,
        }
    }

    /// The company name candidate emails show, read in the worker's transaction `txn`.
    async fn company_name(&self, txn: &DatabaseTransaction) -> String {
        crate::relay::company_name(txn, &self.config).await
    }
}

fn parse(event: &event::Model) -> Result<InboundEvent, HandleError> {
    let source = EventSource::parse(&event.source).map_err(HandleError::Invalid)?;
    InboundEvent::parse(source, event.payload.as_bytes())
        .map_err(|e| HandleError::Invalid(format!("stored payload: {e}")))
}

/// What a payload names of the application and the candidate it concerns, before any
/// look-up: two events that name one are not handled in the same batch (see `handle_batch`).
fn names_of(parsed: &InboundEvent) -> Vec<String> {
    let candidate = prepare::candidate_of(parsed).map(|c| format!("email:{}", c.email.as_str()));
    let applications = match parsed {
        InboundEvent::Bizreach(e) => vec![format!("{BIZREACH}:{}", e.application.id.as_str())],
        InboundEvent::Ats(c) => {
            let source = c.source.as_ref().map(|s| {
                format!(
                    "{}:{}",
                    s.system.as_str().to_ascii_lowercase(),
                    s.application_id.as_str()
                )
            });
            let ats = c
                .ats_application_id
                .as_ref()
                .map(|a| format!("ats:{}", a.as_str()));
            source.into_iter().chain(ats).collect()
        }
        InboundEvent::CareerRelay(CareerRelayEvent::RegistrationCompleted {
            invitation_token,
            ..
        }) => vec![format!("invitation:{}", invitation_token.as_str())],
        InboundEvent::CareerRelay(CareerRelayEvent::ReferralUpdated { .. }) => Vec::new(),
    };
    applications.into_iter().chain(candidate).collect()
}

fn failed(event: Option<&event::Model>) -> impl FnOnce(HandleError) -> BatchFailure + '_ {
    move |error| BatchFailure {
        event_id: event.map(|e| e.id.clone()),
        error,
    }
}

/// Handled again one event at a time: the batch's work so far is rolled back.
fn start_over(why: String) -> BatchFailure {
    failed(None)(HandleError::Transient(anyhow::anyhow!(why)))
}

#[async_trait]
impl Handler for Pipeline {
    /// A batch in steps, so that what costs per event is paid once per batch or chunk: the
    /// shared domain step (`prepare::batch_step`); then, a chunk at a time, every event's
    /// domain step (in order), the chunk's scripts in one blocking call (running while the
    /// next chunk's domain steps are made), every event's actions (in order); then the writes
    /// kept for the end (`BatchScope`).
    ///
    /// That comes to what handling the events one after another would, because no two events
    /// of a batch concern one application or candidate: the batch stops before an event that
    /// names one an earlier event names (the rest go back to the queue), and is handled again
    /// one event at a time if two events named differently turn out to concern one.
    async fn handle_batch(
        &self,
        txn: &DatabaseTransaction,
        batch: &[event::Model],
        until: i64,
    ) -> Result<Vec<Option<DecisionRecord>>, BatchFailure> {
        let started = std::time::Instant::now();
        let mut scope = BatchScope::default();
        // The events this batch handles: up to the first that names an application or a
        // candidate an earlier one names. Each stored payload is parsed once.
        let mut named = HashSet::new();
        let mut parsed: Vec<Result<InboundEvent, HandleError>> = Vec::with_capacity(batch.len());
        for event in batch {
            let p = parse(event);
            if let Ok(p) = &p {
                let names = names_of(p);
                if names.iter().any(|n| named.contains(n)) {
                    break;
                }
                named.extend(names);
            }
            parsed.push(p);
        }
        let batch = &batch[..parsed.len()];
        let all_parsed: Option<Vec<(&event::Model, &InboundEvent)>> = batch
            .iter()
            .zip(&parsed)
            .map(|(e, p)| p.as_ref().ok().map(|p| (e, p)))
            .collect();
        if let Some(all_parsed) = all_parsed {
            prepare::batch_step(txn, &mut scope, &self.address_key, &all_parsed)
                .await
                .map_err(failed(None))?;
        }
        let imported_in = started.elapsed();

        // Domain steps, scripts and actions, a chunk of events at a time: a chunk's scripts
        // run on a blocking thread while the next chunk's domain steps and the previous
        // chunk's actions use the database.
        let mut subjects = HashSet::new();
        let mut records = Vec::with_capacity(batch.len());
        let mut in_flight: Option<Chunk> = None;
        let mut parsed = parsed.into_iter();
        let (mut preparing, mut acting) = (Duration::ZERO, Duration::ZERO);
        let mut prepared = 0;
        for events in batch.chunks(CHUNK) {
            let step_started = std::time::Instant::now();
            let mut steps = Vec::with_capacity(events.len());
            let mut runs = Vec::with_capacity(events.len());
            for event in events {
                if now_millis() > until {
                    break;
                }
                let Some(parsed) = parsed.next() else { break };
                let parsed = parsed.map_err(failed(Some(event)))?;
                let step = prepare::prepare(
                    txn,
                    &mut scope,
                    &self.address_key,
                    event,
                    &parsed,
                    self.config.career_relay_ratio,
                )
                .instrument(event_span(event))
                .await
                .map_err(failed(Some(event)))?;
                if let Some(subject) = step.as_ref().map(|p| &p.subject) {
                    let ids = [
                        subject.application.as_ref().map(|a| &a.id),
                        subject.candidate.as_ref().map(|c| &c.id),
                    ];
                    for id in ids.into_iter().flatten() {
                        if !subjects.insert(id.clone()) {
                            return Err(start_over(format!(
                                "two events of the batch concern {id}"
                            )));
                        }
                    }
                }
                let basis = match &step {
                    Some(p) => self.invite_basis(txn, &mut scope, event, &p.subject).await,
                    None => None,
                };
                steps.push((
                    event,
                    step.map(|p| {
                        let context = p.input.recorded_context();
                        runs.push((p.script.clone(), p.input, basis));
                        (p.script, p.subject, context)
                    }),
                ));
            }
            prepared += steps.len();
            let stopped = steps.len() < events.len();
            if stopped && scope.has_kept_writes() {
                // Candidates and applications of the rest were upserted with the batch:
                // stopping here would commit their domain step without their scripts.
                return Err(start_over(
                    "the batch stopped after its imports were stored".into(),
                ));
            }
            preparing += step_started.elapsed();
            let chunk = Chunk {
                scripts: self.spawn_scripts(runs),
                steps,
            };
            if let Some(previous) = in_flight.replace(chunk) {
                let acting_started = std::time::Instant::now();
                self.act_on(txn, &mut scope, previous, &mut records).await?;
                acting += acting_started.elapsed();
            }
            if stopped {
                break;
            }
        }
        if let Some(last) = in_flight.take() {
            let acting_started = std::time::Instant::now();
            self.act_on(txn, &mut scope, last, &mut records).await?;
            acting += acting_started.elapsed();
        }
        scope.flush(txn).await.map_err(failed(None))?;
        tracing::debug!(
            events = records.len(),
            prepared,
            import_us = imported_in.as_micros() as u64,
            prepare_us = preparing.as_micros() as u64,
            actions_us = acting.as_micros() as u64,
            total_us = started.elapsed().as_micros() as u64,
            "batch handled"
        );
        Ok(records)
    }

    fn after_commit(&self) {
        self.mailer.wake();
    }

    fn decided(&self, records: &[DecisionRecord]) {
        self.scripts.record_decisions(records);
    }
}

fn event_span(event: &event::Model) -> tracing::Span {
    tracing::info_span!("event", id = %event.id, kind = %event.kind)
}

/// The invitation `decision` makes (its first `invite` with a time), planned from `basis` on
/// the calling (blocking) thread; `None` when it makes none.
fn preplan(
    mailer: &Mailer,
    config: &Config,
    decision: &Decision,
    basis: &InviteBasis,
) -> apply::Preplanned {
    let send_at = decision.actions.iter().find_map(|action| match action {
        crate::scripting::Action::Invite { send_at } => Some(send_at.as_deref()),
        _ => None,
    })??;
    let send_at = crate::domain::time::parse_rfc3339(send_at).ok()?;
    let settings = crate::relay::InviteSettings {
        public_url: &config.public_url,
        company_name: &basis.company_name,
        sender: &config.sender,
    };
    let plan = crate::relay::plan_blocking(
        mailer,
        &settings,
        &basis.application,
        &basis.candidate,
        &basis.standing,
        send_at,
        &basis.event_id,
    );
    Some((send_at, basis.standing.clone(), plan))
}

impl Pipeline {
    /// What the event's invitation would be planned from, when its application, candidate
    /// and the standing of the candidate's address are at hand (the standing looked up for
    /// the batch: never a query of its own).
    async fn invite_basis(
        &self,
        txn: &DatabaseTransaction,
        scope: &mut BatchScope,
        event: &event::Model,
        subject: &Subject,
    ) -> Option<InviteBasis> {
        let (application, candidate) = (subject.application.as_ref()?, subject.candidate.as_ref()?);
        let standing = scope.known_standing(&candidate.id)?;
        let company_name = scope.company_name(self.company_name(txn)).await.to_owned();
        Some(InviteBasis {
            application: application.clone(),
            candidate: candidate.clone(),
            standing,
            company_name,
            event_id: event.id.clone(),
        })
    }

    /// Runs the scripts of a chunk, in order, on a blocking thread; stops after the first
    /// that fails (the batch is handled again one event at a time) or at the scripts' time
    /// limit, so the answer may be shorter than `runs`. An invitation a script decides for a
    /// given time is planned (its mail rendered) there too, from its `basis`: one hand-over
    /// to a blocking thread per chunk rather than one per invitation.
    fn spawn_scripts(
        &self,
        runs: Vec<(ScriptName, ScriptInput, Option<InviteBasis>)>,
    ) -> tokio::task::JoinHandle<Vec<Decided>> {
        let scripts = self.scripts.clone();
        let (mailer, config) = (self.mailer.clone(), self.config.clone());
        let limit = std::time::Instant::now() + SCRIPTS_OF_A_CHUNK;
        tokio::task::spawn_blocking(move || {
            let mut decisions = Vec::with_capacity(runs.len());
            for (name, input, basis) in &runs {
                if std::time::Instant::now() > limit {
                    break;
                }
                let decision = scripts.run(name, input);
                let failed = decision.is_err();
                let planned = match (&decision, basis) {
                    (Ok(decision), Some(basis)) => preplan(&mailer, &config, decision, basis),
                    _ => None,
                };
                decisions.push((decision, planned));
                if failed {
                    break;
                }
            }
            decisions
        })
    }

    /// Carries out what a chunk's scripts decided, event by event, adding their records.
    async fn act_on<'e>(
        &self,
        txn: &DatabaseTransaction,
        scope: &mut BatchScope,
        chunk: Chunk<'e>,
        records: &mut Vec<Option<DecisionRecord>>,
    ) -> Result<(), BatchFailure> {
        let decisions = chunk.scripts.await.map_err(|e| {
            failed(None)(HandleError::Transient(anyhow::anyhow!(
                "the scripts' thread failed: {e}"
            )))
        })?;
        let mut decisions = decisions.into_iter();
        for (event, step) in chunk.steps {
            let Some((script, subject, context)) = step else {
                records.push(None);
                continue;
            };
            let (decision, preplanned) = match decisions.next() {
                Some((Ok(decision), preplanned)) => (decision, preplanned),
                Some((Err(err), _)) => {
                    return Err(failed(Some(event))(
                        self.script_failure(event, &script, &err, context),
                    ))
                }
                None => {
                    return Err(start_over(
                        "the batch's scripts stopped at their time limit".into(),
                    ))
                }
            };
            let record = self
                .act(txn, scope, event, &subject, (decision, preplanned), context)
                .instrument(event_span(event))
                .await
                .map_err(failed(Some(event)))?;
            records.push(Some(record));
        }
        Ok(())
    }

    /// Carries out what the script decided for one event; answers its decision record.
    async fn act(
        &self,
        txn: &DatabaseTransaction,
        scope: &mut BatchScope,
        event: &event::Model,
        subject: &Subject,
        (decision, preplanned): (Decision, apply::Preplanned),
        context: serde_json::Value,
    ) -> Result<DecisionRecord, HandleError> {
        // Only invitations show the company name: looked up when one is decided, once a batch.
        let company_name = if decision
            .actions
            .iter()
            .any(|a| matches!(a, crate::scripting::Action::Invite { .. }))
        {
            scope.company_name(self.company_name(txn)).await.to_owned()
        } else {
            String::new()
        };
        let effects = apply::Effects {
            mailer: &self.mailer,
            public_url: &self.config.public_url,
            company_name: &company_name,
            sender: &self.config.sender,
            invitation_cooldown_days: self.config.invitation_cooldown_days,
            address_key: &self.address_key,
        };
        let applied = apply::apply(
            txn,
            scope,
            &effects,
            event,
            subject,
            &decision.actions,
            preplanned,
        )
        .await;
        let record = |error: Option<String>| DecisionRecord {
            event_id: event.id.clone(),
            actions: serde_json::to_value(&decision.actions).unwrap_or_default(),
            script: decision.script,
            script_version: decision.version,
            log: decision.log,
            error,
            duration_us: decision.duration.as_micros() as i64,
            decided_at: now_millis(),
            context: Some(context),
        };
        match applied {
            Ok(()) => Ok(record(None)),
            Err(HandleError::Script { message, .. }) => Err(HandleError::Script {
                record: Some(Box::new(record(Some(message.clone())))),
                message,
            }),
            Err(other) => Err(other),
        }
    }

    /// A script that failed at run time: its event is `failed` with the error and position.
    fn script_failure(
        &self,
        event: &event::Model,
        script: &ScriptName,
        err: &ScriptError,
        context: serde_json::Value,
    ) -> HandleError {
        let version = self
            .scripts
            .active(script.as_str())
            .map_or(0, |s| s.version);
        let message = err.to_string();
        HandleError::Script {
            record: Some(Box::new(DecisionRecord {
                event_id: event.id.clone(),
                script: script.to_string(),
                script_version: version,
                actions: serde_json::json!([]),
                log: Vec::new(),
                error: Some(message.clone()),
                duration_us: 0,
                decided_at: now_millis(),
                context: Some(context),
            })),
            message,
        }
    }
}

/// Dry runs over stored history get the same input the pipeline would build, read from the
/// current state without writing.
///
/// A type of its own rather than the [`Pipeline`]: the scripts keep their input builder, and a
/// pipeline (which holds the scripts) there would be a reference cycle that keeps the store and
/// its connections open after the server is gone.
pub struct StoredInput {
    store: Store,
    address_key: AddressKey,
}

impl StoredInput {
    pub fn new(store: Store, address_key: AddressKey) -> Self {
        StoredInput { store, address_key }
    }
}

#[async_trait]
impl InputBuilder for StoredInput {
    async fn input_for(&self, event: &event::Model) -> Result<ScriptInput, String> {
        let parsed = parse(event).map_err(|e| e.to_string())?;
        prepare::lookup(&self.store.db, &self.address_key, event, &parsed)
            .await
            .map_err(|e| e.to_string())
    }
}
