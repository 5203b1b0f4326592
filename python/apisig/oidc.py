"""OpenID Connect around the core: discovery, an issuer's JWK set kept fresh, and access
tokens (RS256, PS256, ES256, EdDSA) verified by the core (:class:`apisig.JwkSet`).

>>> v = OidcVerifier("https://op.example", "https://api.example", algorithms=["RS256"])  # doctest: +SKIP
>>> v.verify(token)["client_id"]                                                      # doctest: +SKIP

* Discovery (OpenID Connect Discovery 1.0 §4): ``<issuer>/.well-known/openid-configuration``;
  its ``issuer`` must equal the configured one exactly (``DiscoveryMismatch`` otherwise).
* The JWK set comes from the document's ``jwks_uri`` and is kept for ``Cache-Control:
  max-age`` seconds (``default_max_age``, an hour, when the provider says nothing). A token
  naming a ``kid`` the set lacks makes it fetched again, at most once per ``refetch_interval``
  (30 s) whatever the tokens say, so forged kids cannot make the server hammer the provider.
* A failed fetch (unreachable, not 200, not a JWK set) keeps the last good set; with none,
  verification fails closed with ``JwksUnavailable`` (503). A ``kid`` still unknown after the
  refetch is ``UnknownKid`` (503, as DESIGN.md decides for unavailable shared state).
* Every check on the token itself (algorithms configured per issuer, never ``none`` or ``HS*``,
  no ``jku``/``x5u``/``jwk``/``x5c``, no ``crit``, ``iss`` exact, ``aud`` containing the
  audience, ``exp``/``nbf`` with ``leeway``, ``typ``) is the core's.

Fetches use ``urllib`` (standard library) unless ``fetch`` is given: ``fetch(url) -> (status,
headers, body)`` with lower-case header names. ``clock`` returns monotonic seconds (tests
inject one); ``now`` for token times is the system clock unless given to :meth:`verify`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ._native import ACCESS_TOKEN_MAX_LEN, JwkSet, Principal, introspection_check
from .exceptions import (
    ApisigError,
    DiscoveryMismatch,
    IntrospectionMalformed,
    IntrospectionUnavailable,
    JwksUnavailable,
    TokenTooLong,
    UnknownKid,
)
from .types import ClientAuthMethod

__all__ = [
    "DISCOVERY_PATH",
    "AccessToken",
    "Introspector",
    "OidcVerifier",
    "discover",
    "http_get",
    "http_post",
    "max_age",
]

DISCOVERY_PATH = "/.well-known/openid-configuration"
"""Where an issuer publishes its discovery document, after its identifier."""

Fetch = Callable[[str], tuple[int, Mapping[str, str], bytes]]

_MAX_BODY = 1 << 20  # discovery documents and JWK sets are a few KiB; the core refuses > 32 KiB


def http_get(url: str, timeout: float = 5.0) -> tuple[int, dict[str, str], bytes]:
    """``GET url`` with ``urllib``: status, lower-case headers, body (at most 1 MiB read)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, headers, response.read(_MAX_BODY)
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, b""


def http_post(url: str, headers: Mapping[str, str], body: bytes, timeout: float = 5.0) -> tuple[int, bytes]:
    """``POST url`` with ``urllib``: status and body (at most 1 MiB read), also of an error."""
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read(_MAX_BODY)
    except urllib.error.HTTPError as err:
        return err.code, err.read(_MAX_BODY)  # an OAuth error answer names the error


def max_age(headers: Mapping[str, str]) -> float | None:
    """Seconds a response may be kept by its ``Cache-Control`` (``no-store``/``no-cache``: 0),
    or ``None`` when it does not say."""
    value = headers.get("cache-control", "").lower()
    if re.search(r"(^|[,\s])(no-store|no-cache)($|[,\s=])", value):
        return 0.0
    m = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d{1,10})\"?", value)
    return float(m.group(1)) if m else None


