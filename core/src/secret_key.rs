//! The key that seals secrets the database must not hold in the clear (TOTP secrets).
//!
//! It lives in a file named by `ATUM_SECRET_KEY_FILE`: 32 random bytes, written either
//! raw or as 64 hex digits (`openssl rand -hex 32 > /etc/atum-desk/secret.key`). A
//! database dump without the key file reveals no second factor. The key is never
//! printed: its `Debug` shows only whether one is loaded.

use aes_gcm::{
    Aes256Gcm, Key, Nonce,
    aead::{Aead, KeyInit, Payload},
};
use rand::RngExt;

use atum_runtime::config::{ConfigError, Env};

pub const VAR: &str = "ATUM_SECRET_KEY_FILE";

#[derive(Clone)]
pub struct SecretKey(Key<Aes256Gcm>);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A sealed value: the ciphertext (with its tag) and the nonce it was sealed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub ciphertext: Vec<u8>,
    pub nonce: [u8; 12],
}

impl SecretKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        SecretKey(bytes.into())
    }

    /// The key named by `ATUM_SECRET_KEY_FILE`, or `None` when it is not set (then the
    /// features that need it answer that they are not configured).
    pub fn from_env(env: &Env<'_>) -> Result<Option<Self>, ConfigError> {
        let Some(path) = env.get(VAR) else { return Ok(None) };
        let invalid = |reason: String| ConfigError::Invalid { var: VAR.into(), reason };
        let raw = std::fs::read(&path).map_err(|e| invalid(format!("cannot read {path}: {e}")))?;
        Self::parse(&raw).map(Some).map_err(|reason| invalid(format!("{path}: {reason}")))
    }

    fn parse(raw: &[u8]) -> Result<Self, String> {
        if raw.len() == 32 {
            return Ok(Self::from_bytes(raw.try_into().unwrap_or([0; 32])));
        }
        let text = std::str::from_utf8(raw).map_err(|_| "expected 32 bytes or 64 hex digits".to_string())?.trim();
        if text.len() != 64 {
            return Err(format!("expected 32 bytes or 64 hex digits, found {} characters", text.len()));
        }
        let mut key = [0u8; 32];
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).map_err(|_| "not hex".to_string())?;
        }
        Ok(Self::from_bytes(key))
    }

    /// Seals `plain`, binding it to `context` (e.g. the owner's id): the ciphertext
    /// only opens with the same context, so it cannot be moved to another row.
    pub fn seal(&self, plain: &[u8], context: &[u8]) -> Sealed {
        let nonce: [u8; 12] = rand::rng().random();
        let cipher = Aes256Gcm::new(&self.0);
        // Encryption only fails for inputs larger than AES-GCM allows (64 GiB).
        let ciphertext =
            cipher.encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad: context }).unwrap_or_default();
        Sealed { ciphertext, nonce }
    }

    /// The plaintext, or `None` when the ciphertext, nonce or context was tampered
    /// with or the key is a different one.
    pub fn open(&self, sealed: &Sealed, context: &[u8]) -> Option<Vec<u8>> {
        Aes256Gcm::new(&self.0)
            .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: context })
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_context() {
        let key = SecretKey::from_bytes([7; 32]);
        let sealed = key.seal(b"totp secret", b"user:1");
        assert_ne!(sealed.ciphertext, b"totp secret");
        assert_eq!(key.open(&sealed, b"user:1").as_deref(), Some(&b"totp secret"[..]));
        assert_eq!(key.open(&sealed, b"user:2"), None, "moved to another user");
        assert_eq!(SecretKey::from_bytes([8; 32]).open(&sealed, b"user:1"), None, "another key");
        let mut tampered = sealed;
        tampered.ciphertext[0] ^= 1;
        assert_eq!(key.open(&tampered, b"user:1"), None);
    }

    #[test]
    fn a_key_file_is_32_raw_bytes_or_64_hex_digits() {
        let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
        let from_hex = SecretKey::parse(hex.as_bytes()).unwrap();
        let mut raw = [0u8; 32];
        for (i, b) in raw.iter_mut().enumerate() {
            *b = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
                [i % 16];
        }
        let sealed = SecretKey::from_bytes(raw).seal(b"x", b"");
        assert_eq!(from_hex.open(&sealed, b"").as_deref(), Some(&b"x"[..]));
        assert!(SecretKey::parse(b"too short").is_err());
        assert!(SecretKey::parse(&[b'z'; 64]).is_err());
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        assert_eq!(format!("{:?}", SecretKey::from_bytes([0x41; 32])), "SecretKey(<redacted>)");
    }
}
