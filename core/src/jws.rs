//! OAuth2 access tokens signed by an OpenID provider (RFC 9068 JWT access tokens): compact
//! JWS with RS256, PS256, ES256 or EdDSA, verified against the issuer's [`JwkSet`].
//!
//! The algorithms accepted are the issuer's configuration ([`Issuer::algorithms`]), never the
//! token's say: `none` is always refused, `HS*` is refused outright (an HMAC keyed with a
//! public key is the algorithm-confusion attack), keys referenced or embedded by the header
//! (`jku`, `x5u`, `jwk`, `x5c`) are never followed, and any `crit` is refused. The key is the
//! one the `kid` names and must fit the algorithm. `iss` must be the issuer exactly, `aud`
//! must contain the audience, `exp` is required, `exp`/`nbf`/`iat` are checked with a leeway
//! (as in [`jwt`](crate::jwt)). `typ` must be `at+jwt` (or `application/at+jwt`); plain
//! `JWT` or no `typ` is accepted unless [`Issuer::strict`] asks for the RFC 9068 profile,
//! which also requires `sub`, `client_id`, `iat` and `jti`.
//!
//! Checks run in this order, and the first failure decides: length, shape, header (`none`,
//! embedded keys, `crit`, algorithm, `typ`), key, signature, claims.

use crate::encoding::base64url_decode;
use crate::jwk::{Alg, AlgSet, JwkSet};
use crate::jwt::{Claims, Header, parse, parse_claims};
use crate::{Error, UnixNanos};

/// Longest access token accepted by default (some providers put many claims in).
pub const ACCESS_TOKEN_MAX: usize = 8192;

/// Longest signature: an RSA-4096 one.
const SIGNATURE_MAX: usize = crate::jwk::RSA_MAX_BITS / 8;

/// What an issuer's tokens must satisfy.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Issuer<'a> {
    /// The issuer identifier; `iss` must equal it exactly.
    pub issuer: &'a str,
    /// This resource server's audience; `aud` must contain it.
    pub audience: &'a str,
    /// The algorithms the issuer signs with.
    pub algorithms: AlgSet,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
    /// Require the RFC 9068 profile: `typ` `at+jwt`; `sub`, `client_id`, `iat`, `jti` present.
    pub strict: bool,
    /// Longest token accepted.
    pub max_len: usize,
}

impl<'a> Issuer<'a> {
    /// An issuer signing with RS256 (the OpenID default), no leeway, not strict,
    /// [`ACCESS_TOKEN_MAX`].
    pub const fn new(issuer: &'a str, audience: &'a str) -> Issuer<'a> {
        Issuer {
            issuer,
            audience,
            algorithms: AlgSet::EMPTY.with(Alg::Rs256),
            leeway_s: 0,
            strict: false,
            max_len: ACCESS_TOKEN_MAX,
        }
    }
}

/// A verified access token: the algorithm it was signed with and its claims, borrowed from
/// the caller's scratch buffer.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Verified<'s> {
    /// The algorithm.
    pub alg: Alg,
    /// The claims (`client_id`, `sub`, `scope` among them).
    pub claims: Claims<'s>,
}

