"""The pyo3 face of the apisig core (hand-written stubs; checked by ``mypy.stubtest``)."""

from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, ClassVar, Final, TypeAlias, final

from .replay import AsyncReplayStore, ReplayStore
from .types import (
    ClientStatus,
    Encoding,
    HeaderField,
    KeyKind,
    PinKind,
    SchemeKind,
    Slot,
    TemplatePart,
    TimeUnit,
)

_Buffer: TypeAlias = bytes | bytearray | memoryview
_HeaderValue: TypeAlias = str | bytes
_Headers: TypeAlias = Mapping[str, _HeaderValue] | Iterable[tuple[str | bytes, _HeaderValue]]

__all__ = [
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
    "_AsgiGate",
    "_TrustedProxies",
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
]

SIGNIUS: Final[Scheme]
SECUROSYS: Final[Scheme]
SECUROSYS_JWT: Final[Scheme]
ZIGNSEC: Final[Scheme]
ZIGNSEC_LEGACY: Final[Scheme]
ZIGNSEC_OAUTH: Final[Scheme]
APEX: Final[Scheme]
APEX_SESSION: Final[Scheme]
AEVO_SECRET: Final[Scheme]
AEVO: Final[Scheme]
SECUROSYS_ROLES: Final[Policy]
"""The Securosys TSB role table, verbatim from the document."""
TAG_LEN: Final[int]
"""Length of an HMAC-SHA256 tag in bytes (32)."""
DETACH_THRESHOLD: Final[int]
"""Bodies at least this long are signed and verified without holding the GIL."""
ACCESS_TOKEN_MAX_LEN: Final[int]
"""Longest OpenID access token :meth:`JwkSet.verify` accepts by default (8192 bytes)."""
JWKS_CAPACITY: Final[int]
"""Most usable keys a :class:`JwkSet` holds."""
INTROSPECTION_MAX_LEN: Final[int]
"""Longest introspection answer :func:`introspection_check` reads (16 KiB)."""
JWT_MAX_LEN: Final[int]
"""Longest JWT accepted (2048 bytes, the core's ``jwt::TOKEN_MAX``): :func:`jwt_verify`'s
default ``max_len``, and what a :class:`Verifier` reads."""
PIN_LEN: Final[int]
"""Length of a certificate fingerprint in bytes (32, SHA-256)."""
CLAIM_SCRIPT: Final[str]
"""The Redis Lua script that makes a :class:`ReplayClaim` good and notices a Redis that lost
its memory (the core's ``apisig::claim::CLAIM_SCRIPT``; see :mod:`apisig.replay`)."""
CLAIM_RECOVERY_MS: Final[int]
"""How long a store that lost its memory refuses by default: 600 000 ms."""
CLAIM_MARKER_SUFFIX: Final[str]
"""The memory marker's key is the namespace followed by this (``":epoch"``)."""
__version__: Final[str]

@final
class Scheme:
    """An authentication scheme: which headers carry which credential and, for signing
    schemes, the canonical message template. Presets are the module constants.

    ``headers`` are ``(name, field)`` or ``(name, field, prefix)``; fields are ``api_key``
    (alias ``key_id``), ``secret``, ``jwt``, ``session_token``, ``timestamp``, ``nonce``,
    ``user_id``, ``signature``. ``parts`` (signing schemes) are ``api_key``, ``timestamp``,
    ``nonce``, ``user_id``, ``method``, ``path``, ``body``, ``{"literal": text}`` or
    ``{"header": name}``. ``encoding``: ``lower_hex``, ``upper_hex``, ``hex``, ``base64``.
    ``time_unit``: ``s``, ``ms``, ``ns``. ``retry_on_forbidden``: a client holding several keys
    retries with another on 403 as well as 401 (ZignSec), see :meth:`Rotation.for_scheme`.
    Raises ``InvalidTemplate`` for an incoherent scheme (two headers of one name, in any case,
    included).
    """

    def __new__(
        cls,
        name: str,
        headers: Iterable[tuple[str, HeaderField] | tuple[str, HeaderField, str] | list[str] | Any],
        *,
        parts: Iterable[TemplatePart | Mapping[str, str | bytes]] | None = None,
        separator: str | bytes | None = None,
        encoding: Encoding = "lower_hex",
        time_unit: TimeUnit = "s",
        retry_on_forbidden: bool = False,
    ) -> Scheme: ...
    @staticmethod
    def from_dict(spec: Any) -> Scheme:
        """A scheme from a mapping or a dataclass with the constructor's fields."""
    @staticmethod
    def preset_named(name: str) -> Scheme:
        """The preset called ``name``; raises ``InvalidTemplate`` for an unknown name."""
    @property
    def name(self) -> str: ...
    @property
    def kind(self) -> SchemeKind:
        """``static_key``, ``key_and_secret``, ``token`` or ``signed``."""
    @property
    def is_preset(self) -> bool: ...
    @property
    def headers(self) -> list[tuple[str, HeaderField, str]]:
        """``(name, field, prefix)`` in the order they are produced."""
    @property
    def parts(self) -> list[TemplatePart | dict[str, str | bytes]] | None: ...
    @property
    def separator(self) -> bytes | None: ...
    @property
    def encoding(self) -> Encoding | None: ...
    @property
    def time_unit(self) -> TimeUnit: ...
    @property
    def retry_on_forbidden(self) -> bool:
        """Whether a client with several keys retries on 403 as well as 401 (ZignSec)."""
    def to_dict(self) -> dict[str, Any]:
        """The scheme as a dict that :meth:`from_dict` reads back."""

