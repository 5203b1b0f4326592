//! The one error type, shared by every face of apisig, and the families errors fall into.
//!
//! Everything about an error is written once, in the table at the top of this file: its
//! variant, stable code, snake_case name, family, message and documentation. The enum and
//! every accessor are generated from that table, and every face reads them: the C ABI's
//! result codes (and the `apisig_result` enum of `apisig.h`), the Python exception classes,
//! and the HTTP status a server answers.

use core::fmt;

use crate::names::{Named, named};

named! {
    /// What a caller (or a server) does about an error: the group every face derives its
    /// exception base classes and HTTP statuses from ([`Family::http_status`]).
    #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
    pub enum Family {
        /// The request cannot be signed or verified as given: a credential missing or
        /// repeated, a value HTTP cannot carry, a bad method, path, timestamp, nonce or
        /// signature text.
        Malformed = 0, "malformed";
        /// The presented credentials are not good: an unknown key, a wrong secret or
        /// signature, a stale or replayed request, a refused token or certificate.
        Authentication = 1, "authentication";
        /// The client is authenticated but may not make this request: its role does not allow
        /// the path, or the path is not in canonical form.
        Forbidden = 2, "forbidden";
        /// State the verifier needs is unavailable (the replay record is full of live entries
        /// or cannot be reached; no trustworthy OCSP answer can be had); the request is
        /// refused, failing closed.
        Unavailable = 3, "unavailable";
        /// Keys, schemes, templates or role patterns are not usable: the deployment's
        /// mistake, not the client's.
        Configuration = 4, "configuration";
    }
}

impl Family {
    /// The HTTP status a server answers when it refuses a request with an error of this
    /// family: 401 for malformed requests and failed authentication (the client should
    /// authenticate again), 403 when forbidden, 503 when unavailable, 500 for configuration.
    pub const fn http_status(self) -> u16 {
        match self {
            Family::Malformed | Family::Authentication => 401,
            Family::Forbidden => 403,
            Family::Unavailable => 503,
            Family::Configuration => 500,
        }
    }
}

/// Defines [`Error`] and its accessors from one table of
/// `Variant = code, "name", Family, "message";` rows, each under its doc comment.
macro_rules! errors {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $code:literal, $name:literal, $family:ident, $message:literal;
    )*) => {
        /// Everything that can go wrong, as one flat `Copy` enum.
        ///
        /// Each variant has a stable numeric [`code`](Error::code) that the C ABI returns as
        /// `apisig_result` and the Python package carries on its exception classes, a
        /// snake_case [`name`](Error::name), a [`Family`] and a message
        /// ([`as_str`](Error::as_str), also its `Display`). Codes are never renumbered or
        /// reused; a retired variant leaves a gap. Codes 0 (`OK`), 1 (`NULL_PARAMETER`),
        /// 3 (`INVALID_OBJECT`) and 99 (`PANIC`) belong to the C ABI. No variant carries
        /// secret material.
        #[derive(Copy, Clone, Debug, Eq, PartialEq, Hash)]
        #[non_exhaustive]
        #[repr(u32)]
        pub enum Error {
            $( $(#[doc = $doc])* $variant = $code, )*
        }

        impl Error {
            /// Every variant, in code order (for tables, tests and the other faces).
            pub const ALL: [Error; [$($name),*].len()] = [$(Error::$variant),*];

            /// The stable numeric code.
            pub const fn code(self) -> u32 {
                self as u32
            }

            /// The variant with this code, if any.
            pub const fn from_code(code: u32) -> Option<Error> {
                match code {
                    $($code => Some(Error::$variant),)*
                    _ => None,
                }
            }

            /// The stable snake_case name used in test vectors and by the other faces.
            pub const fn name(self) -> &'static str {
                match self { $(Error::$variant => $name,)* }
            }

            /// The variant with this snake_case name, if any.
            pub fn from_name(name: &str) -> Option<Error> {
                match name {
                    $($name => Some(Error::$variant),)*
                    _ => None,
                }
            }

            /// A human-readable message, without secrets.
            pub const fn as_str(self) -> &'static str {
                match self { $(Error::$variant => $message,)* }
            }

            /// What a caller does about this error.
            pub const fn family(self) -> Family {
                match self { $(Error::$variant => Family::$family,)* }
            }

            /// The HTTP status a server answers a request refused with this error (its
            /// family's).
            pub const fn http_status(self) -> u16 {
                self.family().http_status()
            }

            /// The variant's documentation, one `\n`-terminated line per line of its doc
            /// comment (as written after `///`).
            pub const fn doc(self) -> &'static str {
                match self { $(Error::$variant => concat!($($doc, "\n"),*),)* }
            }
        }
    };
}

