//! L1–L5: signing in to BizReach, listing its group accounts, and linking them one by one
//! through an approval email that the group's administrator activates.
use chrono::Duration;
use sea_orm::TransactionTrait;
use secrecy::SecretString;

use super::client::BizreachClient;
use super::BizreachError;
use crate::crypto::SecretBox;
use crate::domain::email::Email;
use crate::domain::ids::{new_token, token_hash};
use crate::domain::link::{LinkAction, LinkState, LinkTransitionError};
use crate::domain::time::{now_millis, rfc3339};
use crate::store::entities::group_account;
use crate::store::group_accounts::{ApprovalLookup, GroupAccountSeen};
use crate::store::{Store, StoreError};

/// How long an approval link works (L4).
pub const APPROVAL_VALIDITY_HOURS: i64 = 72;

/// Why a linking step did not happen.
#[derive(Debug, thiserror::Error)]
pub enum LinkingError {
    #[error(transparent)]
    Bizreach(#[from] BizreachError),
    #[error("group account `{id}`: {source}")]
    Transition {
        id: String,
        source: LinkTransitionError,
    },
    #[error("group account `{id}` has an administrator address BizReach gave as `{address}`, which is not an email address")]
    BadAdminEmail { id: String, address: String },
    #[error("queueing the approval email: {0:#}")]
    Mail(anyhow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sea_orm::DbErr> for LinkingError {
    fn from(e: sea_orm::DbErr) -> Self {
        LinkingError::Store(e.into())
    }
}

/// What signing in found (L2).
pub struct SignedIn {
    pub account_name: String,
    pub group_accounts: Vec<group_account::Model>,
}

/// L1, L2: signs in with the organisation-admin account, stores the sign-in with the password
/// sealed, and records the contract's group accounts (new ones `unlinked`, known ones keep
/// their state).
pub async fn sign_in(
    client: &BizreachClient,
    store: &Store,
    secret_box: &SecretBox,
    email: &Email,
    password: &SecretString,
    actor: &str,
) -> Result<SignedIn, LinkingError> {
    use secrecy::ExposeSecret;
    let session = client.sign_in(email.as_str(), password).await?;
    let remote = client.group_accounts().await?;
    let now = now_millis();
    let seen: Vec<GroupAccountSeen> = remote
        .iter()
        .map(|g| GroupAccountSeen {
            id: g.id.clone(),
            name: g.name.clone(),
            admin_email: g.admin_email.clone(),
        })
        .collect();
    let sealed = secret_box.seal(password.expose_secret());
    let _turn = store.write_turn().await;
    let txn = store.db.begin().await?;
    let result: Result<_, LinkingError> = async {
        Store::save_bizreach_credentials(&txn, email.as_str(), &sealed, &session.account_name, now)
            .await?;
        Store::upsert_group_accounts(&txn, &seen, now).await?;
        Store::audit(
            &txn,
            actor,
            "bizreach.sign_in",
            &email.redacted(),
            serde_json::json!({"account_name": session.account_name, "group_accounts": seen.len()}),
        )
        .await?;
        Ok(())
    }
    .await;
    crate::store::end_transaction(txn, result).await?;
    tracing::info!(
        account = %session.account_name,
        email = %email.redacted(),
        groups = seen.len(),
        "signed in to BizReach"
    );
    let mut listed = Vec::with_capacity(remote.len());
    for g in &remote {
        listed.push(Store::group_account(&store.db, &g.id).await?);
    }
    Ok(SignedIn {
        account_name: session.account_name,
        group_accounts: listed,
    })
}

/// What a link request needs besides the store.
pub struct LinkRequest<'a> {
    pub group_account_id: &'a str,
    /// The hirelay user asking (the API token's name), shown in the email (L4).
    pub user_name: &'a str,
    /// Base of the activation link (`HIRELAY_PUBLIC_URL`).
    pub public_url: &'a str,
    pub actor: &'a str,
}

/// L4: moves the group to `pending_approval`, creates a single-use token that expires in
/// [`APPROVAL_VALIDITY_HOURS`], and queues the approval email in the same transaction.
pub async fn request_link(
    store: &Store,
    mailer: &crate::mail::Mailer,
    request: LinkRequest<'_>,
) -> Result<group_account::Model, LinkingError> {
    let id = request.group_account_id;
    let account_name = store.bizreach_credentials().await?.map(|c| c.account_name);
    let group = Store::group_account(&store.db, id).await?;
    let from = current_state(&group)?;
    let to = transition(id, from, LinkAction::RequestLink)?;
    let to_email = Email::parse(&group.admin_email).map_err(|_| LinkingError::BadAdminEmail {
        id: id.to_owned(),
        address: crate::domain::email::redact_invalid(&group.admin_email),
    })?;
    let now = now_millis();
    let expires_at = now + Duration::hours(APPROVAL_VALIDITY_HOURS).num_milliseconds();
    let token = new_token();
    let hash = token_hash(&token);
    // The first statement writes (compare-and-set on the state read above), so on SQLite the
    // transaction holds the write lock from its start.
    let _turn = store.write_turn().await;
    let txn = store.db.begin().await?;
    let result: Result<_, LinkingError> = async {
        Store::set_link_state(&txn, id, from, to, None, now).await?;
        Store::create_link_approval(&txn, id, &hash, now, expires_at).await?;
        let company_name = account_name.unwrap_or_else(|| group.name.clone());
        let mail = crate::mail::OutgoingMail {
            template: crate::domain::names::TemplateName::parse("group_link_approval")
                .map_err(|e| LinkingError::Mail(e.into()))?,
            to: to_email.clone(),
            send_at: None,
            list_unsubscribe: None,
            data: serde_json::json!({
                "company_name": company_name,
                "user_name": request.user_name,
                "group_name": group.name,
                "activation_url": format!("{}/v1/link-approvals/{token}", request.public_url),
                "expires_at": rfc3339(expires_at),
            }),
            dedupe_key: format!("link-approval:{hash}"),
        };
        mailer
            .enqueue(&txn, mail)
            .await
            .map_err(|e| LinkingError::Mail(e.into()))?;
        Store::audit(
            &txn,
            request.actor,
            "group_account.link_requested",
            id,
            serde_json::json!({"to": to_email.redacted(), "expires_at": rfc3339(expires_at)}),
        )
        .await?;
        Ok(Store::group_account(&txn, id).await?)
    }
    .await;
    let group = crate::store::end_transaction(txn, result).await?;
    mailer.wake();
    Ok(group)
}

/// What an approval link is, as its page shows it.
#[derive(Debug)]
pub enum ApprovalPage {
    /// Usable: the page offers "有効にする".
    Ready(group_account::Model),
    /// Just activated: the group is linked.
    Activated(group_account::Model),
    Unknown,
    Used,
    Expired,
}

/// L4: what the approval link with `token` is now (no change).
pub async fn look_up_approval(store: &Store, token: &str) -> Result<ApprovalPage, LinkingError> {
    let lookup = Store::lookup_link_approval(&store.db, &token_hash(token), now_millis()).await?;
    Ok(match lookup {
        ApprovalLookup::Valid(group) if group.status == LinkState::PendingApproval.as_str() => {
            ApprovalPage::Ready(group)
        }
        // The group moved on (linked or suspended another way): the link is spent.
        ApprovalLookup::Valid(_) | ApprovalLookup::Used => ApprovalPage::Used,
        ApprovalLookup::Expired => ApprovalPage::Expired,
        ApprovalLookup::Unknown => ApprovalPage::Unknown,
    })
}

/// L4: activates the link with `token` (single use): the group becomes `linked`, with
/// `linked_at` now, from which the poller starts (I2).
pub async fn approve(store: &Store, token: &str) -> Result<ApprovalPage, LinkingError> {
    let hash = token_hash(token);
    let now = now_millis();
    let group = match Store::lookup_link_approval(&store.db, &hash, now).await? {
        ApprovalLookup::Valid(group) if group.status == LinkState::PendingApproval.as_str() => {
            group
        }
        ApprovalLookup::Valid(_) | ApprovalLookup::Used => return Ok(ApprovalPage::Used),
        ApprovalLookup::Expired => return Ok(ApprovalPage::Expired),
        ApprovalLookup::Unknown => return Ok(ApprovalPage::Unknown),
    };
    let to = transition(&group.id, LinkState::PendingApproval, LinkAction::Approve)?;
    // Writes first (see `request_link`); either write finding the row changed meanwhile means
    // the link was spent by a concurrent click.
    let _turn = store.write_turn().await;
    let txn = store.db.begin().await?;
    let result: Result<_, LinkingError> = async {
        if !Store::use_link_approval(&txn, &hash, now).await? {
            return Ok(None);
        }
        match Store::set_link_state(
            &txn,
            &group.id,
            LinkState::PendingApproval,
            to,
            Some(now),
            now,
        )
        .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        }
        Store::audit(
            &txn,
            "group administrator (approval link)",
            "group_account.linked",
            &group.id,
            serde_json::json!({}),
        )
        .await?;
        Ok(Some(Store::group_account(&txn, &group.id).await?))
    }
    .await;
    // `None`: a concurrent click spent the link first; nothing of this one stays.
    let group = match result {
        Ok(Some(group)) => {
            txn.commit().await?;
            group
        }
        Ok(None) => {
            txn.rollback().await?;
            return Ok(ApprovalPage::Used);
        }
        Err(e) => return crate::store::end_transaction(txn, Err(e)).await,
    };
    tracing::info!(group = %group.id, "group account linked");
    Ok(ApprovalPage::Activated(group))
}

/// Suspends (`linked` → `suspended`) or resumes (`suspended` → `linked`) a group account. A
/// resumed group is polled from the moment it resumes: applications made while it was
/// suspended are not imported (L5), except by a backfill.
pub async fn suspend_or_resume(
    store: &Store,
    id: &str,
    action: LinkAction,
    actor: &str,
) -> Result<group_account::Model, LinkingError> {
    let group = Store::group_account(&store.db, id).await?;
    let from = current_state(&group)?;
    let to = transition(id, from, action)?;
    let now = now_millis();
    let poll_from = (action == LinkAction::Resume).then_some(now);
    let _turn = store.write_turn().await;
    let txn = store.db.begin().await?;
    let result: Result<_, LinkingError> = async {
        Store::set_link_state(&txn, id, from, to, poll_from, now).await?;
        Store::audit(
            &txn,
            actor,
            &format!("group_account.{to}"),
            id,
            serde_json::json!({"from": from.as_str()}),
        )
        .await?;
        Ok(Store::group_account(&txn, id).await?)
    }
    .await;
    let group = crate::store::end_transaction(txn, result).await?;
    Ok(group)
}

/// The stored state of a group account.
pub fn current_state(group: &group_account::Model) -> Result<LinkState, StoreError> {
    LinkState::parse(&group.status).map_err(StoreError::Corrupt)
}

fn transition(id: &str, from: LinkState, action: LinkAction) -> Result<LinkState, LinkingError> {
    from.apply(action)
        .map_err(|source| LinkingError::Transition {
            id: id.to_owned(),
            source,
        })
}
