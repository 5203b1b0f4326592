//! Secrets at rest: HMAC secrets sealed under the server's master key.
//!
//! A server must be able to use an HMAC secret (it recomputes the signature), so the secret
//! cannot be stored as a digest; it is sealed with XChaCha20-Poly1305 (RustCrypto
//! `chacha20poly1305`) under a key derived from the master key, with a fresh random 192-bit
//! nonce each time (random nonces are safe at that size) and, as associated data, the master
//! key's id, the client's id and the key's slot: a sealed secret copied to another client's
//! row, or to another slot, does not open. Static keys are never sealed: a store keeps only
//! their SHA-256 digests.
//!
//! The master key is 32 bytes, written as 64 hexadecimal digits wherever it is text. It
//! never enters the database: two keys are derived from it with HMAC-SHA256 (one for sealing,
//! one for its public id, so the id says nothing about the sealing key). The store records the
//! id and a sealed known constant, so opening it with another master key fails at once with
//! [`StoreError::WrongMasterKey`] rather than with signature mismatches later.
//!
//! Each sealed secret's row names the master key it was sealed under (its id is in the
//! associated data too), so a process holding several keys ([`MasterKeys`]: a new one and
//! older ones, while [`Store::rekey`](crate::Store::rekey) re-seals) opens each secret with
//! the key its row names.

use core::fmt;
use std::path::Path;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::StoreError;

/// Length of a master key, in bytes.
pub const MASTER_KEY_LEN: usize = 32;
/// The environment variable [`MasterKey::from_env`] reads: 64 hexadecimal digits.
pub const MASTER_KEY_ENV: &str = "APISIG_MASTER_KEY";
/// The environment variable [`MasterKey::from_env`] reads when [`MASTER_KEY_ENV`] is unset:
/// the path of a file holding the key (see [`MasterKey::from_file`]).
pub const MASTER_KEY_FILE_ENV: &str = "APISIG_MASTER_KEY_FILE";
/// The environment variable [`MasterKeys::from_env`] reads for the previous master key (64
/// hexadecimal digits) while a store's secrets are re-sealed under a new one.
pub const MASTER_KEY_PREVIOUS_ENV: &str = "APISIG_MASTER_KEY_PREVIOUS";
/// The environment variable [`MasterKeys::from_env`] reads when [`MASTER_KEY_PREVIOUS_ENV`] is
/// unset: the path of a file holding the previous master key.
pub const MASTER_KEY_PREVIOUS_FILE_ENV: &str = "APISIG_MASTER_KEY_PREVIOUS_FILE";
/// Nonce length of XChaCha20-Poly1305.
const NONCE_LEN: usize = 24;
/// Tag length of Poly1305.
const TAG_LEN: usize = 16;

/// The server's master key: seals the HMAC secrets a store keeps. Zeroized on drop, never
/// printed by `Debug` (which shows its public [`id`](Self::id)).
///
/// ```
/// use apisig_store::MasterKey;
/// let key = MasterKey::generate()?;
/// let again = MasterKey::from_hex(&key.to_hex())?;
/// assert_eq!(key.id(), again.id());
/// # Ok::<(), apisig_store::StoreError>(())
/// ```
#[derive(Clone)]
pub struct MasterKey {
    seal: Zeroizing<[u8; 32]>,
    raw: Zeroizing<[u8; MASTER_KEY_LEN]>,
    id: String,
}

impl MasterKey {
    /// The master key of these 32 bytes.
    ///
    /// # Errors
    /// [`StoreError::InvalidMasterKey`] unless `bytes` is 32 bytes long.
    pub fn from_bytes(bytes: &[u8]) -> Result<MasterKey, StoreError> {
        let raw: [u8; MASTER_KEY_LEN] = bytes.try_into().map_err(|_| {
            StoreError::InvalidMasterKey(format!("a master key is {MASTER_KEY_LEN} bytes, not {}", bytes.len()))
        })?;
        let raw = Zeroizing::new(raw);
        let seal = Zeroizing::new(derive(&raw, b"apisig-store seal v1"));
        let id = derive(&raw, b"apisig-store master key id v1");
        let id = id.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Ok(MasterKey { seal, raw, id })
    }

