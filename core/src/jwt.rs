//! Compact JWTs signed with HMAC-SHA256 (HS256), in fixed buffers.
//!
//! Verification pins the algorithm to HS256 and refuses, each with its own error: `none` in
//! any letter case, any other algorithm, a missing or repeated `alg`, keys embedded in or
//! referenced by the header (`jwk`, `jku`, `x5u`, `x5c`), `crit`, repeated members,
//! non-canonical base64url, oversized tokens and empty secrets. The header and claims are
//! parsed by `serde-json-core`, a real JSON parser. `exp` is required unless turned off;
//! `exp`, `nbf` and `iat` are checked with a leeway exactly as PyJWT does; `iss`, `aud` and
//! `sub` can be required to equal given values. String claims are compared as they appear in
//! the JSON text (escape sequences are not decoded), so an issuer who escapes plain ASCII is
//! refused, never confused; member names with escapes are refused as malformed, so no name
//! can alias `alg` or `jwk` for a parser that decodes them.
//!
//! ```
//! use apisig::{jwt, MacKey};
//! let key = MacKey::new(b"a secret of at least 32 bytes!!!")?;
//! let mut token = [0u8; 256];
//! let token = jwt::encode(&key, jwt::DEFAULT_HEADER, br#"{"sub":"client-7","exp":1900000000}"#, &mut token)?;
//! let mut scratch = [0u8; 256];
//! let v = jwt::Validation { subject: Some("client-7"), ..jwt::Validation::DEFAULT };
//! let claims = jwt::verify(&key, token, &v, 1_800_000_000_000_000_000, &mut scratch)?;
//! assert_eq!(claims.exp, Some(1900000000));
//! # Ok::<(), apisig::Error>(())
//! ```

use core::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::encoding::{base64url_decode, base64url_encode, base64url_len};
use crate::mac::{ct_eq, finish};
use crate::message::Sink;
use crate::{Error, MacKey, TAG_LEN, UnixNanos};

/// The header apisig writes: `{"alg":"HS256","typ":"JWT"}` (PyJWT's, byte for byte).
pub const DEFAULT_HEADER: &[u8] = br#"{"alg":"HS256","typ":"JWT"}"#;

/// Longest JWT accepted: the default of [`Validation::max_len`], and the size of the scratch
/// space the [`Verifier`](crate::Verifier) reads bearer and session tokens into (on the
/// stack). The C ABI (`APISIG_JWT_MAX`) and Python (`JWT_MAX_LEN`) export this value.
pub const TOKEN_MAX: usize = 2048;
const _: () = assert!(crate::session::TOKEN_MAX <= TOKEN_MAX, "the verifier's scratch holds session tokens too");

/// Most audiences a token may list.
pub const AUD_MAX: usize = 8;

/// Most distinct members a header or claims set may have.
const MEMBERS_MAX: usize = 32;

/// What verification requires besides a good signature.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Validation<'a> {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
    /// Refuse tokens without `exp` (default: yes).
    pub require_exp: bool,
    /// Required issuer (the token's `iss`).
    pub issuer: Option<&'a str>,
    /// Required audience (the token's `aud` must be it, or a list holding it).
    pub audience: Option<&'a str>,
    /// Required subject (the token's `sub`).
    pub subject: Option<&'a str>,
    /// Longest token accepted.
    pub max_len: usize,
}

impl Validation<'_> {
    /// `exp` required, no leeway, no expectations, [`TOKEN_MAX`].
    pub const DEFAULT: Validation<'static> =
        Validation { leeway_s: 0, require_exp: true, issuer: None, audience: None, subject: None, max_len: TOKEN_MAX };
}

impl Default for Validation<'_> {
    fn default() -> Self {
        Validation::DEFAULT
    }
}