@final
class Policy:
    """Roles and the endpoint patterns each may reach (``*`` within one path segment, ``**``
    across segments). Raises ``InvalidPattern`` for a bad pattern."""

    def __new__(cls, roles: Mapping[str, Iterable[str]] | Iterable[tuple[str, Iterable[str]]]) -> Policy: ...
    @property
    def role_names(self) -> list[str]: ...
    @property
    def roles(self) -> dict[str, list[str]]: ...
    def authorize(self, role: str, target: str) -> None:
        """Raises ``Forbidden`` or ``NonCanonicalPath`` unless ``role`` may request ``target``."""

@final
class Signer:
    """Signs requests for one scheme and one set of credentials. Time defaults to the system
    clock (``time.time_ns()``), or ``clock()``; the nonce to a per-signer counter that starts
    at the time in milliseconds and always grows, or ``nonces()`` (which may return ``None``:
    no nonce). ``repr`` never shows credentials."""

    def __new__(
        cls,
        scheme: Scheme,
        *,
        api_key: str = ...,
        secret: _Buffer = ...,
        user_id: str = ...,
        token: str = ...,
        clock: Callable[[], int] | None = None,
        nonces: Callable[[], int | None] | None = None,
    ) -> Signer: ...
    @property
    def scheme(self) -> Scheme: ...
    def sign(
        self,
        method: str,
        path: str,
        body: _Buffer = ...,
        headers: _Headers | None = None,
        *,
        now: int | None = None,
        nonce: int | None = None,
    ) -> dict[str, str]:
        """The headers for one request, in the scheme's order. ``path`` is the request target
        as sent (path and query); ``headers`` are the request's own headers, for templates
        that sign one."""
    def sign_json(
        self,
        method: str,
        path: str,
        body: _Buffer = ...,
        headers: _Headers | None = None,
        *,
        now: int | None = None,
        nonce: int | None = None,
    ) -> bytes:
        """The produced headers as a compact JSON object (APEX ``AuthenticateUser`` body)."""
    def message(
        self,
        method: str,
        path: str,
        body: _Buffer = ...,
        headers: _Headers | None = None,
        *,
        now: int | None = None,
        nonce: int | None = None,
    ) -> bytes:
        """The exact bytes the signature covers (signing schemes only)."""

