//! Bearer JWTs (HS256) and apisig session tokens: issue on the client or server side, verify
//! standalone or through the verifier.

use core::ffi::c_char;

use apisig::jwt::{self, DEFAULT_HEADER, JwtPolicy, Validation};
use apisig::session::{self, Session, SessionKeys};
use apisig::{Error, MacKey};

use crate::convert::{Res, in_bytes, in_ref, in_str, out_buf, out_ref};
use crate::keyring::slot_code;
use crate::result::apisig_result;
use crate::verify::{apisig_verifier, verifier};

/// Longest JWT accepted (the core's `jwt::TOKEN_MAX`): the default `max_len`, and what the
/// verifier reads.
pub const APISIG_JWT_MAX: usize = 2048;
const _: () = assert!(APISIG_JWT_MAX == apisig::jwt::TOKEN_MAX);

/// Longest session token.
pub const APISIG_SESSION_TOKEN_MAX: usize = 256;
const _: () = assert!(APISIG_SESSION_TOKEN_MAX == session::TOKEN_MAX);

/// Longest user id or key id in a session token.
pub const APISIG_SESSION_FIELD_MAX: usize = 64;
const _: () = assert!(APISIG_SESSION_FIELD_MAX == session::FIELD_MAX);

/// Most audiences a JWT's `aud` may list.
pub const APISIG_JWT_AUD_MAX: usize = 8;
const _: () = assert!(APISIG_JWT_AUD_MAX == jwt::AUD_MAX);

/// Text `(ptr, len)` that may be absent (`present == 0`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_opt_str {
    /// Whether the value is there: nonzero means present.
    pub present: u8,
    /// The text (not NUL-terminated).
    pub ptr: *const c_char,
    /// Its length.
    pub len: usize,
}

/// Bytes `(ptr, len)` that may be absent (`present == 0`); present and empty is not the
/// same as absent.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_opt_bytes {
    /// Whether the value is there: nonzero means present.
    pub present: u8,
    /// The bytes.
    pub ptr: *const u8,
    /// Their length.
    pub len: usize,
}

/// # Safety
/// When present, `o` must satisfy `in_bytes`.
unsafe fn opt_bytes<'a>(o: &apisig_opt_bytes) -> Res<Option<&'a [u8]>> {
    if o.present == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { in_bytes(o.ptr, o.len) }.map(Some)
}

/// What JWT verification requires besides a good signature.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_jwt_validation {
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
    /// Refuse tokens without `exp` (nonzero: refuse).
    pub require_exp: u8,
    /// Required issuer: the token's `iss` (compared with the raw JSON string text).
    pub issuer: apisig_opt_str,
    /// Required audience: the token's `aud` is it, or a list holding it.
    pub audience: apisig_opt_str,
    /// Required subject: the token's `sub`.
    pub subject: apisig_opt_str,
    /// Longest token accepted.
    pub max_len: usize,
}

/// A number claim that may be absent.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_opt_u64 {
    /// Whether the claim is there: 1 when present, 0 when absent.
    pub present: u8,
    /// Its value, seconds since the UNIX epoch.
    pub value: u64,
}

/// The registered claims of a verified JWT. Strings point into the caller's scratch buffer
/// and are the raw JSON string text (escapes not decoded).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_jwt_claims {
    /// `iss`.
    pub iss: apisig_opt_str,
    /// `sub`.
    pub sub: apisig_opt_str,
    /// `aud`, one string or a list (`aud_len` entries).
    pub aud: [apisig_opt_str; APISIG_JWT_AUD_MAX],
    /// How many entries of `aud` are set.
    pub aud_len: usize,
    /// `exp`.
    pub exp: apisig_opt_u64,
    /// `nbf`.
    pub nbf: apisig_opt_u64,
    /// `iat`.
    pub iat: apisig_opt_u64,
    /// The whole claims set as JSON, for claims apisig does not interpret.
    pub json: *const u8,
    /// Length of `json`.
    pub json_len: usize,
}

/// A verified session token. Self-contained (no pointers).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_session {
    /// The authenticated user id (`user_id_len` bytes, not NUL-terminated).
    pub user_id: [u8; APISIG_SESSION_FIELD_MAX],
    /// Length of `user_id`.
    pub user_id_len: usize,
    /// The API key id the session was opened with.
    pub key_id: [u8; APISIG_SESSION_FIELD_MAX],
    /// Length of `key_id`.
    pub key_id_len: usize,
    /// The first moment the token is no longer valid, UNIX seconds.
    pub expires: u64,
    /// Which secret made it (an `apisig_slot`).
    pub slot: u32,
}

