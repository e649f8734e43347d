//! Passwords hashed with Argon2id (RFC 9106) at the argon2 crate's defaults (19 MiB, 2 passes,
//! 1 lane: OWASP's recommendation), stored as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$…`).
//! Hashing is CPU work of tens of milliseconds: it runs on the blocking pool, never on the
//! runtime's threads.
use argon2::password_hash::{rand_core::OsRng, PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use secrecy::{ExposeSecret, SecretString};

/// Hashing could not run (the blocking pool is gone, or the hasher refused its input).
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

fn hash_now(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

fn verify_now(phc: &str, password: &str) -> bool {
    PasswordHash::new(phc)
        .and_then(|h| Argon2::default().verify_password(password.as_bytes(), &h))
        .is_ok()
}

/// The PHC string of `password` with a fresh random salt.
pub async fn hash(password: &SecretString) -> Result<String, HashError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || hash_now(password.expose_secret()))
        .await
        .map_err(|e| HashError(e.to_string()))?
}

/// Whether `password` matches the PHC string `phc` (false for an unreadable one).
pub async fn verify(phc: String, password: &SecretString) -> Result<bool, HashError> {
    let password = password.clone();
    tokio::task::spawn_blocking(move || verify_now(&phc, password.expose_secret()))
        .await
        .map_err(|e| HashError(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_salted_and_verifies_only_its_password() {
        let a = hash_now("correct horse battery").unwrap();
        let b = hash_now("correct horse battery").unwrap();
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
        assert!(verify_now(&a, "correct horse battery"));
        assert!(!verify_now(&a, "correct horse battery "));
        assert!(!verify_now("not a phc string", "x"));
    }
}