@final
class Principal:
    """Who a verified request comes from. Immutable and hashable (a dict key, a set member):
    principals are equal when client, key slot, role, user id, scheme and scopes are, and a verifier
    may hand back the same object for another request with the same outcome."""

    @property
    def client_id(self) -> str:
        """The key id (signed schemes) or label (static keys) of the client."""
    @property
    def slot(self) -> Slot:
        """``"primary"`` or ``"secondary"``: which of the client's keys matched."""
    @property
    def role(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def scheme(self) -> str:
        """The name of the scheme the request was verified under."""
    @property
    def scopes(self) -> frozenset[str]:
        """The client's scopes (per-key permissions), named by the verifier's ``scopes=``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class ReplayClaim:
    """What a verified request asks of a shared replay store: record ``key`` for ``ttl_ms``
    milliseconds unless it is recorded (``nonce`` is ``None``), or raise the client's nonce
    high-water mark to ``nonce`` unless it is not above it (``ttl_ms`` is ``None``). ``key`` is
    64 hex digits (SHA-256 over the key id and the signature), the same in every process."""

    @property
    def key(self) -> str: ...
    @property
    def ttl_ms(self) -> int | None: ...
    @property
    def nonce(self) -> int | None: ...
    @property
    def nonce_digits(self) -> str | None:
        """The nonce as 20 zero-padded digits (how ``CLAIM_SCRIPT`` stores it)."""
    @property
    def client_id(self) -> str:
        """The key id of the client whose request made the claim."""
    def store_key(self, namespace: str) -> str:
        """``<namespace>:r:<key>`` for a request, ``<namespace>:n:<key>`` for a nonce mark."""
    def script_args(self, recovery_ms: int) -> list[str]:
        """``ARGV`` of ``CLAIM_SCRIPT`` for this claim, refusing for ``recovery_ms`` after the
        store lost its memory."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Verifier:
    """Verifies requests against clients, a
    two-sided freshness window (``window`` seconds, or ``window_ns`` nanoseconds; default
    300 s) and a replay record of ``replay_capacity`` entries. One verifier may be shared by
    threads. ``policy`` gives clients roles; ``sessions`` enables APEX session tokens
    (``aptoken``); ``jwt`` enables HS256 bearer JWTs. ``replay_store`` (see
    :mod:`apisig.replay`) replaces the in-memory replay record with one shared by several
    processes, such as Redis. ``clock`` returns the time in nanoseconds (default: the system
    clock).

    The clients: added with :meth:`add` (in memory, no limit unless ``capacity`` says one);
    or read through a cache from a persistent ``store`` (:class:`Store`: each entry fresh for
    ``cache_ttl`` seconds, at most ``cache_capacity`` entries, misses cached too; while the
    database is down ``StoreUnavailable`` (503), unless ``serve_stale`` seconds past the TTL
    are allowed); or asked of ``lookup(by, value)``, a callable for servers that keep keys
    elsewhere: ``by`` is ``"id"`` (``value`` the key id, str), ``"key_digest"`` (the SHA-256
    of a presented static key, bytes), ``"certificate"`` or ``"spki"`` (a pin's fingerprint,
    bytes); it returns ``None`` or a client record, a dict with ``id`` and any of ``key`` /
    ``key_digest``, ``secondary`` / ``secondary_digest`` (bytes), ``expires`` /
    ``secondary_expires`` (UNIX seconds), ``revoked`` / ``secondary_revoked`` (bool),
    ``role``, ``user_id``, ``status`` (``"active"``, ``"disabled"``, ``"revoked"``),
    ``allowed`` (CIDRs), ``scopes`` (names). A lookup that raises, or returns a bad record, refuses the request
    with ``StoreUnavailable`` (the exception is reported by ``sys.unraisablehook``). Over a
    store or a lookup the verifier is read-only: change clients there.

    ``scopes`` is the server's table of scope names (per-key permissions; at most 64, none
    twice): a client's scopes (:meth:`set_scopes`, :meth:`Store.set_scopes`, a lookup record's
    ``scopes``) are kept by these names, a stored name not in it is dropped (fewer permissions,
    never more), and :meth:`require_scopes` checks them."""

    def __new__(
        cls,
        *,
        capacity: int | None = None,
        replay_capacity: int = 4096,
        window: int | None = None,
        window_ns: int | None = None,
        clock: Callable[[], int] | None = None,
        policy: Policy | None = None,
        sessions: SessionKeys | None = None,
        jwt: JwtPolicy | None = None,
        replay_store: ReplayStore | AsyncReplayStore | None = None,
        store: Store | None = None,
        cache_ttl: float = 10.0,
        cache_capacity: int = 100_000,
        serve_stale: float | None = None,
        lookup: Callable[[str, Any], Mapping[str, Any] | None] | None = None,
        scopes: Sequence[str] | None = None,
    ) -> Verifier: ...
    def add(
        self,
        id: str,
        key: _Buffer | None,
        *,
        secondary: _Buffer | None = None,
        role: str | None = None,
        user_id: str | None = None,
    ) -> None:
        """Registers a client: ``id`` is its key id or label, ``key`` its key or secret, or
        ``None`` for a client that authenticates only by a pinned certificate."""
    def set_key(self, id: str, slot: Slot, key: _Buffer | None) -> None:
        """Sets (or with ``None`` removes) the key in ``slot`` (``primary``/``secondary``)."""
    def set_role(self, id: str, role: str | None) -> None: ...
    def bind_user_id(self, id: str, user_id: str) -> None: ...
    def set_scopes(self, id: str, scopes: Sequence[str]) -> None:
        """Gives the client these scopes (replacing its own); a ``ValueError`` for a name not in
        ``scopes=``."""
    def revoke(self, id: str) -> None:
        """Revokes the client: whatever it presents (key, signature, bearer JWT naming it,
        session token, pinned certificate) is refused with ``ClientRevoked``."""
    def disable(self, id: str) -> None:
        """Suspends the client (``ClientDisabled``) until ``enable``."""
    def enable(self, id: str) -> None:
        """Makes the client active again."""
    def set_expiry(self, id: str, expires_ns: int | None, *, slot: Slot = "primary") -> None:
        """When the key and pin in ``slot`` stop working (``KeyExpired``), or ``None``."""
    def revoke_key(self, id: str, *, slot: Slot = "primary") -> None:
        """Revokes the key and pin in ``slot`` only (``KeyRevoked``)."""
    def set_allowed(self, id: str, ranges: list[str]) -> None:
        """Restricts the client to peers in ``ranges`` (CIDRs or addresses; empty: any).
        Requests verified without ``peer=`` are then refused (``AddressNotAllowed``)."""
    def status(self, id: str) -> str:
        """The client's status: ``"active"``, ``"disabled"`` or ``"revoked"``."""
    def pin(
        self, id: str, pin: _Buffer | str | None, *, kind: PinKind = "certificate", slot: Slot = "primary"
    ) -> None:
        """Pins a TLS client certificate to the client in ``slot`` (``None`` unpins): ``pin``
        is a SHA-256 fingerprint (32 bytes or 64 hex digits, ``:`` allowed) or a DER
        certificate, of the whole certificate (``kind="certificate"``) or of its public key
        (``kind="spki"``). Raises ``InvalidCertificate`` for DER the core refuses."""
    def verify_certificate(
        self, der: _Buffer, *, now: int | None = None, peer: str | None = None
    ) -> Principal:
        """The client pinned to a TLS peer certificate (DER), found by its fingerprint and
        compared in constant time; call it after the TLS library checked the chain. Raises
        ``UnpinnedCertificate`` or ``InvalidCertificate``, and for a client no longer allowed
        ``ClientRevoked``, ``ClientDisabled``, ``KeyRevoked``, ``KeyExpired`` or
        ``AddressNotAllowed``. The principal's scheme is ``"mtls"``."""
    def verify(
        self,
        scheme: Scheme,
        method: str,
        path: str,
        headers: _Headers,
        body: _Buffer = ...,
        *,
        now: int | None = None,
        authorize: bool = False,
        json_body: bool = False,
        peer: str | None = None,
    ) -> Principal:
        """The principal of a request; raises an ``ApisigError`` subclass otherwise, never
        returns a flag. With ``authorize=True`` the role must also allow ``path``. With
        ``json_body=True`` the credentials may come in the JSON body (APEX
        ``AuthenticateUser``): the headers when they carry all of the scheme's, else the body's
        members of those names (strings, or numbers for a timestamp, nonce or user id; raises
        ``InvalidBody`` for anything else). A shared replay store's ``claim`` is called before
        the principal is returned."""
    def verify_deferred(
        self,
        scheme: Scheme,
        method: str,
        path: str,
        headers: _Headers,
        body: _Buffer = ...,
        *,
        now: int | None = None,
        authorize: bool = False,
        json_body: bool = False,
        peer: str | None = None,
    ) -> tuple[Principal, ReplayClaim | None]:
        """Like ``verify``, but leaves the claim to the caller: with a shared replay store the
        request is accepted only once ``claim`` is made good in it."""
    def verify_with_certificate(
        self,
        certificate: _Buffer | None,
        scheme: Scheme | None = None,
        method: str = "GET",
        path: str = "/",
        headers: _Headers | None = None,
        body: _Buffer = ...,
        *,
        now: int | None = None,
        authorize: bool = False,
        peer: str | None = None,
    ) -> tuple[Principal, ReplayClaim | None]:
        """Mutual TLS, as ``verify_deferred``: the TLS client certificate (DER, ``None`` when
        the peer sent none) by itself (no ``scheme``; the principal's scheme is ``"mtls"``),
        or with the scheme's credentials naming the client it is pinned to (the principal is
        the credentials'). The certificate is checked first, so a refusal records nothing.
        Raises ``MissingCredential`` without a certificate, ``InvalidCertificate``,
        ``UnpinnedCertificate`` (not pinned, or pinned to another client)."""
    def issue_session(
        self, key_id: str, user_id: str, *, lifetime: int = 3600, now: int | None = None
    ) -> str:
        """An APEX session token (``aptoken``) after a verified ``AuthenticateUser``."""
    def authorize(self, principal: Principal, target: str) -> None:
        """Raises ``Forbidden`` or ``NonCanonicalPath`` unless the principal's role allows it."""
    def require_scopes(self, principal: Principal, scopes: Sequence[str]) -> None:
        """Raises ``Forbidden`` unless the principal holds every one of ``scopes`` (the core's
        ``ScopeNames::authorize``); a ``ValueError`` for a name not in ``scopes=``."""
    @property
    def scopes(self) -> list[str]:
        """The server's scope names (``scopes=``), by bit."""
    @property
    def store_failure(self) -> str | None:
        """Why the persistent store (``store=``) last failed a lookup refused with
        ``StoreUnavailable`` (503), for the server's log; ``None`` until then."""
    @property
    def may_block(self) -> bool:
        """Whether its lookups may block (a persistent ``store=`` or a ``lookup=``): the ASGI
        middleware then verifies in a worker thread."""
    @property
    def client_ids(self) -> list[str]:
        """The added clients' ids, sorted."""
    def client_info(self, id: str) -> tuple[str | None, str | None, bool, bool]:
        """``(role, user_id, has_primary_key, has_secondary_key)``."""
    def __len__(self) -> int: ...
    def __contains__(self, id: str, /) -> bool: ...
    def live_replay_entries(self, now: int | None = None) -> int: ...
    @property
    def capacity(self) -> int | None: ...
    @property
    def replay_capacity(self) -> int: ...
    @property
    def window_ns(self) -> int: ...
    @property
    def policy(self) -> Policy | None: ...
    @property
    def replay_store(self) -> ReplayStore | AsyncReplayStore | None:
        """The shared replay store given as ``replay_store=``, if any."""

@final
class _TrustedProxies:
    """The reverse proxies whose ``X-Forwarded-For`` is believed (``apisig.server``'s
    ``trusted_proxies=``): the core's rule, ``apisig::client::peer_behind_proxies``."""

    def __new__(cls, ranges: Sequence[str]) -> _TrustedProxies: ...
    def peer(self, direct: str | None, forwarded: Sequence[bytes]) -> str | None:
        """The client's address: ``direct`` unless it is a trusted proxy, else the right-most
        ``X-Forwarded-For`` address that is not; ``None`` when ``direct`` is no IP address."""

@final
class _AsgiGate:
    """The ASGI middleware's per-request work in one call (see ``apisig.server``): reads the
    scope, chooses the schemes by the headers present, verifies."""

    def __new__(
        cls,
        verifier: Verifier,
        schemes: Iterable[Scheme],
        *,
        authorize: bool = False,
        trusted_proxies: Sequence[str] = ...,
    ) -> _AsgiGate: ...
    def enter(
        self, scope: MutableMapping[str, Any], body: _Buffer
    ) -> tuple[dict[str, Any], ReplayClaim | None] | None:
        """``(scope for the application, claim still to make good)``; raises the refusal;
        ``None`` for the Python path (no scheme's headers present, a scope it does not read)."""

@final
class Next:
    """What to do after a response."""

    DONE: Final[Next]
    RETRY: Final[Next]
    EXHAUSTED: Final[Next]
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    def __int__(self) -> int: ...
    __hash__: None  # type: ignore[assignment]

@final
class Attempt:
    """One request's progress through the keys."""

    @property
    def key(self) -> int:
        """The index of the key to send now."""

@final
class Rotation:
    """Client-side key rotation (the core's state machine): start each request with the
    current key; on a retry status move to the next key not yet tried; a key that worked
    after a retry becomes current."""

    def __new__(cls, keys: int, *, retry_on_forbidden: bool = False) -> Rotation: ...
    @staticmethod
    def for_scheme(scheme: Scheme, keys: int) -> Rotation:
        """``keys`` keys for a service that speaks ``scheme``: retried on 401 or 403 for
        ZignSec (``scheme.retry_on_forbidden``), on 401 for every other."""
    @staticmethod
    def zignsec() -> Rotation:
        """Primary and secondary key, retry on 401 or 403."""
    @staticmethod
    def securosys(keys: int) -> Rotation:
        """``keys`` keys of one role, roll over on 401."""
    @property
    def current(self) -> int: ...
    @property
    def keys(self) -> int: ...
    def begin(self) -> Attempt: ...
    def on_response(self, attempt: Attempt, status: int) -> Next: ...

def hmac_sign(key: _Buffer, msg: _Buffer) -> bytes:
    """HMAC-SHA256 of ``msg`` under ``key``."""

def hmac_verify(key: _Buffer, msg: _Buffer, tag: _Buffer) -> None:
    """Raises ``SignatureMismatch`` (or ``InvalidSignatureEncoding``) unless ``tag`` is the
    HMAC-SHA256 of ``msg`` under ``key``; constant time."""

def jwt_encode(secret: _Buffer, claims: _Buffer, header: _Buffer | None = None) -> str:
    """A compact HS256 JWT over ``claims`` (a JSON object, written as given) with ``header``
    (default ``{"alg":"HS256","typ":"JWT"}``, PyJWT's), also written as given."""

def jwt_verify(
    secret: _Buffer,
    token: _Buffer | str,
    *,
    now: int | None = None,
    leeway: int = 0,
    require_exp: bool = True,
    issuer: str | None = None,
    audience: str | None = None,
    subject: str | None = None,
    max_len: int = ...,
) -> JwtClaims:
    """Verifies a compact HS256 JWT: algorithm pinned to HS256, canonical base64url, the
    signature in constant time, ``exp`` (required unless ``require_exp=False``), ``nbf`` and
    ``iat`` with ``leeway`` seconds (as PyJWT), and ``issuer``/``audience``/``subject`` when
    given. ``now`` is nanoseconds since the UNIX epoch (default: the system clock). Raises an
    ``InvalidToken`` subclass (or ``EmptySecret``)."""

@final
class JwtClaims:
    """The registered claims of a verified JWT. ``iss`` and ``sub`` are the JSON string text
    (escapes not decoded); ``json`` is the whole claims set."""

    @property
    def iss(self) -> str | None: ...
    @property
    def sub(self) -> str | None: ...
    @property
    def aud(self) -> list[str]:
        """The audience: one string or a list, as a list (empty when absent)."""
    @property
    def exp(self) -> int | None: ...
    @property
    def nbf(self) -> int | None: ...
    @property
    def iat(self) -> int | None: ...
    @property
    def json(self) -> bytes: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class Session:
    """What an APEX session token says."""

    @property
    def user_id(self) -> str: ...
    @property
    def key_id(self) -> str: ...
    @property
    def expires(self) -> int:
        """The first moment the token is no longer valid, UNIX seconds."""
    @property
    def slot(self) -> Slot:
        """Which server secret made it: ``"primary"`` or ``"secondary"``."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

@final
class SessionKeys:
    """The server secrets (primary, optional secondary) that issue and check APEX session
    tokens; raises ``EmptySecret`` for an empty one."""

    def __new__(cls, primary: _Buffer, secondary: _Buffer | None = None) -> SessionKeys: ...
    def issue(self, user_id: str, key_id: str, expires: int) -> str:
        """A token made with the primary secret, valid until ``expires`` (UNIX seconds)."""
    def verify(self, token: _Buffer | str, *, now: int | None = None) -> Session:
        """What a token says, checked against both secrets in constant time at ``now``
        (nanoseconds; default: the system clock). Raises an ``InvalidToken`` subclass."""

@final
class JwkSet:
    """One issuer's JWK set, parsed and validated by the core (RSA 2048-4096, EC P-256,
    Ed25519; other keys skipped). Raises ``JwksMalformed``, ``JwksTooLarge`` or ``JwkWeakKey``."""

    def __new__(cls, json: _Buffer) -> JwkSet: ...
    @property
    def kids(self) -> list[str | None]:
        """The ``kid`` of every usable key, in the document's order."""
    def has_kid(self, kid: str) -> bool:
        """Whether a key has this ``kid``."""
    def __len__(self) -> int: ...
    def verify(
        self,
        token: str,
        issuer: str,
        audience: str,
        algorithms: list[str],
        leeway_s: int = 0,
        strict: bool = False,
        max_len: int = ...,
        now: int | None = None,
        clock: Callable[[], int] | None = None,
    ) -> dict[str, Any]:
        """The claims of an access token of ``issuer`` for ``audience`` signed with one of
        ``algorithms`` (RS256, PS256, ES256, EdDSA), checked by the core at ``now`` (ns)."""