/// The registered claims of a verified token, borrowed from the caller's scratch buffer. The
/// fields carry the claims' own names from RFC 7519, as written in the token; what
/// verification requires of them is spelt out in words ([`Validation::issuer`], …).
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Claims<'a> {
    /// `iss`, as written in the JSON.
    pub iss: Option<&'a str>,
    /// `sub`, as written in the JSON.
    pub sub: Option<&'a str>,
    /// `aud`: one string or a list.
    pub aud: heapless::Vec<&'a str, AUD_MAX>,
    /// `exp`, seconds since the UNIX epoch.
    pub exp: Option<u64>,
    /// `nbf`, seconds since the UNIX epoch.
    pub nbf: Option<u64>,
    /// `iat`, seconds since the UNIX epoch.
    pub iat: Option<u64>,
    /// `client_id` (RFC 9068: the OAuth client the access token was issued to).
    pub client_id: Option<&'a str>,
    /// `scope`: space-separated scopes, as written in the JSON.
    pub scope: Option<&'a str>,
    /// `jti`, as written in the JSON.
    pub jti: Option<&'a str>,
    /// The whole claims set as JSON, for claims apisig does not interpret.
    pub json: &'a [u8],
}

/// Writes a compact JWT: `base64url(header).base64url(claims).base64url(HMAC)`. `header` is
/// usually [`DEFAULT_HEADER`]; a custom one must still say HS256 and embed no key. `claims` is
/// the claims set as JSON, written as given.
///
/// # Errors
/// [`Error::BufferTooSmall`] (nothing written); the header errors of [`verify`];
/// [`Error::TokenMalformed`] or [`Error::DuplicateField`] for claims that are not a JSON
/// object of the expected shape.
pub fn encode<'o>(key: &MacKey, header: &[u8], claims: &[u8], out: &'o mut [u8]) -> Result<&'o [u8], Error> {
    check_header(parse::<Header<'_>>(header)?)?;
    parse_claims(claims)?;
    let (h, c) = (base64url_len(header.len()), base64url_len(claims.len()));
    let signed_len = h.saturating_add(1).saturating_add(c);
    let total = encoded_len(header.len(), claims.len());
    let dst = out.get_mut(..total).ok_or(Error::BufferTooSmall)?;
    let (head, rest) = dst.split_at_mut(h);
    base64url_encode(header, head)?;
    let (dot, rest) = rest.split_first_mut().ok_or(Error::BufferTooSmall)?;
    *dot = b'.';
    let (body, _) = rest.split_at_mut(c);
    base64url_encode(claims, body)?;
    let mut mac = key.start();
    mac.put(dst.get(..signed_len).unwrap_or_default());
    let tag = finish(&mut mac);
    let rest = dst.get_mut(signed_len..).ok_or(Error::BufferTooSmall)?;
    let (dot, sig) = rest.split_first_mut().ok_or(Error::BufferTooSmall)?;
    *dot = b'.';
    base64url_encode(tag.as_bytes(), sig)?;
    Ok(dst)
}

/// Length of the token [`encode`] writes for a header and claims of these lengths.
pub const fn encoded_len(header_len: usize, claims_len: usize) -> usize {
    base64url_len(header_len)
        .saturating_add(1)
        .saturating_add(base64url_len(claims_len))
        .saturating_add(1)
        .saturating_add(base64url_len(TAG_LEN))
}

/// Verifies a compact HS256 JWT at `now` and returns its claims. `scratch` holds the decoded
/// header and claims; as long as the token is always enough.
///
/// # Errors
/// [`Error::TokenTooLong`], [`Error::TokenMalformed`], [`Error::MissingAlgorithm`],
/// [`Error::DuplicateField`], [`Error::AlgorithmNone`], [`Error::AlgorithmNotAllowed`],
/// [`Error::EmbeddedKey`], [`Error::SignatureMismatch`], [`Error::MissingClaim`],
/// [`Error::TokenExpired`], [`Error::TokenNotYetValid`], [`Error::ClaimMismatch`],
/// [`Error::BufferTooSmall`] when `scratch` is shorter than the token.
pub fn verify<'s>(
    key: &MacKey,
    token: &[u8],
    v: &Validation<'_>,
    now: UnixNanos,
    scratch: &'s mut [u8],
) -> Result<Claims<'s>, Error> {
    let (h64, c64, s64) = split_compact(token, v.max_len, scratch.len())?;
    let (hbuf, cbuf) = scratch.split_at_mut(h64.len());
    check_header(parse::<Header<'_>>(base64url_decode(h64, hbuf)?)?)?;

    let mut tag = [0u8; TAG_LEN];
    if s64.len() != base64url_len(TAG_LEN) || base64url_decode(s64, &mut tag)?.len() != TAG_LEN {
        return Err(Error::TokenMalformed);
    }
    let signed = token.get(..h64.len().saturating_add(1).saturating_add(c64.len())).unwrap_or_default();
    let mut mac = key.start();
    mac.put(signed);
    if !bool::from(ct_eq(finish(&mut mac).as_bytes(), &tag)) {
        return Err(Error::SignatureMismatch);
    }

    let claims = parse_claims(base64url_decode(c64, cbuf)?)?;
    check_claims(&claims, v, now)?;
    Ok(claims)
}

