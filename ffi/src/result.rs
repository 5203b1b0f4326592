//! Result codes: the core's stable error codes, plus the three that belong to the C ABI.

use core::ffi::{CStr, c_char};

use apisig::Error;

/// What a call did. The numbers are stable: never renumbered or reused, and equal to the
/// core's `Error::code()` (so the Python face and the test vectors agree with C). A retired
/// code leaves a gap with a comment.
///
/// Functions return this type; functions that take a code (`apisig_strerror`) take a
/// `uint32_t`, so an out-of-range value from C is never undefined behaviour.
#[repr(u32)]
#[derive(Copy, Clone, Debug, Eq, PartialEq)]
pub enum apisig_result {
    /// Success; outputs were written.
    Ok = 0,
    /// A required pointer argument was NULL (or a `(NULL, n > 0)` input).
    NullParameter = 1,
    /// The output buffer is too small; `*out_len` holds the size needed, nothing else was
    /// written.
    BufferTooSmall = 2,
    /// A credential header (or body field) the scheme requires is absent.
    MissingCredential = 10,
    /// A credential header appears more than once.
    DuplicateHeader = 11,
    /// A header value holds a byte HTTP does not allow there, or text is not valid UTF-8.
    InvalidHeaderValue = 12,
    /// A field is longer than the fixed capacity reserved for it.
    FieldTooLong = 13,
    /// The method is not an HTTP token.
    InvalidMethod = 14,
    /// A signed field holds the template's separator.
    SeparatorInField = 15,
    /// The path is not printable ASCII starting with `/`.
    InvalidPath = 16,
    /// No registered client matches the presented key or key id.
    UnknownKey = 20,
    /// The presented secret is not the registered one.
    SecretMismatch = 21,
    /// The signature does not match the request.
    SignatureMismatch = 22,
    /// The signature is not valid text in the scheme's encoding.
    InvalidSignatureEncoding = 23,
    /// The user id is not the one bound to the key.
    UserIdMismatch = 24,
    /// The verifier is not configured for this kind of credential.
    UnsupportedCredential = 25,
    /// The timestamp is not 1 to 20 decimal digits fitting in 64 bits.
    InvalidTimestamp = 30,
    /// The timestamp is outside the accepted window around `now`.
    TimestampOutsideWindow = 31,
    /// The nonce is missing or not 1 to 20 decimal digits fitting in 64 bits.
    InvalidNonce = 32,
    /// The request (its nonce or its signature) was already accepted.
    ReplayedRequest = 33,
    /// The replay cache has no free slot (fails closed).
    ReplayCacheFull = 34,
    /// A shared replay store could not be reached (fails closed).
    ReplayStoreUnavailable = 35,
    /// The path is not in canonical form; it is refused, never normalised.
    NonCanonicalPath = 40,
    /// The client's role is not allowed on this path.
    Forbidden = 41,
    /// A role pattern is not valid.
    InvalidPattern = 42,
    /// The keyring has no room for another client.
    KeyringFull = 50,
    /// A client with this key id (or secret) is already registered.
    DuplicateKeyId = 51,
    /// A secret or key is empty.
    EmptySecret = 52,
    /// A scheme or message template is not valid (or an enum value from C is out of range).
    InvalidTemplate = 53,
    /// A token is not well formed (parts, base64url, JSON shape, `crit`).
    TokenMalformed = 60,
    /// A token is longer than the accepted maximum.
    TokenTooLong = 61,
    /// A JWT names the `none` algorithm.
    AlgorithmNone = 62,
    /// A JWT names an algorithm other than HS256.
    AlgorithmNotAllowed = 63,
    /// A JWT header has no `alg`.
    MissingAlgorithm = 64,
    /// A JWT header or claims set names the same member twice.
    DuplicateField = 65,
    /// A JWT header embeds or points to a key (`jwk`, `jku`, `x5u`, `x5c`).
    EmbeddedKey = 66,
    /// The token has expired.
    TokenExpired = 67,
    /// The token is not valid yet.
    TokenNotYetValid = 68,
    /// A required claim is absent.
    MissingClaim = 69,
    /// `iss`, `aud` or `sub` is not the expected value.
    ClaimMismatch = 70,
    /// The peer certificate is not DER the core understands.
    InvalidCertificate = 80,
    /// The peer certificate is not pinned to any registered client.
    UnpinnedCertificate = 81,
    /// The OCSP responder says the client certificate is revoked. Never softened by fail-soft.
    CertificateRevoked = 100,
    /// The OCSP responder does not know the client certificate (`unknown`).
    CertificateStatusUnknown = 101,
    /// The OCSP responder could not be reached, timed out or answered other than HTTP 200.
    OcspUnavailable = 102,
    /// The OCSP responder answered with a `responseStatus` other than `successful`.
    OcspResponderError = 103,
    /// The OCSP response is not a well-formed basic response for one certificate.
    OcspMalformed = 104,
    /// The OCSP response is longer than the accepted maximum.
    OcspResponseTooLarge = 105,
    /// The OCSP response is about another certificate (serial or issuer hashes differ).
    OcspCertIdMismatch = 106,
    /// A nonce was sent and the OCSP response does not echo it unchanged.
    OcspNonceMismatch = 107,
    /// The OCSP response is signed neither by the certificate's issuer nor by a current
    /// delegated responder that the issuer certified for `id-kp-OCSPSigning`.
    OcspUnauthorizedResponder = 108,
    /// The OCSP response's signature does not verify with its signer's key, or uses an
    /// algorithm that is not accepted.
    OcspSignatureInvalid = 109,
    /// The OCSP response is out of date (`nextUpdate`, or `thisUpdate` plus the maximum age,
    /// is in the past beyond the tolerated skew).
    OcspResponseStale = 110,
    /// The OCSP response's `thisUpdate` is in the future beyond the tolerated skew.
    OcspResponseNotYetValid = 111,
    /// No OCSP responder is configured and the certificate names none (Authority
    /// Information Access).
    OcspNoResponder = 112,
    /// A panic was caught at the boundary: a bug in apisig. Outputs were not written.
    Panic = 99,
}

