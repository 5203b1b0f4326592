//! OpenID providers' access tokens (RS256/PS256 with the `rsa` feature, host builds; ES256,
//! EdDSA) verified against the issuer's JWK set: in one call and without a heap
//! (`apisig_jws_verify`: the document is parsed, its points validated, on every call), or,
//! in host builds, against a set loaded once (`apisig_jwks_load`, `apisig_jwks_verify`,
//! `apisig_jwks_free`), which is what a server verifying many tokens wants.
//! Opaque tokens: the core's judgement of an RFC 7662 introspection answer.

use core::ffi::c_char;
#[cfg(feature = "std")]
extern crate std;

use apisig::Error;
use apisig::introspect;
use apisig::jwk::{Alg, AlgSet, JwkSet};
use apisig::jws::{self, Issuer};
use apisig::jwt::Claims;

use crate::convert::{in_bytes, in_ref, in_str, out_buf, out_ref};
use crate::result::apisig_result;
use crate::token::{APISIG_JWT_AUD_MAX, NONE, apisig_opt_str, apisig_opt_u64, opt_u64, some};

/// Most usable keys a JWK set may hold here.
pub const APISIG_JWKS_KEYS_MAX: usize = 16;

/// Longest JWK set document accepted (the core's `jwk::JWKS_MAX_LEN`).
pub const APISIG_JWKS_MAX: usize = 32768;
const _: () = assert!(APISIG_JWKS_MAX == apisig::jwk::JWKS_MAX_LEN);

/// Longest access token accepted by default (the core's `jws::ACCESS_TOKEN_MAX`).
pub const APISIG_ACCESS_TOKEN_MAX: usize = 8192;
const _: () = assert!(APISIG_ACCESS_TOKEN_MAX == jws::ACCESS_TOKEN_MAX);

/// `algorithms` bit: RS256 (host builds: the `rsa` feature).
pub const APISIG_JWS_RS256: u32 = 1 << 1;
/// `algorithms` bit: PS256 (host builds: the `rsa` feature).
pub const APISIG_JWS_PS256: u32 = 1 << 2;
/// `algorithms` bit: ES256.
pub const APISIG_JWS_ES256: u32 = 1 << 3;
/// `algorithms` bit: EdDSA (Ed25519; the token may name it `EdDSA` or `Ed25519`).
pub const APISIG_JWS_EDDSA: u32 = 1 << 4;

/// What an issuer's access tokens must satisfy.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_jws_issuer {
    /// The issuer identifier; `iss` must equal it exactly.
    pub issuer: *const c_char,
    /// Its length.
    pub issuer_len: usize,
    /// This resource server's audience; `aud` must contain it.
    pub audience: *const c_char,
    /// Its length.
    pub audience_len: usize,
    /// The algorithms the issuer signs with: `APISIG_JWS_*` bits.
    pub algorithms: u32,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
    /// Nonzero: require the RFC 9068 profile (`typ` `at+jwt`; `sub`, `client_id`, `iat`, `jti`).
    pub strict: u8,
    /// Longest token accepted (`APISIG_ACCESS_TOKEN_MAX` is the usual value).
    pub max_len: usize,
}

/// The claims of a verified access token. Strings point into the caller's scratch buffer and
/// are the raw JSON string text (escapes not decoded).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_access_token {
    /// The algorithm it was signed with (one `APISIG_JWS_*` bit).
    pub algorithm: u32,
    /// `iss`.
    pub iss: apisig_opt_str,
    /// `sub`.
    pub sub: apisig_opt_str,
    /// `client_id`.
    pub client_id: apisig_opt_str,
    /// `scope` (space-separated).
    pub scope: apisig_opt_str,
    /// `jti`.
    pub jti: apisig_opt_str,
    /// `aud` (`aud_len` entries).
    pub aud: [apisig_opt_str; APISIG_JWT_AUD_MAX],
    /// How many entries of `aud` are set.
    pub aud_len: usize,
    /// `exp`.
    pub exp: apisig_opt_u64,
    /// `nbf`.
    pub nbf: apisig_opt_u64,
    /// `iat`.
    pub iat: apisig_opt_u64,
    /// The whole claims set as JSON.
    pub json: *const u8,
    /// Length of `json`.
    pub json_len: usize,
}

