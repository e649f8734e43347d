//! The domain step of each event, before its script runs: a BizReach import becomes a candidate
//! and an application; an ATS change is recorded on its application; a Career Relay
//! registration is recorded on its invitation. Each step answers the script's input.
//!
//! [`lookup`] builds the same input without writing, for dry runs over stored history.
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::domain::invitation_tokens::TokenUse;
use crate::domain::message_kind::MessageKind;
use crate::domain::names::ScriptName;
use crate::domain::payload::{
    AtsStatusChange, BizreachApplicationEvent, CareerRelayEvent, InboundEvent, MarketingConsent,
};
use crate::domain::status::NotificationKind;
use crate::queue::HandleError;
use crate::scripting::hooks::{CareerRelayContext, Context, Hook, ImportContext, StatusContext};
use crate::scripting::ScriptInput;
use crate::store::applications::{CandidateIn, ImportIn, StatusChangeIn, BIZREACH};
use crate::store::entities::{application, candidate, event};
use crate::store::Store;
use crate::views::{application_json, candidate_json};

use super::scope::BatchScope;

/// What a script runs on, and the records its actions apply to.
pub struct Prepared {
    pub script: ScriptName,
    pub input: ScriptInput,
    pub subject: Subject,
}

/// The application and candidate an event concerns, as its domain step left them.
pub struct Subject {
    pub application: Option<application::Model>,
    pub candidate: Option<candidate::Model>,
}

fn input(
    event: &event::Model,
    application: Option<&application::Model>,
    candidate: Option<&candidate::Model>,
    context: impl Into<Context>,
) -> ScriptInput {
    ScriptInput {
        event_type: event.kind.clone(),
        event: serde_json::from_str(&event.payload).unwrap_or(Value::Null),
        application: application.map(|a| application_json(a, candidate)),
        candidate: candidate.map(candidate_json),
        context: context.into().into_value(),
        now: chrono::Utc::now(),
    }
}

/// How an import arrived, from its webhook id (`pull:…`, `backfill:…`, or pushed).
fn imported_via(webhook_id: &str) -> &'static str {
    if webhook_id.starts_with("pull:") {
        "poll"
    } else if webhook_id.starts_with("backfill:") {
        "backfill"
    } else {
        "push"
    }
}

/// Runs the domain step of `parsed`; `None` when there is nothing for a script to decide (an
/// ATS change older than the newest applied one is recorded and changes nothing).
/// `career_relay_ratio` is registrations per slot (C1), for `career_relay.slot_earned`.
/// `key` hashes addresses for their opt-outs and consent (C8).
pub async fn prepare<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    key: &AddressKey,
    event: &event::Model,
    parsed: &InboundEvent,
    career_relay_ratio: u32,
) -> Result<Option<Prepared>, HandleError> {
    if let Some((address, consent)) = consent_of(parsed) {
        record_consent(db, key, event, address, consent).await?;
    }
    match parsed {
        InboundEvent::Bizreach(e) => import(db, scope, event, e).await.map(Some),
        InboundEvent::Ats(c) => status_change(db, scope, key, event, parsed, c).await,
        InboundEvent::CareerRelay(r) => career_relay(db, event, r, career_relay_ratio)
            .await
            .map(Some),
    }
}

fn candidate_in(e: &BizreachApplicationEvent) -> CandidateIn<'_> {
    let c = &e.application.candidate;
    CandidateIn {
        email: &c.email,
        name: c.name.as_str(),
        phone: c.phone.as_deref(),
        attributes: &c.attributes,
        bizreach_candidate_id: c.id.as_deref(),
    }
}

fn import_in<'e>(event: &event::Model, e: &'e BizreachApplicationEvent) -> ImportIn<'e> {
    let a = &e.application;
    ImportIn {
        group_account_id: e.group_account_id.as_str(),
        source_application_id: a.id.as_str(),
        channel: a.channel.as_str(),
        position_name: a.position_name.as_str(),
        source_status: a.status.as_str(),
        applied_at: a.applied_at.timestamp_millis(),
        imported_via: imported_via(&event.webhook_id),
    }
}

