"""The exceptions apisig raises: one class per core error, each carrying the core's stable
numeric ``code`` and snake_case ``name`` (the same codes the C ABI returns).

The classes are grouped by what a caller does about them::

    ApisigError
    ├── MalformedRequest (also ValueError)   the request cannot be signed or verified as given
    ├── AuthenticationFailed                 the credentials are not good: answer 401
    │   └── InvalidToken                     a bearer JWT or session token was refused
    ├── AuthorizationFailed                  authenticated, but not allowed here: answer 403
    ├── ReplayCacheFull                      fail closed: the replay record has no free slot
    ├── RevocationCheckFailed                fail closed: OCSP could not establish the status
    └── ConfigurationError                   keys, schemes, templates or patterns are wrong

so ``except apisig.ReplayedRequest:`` catches one case and ``except apisig.AuthenticationFailed:``
a family. Instances pickle and compare by message like any exception.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "AlgorithmNone",
    "AlgorithmNotAllowed",
    "ApisigError",
    "AuthenticationFailed",
    "AuthorizationFailed",
    "BufferTooSmall",
    "CertificateRevoked",
    "CertificateStatusUnknown",
    "ClaimMismatch",
    "ConfigurationError",
    "DuplicateField",
    "DuplicateHeader",
    "DuplicateKeyId",
    "EmbeddedKey",
    "EmptySecret",
    "FieldTooLong",
    "Forbidden",
    "InvalidCertificate",
    "InvalidHeaderValue",
    "InvalidMethod",
    "InvalidNonce",
    "InvalidPath",
    "InvalidPattern",
    "InvalidSignatureEncoding",
    "InvalidTemplate",
    "InvalidTimestamp",
    "InvalidToken",
    "KeyringFull",
    "MalformedRequest",
    "MissingAlgorithm",
    "MissingClaim",
    "MissingCredential",
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
    "RevocationCheckFailed",
    "SecretMismatch",
    "SeparatorInField",
    "SignatureMismatch",
    "TimestampOutsideWindow",
    "TokenExpired",
    "TokenMalformed",
    "TokenNotYetValid",
    "TokenTooLong",
    "UnknownKey",
    "UnpinnedCertificate",
    "UnsupportedCredential",
    "UserIdMismatch",
]


class ApisigError(Exception):
    """Base class of every apisig error. ``code`` and ``name`` identify the core error."""

    code: ClassVar[int] = 0
    name: ClassVar[str] = "apisig_error"


# ---- families -------------------------------------------------------------------------------


class MalformedRequest(ApisigError, ValueError):
    """The request cannot be signed or verified as given (a missing or repeated header, a
    value HTTP cannot carry, a bad method, path, timestamp or nonce)."""


class AuthenticationFailed(ApisigError):
    """The presented credentials are not good: unknown key, wrong secret or signature, stale
    or replayed request. A server answers 401."""


class InvalidToken(AuthenticationFailed):
    """A bearer JWT or session token was refused."""


class AuthorizationFailed(ApisigError):
    """The client is authenticated but its role does not allow this request. A server answers
    403."""


class ConfigurationError(ApisigError):
    """Keys, schemes, templates or role patterns are not usable."""


class RevocationCheckFailed(ApisigError):
    """The client certificate's revocation status could not be established (OCSP: responder
    unreachable, response badly signed, stale or malformed); refused, fail closed. A server
    answers 503."""


# ---- one class per core error (code order) --------------------------------------------------


class BufferTooSmall(ConfigurationError):
    """An internal output buffer was too small (a bug if it ever reaches Python)."""

    code = 2
    name = "buffer_too_small"


class MissingCredential(MalformedRequest):
    """A credential header (or body field) the scheme requires is absent."""

    code = 10
    name = "missing_credential"


class DuplicateHeader(MalformedRequest):
    """A credential header appears more than once."""

    code = 11
    name = "duplicate_header"


class InvalidHeaderValue(MalformedRequest):
    """A header value holds a byte HTTP does not allow there, or edge whitespace."""

    code = 12
    name = "invalid_header_value"


class FieldTooLong(MalformedRequest):
    """A field is longer than the capacity reserved for it."""

    code = 13
    name = "field_too_long"


class InvalidMethod(MalformedRequest):
    """The method is not an HTTP token."""

    code = 14
    name = "invalid_method"


class SeparatorInField(MalformedRequest):
    """A signed field holds the template's separator (the message would be ambiguous)."""

    code = 15
    name = "separator_in_field"


class InvalidPath(MalformedRequest):
    """The path is not printable ASCII starting with ``/``."""

    code = 16
    name = "invalid_path"


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
    """The signature is not valid text in the scheme's encoding."""

    code = 23
    name = "invalid_signature_encoding"


class UserIdMismatch(AuthenticationFailed):
    """The user id is not the one bound to the key."""

    code = 24
    name = "user_id_mismatch"


class UnsupportedCredential(AuthenticationFailed):
    """The verifier is not configured for this kind of credential."""

    code = 25
    name = "unsupported_credential"


class InvalidTimestamp(MalformedRequest):
    """The timestamp is not 1 to 20 decimal digits fitting in 64 bits."""

    code = 30
    name = "invalid_timestamp"


class TimestampOutsideWindow(AuthenticationFailed):
    """The timestamp is outside the accepted window around now."""

    code = 31
    name = "timestamp_outside_window"


class InvalidNonce(MalformedRequest):
    """The nonce is missing or not 1 to 20 decimal digits fitting in 64 bits."""

    code = 32
    name = "invalid_nonce"


class ReplayedRequest(AuthenticationFailed):
    """The request (its signature or nonce) was already accepted."""

    code = 33
    name = "replayed_request"


