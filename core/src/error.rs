//! The one error type, shared by every face of apisig.

use core::fmt;

/// Everything that can go wrong, as one flat `Copy` enum.
///
/// Each variant has a stable numeric [`code`](Error::code) that the C ABI returns as
/// `apisig_result` and the Python package carries on its exception classes. Codes are never
/// renumbered or reused; a retired variant leaves a gap. Codes 0 (`OK`), 1 (`NULL_PARAMETER`)
/// and 99 (`PANIC`) belong to the C ABI. No variant carries secret material.
#[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
#[non_exhaustive]
#[repr(u32)]
pub enum Error {
    /// The caller's output buffer is too small; nothing was written.
    BufferTooSmall = 2,

    /// A credential header (or body field) the scheme requires is absent.
    MissingCredential = 10,
    /// A credential header appears more than once, so which one counts would be a guess.
    DuplicateHeader = 11,
    /// A header value holds a byte HTTP does not allow there (CR, LF, NUL, other controls,
    /// non-ASCII) or starts or ends with whitespace.
    InvalidHeaderValue = 12,
    /// A field is longer than the fixed capacity reserved for it.
    FieldTooLong = 13,
    /// The method is not an HTTP token.
    InvalidMethod = 14,
    /// A signed field holds the template's separator, which would make the message ambiguous.
    SeparatorInField = 15,
    /// The path is not printable ASCII starting with `/`.
    InvalidPath = 16,

    /// No registered client matches the presented key or key id.
    UnknownKey = 20,
    /// The presented secret is not the registered one.
    SecretMismatch = 21,
    /// The signature does not match the request.
    SignatureMismatch = 22,
    /// The signature is not valid text in the scheme's encoding (case, length, alphabet).
    InvalidSignatureEncoding = 23,
    /// The user id is not the one bound to the key.
    UserIdMismatch = 24,
    /// The core does not verify this kind of credential (bearer tokens, session tokens).
    UnsupportedCredential = 25,

    /// The timestamp is not 1 to 20 decimal digits fitting in a `u64`.
    InvalidTimestamp = 30,
    /// The timestamp is outside the accepted window around `now`.
    TimestampOutsideWindow = 31,
    /// The nonce is missing or not 1 to 20 decimal digits fitting in a `u64`.
    InvalidNonce = 32,
    /// The request (its nonce or its signature) was already accepted.
    ReplayedRequest = 33,
    /// The replay cache has no free slot: every slot holds a live entry. Fails closed.
    ReplayCacheFull = 34,
    /// A shared replay store (Redis) could not be reached; the request is refused (fail
    /// closed) unless the deployment chose to fail open.
    ReplayStoreUnavailable = 35,

    /// The path is not in canonical form (dot segments, `//`, backslash, `;`, encoded
    /// separators, control bytes); it is refused, never normalised.
    NonCanonicalPath = 40,
    /// The client's role is not allowed on this path.
    Forbidden = 41,
    /// A role pattern is not valid.
    InvalidPattern = 42,

    /// The keyring has no room for another client.
    KeyringFull = 50,
    /// A client with this key id is already registered.
    DuplicateKeyId = 51,
    /// A secret or key is empty.
    EmptySecret = 52,
    /// A message template is empty, too long, or needs a value the scheme does not carry.
    InvalidTemplate = 53,

    /// A token is not well formed: wrong number of parts, non-canonical base64url, JSON that
    /// is not an object of the expected shape, an unsupported `crit` header.
    TokenMalformed = 60,
    /// A token is longer than the accepted maximum.
    TokenTooLong = 61,
    /// A JWT names the `none` algorithm (in any letter case).
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
    /// The token is not valid yet (`nbf` or `iat` in the future).
    TokenNotYetValid = 68,
    /// A required claim (`exp` by default) is absent.
    MissingClaim = 69,
    /// `iss`, `aud` or `sub` is not the expected value.
    ClaimMismatch = 70,

    /// The peer certificate is not DER this parser understands.
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
}