/// The candidate an event describes, if any.
pub fn candidate_of(parsed: &InboundEvent) -> Option<CandidateIn<'_>> {
    match parsed {
        InboundEvent::Bizreach(e) => Some(candidate_in(e)),
        InboundEvent::Ats(c) => c.candidate.as_ref().map(|given| CandidateIn {
            email: &given.email,
            name: given.name.as_str(),
            phone: None,
            attributes: &given.attributes,
            bizreach_candidate_id: None,
        }),
        InboundEvent::CareerRelay(_) => None,
    }
}

/// The consent to Career Relay invitations an event's candidate carries, with their address.
fn consent_of(parsed: &InboundEvent) -> Option<(&Email, &MarketingConsent)> {
    match parsed {
        InboundEvent::Bizreach(e) => {
            let c = &e.application.candidate;
            c.marketing_consent.as_ref().map(|m| (&c.email, m))
        }
        InboundEvent::Ats(c) => c
            .candidate
            .as_ref()
            .and_then(|given| given.marketing_consent.as_ref().map(|m| (&given.email, m))),
        InboundEvent::CareerRelay(_) => None,
    }
}

/// C8: records the consent an event carries under the address's keyed hash, naming the event
/// as who recorded it (a replay records the same again).
async fn record_consent<C: ConnectionTrait>(
    db: &C,
    key: &AddressKey,
    event: &event::Model,
    address: &Email,
    consent: &MarketingConsent,
) -> Result<(), HandleError> {
    Store::record_consent(
        db,
        &key.hash(address),
        MessageKind::CareerRelayInvitation,
        &consent.consent(),
        &format!("{} webhook {}", event.source, event.id),
        crate::domain::time::now_millis(),
    )
    .await?;
    Ok(())
}

/// The shared domain step of a batch whose events name distinct applications and candidates
/// (see `Pipeline::handle_batch`): every candidate the events describe upserted with one
/// statement, every imported application with another, and the applications status changes
/// name looked up together; all kept in `scope` for each event's [`prepare`]. Nothing for a
/// batch of one.
pub async fn batch_step<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    key: &AddressKey,
    events: &[(&event::Model, &InboundEvent)],
) -> Result<(), HandleError> {
    if events.len() < 2 {
        return Ok(());
    }
    let candidates: Vec<CandidateIn> = events.iter().filter_map(|(_, p)| candidate_of(p)).collect();
    if candidates.len() > 1 {
        let upserted = Store::upsert_candidates(db, &candidates).await?;
        // Consent the events carry is recorded by their own domain step, before it is read.
        let carries_consent = events.iter().any(|(_, p)| consent_of(p).is_some());
        let has_changes = events
            .iter()
            .any(|(_, p)| matches!(p, InboundEvent::Ats(_)));
        if has_changes && !carries_consent {
            let models: Vec<&candidate::Model> = upserted.values().collect();
            scope.find_standings(db, key, &models).await?;
        }
        scope.keep_candidates(upserted);
    }
    let imports: Vec<(&event::Model, &BizreachApplicationEvent)> = events
        .iter()
        .filter_map(|(event, parsed)| match parsed {
            InboundEvent::Bizreach(e) => Some((*event, e)),
            _ => None,
        })
        .collect();
    if imports.len() > 1 {
        let mut list = Vec::with_capacity(imports.len());
        for (event, e) in &imports {
            let email = e.application.candidate.email.as_str();
            let candidate = scope.candidate(email).ok_or_else(|| {
                HandleError::Transient(anyhow::anyhow!("candidate {email} was not upserted"))
            })?;
            list.push((candidate.id.clone(), import_in(event, e)));
        }
        let borrowed: Vec<(&str, ImportIn)> = list
            .iter()
            .map(|(id, i)| (id.as_str(), i.clone()))
            .collect();
        let apps = Store::plan_imports(db, &borrowed).await?;
        let unrouted: Vec<&str> = apps
            .values()
            .filter(|(app, _)| app.job_id.is_none())
            .filter_map(|(app, _)| app.position_name.as_deref())
            .collect();
        scope.find_routing_jobs(db, &unrouted).await?;
        for (app, created) in apps.into_values() {
            scope.keep_import(app, created);
        }
    }
    let changes: Vec<&AtsStatusChange> = events
        .iter()
        .filter_map(|(_, parsed)| match parsed {
            InboundEvent::Ats(c) => Some(c),
            _ => None,
        })
        .collect();
    if changes.len() > 1 {
        let by_source: Vec<(&str, &str)> = changes
            .iter()
            .filter_map(|c| c.source.as_ref())
            .map(|s| (source_system(s.system.as_str()), s.application_id.as_str()))
            .collect();
        let by_ats: Vec<&str> = changes
            .iter()
            .filter_map(|c| c.ats_application_id.as_ref().map(|t| t.as_str()))
            .collect();
        let found = Store::find_applications_named(db, &by_source, &by_ats).await?;
        let ids: Vec<&str> = found.iter().map(|a| a.id.as_str()).collect();
        let invited = Store::invited_applications(db, &ids).await?;
        scope.keep_invited(&ids, &invited);
        // C8: the invitations of every candidate a status change concerns, whether its
        // application is known (its candidate) or created by the batch (the candidate the
        // event describes, upserted above): one query, not one per event and action.
        let mut candidates: Vec<String> = found.iter().map(|a| a.candidate_id.clone()).collect();
        candidates.extend(
            changes
                .iter()
                .filter_map(|c| c.candidate.as_ref())
                .filter_map(|given| scope.candidate(given.email.as_str()))
                .map(|c| c.id.clone()),
        );
        candidates.sort_unstable();
        candidates.dedup();
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        let past = Store::past_invitations(db, &candidates).await?;
        scope.keep_past_invitations(&candidates, past);
        scope.keep_named_applications(found);
    }
    Ok(())
}