fn check_header(h: Header<'_>) -> Result<(), Error> {
    if h.duplicate || h.algs > 1 {
        return Err(Error::DuplicateField);
    }
    let alg = h.alg.ok_or(Error::MissingAlgorithm)?;
    if alg.eq_ignore_ascii_case("none") {
        return Err(Error::AlgorithmNone);
    }
    if alg != "HS256" {
        return Err(Error::AlgorithmNotAllowed);
    }
    if h.embedded_key {
        return Err(Error::EmbeddedKey);
    }
    if h.crit {
        return Err(Error::TokenMalformed);
    }
    Ok(())
}

fn check_claims(c: &Claims<'_>, v: &Validation<'_>, now: UnixNanos) -> Result<(), Error> {
    let now = now / 1_000_000_000;
    // PyJWT: expired when exp <= now - leeway; immature when nbf or iat > now + leeway.
    match c.exp {
        Some(exp) if exp <= now.saturating_sub(v.leeway_s) => return Err(Error::TokenExpired),
        None if v.require_exp => return Err(Error::MissingClaim),
        _ => {}
    }
    let late = now.saturating_add(v.leeway_s);
    if c.nbf.is_some_and(|t| t > late) || c.iat.is_some_and(|t| t > late) {
        return Err(Error::TokenNotYetValid);
    }
    let expect = |want: Option<&str>, got: Option<&str>| match want {
        Some(w) if got != Some(w) => Err(if got.is_none() { Error::MissingClaim } else { Error::ClaimMismatch }),
        _ => Ok(()),
    };
    expect(v.issuer, c.iss)?;
    expect(v.subject, c.sub)?;
    if let Some(aud) = v.audience {
        if c.aud.is_empty() {
            return Err(Error::MissingClaim);
        }
        if !c.aud.contains(&aud) {
            return Err(Error::ClaimMismatch);
        }
    }
    Ok(())
}

pub(crate) fn parse<'a, T: Deserialize<'a>>(json: &'a [u8]) -> Result<T, Error> {
    match serde_json_core::from_slice::<T>(json) {
        Ok((value, used)) if used == json.len() => Ok(value),
        _ => Err(Error::TokenMalformed),
    }
}

pub(crate) fn parse_claims(json: &[u8]) -> Result<Claims<'_>, Error> {
    let raw: RawClaims<'_, false> = parse(json)?;
    if raw.duplicate {
        return Err(Error::DuplicateField);
    }
    Ok(Claims { json, ..raw.claims })
}

/// An RFC 7662 introspection answer: its claims and `active` (`None` when absent). The
/// grammar is checked strictly first (body.rs's reader: serde-json-core skips the scalars of
/// members it ignores without checking them).
pub(crate) fn parse_introspection(json: &[u8]) -> Result<(Claims<'_>, Option<bool>), Error> {
    if !crate::body::is_object(json) {
        return Err(Error::IntrospectionMalformed);
    }
    let raw: RawClaims<'_, true> = parse(json).map_err(|_| Error::IntrospectionMalformed)?;
    if raw.duplicate {
        return Err(Error::DuplicateField);
    }
    Ok((Claims { json, ..raw.claims }, raw.active))
}

/// Tracks member names to find repeats.
#[derive(Default)]
struct Members<'a> {
    seen: heapless::Vec<&'a str, MEMBERS_MAX>,
    duplicate: bool,
}

impl<'a> Members<'a> {
    fn see<E: de::Error>(&mut self, key: &'a str) -> Result<(), E> {
        // Names are compared as written; an escaped name (`"\u0061lg"`) could alias `alg`
        // or `jwk` for another parser, so it is refused outright.
        if key.contains('\\') {
            return Err(E::custom("escaped member name"));
        }
        if self.seen.contains(&key) {
            self.duplicate = true;
        }
        self.seen.push(key).map_err(|_| E::custom("too many members"))
    }
}

