"""OAuth2 client credentials (RFC 6749 §4.4) for bearer-token APIs such as ZignSec: fetch an
access token from a token endpoint, keep it until shortly before it expires, and send
``Authorization: Bearer <token>`` (plus ``Zs-Product-Key`` for ZignSec) on every request.

>>> creds = ClientCredentials("https://auth.example/oauth/token", "my-client", "my-secret")  # doctest: +SKIP
>>> auth = OAuth2HttpxAuth(creds, product_key="zs-primary-key")                     # doctest: +SKIP
>>> httpx.Client(auth=auth).get("https://api.zignsec.com/v3/...")                     # doctest: +SKIP

* When to refresh is the core's :class:`apisig.TokenLifetime`: from the moment the token was
  requested, ``expires_in`` seconds (``default_lifetime`` when the server omits it; ZignSec's
  tokens live 20 minutes), minus ``skew`` seconds (capped at half the lifetime).
* Single flight: one :class:`ClientCredentials` shared by many threads fetches one token at a
  time (a lock; the threads that waited use the token just fetched), and the same for the tasks
  of one event loop (an ``asyncio.Lock`` per loop).
* A 401 from the API drops the token it was sent with (unless another request already
  replaced it), fetches a new one and sends the request once more; a second 401 is the caller's.
* ZignSec product keys: ``product_keys=[primary, secondary]`` drives the core's
  :class:`apisig.Rotation` beside the token. A 401 first costs the token (refreshed once); a
  401 or 403 after that moves to the other key, which stays current once it worked. The token
  is tried first because it expires every 20 minutes and the keys rarely change.
* A token endpoint that refuses raises :class:`OAuth2Error` with its status and RFC 6749 §5.2
  ``error``; transport errors (connection refused, timeouts) propagate as the HTTP library's.
* The token request goes through the same client (httpx) or session (requests) as the API
  calls, so its transport settings apply, mTLS client certificates included.

The headers themselves are produced by the core (:data:`apisig.ZIGNSEC_OAUTH`, or
:data:`apisig.SECUROSYS_JWT` for a bare bearer token).
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
import weakref
from collections.abc import AsyncGenerator, Callable, Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import quote, urlencode

from ._native import SECUROSYS_JWT, ZIGNSEC_OAUTH, Attempt, Next, Rotation, Signer, TokenLifetime
from .client import _HttpxBase, _requests_body, _RequestsBase
from .types import ClientAuthMethod

if TYPE_CHECKING:
    import httpx
    import requests

__all__ = ["ClientCredentials", "OAuth2Error", "OAuth2HttpxAuth", "OAuth2RequestsAuth"]

AUTH_METHODS: tuple[ClientAuthMethod, ...] = get_args(ClientAuthMethod)


class OAuth2Error(Exception):
    """The token endpoint did not give an access token: ``status`` is its HTTP status,
    ``error`` and ``description`` the RFC 6749 §5.2 fields (when it sent them)."""

    def __init__(self, url: str, status: int, error: str | None, description: str | None) -> None:
        self.url, self.status, self.error, self.description = url, status, error, description
        what = error or "no access token"
        detail = f": {description}" if description else ""
        super().__init__(f"token endpoint {url} answered {status} {what}{detail}")


class ClientCredentials:
    """A client's credentials at one token endpoint, and the access token they were last
    exchanged for. Share one instance between every request that uses the same client.

    ``auth_method`` is ``"client_secret_basic"`` (HTTP Basic, RFC 6749 §2.3.1, the default) or
    ``"client_secret_post"`` (in the form body). ``clock`` returns nanoseconds since the UNIX
    epoch (default ``time.time_ns``); tests inject one.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        auth_method: ClientAuthMethod = "client_secret_basic",
        skew: int = 60,
        default_lifetime: int = 1200,
        extra: dict[str, str] | None = None,
        clock: Callable[[], int] | None = None,
    ) -> None:
        if auth_method not in AUTH_METHODS:
            raise ValueError(f"auth_method is one of {AUTH_METHODS}, not {auth_method!r}")
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.auth_method = auth_method
        self.skew = skew
        self.default_lifetime = default_lifetime
        self.extra = dict(extra or {})
        self.clock = clock or time.time_ns
        self.fetches = 0
        """How many tokens were fetched (for monitoring and tests)."""
        self._state = threading.Lock()  # guards the fields below; never held across I/O
        self._token: str | None = None
        self._lifetime: TokenLifetime | None = None
        self._fetching = threading.Lock()  # single flight for threads
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        client_id: str,
        client_secret: str,
        *,
        fetch: Callable[[str], tuple[int, Mapping[str, str], bytes]] | None = None,
        **options: Any,
    ) -> ClientCredentials:
        """Credentials at the ``token_endpoint`` of ``issuer``'s OpenID discovery document
        (whose ``issuer`` must be ``issuer`` exactly: ``DiscoveryMismatch``). ``auth_method``
        must be one the provider lists in ``token_endpoint_auth_methods_supported`` (when it
        lists them). ``fetch``: as :func:`apisig.oidc.discover`; other options as the
        constructor's."""
        from .exceptions import DiscoveryMismatch
        from .oidc import discover

        doc = discover(issuer, fetch)
        token_url = doc.get("token_endpoint")
        if not isinstance(token_url, str) or not token_url:
            raise DiscoveryMismatch(f"the discovery document of {issuer} has no token_endpoint")
        method = options.get("auth_method", "client_secret_basic")
        supported = doc.get("token_endpoint_auth_methods_supported")
        if isinstance(supported, list) and method not in supported:
            raise DiscoveryMismatch(f"{issuer} does not support {method} (it lists {supported})")
        return cls(token_url, client_id, client_secret, **options)

    # ---- the cache ----

    def current(self) -> str | None:
        """The cached token, unless the core says it is time to refresh it."""
        with self._state:
            if self._token is None or self._lifetime is None:
                return None
            if self._lifetime.needs_refresh(self.clock()):
                return None
            return self._token

    @property
    def lifetime(self) -> TokenLifetime | None:
        """The cached token's lifetime."""
        with self._state:
            return self._lifetime

    def invalidate(self, token: str | None = None) -> None:
        """Drops the cached token (only if it is still ``token``, when given: a 401 for a token
        another request already replaced changes nothing)."""
        with self._state:
            if token is None or self._token == token:
                self._token, self._lifetime = None, None

    # ---- the token request (RFC 6749 §4.4.2) and its answer (§5.1, §5.2) ----

    def token_request(self) -> tuple[dict[str, str], bytes]:
        """The headers and form body of one token request."""
        form = {"grant_type": "client_credentials", **self.extra}
        if self.scope:
            form["scope"] = self.scope
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.auth_method == "client_secret_basic":
            # RFC 6749 §2.3.1: both form-urlencoded before Basic encoding.
            pair = f"{quote(self.client_id, safe='')}:{quote(self._secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode("ascii")
        else:
            form["client_id"], form["client_secret"] = self.client_id, self._secret
        return headers, urlencode(form).encode()

    def accept(self, status: int, content: bytes, requested_at: int) -> str:
        """Keeps the token from a token endpoint's answer and returns it; raises
        :class:`OAuth2Error` for anything else."""
        try:
            payload = json.loads(content) if content else None
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            payload = {}
        token = payload.get("access_token")
        if status != 200 or not isinstance(token, str) or not token:
            error, desc = payload.get("error"), payload.get("error_description")
            raise OAuth2Error(
                self.token_url,
                status,
                error if isinstance(error, str) else None,
                desc if isinstance(desc, str) else None,
            )
        token_type = payload.get("token_type", "Bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise OAuth2Error(self.token_url, status, "unsupported_token_type", f"token_type {token_type!r}")
        expires_in = payload.get("expires_in", self.default_lifetime)
        if isinstance(expires_in, str) and expires_in.isdigit():
            expires_in = int(expires_in)
        if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in < 0:
            raise OAuth2Error(self.token_url, status, "invalid_expires_in", f"expires_in {expires_in!r}")
        with self._state:
            self._token = token
            self._lifetime = TokenLifetime(requested_at, expires_in, self.skew)
            self.fetches += 1
        return token

    # ---- single flight ----

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._state:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock

    def fetch_sync(self, post: Callable[[str, dict[str, str], bytes], tuple[int, bytes]]) -> str:
        """The current token, or a new one from ``post(url, headers, body) -> (status, body)``;
        one thread fetches while the others wait for its token."""
        token = self.current()
        if token is not None:
            return token
        with self._fetching:
            token = self.current()
            if token is not None:
                return token
            requested_at = self.clock()
            headers, body = self.token_request()
            status, content = post(self.token_url, headers, body)
            return self.accept(status, content, requested_at)

    def _httpx_flow(self) -> Generator[httpx.Request, httpx.Response, str]:
        """httpx, sync: the token request is yielded to the client that sends the API call."""
        import httpx

        token = self.current()
        if token is not None:
            return token
        with self._fetching:
            token = self.current()
            if token is not None:
                return token
            requested_at = self.clock()
            headers, body = self.token_request()
            response = yield httpx.Request("POST", self.token_url, headers=headers, content=body)
            response.read()
            return self.accept(response.status_code, response.content, requested_at)

    def __repr__(self) -> str:
        return f"ClientCredentials(token_url={self.token_url!r}, client_id={self.client_id!r}, secret=<redacted>)"


def _bearer_headers(token: str, product_key: str | None, method: str, target: str) -> dict[str, str]:
    if product_key is None:
        return Signer(SECUROSYS_JWT, token=token).sign(method, target)
    return Signer(ZIGNSEC_OAUTH, api_key=product_key, token=token).sign(method, target)


class _ProductKeys:
    """The ``Zs-Product-Key`` values of one client (none, one, or primary and secondary) and
    the core's rotation between them, beside a bearer token that is refreshed once on a 401."""

    def __init__(self, product_key: str | None, product_keys: Sequence[str] | None) -> None:
        if product_key is not None and product_keys is not None:
            raise TypeError("pass product_key or product_keys, not both")
        keys = list(product_keys) if product_keys is not None else [product_key] if product_key else []
        if product_keys is not None and not keys:
            raise ValueError("product_keys needs at least one key")
        self.keys: tuple[str, ...] = tuple(keys)
        self.rotation = Rotation.for_scheme(ZIGNSEC_OAUTH, len(keys)) if keys else None

    def begin(self) -> Attempt | None:
        return self.rotation.begin() if self.rotation is not None else None

    def key(self, attempt: Attempt | None) -> str | None:
        return self.keys[attempt.key] if attempt is not None else None

    def retry(self, attempt: Attempt | None, status: int, refreshed: bool) -> str:
        """After a response: ``"token"`` (refresh the token and resend), ``"key"`` (resend
        with the key the rotation moved to) or ``"done"``."""
        if status == 401 and not refreshed:
            return "token"
        if attempt is None or self.rotation is None:
            return "done"
        return "key" if self.rotation.on_response(attempt, status) is Next.RETRY else "done"


class OAuth2HttpxAuth(_HttpxBase):  # type: ignore[misc]
    """``httpx.Auth`` (``httpx.Client`` and ``httpx.AsyncClient``): a bearer token from
    ``credentials``, plus ``Zs-Product-Key`` when ``product_key`` or ``product_keys`` (ZignSec's
    primary and secondary, rotated on 401/403) is given."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        product_key: str | None = None,
        product_keys: Sequence[str] | None = None,
    ) -> None:
        self.credentials = credentials
        self.product_keys = _ProductKeys(product_key, product_keys)

    def _apply(self, request: httpx.Request, token: str, attempt: Attempt | None) -> None:
        target = request.url.raw_path.decode("ascii")
        request.headers.update(_bearer_headers(token, self.product_keys.key(attempt), request.method, target))

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        attempt, refreshed = self.product_keys.begin(), False
        token = yield from self.credentials._httpx_flow()
        while True:
            self._apply(request, token, attempt)
            response = yield request
            step = self.product_keys.retry(attempt, response.status_code, refreshed)
            if step == "done":
                return
            if step == "token":
                refreshed = True
                self.credentials.invalidate(token)
                token = yield from self.credentials._httpx_flow()

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        import httpx

        creds = self.credentials
        attempt, refreshed = self.product_keys.begin(), False
        while True:
            token = creds.current()
            if token is None:
                async with creds._loop_lock():  # single flight for the tasks of this loop
                    token = creds.current()
                    if token is None:
                        requested_at = creds.clock()
                        headers, body = creds.token_request()
                        answer = yield httpx.Request("POST", creds.token_url, headers=headers, content=body)
                        await answer.aread()
                        token = creds.accept(answer.status_code, answer.content, requested_at)
            self._apply(request, token, attempt)
            response = yield request
            step = self.product_keys.retry(attempt, response.status_code, refreshed)
            if step == "done":
                return
            if step == "token":
                refreshed = True
                creds.invalidate(token)

    def __repr__(self) -> str:
        return f"OAuth2HttpxAuth({self.credentials!r})"


class OAuth2RequestsAuth(_RequestsBase):  # type: ignore[misc]
    """``requests`` auth: a bearer token from ``credentials`` (fetched with ``session``, or a
    short-lived ``requests.Session``), plus ``Zs-Product-Key`` as :class:`OAuth2HttpxAuth`."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        product_key: str | None = None,
        product_keys: Sequence[str] | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.credentials = credentials
        self.product_keys = _ProductKeys(product_key, product_keys)
        self._http = session
        self.timeout = timeout

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        import requests

        http = self._http or requests.Session()
        try:
            answer = http.post(url, headers=headers, data=body, timeout=self.timeout)
            return answer.status_code, answer.content
        finally:
            if self._http is None:
                http.close()

    def _apply(self, request: requests.PreparedRequest, token: str, attempt: Attempt | None) -> None:
        _requests_body(request)
        key = self.product_keys.key(attempt)
        request.headers.update(_bearer_headers(token, key, request.method or "GET", request.path_url))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        attempt = self.product_keys.begin()
        token = self.credentials.fetch_sync(self._post)
        self._apply(request, token, attempt)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            nonlocal token
            refreshed = False
            while True:
                step = self.product_keys.retry(attempt, response.status_code, refreshed)
                if step == "done":
                    return response
                if step == "token":
                    refreshed = True
                    self.credentials.invalidate(token)
                    token = self.credentials.fetch_sync(self._post)
                _ = response.content  # drain, so the connection can be reused
                response.close()
                retry = response.request.copy()
                self._apply(retry, token, attempt)
                new = response.connection.send(retry, **kwargs)
                new.history = [*response.history, response]
                new.request = retry
                response = new

        request.register_hook("response", on_response)
        return request

    def __repr__(self) -> str:
        return f"OAuth2RequestsAuth({self.credentials!r})"
