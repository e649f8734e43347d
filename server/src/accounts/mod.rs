//! Personal user accounts and console sessions (issue 14): creating users with an Argon2id
//! password, signing in (with the lock-out of [`LockoutPolicy`]), and the session a cookie names.
//! The HTTP layer (`http::session`, `http::users`) and the `hirelay user` commands both go
//! through [`Accounts`], so the rules are written once.
pub mod password;

use secrecy::SecretString;

use crate::config::Config;
use crate::domain::account::{DisplayName, LockoutPolicy, NewPassword};
use crate::domain::email::Email;
use crate::domain::role::Role;
use crate::store::entities::{session, user};
use crate::store::sessions::NewSession;
use crate::store::users::{failures, NewUser, UserChange};
use crate::store::{Store, StoreError};

/// Why an account operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// Unknown email, wrong password or disabled account: one answer for all three.
    #[error("the email address or the password is not right")]
    BadCredentials,
    #[error("too many failed sign-ins: the account is locked; retry in {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    /// A field of the request is not acceptable.
    #[error("`{field}` {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("the invitation link is unknown, used or expired; ask an admin for a new one")]
    InvitationInvalid,
    #[error(transparent)]
    Hash(#[from] password::HashError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        AccountError::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A pending invitation: the link's token (sent once, by mail; only its hash is stored) and
/// when it expires.
pub struct Invitation {
    pub token: String,
    pub expires_at: i64,
}

/// How long an invitation link works.
pub const INVITATION_VALIDITY_MS: i64 = 72 * 60 * MINUTE_MS;

/// A successful sign-in: who, and the session to hand to the browser.
pub struct SignedIn {
    pub user: user::Model,
    pub session: NewSession,
}

/// The users, their passwords and sessions, with the configured lock-out and session lifetimes.
#[derive(Clone)]
pub struct Accounts {
    store: Store,
    policy: LockoutPolicy,
    idle_ms: i64,
    lifetime_ms: i64,
    /// A hash no password matches, verified for an unknown address so that the answer takes
    /// as long as for a known one (no telling which addresses have accounts by timing).
    decoy: String,
}

const MINUTE_MS: i64 = 60_000;

impl Accounts {
    pub async fn new(store: Store, config: &Config) -> Result<Accounts, AccountError> {
        let decoy = password::hash(&SecretString::from(crate::domain::ids::new_token())).await?;
        Ok(Accounts {
            store,
            policy: LockoutPolicy {
                max_failures: config.signin_max_failures,
                window_ms: i64::from(config.signin_lockout_minutes) * MINUTE_MS,
                lock_ms: i64::from(config.signin_lockout_minutes) * MINUTE_MS,
            },
            idle_ms: i64::from(config.session_idle_minutes) * MINUTE_MS,
            lifetime_ms: i64::from(config.session_lifetime_hours) * 60 * MINUTE_MS,
            decoy,
        })
    }

    /// How long a session lives at most, in seconds (the cookie's `Max-Age`).
    pub fn lifetime_secs(&self) -> i64 {
        self.lifetime_ms / 1000
    }

    /// Creates a user. `name` defaults to the address's local part; `change_required` makes
    /// the user choose a new password before anything else (an admin chose this one).
    pub async fn create_user(
        &self,
        email: &str,
        name: Option<&str>,
        role: Role,
        password: SecretString,
        change_required: bool,
        now: i64,
    ) -> Result<user::Model, AccountError> {
        let (email, name) = identity(email, name)?;
        let password =
            NewPassword::parse(password).map_err(|e| AccountError::invalid("password", e))?;
        let new = NewUser {
            email: &email,
            name: &name,
            role,
            password_hash: password::hash(password.secret()).await?,
            password_change_required: change_required,
            invite: None,
        };
        Ok(self.store.create_user(new, now).await?)
    }

    /// Creates a user who chooses their own password through a single-use link
    /// ([`Accounts::accept_invitation`]); until then no password signs them in.
    pub async fn invite_user(
        &self,
        email: &str,
        name: Option<&str>,
        role: Role,
        now: i64,
    ) -> Result<(user::Model, Invitation), AccountError> {
        let (email, name) = identity(email, name)?;
        let token = crate::domain::ids::new_token();
        let expires_at = now + INVITATION_VALIDITY_MS;
        // The hash of a secret nobody keeps: no password matches it.
        let unusable = SecretString::from(crate::domain::ids::new_token());
        let new = NewUser {
            email: &email,
            name: &name,
            role,
            password_hash: password::hash(&unusable).await?,
            password_change_required: false,
            invite: Some((crate::domain::ids::token_hash(&token), expires_at)),
        };
        let user = self.store.create_user(new, now).await?;
        Ok((user, Invitation { token, expires_at }))
    }

    /// Sets the password of the user an invitation link names (once, before it expires) and
    /// signs them in.
    pub async fn accept_invitation(
        &self,
        token: &str,
        password: SecretString,
        now: i64,
    ) -> Result<SignedIn, AccountError> {
        let user = self
            .store
            .find_user_by_invite(&crate::domain::ids::token_hash(token))
            .await?
            .filter(|u| !u.disabled && u.invite_expires_at.is_some_and(|at| at > now))
            .ok_or(AccountError::InvitationInvalid)?;
        let password =
            NewPassword::parse(password).map_err(|e| AccountError::invalid("password", e))?;
        let change = UserChange {
            password: Some((password::hash(password.secret()).await?, false)),
            ..Default::default()
        };
        let user = Store::update_user(&self.store.db, &user.id, change, now).await?;
        let session = self.open_session(&user.id, now).await?;
        Ok(SignedIn { user, session })
    }

    /// Checks an address and a password; on success opens a session. Failures count towards
    /// the account's lock-out; a locked account is refused whatever the password.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &SecretString,
        now: i64,
    ) -> Result<SignedIn, AccountError> {
        let found = match Email::parse(email) {
            Ok(email) => self.store.find_user_by_email(&email).await?,
            Err(_) => None,
        };
        let Some(user) = found else {
            password::verify(self.decoy.clone(), password).await?;
            return Err(AccountError::BadCredentials);
        };
        let before = failures(&user);
        if let Some(ms) = self.policy.locked_for(&before, now) {
            return Err(AccountError::Locked {
                retry_after_secs: (ms as u64).div_ceil(1000),
            });
        }
        let matches = password::verify(user.password_hash.clone(), password).await?;
        if !matches || user.disabled {
            let after = self.policy.after_failure(&before, now);
            self.store.set_user_failures(&user.id, after).await?;
            let (action, detail) = match self.policy.locked_for(&after, now) {
                Some(ms) => (
                    "user.locked",
                    serde_json::json!({"locked_for_secs": ms / 1000}),
                ),
                None => (
                    "session.sign_in_failed",
                    serde_json::json!({"failures": after.count, "disabled": user.disabled}),
                ),
            };
            Store::audit(&self.store.db, &actor(&user), action, &user.id, detail).await?;
            return Err(AccountError::BadCredentials);
        }
        if before != Default::default() {
            self.store
                .set_user_failures(&user.id, Default::default())
                .await?;
        }
        let session = self.open_session(&user.id, now).await?;
        Ok(SignedIn { user, session })
    }

    /// Opens a session for `user_id`, ending at the configured lifetime.
    pub async fn open_session(&self, user_id: &str, now: i64) -> Result<NewSession, StoreError> {
        self.store
            .create_session(user_id, now, now + self.lifetime_ms)
            .await
    }

    /// The live session a cookie names and its user, who is enabled; `None` otherwise.
    pub async fn session(
        &self,
        cookie: &str,
        now: i64,
    ) -> Result<Option<(session::Model, user::Model)>, StoreError> {
        Ok(self
            .store
            .live_session(cookie, now, self.idle_ms)
            .await?
            .filter(|(_, user)| !user.disabled))
    }

    /// Sets a new password for `user`, after checking the current one: the user's other
    /// sessions end (whoever knew the old password is signed out).
    pub async fn change_password(
        &self,
        user: &user::Model,
        current: &SecretString,
        new: SecretString,
        now: i64,
    ) -> Result<user::Model, AccountError> {
        if !password::verify(user.password_hash.clone(), current).await? {
            return Err(AccountError::invalid(
                "current_password",
                "is not the current password",
            ));
        }
        let new = NewPassword::parse(new).map_err(|e| AccountError::invalid("new_password", e))?;
        let hash = password::hash(new.secret()).await?;
        let change = UserChange {
            password: Some((hash, false)),
            ..Default::default()
        };
        // The new password and the end of every session signed in with the old one together.
        let changed = self
            .store
            .in_transaction(async |txn| {
                Store::end_sessions_of(txn, &user.id).await?;
                Store::update_user(txn, &user.id, change, now).await
            })
            .await?;
        Ok(changed)
    }

    /// An admin's reset: a new password the user must change at the next sign-in; the user's
    /// sessions end.
    pub async fn reset_password(&self, new: SecretString) -> Result<(String, bool), AccountError> {
        let new = NewPassword::parse(new).map_err(|e| AccountError::invalid("password", e))?;
        Ok((password::hash(new.secret()).await?, true))
    }
}

/// A new user's address and display name (default: the address's local part), validated.
fn identity(email: &str, name: Option<&str>) -> Result<(Email, DisplayName), AccountError> {
    let email = Email::parse(email).map_err(|e| AccountError::invalid("email", e.to_string()))?;
    let shown = name.unwrap_or_else(|| email.as_str().split('@').next().unwrap_or_default());
    let name = DisplayName::parse(shown).map_err(|e| AccountError::invalid("name", e))?;
    Ok((email, name))
}

/// How the audit log names a person: `name <email>`.
pub fn actor(user: &user::Model) -> String {
    format!("{} <{}>", user.name, user.email)
}