def discover(issuer: str, fetch: Fetch | None = None) -> dict[str, Any]:
    """The issuer's discovery document, checked to be the issuer's own."""
    url = issuer.rstrip("/") + DISCOVERY_PATH
    try:
        status, _, body = (fetch or http_get)(url)
    except OSError as err:
        raise JwksUnavailable(f"discovery document {url}: {err}") from err
    if status != 200:
        raise JwksUnavailable(f"discovery document {url}: HTTP {status}")
    try:
        doc = json.loads(body)
    except ValueError as err:
        raise DiscoveryMismatch(f"discovery document {url} is not JSON") from err
    if not isinstance(doc, dict) or doc.get("issuer") != issuer:
        got = doc.get("issuer") if isinstance(doc, dict) else None
        raise DiscoveryMismatch(f"discovery document {url} names issuer {got!r}, not {issuer!r}")
    return doc


@dataclass(frozen=True)
class AccessToken:
    """The principal of a request with a verified OpenID access token."""

    issuer: str
    client_id: str | None
    subject: str | None
    scopes: tuple[str, ...]
    audience: tuple[str, ...]
    expires: int | None
    algorithm: str
    claims: dict[str, Any] = field(repr=False, compare=False)
    """The whole claims set, decoded."""

    scheme: str = "oidc"
    key: Principal | None = None
    """The principal of the credentials that had to come with the token (the server's
    ``oidc_key=``, e.g. ZignSec's ``Zs-Product-Key``), else ``None``."""

    @property
    def client(self) -> str | None:
        """The OAuth client: ``client_id`` (RFC 9068), else ``sub``."""
        return self.client_id or self.subject