    /// The master key written as 64 hexadecimal digits (either case; surrounding whitespace,
    /// such as a file's final newline, is ignored).
    ///
    /// # Errors
    /// [`StoreError::InvalidMasterKey`] unless `text` is 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Result<MasterKey, StoreError> {
        let text = text.trim();
        let bad = || StoreError::InvalidMasterKey(format!("a master key is {} hexadecimal digits", 2 * MASTER_KEY_LEN));
        if text.len() != 2 * MASTER_KEY_LEN {
            return Err(bad());
        }
        let mut raw = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        for (b, pair) in raw.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let pair = core::str::from_utf8(pair).map_err(|_| bad())?;
            *b = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
        }
        MasterKey::from_bytes(raw.as_slice())
    }

    /// The master key in a file: 64 hexadecimal digits (and a newline), or exactly 32 raw
    /// bytes. Keep the file readable by the server's user only.
    ///
    /// # Errors
    /// [`StoreError::MasterKeyMissing`] when the file cannot be read,
    /// [`StoreError::InvalidMasterKey`] when it holds no key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<MasterKey, StoreError> {
        let path = path.as_ref();
        let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
            StoreError::MasterKeyMissing(format!("cannot read the master key file {}: {e}", path.display()))
        })?);
        if bytes.len() == MASTER_KEY_LEN {
            return MasterKey::from_bytes(&bytes);
        }
        let text = core::str::from_utf8(&bytes)
            .map_err(|_| StoreError::InvalidMasterKey(format!("{} holds no master key", path.display())))?;
        MasterKey::from_hex(text)
    }

    /// The master key from the environment: [`MASTER_KEY_ENV`] (`APISIG_MASTER_KEY`, 64
    /// hexadecimal digits) or else the file named by [`MASTER_KEY_FILE_ENV`]
    /// (`APISIG_MASTER_KEY_FILE`, see [`from_file`](Self::from_file)).
    ///
    /// # Errors
    /// [`StoreError::MasterKeyMissing`] when neither is set, or the errors of
    /// [`from_hex`](Self::from_hex) and [`from_file`](Self::from_file).
    pub fn from_env() -> Result<MasterKey, StoreError> {
        MasterKey::from_vars(MASTER_KEY_ENV, MASTER_KEY_FILE_ENV)?.ok_or_else(|| {
            StoreError::MasterKeyMissing(format!("neither {MASTER_KEY_ENV} nor {MASTER_KEY_FILE_ENV} is set"))
        })
    }

    /// The key in the variable `hex` (64 hexadecimal digits), else in the file the variable
    /// `file` names; `None` when neither is set.
    fn from_vars(hex: &str, file: &str) -> Result<Option<MasterKey>, StoreError> {
        if let Some(text) = std::env::var_os(hex) {
            let text = Zeroizing::new(
                text.into_string()
                    .map_err(|_| StoreError::InvalidMasterKey(format!("{hex} is not 64 hexadecimal digits")))?,
            );
            return MasterKey::from_hex(&text).map(Some);
        }
        std::env::var_os(file).map(MasterKey::from_file).transpose()
    }

    /// A new master key from the operating system's random number generator.
    ///
    /// # Errors
    /// [`StoreError::Random`] when the operating system gives no randomness.
    pub fn generate() -> Result<MasterKey, StoreError> {
        let mut raw = Zeroizing::new([0u8; MASTER_KEY_LEN]);
        crate::random(raw.as_mut_slice())?;
        MasterKey::from_bytes(raw.as_slice())
    }

    /// The key as 64 lowercase hexadecimal digits, to keep in a secret manager or a file.
    pub fn to_hex(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(2 * MASTER_KEY_LEN));
        for b in self.raw.iter() {
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0xf));
        }
        out
    }

    /// The key's public id: 16 hexadecimal digits derived from it (HMAC-SHA256, one way),
    /// which a store records to recognise a wrong master key.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Seals `secret`, bound to `context` (associated data, with the key's id):
    /// nonce ‖ ciphertext ‖ tag.
    pub(crate) fn seal(&self, context: &[u8], secret: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::random(&mut nonce)?;
        let aad = self.aad(context);
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: &aad })
            .map_err(|_| StoreError::Corrupt("sealing failed".into()))?;
        let mut out = Vec::with_capacity(sealed.len().saturating_add(NONCE_LEN));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what [`seal`](Self::seal) wrote under the same `context`.
    pub(crate) fn open(&self, context: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let bad = || {
            StoreError::Corrupt(
                "a sealed secret does not open (moved, altered or sealed under another master key)".into(),
            )
        };
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(bad());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| bad())?;
        let aad = self.aad(context);
        self.cipher()
            .decrypt(&XNonce::from(nonce), Payload { msg: body, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| bad())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.seal).into())
    }

    fn aad(&self, context: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(context.len().saturating_add(32));
        aad.extend_from_slice(b"apisig-store v1\0");
        aad.extend_from_slice(self.id.as_bytes());
        aad.push(0);
        aad.extend_from_slice(context);
        aad
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The master keys a process holds: the newest, which a re-seal
/// ([`Store::rekey`](crate::Store::rekey)) seals every secret under, and older ones still
/// accepted for opening secrets sealed before. Each sealed secret names (by id) the key it was
/// sealed under, so opening never tries keys in turn.
///
/// A store seals new secrets under the key its database names as current (the newest once a
/// re-seal has begun); a process holding both keys works at every stage of a re-seal.
///
/// ```
/// use apisig_store::{MasterKey, MasterKeys};
/// let (old, new) = (MasterKey::generate()?, MasterKey::generate()?);
/// let keys = MasterKeys::new(new.clone()).with_previous(old.clone());
/// assert_eq!(keys.newest().id(), new.id());
/// assert_eq!(keys.ids().collect::<Vec<_>>(), [new.id(), old.id()]);
/// # Ok::<(), apisig_store::StoreError>(())
/// ```
#[derive(Clone)]
pub struct MasterKeys {
    newest: MasterKey,
    previous: Vec<MasterKey>,
}

impl MasterKeys {
    /// Only `newest`.
    pub fn new(newest: MasterKey) -> MasterKeys {
        MasterKeys { newest, previous: Vec::new() }
    }

    /// These keys and `previous`, an older key still accepted for opening (a key already
    /// held is not added twice).
    #[must_use]
    pub fn with_previous(mut self, previous: MasterKey) -> MasterKeys {
        if self.get(previous.id()).is_none() {
            self.previous.push(previous);
        }
        self
    }

    /// The master keys from the environment: the newest as [`MasterKey::from_env`] reads it,
    /// and a previous one, if set, from [`MASTER_KEY_PREVIOUS_ENV`]
    /// (`APISIG_MASTER_KEY_PREVIOUS`, 64 hexadecimal digits) or else the file named by
    /// [`MASTER_KEY_PREVIOUS_FILE_ENV`] (`APISIG_MASTER_KEY_PREVIOUS_FILE`).
    ///
    /// # Errors
    /// Those of [`MasterKey::from_env`], for either key.
    pub fn from_env() -> Result<MasterKeys, StoreError> {
        let keys = MasterKeys::new(MasterKey::from_env()?);
        Ok(match MasterKey::from_vars(MASTER_KEY_PREVIOUS_ENV, MASTER_KEY_PREVIOUS_FILE_ENV)? {
            Some(previous) => keys.with_previous(previous),
            None => keys,
        })
    }

    /// The newest key: what [`Store::rekey`](crate::Store::rekey) re-seals under.
    pub fn newest(&self) -> &MasterKey {
        &self.newest
    }

    /// The keys' ids, the newest first.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        core::iter::once(&self.newest).chain(&self.previous).map(MasterKey::id)
    }

    /// The key with this id, if held.
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        core::iter::once(&self.newest).chain(&self.previous).find(|k| k.id() == id)
    }

    /// The ids as one text (`"3f…, 9a…"`), for messages.
    pub(crate) fn ids_text(&self) -> String {
        self.ids().collect::<Vec<_>>().join(", ")
    }
}

