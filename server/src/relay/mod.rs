//! Career Relay: the invitation a rejected candidate receives (C2), its tracking link and the
//! opt-out (C8). One application gets at most one invitation, an opted-out address none.
use sea_orm::ConnectionTrait;

use crate::domain::email::Email;
use crate::domain::ids::{new_id, new_token};
use crate::domain::names::TemplateName;
use crate::mail::{Mailer, OutgoingMail};
use crate::store::entities::{application, candidate, invitation};
use crate::store::invitations::NewInvitation;
use crate::store::{Store, StoreError};

/// The template of invitation emails.
pub const INVITATION_TEMPLATE: &str = "career_relay_invitation";

/// Why an invitation could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
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

/// Who sends, and where links point.
pub struct InviteSettings<'a> {
    pub public_url: &'a str,
    pub company_name: &'a str,
}

/// C2, C8: creates the application's invitation and queues its email for `send_at`, in `db`
/// (the event's transaction). The email carries the tracking link and a one-click unsubscribe.
pub async fn invite<C: ConnectionTrait>(
    db: &C,
    mailer: &Mailer,
    settings: &InviteSettings<'_>,
    app: &application::Model,
    candidate: &candidate::Model,
    send_at: i64,
    event_id: &str,
) -> Result<Invited, RelayError> {
    if candidate.opted_out_at.is_some() {
        return Ok(Invited::OptedOut);
    }
    let to = Email::parse(&candidate.email)
        .map_err(|_| RelayError::BadAddress(candidate.email.clone()))?;
    let token = new_token();
    let outbox_id = new_id("mail");
    let new = NewInvitation {
        application_id: &app.id,
        candidate_id: &candidate.id,
        token: &token,
        send_at,
        event_id,
        outbox_id: &outbox_id,
    };
    let Some(mut invitation) = Store::create_invitation(db, new).await? else {
        return Ok(Invited::AlreadyInvited);
    };
    let unsubscribe_url = format!("{}/v1/unsubscribe/{token}", settings.public_url);
    let template =
        TemplateName::parse(INVITATION_TEMPLATE).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let queued = mailer
        .enqueue_as(
            db,
            outbox_id.clone(),
            OutgoingMail {
                template,
                to,
                data: serde_json::json!({
                    "candidate_name": candidate.name,
                    "company_name": settings.company_name,
                    "position_name": app.position_name,
                    "tracking_url": format!("{}/r/{token}", settings.public_url),
                    "unsubscribe_url": unsubscribe_url,
                }),
                send_at: Some(send_at),
                dedupe_key: format!("invite:{}", app.id),
                list_unsubscribe: Some(unsubscribe_url),
            },
        )
        .await?;
    if queued.outbox_id() != outbox_id {
        // Queued before (under its dedupe key): the invitation names that row.
        Store::set_invitation_outbox(db, &invitation.id, queued.outbox_id()).await?;
        invitation.outbox_id = Some(queued.outbox_id().to_owned());
    }
    Ok(Invited::Queued(Box::new(invitation)))
}
