//! Secrets at rest (the BizReach password, outbound webhook signing secrets): sealed with
//! XChaCha20-Poly1305 under one key, stored as `v1:<base64 nonce>:<base64 ciphertext>`.
//!
//! The key is `secret_key` from the configuration (base64 of 32 bytes) or, when that is not set,
//! the key file `DATA_DIR/secret.key`, created with mode 0600 on first start. Several instances
//! sharing one database must share the key (set `HIRELAY_SECRET_KEY` on each).
//!
//! From the same key, [`AddressKey`] derives the HMAC key that opt-outs and consent records
//! are kept under: a keyed hash of the normalised address, never the address itself.
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::Config;
use crate::domain::email::Email;

/// The prefix of the current sealed format.
const VERSION: &str = "v1";
/// The key file's name in the data directory.
pub const KEY_FILE: &str = "secret.key";

/// Why a key could not be loaded or a sealed value opened.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("{origin}: the secret key must be base64 of exactly 32 bytes")]
    BadKey { origin: String },
    #[error("key file {path}: {source}")]
    KeyFile {
        path: String,
        source: std::io::Error,
    },
    #[error("a sealed secret is not in the `v1:<nonce>:<ciphertext>` form")]
    Malformed,
    #[error("a sealed secret does not open with this key (was the secret key changed?)")]
    WrongKey,
}

/// Seals and opens secrets with the instance's key. Cheap to clone.
#[derive(Clone)]
pub struct SecretBox {
    cipher: Arc<XChaCha20Poly1305>,
    address_key: AddressKey,
}

/// What the address key is derived for: a new purpose gets a new label, so no two uses of the
/// instance's key ever share a derived key.
const ADDRESS_KEY_LABEL: &[u8] = b"hirelay/v1/address-hash";

/// The HMAC-SHA256 key opt-outs and consent records are kept under (C8): derived from the
/// instance's secret key, so a copy of the database alone cannot tell whose address a row is,
/// and an erased candidate's opt-out still matches their address when it comes back. Cheap
/// to clone; never shown by `Debug`.
#[derive(Clone)]
pub struct AddressKey(Arc<[u8; 32]>);

impl std::fmt::Debug for AddressKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AddressKey(..)")
    }
}

/// The keyed hash of one normalised address (lower-case hex): the only way an address is
/// kept in the opt-out and consent tables.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AddressHash(String);

impl AddressHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AddressKey {
    /// A fixed key for unit tests.
    #[cfg(test)]
    pub fn for_tests() -> AddressKey {
        AddressKey::derive(&[7; 32])
    }

    /// Derives the key from the instance's 32-byte secret key.
    fn derive(secret: &[u8; 32]) -> AddressKey {
        AddressKey(Arc::new(hmac_sha256(secret, ADDRESS_KEY_LABEL)))
    }

    /// The keyed hash of `address`, which is normalised already (an [`Email`] is built so).
    pub fn hash(&self, address: &Email) -> AddressHash {
        use std::fmt::Write;
        let mac = hmac_sha256(&self.0[..], address.as_str().as_bytes());
        AddressHash(mac.iter().fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        }))
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length: `new_from_slice` cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(message);
    mac.finalize().into_bytes().into()
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    /// The key of `config`: `secret_key` if set, else the key file in the data directory
    /// (created on first run). Reads and writes a small file: call it at start-up.
    pub fn from_config(config: &Config) -> Result<SecretBox, CryptoError> {
        match &config.secret_key {
            Some(key) => Self::from_base64(key.expose_secret(), "HIRELAY_SECRET_KEY"),
            None => Self::from_key_file(&config.data_dir.join(KEY_FILE)),
        }
    }

    /// A box from a base64 key; `origin` names where the key came from, for the error.
    pub fn from_base64(key: &str, origin: &str) -> Result<SecretBox, CryptoError> {
        let bytes = B64.decode(key.trim()).map_err(|_| CryptoError::BadKey {
            origin: origin.to_owned(),
        })?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::BadKey {
            origin: origin.to_owned(),
        })?;
        Ok(SecretBox {
            cipher: Arc::new(XChaCha20Poly1305::new(&key.into())),
            address_key: AddressKey::derive(&key),
        })
    }

    /// The key opt-outs and consent records are kept under.
    pub fn address_key(&self) -> AddressKey {
        self.address_key.clone()
    }

    /// Reads the key file, or creates it (mode 0600) with a new random key.
    pub fn from_key_file(path: &Path) -> Result<SecretBox, CryptoError> {
        let shown = path.display().to_string();
        let io = |source| CryptoError::KeyFile {
            path: shown.clone(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_base64(&text, &shown),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir).map_err(io)?;
                }
                let key = XChaCha20Poly1305::generate_key(&mut OsRng);
                let text = B64.encode(key);
                match crate::private_files::create_private(path, text.as_bytes()) {
                    Ok(()) => Self::from_base64(&text, &shown),
                    // Another instance on the same data directory won the race: use its key.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        let text = std::fs::read_to_string(path).map_err(io)?;
                        Self::from_base64(&text, &shown)
                    }
                    Err(e) => Err(io(e)),
                }
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seals `plain` with a fresh random nonce.
    pub fn seal(&self, plain: &str) -> String {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption into a Vec cannot fail for inputs of this size.
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_bytes())
            .unwrap_or_default();
        format!("{VERSION}:{}:{}", B64.encode(nonce), B64.encode(sealed))
    }

    /// Opens what [`SecretBox::seal`] sealed.
    pub fn open(&self, sealed: &str) -> Result<SecretString, CryptoError> {
        let mut parts = sealed.splitn(3, ':');
        let (Some(VERSION), Some(nonce), Some(body)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(CryptoError::Malformed);
        };
        let nonce = B64.decode(nonce).map_err(|_| CryptoError::Malformed)?;
        let body = B64.decode(body).map_err(|_| CryptoError::Malformed)?;
        if nonce.len() != 24 {
            return Err(CryptoError::Malformed);
        }
        let plain = self
            .cipher
            .decrypt(XNonce::from_slice(&nonce), body.as_slice())
            .map_err(|_| CryptoError::WrongKey)?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| CryptoError::Malformed)
    }
}

