"""The exceptions apisig raises: one class per core error, each carrying the core's stable
numeric ``code`` (the one the C ABI returns), snake_case ``name``, ``family`` and the
``http_status`` a server answers.

Generated from the core's error table (``apisig._native.error_table()``) by
``python/tests/test_exceptions.py``, which fails when this file is stale. Do not edit: change
``core/src/error.rs``, then run ``APISIG_BLESS=1 pytest python/tests/test_exceptions.py``.

The classes are grouped by the core's families, what a caller does about them::

    ApisigError
    ├── MalformedRequest (also ValueError)      401
    ├── AuthenticationFailed                    401
    │   └── InvalidToken                        401  a bearer JWT or session token was refused
    ├── AuthorizationFailed                     403
    ├── ServiceUnavailable                      503
    └── ConfigurationError                      500

so ``except apisig.ReplayedRequest:`` catches one case and ``except apisig.AuthenticationFailed:``
a family. Instances pickle and compare by message like any exception.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AddressNotAllowed",
    "AlgorithmNone",
    "AlgorithmNotAllowed",
    "ApisigError",
    "AudienceMismatch",
    "AuthenticationFailed",
    "AuthorizationFailed",
    "BufferTooSmall",
    "CertificateRevoked",
    "CertificateStatusUnknown",
    "ClaimMismatch",
    "ClientDisabled",
    "ClientRevoked",
    "ConfigurationError",
    "CritUnsupported",
    "DiscoveryMismatch",
    "DuplicateField",
    "DuplicateHeader",
    "DuplicateKeyId",
    "EmbeddedKey",
    "EmptySecret",
    "FieldTooLong",
    "Forbidden",
    "IntrospectionMalformed",
    "IntrospectionUnavailable",
    "InvalidAddress",
    "InvalidBody",
    "InvalidCertificate",
    "InvalidForwardedFor",
    "InvalidHeaderValue",
    "InvalidKeyFormat",
    "InvalidMasterKey",
    "InvalidMethod",
    "InvalidNonce",
    "InvalidPath",
    "InvalidPattern",
    "InvalidSignatureEncoding",
    "InvalidStoreUrl",
    "InvalidTemplate",
    "InvalidTimestamp",
    "InvalidToken",
    "IssuerMismatch",
    "JwkWeakKey",
    "JwksMalformed",
    "JwksTooLarge",
    "JwksUnavailable",
    "KeyExpired",
    "KeyRevoked",
    "KeyTypeMismatch",
    "KeyringFull",
    "MalformedRequest",
    "MissingAlgorithm",
    "MissingClaim",
    "MissingCredential",
    "MissingKid",
    "NonCanonicalPath",
    "OcspCertIdMismatch",
    "OcspMalformed",
    "OcspNoResponder",
    "OcspNonceMismatch",
    "OcspResponderError",
    "OcspResponseNotYetValid",
    "OcspResponseStale",
    "OcspResponseTooLarge",
    "OcspSignatureInvalid",
    "OcspUnauthorizedResponder",
    "OcspUnavailable",
    "ReplayCacheFull",
    "ReplayStoreUnavailable",
    "ReplayedRequest",
    "SecretMismatch",
    "SeparatorInField",
    "ServiceUnavailable",
    "SignatureMismatch",
    "StoreUnavailable",
    "SymmetricAlgorithm",
    "TimestampOutsideWindow",
    "TokenExpired",
    "TokenInactive",
    "TokenMalformed",
    "TokenNotYetValid",
    "TokenTooLong",
    "TokenTypeMismatch",
    "UnknownKey",
    "UnknownKid",
    "UnpinnedCertificate",
    "UnsupportedCredential",
    "UserIdMismatch",
    "WrongMasterKey",
]


class ApisigError(Exception):
    """Base class of every apisig error. ``code`` and ``name`` identify the core error,
    ``family`` its family, ``http_status`` what a server answers (500 for an error this
    version does not know)."""

    code: ClassVar[int] = 0
    name: ClassVar[str] = "apisig_error"
    family: ClassVar[str] = ""
    http_status: ClassVar[int] = 500


# ---- families: the core's, what a caller does about an error ------------------------------


class MalformedRequest(ApisigError, ValueError):
    """The request cannot be signed or verified as given: a credential missing or
    repeated, a value HTTP cannot carry, a bad method, path, timestamp, nonce or
    signature text.
    A server answers 401."""

    family = "malformed"
    http_status = 401


class AuthenticationFailed(ApisigError):
    """The presented credentials are not good: an unknown key, a wrong secret or
    signature, a stale or replayed request, a refused token or certificate.
    A server answers 401."""

    family = "authentication"
    http_status = 401


class InvalidToken(AuthenticationFailed):
    """A bearer JWT or session token was refused."""


class AuthorizationFailed(ApisigError):
    """The client is authenticated but may not make this request: its role does not allow
    the path, or the path is not in canonical form.
    A server answers 403."""

    family = "forbidden"
    http_status = 403


class ServiceUnavailable(ApisigError):
    """State the verifier needs is unavailable (the replay record is full of live entries
    or cannot be reached; no trustworthy OCSP answer can be had); the request is
    refused, failing closed.
    A server answers 503."""

    family = "unavailable"
    http_status = 503


class ConfigurationError(ApisigError):
    """Keys, schemes, templates or role patterns are not usable: the deployment's
    mistake, not the client's.
    A server answers 500."""

    family = "configuration"
    http_status = 500


# ---- one class per core error, in code order ------------------------------------------------


class BufferTooSmall(ConfigurationError):
    """The caller's output buffer is too small; nothing was written (the C ABI sets
    ``*out_len`` to the size needed)."""

    code = 2
    name = "buffer_too_small"


class MissingCredential(MalformedRequest):
    """A credential header (or body field) the scheme requires is absent."""

    code = 10
    name = "missing_credential"


class DuplicateHeader(MalformedRequest):
    """A credential header appears more than once, so which one counts would be a guess."""

    code = 11
    name = "duplicate_header"


class InvalidHeaderValue(MalformedRequest):
    """A header value holds a byte HTTP does not allow there (CR, LF, NUL, other controls,
    non-ASCII) or starts or ends with whitespace; from C, text that is not UTF-8."""

    code = 12
    name = "invalid_header_value"


class FieldTooLong(MalformedRequest):
    """A field is longer than the fixed capacity reserved for it."""

    code = 13
    name = "field_too_long"


class InvalidMethod(MalformedRequest):
    """The method is not an HTTP token."""

    code = 14
    name = "invalid_method"


class SeparatorInField(MalformedRequest):
    """A signed field holds the template's separator, which would make the message ambiguous."""

    code = 15
    name = "separator_in_field"