@final
class JwtPolicy:
    """What a :class:`Verifier` accepts as a bearer JWT (``Verifier(jwt=...)``): HS256 under
    ``secret``, ``iss`` equal to ``issuer`` and ``aud`` naming ``audience`` when given, ``exp``
    required unless ``require_exp=False``, ``leeway`` seconds of clock skew (as
    :func:`jwt_verify`). Raises ``EmptySecret`` for an empty secret and ``FieldTooLong`` for an
    issuer or audience over 64 bytes. ``repr`` never shows the secret."""

    def __new__(
        cls,
        secret: _Buffer,
        *,
        issuer: str | None = None,
        audience: str | None = None,
        leeway: int = 0,
        require_exp: bool = True,
    ) -> JwtPolicy: ...
    @property
    def issuer(self) -> str | None: ...
    @property
    def audience(self) -> str | None: ...
    @property
    def leeway(self) -> int: ...
    @property
    def require_exp(self) -> bool: ...

@final
class TokenLifetime:
    """An access token's lifetime as the client saw it (``issued_at`` in nanoseconds,
    ``expires_in`` seconds) and when to refresh it: ``skew_s`` before expiry, capped at half
    the lifetime. The core's bookkeeping, the same in C and Rust."""

    def __new__(cls, issued_at: int, lifetime_s: int, skew_s: int = 60) -> TokenLifetime: ...
    @property
    def issued_at(self) -> int: ...
    @property
    def lifetime_s(self) -> int: ...
    @property
    def skew_s(self) -> int: ...
    @property
    def expires_at(self) -> int: ...
    @property
    def refresh_at(self) -> int: ...
    def needs_refresh(self, now: int | None = None) -> bool:
        """Whether to fetch a new token before the next request (``now`` in nanoseconds)."""
    def is_expired(self, now: int | None = None) -> bool: ...
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: None  # type: ignore[assignment]