pub(crate) const NONE: apisig_opt_str = apisig_opt_str { present: 0, ptr: core::ptr::null(), len: 0 };

pub(crate) fn some(s: &str) -> apisig_opt_str {
    apisig_opt_str { present: 1, ptr: s.as_ptr().cast(), len: s.len() }
}

/// # Safety
/// When present, `o` must satisfy `in_bytes`.
unsafe fn opt<'a>(o: &apisig_opt_str) -> Res<Option<&'a str>> {
    if o.present == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { in_str(o.ptr, o.len, Error::ClaimMismatch) }.map(Some)
}

pub(crate) fn opt_u64(v: Option<u64>) -> apisig_opt_u64 {
    apisig_opt_u64 { present: v.is_some().into(), value: v.unwrap_or(0) }
}

/// Writes a compact HS256 JWT, `base64url(header).base64url(claims).base64url(HMAC)`, into
/// `(out, out_cap)`. `(header, header_len)` is the header JSON (`(NULL, 0)`: the default
/// `{"alg":"HS256","typ":"JWT"}`); `claims` is the claims set as JSON, written as given.
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET`; the header errors of verification; `TOKEN_MALFORMED` or
/// `DUPLICATE_FIELD` for claims that are not a JSON object of the expected shape;
/// `BUFFER_TOO_SMALL` with `*out_len` set to the length needed.
///
/// # Safety
/// The `(ptr, len)` inputs must be readable; `out` must point to `out_cap` writable bytes (or
/// be NULL with `out_cap == 0`), `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwt_encode(
    key: *const u8,
    key_len: usize,
    header: *const u8,
    header_len: usize,
    claims: *const u8,
    claims_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (key, header, claims, out) = unsafe {
            (in_bytes(key, key_len)?, in_bytes(header, header_len)?, in_bytes(claims, claims_len)?, out_buf(out, out_cap, out_len)?)
        };
        let header = if header.is_empty() { DEFAULT_HEADER } else { header };
        let key = MacKey::new(key)?;
        match jwt::encode(&key, header, claims, out.buf) {
            Ok(token) => {
                *out.len = token.len();
                Ok(())
            }
            Err(Error::BufferTooSmall) => {
                *out.len = jwt::encoded_len(header.len(), claims.len());
                Err(apisig_result::from(Error::BufferTooSmall))
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// Verifies a compact HS256 JWT at `now_ns` under `validation` and fills `*claims`, whose
/// strings point into `(scratch, scratch_cap)` (at least the token's length). `*claims` is
/// written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET`; `TOKEN_TOO_LONG`, `TOKEN_MALFORMED`,
/// `MISSING_ALGORITHM`, `DUPLICATE_FIELD`, `ALGORITHM_NONE`, `ALGORITHM_NOT_ALLOWED`,
/// `EMBEDDED_KEY`, `SIGNATURE_MISMATCH`, `MISSING_CLAIM`, `TOKEN_EXPIRED`,
/// `TOKEN_NOT_YET_VALID`, `CLAIM_MISMATCH`; `BUFFER_TOO_SMALL` for a short scratch buffer.
///
/// # Safety
/// The `(ptr, len)` inputs (and the strings in `validation`) must be readable; `scratch` must
/// point to `scratch_cap` writable bytes that outlive the use of `*claims`; `claims` to a
/// writable `apisig_jwt_claims`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwt_verify(
    key: *const u8,
    key_len: usize,
    token: *const u8,
    token_len: usize,
    validation: *const apisig_jwt_validation,
    now_ns: u64,
    scratch: *mut u8,
    scratch_cap: usize,
    claims: *mut apisig_jwt_claims,
) -> apisig_result {
    ffi_boundary! {
        let mut scratch_len = 0usize;
        // SAFETY: the caller guarantees every pointer.
        let (key, token, val, scratch, out) = unsafe {
            (
                in_bytes(key, key_len)?,
                in_bytes(token, token_len)?,
                in_ref(validation)?,
                out_buf(scratch, scratch_cap, &raw mut scratch_len)?,
                out_ref(claims)?,
            )
        };
        // SAFETY: the caller guarantees the validation's strings.
        let v = unsafe {
            Validation { leeway_s: val.leeway_s, require_exp: val.require_exp != 0, issuer: opt(&val.issuer)?, audience: opt(&val.audience)?, subject: opt(&val.subject)?, max_len: val.max_len }
        };
        let key = MacKey::new(key)?;
        let c = jwt::verify(&key, token, &v, now_ns, scratch.buf)?;
        let mut aud = [NONE; APISIG_JWT_AUD_MAX];
        for (slot, a) in aud.iter_mut().zip(c.aud.iter()) {
            *slot = some(a);
        }
        *out = apisig_jwt_claims {
            iss: c.iss.map_or(NONE, some),
            sub: c.sub.map_or(NONE, some),
            aud,
            aud_len: c.aud.len(),
            exp: opt_u64(c.exp),
            nbf: opt_u64(c.nbf),
            iat: opt_u64(c.iat),
            json: c.json.as_ptr(),
            json_len: c.json.len(),
        };
        Ok(())
    }
}

/// Makes the verifier accept bearer JWTs (HS256 with `secret`): the principal is the client
/// whose key id is the token's `sub` (or, for `"zignsec-oauth"`, the static key sent beside
/// it). `exp` is required when `require_exp` is nonzero; `(issuer)` and `(audience)` are
/// required when present. Without this call, JWT schemes give `UNSUPPORTED_CREDENTIAL`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `EMPTY_SECRET`; `FIELD_TOO_LONG` for an issuer or
/// audience past 64 bytes; `INVALID_HEADER_VALUE` for one that is not UTF-8.
///
/// # Safety
/// `v` must point to written storage (a verifier; see `apisig_verifier_init`); the
/// `(ptr, len)` inputs must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_set_jwt(
    v: *mut apisig_verifier,
    secret: *const u8,
    secret_len: usize,
    leeway_s: u64,
    require_exp: u8,
    issuer: apisig_opt_str,
    audience: apisig_opt_str,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (v, secret, iss, aud) = unsafe {
            (verifier(v)?, in_bytes(secret, secret_len)?, opt_text(&issuer)?, opt_text(&audience)?)
        };
        let mut policy = JwtPolicy::new(secret)?;
        policy.leeway_s = leeway_s;
        policy.require_exp = require_exp != 0;
        policy.issuer = iss.map(heapless::String::try_from).transpose().map_err(|_| Error::FieldTooLong)?;
        policy.audience = aud.map(heapless::String::try_from).transpose().map_err(|_| Error::FieldTooLong)?;
        v.set_jwt(Some(policy));
        Ok(())
    }
}