class InvalidPath(MalformedRequest):
    """The path is not printable ASCII starting with ``/``."""

    code = 16
    name = "invalid_path"


class InvalidBody(MalformedRequest):
    """A body that should carry the credentials (APEX's ``AuthenticateUser``) is not what the
    scheme reads: not strict JSON, not one object, a credential that is not a string or, for
    a timestamp, nonce or user id, a number, or one written with escapes."""

    code = 17
    name = "invalid_body"


class UnknownKey(AuthenticationFailed):
    """No registered client matches the presented key or key id."""

    code = 20
    name = "unknown_key"


class SecretMismatch(AuthenticationFailed):
    """The presented secret is not the registered one."""

    code = 21
    name = "secret_mismatch"


class SignatureMismatch(AuthenticationFailed):
    """The signature does not match the request."""

    code = 22
    name = "signature_mismatch"


class InvalidSignatureEncoding(MalformedRequest):
    """The signature is not valid text in the scheme's encoding (case, length, alphabet)."""

    code = 23
    name = "invalid_signature_encoding"


class UserIdMismatch(AuthenticationFailed):
    """The user id is not the one bound to the key."""

    code = 24
    name = "user_id_mismatch"


class UnsupportedCredential(AuthenticationFailed):
    """The verifier is not configured for this kind of credential (a bearer JWT or session
    token it has no keys for)."""

    code = 25
    name = "unsupported_credential"