def fingerprint(der: _Buffer, kind: PinKind = "certificate") -> bytes:
    """The SHA-256 fingerprint of a DER certificate (``kind="certificate"``) or of its
    SubjectPublicKeyInfo (``kind="spki"``); raises ``InvalidCertificate``."""

def pattern_matches(pattern: str, path: str) -> bool:
    """Whether a role pattern matches ``path``; raises ``InvalidPattern``."""

def check_canonical(target: str) -> str:
    """The path part of a canonical request target; raises ``NonCanonicalPath``."""

@final
class FamilyInfo:
    """A family of core errors: what every face derives its exception bases and HTTP
    statuses from."""

    @property
    def name(self) -> str:
        """``"malformed"``, ``"authentication"``, ``"forbidden"``, ``"unavailable"`` or
        ``"configuration"``."""
    @property
    def http_status(self) -> int:
        """The HTTP status a server answers a request refused with an error of this family."""
    @property
    def doc(self) -> str: ...

@final
class ErrorInfo:
    """One row of the core's error table (what :mod:`apisig.exceptions` is generated from)."""

    @property
    def code(self) -> int:
        """The stable numeric code (the C ABI's ``apisig_result``)."""
    @property
    def name(self) -> str:
        """The stable snake_case name."""
    @property
    def message(self) -> str:
        """The message an exception carries."""
    @property
    def family(self) -> FamilyInfo: ...
    @property
    def http_status(self) -> int:
        """The HTTP status a server answers (the family's)."""
    @property
    def doc(self) -> str:
        """The core's documentation of the error."""

