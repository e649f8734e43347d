//! Career Relay: the invitation a rejected candidate receives (C2), its tracking link and the
//! opt-out (C8). One application gets at most one invitation, an opted-out address none. The
//! ledger of referral slots those registrations earn is in [`ledger`] (C1), the funnel from
//! rejection to a referred hire in [`funnel`] (C5, C7), the monthly report in [`report`] and
//! [`report_html`] (C8).
pub mod announce;
pub mod funnel;
pub mod ledger;
pub mod report;
pub mod report_html;

use sea_orm::ConnectionTrait;

use crate::config::LegalSender;
use crate::crypto::AddressKey;
use crate::domain::email::Email;
use crate::domain::ids::new_id;
use crate::domain::invitation_policy::Basis;
use crate::domain::invitation_tokens::InvitationTokens;
use crate::domain::message_kind::MessageKind;
use crate::domain::names::TemplateName;
use crate::mail::{queued_as, Mailer, OutgoingMail};
use crate::store::entities::{application, candidate, invitation};
use crate::store::invitations::NewInvitation;
use crate::store::opt_outs::Standing;
use crate::store::outbox::NewMail;
use crate::store::{Store, StoreError};

/// The template of invitation emails.
pub use crate::domain::names::INVITATION_TEMPLATE;

/// Why an invitation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// The address, redacted (`crate::domain::email::redact_invalid`).
    #[error("the candidate's address `{0}` cannot receive mail")]
    BadAddress(String),
    #[error("the invitation email: {0}")]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What inviting came to.
#[derive(Debug)]
pub enum Invited {
    /// Queued to be sent at its time.
    Queued(Box<invitation::Model>),
    /// This application has its invitation already (C8: never twice).
    AlreadyInvited,
    /// The candidate opted out (C8).
    OptedOut,
}

impl std::fmt::Display for Invited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Invited::Queued(invitation) => write!(f, "queued as {}", invitation.id),
            Invited::AlreadyInvited => f.write_str("already invited"),
            Invited::OptedOut => f.write_str("opted out"),
        }
    }
}

/// The company name emails show: the configured one (`HIRELAY_COMPANY_NAME`), else the BizReach
/// account's name, else the sender's legal name (`HIRELAY_SENDER_NAME`, issue 19: a candidate
/// never reads a bare 採用担当 where a name is known), else 採用担当; read on `db`.
pub async fn company_name<C: ConnectionTrait>(db: &C, config: &crate::config::Config) -> String {
    if let Some(name) = &config.company_name {
        return name.clone();
    }
    match Store::bizreach_credentials_in(db).await {
        Ok(Some(c)) => c.account_name,
        _ => config
            .sender
            .name
            .clone()
            .unwrap_or_else(|| "採用担当".to_owned()),
    }
}

/// C4: how far a rejected candidate got with their invitation, as the application shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Invited (the email queued or sent).
    Invited,
    /// The tracking link was clicked.
    Clicked,
    /// Registered with Career Relay (紹介登録済).
    Registered,
}

impl InvitationStatus {
    pub fn of(invitation: &invitation::Model) -> InvitationStatus {
        if invitation.registered_at.is_some() {
            InvitationStatus::Registered
        } else if invitation.clicked_first_at.is_some() {
            InvitationStatus::Clicked
        } else {
            InvitationStatus::Invited
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InvitationStatus::Invited => "invited",
            InvitationStatus::Clicked => "clicked",
            InvitationStatus::Registered => "registered",
        }
    }
}

/// An invitation's basis under 特定電子メール法 as the API shows it: `{"type", "description",
/// "given_at", "method"}` (the last two for consent), or null for one made before it was
/// recorded.
pub fn basis_json(
    basis: Option<&str>,
    consent_given_at: Option<i64>,
    consent_method: Option<&str>,
) -> serde_json::Value {
    match basis {
        None => serde_json::Value::Null,
        Some(basis) => serde_json::json!({
            "type": basis,
            "description": Basis::describe(basis),
            "given_at": consent_given_at.map(crate::domain::time::rfc3339),
            "method": consent_method,
        }),
    }
}

