//! OCSP for mutual TLS: the decision on a client certificate's revocation status, made once
//! here for every face.
//!
//! Parsing X.509 and OCSP (DER, signatures) stays in each face, with its platform's library
//! (`cryptography` in Python, OpenSSL in C). A face reads a response into [`Response`], the
//! facts the decision needs, and this module decides: which statuses pass, the times, the nonce,
//! who may sign. A face that could not get facts at all (responder unreachable, response not
//! DER, too large) passes the matching error instead. [`verdict`] then applies the server's
//! fail-soft choice, and [`cache_until`] says how long the answer may be reused.
//!
//! The rules (RFC 6960, with OpenSSL's `OCSP_check_validity` reading of the times):
//! - the response is signed by the certificate's issuer, or by a delegated responder
//!   certificate that the same issuer signed, that carries `id-kp-OCSPSigning` and that is
//!   valid now; and that signature verifies;
//! - it is about this certificate (the CertID's serial and issuer hashes match);
//! - the nonce, when one was sent, is echoed unchanged;
//! - `thisUpdate <= now + skew`, and `now - skew <= nextUpdate` (without `nextUpdate`,
//!   `now - skew <= thisUpdate + max_age`);
//! - then `good` passes, `revoked` is [`Error::CertificateRevoked`] and `unknown`
//!   [`Error::CertificateStatusUnknown`].
//!
//! Fail closed by default: every failure refuses the certificate. With fail-soft, every failure
//! except a verified `revoked` lets the request through as [`Verdict::FailSoft`], which the
//! face logs as a warning.

use crate::Error;
use crate::time::{TimeUnit, UnixNanos};

/// The largest response a face accepts, in bytes (a responder's answer is a few KiB; a bigger
/// one is refused as [`Error::OcspResponseTooLarge`] before it is parsed).
pub const RESPONSE_MAX_LEN: usize = 64 * 1024;

/// The certificate status a response gives.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum CertStatus {
    /// Not revoked.
    Good,
    /// Revoked (at any time before the response, for any reason).
    Revoked,
    /// The responder does not know the certificate.
    Unknown,
}

/// What became of the nonce.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Nonce {
    /// The request carried no nonce.
    NotSent,
    /// The response echoes the request's nonce.
    Echoed,
    /// The request carried a nonce and the response has none.
    Missing,
    /// The response carries another nonce.
    Different,
}

/// Who signed the response, as the face's parser found it.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Signer {
    /// The key of the certificate's issuer.
    Issuer,
    /// A responder certificate included in the response, signing with its own key.
    Delegated {
        /// The responder certificate names the issuer as its issuer and the issuer's key
        /// verifies its signature.
        issued_by_issuer: bool,
        /// Its extended key usage has `id-kp-OCSPSigning`.
        ocsp_signing: bool,
        /// Its `notBefore`.
        not_before: UnixNanos,
        /// Its `notAfter`.
        not_after: UnixNanos,
    },
    /// Neither: no key the parser could find (another CA's responder, no certificate).
    Unrelated,
}

/// The facts a face's parser read from a successful (`responseStatus` 0) basic OCSP response.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Response {
    /// Who signed it.
    pub signer: Signer,
    /// The signer's key verifies the signature over `tbsResponseData`, with an algorithm the
    /// face accepts.
    pub signature_valid: bool,
    /// The single response's CertID names this certificate (serial and issuer hashes).
    pub cert_id_matches: bool,
    /// The nonce.
    pub nonce: Nonce,
    /// The certificate status.
    pub status: CertStatus,
    /// `thisUpdate`.
    pub this_update: UnixNanos,
    /// `nextUpdate`, if present.
    pub next_update: Option<UnixNanos>,
}

/// The server's choices.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub struct Policy {
    /// Clock skew tolerated on the response's times, in nanoseconds.
    pub skew: u64,
    /// The longest an answer is reused (and the validity of a response without
    /// `nextUpdate`), in nanoseconds.
    pub max_age: u64,
    /// Let the request through (with a warning) when the status cannot be established.
    pub fail_soft: bool,
}

impl Policy {
    /// The default: five minutes of skew, answers reused for at most an hour, fail closed.
    pub const DEFAULT: Policy = Policy::from_secs(300, 3600, false);

