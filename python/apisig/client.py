"""Client integrations: ``httpx.Auth`` (sync and async clients) and ``requests`` ``AuthBase``.

Every dialect works the same way: the auth object signs each request with the core, exactly
over the bytes sent (method, request target with its query, body). With several keys it drives
the core's :class:`apisig.Rotation`: ZignSec retries with the other key on 401 or 403,
Securosys rolls over to the next key of a role on 401, and a key that worked stays current.

APEX is a two-step flow: :class:`ApexHttpxAuth` / :class:`ApexRequestsAuth` first call
``AuthenticateUser`` (signed fields as headers and as the JSON body), keep the session token
from the answer, and send it as ``aptoken`` on every request; a 401 on a session request opens
a new session once.

``httpx`` and ``requests`` are imported only by the classes that need them.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ._native import APEX, APEX_SESSION, Next, Rotation, Scheme, Signer

if TYPE_CHECKING:
    import httpx
    import requests

__all__ = [
    "ApexHttpxAuth",
    "ApexRequestsAuth",
    "HttpxAuth",
    "KeyChain",
    "RequestsAuth",
]


class KeyChain:
    """One or more signers for one service, and the rotation between them.

    Build it from a scheme and credentials (``api_key``, ``secret``, ``user_id``, ``token``),
    from ``keys=[...]`` (several static keys: ZignSec primary and secondary, Securosys keys of
    one role), or from ready ``signers=[...]``.
    """

    def __init__(
        self,
        scheme: Scheme | None = None,
        *,
        api_key: str = "",
        secret: bytes = b"",
        user_id: str = "",
        token: str = "",
        keys: Sequence[str] | None = None,
        signers: Sequence[Signer] | None = None,
        rotation: Rotation | None = None,
    ) -> None:
        if signers is None:
            if scheme is None:
                raise TypeError("KeyChain needs a scheme or signers")
            if keys is not None:
                signers = [
                    Signer(scheme, api_key=k, secret=secret, user_id=user_id, token=token) for k in keys
                ]
            else:
                signers = [Signer(scheme, api_key=api_key, secret=secret, user_id=user_id, token=token)]
        if not signers:
            raise ValueError("KeyChain needs at least one key")
        self.signers: tuple[Signer, ...] = tuple(signers)
        self.rotation: Rotation = rotation or Rotation.for_scheme(self.signers[0].scheme, len(self.signers))
        if self.rotation.keys != len(self.signers):
            raise ValueError(f"rotation has {self.rotation.keys} keys, chain has {len(self.signers)}")

    def headers(self, key: int, method: str, target: str, body: bytes) -> dict[str, str]:
        """The headers of key number ``key`` for one request."""
        return self.signers[key].sign(method.upper(), target, body)

    def __repr__(self) -> str:
        return f"KeyChain(scheme={self.signers[0].scheme.name!r}, keys={len(self.signers)})"


def _httpx_target(request: httpx.Request) -> str:
    raw: bytes = request.url.raw_path
    return raw.decode("ascii")


def _requests_body(request: requests.PreparedRequest) -> bytes:
    body = request.body
    if body is None:
        return b""
    if isinstance(body, str):
        # Sign and send the same bytes: http.client would encode a str body as Latin-1.
        data = body.encode("utf-8")
        request.body = data
        request.prepare_content_length(data)
        return data
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    raise TypeError("apisig signs request bodies given as bytes or str, not streams")


try:  # pragma: no branch - the base class only exists with httpx installed
    import httpx as _httpx

    _HttpxBase: Any = _httpx.Auth
except ImportError:  # pragma: no cover
    _HttpxBase = object

try:  # pragma: no branch
    import requests.auth as _requests_auth

    _RequestsBase: Any = _requests_auth.AuthBase
except ImportError:  # pragma: no cover
    _RequestsBase = object


class HttpxAuth(_HttpxBase):  # type: ignore[misc]
    """``httpx.Auth`` for any scheme; works with ``httpx.Client`` and ``httpx.AsyncClient``.

    >>> auth = HttpxAuth(apisig.AEVO, api_key="K", secret=b"S")         # doctest: +SKIP
    >>> auth = HttpxAuth(apisig.ZIGNSEC, keys=[primary, secondary])      # doctest: +SKIP
    """

    requires_request_body = True

    def __init__(self, scheme: Scheme | None = None, **credentials: Any) -> None:
        self.chain = credentials.pop("chain", None) or KeyChain(scheme, **credentials)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        attempt = self.chain.rotation.begin()
        while True:
            headers = self.chain.headers(attempt.key, request.method, _httpx_target(request), request.content)
            request.headers.update(headers)
            response = yield request
            if self.chain.rotation.on_response(attempt, response.status_code) is not Next.RETRY:
                return

    def __repr__(self) -> str:
        return f"HttpxAuth({self.chain!r})"


class RequestsAuth(_RequestsBase):  # type: ignore[misc]
    """``requests`` auth for any scheme, with the same key rotation as :class:`HttpxAuth`."""

    def __init__(self, scheme: Scheme | None = None, **credentials: Any) -> None:
        self.chain = credentials.pop("chain", None) or KeyChain(scheme, **credentials)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        attempt = self.chain.rotation.begin()
        self._sign(request, attempt.key)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            while self.chain.rotation.on_response(attempt, response.status_code) is Next.RETRY:
                _ = response.content  # drain, so the connection can be reused
                response.close()
                retry = response.request.copy()
                self._sign(retry, attempt.key)
                new = response.connection.send(retry, **kwargs)
                new.history.append(response)
                new.request = retry
                response = new
            return response

        request.register_hook("response", on_response)
        return request

    def _sign(self, request: requests.PreparedRequest, key: int) -> None:
        body = _requests_body(request)
        request.headers.update(self.chain.headers(key, request.method or "GET", request.path_url, body))

    def __repr__(self) -> str:
        return f"RequestsAuth({self.chain!r})"


# ---- APEX: AuthenticateUser, then aptoken ------------------------------------------------------


def _session_token(payload: Any) -> str | None:
    if not isinstance(payload, dict):
        return None
    for key in ("SessionToken", "sessionToken", "session_token", "aptoken", "token"):
        value = payload.get(key)
        if isinstance(value, str) and value:
            return value
    return None


class _ApexSession:
    """The APEX session state shared by the httpx and requests flows."""

    def __init__(
        self, api_key: str, secret: bytes, user_id: str, authenticate: str, signer: Signer | None
    ) -> None:
        self.signer = signer or Signer(APEX, api_key=api_key, secret=secret, user_id=user_id)
        self.authenticate = authenticate
        self.token: str | None = None
        self.lock = threading.Lock()

    def authenticate_url(self, request_url: str) -> str:
        if "://" in self.authenticate:
            return self.authenticate
        parts = urlsplit(request_url)
        return f"{parts.scheme}://{parts.netloc}{self.authenticate}"

    def authenticate_request(self, url: str) -> tuple[dict[str, str], bytes]:
        """Headers and JSON body of one signed ``AuthenticateUser`` (one nonce for both)."""
        target = urlsplit(url)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = self.signer.sign("POST", path)
        body = self.signer.sign_json("POST", path, nonce=int(headers["Nonce"]))
        return {**headers, "Content-Type": "application/json"}, body

    def accept(self, status: int, payload: bytes) -> bool:
        """Keeps the session token from an ``AuthenticateUser`` answer."""
        if status != 200:
            return False
        try:
            token = _session_token(json.loads(payload))
        except ValueError:
            return False
        with self.lock:
            self.token = token
        return token is not None

    def session_headers(self) -> dict[str, str] | None:
        with self.lock:
            token = self.token
        if token is None:
            return None
        return Signer(APEX_SESSION, token=token).sign("GET", "/")

    def forget(self, token_headers: dict[str, str] | None) -> None:
        with self.lock:
            if token_headers is not None and self.token == token_headers.get("aptoken"):
                self.token = None


class ApexHttpxAuth(_HttpxBase):  # type: ignore[misc]
    """AlphaPoint APEX for httpx: ``AuthenticateUser`` once, then ``aptoken`` on each request.

    ``authenticate`` is the ``AuthenticateUser`` URL, or a path on the request's host.
    """

    requires_response_body = True

    def __init__(
        self,
        *,
        api_key: str = "",
        secret: bytes = b"",
        user_id: str = "",
        authenticate: str = "/AuthenticateUser",
        signer: Signer | None = None,
    ) -> None:
        self.session = _ApexSession(api_key, secret, user_id, authenticate, signer)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        import httpx

        for fresh in (False, True):
            headers = None if fresh else self.session.session_headers()
            if headers is None:
                url = self.session.authenticate_url(str(request.url))
                auth_headers, body = self.session.authenticate_request(url)
                login = yield httpx.Request("POST", url, headers=auth_headers, content=body)
                if not self.session.accept(login.status_code, login.content):
                    return  # the caller sees the refused AuthenticateUser answer
                headers = self.session.session_headers()
                fresh = True
            request.headers.update(headers or {})
            response = yield request
            if response.status_code != 401 or fresh:
                return
            self.session.forget(headers)

    def __repr__(self) -> str:
        return "ApexHttpxAuth(session=<redacted>)"


class ApexRequestsAuth(_RequestsBase):  # type: ignore[misc]
    """AlphaPoint APEX for requests: ``AuthenticateUser`` once, then ``aptoken``."""

    def __init__(
        self,
        *,
        api_key: str = "",
        secret: bytes = b"",
        user_id: str = "",
        authenticate: str = "/AuthenticateUser",
        signer: Signer | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.session = _ApexSession(api_key, secret, user_id, authenticate, signer)
        self._http = session

    def _login(self, request_url: str) -> bool:
        import requests

        url = self.session.authenticate_url(request_url)
        headers, body = self.session.authenticate_request(url)
        http = self._http or requests.Session()
        try:
            answer = http.post(url, headers=headers, data=body)
        finally:
            if self._http is None:
                http.close()
        return self.session.accept(answer.status_code, answer.content)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        headers = self.session.session_headers()
        fresh = False
        if headers is None:
            fresh = self._login(request.url or "")
            headers = self.session.session_headers()
        request.headers.update(headers or {})

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            if response.status_code != 401 or fresh:
                return response
            self.session.forget(headers)
            if not self._login(response.request.url or ""):
                return response
            _ = response.content
            response.close()
            retry = response.request.copy()
            retry.headers.update(self.session.session_headers() or {})
            new = response.connection.send(retry, **kwargs)
            new.history.append(response)
            new.request = retry
            return new

        request.register_hook("response", on_response)
        return request

    def __repr__(self) -> str:
        return "ApexRequestsAuth(session=<redacted>)"