/// Verifies a compact JWS access token of `issuer` at `now` with the issuer's `keys`.
/// `scratch` holds the decoded header and claims; as long as the token is always enough.
///
/// # Errors
/// [`Error::TokenTooLong`], [`Error::TokenMalformed`], [`Error::DuplicateField`],
/// [`Error::MissingAlgorithm`], [`Error::AlgorithmNone`], [`Error::EmbeddedKey`],
/// [`Error::CritUnsupported`], [`Error::SymmetricAlgorithm`], [`Error::AlgorithmNotAllowed`],
/// [`Error::TokenTypeMismatch`], [`Error::UnknownKid`], [`Error::KeyTypeMismatch`],
/// [`Error::MissingKid`], [`Error::SignatureMismatch`], [`Error::MissingClaim`],
/// [`Error::TokenExpired`], [`Error::TokenNotYetValid`], [`Error::IssuerMismatch`],
/// [`Error::AudienceMismatch`]; [`Error::BufferTooSmall`] when `scratch` is shorter than the
/// token.
pub fn verify<'s, const N: usize>(
    keys: &JwkSet<N>,
    issuer: &Issuer<'_>,
    token: &[u8],
    now: UnixNanos,
    scratch: &'s mut [u8],
) -> Result<Verified<'s>, Error> {
    let (h64, c64, s64) = crate::jwt::split_compact(token, issuer.max_len, scratch.len())?;
    let (hbuf, cbuf) = scratch.split_at_mut(h64.len());
    let header: Header<'_> = parse(base64url_decode(h64, hbuf)?)?;
    let alg = check_header(&header, issuer)?;
    let key = keys.find(header.kid, alg)?;

    let mut sig = [0u8; SIGNATURE_MAX];
    let sig = base64url_decode(s64, &mut sig).map_err(|_| Error::TokenMalformed)?;
    let signed = token.get(..h64.len().saturating_add(1).saturating_add(c64.len())).ok_or(Error::TokenMalformed)?;
    key.verify(alg, signed, sig)?;

    let claims = parse_claims(base64url_decode(c64, cbuf)?)?;
    check_claims(&claims, issuer, now)?;
    Ok(Verified { alg, claims })
}

fn check_header(h: &Header<'_>, issuer: &Issuer<'_>) -> Result<Alg, Error> {
    if h.duplicate || h.algs > 1 {
        return Err(Error::DuplicateField);
    }
    let name = h.alg.ok_or(Error::MissingAlgorithm)?;
    if name.eq_ignore_ascii_case("none") {
        return Err(Error::AlgorithmNone);
    }
    if h.embedded_key {
        return Err(Error::EmbeddedKey);
    }
    if h.crit {
        return Err(Error::CritUnsupported);
    }
    if name.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("HS")) {
        return Err(Error::SymmetricAlgorithm);
    }
    let alg = Alg::from_name(name).ok_or(Error::AlgorithmNotAllowed)?;
    if !issuer.algorithms.contains(alg) {
        return Err(Error::AlgorithmNotAllowed);
    }
    // Media types compare case-insensitively (RFC 7515 §4.1.9, RFC 9068 §2.1).
    let typ_is = |names: &[&str]| h.typ.is_some_and(|t| names.iter().any(|n| t.eq_ignore_ascii_case(n)));
    let typ_ok = typ_is(&["at+jwt", "application/at+jwt"])
        || (!issuer.strict && (h.typ.is_none() || typ_is(&["JWT", "application/jwt"])));
    if !typ_ok {
        return Err(Error::TokenTypeMismatch);
    }
    Ok(alg)
}

fn check_claims(c: &Claims<'_>, issuer: &Issuer<'_>, now: UnixNanos) -> Result<(), Error> {
    let now = now / 1_000_000_000;
    // As jwt.rs (PyJWT): expired when exp <= now - leeway; immature when nbf or iat > now + leeway.
    let exp = c.exp.ok_or(Error::MissingClaim)?;
    if exp <= now.saturating_sub(issuer.leeway_s) {
        return Err(Error::TokenExpired);
    }
    let late = now.saturating_add(issuer.leeway_s);
    if c.nbf.is_some_and(|t| t > late) || c.iat.is_some_and(|t| t > late) {
        return Err(Error::TokenNotYetValid);
    }
    if c.iss.ok_or(Error::MissingClaim)? != issuer.issuer {
        return Err(Error::IssuerMismatch);
    }
    if c.aud.is_empty() {
        return Err(Error::MissingClaim);
    }
    if !c.aud.contains(&issuer.audience) {
        return Err(Error::AudienceMismatch);
    }
    if issuer.strict && (c.sub.is_none() || c.client_id.is_none() || c.iat.is_none() || c.jti.is_none()) {
        return Err(Error::MissingClaim);
    }
    Ok(())
}