/// # Safety
/// As `opt`.
unsafe fn opt_text<'a>(o: &apisig_opt_str) -> Res<Option<&'a str>> {
    if o.present == 0 {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { in_str(o.ptr, o.len, Error::InvalidHeaderValue) }.map(Some)
}

/// Makes the verifier accept session tokens (APEX `aptoken`) made with `primary` or, during a
/// rotation, `secondary` (when present). Without this call, session schemes give
/// `UNSUPPORTED_CREDENTIAL`.
///
/// # Errors
/// `NULL_PARAMETER`; `INVALID_OBJECT`; `EMPTY_SECRET` for an empty primary.
///
/// # Safety
/// `v` must point to written storage (a verifier; see `apisig_verifier_init`); the
/// `(ptr, len)` inputs must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_verifier_set_session_keys(
    v: *mut apisig_verifier,
    primary: *const u8,
    primary_len: usize,
    secondary: apisig_opt_bytes,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (v, primary, secondary) = unsafe { (verifier(v)?, in_bytes(primary, primary_len)?, opt_bytes(&secondary)?) };
        let keys = session_keys(primary, secondary)?;
        v.set_session_keys(Some(keys));
        Ok(())
    }
}

fn session_keys(primary: &[u8], secondary: Option<&[u8]>) -> Res<SessionKeys> {
    let keys = SessionKeys::new(primary)?;
    Ok(match secondary {
        Some(s) => keys.with_secondary(s)?,
        None => keys,
    })
}

