//! Stateless session tokens: the server side of APEX `AuthenticateUser`. After a valid
//! signature the server issues a token naming the user id, the key id and an expiry, signed
//! with a server secret; later requests present it as `aptoken`. Revocation is by rotating
//! the server secret (primary and secondary, so rotation needs no downtime).
//!
//! Format: `base64url(payload) "." base64url(tag)`, unpadded, where `payload = 0x01 ‖
//! expires (u64 big-endian, UNIX seconds) ‖ len ‖ user id ‖ len ‖ key id` and
//! `tag = HMAC-SHA256(secret, "apisig-session-v1\0" ‖ payload)`.
//!
//! ```
//! use apisig::session::{Session, SessionKeys};
//! let keys = SessionKeys::new(b"server-secret-0123456789abcdef")?;
//! let mut buf = [0u8; apisig::session::TOKEN_MAX];
//! let token = keys.issue(&Session { user_id: "12", key_id: "f3a9c2e5", expires: 1_900_000_000 }, &mut buf)?;
//! let mut scratch = [0u8; apisig::session::TOKEN_MAX];
//! let (session, _slot) = keys.verify(token, 1_800_000_000_000_000_000, &mut scratch)?;
//! assert_eq!(session.user_id, "12");
//! # Ok::<(), apisig::Error>(())
//! ```

use subtle::{Choice, ConditionallySelectable};

use crate::client::Slot;
use crate::encoding::{base64url_decode, base64url_encode, base64url_len};
use crate::mac::{ct_eq, finish};
use crate::message::Sink;
use crate::{Error, MacKey, TAG_LEN, UnixNanos};

/// Longest user id or key id a session may name.
pub const FIELD_MAX: usize = 64;
/// Longest payload: version, expiry, two length-prefixed fields.
const PAYLOAD_MAX: usize = 1 + 8 + 1 + FIELD_MAX + 1 + FIELD_MAX;
/// Longest token (and the scratch space [`SessionKeys::verify`] needs).
pub const TOKEN_MAX: usize = 256;

const DOMAIN: &[u8] = b"apisig-session-v1\0";
const VERSION: u8 = 1;

/// What a session token says.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Session<'a> {
    /// The authenticated user id.
    pub user_id: &'a str,
    /// The API key id the session was opened with.
    pub key_id: &'a str,
    /// The first moment the token is no longer valid, in UNIX seconds.
    pub expires: u64,
}

/// The server secrets that issue and check session tokens.
#[derive(Clone, Debug)]
pub struct SessionKeys {
    primary: MacKey,
    secondary: Option<MacKey>,
}

impl SessionKeys {
    /// Keys with one secret.
    ///
    /// # Errors
    /// [`Error::EmptySecret`].
    pub fn new(primary: &[u8]) -> Result<SessionKeys, Error> {
        Ok(SessionKeys { primary: MacKey::new(primary)?, secondary: None })
    }

    /// Adds a secondary secret: tokens made with it still verify during a rotation.
    ///
    /// # Errors
    /// [`Error::EmptySecret`].
    pub fn with_secondary(self, secondary: &[u8]) -> Result<SessionKeys, Error> {
        Ok(SessionKeys { secondary: Some(MacKey::new(secondary)?), ..self })
    }

    /// Issues a token (with the primary secret) into `out`.
    ///
    /// # Errors
    /// [`Error::InvalidHeaderValue`] for a user id or key id that is empty or not printable
    /// ASCII, [`Error::FieldTooLong`] past [`FIELD_MAX`], [`Error::BufferTooSmall`] (nothing
    /// written).
    pub fn issue<'o>(&self, s: &Session<'_>, out: &'o mut [u8]) -> Result<&'o [u8], Error> {
        let mut payload = [0u8; PAYLOAD_MAX];
        let n = write_payload(s, &mut payload)?;
        let payload = payload.get(..n).unwrap_or_default();
        let tag = tag(&self.primary, payload);
        let p = base64url_len(payload.len());
        let total = p.saturating_add(1).saturating_add(base64url_len(TAG_LEN));
        let dst = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
        let (head, rest) = dst.split_at_mut(p);
        base64url_encode(payload, head)?;
        let (dot, sig) = rest.split_first_mut().ok_or(Error::BufferTooSmall)?;
        *dot = b'.';
        base64url_encode(&tag, sig)?;
        Ok(dst)
    }