impl Error {
    /// Every variant, in code order (for tables, tests and the other faces).
    pub const ALL: [Error; 53] = [
        Error::BufferTooSmall,
        Error::MissingCredential,
        Error::DuplicateHeader,
        Error::InvalidHeaderValue,
        Error::FieldTooLong,
        Error::InvalidMethod,
        Error::SeparatorInField,
        Error::InvalidPath,
        Error::UnknownKey,
        Error::SecretMismatch,
        Error::SignatureMismatch,
        Error::InvalidSignatureEncoding,
        Error::UserIdMismatch,
        Error::UnsupportedCredential,
        Error::InvalidTimestamp,
        Error::TimestampOutsideWindow,
        Error::InvalidNonce,
        Error::ReplayedRequest,
        Error::ReplayCacheFull,
        Error::ReplayStoreUnavailable,
        Error::NonCanonicalPath,
        Error::Forbidden,
        Error::InvalidPattern,
        Error::KeyringFull,
        Error::DuplicateKeyId,
        Error::EmptySecret,
        Error::InvalidTemplate,
        Error::TokenMalformed,
        Error::TokenTooLong,
        Error::AlgorithmNone,
        Error::AlgorithmNotAllowed,
        Error::MissingAlgorithm,
        Error::DuplicateField,
        Error::EmbeddedKey,
        Error::TokenExpired,
        Error::TokenNotYetValid,
        Error::MissingClaim,
        Error::ClaimMismatch,
        Error::InvalidCertificate,
        Error::UnpinnedCertificate,
        Error::CertificateRevoked,
        Error::CertificateStatusUnknown,
        Error::OcspUnavailable,
        Error::OcspResponderError,
        Error::OcspMalformed,
        Error::OcspResponseTooLarge,
        Error::OcspCertIdMismatch,
        Error::OcspNonceMismatch,
        Error::OcspUnauthorizedResponder,
        Error::OcspSignatureInvalid,
        Error::OcspResponseStale,
        Error::OcspResponseNotYetValid,
        Error::OcspNoResponder,
    ];

    /// The stable numeric code.
    pub const fn code(self) -> u32 {
        self as u32
    }

    /// The variant with this code, if any.
    pub fn from_code(code: u32) -> Option<Error> {
        Error::ALL.iter().copied().find(|e| e.code() == code)
    }

