//! OCSP for mutual TLS: the core's decision on a client certificate's revocation status. The C
//! caller parses the response with its own library (OpenSSL: `d2i_OCSP_RESPONSE`,
//! `OCSP_resp_find_status`, `OCSP_basic_verify` with `OCSP_NOCHECKS`...), fills an
//! `apisig_ocsp_response` with what it found, and gets the same verdict as every other face.

use apisig::Error;
use apisig::ocsp::{CertStatus, Nonce, Policy, RESPONSE_MAX_LEN, Response, Signer, Verdict, cache_until, verdict};

use crate::convert::{Res, in_ref, out_ref};
use crate::result::apisig_result;

/// The largest OCSP response accepted, in bytes: refuse a longer one before parsing it (as
/// `failure = APISIG_RESULT_OCSP_RESPONSE_TOO_LARGE`).
pub const APISIG_OCSP_RESPONSE_MAX_BYTES: usize = 65536;
const _: () = assert!(APISIG_OCSP_RESPONSE_MAX_BYTES == RESPONSE_MAX_LEN);

/// Who signed the response (`apisig_ocsp_response.signer`).
#[repr(u8)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_ocsp_signer {
    /// Neither the issuer nor a certificate included in the response.
    Unrelated = 0,
    /// The issuer's key.
    Issuer = 1,
    /// A responder certificate included in the response (fill the `responder_*` fields).
    Delegated = 2,
}

/// What became of the nonce (`apisig_ocsp_response.nonce`).
#[repr(u8)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_ocsp_nonce {
    /// The request carried none.
    NotSent = 0,
    /// The response echoes it (OpenSSL: `OCSP_check_nonce` returned 1).
    Echoed = 1,
    /// The request carried one and the response has none (`OCSP_check_nonce` returned -1).
    Missing = 2,
    /// The response carries another (`OCSP_check_nonce` returned 0).
    Different = 3,
}

/// The certificate status (`apisig_ocsp_response.status`): OpenSSL's `V_OCSP_CERTSTATUS_*`
/// values.
#[repr(u8)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_ocsp_status {
    /// Not revoked.
    Good = 0,
    /// Revoked.
    Revoked = 1,
    /// Unknown to the responder.
    Unknown = 2,
}

/// What a successful basic OCSP response says, as the caller's parser found it. Flags are 0 or
/// 1; times are nanoseconds since the UNIX epoch.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_ocsp_response {
    /// An `apisig_ocsp_signer`.
    pub signer: u8,
    /// Delegated: the responder certificate names the issuer and the issuer's key verifies it.
    pub responder_issued_by_issuer: u8,
    /// Delegated: its extended key usage has `id-kp-OCSPSigning`.
    pub responder_ocsp_signing: u8,
    /// The signer's key verifies the response's signature with an accepted algorithm.
    pub signature_valid: u8,
    /// The single response's CertID names this certificate (serial and issuer hashes).
    pub cert_id_matches: u8,
    /// An `apisig_ocsp_nonce`.
    pub nonce: u8,
    /// An `apisig_ocsp_status`.
    pub status: u8,
    /// Whether `next_update` is present.
    pub has_next_update: u8,
    /// Delegated: the responder certificate's `notBefore`.
    pub responder_not_before: u64,
    /// Delegated: the responder certificate's `notAfter`.
    pub responder_not_after: u64,
    /// `thisUpdate`.
    pub this_update: u64,
    /// `nextUpdate`, when `has_next_update`.
    pub next_update: u64,
}

/// The server's choices.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct apisig_ocsp_policy {
    /// Clock skew tolerated on the response's times, in nanoseconds.
    pub skew_ns: u64,
    /// The longest an answer is reused (and the validity of one without `nextUpdate`), in
    /// nanoseconds.
    pub max_age_ns: u64,
    /// 1: let the request through, with a warning, when the status cannot be established.
    pub fail_soft: u8,
}

fn flag(v: u8) -> Res<bool> {
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::OcspMalformed.into()),
    }
}

