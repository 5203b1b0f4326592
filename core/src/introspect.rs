//! OAuth2 token introspection (RFC 7662): the rules a resource server applies to the
//! provider's answer about an opaque access token. Fetching it (client-authenticated `POST` to
//! the `introspection_endpoint`) is the faces' job; what the answer means is decided here.
//!
//! The answer is read by the same strict claims reader as JWT access tokens (one JSON object,
//! no repeated or escaped member names, `aud` a string or a list) and judged in this order, the
//! first failure deciding: shape ([`Error::IntrospectionMalformed`]: not such an object, or
//! `active` missing or not a boolean, or a registered claim of the wrong type), `active`
//! ([`Error::TokenInactive`] unless `true`), `exp` ([`Error::TokenExpired`] when it has passed,
//! with the leeway), `nbf`/`iat` ([`Error::TokenNotYetValid`]), `iss` ([`Error::IssuerMismatch`]
//! when present and not the issuer exactly; RFC 7662 makes it optional), `aud` when an audience
//! is expected ([`Error::AudienceMismatch`] when it does not contain it, absent included).
//!
//! An active answer may be kept, never past the token's `exp`: [`cache_seconds`].

use crate::jwt::{Claims, parse_introspection};
use crate::{Error, UnixNanos};

/// Longest introspection answer read (providers answer a few hundred bytes).
pub const INTROSPECTION_MAX: usize = 16 * 1024;

/// What the answer must say.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Expected<'a> {
    /// The issuer identifier; an `iss` in the answer must equal it exactly.
    pub issuer: &'a str,
    /// This resource server's audience: when given, `aud` must contain it.
    pub audience: Option<&'a str>,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
}

/// The claims of an active token from the introspection answer `body` (JSON), judged at `now`
/// against `expected`. The strings borrow from `body`.
///
/// # Errors
/// [`Error::IntrospectionMalformed`] for an answer that is not an RFC 7662 response (longer
/// than [`INTROSPECTION_MAX`] included); [`Error::DuplicateField`]; [`Error::TokenInactive`];
/// [`Error::TokenExpired`]; [`Error::TokenNotYetValid`]; [`Error::IssuerMismatch`];
/// [`Error::AudienceMismatch`].
pub fn check<'b>(body: &'b [u8], expected: &Expected<'_>, now: UnixNanos) -> Result<Claims<'b>, Error> {
    if body.len() > INTROSPECTION_MAX {
        return Err(Error::IntrospectionMalformed);
    }
    let (claims, active) = parse_introspection(body)?;
    if active != Some(true) {
        return Err(active.map_or(Error::IntrospectionMalformed, |_| Error::TokenInactive));
    }
    let now = now / 1_000_000_000;
    // As jws.rs: expired when exp <= now - leeway; immature when nbf or iat > now + leeway.
    if claims.exp.is_some_and(|exp| exp <= now.saturating_sub(expected.leeway_s)) {
        return Err(Error::TokenExpired);
    }
    let late = now.saturating_add(expected.leeway_s);
    if claims.nbf.is_some_and(|t| t > late) || claims.iat.is_some_and(|t| t > late) {
        return Err(Error::TokenNotYetValid);
    }
    if claims.iss.is_some_and(|iss| iss != expected.issuer) {
        return Err(Error::IssuerMismatch);
    }
    if expected.audience.is_some_and(|audience| !claims.aud.contains(&audience)) {
        return Err(Error::AudienceMismatch);
    }
    Ok(claims)
}

/// How many seconds from `now` an active answer may be kept: `max_s`, and never past the
/// token's `exp` (0 when it has passed).
pub fn cache_seconds(claims: &Claims<'_>, now: UnixNanos, max_s: u64) -> u64 {
    let now = now / 1_000_000_000;
    claims.exp.map_or(max_s, |exp| exp.saturating_sub(now).min(max_s))
}
