//! Carries out a script's actions inside the event's transaction. Every effect has a key made
//! from the event and the action, so a replayed event never sends the same mail twice or counts
//! a KPI twice.
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

use super::prepare::Subject;
use super::scope::BatchScope;
use crate::bizreach::inbox::{routed_payload, APPLICATION_ROUTED};
use crate::config::LegalSender;
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::names::TemplateName;
use crate::domain::status::NotificationKind;
use crate::domain::time::{now_millis, parse_rfc3339, rfc3339};
use crate::mail::{MailError, Mailer, OutgoingMail};
use crate::queue::HandleError;
use crate::relay::{self, InviteSettings, Invited, Plan, RelayError};
use crate::scripting::Action;
use crate::store::applications::labels;
use crate::store::entities::{application, event};
use crate::store::kpis::NewKpi;
use crate::store::opt_outs::Standing;
use crate::store::Store;

/// The outbound event sent when a script changes an application's labels.
pub use crate::domain::outbound_events::APPLICATION_LABELED;

/// What the actions need besides the transaction.
pub struct Effects<'a> {
    pub mailer: &'a Mailer,
    pub public_url: &'a str,
    pub company_name: &'a str,
    /// Who invitations say they are from (特定電子メール法).
    pub sender: &'a LegalSender,
    /// C8: the least days between two invitations to one person.
    pub invitation_cooldown_days: u32,
    /// C8: opt-outs and consent are kept under this key's hash of the address.
    pub address_key: &'a crate::crypto::AddressKey,
}

/// An invitation planned on the scripts' thread right after its script decided it (see
/// `Pipeline::spawn_scripts`): the send time and the address's standing it was planned for,
/// and the plan. The `invite` action uses it when it plans for the same.
pub type Preplanned = Option<(i64, Standing, Result<Plan, RelayError>)>;

/// An action the event cannot carry out: reported like a script error (not retried).
fn refused(action: &Action, why: impl std::fmt::Display) -> HandleError {
    HandleError::Script {
        message: format!("action `{}`: {why}", action.type_name()),
        record: None,
    }
}

fn mail_error(action: &Action, err: MailError) -> HandleError {
    match err {
        MailError::Store(e) => e.into(),
        e @ MailError::Interrupted(_) => HandleError::Transient(e.into()),
        other => refused(action, other),
    }
}

fn needs_app<'p>(
    action: &Action,
    subject: &'p Subject,
) -> Result<&'p application::Model, HandleError> {
    subject
        .application
        .as_ref()
        .ok_or_else(|| refused(action, "this event has no application"))
}

fn at_millis(action: &Action, at: &Option<String>) -> Result<Option<i64>, HandleError> {
    at.as_deref()
        .map(|s| {
            parse_rfc3339(s).map_err(|e| refused(action, format!("`{s}` is not RFC 3339: {e}")))
        })
        .transpose()
}