    /// A policy with the times in seconds.
    pub const fn from_secs(skew: u64, max_age: u64, fail_soft: bool) -> Policy {
        Policy { skew: TimeUnit::Seconds.to_nanos(skew), max_age: TimeUnit::Seconds.to_nanos(max_age), fail_soft }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::DEFAULT
    }
}

/// The outcome when the request may proceed.
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum Verdict {
    /// The certificate is good.
    Good,
    /// The status could not be established and the server chose fail-soft: log this error as
    /// a warning and proceed.
    FailSoft(Error),
}

/// Checks a response's facts at `now` under the fail-closed rules (no fail-soft).
///
/// # Errors
/// In the order checked: [`Error::OcspUnauthorizedResponder`],
/// [`Error::OcspSignatureInvalid`], [`Error::OcspCertIdMismatch`],
/// [`Error::OcspNonceMismatch`], [`Error::OcspResponseNotYetValid`],
/// [`Error::OcspResponseStale`], [`Error::CertificateRevoked`],
/// [`Error::CertificateStatusUnknown`].
///
/// ```
/// use apisig::ocsp::{CertStatus, Nonce, Policy, Response, Signer, check};
/// let s = 1_000_000_000;
/// let r = Response { signer: Signer::Issuer, signature_valid: true, cert_id_matches: true,
///     nonce: Nonce::Echoed, status: CertStatus::Good, this_update: 100 * s, next_update: Some(200 * s) };
/// check(&r, 150 * s, &Policy::DEFAULT)?;
/// # Ok::<(), apisig::Error>(())
/// ```
pub fn check(response: &Response, now: UnixNanos, policy: &Policy) -> Result<(), Error> {
    match response.signer {
        Signer::Issuer => {}
        Signer::Delegated { issued_by_issuer, ocsp_signing, not_before, not_after } => {
            let current = not_before <= now.saturating_add(policy.skew) && now.saturating_sub(policy.skew) <= not_after;
            if !(issued_by_issuer && ocsp_signing && current) {
                return Err(Error::OcspUnauthorizedResponder);
            }
        }
        Signer::Unrelated => return Err(Error::OcspUnauthorizedResponder),
    }
    if !response.signature_valid {
        return Err(Error::OcspSignatureInvalid);
    }
    if !response.cert_id_matches {
        return Err(Error::OcspCertIdMismatch);
    }
    if matches!(response.nonce, Nonce::Missing | Nonce::Different) {
        return Err(Error::OcspNonceMismatch);
    }
    if response.this_update > now.saturating_add(policy.skew) {
        return Err(Error::OcspResponseNotYetValid);
    }
    let valid_until = response.next_update.unwrap_or(response.this_update.saturating_add(policy.max_age));
    if now.saturating_sub(policy.skew) > valid_until {
        return Err(Error::OcspResponseStale);
    }
    match response.status {
        CertStatus::Good => Ok(()),
        CertStatus::Revoked => Err(Error::CertificateRevoked),
        CertStatus::Unknown => Err(Error::CertificateStatusUnknown),
    }
}

/// The verdict on a certificate: `facts` is a face's reading of the response, or the error
/// that kept it from reading one ([`Error::OcspUnavailable`], [`Error::OcspResponderError`],
/// [`Error::OcspMalformed`], [`Error::OcspResponseTooLarge`], [`Error::OcspNoResponder`]).
///
/// # Errors
/// Fail closed: the error of [`check`] or the one passed in. With `policy.fail_soft`, only
/// [`Error::CertificateRevoked`] (and errors that are not about OCSP, passed in by mistake).
///
/// ```
/// use apisig::{Error, ocsp::{Policy, Verdict, verdict}};
/// let soft = Policy::from_secs(300, 3600, true);
/// assert_eq!(verdict(Err(Error::OcspUnavailable), 0, &soft), Ok(Verdict::FailSoft(Error::OcspUnavailable)));
/// assert_eq!(verdict(Err(Error::OcspUnavailable), 0, &Policy::DEFAULT), Err(Error::OcspUnavailable));
/// # Ok::<(), apisig::Error>(())
/// ```
pub fn verdict(facts: Result<&Response, Error>, now: UnixNanos, policy: &Policy) -> Result<Verdict, Error> {
    match facts.and_then(|r| check(r, now, policy)) {
        Ok(()) => Ok(Verdict::Good),
        Err(e) if policy.fail_soft && softenable(e) => Ok(Verdict::FailSoft(e)),
        Err(e) => Err(e),
    }
}

