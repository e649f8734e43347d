//! L1: the organisation-admin sign-in, stored with the password sealed ([`SecretBox`]) and
//! opened only to sign in again.
use async_trait::async_trait;

use super::client::{CredentialSource, Credentials};
use super::BizreachError;
use crate::crypto::SecretBox;
use crate::store::Store;

/// The stored sign-in, as the client's [`CredentialSource`].
pub struct StoredCredentials {
    pub store: Store,
    pub secret_box: SecretBox,
}

#[async_trait]
impl CredentialSource for StoredCredentials {
    async fn load(&self) -> Result<Option<Credentials>, BizreachError> {
        let Some(row) = self.store.bizreach_credentials().await? else {
            return Ok(None);
        };
        Ok(Some(Credentials {
            email: row.email,
            password: self.secret_box.open(&row.password_enc)?,
        }))
    }
}