/// Issues a session token with `secret` for `user_id` and `key_id`, valid until `expires`
/// (UNIX seconds), into `(out, out_cap)` (`APISIG_SESSION_TOKEN_MAX` always fits).
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET`; `INVALID_HEADER_VALUE` for an empty or non-printable id;
/// `FIELD_TOO_LONG` past `APISIG_SESSION_FIELD_MAX`; `BUFFER_TOO_SMALL` with `*out_len` set
/// to the length needed.
///
/// # Safety
/// The `(ptr, len)` inputs must be readable; `out` must point to `out_cap` writable bytes (or
/// be NULL with `out_cap == 0`), `out_len` to a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_session_issue(
    secret: *const u8,
    secret_len: usize,
    user_id: *const c_char,
    user_id_len: usize,
    key_id: *const c_char,
    key_id_len: usize,
    expires: u64,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (secret, user_id, key_id, out) = unsafe {
            (
                in_bytes(secret, secret_len)?,
                in_str(user_id, user_id_len, Error::InvalidHeaderValue)?,
                in_str(key_id, key_id_len, Error::InvalidHeaderValue)?,
                out_buf(out, out_cap, out_len)?,
            )
        };
        let keys = SessionKeys::new(secret)?;
        let mut token = [0u8; APISIG_SESSION_TOKEN_MAX];
        out.put(keys.issue(&Session { user_id, key_id, expires }, &mut token)?)
    }
}

/// Checks a session token at `now_ns` against `primary` and (when present) `secondary`;
/// `*out` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `EMPTY_SECRET` for an empty primary or an empty (present) secondary; `TOKEN_TOO_LONG`, `TOKEN_MALFORMED`,
/// `SIGNATURE_MISMATCH`, `TOKEN_EXPIRED`.
///
/// # Safety
/// The `(ptr, len)` inputs must be readable; `out` must point to a writable `apisig_session`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_session_verify(
    primary: *const u8,
    primary_len: usize,
    secondary: apisig_opt_bytes,
    token: *const u8,
    token_len: usize,
    now_ns: u64,
    out: *mut apisig_session,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (primary, secondary, token, out) = unsafe {
            (in_bytes(primary, primary_len)?, opt_bytes(&secondary)?, in_bytes(token, token_len)?, out_ref(out)?)
        };
        let keys = session_keys(primary, secondary)?;
        let mut scratch = [0u8; APISIG_SESSION_TOKEN_MAX];
        let (s, slot) = keys.verify(token, now_ns, &mut scratch)?;
        let mut result = apisig_session {
            user_id: [0; APISIG_SESSION_FIELD_MAX],
            user_id_len: s.user_id.len(),
            key_id: [0; APISIG_SESSION_FIELD_MAX],
            key_id_len: s.key_id.len(),
            expires: s.expires,
            slot: slot_code(slot),
        };
        result.user_id.get_mut(..s.user_id.len()).ok_or(Error::FieldTooLong)?.copy_from_slice(s.user_id.as_bytes());
        result.key_id.get_mut(..s.key_id.len()).ok_or(Error::FieldTooLong)?.copy_from_slice(s.key_id.as_bytes());
        *out = result;
        Ok(())
    }
}

/// A short-lived access token's lifetime as the client saw it (ZignSec's OAuth2 tokens live
/// 20 minutes). Times in nanoseconds since the UNIX epoch; the rules are the core's
/// `TokenLifetime`, so firmware refreshes exactly when the Python client does.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_token_lifetime {
    /// When the token was received.
    pub issued_at: u64,
    /// Its lifetime in seconds (`expires_in`).
    pub lifetime_s: u64,
    /// How long before expiry to refresh; capped at half the lifetime.
    pub skew_s: u64,
}

fn lifetime(t: apisig_token_lifetime) -> apisig::TokenLifetime {
    apisig::TokenLifetime { issued_at: t.issued_at, lifetime_s: t.lifetime_s, skew_s: t.skew_s }
}

/// When the token expires (saturating).
#[unsafe(no_mangle)]
pub extern "C" fn apisig_token_expires_at(t: apisig_token_lifetime) -> u64 {
    lifetime(t).expires_at()
}

/// When the client should fetch a new token.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_token_refresh_at(t: apisig_token_lifetime) -> u64 {
    lifetime(t).refresh_at()
}

/// Whether to fetch a new token before a request sent at `now`.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_token_needs_refresh(t: apisig_token_lifetime, now: u64) -> bool {
    lifetime(t).needs_refresh(now)
}