class InvalidTimestamp(MalformedRequest):
    """The timestamp is not 1 to 20 decimal digits fitting in a ``u64``."""

    code = 30
    name = "invalid_timestamp"


class TimestampOutsideWindow(AuthenticationFailed):
    """The timestamp is outside the accepted window around ``now``."""

    code = 31
    name = "timestamp_outside_window"


class InvalidNonce(MalformedRequest):
    """The nonce is missing or not 1 to 20 decimal digits fitting in a ``u64``."""

    code = 32
    name = "invalid_nonce"


class ReplayedRequest(AuthenticationFailed):
    """The request (its nonce or its signature) was already accepted."""

    code = 33
    name = "replayed_request"


class ReplayCacheFull(ServiceUnavailable):
    """The replay cache has no free slot: every slot holds a live entry. Fails closed."""

    code = 34
    name = "replay_cache_full"


class ReplayStoreUnavailable(ServiceUnavailable):
    """A shared replay store (Redis) could not be reached; the request is refused (fail
    closed) unless the deployment chose to fail open."""

    code = 35
    name = "replay_store_unavailable"


class NonCanonicalPath(AuthorizationFailed, ValueError):
    """The path is not in canonical form (dot segments, ``//``, backslash, ``;``, encoded
    separators, control bytes); it is refused, never normalised."""

    code = 40
    name = "non_canonical_path"


class Forbidden(AuthorizationFailed):
    """The client's role is not allowed on this path, or its scopes lack one the request
    needs (``ScopeNames::authorize``)."""

    code = 41
    name = "forbidden"


class InvalidPattern(ConfigurationError, ValueError):
    """A role pattern, scope name or allowed-address range (CIDR) is not valid."""

    code = 42
    name = "invalid_pattern"


class KeyringFull(ConfigurationError):
    """The keyring has no room for another client."""

    code = 50
    name = "keyring_full"


class DuplicateKeyId(ConfigurationError, ValueError):
    """A client with this key id (or this key or secret) is already registered; in a key
    store, a client with this id exists, or already has a key in the slot to issue into."""

    code = 51
    name = "duplicate_key_id"


class EmptySecret(ConfigurationError, ValueError):
    """A secret, key or token is empty."""

    code = 52
    name = "empty_secret"


class InvalidTemplate(ConfigurationError, ValueError):
    """A scheme or message template is not coherent (see ``Scheme::check``), or names a
    field, part, encoding or unit this version does not know."""

    code = 53
    name = "invalid_template"


class TokenMalformed(InvalidToken, ValueError):
    """A token is not well formed: wrong number of parts, non-canonical base64url, JSON that
    is not an object of the expected shape, an unsupported ``crit`` header."""

    code = 60
    name = "token_malformed"


class TokenTooLong(InvalidToken):
    """A token is longer than the accepted maximum."""

    code = 61
    name = "token_too_long"


class AlgorithmNone(InvalidToken):
    """A JWT names the ``none`` algorithm (in any letter case)."""

    code = 62
    name = "algorithm_none"


class AlgorithmNotAllowed(InvalidToken):
    """A JWT names an algorithm other than HS256."""

    code = 63
    name = "algorithm_not_allowed"


class MissingAlgorithm(InvalidToken):
    """A JWT header has no ``alg``."""

    code = 64
    name = "missing_algorithm"


class DuplicateField(InvalidToken):
    """A JWT header or claims set names the same member twice."""

    code = 65
    name = "duplicate_field"


class EmbeddedKey(InvalidToken):
    """A JWT header embeds or points to a key (``jwk``, ``jku``, ``x5u``, ``x5c``)."""

    code = 66
    name = "embedded_key"


class TokenExpired(InvalidToken):
    """The token has expired."""

    code = 67
    name = "token_expired"


class TokenNotYetValid(InvalidToken):
    """The token is not valid yet (``nbf`` or ``iat`` in the future)."""

    code = 68
    name = "token_not_yet_valid"


class MissingClaim(InvalidToken):
    """A required claim (``exp`` by default) is absent."""

    code = 69
    name = "missing_claim"


class ClaimMismatch(InvalidToken):
    """``iss``, ``aud`` or ``sub`` is not the expected value."""

    code = 70
    name = "claim_mismatch"