    /// Checks a token at `now` (nanoseconds since the UNIX epoch) and returns what it says,
    /// with the slot of the secret that made it. Both secrets are always tried, in constant
    /// time. `scratch` holds the decoded payload ([`TOKEN_MAX`] bytes is always enough).
    ///
    /// # Errors
    /// [`Error::TokenTooLong`], [`Error::TokenMalformed`], [`Error::SignatureMismatch`],
    /// [`Error::TokenExpired`], [`Error::BufferTooSmall`] for a short `scratch`.
    pub fn verify<'s>(
        &self,
        token: &[u8],
        now: UnixNanos,
        scratch: &'s mut [u8],
    ) -> Result<(Session<'s>, Slot), Error> {
        if token.len() > TOKEN_MAX {
            return Err(Error::TokenTooLong);
        }
        let mut parts = token.split(|&b| b == b'.');
        let (Some(p64), Some(t64), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::TokenMalformed);
        };
        let mut presented = [0u8; TAG_LEN];
        if t64.len() != base64url_len(TAG_LEN) || base64url_decode(t64, &mut presented)?.len() != TAG_LEN {
            return Err(Error::TokenMalformed);
        }
        let payload: &'s [u8] = base64url_decode(p64, scratch)?;
        let session = read_payload(payload)?;

        let primary = ct_eq(&tag(&self.primary, payload), &presented);
        let secondary = match &self.secondary {
            Some(k) => ct_eq(&tag(k, payload), &presented),
            None => Choice::from(0),
        };
        if !bool::from(primary | secondary) {
            return Err(Error::SignatureMismatch);
        }
        let mut slot = 0u8;
        slot.conditional_assign(&1, secondary & !primary);
        if now / 1_000_000_000 >= session.expires {
            return Err(Error::TokenExpired);
        }
        Ok((session, if slot == 1 { Slot::Secondary } else { Slot::Primary }))
    }
}

fn tag(key: &MacKey, payload: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = key.start();
    mac.put(DOMAIN);
    mac.put(payload);
    finish(&mut mac).into_bytes()
}

fn check_field(f: &str) -> Result<u8, Error> {
    if f.is_empty() || !f.bytes().all(|b| matches!(b, 0x21..=0x7e)) {
        return Err(Error::InvalidHeaderValue);
    }
    u8::try_from(f.len()).ok().filter(|&n| usize::from(n) <= FIELD_MAX).ok_or(Error::FieldTooLong)
}

fn write_payload(s: &Session<'_>, out: &mut [u8; PAYLOAD_MAX]) -> Result<usize, Error> {
    let (u, k) = (check_field(s.user_id)?, check_field(s.key_id)?);
    let mut w = Writer { out, len: 0 };
    w.put(&[VERSION]);
    w.put(&s.expires.to_be_bytes());
    w.put(&[u]);
    w.put(s.user_id.as_bytes());
    w.put(&[k]);
    w.put(s.key_id.as_bytes());
    Ok(w.len)
}

struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
}

impl Writer<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.len.saturating_add(bytes.len());
        if let Some(dst) = self.out.get_mut(self.len..end) {
            dst.copy_from_slice(bytes);
        }
        self.len = end;
    }
}

fn read_payload(p: &[u8]) -> Result<Session<'_>, Error> {
    let bad = Error::TokenMalformed;
    let (&version, rest) = p.split_first().ok_or(bad)?;
    if version != VERSION {
        return Err(bad);
    }
    let (expires, rest) = rest.split_first_chunk::<8>().ok_or(bad)?;
    let (user_id, rest) = read_field(rest)?;
    let (key_id, rest) = read_field(rest)?;
    if !rest.is_empty() {
        return Err(bad);
    }
    Ok(Session { user_id, key_id, expires: u64::from_be_bytes(*expires) })
}

fn read_field(p: &[u8]) -> Result<(&str, &[u8]), Error> {
    let (&n, rest) = p.split_first().ok_or(Error::TokenMalformed)?;
    let n = usize::from(n);
    if n == 0 || n > FIELD_MAX || rest.len() < n {
        return Err(Error::TokenMalformed);
    }
    let (field, rest) = rest.split_at(n);
    if !field.iter().all(|b| matches!(b, 0x21..=0x7e)) {
        return Err(Error::TokenMalformed);
    }
    let field = core::str::from_utf8(field).map_err(|_| Error::TokenMalformed)?;
    Ok((field, rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_verify_rotate_expire() {
        let old = SessionKeys::new(b"old-secret").unwrap_or_else(|_| unreachable!());
        let s = Session { user_id: "12", key_id: "key-1", expires: 2_000 };
        let mut buf = [0u8; TOKEN_MAX];
        let token = old.issue(&s, &mut buf).map(<[u8]>::to_vec).unwrap_or_default();
        let rotated = SessionKeys::new(b"new-secret").and_then(|k| k.with_secondary(b"old-secret"));
        let rotated = rotated.unwrap_or_else(|_| unreachable!());
        let mut scratch = [0u8; TOKEN_MAX];
        assert_eq!(rotated.verify(&token, 1_999_000_000_000, &mut scratch), Ok((s, Slot::Secondary)));
        let mut scratch = [0u8; TOKEN_MAX];
        assert_eq!(rotated.verify(&token, 2_000_000_000_000, &mut scratch), Err(Error::TokenExpired));
        let revoked = SessionKeys::new(b"new-secret").unwrap_or_else(|_| unreachable!());
        let mut scratch = [0u8; TOKEN_MAX];
        assert_eq!(revoked.verify(&token, 0, &mut scratch), Err(Error::SignatureMismatch));
        let long = "u".repeat(FIELD_MAX + 1);
        let mut out = [0u8; TOKEN_MAX];
        assert_eq!(old.issue(&Session { user_id: &long, ..s }, &mut out), Err(Error::FieldTooLong));
        assert_eq!(old.issue(&Session { user_id: "a b", ..s }, &mut out), Err(Error::InvalidHeaderValue));
        assert_eq!(old.issue(&s, &mut [0u8; 10]), Err(Error::BufferTooSmall));
    }
}