/// The `career_relay` part of an application (C3, C4): its invitation's status and times, and
/// the basis it is sent on.
pub fn invitation_json(invitation: &invitation::Model) -> serde_json::Value {
    use crate::domain::time::rfc3339;
    serde_json::json!({
        "status": InvitationStatus::of(invitation).as_str(),
        "invitation_id": invitation.id,
        "basis": basis_json(
            invitation.basis.as_deref(),
            invitation.consent_given_at,
            invitation.consent_method.as_deref(),
        ),
        "send_at": rfc3339(invitation.send_at),
        "clicked_first_at": invitation.clicked_first_at.map(rfc3339),
        "clicked_last_at": invitation.clicked_last_at.map(rfc3339),
        "clicks": invitation.clicks,
        "registered_at": invitation.registered_at.map(rfc3339),
    })
}

/// The outbox's dedupe keys of invitation mails: `invite:{application id}`. The sender takes
/// none of them while invitations are held.
pub const INVITATION_DEDUPE_PREFIX: &str = "invite:";

/// Issue 19: what `/readyz` and the start-up warning say while settings invitations need are
/// missing (`None`: invitations are ready).
pub fn not_ready_notice(missing: &[&str]) -> Option<String> {
    (!missing.is_empty()).then(|| {
        format!(
            "invitations not ready: held (recorded and queued, not sent) until {} are set; \
             they are sent once hirelay is restarted with them",
            missing.join(", ")
        )
    })
}

/// Issue 19: points an invitation's stored links at `public_url` (the one configured when it is
/// sent, which may not be the one it was planned with): the last path segment of each link is
/// its token. Answers the unsubscribe URL, for `List-Unsubscribe`.
pub fn rebase_links(data: &mut serde_json::Value, public_url: &str) -> Option<String> {
    let fields = data.as_object_mut()?;
    for (key, path) in [
        ("tracking_url", "/r/"),
        ("unsubscribe_url", "/v1/unsubscribe/"),
    ] {
        let token = fields
            .get(key)
            .and_then(|v| v.as_str())
            .and_then(|url| url.rsplit_once('/'))
            .map(|(_, token)| token.to_owned());
        if let Some(token) = token {
            fields.insert(key.into(), format!("{public_url}{path}{token}").into());
        }
    }
    fields
        .get("unsubscribe_url")
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Who sends, and where links point.
pub struct InviteSettings<'a> {
    pub public_url: &'a str,
    pub company_name: &'a str,
    pub sender: &'a LegalSender,
}

pub use crate::config::OPT_OUT_NOTICE;

/// An invitation made for an application, with its rendered email: stored by [`create`].
#[derive(Debug)]
pub struct PlannedInvitation {
    pub invitation: invitation::Model,
    pub mail: NewMail,
}

/// What an invitation comes to before anything is stored.
#[derive(Debug)]
pub enum Plan {
    Invite(Box<PlannedInvitation>),
    /// The candidate opted out (C8): nothing to store.
    OptedOut,
}

/// C2, C8: makes the application's invitation and renders its email for `send_at`, without
/// storing either ([`create`] does). `standing` is what the candidate's address said about
/// invitations: none after an opt-out, and sent on their consent when they gave it. The
/// email carries the tracking link and a one-click unsubscribe.
pub async fn plan(
    mailer: &Mailer,
    settings: &InviteSettings<'_>,
    app: &application::Model,
    candidate: &candidate::Model,
    standing: &Standing,
    send_at: i64,
    event_id: &str,
) -> Result<Plan, RelayError> {
    let Some((invitation, outbox_id, mail)) =
        draft(settings, app, candidate, standing, send_at, event_id)?
    else {
        return Ok(Plan::OptedOut);
    };
    let mail = mailer.compose(outbox_id, mail).await?;
    Ok(Plan::Invite(Box::new(PlannedInvitation {
        invitation,
        mail,
    })))
}

/// [`plan`] on a thread that may block (event processing's scripts thread, which plans a
/// decided invitation next to the script that decided it): the email is rendered here rather
/// than handed to the blocking pool.
pub fn plan_blocking(
    mailer: &Mailer,
    settings: &InviteSettings<'_>,
    app: &application::Model,
    candidate: &candidate::Model,
    standing: &Standing,
    send_at: i64,
    event_id: &str,
) -> Result<Plan, RelayError> {
    let Some((invitation, outbox_id, mail)) =
        draft(settings, app, candidate, standing, send_at, event_id)?
    else {
        return Ok(Plan::OptedOut);
    };
    let mail = mailer.compose_blocking(outbox_id, mail)?;
    Ok(Plan::Invite(Box::new(PlannedInvitation {
        invitation,
        mail,
    })))
}