class OidcVerifier:
    """Verifies one issuer's access tokens for one audience. Share one instance (thread-safe;
    one fetch at a time)."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        algorithms: Sequence[str] = ("RS256",),
        leeway: int = 0,
        strict: bool = False,
        jwks_uri: str | None = None,
        fetch: Fetch | None = None,
        clock: Callable[[], float] | None = None,
        refetch_interval: float = 30.0,
        default_max_age: float = 3600.0,
    ) -> None:
        if not algorithms:
            raise ValueError("configure the issuer's algorithms")
        self.issuer = issuer
        self.audience = audience
        self.algorithms = list(algorithms)
        self.leeway = leeway
        self.strict = strict
        self.refetch_interval = refetch_interval
        self.default_max_age = default_max_age
        self.fetches = 0
        """How many JWK sets were loaded (for monitoring and tests)."""
        self.last_error: Exception | None = None
        """Why the last fetch failed, if it did."""
        self._fetch = fetch or http_get
        self._clock = clock or time.monotonic
        self._jwks_uri = jwks_uri
        self._state = threading.Lock()  # guards the fields below; never held across I/O
        self._keys: JwkSet | None = None
        self._fresh_until = 0.0
        self._last_attempt: float | None = None
        self._fetching = threading.Lock()  # single flight

    @property
    def keys(self) -> JwkSet | None:
        """The JWK set in use (``None`` before the first good fetch)."""
        with self._state:
            return self._keys

    def refresh(self, *, force: bool = False) -> bool:
        """Fetches the JWK set unless one was tried less than ``refetch_interval`` ago (also
        with ``force``); whether a new set was loaded. A failure keeps the last good set."""
        with self._fetching:
            now = self._clock()
            with self._state:
                if self._last_attempt is not None and now - self._last_attempt < self.refetch_interval:
                    return False
                if not force and self._keys is not None and now < self._fresh_until:
                    return False
                self._last_attempt = now
            try:
                uri = self._jwks_uri
                if uri is None:
                    uri = discover(self.issuer, self._fetch).get("jwks_uri")
                    if not isinstance(uri, str):
                        raise DiscoveryMismatch(f"the discovery document of {self.issuer} has no jwks_uri")
                    self._jwks_uri = uri
                status, headers, body = self._fetch(uri)
                if status != 200:
                    raise JwksUnavailable(f"JWK set {uri}: HTTP {status}")
                keys = JwkSet(body)
            except (OSError, ApisigError) as err:
                self.last_error = err
                return False
            age = max_age(headers)
            with self._state:
                self._keys = keys
                self._fresh_until = now + (self.default_max_age if age is None else age)
                self.fetches += 1
                self.last_error = None
            return True

    def _current(self) -> JwkSet:
        with self._state:
            keys, stale = self._keys, self._keys is None or self._clock() >= self._fresh_until
        if stale:
            self.refresh()
            with self._state:
                keys = self._keys
        if keys is None:
            if isinstance(self.last_error, DiscoveryMismatch):
                raise self.last_error  # the deployment's mistake: say so, not "unavailable"
            detail = f": {self.last_error}" if self.last_error else ""
            raise JwksUnavailable(f"no JWK set of {self.issuer} could be fetched{detail}")
        return keys

    def verify(self, token: str, *, now: int | None = None) -> dict[str, Any]:
        """The claims of ``token`` (see :meth:`apisig.JwkSet.verify`), refetching the JWK set
        once when the token names an unknown ``kid``. ``now``: nanoseconds since the epoch."""
        keys = self._current()
        args = (token, self.issuer, self.audience, self.algorithms)
        try:
            return keys.verify(*args, leeway_s=self.leeway, strict=self.strict, now=now)
        except UnknownKid:
            if not self.refresh(force=True):
                raise
            keys = self._current()
            return keys.verify(*args, leeway_s=self.leeway, strict=self.strict, now=now)

    def principal(self, token: str, *, now: int | None = None) -> AccessToken:
        """:meth:`verify`, as the principal a server hands its handlers."""
        c = self.verify(token, now=now)
        scope = c.get("scope") or ""
        return AccessToken(
            issuer=self.issuer,
            client_id=c.get("client_id"),
            subject=c.get("sub"),
            scopes=tuple(scope.split()),
            audience=tuple(c.get("aud") or ()),
            expires=c.get("exp"),
            algorithm=c["alg"],
            claims=json.loads(c["json"]),
        )


class _Kept:
    """A kept answer: the core's claims, used until ``fresh`` (whole seconds since the epoch, by
    the introspector's clock) and standing in for an answer the provider cannot give until
    ``stale`` (``serve_stale``; ``fresh`` without it)."""

    __slots__ = ("claims", "fresh", "stale")

    def __init__(self, fresh: int, stale: int, claims: dict[str, Any]) -> None:
        self.fresh, self.stale, self.claims = fresh, stale, claims


class _Gate:
    """The callers introspecting one token: they take ``lock`` in turn, so the first asks the
    provider and the others find its answer kept; the last to leave removes the gate."""

    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.users = 0


def _error_member(content: bytes) -> str | None:
    """The ``error`` member of an OAuth error answer (RFC 6749 §5.2), if it has one."""
    try:
        answer = json.loads(content) if content else None
    except ValueError:
        return None
    error = answer.get("error") if isinstance(answer, dict) else None
    return error if isinstance(error, str) else None


class Introspector:
    """RFC 7662 token introspection for opaque access tokens: the resource server, authenticated
    as an OAuth client (``client_secret_basic`` or ``_post``), asks the provider's
    ``introspection_endpoint`` (from discovery unless given) whether a token is active. The same
    behaviour as the Rust ``apisig_http::introspection::Introspector`` (docs/oidc.md). Share one
    instance between every request of a server (thread-safe).

    * The answer is judged by the core (:func:`apisig.introspection_check`, the same rules in
      every face): ``active`` must be ``true`` (else ``TokenInactive``, 401); ``exp``/``nbf``/
      ``iat`` with ``leeway`` seconds (``TokenExpired``, ``TokenNotYetValid``); its ``iss``,
      when present, must be the issuer (``IssuerMismatch``); when ``audience`` is given its
      ``aud`` must contain it (``AudienceMismatch``); anything else than an RFC 7662 answer is
      ``IntrospectionMalformed`` (503). A token longer than the core's
      :data:`apisig.ACCESS_TOKEN_MAX_LEN` is ``TokenTooLong`` without asking the provider.
    * Cache: an active answer is kept for the core's ``cache_s``: until the token's ``exp`` and
      at most ``max_cache`` seconds (300). Entries are keyed by the token's SHA-256, never the
      token; at most ``capacity`` (10,000) are kept, expired ones dropped first, then those
      expiring soonest. Refusals are not kept. Concurrent requests with the same token not yet
      kept send one introspection request: the others wait for its answer (the ASGI middleware
      calls :meth:`principal` in a worker thread, so asyncio tasks are threads here too).
    * Fail closed: the endpoint unreachable or answering other than 200 (a wrong client secret
      is ``401 invalid_client``, named in the message) is ``IntrospectionUnavailable`` (503), a
      malformed answer ``IntrospectionMalformed`` (503); kept answers are still used until they
      expire. Two opt-ins: ``serve_stale`` seconds uses kept answers that much longer while the
      provider cannot answer, never past the token's ``exp`` (counted in
      :attr:`served_stale`; a token the provider refused since is not served);
      ``fail_open=True`` accepts such tokens as an :class:`AccessToken` with no client
      (``claims == {}``; counted in :attr:`accepted_unavailable`).
      :attr:`last_error` says why the provider last could not be asked.
    """

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        audience: str | None = None,
        auth_method: ClientAuthMethod = "client_secret_basic",
        endpoint: str | None = None,
        fetch: Fetch | None = None,
        post: Callable[[str, Mapping[str, str], bytes], tuple[int, bytes]] | None = None,
        clock: Callable[[], float] | None = None,
        max_cache: float = 300.0,
        serve_stale: float = 0.0,
        capacity: int = 10_000,
        leeway: int = 0,
        fail_open: bool = False,
    ) -> None:
        from .oauth import ClientCredentials

        if min(max_cache, serve_stale, capacity, leeway) < 0:
            raise ValueError("max_cache, serve_stale, capacity and leeway are not negative")
        self.issuer, self.audience, self.max_cache, self.fail_open = issuer, audience, max_cache, fail_open
        self.serve_stale, self.capacity, self.leeway = serve_stale, capacity, leeway
        self._endpoint = endpoint
        self._fetch = fetch or http_get
        self._post = post or http_post
        self._clock = clock or time.time
        # The client authentication of a token request, reused (RFC 7662 §2.1).
        self._client = ClientCredentials(
            endpoint or issuer, client_id, client_secret, auth_method=auth_method
        )
        self._state = threading.Lock()  # guards the cache, the gates and the counters; never held across I/O
        self._cache: dict[bytes, _Kept] = {}
        self._gates: dict[bytes, _Gate] = {}
        self.requests = 0
        """How many introspection requests were sent (answered)."""
        self.served_stale = 0
        """How many requests were served a kept answer past its time because of ``serve_stale``."""
        self.accepted_unavailable = 0
        """How many tokens were accepted without an answer because of ``fail_open``."""
        self.last_error: ApisigError | None = None
        """Why the provider last could not be asked (for logs: the 503 says only
        ``introspection_unavailable``)."""

    @property
    def cached(self) -> int:
        """How many answers are kept."""
        with self._state:
            return len(self._cache)

    @property
    def in_flight(self) -> int:
        """How many distinct tokens are being introspected (or waited for) now."""
        with self._state:
            return len(self._gates)

    def endpoint(self) -> str:
        """The introspection endpoint (discovered once); a discovery document that cannot be
        had is ``IntrospectionUnavailable``."""
        if self._endpoint is None:
            try:
                doc = discover(self.issuer, self._fetch)
            except JwksUnavailable as err:
                raise IntrospectionUnavailable(str(err)) from err
            url = doc.get("introspection_endpoint")
            if not isinstance(url, str) or not url:
                raise DiscoveryMismatch(
                    f"the discovery document of {self.issuer} has no introspection_endpoint"
                )
            self._endpoint = url
        return self._endpoint

    def introspect(self, token: str) -> dict[str, Any]:
        """The provider's answer about an active ``token``, as it wrote it."""
        return dict(json.loads(self._judged(token)["json"]))

    def _now_ns(self) -> int:
        return int(self._clock() * 1e9)

    def _judged(self, token: str) -> dict[str, Any]:
        """The core's claims of the answer about ``token``: the kept answer while there is one,
        else one introspection request (one for all concurrent callers with the same token)."""
        raw = token.encode("utf-8", "surrogatepass")
        if len(raw) > ACCESS_TOKEN_MAX_LEN:  # longer than any access token the core reads: not sent
            raise TokenTooLong(f"access token of {len(raw)} bytes, over {ACCESS_TOKEN_MAX_LEN}")
        digest = hashlib.sha256(raw).digest()
        hit = self._kept(digest, stale=False)
        if hit is not None:
            return hit
        with self._state:
            gate = self._gates.setdefault(digest, _Gate())
            gate.users += 1
        try:
            with gate.lock:
                hit = self._kept(digest, stale=False)
                return hit if hit is not None else self._ask(raw, digest)
        finally:
            with self._state:
                gate.users -= 1
                if gate.users == 0:
                    del self._gates[digest]

    def _kept(self, digest: bytes, *, stale: bool) -> dict[str, Any] | None:
        """The kept answer for ``digest`` while it is fresh (``stale``: while it may stand in
        for one the provider cannot give); one past both is dropped."""
        now_s = self._now_ns() // 1_000_000_000
        with self._state:
            entry = self._cache.get(digest)
            if entry is None:
                return None
            if now_s < entry.fresh or (stale and now_s < entry.stale):
                return entry.claims
            if now_s >= entry.stale:
                del self._cache[digest]
        return None

    def _ask(self, token: bytes, digest: bytes) -> dict[str, Any]:
        """One introspection request and the core's judgement of its answer; a provider that
        cannot answer makes a kept answer serve a while longer, when allowed."""
        try:
            return self._judge(token, digest)
        except ApisigError as err:
            unavailable = isinstance(err, IntrospectionUnavailable | IntrospectionMalformed)
            if unavailable or err.http_status >= 500:
                self.last_error = err
            else:
                with self._state:  # refused (revoked, say): no stale answer comes back for it
                    self._cache.pop(digest, None)
            stale = self._kept(digest, stale=True) if unavailable else None
            if stale is None:
                raise
            with self._state:
                self.served_stale += 1
            return stale

    def _judge(self, token: bytes, digest: bytes) -> dict[str, Any]:
        content = self._request(token)
        now = self._now_ns()
        max_s = int(self.max_cache)

        def check(max_cache_s: int) -> dict[str, Any]:
            return introspection_check(
                content, self.issuer, self.audience, leeway_s=self.leeway, max_cache_s=max_cache_s, now=now
            )

        claims = check(max_s)
        keep = claims.pop("cache_s")
        # How long it may stand in for an answer the provider cannot give: the core's cache_s
        # for the longer window (never past exp either).
        stale_keep = check(max_s + int(self.serve_stale))["cache_s"] if self.serve_stale >= 1 else keep
        if stale_keep > 0 and self.capacity > 0:
            now_s = now // 1_000_000_000
            with self._state:
                cache = self._cache
                if len(cache) >= self.capacity and digest not in cache:
                    for k in [k for k, e in cache.items() if e.stale <= now_s]:
                        del cache[k]
                    if len(cache) >= self.capacity:
                        del cache[min(cache, key=lambda k: cache[k].stale)]
                cache[digest] = _Kept(now_s + keep, now_s + stale_keep, claims)
        return claims

    def _request(self, token: bytes) -> bytes:
        """The endpoint's 200 answer about ``token`` (RFC 7662 §2.1, §2.2)."""
        url = self.endpoint()
        headers, body = self._client.token_request()
        form = body.decode().split("&")
        form = [f for f in form if not f.startswith(("grant_type=", "scope="))]
        body = "&".join([f"token={quote(token, safe='')}", "token_type_hint=access_token", *form]).encode()
        try:
            status, content = self._post(url, headers, body)
        except OSError as err:
            raise IntrospectionUnavailable(f"introspection endpoint of {self.issuer}: {err}") from err
        with self._state:
            self.requests += 1
        if status != 200:
            # 401 invalid_client: the resource server's own credentials are wrong, not the token.
            error = _error_member(content) or "without an answer"
            raise IntrospectionUnavailable(
                f"introspection endpoint of {self.issuer} answered {status} {error}"
            )
        return content

    def principal(self, token: str) -> AccessToken:
        """The principal a server hands its handlers: the core's claims of the answer."""
        try:
            a = self._judged(token)
        except (IntrospectionUnavailable, IntrospectionMalformed):
            if not self.fail_open:
                raise
            with self._state:
                self.accepted_unavailable += 1
            return AccessToken(self.issuer, None, None, (), (), None, "introspection", claims={})
        return AccessToken(
            issuer=self.issuer,
            client_id=a["client_id"],
            subject=a["sub"],
            scopes=tuple((a["scope"] or "").split()),
            audience=tuple(a["aud"]),
            expires=a["exp"],
            algorithm="introspection",
            claims=json.loads(a["json"]),
        )