/// Verifies an access token of `issuer` at `now_ns` against the issuer's JWK set document
/// `(jwks, jwks_len)` and fills `*claims`, whose strings point into `(scratch, scratch_cap)`
/// (at least the token's length). `*claims` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; for the set: `JWKS_MALFORMED`, `JWKS_TOO_LARGE`, `JWK_WEAK_KEY`; for the
/// token: `TOKEN_TOO_LONG`, `TOKEN_MALFORMED`, `DUPLICATE_FIELD`, `MISSING_ALGORITHM`,
/// `ALGORITHM_NONE`, `EMBEDDED_KEY`, `CRIT_UNSUPPORTED`, `SYMMETRIC_ALGORITHM`,
/// `ALGORITHM_NOT_ALLOWED`, `TOKEN_TYPE_MISMATCH`, `UNKNOWN_KID`, `KEY_TYPE_MISMATCH`,
/// `MISSING_KID`, `SIGNATURE_MISMATCH`, `MISSING_CLAIM`, `TOKEN_EXPIRED`,
/// `TOKEN_NOT_YET_VALID`, `ISSUER_MISMATCH`, `AUDIENCE_MISMATCH`; `BUFFER_TOO_SMALL` for a
/// short scratch buffer; `INVALID_HEADER_VALUE` for an issuer or audience that is not UTF-8.
///
/// # Safety
/// The `(ptr, len)` inputs (and the strings in `issuer`) must be readable; `scratch` must
/// point to `scratch_cap` writable bytes that outlive the use of `*claims`; `claims` to a
/// writable `apisig_access_token`.
#[must_use]
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)] // the C contract: (ptr, len) pairs, then outputs
pub unsafe extern "C" fn apisig_jws_verify(
    jwks: *const u8,
    jwks_len: usize,
    token: *const u8,
    token_len: usize,
    issuer: *const apisig_jws_issuer,
    now_ns: u64,
    scratch: *mut u8,
    scratch_cap: usize,
    claims: *mut apisig_access_token,
) -> apisig_result {
    ffi_boundary! {
        let mut scratch_len = 0usize;
        // SAFETY: the caller guarantees every pointer.
        let (jwks, token, iss, scratch, out) = unsafe {
            (
                in_bytes(jwks, jwks_len)?,
                in_bytes(token, token_len)?,
                in_ref(issuer)?,
                out_buf(scratch, scratch_cap, &raw mut scratch_len)?,
                out_ref(claims)?,
            )
        };
        // SAFETY: the caller guarantees the issuer's strings.
        let issuer = unsafe { core_issuer(iss)? };
        let set = JwkSet::<APISIG_JWKS_KEYS_MAX>::parse(jwks)?;
        let v = jws::verify(&set, &issuer, token, now_ns, scratch.buf)?;
        *out = access_token(alg_bit(v.alg), &v.claims);
        Ok(())
    }
}

/// The core's view of `iss`.
///
/// # Safety
/// The strings of `iss` must be readable for `'a`.
unsafe fn core_issuer<'a>(iss: &apisig_jws_issuer) -> Result<Issuer<'a>, apisig_result> {
    // SAFETY: forwarded contract.
    let (name, audience) = unsafe {
        (
            in_str(iss.issuer, iss.issuer_len, Error::InvalidHeaderValue)?,
            in_str(iss.audience, iss.audience_len, Error::InvalidHeaderValue)?,
        )
    };
    let mut algorithms = AlgSet::EMPTY;
    for alg in [Alg::Rs256, Alg::Ps256, Alg::Es256, Alg::EdDsa] {
        if iss.algorithms & alg_bit(alg) != 0 {
            algorithms = algorithms.with(alg);
        }
    }
    Ok(Issuer {
        issuer: name,
        audience,
        algorithms,
        leeway_s: iss.leeway_s,
        strict: iss.strict != 0,
        max_len: iss.max_len,
    })
}