/// The JOSE header members verification looks at.
#[derive(Default)]
pub(crate) struct Header<'a> {
    pub(crate) alg: Option<&'a str>,
    pub(crate) algs: u8,
    pub(crate) kid: Option<&'a str>,
    pub(crate) typ: Option<&'a str>,
    pub(crate) embedded_key: bool,
    pub(crate) crit: bool,
    pub(crate) duplicate: bool,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Header<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JOSE header object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
                let mut h = Header::default();
                let mut members = Members::default();
                while let Some(key) = map.next_key::<&'de str>()? {
                    members.see(key)?;
                    match key {
                        "alg" => {
                            h.algs = h.algs.saturating_add(1);
                            h.alg = Some(map.next_value::<&'de str>()?);
                        }
                        "kid" => h.kid = Some(map.next_value::<&'de str>()?),
                        "typ" => h.typ = Some(map.next_value::<&'de str>()?),
                        "jwk" | "jku" | "x5u" | "x5c" => {
                            h.embedded_key = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        "crit" => {
                            h.crit = true;
                            map.next_value::<IgnoredAny>()?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                h.duplicate = members.duplicate;
                Ok(h)
            }
        }
        d.deserialize_map(V)
    }
}

/// A claims set; with `ACTIVE` also RFC 7662's `active`, which must then be a boolean.
struct RawClaims<'a, const ACTIVE: bool> {
    claims: Claims<'a>,
    active: Option<bool>,
    duplicate: bool,
}

/// `aud`: a string or an array of strings.
struct Audience<'a>(heapless::Vec<&'a str, AUD_MAX>);

impl<'de> Deserialize<'de> for Audience<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Audience<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Audience<'de>, E> {
                let mut v = heapless::Vec::new();
                v.push(s).map_err(|_| E::custom("aud"))?;
                Ok(Audience(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Audience<'de>, A::Error> {
                let mut v = heapless::Vec::new();
                while let Some(s) = seq.next_element::<&'de str>()? {
                    v.push(s).map_err(|_| <A::Error as de::Error>::custom("too many audiences"))?;
                }
                Ok(Audience(v))
            }
        }
        // serde-json-core has no deserialize_any; its ignored_any peeks at the value and
        // calls visit_borrowed_str or visit_seq, which is exactly the choice needed here.
        d.deserialize_ignored_any(V)
    }
}

/// A claim reported when it is a string and ignored otherwise (HS256 tokens of other profiles
/// may carry, say, `scope` as an array).
struct Text<'a>(Option<&'a str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Some(s)))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Text<'de>, E> {
                Ok(Text(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Text<'de>, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text<'de>, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text(None))
            }
        }
        // As for `aud`: serde-json-core's ignored_any picks the visitor method by the value.
        d.deserialize_ignored_any(V)
    }
}

impl<'de, const ACTIVE: bool> Deserialize<'de> for RawClaims<'de, ACTIVE> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const ACTIVE: bool>;
        impl<'de, const ACTIVE: bool> Visitor<'de> for V<ACTIVE> {
            type Value = RawClaims<'de, ACTIVE>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JWT claims object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawClaims<'de, ACTIVE>, A::Error> {
                let mut c = Claims::default();
                let mut active = None;
                let mut members = Members::default();
                while let Some(key) = map.next_key::<&'de str>()? {
                    members.see(key)?;
                    match key {
                        "iss" => c.iss = Some(map.next_value()?),
                        "sub" => c.sub = Some(map.next_value()?),
                        "aud" => c.aud = map.next_value::<Audience<'de>>()?.0,
                        "exp" => c.exp = Some(map.next_value()?),
                        "nbf" => c.nbf = Some(map.next_value()?),
                        "iat" => c.iat = Some(map.next_value()?),
                        "client_id" => c.client_id = map.next_value::<Text<'de>>()?.0,
                        "scope" => c.scope = map.next_value::<Text<'de>>()?.0,
                        "jti" => c.jti = map.next_value::<Text<'de>>()?.0,
                        "active" if ACTIVE => active = Some(map.next_value::<bool>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(RawClaims { claims: c, active, duplicate: members.duplicate })
            }
        }
        d.deserialize_map(V::<ACTIVE>)
    }
}