def error_table() -> list[ErrorInfo]:
    """Every core error, in code order."""

def preset_names() -> list[str]:
    """The names of the preset schemes."""

OCSP_RESPONSE_MAX_LEN: Final[int]

def ocsp_verdict(
    *,
    now: int,
    skew: int,
    max_age: int,
    fail_soft: bool,
    failure: int | None = None,
    signer: str = "unrelated",
    signature_valid: bool = False,
    cert_id_matches: bool = False,
    nonce: str = "not_sent",
    status: str = "unknown",
    this_update: int = 0,
    next_update: int | None = None,
    responder_issued_by_issuer: bool = False,
    responder_ocsp_signing: bool = False,
    responder_not_before: int = 0,
    responder_not_after: int = 0,
) -> Any:
    """The core's verdict on a client certificate from what an OCSP response says (times in
    nanoseconds; ``signer`` ``"issuer"``, ``"delegated"`` or ``"unrelated"``; ``nonce``
    ``"not_sent"``, ``"echoed"``, ``"missing"`` or ``"different"``; ``status`` ``"good"``,
    ``"revoked"`` or ``"unknown"``), or from ``failure``, the code of the error that kept the
    caller from reading one. ``None`` when good; the exception to log when fail-soft lets the
    request through; raises it otherwise."""