impl From<Error> for apisig_result {
    fn from(e: Error) -> Self {
        match e {
            Error::BufferTooSmall => apisig_result::BufferTooSmall,
            Error::MissingCredential => apisig_result::MissingCredential,
            Error::DuplicateHeader => apisig_result::DuplicateHeader,
            Error::InvalidHeaderValue => apisig_result::InvalidHeaderValue,
            Error::FieldTooLong => apisig_result::FieldTooLong,
            Error::InvalidMethod => apisig_result::InvalidMethod,
            Error::SeparatorInField => apisig_result::SeparatorInField,
            Error::InvalidPath => apisig_result::InvalidPath,
            Error::UnknownKey => apisig_result::UnknownKey,
            Error::SecretMismatch => apisig_result::SecretMismatch,
            Error::SignatureMismatch => apisig_result::SignatureMismatch,
            Error::InvalidSignatureEncoding => apisig_result::InvalidSignatureEncoding,
            Error::UserIdMismatch => apisig_result::UserIdMismatch,
            Error::UnsupportedCredential => apisig_result::UnsupportedCredential,
            Error::InvalidTimestamp => apisig_result::InvalidTimestamp,
            Error::TimestampOutsideWindow => apisig_result::TimestampOutsideWindow,
            Error::InvalidNonce => apisig_result::InvalidNonce,
            Error::ReplayedRequest => apisig_result::ReplayedRequest,
            Error::ReplayCacheFull => apisig_result::ReplayCacheFull,
            Error::ReplayStoreUnavailable => apisig_result::ReplayStoreUnavailable,
            Error::NonCanonicalPath => apisig_result::NonCanonicalPath,
            Error::Forbidden => apisig_result::Forbidden,
            Error::InvalidPattern => apisig_result::InvalidPattern,
            Error::KeyringFull => apisig_result::KeyringFull,
            Error::DuplicateKeyId => apisig_result::DuplicateKeyId,
            Error::EmptySecret => apisig_result::EmptySecret,
            Error::InvalidTemplate => apisig_result::InvalidTemplate,
            Error::TokenMalformed => apisig_result::TokenMalformed,
            Error::TokenTooLong => apisig_result::TokenTooLong,
            Error::AlgorithmNone => apisig_result::AlgorithmNone,
            Error::AlgorithmNotAllowed => apisig_result::AlgorithmNotAllowed,
            Error::MissingAlgorithm => apisig_result::MissingAlgorithm,
            Error::DuplicateField => apisig_result::DuplicateField,
            Error::EmbeddedKey => apisig_result::EmbeddedKey,
            Error::TokenExpired => apisig_result::TokenExpired,
            Error::TokenNotYetValid => apisig_result::TokenNotYetValid,
            Error::MissingClaim => apisig_result::MissingClaim,
            Error::ClaimMismatch => apisig_result::ClaimMismatch,
            Error::InvalidCertificate => apisig_result::InvalidCertificate,
            Error::UnpinnedCertificate => apisig_result::UnpinnedCertificate,
            Error::CertificateRevoked => apisig_result::CertificateRevoked,
            Error::CertificateStatusUnknown => apisig_result::CertificateStatusUnknown,
            Error::OcspUnavailable => apisig_result::OcspUnavailable,
            Error::OcspResponderError => apisig_result::OcspResponderError,
            Error::OcspMalformed => apisig_result::OcspMalformed,
            Error::OcspResponseTooLarge => apisig_result::OcspResponseTooLarge,
            Error::OcspCertIdMismatch => apisig_result::OcspCertIdMismatch,
            Error::OcspNonceMismatch => apisig_result::OcspNonceMismatch,
            Error::OcspUnauthorizedResponder => apisig_result::OcspUnauthorizedResponder,
            Error::OcspSignatureInvalid => apisig_result::OcspSignatureInvalid,
            Error::OcspResponseStale => apisig_result::OcspResponseStale,
            Error::OcspResponseNotYetValid => apisig_result::OcspResponseNotYetValid,
            Error::OcspNoResponder => apisig_result::OcspNoResponder,
            // Unreachable while the test `every_core_error_has_its_code` passes: a new core
            // variant must get a variant here, with the same number, before release.
            _ => apisig_result::Panic,
        }
    }
}