async fn import<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    event: &event::Model,
    e: &BizreachApplicationEvent,
) -> Result<Prepared, HandleError> {
    let candidate = match scope.take_candidate(e.application.candidate.email.as_str()) {
        Some(kept) => kept,
        None => Store::upsert_candidate(db, candidate_in(e)).await?,
    };
    let id = e.application.id.as_str();
    let (app, created) = match scope.take_import(id) {
        Some(kept) => kept,
        None => {
            let (app, created) = Store::plan_imports(db, &[(&candidate.id, import_in(event, e))])
                .await?
                .remove(id)
                .ok_or_else(|| HandleError::Transient(anyhow::anyhow!("{id} was not planned")))?;
            if created {
                scope.create_application(app.clone());
            }
            (app, created)
        }
    };
    let context = import_context(db, scope, &app, created).await?;
    Ok(Prepared {
        script: Hook::Import.script(),
        input: input(event, Some(&app), Some(&candidate), context),
        subject: Subject {
            application: Some(app),
            candidate: Some(candidate),
        },
    })
}

/// `ctx` of `import.rhai`: the routing rule's job for the position (I7), how many users want
/// to hear of a new application (I5, only on first import), and whether it is new.
async fn import_context<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    app: &application::Model,
    created: bool,
) -> Result<ImportContext, HandleError> {
    let routing_job_id = match (&app.job_id, &app.position_name) {
        (None, Some(position)) => scope.routing_job(db, position).await?,
        _ => None,
    };
    let notify_subscribers = if created {
        scope
            .subscribers(db, NotificationKind::BizreachApplication)
            .await?
            .len()
    } else {
        0
    };
    Ok(ImportContext {
        routing_job_id,
        notify_subscribers,
        created,
        imported_via: app.imported_via.clone(),
    })
}

