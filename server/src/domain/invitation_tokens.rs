//! The three capabilities of one Career Relay invitation. The tracking token is the secret in
//! the email's link; the unsubscribe token (also in the email) and the token Career Relay is
//! handed on the redirect and reports registrations with are derived from it one way
//! (HMAC-SHA256 keyed by the tracking token). Career Relay, holding its token, can therefore
//! neither opt the candidate out nor pose as their click, and each is stored only as a hash.
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::ids::new_token;

/// What a token found by a request is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenUse {
    /// `GET /r/{token}`: the email's tracking link.
    Tracking,
    /// `/v1/unsubscribe/{token}`: the email's opt-out link.
    Unsubscribe,
    /// `invitation_token` of Career Relay's registration webhooks.
    CareerRelay,
}

/// One invitation's tokens, in clear: only ever in the email and the redirect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvitationTokens {
    pub tracking: String,
    pub unsubscribe: String,
    pub career_relay: String,
}

impl InvitationTokens {
    /// Tokens for a new invitation.
    pub fn new() -> InvitationTokens {
        InvitationTokens::from_tracking(new_token())
    }

    /// The tokens an invitation's tracking token stands for.
    pub fn from_tracking(tracking: String) -> InvitationTokens {
        InvitationTokens {
            unsubscribe: derive(&tracking, TokenUse::Unsubscribe),
            career_relay: derive(&tracking, TokenUse::CareerRelay),
            tracking,
        }
    }
}

impl Default for InvitationTokens {
    fn default() -> Self {
        Self::new()
    }
}

fn derive(tracking: &str, purpose: TokenUse) -> String {
    let label: &[u8] = match purpose {
        TokenUse::Tracking => b"hirelay invitation tracking",
        TokenUse::Unsubscribe => b"hirelay invitation unsubscribe",
        TokenUse::CareerRelay => b"hirelay invitation career relay",
    };
    let mut mac =
        Hmac::<Sha256>::new_from_slice(tracking.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(label);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_use_has_its_own_token_derived_from_the_tracking_one() {
        let tokens = InvitationTokens::new();
        assert_ne!(tokens.tracking, tokens.unsubscribe);
        assert_ne!(tokens.tracking, tokens.career_relay);
        assert_ne!(tokens.unsubscribe, tokens.career_relay);
        assert_eq!(tokens.career_relay.len(), 43);
        assert_eq!(
            InvitationTokens::from_tracking(tokens.tracking.clone()),
            tokens
        );
        assert_ne!(InvitationTokens::new(), tokens);
    }
}