    /// The stable snake_case name used in test vectors and by the other faces.
    pub const fn name(self) -> &'static str {
        match self {
            Error::BufferTooSmall => "buffer_too_small",
            Error::MissingCredential => "missing_credential",
            Error::DuplicateHeader => "duplicate_header",
            Error::InvalidHeaderValue => "invalid_header_value",
            Error::FieldTooLong => "field_too_long",
            Error::InvalidMethod => "invalid_method",
            Error::SeparatorInField => "separator_in_field",
            Error::InvalidPath => "invalid_path",
            Error::UnknownKey => "unknown_key",
            Error::SecretMismatch => "secret_mismatch",
            Error::SignatureMismatch => "signature_mismatch",
            Error::InvalidSignatureEncoding => "invalid_signature_encoding",
            Error::UserIdMismatch => "user_id_mismatch",
            Error::UnsupportedCredential => "unsupported_credential",
            Error::InvalidTimestamp => "invalid_timestamp",
            Error::TimestampOutsideWindow => "timestamp_outside_window",
            Error::InvalidNonce => "invalid_nonce",
            Error::ReplayedRequest => "replayed_request",
            Error::ReplayCacheFull => "replay_cache_full",
            Error::ReplayStoreUnavailable => "replay_store_unavailable",
            Error::NonCanonicalPath => "non_canonical_path",
            Error::Forbidden => "forbidden",
            Error::InvalidPattern => "invalid_pattern",
            Error::KeyringFull => "keyring_full",
            Error::DuplicateKeyId => "duplicate_key_id",
            Error::EmptySecret => "empty_secret",
            Error::InvalidTemplate => "invalid_template",
            Error::TokenMalformed => "token_malformed",
            Error::TokenTooLong => "token_too_long",
            Error::AlgorithmNone => "algorithm_none",
            Error::AlgorithmNotAllowed => "algorithm_not_allowed",
            Error::MissingAlgorithm => "missing_algorithm",
            Error::DuplicateField => "duplicate_field",
            Error::EmbeddedKey => "embedded_key",
            Error::TokenExpired => "token_expired",
            Error::TokenNotYetValid => "token_not_yet_valid",
            Error::MissingClaim => "missing_claim",
            Error::ClaimMismatch => "claim_mismatch",
            Error::InvalidCertificate => "invalid_certificate",
            Error::UnpinnedCertificate => "unpinned_certificate",
            Error::CertificateRevoked => "certificate_revoked",
            Error::CertificateStatusUnknown => "certificate_status_unknown",
            Error::OcspUnavailable => "ocsp_unavailable",
            Error::OcspResponderError => "ocsp_responder_error",
            Error::OcspMalformed => "ocsp_malformed",
            Error::OcspResponseTooLarge => "ocsp_response_too_large",
            Error::OcspCertIdMismatch => "ocsp_cert_id_mismatch",
            Error::OcspNonceMismatch => "ocsp_nonce_mismatch",
            Error::OcspUnauthorizedResponder => "ocsp_unauthorized_responder",
            Error::OcspSignatureInvalid => "ocsp_signature_invalid",
            Error::OcspResponseStale => "ocsp_response_stale",
            Error::OcspResponseNotYetValid => "ocsp_response_not_yet_valid",
            Error::OcspNoResponder => "ocsp_no_responder",
        }
    }

    /// A human-readable message, without secrets.
    pub const fn as_str(self) -> &'static str {
        match self {
            Error::BufferTooSmall => "output buffer too small",
            Error::MissingCredential => "a required credential header is missing",
            Error::DuplicateHeader => "a credential header appears more than once",
            Error::InvalidHeaderValue => "header value holds a byte not allowed in HTTP headers",
            Error::FieldTooLong => "field is longer than its fixed capacity",
            Error::InvalidMethod => "method is not an HTTP token",
            Error::SeparatorInField => "a signed field contains the template separator",
            Error::InvalidPath => "path is not printable ASCII starting with '/'",
            Error::UnknownKey => "no registered client matches the presented key",
            Error::SecretMismatch => "presented secret does not match",
            Error::SignatureMismatch => "signature does not match",
            Error::InvalidSignatureEncoding => "signature is not valid in the scheme's encoding",
            Error::UserIdMismatch => "user id is not the one bound to the key",
            Error::UnsupportedCredential => "this credential type is not verified by the core",
            Error::InvalidTimestamp => "timestamp is not a decimal u64",
            Error::TimestampOutsideWindow => "timestamp is outside the accepted window",
            Error::InvalidNonce => "nonce is missing or not a decimal u64",
            Error::ReplayedRequest => "request was already accepted (replay)",
            Error::ReplayCacheFull => "replay cache is full of live entries",
            Error::ReplayStoreUnavailable => "replay store is unreachable (failing closed)",
            Error::NonCanonicalPath => "path is not in canonical form",
            Error::Forbidden => "role is not allowed on this path",
            Error::InvalidPattern => "role pattern is not valid",
            Error::KeyringFull => "keyring is full",
            Error::DuplicateKeyId => "key id is already registered",
            Error::EmptySecret => "secret or key is empty",
            Error::InvalidTemplate => "message template is not valid for this scheme",
            Error::TokenMalformed => "token is malformed",
            Error::TokenTooLong => "token is too long",
            Error::AlgorithmNone => "JWT algorithm 'none' is refused",
            Error::AlgorithmNotAllowed => "JWT algorithm is not HS256",
            Error::MissingAlgorithm => "JWT header has no 'alg'",
            Error::DuplicateField => "JWT names the same member twice",
            Error::EmbeddedKey => "JWT header embeds or points to a key",
            Error::TokenExpired => "token has expired",
            Error::TokenNotYetValid => "token is not valid yet",
            Error::MissingClaim => "a required claim is missing",
            Error::ClaimMismatch => "a claim does not have the expected value",
            Error::InvalidCertificate => "certificate is not valid DER",
            Error::UnpinnedCertificate => "certificate is not pinned to any client",
            Error::CertificateRevoked => "the client certificate is revoked (OCSP)",
            Error::CertificateStatusUnknown => "the OCSP responder does not know the client certificate",
            Error::OcspUnavailable => "the OCSP responder could not be reached (failing closed)",
            Error::OcspResponderError => "the OCSP responder answered with an error status",
            Error::OcspMalformed => "the OCSP response is malformed",
            Error::OcspResponseTooLarge => "the OCSP response is too large",
            Error::OcspCertIdMismatch => "the OCSP response is about another certificate",
            Error::OcspNonceMismatch => "the OCSP response does not echo the request's nonce",
            Error::OcspUnauthorizedResponder => {
                "the OCSP response is not signed by the issuer or its delegated responder"
            }
            Error::OcspSignatureInvalid => "the OCSP response's signature does not verify",
            Error::OcspResponseStale => "the OCSP response is out of date",
            Error::OcspResponseNotYetValid => "the OCSP response's thisUpdate is in the future",
            Error::OcspNoResponder => "no OCSP responder is known for the certificate",
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl core::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, a) in Error::ALL.iter().enumerate() {
            assert_eq!(Error::from_code(a.code()), Some(*a));
            for b in Error::ALL.iter().skip(i + 1) {
                assert_ne!(a.code(), b.code(), "{a:?} and {b:?} share a code");
                assert_ne!(a.name(), b.name());
            }
        }
        assert_eq!(Error::from_code(0), None);
        assert_eq!(Error::from_code(1), None);
        assert_eq!(Error::from_code(99), None);
    }
}