class InvalidCertificate(AuthenticationFailed, ValueError):
    """The peer certificate is not DER this parser understands."""

    code = 80
    name = "invalid_certificate"


class UnpinnedCertificate(AuthenticationFailed):
    """The peer certificate is not pinned to any registered client."""

    code = 81
    name = "unpinned_certificate"


class CertificateRevoked(AuthorizationFailed):
    """The OCSP responder says the client certificate is revoked. Never softened by fail-soft."""

    code = 100
    name = "certificate_revoked"


class CertificateStatusUnknown(AuthorizationFailed):
    """The OCSP responder does not know the client certificate (``unknown``)."""

    code = 101
    name = "certificate_status_unknown"


class OcspUnavailable(ServiceUnavailable):
    """The OCSP responder could not be reached, timed out or answered other than HTTP 200."""

    code = 102
    name = "ocsp_unavailable"


class OcspResponderError(ServiceUnavailable):
    """The OCSP responder answered with a ``responseStatus`` other than ``successful``."""

    code = 103
    name = "ocsp_responder_error"


class OcspMalformed(ServiceUnavailable):
    """The OCSP response is not a well-formed basic response for one certificate."""

    code = 104
    name = "ocsp_malformed"


class OcspResponseTooLarge(ServiceUnavailable):
    """The OCSP response is longer than the accepted maximum."""

    code = 105
    name = "ocsp_response_too_large"


class OcspCertIdMismatch(ServiceUnavailable):
    """The OCSP response is about another certificate (serial or issuer hashes differ)."""

    code = 106
    name = "ocsp_cert_id_mismatch"


class OcspNonceMismatch(ServiceUnavailable):
    """A nonce was sent and the OCSP response does not echo it unchanged."""

    code = 107
    name = "ocsp_nonce_mismatch"


class OcspUnauthorizedResponder(ServiceUnavailable):
    """The OCSP response is signed neither by the certificate's issuer nor by a current
    delegated responder that the issuer certified for ``id-kp-OCSPSigning``."""

    code = 108
    name = "ocsp_unauthorized_responder"


class OcspSignatureInvalid(ServiceUnavailable):
    """The OCSP response's signature does not verify with its signer's key, or uses an
    algorithm that is not accepted."""

    code = 109
    name = "ocsp_signature_invalid"


class OcspResponseStale(ServiceUnavailable):
    """The OCSP response is out of date (``nextUpdate``, or ``thisUpdate`` plus the maximum age,
    is in the past beyond the tolerated skew)."""

    code = 110
    name = "ocsp_response_stale"


class OcspResponseNotYetValid(ServiceUnavailable):
    """The OCSP response's ``thisUpdate`` is in the future beyond the tolerated skew."""

    code = 111
    name = "ocsp_response_not_yet_valid"


class OcspNoResponder(ServiceUnavailable):
    """No OCSP responder is configured and the certificate names none (Authority
    Information Access)."""

    code = 112
    name = "ocsp_no_responder"


class StoreUnavailable(ServiceUnavailable):
    """The client store (a database, or the cache in front of it) could not be reached or did
    not answer; the request is refused (fail closed) unless the deployment chose otherwise."""

    code = 120
    name = "store_unavailable"


class ClientRevoked(AuthenticationFailed):
    """The client is revoked: every key, pin, token and session of it is refused, whatever
    the credential."""

    code = 121
    name = "client_revoked"


class KeyRevoked(AuthenticationFailed):
    """The key (or certificate pin) that matched is revoked; the client's other slot may
    still work."""

    code = 122
    name = "key_revoked"


class KeyExpired(AuthenticationFailed):
    """The key (or certificate pin) that matched is past its expiry."""

    code = 123
    name = "key_expired"


class ClientDisabled(AuthenticationFailed):
    """The client is disabled for now (it may be enabled again), whatever the credential."""

    code = 124
    name = "client_disabled"


class AddressNotAllowed(AuthorizationFailed):
    """The client may only connect from other addresses than the request's peer (or the
    server gave no peer address for a client with an allow-list: fail closed)."""

    code = 125
    name = "address_not_allowed"