/// The `APISIG_JWS_*` bits of the algorithms this build verifies: ES256 and EdDSA unless a
/// firmware build left them out, RS256 and PS256 in host builds (the core's `rsa` feature,
/// which needs a heap). A bit asked for in `apisig_jws_issuer.algorithms` but missing here
/// makes every token of that algorithm fail (`KEY_TYPE_MISMATCH` or `ALGORITHM_NOT_ALLOWED`).
#[unsafe(no_mangle)]
pub extern "C" fn apisig_jws_algorithms() -> u32 {
    let mut bits = 0;
    if cfg!(feature = "rsa") {
        bits |= APISIG_JWS_RS256 | APISIG_JWS_PS256;
    }
    if cfg!(feature = "es256") {
        bits |= APISIG_JWS_ES256;
    }
    if cfg!(feature = "eddsa") {
        bits |= APISIG_JWS_EDDSA;
    }
    bits
}

/// An issuer's JWK set, parsed (and its keys validated) once by `apisig_jwks_load`, then
/// used by `apisig_jwks_verify` for as many tokens as needed; opaque. Host builds only.
#[cfg(feature = "std")]
pub struct apisig_jwks {
    set: JwkSet<APISIG_JWKS_KEYS_MAX>,
}

/// Parses a JWK set document `(json, len)` (RSA 2048–4096 with RS256/PS256 in this build, EC
/// P-256, Ed25519; other keys skipped) into a new `*out`, to be freed with `apisig_jwks_free`.
/// Host builds only. `*out` is written only on `OK`.
///
/// # Errors
/// `NULL_PARAMETER`; `JWKS_MALFORMED`, `JWKS_TOO_LARGE`, `JWK_WEAK_KEY`.
///
/// # Safety
/// `(json, len)` must be readable; `out` must point to a writable pointer.
#[cfg(feature = "std")]
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwks_load(json: *const u8, len: usize, out: *mut *mut apisig_jwks) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees both pointers.
        let (json, out) = unsafe { (in_bytes(json, len)?, out_ref(out)?) };
        let set = JwkSet::<APISIG_JWKS_KEYS_MAX>::parse(json)?;
        *out = std::boxed::Box::into_raw(std::boxed::Box::new(apisig_jwks { set }));
        Ok(())
    }
}

/// How many usable keys `jwks` holds (0 for NULL).
///
/// # Safety
/// `jwks` must be NULL or come from `apisig_jwks_load`, not yet freed.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwks_len(jwks: *const apisig_jwks) -> usize {
    // SAFETY: the caller guarantees `jwks`.
    unsafe { jwks.as_ref() }.map_or(0, |j| j.set.len())
}

/// Frees a set from `apisig_jwks_load`. NULL is ignored.
///
/// # Safety
/// `jwks` must be NULL or come from `apisig_jwks_load`, not yet freed.
#[cfg(feature = "std")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwks_free(jwks: *mut apisig_jwks) {
    if jwks.is_null() {
        return;
    }
    ffi_value!((), {
        // SAFETY: the caller guarantees `jwks` came from apisig_jwks_load (Box::into_raw).
        drop(unsafe { std::boxed::Box::from_raw(jwks) });
    })
}

/// `apisig_jws_verify` against a set loaded once: verifies an access token of `issuer` at
/// `now_ns` and fills `*claims` (strings in `(scratch, scratch_cap)`, at least the token's
/// length). `*claims` is written only on `OK`. Safe to call from several threads at once on
/// one set (it is only read).
///
/// # Errors
/// `NULL_PARAMETER`; the token errors of `apisig_jws_verify`.
///
/// # Safety
/// `jwks` must come from `apisig_jwks_load`, not yet freed; the rest as `apisig_jws_verify`.
#[cfg(feature = "std")]
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_jwks_verify(
    jwks: *const apisig_jwks,
    token: *const u8,
    token_len: usize,
    issuer: *const apisig_jws_issuer,
    now_ns: u64,
    scratch: *mut u8,
    scratch_cap: usize,
    claims: *mut apisig_access_token,
) -> apisig_result {
    ffi_boundary! {
        let mut scratch_len = 0usize;
        // SAFETY: the caller guarantees every pointer.
        let (set, token, iss, scratch, out) = unsafe {
            (
                in_ref(jwks)?,
                in_bytes(token, token_len)?,
                in_ref(issuer)?,
                out_buf(scratch, scratch_cap, &raw mut scratch_len)?,
                out_ref(claims)?,
            )
        };
        // SAFETY: the caller guarantees the issuer's strings.
        let issuer = unsafe { core_issuer(iss)? };
        let v = jws::verify(&set.set, &issuer, token, now_ns, scratch.buf)?;
        *out = access_token(alg_bit(v.alg), &v.claims);
        Ok(())
    }
}