/// A compact JWS's header, claims and signature, still base64url.
pub(crate) type CompactParts<'t> = (&'t [u8], &'t [u8], &'t [u8]);

/// The three base64url parts of a compact JWS (`header.claims.signature`), after the checks
/// every token gets before any decoding: at most `max_len` bytes, exactly three parts, and a
/// scratch space of `scratch_len` bytes that can hold the decoded header and claims.
pub(crate) fn split_compact(token: &[u8], max_len: usize, scratch_len: usize) -> Result<CompactParts<'_>, Error> {
    if token.len() > max_len {
        return Err(Error::TokenTooLong);
    }
    let mut parts = token.split(|&b| b == b'.');
    let (Some(h64), Some(c64), Some(s64), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Error::TokenMalformed);
    };
    if scratch_len < token.len() {
        return Err(Error::BufferTooSmall);
    }
    Ok((h64, c64, s64))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7515 Appendix A.1: the HS256 example, byte for byte.
    #[test]
    fn rfc7515_appendix_a1() {
        let k64 = b"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";
        let mut key = [0u8; 64];
        let key = base64url_decode(k64, &mut key).unwrap_or_default();
        let key = MacKey::new(key).unwrap_or_else(|_| unreachable!());
        let header = b"{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
        let claims = b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";
        let want = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9\
                    .eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ\
                    .dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let mut out = [0u8; 256];
        assert_eq!(encode(&key, header, claims, &mut out).map(|t| t.to_vec()), Ok(want.as_bytes().to_vec()));
        let mut scratch = [0u8; 256];
        let v = Validation { issuer: Some("joe"), ..Validation::DEFAULT };
        let c = verify(&key, want.as_bytes(), &v, 1_300_819_379_000_000_000, &mut scratch);
        assert_eq!(c.as_ref().map(|c| (c.iss, c.exp)), Ok((Some("joe"), Some(1_300_819_380))));
        let mut scratch2 = [0u8; 256];
        let late = verify(&key, want.as_bytes(), &v, 1_300_819_380_000_000_000, &mut scratch2);
        assert_eq!(late, Err(Error::TokenExpired));
    }
}

/// How a [`Verifier`](crate::Verifier) checks bearer JWTs: the HS256 secret and what the
/// claims must say. The principal is the registered client named by `sub` (for schemes that
/// send only the token) or by the static key sent beside it (ZignSec OAuth2).
#[derive(Clone, Debug)]
pub struct JwtPolicy {
    key: MacKey,
    /// Seconds of clock skew tolerated.
    pub leeway_s: u64,
    /// Refuse tokens without `exp`.
    pub require_exp: bool,
    /// Required issuer (the token's `iss`).
    pub issuer: Option<heapless::String<64>>,
    /// Required audience (the token's `aud` must be it, or a list holding it).
    pub audience: Option<heapless::String<64>>,
}

impl JwtPolicy {
    /// A policy with the HS256 `secret`, `exp` required, no leeway, no issuer or audience.
    ///
    /// # Errors
    /// [`Error::EmptySecret`].
    pub fn new(secret: &[u8]) -> Result<JwtPolicy, Error> {
        Ok(JwtPolicy { key: MacKey::new(secret)?, leeway_s: 0, require_exp: true, issuer: None, audience: None })
    }

    /// The validation this policy asks for, for tokens up to `max_len` bytes.
    pub fn validation(&self, max_len: usize) -> Validation<'_> {
        Validation {
            leeway_s: self.leeway_s,
            require_exp: self.require_exp,
            issuer: self.issuer.as_deref(),
            audience: self.audience.as_deref(),
            subject: None,
            max_len,
        }
    }

    /// Verifies `token` under this policy (see [`verify`]).
    ///
    /// # Errors
    /// As [`verify`].
    pub fn verify<'s>(&self, token: &[u8], now: UnixNanos, scratch: &'s mut [u8]) -> Result<Claims<'s>, Error> {
        verify(&self.key, token, &self.validation(scratch.len()), now, scratch)
    }
}