def introspection_check(
    body: _Buffer,
    issuer: str,
    audience: str | None = None,
    *,
    leeway_s: int = 0,
    max_cache_s: int = 300,
    now: int | None = None,
    clock: Callable[[], int] | None = None,
) -> dict[str, Any]:
    """The core's judgement of an RFC 7662 introspection answer at ``now`` (ns): the claims of
    an active token (``iss``, ``sub``, ``aud``, ``exp``, ``nbf``, ``iat``, ``client_id``,
    ``scope``, ``jti``, ``json``) and ``cache_s``, how long it may be kept (``max_cache_s``,
    never past ``exp``). Raises ``IntrospectionMalformed``, ``DuplicateField``,
    ``TokenInactive``, ``TokenExpired``, ``TokenNotYetValid``, ``IssuerMismatch`` or
    ``AudienceMismatch``."""

def ocsp_cache_until(this_update: int, next_update: int | None, now: int, max_age: int) -> int | None:
    """Until when (ns) a response fetched at ``now`` may be reused, or ``None``."""

# ---- the client store (apisig-store): docs/stores.md -------------------------------------

class StoreError(Exception):
    """A change or lookup the key store refuses: an unknown client or key, a client that
    already exists, a slot already taken, an invalid id, CIDR or scope, a store URL it does
    not open, data it cannot read."""

class MasterKeyError(StoreError):
    """The master key is missing (neither ``APISIG_MASTER_KEY`` nor ``APISIG_MASTER_KEY_FILE``
    is set), not a key (64 hex digits or 32 bytes), or not the one the store's secrets are
    sealed under."""