/// What [`plan`] renders: the invitation, its mail's outbox id and the mail; `None` after an
/// opt-out.
fn draft(
    settings: &InviteSettings<'_>,
    app: &application::Model,
    candidate: &candidate::Model,
    standing: &Standing,
    send_at: i64,
    event_id: &str,
) -> Result<Option<(invitation::Model, String, OutgoingMail)>, RelayError> {
    if standing.opted_out.is_some() {
        return Ok(None);
    }
    // Issue 19: without the legal display the invitation is still made and queued, but held
    // (the sender takes no invitation while a setting is missing); the mail is rendered again
    // when it goes, with the display and the links as configured then.
    let held = |variable: &str| format!("（{variable} 未設定）");
    let legal =
        |value: &Option<String>, variable: &str| value.clone().unwrap_or_else(|| held(variable));
    let sender_name = legal(&settings.sender.name, "HIRELAY_SENDER_NAME");
    let sender_address = legal(&settings.sender.address, "HIRELAY_SENDER_ADDRESS");
    let sender_contact = legal(&settings.sender.contact, "HIRELAY_SENDER_CONTACT");
    let to = Email::parse(&candidate.email).map_err(|_| {
        RelayError::BadAddress(crate::domain::email::redact_invalid(&candidate.email))
    })?;
    let tokens = InvitationTokens::new();
    let outbox_id = new_id("mail");
    let invitation = Store::new_invitation(NewInvitation {
        application_id: &app.id,
        candidate_id: &candidate.id,
        recipient: to.as_str(),
        tokens: &tokens,
        basis: &Basis::for_invitation(standing.usable_consent()),
        send_at,
        event_id,
        outbox_id: &outbox_id,
    });
    let unsubscribe_url = format!(
        "{}/v1/unsubscribe/{}",
        settings.public_url, tokens.unsubscribe
    );
    let template =
        TemplateName::parse(INVITATION_TEMPLATE).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mail = OutgoingMail {
        template,
        to,
        data: serde_json::json!({
            "candidate_name": candidate.name,
            "company_name": settings.company_name,
            "position_name": app.position_name,
            "tracking_url": format!("{}/r/{}", settings.public_url, tokens.tracking),
            "unsubscribe_url": unsubscribe_url,
            "opt_out_notice": OPT_OUT_NOTICE,
            "sender_name": sender_name,
            "sender_address": sender_address,
            "sender_contact": sender_contact,
        }),
        send_at: Some(send_at),
        dedupe_key: format!("{INVITATION_DEDUPE_PREFIX}{}", app.id),
        list_unsubscribe: Some(unsubscribe_url),
    };
    Ok(Some((invitation, outbox_id, mail)))
}

/// Stores planned invitations and queues their emails in `db` (the event's transaction), a
/// statement for all invitations and one for all emails; answers, in order, what each came
/// to. An application that has an invitation already keeps it and gets no second email (C8:
/// never twice).
pub async fn create<C: ConnectionTrait>(
    db: &C,
    planned: Vec<PlannedInvitation>,
) -> Result<Vec<Invited>, RelayError> {
    let (invitations, mails): (Vec<invitation::Model>, Vec<NewMail>) =
        planned.into_iter().map(|p| (p.invitation, p.mail)).unzip();
    let created = Store::create_invitations(db, &invitations).await?;
    let mails: Vec<NewMail> = mails
        .into_iter()
        .zip(&created)
        .filter(|(_, created)| **created)
        .map(|(mail, _)| mail)
        .collect();
    let outcomes = Store::insert_mails(db, &mails).await?;
    let mut emails = mails.iter().zip(outcomes);
    let mut result = Vec::with_capacity(invitations.len());
    for (mut invitation, created) in invitations.into_iter().zip(created) {
        if !created {
            result.push(Invited::AlreadyInvited);
            continue;
        }
        let (mail, outcome) = emails
            .next()
            .ok_or_else(|| StoreError::Corrupt("an invitation without its email".into()))?;
        let queued = queued_as(mail, outcome);
        if Some(queued.outbox_id()) != invitation.outbox_id.as_deref() {
            // Queued before (under its dedupe key): the invitation names that row.
            Store::set_invitation_outbox(db, &invitation.id, queued.outbox_id()).await?;
            invitation.outbox_id = Some(queued.outbox_id().to_owned());
        }
        result.push(Invited::Queued(Box::new(invitation)));
    }
    Ok(result)
}

/// C8: what `address` said about Career Relay invitations (its opt-out, its consent).
pub async fn standing<C: ConnectionTrait>(
    db: &C,
    key: &AddressKey,
    address: &Email,
) -> Result<Standing, StoreError> {
    Store::standing(db, &key.hash(address), MessageKind::CareerRelayInvitation).await
}

