"""apisig: sign and verify API requests in the dialects real services use.

Every protocol decision lives in the Rust core (``apisig._native``); this package re-exports
it with exceptions defined in Python (:mod:`apisig.exceptions`). Client integrations are in
:mod:`apisig.client` (httpx and requests) and :mod:`apisig.oauth` (OAuth2 client credentials,
ZignSec), server middleware in :mod:`apisig.server` (ASGI and WSGI), mutual TLS contexts and
peer certificates in :mod:`apisig.tls`, and the ``apisig`` command line in :mod:`apisig.cli`.
The fixed sets of text values (key slots, time units, encodings, ...) are ``Literal`` types in
:mod:`apisig.types`.
"""

from . import exceptions
from ._native import (
    ACCESS_TOKEN_MAX_LEN,
    AEVO,
    AEVO_SECRET,
    APEX,
    APEX_SESSION,
    CLAIM_MARKER_SUFFIX,
    CLAIM_RECOVERY_MS,
    CLAIM_SCRIPT,
    DETACH_THRESHOLD,
    INTROSPECTION_MAX_LEN,
    JWKS_CAPACITY,
    JWT_MAX_LEN,
    OCSP_RESPONSE_MAX_LEN,
    PIN_LEN,
    SECUROSYS,
    SECUROSYS_JWT,
    SECUROSYS_ROLES,
    SIGNIUS,
    TAG_LEN,
    ZIGNSEC,
    ZIGNSEC_LEGACY,
    ZIGNSEC_OAUTH,
    Attempt,
    ClientInfo,
    ErrorInfo,
    FamilyInfo,
    JwkSet,
    JwtClaims,
    JwtPolicy,
    KeyInfo,
    MasterKeyError,
    Next,
    Policy,
    Principal,
    ReplayClaim,
    Rotation,
    Scheme,
    Session,
    SessionKeys,
    Signer,
    Store,
    StoreError,
    TokenLifetime,
    Verifier,
    __version__,
    check_canonical,
    error_table,
    fingerprint,
    hmac_sign,
    hmac_verify,
    introspection_check,
    jwt_encode,
    jwt_verify,
    ocsp_cache_until,
    ocsp_verdict,
    pattern_matches,
    preset_names,
)
from .exceptions import *  # noqa: F403  (every exception class: see exceptions.__all__)
from .replay import verify_async
from .types import (
    ClientAuthMethod,
    ClientStatus,
    Encoding,
    HeaderField,
    KeyKind,
    MtlsMode,
    PinKind,
    SchemeKind,
    Slot,
    TemplatePart,
    TimeUnit,
)

PRESETS: dict[str, Scheme] = {name: Scheme.preset_named(name) for name in preset_names()}
"""Every preset scheme by name (``"aevo"``, ``"apex"``, ...)."""


def scheme(name_or_spec: str | object) -> Scheme:
    """A preset by name, or a user-defined scheme from a mapping or dataclass (see
    :meth:`Scheme.from_dict`)."""
    if isinstance(name_or_spec, Scheme):
        return name_or_spec
    if isinstance(name_or_spec, str):
        return Scheme.preset_named(name_or_spec)
    return Scheme.from_dict(name_or_spec)


__all__ = [  # noqa: RUF022  (grouped: the native API, the Literal types, then this package's own)
    "ACCESS_TOKEN_MAX_LEN",
    "AEVO",
    "AEVO_SECRET",
    "APEX",
    "APEX_SESSION",
    "CLAIM_MARKER_SUFFIX",
    "CLAIM_RECOVERY_MS",
    "CLAIM_SCRIPT",
    "DETACH_THRESHOLD",
    "INTROSPECTION_MAX_LEN",
    "JWKS_CAPACITY",
    "JWT_MAX_LEN",
    "OCSP_RESPONSE_MAX_LEN",
    "PIN_LEN",
    "SECUROSYS",
    "SECUROSYS_JWT",
    "SECUROSYS_ROLES",
    "SIGNIUS",
    "TAG_LEN",
    "ZIGNSEC",
    "ZIGNSEC_LEGACY",
    "ZIGNSEC_OAUTH",
    "Attempt",
    "ClientInfo",
    "ErrorInfo",
    "FamilyInfo",
    "JwkSet",
    "JwtClaims",
    "JwtPolicy",
    "KeyInfo",
    "MasterKeyError",
    "Next",
    "Policy",
    "Principal",
    "ReplayClaim",
    "Rotation",
    "Scheme",
    "Session",
    "SessionKeys",
    "Signer",
    "Store",
    "StoreError",
    "TokenLifetime",
    "Verifier",
    "__version__",
    "check_canonical",
    "error_table",
    "fingerprint",
    "hmac_sign",
    "hmac_verify",
    "introspection_check",
    "jwt_encode",
    "jwt_verify",
    "ocsp_cache_until",
    "ocsp_verdict",
    "pattern_matches",
    "preset_names",
    "PRESETS",
    "scheme",
    "ClientAuthMethod",
    "ClientStatus",
    "Encoding",
    "HeaderField",
    "KeyKind",
    "MtlsMode",
    "PinKind",
    "SchemeKind",
    "Slot",
    "TemplatePart",
    "TimeUnit",
    "verify_async",
]
__all__ += exceptions.__all__