async fn status_change<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    key: &AddressKey,
    event: &event::Model,
    parsed: &InboundEvent,
    c: &AtsStatusChange,
) -> Result<Option<Prepared>, HandleError> {
    let ats_id = c.ats_application_id.as_ref().map(|t| t.as_str());
    let mut app = match scope.named_application(c) {
        Some(prefetched) => prefetched,
        None => find_ats_application(db, c).await?,
    };
    let created = app.is_none();
    let candidate = match (&app, candidate_of(parsed)) {
        (_, Some(given)) => Some(match scope.take_candidate(given.email.as_str()) {
            Some(kept) => kept,
            None => Store::upsert_candidate(db, given).await?,
        }),
        (Some(found), None) => Some(Store::get_candidate(db, &found.candidate_id).await?),
        (None, None) => None,
    };
    if app.is_none() {
        let (Some(candidate), Some(ats_id)) = (&candidate, ats_id) else {
            return Err(HandleError::Invalid("hirelay does not know this application and the event has no `candidate` (and `ats_application_id`) to create it from".into()));
        };
        // Stored with its first status change, below.
        app = Some(Store::new_ats_application(&candidate.id, ats_id));
    }
    let mut app = app.unwrap_or_else(|| unreachable!("found or made above"));
    if let (false, Some(ats_id)) = (created, ats_id) {
        app = Store::set_ats_id(db, app, ats_id).await?;
    }
    // Issue 19: an application from another channel has no position name of its own; the
    // ATS job's title is what its invitation names (「…」 was empty).
    let job_title = c.job.as_ref().and_then(|j| j.title.as_deref());
    if let (None, Some(title)) = (
        &app.position_name,
        job_title.filter(|t| !t.trim().is_empty()),
    ) {
        if !created {
            Store::set_position_name(db, &app.id, title).await?;
        }
        app.position_name = Some(title.to_owned());
    }
    if let (None, Some(job)) = (&app.job_id, &c.job) {
        let job = Store::job_for_ats(db, job.id.as_str(), job.title.as_deref()).await?;
        if !created {
            Store::set_job(db, &app.id, &job.id).await?;
        }
        app.job_id = Some(job.id);
    }
    let outcome = Store::record_status_change(
        db,
        app,
        created,
        StatusChangeIn {
            event_id: &event.id,
            from_status: c.from_status.map(|s| s.as_str()),
            to_status: c.to_status.as_str(),
            stage: c.stage.as_deref(),
            reason: c.reason.as_deref(),
            changed_at: c.changed_at.timestamp_millis(),
        },
    )
    .await?;
    if let Some(history) = outcome.history {
        scope.write_history(history);
    }
    if created {
        scope.create_application(outcome.application.clone());
    }
    if !outcome.applied {
        tracing::info!(application = %outcome.application.id, "status change older than the newest applied one: recorded only");
        return Ok(None);
    }
    let candidate = match candidate {
        Some(c) => c,
        None => Store::get_candidate(db, &outcome.application.candidate_id).await?,
    };
    let context = status_context(
        db,
        scope,
        key,
        &outcome.application,
        &candidate,
        Some(&outcome.previous_status),
        created,
    )
    .await?;
    Ok(Some(Prepared {
        script: Hook::Status.script(),
        input: input(event, Some(&outcome.application), Some(&candidate), context),
        subject: Subject {
            application: Some(outcome.application),
            candidate: Some(candidate),
        },
    }))
}

/// A source system as applications record it (`bizreach` in any case is BizReach).
pub fn source_system(system: &str) -> &str {
    if system.eq_ignore_ascii_case(BIZREACH) {
        BIZREACH
    } else {
        system
    }
}

async fn find_ats_application<C: ConnectionTrait>(
    db: &C,
    c: &AtsStatusChange,
) -> Result<Option<application::Model>, HandleError> {
    if let Some(source) = &c.source {
        let system = source_system(source.system.as_str());
        if let Some(found) =
            Store::find_application_by_source(db, system, source.application_id.as_str()).await?
        {
            return Ok(Some(found));
        }
    }
    match &c.ats_application_id {
        Some(ats) => Ok(Store::find_application_by_ats_id(db, ats.as_str()).await?),
        None => Ok(None),
    }
}

/// `ctx` of `status.rhai` for an applied change: the status before it, and what C8 needs
/// (opted out, this application already invited, when the person was last invited and whether
/// they registered; an application created by this event has no invitation yet).
async fn status_context<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    key: &AddressKey,
    app: &application::Model,
    candidate: &candidate::Model,
    previous_status: Option<&str>,
    created: bool,
) -> Result<StatusContext, HandleError> {
    let already_invited = !created && scope.already_invited(db, &app.id).await?;
    let past = scope.past_invitations(db, &candidate.id).await?;
    let standing = scope.standing(db, key, candidate).await?;
    Ok(StatusContext {
        status_applied: true,
        previous_status: previous_status.map(str::to_owned),
        opted_out: standing.opted_out.is_some(),
        already_invited,
        candidate_invited_at: past.latest_send_at.map(crate::domain::time::rfc3339),
        candidate_registered: past.registered,
    })
}

