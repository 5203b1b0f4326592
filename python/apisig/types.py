"""The fixed sets of text values the API takes and returns, as ``Literal`` types (checked against
the native module by the tests). Re-exported by :mod:`apisig`."""

from typing import Literal, TypeAlias

__all__ = [
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
]

Slot: TypeAlias = Literal["primary", "secondary"]
"""Which of a client's two keys (or pins, or of the two session secrets) is meant."""

TimeUnit: TypeAlias = Literal["s", "ms", "ns"]
"""The unit of a scheme's timestamps: seconds, milliseconds, nanoseconds."""

Encoding: TypeAlias = Literal["lower_hex", "upper_hex", "hex", "base64"]
"""How a scheme writes its signature (``hex`` is lowercase when signing, either case when
verifying)."""

HeaderField: TypeAlias = Literal[
    "api_key", "secret", "jwt", "session_token", "timestamp", "nonce", "user_id", "signature"
]
"""The credential a scheme's header carries (``key_id`` is accepted as another name for
``api_key``)."""

TemplatePart: TypeAlias = Literal["api_key", "timestamp", "nonce", "user_id", "method", "path", "body"]
"""A named part of a signing scheme's canonical message (``key_id`` is accepted as another
name for ``api_key``); literal text and header values are given as mappings."""

SchemeKind: TypeAlias = Literal["static_key", "key_and_secret", "token", "signed"]
"""What a scheme's credential is: a static key, a key with its secret, a token, or a signed
request."""

PinKind: TypeAlias = Literal["certificate", "spki"]
"""What a certificate pin fingerprints: the whole DER certificate, or its public key
(SubjectPublicKeyInfo)."""

MtlsMode: TypeAlias = Literal["alone", "combined"]
"""How the middleware uses a pinned client certificate: by itself, or with a scheme's
credentials naming the same client."""

ClientAuthMethod: TypeAlias = Literal["client_secret_basic", "client_secret_post"]
"""How an OAuth2 client authenticates at the token endpoint (RFC 6749 §2.3.1): HTTP Basic, or
the credentials in the form body."""

KeyKind: TypeAlias = Literal["static", "hmac"]
"""What an issued key is: a static key (the store keeps its SHA-256 digest) or an HMAC signing
secret (sealed under the master key)."""

ClientStatus: TypeAlias = Literal["active", "disabled", "revoked"]
"""Whether a stored client may authenticate: active, disabled for now, revoked for good."""