const fn alg_bit(alg: Alg) -> u32 {
    match alg {
        Alg::Hs256 => 1,
        Alg::Rs256 => APISIG_JWS_RS256,
        Alg::Ps256 => APISIG_JWS_PS256,
        Alg::Es256 => APISIG_JWS_ES256,
        Alg::EdDsa => APISIG_JWS_EDDSA,
    }
}

/// What an RFC 7662 introspection answer must say.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_introspection_expected {
    /// The issuer identifier; an `iss` in the answer must equal it exactly.
    pub issuer: *const c_char,
    /// Its length.
    pub issuer_len: usize,
    /// This resource server's audience, or `NULL`: when given, `aud` must contain it.
    pub audience: *const c_char,
    /// Its length.
    pub audience_len: usize,
    /// Seconds of clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway_s: u64,
}

/// Judges an introspection endpoint's answer `(body, body_len)` (RFC 7662 JSON, fetched by the
/// caller with its own HTTP client) at `now_ns`: on `OK` fills `*claims` (strings point into
/// `body`; `algorithm` is 0: nothing was signed) and `*cache_s`, how many seconds the answer
/// may be kept (`max_cache_s`, never past the token's `exp`). Nothing is written on error.
///
/// # Errors
/// `NULL_PARAMETER`; `INTROSPECTION_MALFORMED` (not an RFC 7662 answer), `DUPLICATE_FIELD`,
/// `TOKEN_INACTIVE`, `TOKEN_EXPIRED`, `TOKEN_NOT_YET_VALID`, `ISSUER_MISMATCH`,
/// `AUDIENCE_MISMATCH`; `INVALID_HEADER_VALUE` for an issuer or audience that is not UTF-8.
///
/// # Safety
/// `(body, body_len)` and the strings in `expected` must be readable, `body` for as long as
/// `*claims` is used; `claims` and `cache_s` must point to writable objects.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_introspection_check(
    body: *const u8,
    body_len: usize,
    expected: *const apisig_introspection_expected,
    now_ns: u64,
    max_cache_s: u64,
    claims: *mut apisig_access_token,
    cache_s: *mut u64,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees every pointer.
        let (body, e, out, cache_out) =
            unsafe { (in_bytes(body, body_len)?, in_ref(expected)?, out_ref(claims)?, out_ref(cache_s)?) };
        // SAFETY: the caller guarantees the strings.
        let issuer = unsafe { in_str(e.issuer, e.issuer_len, Error::InvalidHeaderValue)? };
        let audience = if e.audience.is_null() {
            None
        } else {
            // SAFETY: as above.
            Some(unsafe { in_str(e.audience, e.audience_len, Error::InvalidHeaderValue)? })
        };
        let expected = introspect::Expected { issuer, audience, leeway_s: e.leeway_s };
        let c = introspect::check(body, &expected, now_ns)?;
        *cache_out = introspect::cache_seconds(&c, now_ns, max_cache_s);
        *out = access_token(0, &c);
        Ok(())
    }
}

/// The C view of verified claims.
fn access_token(algorithm: u32, c: &Claims<'_>) -> apisig_access_token {
    let mut aud = [NONE; APISIG_JWT_AUD_MAX];
    for (slot, a) in aud.iter_mut().zip(c.aud.iter()) {
        *slot = some(a);
    }
    apisig_access_token {
        algorithm,
        iss: c.iss.map_or(NONE, some),
        sub: c.sub.map_or(NONE, some),
        client_id: c.client_id.map_or(NONE, some),
        scope: c.scope.map_or(NONE, some),
        jti: c.jti.map_or(NONE, some),
        aud,
        aud_len: c.aud.len(),
        exp: opt_u64(c.exp),
        nbf: opt_u64(c.nbf),
        iat: opt_u64(c.iat),
        json: c.json.as_ptr(),
        json_len: c.json.len(),
    }
}