async fn career_relay<C: ConnectionTrait>(
    db: &C,
    event: &event::Model,
    r: &CareerRelayEvent,
    ratio: u32,
) -> Result<Prepared, HandleError> {
    let (application, candidate, context) = match r {
        CareerRelayEvent::RegistrationCompleted {
            invitation_token,
            registered_at,
            attributes,
        } => {
            let invitation = Store::record_registration(
                db,
                invitation_token.as_str(),
                registered_at.timestamp_millis(),
                &Value::Object(attributes.clone()),
            )
            .await
            .map_err(|e| match e {
                crate::store::StoreError::NotFound(_) => {
                    HandleError::Invalid("no invitation has this `invitation_token`".into())
                }
                other => other.into(),
            })?;
            crate::relay::announce::registered(db, &invitation, ratio).await?;
            let app = Store::get_application(db, &invitation.application_id).await?;
            let candidate = Store::get_candidate(db, &invitation.candidate_id).await?;
            (
                Some(app),
                Some(candidate),
                CareerRelayContext {
                    invitation_id: Some(invitation.id),
                },
            )
        }
        CareerRelayEvent::ReferralUpdated {
            referral_id,
            outcome,
            at,
        } => {
            Store::record_referral_outcome(
                db,
                referral_id.as_str(),
                *outcome,
                at.timestamp_millis(),
                crate::domain::time::now_millis(),
            )
            .await?;
            (None, None, CareerRelayContext::default())
        }
    };
    Ok(Prepared {
        script: Hook::CareerRelay.script(),
        input: input(event, application.as_ref(), candidate.as_ref(), context),
        subject: Subject {
            application,
            candidate,
        },
    })
}

/// The input a script would get for a stored event, read from the current state without
/// writing anything (dry runs over history).
pub async fn lookup<C: ConnectionTrait>(
    db: &C,
    key: &AddressKey,
    event: &event::Model,
    parsed: &InboundEvent,
) -> Result<ScriptInput, HandleError> {
    match parsed {
        InboundEvent::Bizreach(e) => {
            let app =
                Store::find_application_by_source(db, BIZREACH, e.application.id.as_str()).await?;
            let candidate = match &app {
                Some(a) => Some(Store::get_candidate(db, &a.candidate_id).await?),
                None => None,
            };
            let context = match &app {
                Some(a) => import_context(db, &mut BatchScope::default(), a, false).await?,
                None => ImportContext {
                    routing_job_id: Store::routing_job_for(
                        db,
                        e.application.position_name.as_str(),
                    )
                    .await?,
                    created: true,
                    imported_via: Some(imported_via(&event.webhook_id).to_owned()),
                    ..ImportContext::default()
                },
            };
            Ok(input(event, app.as_ref(), candidate.as_ref(), context))
        }
        InboundEvent::Ats(c) => {
            let app = find_ats_application(db, c).await?;
            let candidate = match &app {
                Some(a) => Some(Store::get_candidate(db, &a.candidate_id).await?),
                None => None,
            };
            let context = match (&app, &candidate) {
                (Some(a), Some(cand)) => {
                    status_context(
                        db,
                        &mut BatchScope::default(),
                        key,
                        a,
                        cand,
                        c.from_status.map(|s| s.as_str()),
                        false,
                    )
                    .await?
                }
                _ => StatusContext {
                    previous_status: c.from_status.map(|s| s.as_str().to_owned()),
                    ..StatusContext::default()
                },
            };
            Ok(input(event, app.as_ref(), candidate.as_ref(), context))
        }
        InboundEvent::CareerRelay(CareerRelayEvent::RegistrationCompleted {
            invitation_token,
            ..
        }) => {
            let invitation =
                Store::invitation_by_token(db, TokenUse::CareerRelay, invitation_token.as_str())
                    .await?;
            let Some(invitation) = invitation else {
                return Ok(input(event, None, None, CareerRelayContext::default()));
            };
            let app = Store::get_application(db, &invitation.application_id).await?;
            let candidate = Store::get_candidate(db, &invitation.candidate_id).await?;
            let context = CareerRelayContext {
                invitation_id: Some(invitation.id),
            };
            Ok(input(event, Some(&app), Some(&candidate), context))
        }
        InboundEvent::CareerRelay(CareerRelayEvent::ReferralUpdated { .. }) => {
            Ok(input(event, None, None, CareerRelayContext::default()))
        }
    }
}