class InvalidKeyFormat(MalformedRequest):
    """A presented key that claims the issued-key format (a product and kind prefix, a random
    part, a CRC32 checksum) is not well formed or its checksum does not match: a typo or a
    truncated key, refused before any store is asked."""

    code = 126
    name = "invalid_key_format"


class InvalidForwardedFor(MalformedRequest):
    """The ``X-Forwarded-For`` header a trusted proxy passed on is not a comma-separated list
    of bare IP addresses, so the client's address behind it is unknown."""

    code = 127
    name = "invalid_forwarded_for"


class UnknownKid(ServiceUnavailable):
    """No key of the issuer's JWK set has the token's ``kid`` (after the set was refetched, if
    the face refetches): the set may be stale, so this fails closed as unavailable."""

    code = 130
    name = "unknown_kid"


class KeyTypeMismatch(AuthenticationFailed):
    """The key the token's ``kid`` names is of another type than the token's ``alg`` (an RSA key
    for ES256, say), or the JWK's own ``alg`` differs from the token's."""

    code = 131
    name = "key_type_mismatch"


class JwksMalformed(ServiceUnavailable):
    """The JWK set is not JSON of the RFC 7517 shape, or a supported key in it is malformed
    (coordinates of the wrong length, a point not on the curve, a bad RSA modulus)."""

    code = 132
    name = "jwks_malformed"


class JwksTooLarge(ServiceUnavailable):
    """The JWK set document is longer, or holds more usable keys, than the set can hold."""

    code = 133
    name = "jwks_too_large"


class SymmetricAlgorithm(AuthenticationFailed):
    """An HMAC algorithm (``HS*``) on a token of an issuer whose keys are asymmetric: the
    algorithm-confusion attack (an HMAC keyed with the public key)."""

    code = 134
    name = "symmetric_algorithm"


class CritUnsupported(AuthenticationFailed):
    """The token's header has ``crit``: apisig understands no JWS extension."""

    code = 135
    name = "crit_unsupported"


class TokenTypeMismatch(AuthenticationFailed):
    """The token's ``typ`` is not ``at+jwt`` (or, unless the RFC 9068 profile is required, ``JWT``)."""

    code = 136
    name = "token_type_mismatch"


class MissingKid(AuthenticationFailed):
    """The token has no ``kid`` and the issuer's set has more than one key for its algorithm."""

    code = 137
    name = "missing_kid"


class IssuerMismatch(AuthenticationFailed):
    """The token's ``iss`` is not the issuer's identifier, exactly."""

    code = 138
    name = "issuer_mismatch"


class AudienceMismatch(AuthenticationFailed):
    """The token's ``aud`` does not contain the configured audience."""

    code = 139
    name = "audience_mismatch"


class JwkWeakKey(ServiceUnavailable):
    """An RSA key of the JWK set is shorter than 2048 bits (or longer than 4096)."""

    code = 140
    name = "jwk_weak_key"


class JwksUnavailable(ServiceUnavailable):
    """The issuer's JWK set could not be fetched and no earlier good set is kept."""

    code = 141
    name = "jwks_unavailable"


class DiscoveryMismatch(ConfigurationError):
    """The discovery document's ``issuer`` is not the configured issuer, or it lacks a needed
    endpoint."""

    code = 142
    name = "discovery_mismatch"


class TokenInactive(AuthenticationFailed):
    """The introspection endpoint says the token is not active (RFC 7662 ``"active": false``),
    or its ``exp`` has passed."""

    code = 143
    name = "token_inactive"


class IntrospectionUnavailable(ServiceUnavailable):
    """The introspection endpoint could not be reached or did not answer with an RFC 7662
    response (failing closed)."""

    code = 144
    name = "introspection_unavailable"


class IntrospectionMalformed(ServiceUnavailable):
    """The introspection endpoint's answer is not an RFC 7662 response: not one JSON object,
    ``active`` missing or not a boolean, a registered claim of the wrong type (failing closed)."""

    code = 145
    name = "introspection_malformed"