impl From<MasterKey> for MasterKeys {
    fn from(key: MasterKey) -> MasterKeys {
        MasterKeys::new(key)
    }
}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.ids()).finish()
    }
}

fn derive(key: &[u8; MASTER_KEY_LEN], label: &[u8]) -> [u8; 32] {
    #[allow(clippy::expect_used)] // the invariant hmac's own SimpleHmac relies on
    let mut mac = <Hmac<Sha256>>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

fn hex_digit(v: u8) -> char {
    char::from_digit(u32::from(v), 16).unwrap_or('0')
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sealed_secrets_open_only_in_their_context_and_under_their_key() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal(b"client-1\0\0", b"the secret").unwrap();
        assert_eq!(key.open(b"client-1\0\0", &sealed).unwrap().as_slice(), b"the secret");
        assert!(matches!(key.open(b"client-2\0\0", &sealed), Err(StoreError::Corrupt(_))));
        assert!(matches!(MasterKey::generate().unwrap().open(b"client-1\0\0", &sealed), Err(StoreError::Corrupt(_))));
        let mut flipped = sealed.clone();
        if let Some(b) = flipped.last_mut() {
            *b ^= 1;
        }
        assert!(matches!(key.open(b"client-1\0\0", &flipped), Err(StoreError::Corrupt(_))));
        // A fresh nonce each time: sealing twice gives two texts.
        assert_ne!(sealed, key.seal(b"client-1\0\0", b"the secret").unwrap());
    }

    #[test]
    fn master_keys_are_32_bytes_or_64_hex_digits() {
        assert!(matches!(MasterKey::from_bytes(&[7; 31]), Err(StoreError::InvalidMasterKey(_))));
        assert!(matches!(MasterKey::from_hex(&"0g".repeat(32)), Err(StoreError::InvalidMasterKey(_))));
        assert!(matches!(MasterKey::from_hex("abcd"), Err(StoreError::InvalidMasterKey(_))));
        let key = MasterKey::from_hex(&format!("{}\n", "aB".repeat(32))).unwrap();
        assert_eq!(key.to_hex().as_str(), "ab".repeat(32));
        assert_eq!(key.id(), MasterKey::from_bytes(&[0xab; 32]).unwrap().id());
        assert_ne!(key.id(), MasterKey::from_bytes(&[0xac; 32]).unwrap().id());
        assert!(!format!("{key:?}").contains("abab"));
    }
}