errors! {
    /// The caller's output buffer is too small; nothing was written (the C ABI sets
    /// `*out_len` to the size needed).
    BufferTooSmall = 2, "buffer_too_small", Configuration, "output buffer too small";

    /// A credential header (or body field) the scheme requires is absent.
    MissingCredential = 10, "missing_credential", Malformed, "a required credential header is missing";
    /// A credential header appears more than once, so which one counts would be a guess.
    DuplicateHeader = 11, "duplicate_header", Malformed, "a credential header appears more than once";
    /// A header value holds a byte HTTP does not allow there (CR, LF, NUL, other controls,
    /// non-ASCII) or starts or ends with whitespace; from C, text that is not UTF-8.
    InvalidHeaderValue = 12, "invalid_header_value", Malformed, "header value holds a byte not allowed in HTTP headers";
    /// A field is longer than the fixed capacity reserved for it.
    FieldTooLong = 13, "field_too_long", Malformed, "field is longer than its fixed capacity";
    /// The method is not an HTTP token.
    InvalidMethod = 14, "invalid_method", Malformed, "method is not an HTTP token";
    /// A signed field holds the template's separator, which would make the message ambiguous.
    SeparatorInField = 15, "separator_in_field", Malformed, "a signed field contains the template separator";
    /// The path is not printable ASCII starting with `/`.
    InvalidPath = 16, "invalid_path", Malformed, "path is not printable ASCII starting with '/'";
    /// A body that should carry the credentials (APEX's `AuthenticateUser`) is not what the
    /// scheme reads: not strict JSON, not one object, a credential that is not a string or, for
    /// a timestamp, nonce or user id, a number, or one written with escapes.
    InvalidBody = 17, "invalid_body", Malformed, "request body is not the JSON object of credentials the scheme reads";

    /// No registered client matches the presented key or key id.
    UnknownKey = 20, "unknown_key", Authentication, "no registered client matches the presented key";
    /// The presented secret is not the registered one.
    SecretMismatch = 21, "secret_mismatch", Authentication, "presented secret does not match";
    /// The signature does not match the request.
    SignatureMismatch = 22, "signature_mismatch", Authentication, "signature does not match";
    /// The signature is not valid text in the scheme's encoding (case, length, alphabet).
    InvalidSignatureEncoding = 23, "invalid_signature_encoding", Malformed,
        "signature is not valid in the scheme's encoding";
    /// The user id is not the one bound to the key.
    UserIdMismatch = 24, "user_id_mismatch", Authentication, "user id is not the one bound to the key";
    /// The verifier is not configured for this kind of credential (a bearer JWT or session
    /// token it has no keys for).
    UnsupportedCredential = 25, "unsupported_credential", Authentication,
        "this credential type is not verified by the core";

    /// The timestamp is not 1 to 20 decimal digits fitting in a `u64`.
    InvalidTimestamp = 30, "invalid_timestamp", Malformed, "timestamp is not a decimal u64";
    /// The timestamp is outside the accepted window around `now`.
    TimestampOutsideWindow = 31, "timestamp_outside_window", Authentication, "timestamp is outside the accepted window";
    /// The nonce is missing or not 1 to 20 decimal digits fitting in a `u64`.
    InvalidNonce = 32, "invalid_nonce", Malformed, "nonce is missing or not a decimal u64";
    /// The request (its nonce or its signature) was already accepted.
    ReplayedRequest = 33, "replayed_request", Authentication, "request was already accepted (replay)";
    /// The replay cache has no free slot: every slot holds a live entry. Fails closed.
    ReplayCacheFull = 34, "replay_cache_full", Unavailable, "replay cache is full of live entries";
    /// A shared replay store (Redis) could not be reached; the request is refused (fail
    /// closed) unless the deployment chose to fail open.
    ReplayStoreUnavailable = 35, "replay_store_unavailable", Unavailable,
        "replay store is unreachable (failing closed)";

    /// The path is not in canonical form (dot segments, `//`, backslash, `;`, encoded
    /// separators, control bytes); it is refused, never normalised.
    NonCanonicalPath = 40, "non_canonical_path", Forbidden, "path is not in canonical form";
    /// The client's role is not allowed on this path, or its scopes lack one the request
    /// needs (`ScopeNames::authorize`).
    Forbidden = 41, "forbidden", Forbidden, "role is not allowed on this path";
    /// A role pattern, scope name or allowed-address range (CIDR) is not valid.
    InvalidPattern = 42, "invalid_pattern", Configuration, "role pattern is not valid";

    /// The keyring has no room for another client.
    KeyringFull = 50, "keyring_full", Configuration, "keyring is full";
    /// A client with this key id (or this key or secret) is already registered; in a key
    /// store, a client with this id exists, or already has a key in the slot to issue into.
    DuplicateKeyId = 51, "duplicate_key_id", Configuration, "key id is already registered";
    /// A secret, key or token is empty.
    EmptySecret = 52, "empty_secret", Configuration, "secret or key is empty";
    /// A scheme or message template is not coherent (see `Scheme::check`), or names a
    /// field, part, encoding or unit this version does not know.
    InvalidTemplate = 53, "invalid_template", Configuration, "message template is not valid for this scheme";

    /// A token is not well formed: wrong number of parts, non-canonical base64url, JSON that
    /// is not an object of the expected shape, an unsupported `crit` header.
    TokenMalformed = 60, "token_malformed", Authentication, "token is malformed";
    /// A token is longer than the accepted maximum.
    TokenTooLong = 61, "token_too_long", Authentication, "token is too long";
    /// A JWT names the `none` algorithm (in any letter case).
    AlgorithmNone = 62, "algorithm_none", Authentication, "JWT algorithm 'none' is refused";
    /// A JWT names an algorithm other than HS256.
    AlgorithmNotAllowed = 63, "algorithm_not_allowed", Authentication, "JWT algorithm is not HS256";
    /// A JWT header has no `alg`.
    MissingAlgorithm = 64, "missing_algorithm", Authentication, "JWT header has no 'alg'";
    /// A JWT header or claims set names the same member twice.
    DuplicateField = 65, "duplicate_field", Authentication, "JWT names the same member twice";
    /// A JWT header embeds or points to a key (`jwk`, `jku`, `x5u`, `x5c`).
    EmbeddedKey = 66, "embedded_key", Authentication, "JWT header embeds or points to a key";
    /// The token has expired.
    TokenExpired = 67, "token_expired", Authentication, "token has expired";
    /// The token is not valid yet (`nbf` or `iat` in the future).
    TokenNotYetValid = 68, "token_not_yet_valid", Authentication, "token is not valid yet";
    /// A required claim (`exp` by default) is absent.
    MissingClaim = 69, "missing_claim", Authentication, "a required claim is missing";

    /// `iss`, `aud` or `sub` is not the expected value.
    ClaimMismatch = 70, "claim_mismatch", Authentication, "a claim does not have the expected value";

    /// The peer certificate is not DER this parser understands.
    InvalidCertificate = 80, "invalid_certificate", Authentication, "certificate is not valid DER";
    /// The peer certificate is not pinned to any registered client.
    UnpinnedCertificate = 81, "unpinned_certificate", Authentication, "certificate is not pinned to any client";

    /// The OCSP responder says the client certificate is revoked. Never softened by fail-soft.
    CertificateRevoked = 100, "certificate_revoked", Forbidden, "the client certificate is revoked (OCSP)";
    /// The OCSP responder does not know the client certificate (`unknown`).
    CertificateStatusUnknown = 101, "certificate_status_unknown", Forbidden,
        "the OCSP responder does not know the client certificate";
    /// The OCSP responder could not be reached, timed out or answered other than HTTP 200.
    OcspUnavailable = 102, "ocsp_unavailable", Unavailable, "the OCSP responder could not be reached (failing closed)";
    /// The OCSP responder answered with a `responseStatus` other than `successful`.
    OcspResponderError = 103, "ocsp_responder_error", Unavailable, "the OCSP responder answered with an error status";
    /// The OCSP response is not a well-formed basic response for one certificate.
    OcspMalformed = 104, "ocsp_malformed", Unavailable, "the OCSP response is malformed";
    /// The OCSP response is longer than the accepted maximum.
    OcspResponseTooLarge = 105, "ocsp_response_too_large", Unavailable, "the OCSP response is too large";
    /// The OCSP response is about another certificate (serial or issuer hashes differ).
    OcspCertIdMismatch = 106, "ocsp_cert_id_mismatch", Unavailable, "the OCSP response is about another certificate";
    /// A nonce was sent and the OCSP response does not echo it unchanged.
    OcspNonceMismatch = 107, "ocsp_nonce_mismatch", Unavailable, "the OCSP response does not echo the request's nonce";
    /// The OCSP response is signed neither by the certificate's issuer nor by a current
    /// delegated responder that the issuer certified for `id-kp-OCSPSigning`.
    OcspUnauthorizedResponder = 108, "ocsp_unauthorized_responder", Unavailable,
        "the OCSP response is not signed by the issuer or its delegated responder";
    /// The OCSP response's signature does not verify with its signer's key, or uses an
    /// algorithm that is not accepted.
    OcspSignatureInvalid = 109, "ocsp_signature_invalid", Unavailable, "the OCSP response's signature does not verify";
    /// The OCSP response is out of date (`nextUpdate`, or `thisUpdate` plus the maximum age,
    /// is in the past beyond the tolerated skew).
    OcspResponseStale = 110, "ocsp_response_stale", Unavailable, "the OCSP response is out of date";
    /// The OCSP response's `thisUpdate` is in the future beyond the tolerated skew.
    OcspResponseNotYetValid = 111, "ocsp_response_not_yet_valid", Unavailable,
        "the OCSP response's thisUpdate is in the future";
    /// No OCSP responder is configured and the certificate names none (Authority
    /// Information Access).
    OcspNoResponder = 112, "ocsp_no_responder", Unavailable, "no OCSP responder is known for the certificate";

    /// The client store (a database, or the cache in front of it) could not be reached or did
    /// not answer; the request is refused (fail closed) unless the deployment chose otherwise.
    StoreUnavailable = 120, "store_unavailable", Unavailable, "the client store could not be reached (failing closed)";
    /// The client is revoked: every key, pin, token and session of it is refused, whatever
    /// the credential.
    ClientRevoked = 121, "client_revoked", Authentication, "the client is revoked";
    /// The key (or certificate pin) that matched is revoked; the client's other slot may
    /// still work.
    KeyRevoked = 122, "key_revoked", Authentication, "the key is revoked";
    /// The key (or certificate pin) that matched is past its expiry.
    KeyExpired = 123, "key_expired", Authentication, "the key has expired";
    /// The client is disabled for now (it may be enabled again), whatever the credential.
    ClientDisabled = 124, "client_disabled", Authentication, "the client is disabled";
    /// The client may only connect from other addresses than the request's peer (or the
    /// server gave no peer address for a client with an allow-list: fail closed).
    AddressNotAllowed = 125, "address_not_allowed", Forbidden, "the request's address is not allowed for this client";
    /// A presented key that claims the issued-key format (a product and kind prefix, a random
    /// part, a CRC32 checksum) is not well formed or its checksum does not match: a typo or a
    /// truncated key, refused before any store is asked.
    InvalidKeyFormat = 126, "invalid_key_format", Malformed, "key is not in the issued format or its checksum does not match";
    /// The `X-Forwarded-For` header a trusted proxy passed on is not a comma-separated list
    /// of bare IP addresses, so the client's address behind it is unknown.
    InvalidForwardedFor = 127, "invalid_forwarded_for", Malformed,
        "X-Forwarded-For from a trusted proxy is not a list of IP addresses";

    /// No key of the issuer's JWK set has the token's `kid` (after the set was refetched, if
    /// the face refetches): the set may be stale, so this fails closed as unavailable.
    UnknownKid = 130, "unknown_kid", Unavailable, "no key of the issuer's JWK set has the token's kid";
    /// The key the token's `kid` names is of another type than the token's `alg` (an RSA key
    /// for ES256, say), or the JWK's own `alg` differs from the token's.
    KeyTypeMismatch = 131, "key_type_mismatch", Authentication, "the key the token names does not fit its algorithm";
    /// The JWK set is not JSON of the RFC 7517 shape, or a supported key in it is malformed
    /// (coordinates of the wrong length, a point not on the curve, a bad RSA modulus).
    JwksMalformed = 132, "jwks_malformed", Unavailable, "the JWK set is malformed";
    /// The JWK set document is longer, or holds more usable keys, than the set can hold.
    JwksTooLarge = 133, "jwks_too_large", Unavailable, "the JWK set is too large";
    /// An HMAC algorithm (`HS*`) on a token of an issuer whose keys are asymmetric: the
    /// algorithm-confusion attack (an HMAC keyed with the public key).
    SymmetricAlgorithm = 134, "symmetric_algorithm", Authentication,
        "an HMAC algorithm is refused for an issuer with asymmetric keys";
    /// The token's header has `crit`: apisig understands no JWS extension.
    CritUnsupported = 135, "crit_unsupported", Authentication, "the token's header has a critical extension";
    /// The token's `typ` is not `at+jwt` (or, unless the RFC 9068 profile is required, `JWT`).
    TokenTypeMismatch = 136, "token_type_mismatch", Authentication, "the token's typ is not an access token type";
    /// The token has no `kid` and the issuer's set has more than one key for its algorithm.
    MissingKid = 137, "missing_kid", Authentication, "the token has no kid and the key is ambiguous";
    /// The token's `iss` is not the issuer's identifier, exactly.
    IssuerMismatch = 138, "issuer_mismatch", Authentication, "the token's issuer is not the expected one";
    /// The token's `aud` does not contain the configured audience.
    AudienceMismatch = 139, "audience_mismatch", Authentication, "the token's audience does not contain this resource";
    /// An RSA key of the JWK set is shorter than 2048 bits (or longer than 4096).
    JwkWeakKey = 140, "jwk_weak_key", Unavailable, "a key of the JWK set has an unacceptable size";
    /// The issuer's JWK set could not be fetched and no earlier good set is kept.
    JwksUnavailable = 141, "jwks_unavailable", Unavailable, "the issuer's JWK set could not be fetched";
    /// The discovery document's `issuer` is not the configured issuer, or it lacks a needed
    /// endpoint.
    DiscoveryMismatch = 142, "discovery_mismatch", Configuration,
        "the OpenID discovery document does not match the configured issuer";
    /// The introspection endpoint says the token is not active (RFC 7662 `"active": false`),
    /// or its `exp` has passed.
    TokenInactive = 143, "token_inactive", Authentication, "the token is not active (introspection)";
    /// The introspection endpoint could not be reached or did not answer with an RFC 7662
    /// response (failing closed).
    IntrospectionUnavailable = 144, "introspection_unavailable", Unavailable,
        "the introspection endpoint could not be reached (failing closed)";
    /// The introspection endpoint's answer is not an RFC 7662 response: not one JSON object,
    /// `active` missing or not a boolean, a registered claim of the wrong type (failing closed).
    IntrospectionMalformed = 145, "introspection_malformed", Unavailable,
        "the introspection endpoint's answer is not an RFC 7662 response";

    /// No master key was given to open a key store (from C: none passed, and neither
    /// `APISIG_MASTER_KEY` nor `APISIG_MASTER_KEY_FILE` is set or readable), or it is not a
    /// key: 32 bytes, or 64 hexadecimal digits.
    InvalidMasterKey = 150, "invalid_master_key", Configuration,
        "the master key is missing or is not 32 bytes (64 hexadecimal digits)";
    /// The key store's secrets are sealed under another master key than the one given: the
    /// store refuses to open (rather than every HMAC signature failing later).
    WrongMasterKey = 151, "wrong_master_key", Configuration,
        "the key store is sealed under another master key";
    /// The key store URL is not one this build opens (`sqlite:…`, `postgres://…`).
    InvalidStoreUrl = 152, "invalid_store_url", Configuration, "the key store URL is not one this build opens";
    /// A peer address the server passed is not an IPv4 or IPv6 address (from C: an
    /// `apisig_ip` of another family, or text that is no address).
    InvalidAddress = 153, "invalid_address", Configuration, "the peer address is not an IPv4 or IPv6 address";
}