/// Whether fail-soft may let a request through despite `e`: every OCSP failure except a
/// verified revocation.
const fn softenable(e: Error) -> bool {
    matches!(
        e,
        Error::CertificateStatusUnknown
            | Error::OcspUnavailable
            | Error::OcspResponderError
            | Error::OcspMalformed
            | Error::OcspResponseTooLarge
            | Error::OcspCertIdMismatch
            | Error::OcspNonceMismatch
            | Error::OcspUnauthorizedResponder
            | Error::OcspSignatureInvalid
            | Error::OcspResponseStale
            | Error::OcspResponseNotYetValid
            | Error::OcspNoResponder
    )
}

/// Checks a response's length before it is parsed.
///
/// # Errors
/// [`Error::OcspResponseTooLarge`] above [`RESPONSE_MAX_LEN`].
pub const fn check_len(len: usize) -> Result<(), Error> {
    if len > RESPONSE_MAX_LEN { Err(Error::OcspResponseTooLarge) } else { Ok(()) }
}

/// Until when a checked response (its verdict, good or refused) may be reused: its
/// `nextUpdate` (without one, `thisUpdate + max_age`), and never more than `max_age` after
/// `now`, the moment it was fetched. `None`: do not cache it (already past).
///
/// ```
/// let s = 1_000_000_000;
/// assert_eq!(apisig::ocsp::cache_until(100 * s, Some(10_000 * s), 150 * s, 3600 * s), Some(3750 * s));
/// assert_eq!(apisig::ocsp::cache_until(100 * s, Some(200 * s), 150 * s, 3600 * s), Some(200 * s));
/// ```
pub const fn cache_until(
    this_update: UnixNanos,
    next_update: Option<UnixNanos>,
    now: UnixNanos,
    max_age: u64,
) -> Option<UnixNanos> {
    let valid_until = match next_update {
        Some(t) => t,
        None => this_update.saturating_add(max_age),
    };
    let bound = now.saturating_add(max_age);
    let until = if valid_until < bound { valid_until } else { bound };
    if until > now { Some(until) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = 1_000_000_000;

    fn good() -> Response {
        Response {
            signer: Signer::Issuer,
            signature_valid: true,
            cert_id_matches: true,
            nonce: Nonce::Echoed,
            status: CertStatus::Good,
            this_update: 1000 * S,
            next_update: Some(2000 * S),
        }
    }

    fn delegated(issued_by_issuer: bool, ocsp_signing: bool, not_after: u64) -> Signer {
        Signer::Delegated { issued_by_issuer, ocsp_signing, not_before: 0, not_after }
    }

    #[test]
    fn each_rule_has_its_error() {
        let p = Policy::from_secs(10, 3600, false);
        let now = 1500 * S;
        assert_eq!(check(&good(), now, &p), Ok(()));
        assert_eq!(check(&Response { nonce: Nonce::NotSent, ..good() }, now, &p), Ok(()));
        assert_eq!(check(&Response { signer: delegated(true, true, 3000 * S), ..good() }, now, &p), Ok(()));
        let cases = [
            (Response { signer: Signer::Unrelated, ..good() }, Error::OcspUnauthorizedResponder),
            (Response { signer: delegated(false, true, 3000 * S), ..good() }, Error::OcspUnauthorizedResponder),
            (Response { signer: delegated(true, false, 3000 * S), ..good() }, Error::OcspUnauthorizedResponder),
            (Response { signer: delegated(true, true, 1000 * S), ..good() }, Error::OcspUnauthorizedResponder),
            (Response { signature_valid: false, ..good() }, Error::OcspSignatureInvalid),
            (Response { cert_id_matches: false, ..good() }, Error::OcspCertIdMismatch),
            (Response { nonce: Nonce::Missing, ..good() }, Error::OcspNonceMismatch),
            (Response { nonce: Nonce::Different, ..good() }, Error::OcspNonceMismatch),
            (Response { this_update: 1511 * S, next_update: None, ..good() }, Error::OcspResponseNotYetValid),
            (Response { next_update: Some(1489 * S), ..good() }, Error::OcspResponseStale),
            (Response { status: CertStatus::Revoked, ..good() }, Error::CertificateRevoked),
            (Response { status: CertStatus::Unknown, ..good() }, Error::CertificateStatusUnknown),
            // A bad signature outranks what the unauthenticated content says.
            (Response { signature_valid: false, status: CertStatus::Revoked, ..good() }, Error::OcspSignatureInvalid),
        ];
        for (r, e) in cases {
            assert_eq!(check(&r, now, &p), Err(e), "{r:?}");
        }
    }

    #[test]
    fn times_are_inclusive_with_skew_and_saturate() {
        let p = Policy::from_secs(10, 60, false);
        let r = Response { this_update: 1010 * S, next_update: Some(1990 * S), ..good() };
        assert_eq!(check(&r, 1000 * S, &p), Ok(()));
        assert_eq!(check(&r, 2000 * S, &p), Ok(()));
        assert_eq!(check(&r, 2000 * S + 1, &p), Err(Error::OcspResponseStale));
        // No nextUpdate: valid for max_age after thisUpdate.
        let r = Response { next_update: None, ..good() };
        assert_eq!(check(&r, 1070 * S, &p), Ok(()));
        assert_eq!(check(&r, 1070 * S + 1, &p), Err(Error::OcspResponseStale));
        let r = Response { this_update: u64::MAX, next_update: Some(u64::MAX), ..good() };
        assert_eq!(check(&r, 0, &p), Err(Error::OcspResponseNotYetValid));
        assert_eq!(check(&r, u64::MAX, &p), Ok(()));
    }

    #[test]
    fn fail_soft_never_softens_a_revocation() {
        let soft = Policy::from_secs(10, 3600, true);
        let hard = Policy { fail_soft: false, ..soft };
        let now = 1500 * S;
        let revoked = Response { status: CertStatus::Revoked, ..good() };
        assert_eq!(verdict(Ok(&revoked), now, &soft), Err(Error::CertificateRevoked));
        assert_eq!(verdict(Ok(&good()), now, &soft), Ok(Verdict::Good));
        let unknown = Response { status: CertStatus::Unknown, ..good() };
        assert_eq!(verdict(Ok(&unknown), now, &soft), Ok(Verdict::FailSoft(Error::CertificateStatusUnknown)));
        assert_eq!(verdict(Ok(&unknown), now, &hard), Err(Error::CertificateStatusUnknown));
        // A forged "revoked" is a bad signature, softened like any.
        let forged = Response { signature_valid: false, ..revoked };
        assert_eq!(verdict(Ok(&forged), now, &soft), Ok(Verdict::FailSoft(Error::OcspSignatureInvalid)));
        for e in [Error::OcspUnavailable, Error::OcspMalformed, Error::OcspResponseTooLarge, Error::OcspNoResponder] {
            assert_eq!(verdict(Err(e), now, &soft), Ok(Verdict::FailSoft(e)));
            assert_eq!(verdict(Err(e), now, &hard), Err(e));
        }
        // Not an OCSP failure: never softened.
        assert_eq!(verdict(Err(Error::InvalidCertificate), now, &soft), Err(Error::InvalidCertificate));
    }

    #[test]
    fn cache_is_bounded_by_next_update_and_max_age() {
        assert_eq!(cache_until(100, Some(500), 200, 1000), Some(500));
        assert_eq!(cache_until(100, Some(5000), 200, 1000), Some(1200));
        assert_eq!(cache_until(100, None, 200, 1000), Some(1100));
        assert_eq!(cache_until(100, Some(200), 200, 1000), None);
        assert_eq!(cache_until(100, Some(500), 200, 0), None);
        assert_eq!(cache_until(u64::MAX, None, u64::MAX - 1, u64::MAX), Some(u64::MAX));
        assert_eq!(check_len(RESPONSE_MAX_LEN), Ok(()));
        assert_eq!(check_len(RESPONSE_MAX_LEN + 1), Err(Error::OcspResponseTooLarge));
    }
}