@final
class KeyInfo:
    """A key as listed: everything but the key."""

    @property
    def slot(self) -> Slot: ...
    @property
    def kind(self) -> KeyKind:
        """``"static"`` (kept as its SHA-256 digest) or ``"hmac"`` (sealed under the master
        key)."""
    @property
    def created(self) -> int:
        """When it was issued (UNIX seconds)."""
    @property
    def expires(self) -> int | None:
        """When it stops working (UNIX seconds), if ever."""
    @property
    def revoked(self) -> int | None:
        """When it was revoked (UNIX seconds), if it was."""
    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class ClientInfo:
    """A client as listed: never a secret, a key or a digest."""

    @property
    def id(self) -> str: ...
    @property
    def status(self) -> ClientStatus: ...
    @property
    def role(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def allowed(self) -> list[str]:
        """The addresses it may connect from, as CIDRs (empty: any)."""
    @property
    def scopes(self) -> list[str]: ...
    @property
    def keys(self) -> list[KeyInfo]:
        """Its keys, primary first."""
    @property
    def pins(self) -> list[tuple[Slot, PinKind, str]]:
        """Its certificate pins: ``(slot, kind, SHA-256 fingerprint in hex)``."""
    @property
    def created(self) -> int: ...
    @property
    def updated(self) -> int: ...
    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict (keys as dicts, pins as ``[slot, kind, hex]``)."""
    def __eq__(self, other: object, /) -> bool: ...
    def __ne__(self, other: object, /) -> bool: ...
    __hash__: ClassVar[None]  # type: ignore[assignment]

@final
class Store:
    """The persistent client store (SQLite, PostgreSQL): clients, their keys (static keys as
    SHA-256 digests, HMAC secrets sealed under the master key) and the key lifecycle. Safe to
    share between threads; every call releases the GIL. A database that cannot be reached
    raises ``StoreUnavailable``; what the store refuses, ``StoreError``."""

    @staticmethod
    def open(
        url: str,
        *,
        master_key: bytes | str | None = None,
        previous_master_key: bytes | str | None = None,
        product: str | None = None,
    ) -> Store:
        """Opens (creating and migrating where needed) ``sqlite:PATH`` (``sqlite::memory:``
        for tests) or ``postgres://USER:PASSWORD@HOST:PORT/DATABASE`` (``pool_size=N`` among
        the parameters: connections kept, default 4). ``master_key`` is 32 bytes or 64 hex
        digits; without it, ``APISIG_MASTER_KEY`` or the file ``APISIG_MASTER_KEY_FILE``
        names (and ``APISIG_MASTER_KEY_PREVIOUS`` / ``APISIG_MASTER_KEY_PREVIOUS_FILE``, a
        previous key). ``previous_master_key``: an older key still accepted while the secrets
        are re-sealed (``rekey``). A missing or wrong key raises ``MasterKeyError``.
        ``product`` names issued keys (``acme`` -> ``acme_sk_...``)."""
    @staticmethod
    def generate_master_key() -> str:
        """A new random master key: 64 hex digits."""
    @property
    def master_key_id(self) -> str:
        """The id of the master key the store seals secrets under (not secret), as this
        handle last saw it."""
    @property
    def master_key_ids(self) -> list[str]:
        """The ids of the master keys this handle holds, the newest first."""
    @property
    def pool_size(self) -> int:
        """How many connections the store keeps to its database at most."""
    def rekey(self, *, batch: int = 1000, progress: Callable[[int], object] | None = None) -> dict[str, Any]:
        """Re-seals every HMAC secret under the newest master key, ``batch`` per transaction,
        resumable; every worker must hold both keys until it completes. ``progress(n)`` after
        each batch (re-sealed so far); returning ``False`` stops. Returns the status, as
        ``rekey_status()``."""
    def rekey_status(self) -> dict[str, Any]:
        """``{"master_key_id", "sealed", "remaining": {key id: count}, "resealed",
        "complete"}``."""
    def import_clients(self, clients: Sequence[tuple[str, KeyKind | None, bytes | None]]) -> int:
        """Creates many clients in one transaction (all or none): ``(id, kind, key)``, a static
        key in this store's format or any HMAC secret, or ``(id, None, None)``."""
    @property
    def product(self) -> str: ...
    @property
    def key_regex(self) -> str:
        """A regular expression matching this store's issued keys (for secret scanners)."""
    def create_client(self, id: str) -> None: ...
    def delete_client(self, id: str) -> None: ...
    def issue(self, id: str, slot: Slot = "primary", kind: KeyKind = "static") -> str:
        """Issues a key into an empty slot and returns it: the only time it is shown."""
    def rotate(self, id: str, *, grace: int | None = None) -> str:
        """Issues a new primary of the old one's kind; the old key stays the secondary for
        ``grace`` seconds, or is deleted at once when ``None``. Returns the new key."""
    def promote(self, id: str) -> None: ...
    def retire(self, id: str) -> None: ...
    def delete_key(self, id: str, slot: Slot) -> None: ...
    def set_expiry(self, id: str, slot: Slot, expires: int | None) -> None:
        """When the key stops working (UNIX seconds), or ``None`` for never."""
    def revoke_key(self, id: str, slot: Slot) -> None: ...
    def set_status(self, id: str, status: ClientStatus) -> None: ...
    def revoke_client(self, id: str) -> None:
        """Every credential of the client is refused from now on (``ClientRevoked``)."""
    def set_role(self, id: str, role: str | None) -> None: ...
    def bind_user_id(self, id: str, user_id: str | None) -> None: ...
    def set_allowed(self, id: str, cidrs: Sequence[str]) -> None:
        """IPv4/IPv6 CIDRs the client may connect from (at most 8); empty for any."""
    def set_scopes(self, id: str, scopes: Sequence[str]) -> None: ...
    def list(self) -> list[ClientInfo]:
        """Every client, ordered by id, without secrets."""
    def client(self, id: str) -> ClientInfo | None: ...
