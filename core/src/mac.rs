//! HMAC-SHA256 with a precomputed key state, and the tag it produces.

use core::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::Error;

/// Length of an HMAC-SHA256 tag in bytes.
pub const TAG_LEN: usize = 32;

/// An HMAC-SHA256 tag. Equality is constant time; `Debug` does not print the bytes.
#[derive(Clone)]
pub struct Tag([u8; TAG_LEN]);

impl Tag {
    /// The raw bytes.
    pub const fn into_bytes(self) -> [u8; TAG_LEN] {
        self.0
    }

    /// The raw bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; TAG_LEN] {
        &self.0
    }
}

impl From<[u8; TAG_LEN]> for Tag {
    fn from(bytes: [u8; TAG_LEN]) -> Self {
        Tag(bytes)
    }
}

impl ConstantTimeEq for Tag {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Tag {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for Tag {}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tag(..)")
    }
}

/// An HMAC-SHA256 key with its inner and outer pads already hashed, so each message costs
/// only its own compressions. Build it once per key and reuse it. The state is zeroized on
/// drop; `Debug` prints nothing of it.
#[derive(Clone)]
pub struct MacKey {
    state: Hmac<Sha256>,
}

impl MacKey {
    /// Precomputes the keyed state for `secret`.
    ///
    /// # Errors
    /// [`Error::EmptySecret`] when `secret` is empty: an empty HMAC key is almost always a
    /// configuration mistake, and it authenticates nothing.
    ///
    /// ```
    /// let key = apisig::MacKey::new(b"Jefe")?;
    /// let tag = key.sign(b"what do ya want for nothing?");
    /// assert_eq!(tag.as_bytes()[..4], [0x5b, 0xdc, 0xc1, 0x46]);
    /// # Ok::<(), apisig::Error>(())
    /// ```
    pub fn new(secret: &[u8]) -> Result<MacKey, Error> {
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        Ok(MacKey { state: new_mac(secret) })
    }

    /// A fresh HMAC computation keyed with this key.
    pub(crate) fn start(&self) -> Hmac<Sha256> {
        self.state.clone()
    }

    /// The tag of `msg`.
    pub fn sign(&self, msg: &[u8]) -> Tag {
        let mut mac = self.start();
        mac.update(msg);
        Tag(mac.finalize().into_bytes().into())
    }

    /// Checks `tag` against the tag of `msg` in constant time (in the data, not the length).
    ///
    /// # Errors
    /// [`Error::SignatureMismatch`] when the tag differs, [`Error::InvalidSignatureEncoding`]
    /// when it is not [`TAG_LEN`] bytes long.
    pub fn verify(&self, msg: &[u8], tag: &[u8]) -> Result<(), Error> {
        if tag.len() != TAG_LEN {
            return Err(Error::InvalidSignatureEncoding);
        }
        let mut mac = self.start();
        mac.update(msg);
        mac.verify_slice(tag).map_err(|_| Error::SignatureMismatch)
    }
}

impl fmt::Debug for MacKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacKey(..)")
    }
}

#[allow(clippy::expect_used)] // the invariant hmac's own SimpleHmac relies on
fn new_mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// Finishes an HMAC computation into a [`Tag`].
pub(crate) fn finish(mac: Hmac<Sha256>) -> Tag {
    Tag(mac.finalize().into_bytes().into())
}

/// HMAC-SHA256 of `msg` under `key`, in one call.
///
/// # Errors
/// [`Error::EmptySecret`] when `key` is empty.
pub fn sign(key: &[u8], msg: &[u8]) -> Result<Tag, Error> {
    Ok(MacKey::new(key)?.sign(msg))
}

/// Checks `tag` against HMAC-SHA256 of `msg` under `key`, in constant time.
///
/// # Errors
/// As [`MacKey::new`] and [`MacKey::verify`].
pub fn verify(key: &[u8], msg: &[u8], tag: &[u8]) -> Result<(), Error> {
    MacKey::new(key)?.verify(msg, tag)
}

/// SHA-256 of `data`: how static keys and secrets are kept in the keyring.
pub(crate) fn digest(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    Sha256::digest(data).into()
}
