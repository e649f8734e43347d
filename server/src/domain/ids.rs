//! Public ids: a short prefix naming the kind, then a time-ordered UUIDv7 in hex
//! (`evt_0190…`), so ids sort by creation and say what they are.

/// A new id with `prefix` (`evt`, `app`, `cand`, …).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// A random, unguessable token (for links and API tokens): 32 bytes, URL-safe base64.
pub fn new_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// SHA-256 of a token, hex: what is stored instead of the token itself.
pub fn token_hash(token: &str) -> String {
    token_hash_bytes(token.as_bytes())
}

/// SHA-256 of bytes, lower-case hex.
pub fn token_hash_bytes(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_sort_by_creation() {
        let a = new_id("evt");
        let b = new_id("evt");
        assert!(a.starts_with("evt_") && a.len() == 36);
        assert!(a < b);
    }

    #[test]
    fn tokens_are_random_and_hashed_stably() {
        assert_ne!(new_token(), new_token());
        assert_eq!(token_hash("x"), token_hash("x"));
        assert_eq!(token_hash("x").len(), 64);
    }
}