/// Room for one NUL-terminated message or name.
const TEXT_MAX: usize = 96;
const N: usize = Error::ALL.len();

/// The core's messages (`which == 0`) or names (`which == 1`), NUL-terminated, built at
/// compile time so they can never drift from the core. An over-long text fails the build.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)] // const-evaluated: a bad index is a compile error
const fn table(which: u8) -> [[u8; TEXT_MAX]; N] {
    let mut t = [[0u8; TEXT_MAX]; N];
    let mut i = 0;
    while i < N {
        let text = if which == 0 { Error::ALL[i].as_str() } else { Error::ALL[i].name() };
        let bytes = text.as_bytes();
        assert!(bytes.len() < TEXT_MAX);
        let mut j = 0;
        while j < bytes.len() {
            assert!(bytes[j] != 0);
            t[i][j] = bytes[j];
            j += 1;
        }
        i += 1;
    }
    t
}

static MESSAGES: [[u8; TEXT_MAX]; N] = table(0);
static NAMES: [[u8; TEXT_MAX]; N] = table(1);

/// `(message, snake_case name)` for a code, as NUL-terminated static strings.
fn describe(code: u32) -> (&'static CStr, &'static CStr) {
    let core = Error::ALL.iter().position(|e| e.code() == code).and_then(|i| {
        let msg = CStr::from_bytes_until_nul(MESSAGES.get(i)?).ok()?;
        let name = CStr::from_bytes_until_nul(NAMES.get(i)?).ok()?;
        Some((msg, name))
    });
    match (code, core) {
        (_, Some(found)) => found,
        (0, None) => (c"ok", c"ok"),
        (1, None) => (c"a required pointer argument is NULL", c"null_parameter"),
        (99, None) => (c"internal error: a panic was caught at the C boundary", c"panic"),
        _ => (c"unknown apisig result code", c"unknown"),
    }
}

/// A human-readable message for `code` (an `apisig_result`). Never NULL: a static,
/// NUL-terminated string, also for codes this version does not know. Contains no secrets.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_strerror(code: u32) -> *const c_char {
    describe(code).0.as_ptr()
}

/// The stable snake_case name of `code` (`"signature_mismatch"`), as used in the test
/// vectors and by the Python face; `"unknown"` for codes this version does not know.
/// Never NULL: a static, NUL-terminated string.
#[unsafe(no_mangle)]
pub extern "C" fn apisig_result_name(code: u32) -> *const c_char {
    describe(code).1.as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_core_error_has_its_code_message_and_name() {
        for e in Error::ALL {
            let r = apisig_result::from(e);
            assert_eq!(r as u32, e.code(), "{e:?}");
            let (msg, name) = describe(e.code());
            assert_eq!(msg.to_str().ok(), Some(e.as_str()), "{e:?}");
            assert_eq!(name.to_str().ok(), Some(e.name()), "{e:?}");
        }
        for code in [0u32, 1, 99] {
            assert!(Error::from_code(code).is_none());
            assert_ne!(describe(code).1.to_bytes(), b"unknown");
        }
        assert_eq!(describe(98).1.to_bytes(), b"unknown");
        assert_eq!(describe(u32::MAX).0.to_bytes(), b"unknown apisig result code");
    }
}