/// Applies `actions` in order.
pub async fn apply<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    fx: &Effects<'_>,
    event: &event::Model,
    subject: &Subject,
    actions: &[Action],
    mut preplanned: Preplanned,
) -> Result<(), HandleError> {
    let mut labels_now = match &subject.application {
        Some(app) => Some(labels(app)?),
        None => None,
    };
    let labels_before = labels_now.clone();
    for (index, action) in actions.iter().enumerate() {
        match action {
            Action::Label { label } | Action::Unlabel { label } => {
                needs_app(action, subject)?;
                let current = labels_now.get_or_insert_with(Vec::new);
                let add = matches!(action, Action::Label { .. });
                match (add, current.iter().position(|l| l == label)) {
                    (true, None) => current.push(label.clone()),
                    (false, Some(i)) => {
                        current.remove(i);
                    }
                    _ => {}
                }
            }
            Action::Route { job_id } => {
                let app = needs_app(action, subject)?;
                let job = Store::find_job(db, job_id)
                    .await?
                    .ok_or_else(|| refused(action, format!("there is no job `{job_id}`")))?;
                scope.set_job(db, &app.id, &job.id).await?;
                let now = now_millis();
                Store::enqueue_webhook_for(
                    db,
                    scope.webhook_subscriptions(db).await?,
                    APPLICATION_ROUTED,
                    &routed_payload(app, &job, None, now),
                    &format!("{}:routed:{}", event.id, job.id),
                )
                .await?;
            }
            Action::Email {
                template,
                to,
                data,
                send_at,
            } => {
                let template = TemplateName::parse(template).map_err(|e| refused(action, e))?;
                let to = Email::parse(to).map_err(|e| {
                    refused(
                        action,
                        format!("`{}` {e}", crate::domain::email::redact_invalid(to)),
                    )
                })?;
                let dedupe_key = format!("{}:email:{template}:{to}", event.id);
                let mail = OutgoingMail {
                    template,
                    to,
                    data: data.clone(),
                    send_at: at_millis(action, send_at)?,
                    dedupe_key,
                    list_unsubscribe: None,
                };
                queue_mail(scope, fx, action, mail).await?;
            }
            Action::Kpi { name, value, tags } => {
                scope.record_kpi(NewKpi {
                    dedupe_key: format!("{}:kpi:{name}:{}", event.id, Value::Object(tags.clone())),
                    name: name.clone(),
                    value: *value,
                    tags: tags.clone(),
                    event_id: Some(event.id.clone()),
                    at: now_millis(),
                });
            }
            Action::Notify { kind, data } => {
                let fields = notice_fields(fx, subject, data);
                notify(db, scope, fx, event, action, kind, &fields).await?
            }
            Action::Webhook {
                event_type,
                payload,
            } => {
                Store::enqueue_webhook_for(
                    db,
                    scope.webhook_subscriptions(db).await?,
                    event_type,
                    payload,
                    &format!("{}:webhook:{event_type}:{index}", event.id),
                )
                .await?;
            }
            Action::Invite { send_at } => {
                let app = needs_app(action, subject)?;
                let candidate = subject
                    .candidate
                    .as_ref()
                    .ok_or_else(|| refused(action, "this event has no candidate"))?;
                let send_at = at_millis(action, send_at)?.unwrap_or_else(now_millis);
                let settings = InviteSettings {
                    public_url: fx.public_url,
                    company_name: fx.company_name,
                    sender: fx.sender,
                };
                if scope.already_invited(db, &app.id).await? {
                    tracing::info!(application = %app.id, outcome = %Invited::AlreadyInvited, "career relay invitation");
                    continue;
                }
                let past = scope.past_invitations(db, &candidate.id).await?;
                if let Err(not_again) = past.allow(send_at, fx.invitation_cooldown_days) {
                    tracing::info!(application = %app.id, outcome = %not_again, "career relay invitation");
                    continue;
                }
                let standing = scope.standing(db, fx.address_key, candidate).await?;
                let planned = match preplanned.take() {
                    Some((at, planned_for, plan)) if at == send_at && planned_for == standing => {
                        plan
                    }
                    _ => {
                        relay::plan(
                            fx.mailer, &settings, app, candidate, &standing, send_at, &event.id,
                        )
                        .await
                    }
                };
                match planned {
                    Ok(Plan::Invite(planned)) => scope.invite(*planned),
                    Ok(Plan::OptedOut) => {
                        tracing::info!(application = %app.id, outcome = %Invited::OptedOut, "career relay invitation")
                    }
                    Err(RelayError::Store(e)) => return Err(e.into()),
                    Err(RelayError::Mail(e)) => return Err(mail_error(action, e)),
                    Err(e) => return Err(refused(action, e)),
                }
            }
        }
    }
    if let (Some(app), Some(now), Some(before)) =
        (&subject.application, &labels_now, &labels_before)
    {
        if now != before {
            scope.set_labels(app.id.clone(), now.clone());
        }
        if now != before && scope.webhook_wanted(db, APPLICATION_LABELED).await? {
            let payload = json!({
                "type": APPLICATION_LABELED,
                "application_id": app.id,
                "source": {"system": app.source_system, "application_id": app.source_application_id},
                "ats_application_id": app.ats_application_id,
                "labels": now,
                "added": now.iter().filter(|l| !before.contains(l)).collect::<Vec<_>>(),
                "removed": before.iter().filter(|l| !now.contains(l)).collect::<Vec<_>>(),
                "labeled_at": rfc3339(now_millis()),
            });
            Store::enqueue_webhook_for(
                db,
                scope.webhook_subscriptions(db).await?,
                APPLICATION_LABELED,
                &payload,
                &format!("{}:labeled", event.id),
            )
            .await?;
        }
    }
    Ok(())
}

/// What a notice shows of the event's application and candidate, with the script's `data`
/// added (and winning).
fn notice_fields(fx: &Effects<'_>, subject: &Subject, data: &Value) -> Value {
    let mut fields = json!({});
    if let Some(app) = &subject.application {
        fields = json!({
            "position_name": app.position_name,
            "channel": match app.channel.as_deref() { Some("scout") => "スカウト", Some("direct") => "直接応募", other => other.unwrap_or("") },
            "applied_at": app.applied_at.map(rfc3339),
            "application_url": format!("{}/v1/applications/{}", fx.public_url, app.id),
        });
    }
    if let Some(candidate) = &subject.candidate {
        fields["candidate_name"] = json!(candidate.name);
    }
    if let (Value::Object(extra), Value::Object(into)) = (data, &mut fields) {
        into.extend(extra.clone());
    }
    fields
}

/// I5: tells every user who switched the notification on, with `fields`.
async fn notify<C: ConnectionTrait>(
    db: &C,
    scope: &mut BatchScope,
    fx: &Effects<'_>,
    event: &event::Model,
    action: &Action,
    kind: &str,
    fields: &Value,
) -> Result<(), HandleError> {
    let kind = NotificationKind::parse(kind).map_err(|e| refused(action, e))?;
    let template = match kind {
        NotificationKind::BizreachApplication => "bizreach_application_notice",
    };
    let template = TemplateName::parse(template).map_err(|e| refused(action, e))?;
    for to in scope.subscribers(db, kind).await?.to_vec() {
        let mut data = fields.clone();
        data["recipient_name"] = json!(to.as_str().split('@').next().unwrap_or(""));
        let dedupe_key = format!("{}:notify:{}:{to}", event.id, kind.as_str());
        let mail = OutgoingMail {
            template: template.clone(),
            to,
            data,
            send_at: None,
            dedupe_key,
            list_unsubscribe: None,
        };
        queue_mail(scope, fx, action, mail).await?;
    }
    Ok(())
}

/// Renders `mail` now (a template error is the action's) and keeps it for the batch's end.
async fn queue_mail(
    scope: &mut BatchScope,
    fx: &Effects<'_>,
    action: &Action,
    mail: OutgoingMail,
) -> Result<(), HandleError> {
    let row = fx
        .mailer
        .compose(new_id("mail"), mail)
        .await
        .map_err(|e| mail_error(action, e))?;
    scope.queue_mail(row);
    Ok(())
}