class ReplayCacheFull(ApisigError):
    """The replay record has no free slot; the request is refused (fail closed). A server
    answers 503."""

    code = 34
    name = "replay_cache_full"


class ReplayStoreUnavailable(ApisigError):
    """A shared replay store (Redis) could not be reached; the request is refused (fail
    closed). A server answers 503."""

    code = 35
    name = "replay_store_unavailable"


class NonCanonicalPath(AuthorizationFailed, ValueError):
    """The path is not in canonical form; it is refused, never normalised."""

    code = 40
    name = "non_canonical_path"


class Forbidden(AuthorizationFailed):
    """The client's role is not allowed on this path."""

    code = 41
    name = "forbidden"


class InvalidPattern(ConfigurationError, ValueError):
    """A role pattern is not valid."""

    code = 42
    name = "invalid_pattern"


class KeyringFull(ConfigurationError):
    """The keyring has no room for another client."""

    code = 50
    name = "keyring_full"


class DuplicateKeyId(ConfigurationError, ValueError):
    """A client with this key id (or this key) is already registered."""

    code = 51
    name = "duplicate_key_id"


class EmptySecret(ConfigurationError, ValueError):
    """A secret, key or token is empty."""

    code = 52
    name = "empty_secret"


class InvalidTemplate(ConfigurationError, ValueError):
    """A scheme or message template is not coherent."""

    code = 53
    name = "invalid_template"


class TokenMalformed(InvalidToken, ValueError):
    """A token is not well formed."""

    code = 60
    name = "token_malformed"


class TokenTooLong(InvalidToken):
    """A token is longer than the accepted maximum."""

    code = 61
    name = "token_too_long"


class AlgorithmNone(InvalidToken):
    """A JWT names the ``none`` algorithm."""

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
    """A JWT header embeds or points to a key."""

    code = 66
    name = "embedded_key"


class TokenExpired(InvalidToken):
    """The token has expired."""

    code = 67
    name = "token_expired"


class TokenNotYetValid(InvalidToken):
    """The token is not valid yet."""

    code = 68
    name = "token_not_yet_valid"


class MissingClaim(InvalidToken):
    """A required claim is absent."""

    code = 69
    name = "missing_claim"


class ClaimMismatch(InvalidToken):
    """``iss``, ``aud`` or ``sub`` is not the expected value."""

    code = 70
    name = "claim_mismatch"


class InvalidCertificate(AuthenticationFailed, ValueError):
    """The peer certificate is not DER the core understands."""

    code = 80
    name = "invalid_certificate"


class UnpinnedCertificate(AuthenticationFailed):
    """The peer certificate is not pinned to any registered client."""

    code = 81
    name = "unpinned_certificate"


class CertificateRevoked(AuthorizationFailed):
    """The client certificate is revoked (its CA's OCSP responder says so). Never softened by
    fail-soft."""

    code = 100
    name = "certificate_revoked"


class CertificateStatusUnknown(AuthorizationFailed):
    """The OCSP responder does not know the client certificate."""

    code = 101
    name = "certificate_status_unknown"


class OcspUnavailable(RevocationCheckFailed):
    """The OCSP responder could not be reached, timed out or answered other than HTTP 200."""

    code = 102
    name = "ocsp_unavailable"


class OcspResponderError(RevocationCheckFailed):
    """The OCSP responder answered with an error status (not ``successful``)."""

    code = 103
    name = "ocsp_responder_error"


class OcspMalformed(RevocationCheckFailed):
    """The OCSP response is not a well-formed basic response."""

    code = 104
    name = "ocsp_malformed"


class OcspResponseTooLarge(RevocationCheckFailed):
    """The OCSP response is longer than the accepted maximum."""

    code = 105
    name = "ocsp_response_too_large"


class OcspCertIdMismatch(RevocationCheckFailed):
    """The OCSP response is about another certificate."""

    code = 106
    name = "ocsp_cert_id_mismatch"


class OcspNonceMismatch(RevocationCheckFailed):
    """The OCSP response does not echo the request's nonce."""

    code = 107
    name = "ocsp_nonce_mismatch"


class OcspUnauthorizedResponder(RevocationCheckFailed):
    """The OCSP response is signed neither by the issuer nor by a delegated responder the
    issuer certified for OCSP signing."""

    code = 108
    name = "ocsp_unauthorized_responder"


class OcspSignatureInvalid(RevocationCheckFailed):
    """The OCSP response's signature does not verify (or uses a refused algorithm)."""

    code = 109
    name = "ocsp_signature_invalid"


class OcspResponseStale(RevocationCheckFailed):
    """The OCSP response is out of date."""

    code = 110
    name = "ocsp_response_stale"


class OcspResponseNotYetValid(RevocationCheckFailed):
    """The OCSP response's ``thisUpdate`` is in the future."""

    code = 111
    name = "ocsp_response_not_yet_valid"


class OcspNoResponder(RevocationCheckFailed):
    """No OCSP responder is known for the certificate (none configured, none in its Authority
    Information Access, or its issuer is not among the checker's)."""

    code = 112
    name = "ocsp_no_responder"


def _leaves() -> list[type[ApisigError]]:
    out: list[type[ApisigError]] = []
    pending: list[type[ApisigError]] = [ApisigError]
    while pending:
        cls = pending.pop()
        if cls.code:
            out.append(cls)
        pending.extend(cls.__subclasses__())
    return out


_BY_CODE: dict[int, type[ApisigError]] = {cls.code: cls for cls in _leaves()}


def _from_code(code: int, name: str, message: str) -> ApisigError:
    """The exception for a core error (called by ``apisig._native``). A code this module does
    not know yet (a newer core) still raises an ``ApisigError`` carrying the code and name."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    err = ApisigError(message)
    err.code = code  # type: ignore[misc]
    err.name = name  # type: ignore[misc]
    return err