class InvalidMasterKey(ConfigurationError):
    """No master key was given to open a key store (from C: none passed, and neither
    ``APISIG_MASTER_KEY`` nor ``APISIG_MASTER_KEY_FILE`` is set or readable), or it is not a
    key: 32 bytes, or 64 hexadecimal digits."""

    code = 150
    name = "invalid_master_key"


class WrongMasterKey(ConfigurationError):
    """The key store's secrets are sealed under another master key than the one given: the
    store refuses to open (rather than every HMAC signature failing later)."""

    code = 151
    name = "wrong_master_key"


class InvalidStoreUrl(ConfigurationError):
    """The key store URL is not one this build opens (``sqlite:…``, ``postgres://…``)."""

    code = 152
    name = "invalid_store_url"


class InvalidAddress(ConfigurationError):
    """A peer address the server passed is not an IPv4 or IPv6 address (from C: an
    ``apisig_ip`` of another family, or text that is no address)."""

    code = 153
    name = "invalid_address"


_BY_CODE: dict[int, type[ApisigError]] = {
    2: BufferTooSmall,
    10: MissingCredential,
    11: DuplicateHeader,
    12: InvalidHeaderValue,
    13: FieldTooLong,
    14: InvalidMethod,
    15: SeparatorInField,
    16: InvalidPath,
    17: InvalidBody,
    20: UnknownKey,
    21: SecretMismatch,
    22: SignatureMismatch,
    23: InvalidSignatureEncoding,
    24: UserIdMismatch,
    25: UnsupportedCredential,
    30: InvalidTimestamp,
    31: TimestampOutsideWindow,
    32: InvalidNonce,
    33: ReplayedRequest,
    34: ReplayCacheFull,
    35: ReplayStoreUnavailable,
    40: NonCanonicalPath,
    41: Forbidden,
    42: InvalidPattern,
    50: KeyringFull,
    51: DuplicateKeyId,
    52: EmptySecret,
    53: InvalidTemplate,
    60: TokenMalformed,
    61: TokenTooLong,
    62: AlgorithmNone,
    63: AlgorithmNotAllowed,
    64: MissingAlgorithm,
    65: DuplicateField,
    66: EmbeddedKey,
    67: TokenExpired,
    68: TokenNotYetValid,
    69: MissingClaim,
    70: ClaimMismatch,
    80: InvalidCertificate,
    81: UnpinnedCertificate,
    100: CertificateRevoked,
    101: CertificateStatusUnknown,
    102: OcspUnavailable,
    103: OcspResponderError,
    104: OcspMalformed,
    105: OcspResponseTooLarge,
    106: OcspCertIdMismatch,
    107: OcspNonceMismatch,
    108: OcspUnauthorizedResponder,
    109: OcspSignatureInvalid,
    110: OcspResponseStale,
    111: OcspResponseNotYetValid,
    112: OcspNoResponder,
    120: StoreUnavailable,
    121: ClientRevoked,
    122: KeyRevoked,
    123: KeyExpired,
    124: ClientDisabled,
    125: AddressNotAllowed,
    126: InvalidKeyFormat,
    127: InvalidForwardedFor,
    130: UnknownKid,
    131: KeyTypeMismatch,
    132: JwksMalformed,
    133: JwksTooLarge,
    134: SymmetricAlgorithm,
    135: CritUnsupported,
    136: TokenTypeMismatch,
    137: MissingKid,
    138: IssuerMismatch,
    139: AudienceMismatch,
    140: JwkWeakKey,
    141: JwksUnavailable,
    142: DiscoveryMismatch,
    143: TokenInactive,
    144: IntrospectionUnavailable,
    145: IntrospectionMalformed,
    150: InvalidMasterKey,
    151: WrongMasterKey,
    152: InvalidStoreUrl,
    153: InvalidAddress,
}


def _from_code(code: int, name: str, message: str) -> ApisigError:
    """The exception for a core error (called by ``apisig._native``). A code this module does
    not know (a newer core) still raises an ``ApisigError`` carrying the code and name."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    err = ApisigError(message)
    err.code = code  # type: ignore[misc]
    err.name = name  # type: ignore[misc]
    return err