/// C8, checked again when an invitation's mail is about to be sent (it may have waited since
/// the rejection for the next business morning): why it must not go, if it must not. The
/// address opted out, the candidate registered with Career Relay since, or the application
/// is no longer rejected (the ATS changed its mind).
pub async fn still_wanted<C: ConnectionTrait>(
    db: &C,
    key: &AddressKey,
    invitation: &invitation::Model,
) -> Result<Result<(), String>, StoreError> {
    let candidate = Store::get_candidate(db, &invitation.candidate_id).await?;
    let address = invitation.recipient.as_deref().unwrap_or(&candidate.email);
    let address = Email::parse(address)
        .map_err(|_| StoreError::Corrupt(format!("invitation {} has no address", invitation.id)))?;
    if standing(db, key, &address).await?.opted_out.is_some() {
        return Ok(Err(
            "the address opted out before the invitation was sent".into()
        ));
    }
    let past = Store::past_invitations(db, &[candidate.id.as_str()])
        .await?
        .remove(&candidate.id)
        .unwrap_or_default();
    if past.registered {
        return Ok(Err(
            "the candidate registered with Career Relay before the invitation was sent".into(),
        ));
    }
    let application = Store::get_application(db, &invitation.application_id).await?;
    if application.status != "rejected" {
        return Ok(Err(format!(
            "the application is no longer rejected (now `{}`)",
            application.status
        )));
    }
    Ok(Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::outbox::MailInsert;
    use crate::store::test_support::store;
    use sea_orm::EntityTrait;

    fn planned(application_id: &str) -> PlannedInvitation {
        let outbox_id = new_id("mail");
        let invitation = Store::new_invitation(NewInvitation {
            application_id,
            candidate_id: "cand_1",
            recipient: "a@example.jp",
            tokens: &InvitationTokens::new(),
            basis: &Basis::BusinessRelationship,
            send_at: 0,
            event_id: "evt_1",
            outbox_id: &outbox_id,
        });
        PlannedInvitation {
            invitation,
            mail: NewMail {
                message_id: format!("<{outbox_id}@test>"),
                id: outbox_id,
                dedupe_key: format!("invite:{application_id}"),
                template: INVITATION_TEMPLATE.into(),
                template_version: 1,
                recipient: "c@example.jp".into(),
                subject: "s".into(),
                html: "h".into(),
                text: "t".into(),
                headers: "{}".into(),
                data: None,
                send_at: 0,
                created_at: 0,
            },
        }
    }

    /// C8, written together: an application invited before keeps its one invitation and gets
    /// no second email; one whose email was queued before has its invitation name that email.
    #[tokio::test]
    async fn c8_invitations_created_together_never_invite_an_application_twice() {
        let (_dir, store) = store().await;
        let db = &store.db;
        let invited_before = planned("app_1");
        let first_id = invited_before.invitation.id.clone();
        create(db, vec![invited_before]).await.unwrap();
        let mut mailed_before = planned("app_2").mail;
        mailed_before.id = "mail_before".into();
        assert_eq!(
            Store::insert_mails(db, &[mailed_before]).await.unwrap(),
            [MailInsert::Inserted]
        );

        let again = planned("app_1");
        let again_mail = again.mail.id.clone();
        let answers = create(db, vec![again, planned("app_2"), planned("app_3")])
            .await
            .unwrap();
        assert!(
            matches!(answers[0], Invited::AlreadyInvited),
            "{}",
            answers[0]
        );
        let Invited::Queued(second) = &answers[1] else {
            panic!("app_2: {}", answers[1])
        };
        assert_eq!(second.outbox_id.as_deref(), Some("mail_before"));
        let stored = Store::invitation_for_application(db, "app_2")
            .await
            .unwrap();
        assert_eq!(stored.unwrap().outbox_id.as_deref(), Some("mail_before"));
        let Invited::Queued(third) = &answers[2] else {
            panic!("app_3: {}", answers[2])
        };
        assert!(third.outbox_id.as_deref().unwrap().starts_with("mail_"));
        let first = Store::invitation_for_application(db, "app_1")
            .await
            .unwrap();
        assert_eq!(first.unwrap().id, first_id, "the first invitation stays");
        let refused_mail = crate::store::entities::mail_outbox::Entity::find_by_id(again_mail)
            .one(db)
            .await
            .unwrap();
        assert!(
            refused_mail.is_none(),
            "the refused invitation's email was queued"
        );
    }
}