fn facts(r: &apisig_ocsp_response) -> Res<Response> {
    let bad = || apisig_result::from(Error::OcspMalformed);
    let signer = match r.signer {
        0 => Signer::Unrelated,
        1 => Signer::Issuer,
        2 => Signer::Delegated {
            issued_by_issuer: flag(r.responder_issued_by_issuer)?,
            ocsp_signing: flag(r.responder_ocsp_signing)?,
            not_before: r.responder_not_before,
            not_after: r.responder_not_after,
        },
        _ => return Err(bad()),
    };
    let nonce = match r.nonce {
        0 => Nonce::NotSent,
        1 => Nonce::Echoed,
        2 => Nonce::Missing,
        3 => Nonce::Different,
        _ => return Err(bad()),
    };
    let status = match r.status {
        0 => CertStatus::Good,
        1 => CertStatus::Revoked,
        2 => CertStatus::Unknown,
        _ => return Err(bad()),
    };
    Ok(Response {
        signer,
        signature_valid: flag(r.signature_valid)?,
        cert_id_matches: flag(r.cert_id_matches)?,
        nonce,
        status,
        this_update: r.this_update,
        next_update: flag(r.has_next_update)?.then_some(r.next_update),
    })
}

/// The verdict on a client certificate at `now` (ns): from `response`, what its OCSP
/// response says, or, when `failure` is not 0, from the error that kept the caller from
/// reading one (`APISIG_RESULT_OCSP_UNAVAILABLE` for an unreachable responder,
/// `..._OCSP_MALFORMED`, `..._OCSP_RESPONDER_ERROR`, `..._OCSP_RESPONSE_TOO_LARGE`,
/// `..._OCSP_NO_RESPONDER`); `response` is then ignored and may be NULL.
///
/// `OK` when the request may proceed: `*warning` is 0 when the certificate is good, or the
/// code of the failure that fail-soft let through (log it).
///
/// # Errors
/// `NULL_PARAMETER`; the refusal (`CERTIFICATE_REVOKED`, `CERTIFICATE_STATUS_UNKNOWN`,
/// `OCSP_*`); `OCSP_MALFORMED` for a flag other than 0 or 1 or an enum value out of range,
/// never softened; `failure` itself when it is not an apisig code. `*warning` is written only
/// on `OK`.
///
/// # Safety
/// `response` (unless `failure` is not 0) and `policy` must point to initialized structs,
/// `warning` to a writable `uint32_t`.
#[must_use]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn apisig_ocsp_verdict(
    response: *const apisig_ocsp_response,
    failure: u32,
    now: u64,
    policy: *const apisig_ocsp_policy,
    warning: *mut u32,
) -> apisig_result {
    ffi_boundary! {
        // SAFETY: the caller guarantees the pointers.
        let (policy, warning) = unsafe { (in_ref(policy)?, out_ref(warning)?) };
        let policy = Policy { skew: policy.skew_ns, max_age: policy.max_age_ns, fail_soft: flag(policy.fail_soft)? };
        let read = if failure != 0 {
            Err(Error::from_code(failure).ok_or(apisig_result::from(Error::OcspMalformed))?)
        } else {
            // SAFETY: as above.
            Ok(facts(unsafe { in_ref(response)? })?)
        };
        let code = match verdict(read.as_ref().map_err(|e| *e), now, &policy)? {
            Verdict::Good => 0,
            Verdict::FailSoft(e) => e.code(),
        };
        *warning = code;
        Ok(())
    }
}

/// Until when (ns) an answer fetched at `now` may be reused: its `nextUpdate` (without one,
/// `this_update + max_age_ns`), at most `max_age_ns` after `now`. 0: do not cache it.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_ocsp_cache_until(
    this_update: u64,
    has_next_update: u8,
    next_update: u64,
    now: u64,
    max_age_ns: u64,
) -> u64 {
    ffi_value! { 0, cache_until(this_update, (has_next_update != 0).then_some(next_update), now, max_age_ns).unwrap_or(0) }
}