/// The key file, when it is in use and sits in the directory of the SQLite database: then one
/// copy of that directory (a backup, a stolen disk image) holds the sealed secrets and the key
/// that opens them (M9).
pub fn key_file_beside_database(config: &Config) -> Option<PathBuf> {
    if config.secret_key.is_some() {
        return None;
    }
    let db = crate::store::sqlite_path(config.database_url.expose_secret())?;
    let db_dir = match Path::new(db).parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let same = match (
        std::fs::canonicalize(db_dir),
        std::fs::canonicalize(&config.data_dir),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    same.then(|| config.data_dir.join(KEY_FILE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_sealed_secrets_round_trip_and_hide_the_plain_text() {
        let dir = tempfile::tempdir().unwrap();
        let sb = SecretBox::from_key_file(&dir.path().join(KEY_FILE)).unwrap();
        let sealed = sb.seal("correct horse battery staple");
        assert!(sealed.starts_with("v1:"));
        assert!(!sealed.contains("horse"));
        assert_ne!(
            sealed,
            sb.seal("correct horse battery staple"),
            "nonces differ"
        );
        assert_eq!(
            sb.open(&sealed).unwrap().expose_secret(),
            "correct horse battery staple"
        );
    }

    #[test]
    fn the_key_file_is_created_once_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join(KEY_FILE);
        let first = SecretBox::from_key_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = SecretBox::from_key_file(&path).unwrap();
        assert_eq!(again.open(&first.seal("x")).unwrap().expose_secret(), "x");
    }

    /// C8: the address hash is keyed (another instance key, another hash), depends only on the
    /// normalised address, and never shows the address.
    #[test]
    fn c8_address_hashes_are_keyed_and_match_the_normalised_address() {
        let a = SecretBox::from_base64(&B64.encode([1u8; 32]), "test").unwrap();
        let b = SecretBox::from_base64(&B64.encode([2u8; 32]), "test").unwrap();
        let one = Email::parse(" Taro.Yamada@Example.JP ").unwrap();
        let same = Email::parse("taro.yamada@example.jp").unwrap();
        let hash = a.address_key().hash(&one);
        assert_eq!(hash, a.address_key().hash(&same));
        assert_ne!(hash, b.address_key().hash(&same));
        assert_eq!(hash.as_str().len(), 64);
        assert!(!hash.as_str().contains("yamada"));
        assert_ne!(
            hash.as_str(),
            crate::domain::ids::token_hash("taro.yamada@example.jp"),
            "an unkeyed hash could be computed from a list of addresses"
        );
        assert_eq!(format!("{:?}", a.address_key()), "AddressKey(..)");
    }

    #[test]
    fn another_key_or_a_damaged_value_does_not_open() {
        let a = SecretBox::from_base64(&B64.encode([1u8; 32]), "test").unwrap();
        let b = SecretBox::from_base64(&B64.encode([2u8; 32]), "test").unwrap();
        let sealed = a.seal("secret");
        assert!(matches!(b.open(&sealed), Err(CryptoError::WrongKey)));
        assert!(matches!(a.open("v2:xx:yy"), Err(CryptoError::Malformed)));
        assert!(matches!(
            SecretBox::from_base64("c2hvcnQ=", "HIRELAY_SECRET_KEY"),
            Err(CryptoError::BadKey { .. })
        ));
    }
}