impl Named for Error {
    const ALL: &'static [Error] = &Error::ALL;

    fn code(self) -> u32 {
        Error::code(self)
    }

    fn name(self) -> &'static str {
        Error::name(self)
    }

    fn doc(self) -> &'static str {
        Error::doc(self)
    }

    fn from_code(code: u32) -> Option<Error> {
        Error::from_code(code)
    }

    fn from_name(name: &str) -> Option<Error> {
        Error::from_name(name)
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
    use super::{Error, Family};
    use crate::names::Named;

    #[test]
    fn codes_are_unique_and_round_trip() {
        for (i, a) in Error::ALL.iter().enumerate() {
            assert_eq!(Error::from_code(a.code()), Some(*a));
            assert_eq!(Error::from_name(a.name()), Some(*a));
            for b in Error::ALL.iter().skip(i + 1) {
                assert!(a.code() < b.code(), "{a:?} and {b:?}: codes must ascend");
                assert_ne!(a.name(), b.name());
            }
        }
        // The C ABI's own codes are never core errors.
        for code in [0, 1, 3, 99] {
            assert_eq!(Error::from_code(code), None);
        }
    }

    /// The statuses DESIGN.md and the server middleware promise: bad credentials 401, a role
    /// outside its paths 403, unavailable shared state 503.
    #[test]
    fn families_give_the_promised_statuses() {
        assert_eq!(Error::MissingCredential.http_status(), 401);
        assert_eq!(Error::SignatureMismatch.http_status(), 401);
        assert_eq!(Error::TokenExpired.http_status(), 401);
        assert_eq!(Error::Forbidden.http_status(), 403);
        assert_eq!(Error::NonCanonicalPath.http_status(), 403);
        assert_eq!(Error::ReplayCacheFull.http_status(), 503);
        assert_eq!(Error::ReplayStoreUnavailable.http_status(), 503);
        assert_eq!(Error::KeyringFull.http_status(), 500);
        assert_eq!(Error::CertificateRevoked.http_status(), 403);
        assert_eq!(Error::OcspUnavailable.http_status(), 503);
        assert_eq!(Error::ReplayedRequest.family(), Family::Authentication);
        assert_eq!(Error::InvalidTimestamp.family(), Family::Malformed);
        // Every family has at least one error.
        assert!(Family::ALL.iter().all(|f| Error::ALL.iter().any(|e| e.family() == *f)));
    }
}
