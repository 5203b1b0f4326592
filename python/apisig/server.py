"""Server integrations: ASGI middleware (Starlette, FastAPI, any ASGI app) and WSGI middleware
(Flask, any WSGI app) that verify incoming requests for a configured set of schemes.

* The request is verified over exactly the bytes received: the body is read once, verified,
  and handed to the application unchanged (ASGI: replayed through ``receive``; WSGI: a fresh
  ``wsgi.input``).
* The principal is passed to the handler as ``scope["apisig.principal"]`` (ASGI; also
  ``request.state.apisig_principal`` in Starlette) or ``environ["apisig.principal"]`` (WSGI).
* Bad or missing credentials get 401, a valid key outside its role 403 (with
  ``authorize=True``, checked against the verifier's policy), a full replay record or an
  unreachable shared replay store (Redis, see :mod:`apisig.replay`) 503; the body is JSON
  ``{"error": name, "code": code, "message": text}``.
* With a shared replay store on the verifier (``Verifier(replay_store=...)``) the claim is made
  good after verification: awaited in the ASGI middleware for an asyncio store
  (:class:`apisig.replay.AsyncRedisReplayStore`), called in the WSGI middleware.
* With ``apex_authenticate="/AuthenticateUser"`` the middleware answers APEX's
  ``AuthenticateUser`` itself: it verifies the signed fields (headers, or the JSON body), issues
  a session token with the verifier's session secret and answers
  ``{"Authenticated": true, "SessionToken": ...}``; later requests send it as ``aptoken``
  (verified when :data:`apisig.APEX_SESSION` is among the schemes).

Which scheme a request uses is read from its headers: the configured schemes whose headers are
all present are tried, those with more headers first; the first that verifies wins, else the
first error is answered.

Mutual TLS (see :mod:`apisig.tls` for the contexts and for how the server passes the client's
certificate on): ``mtls="alone"`` authenticates by the pinned client certificate by itself (the
principal's scheme is ``"mtls"``; ``schemes`` may be empty); ``mtls="combined"`` requires the
pinned certificate *and* the credentials of one scheme, naming the same client (Securosys TSB:
API key plus client certificate), and answers with the credentials' principal. No certificate
is 401 ``missing_credential``, an unpinned one (or one pinned to another client) 401
``unpinned_certificate``. Both are the core's rule (:meth:`apisig.Verifier.verify_with_certificate`),
the same a C server applies. With ``ocsp=`` (an :class:`apisig.ocsp.OcspChecker`) a pinned
certificate is also checked with its CA's OCSP responder before its credentials: ``revoked`` is
403 ``certificate_revoked``, ``unknown`` 403 ``certificate_status_unknown``, and a status that
cannot be established 503 (``ocsp_unavailable``, ``ocsp_signature_invalid``, ...) unless the
checker is fail-soft.

OpenID access tokens: with ``oidc=`` (an :class:`apisig.oidc.OidcVerifier`) a request whose
``Authorization`` is ``Bearer`` and a JWS (three dot-separated parts) is verified against the
issuer's JWK set instead of the schemes; the principal is an :class:`apisig.oidc.AccessToken`.
An unknown ``kid`` or an unreachable JWK set with no good copy kept is 503. With
``introspection=`` (an :class:`apisig.oidc.Introspector`) the other ``Bearer`` tokens (opaque
ones; every one when ``oidc=`` is not given) are checked by RFC 7662 introspection (an
unreachable endpoint is 503 unless the introspector was made ``fail_open``). With ``oidc_key=``
(a scheme, :data:`apisig.ZIGNSEC` for ZignSec's ``Zs-Product-Key``) such a request must also
carry that scheme's credentials, verified by the verifier first (no JWK fetch for a stranger):
both must pass, each refusal answered with the core's status; the principal is the access
token's, with the key's principal as ``AccessToken.key``.

Allowed addresses (:meth:`apisig.Verifier.set_allowed`, ``apisig keys allow``): the address
checked is the connection's peer — ASGI ``scope["client"]``, WSGI ``REMOTE_ADDR`` — unless it is
one of ``trusted_proxies=`` (CIDRs: ``["10.0.0.0/8", "fd00::/8"]``); then it is the right-most
``X-Forwarded-For`` address that is not itself a trusted proxy (the core's rule,
:func:`apisig::client::peer_behind_proxies`). The header is never read from any other peer, and
a malformed one from a trusted proxy is 401 ``invalid_forwarded_for``. A peer that is no IP
address (a UNIX socket, a test client's name) is unknown: a client with an allow-list is
refused (403 ``address_not_allowed``).

Scopes (per-key permissions: :meth:`apisig.Verifier.set_scopes`, ``apisig keys scopes``, a
``lookup=`` record's ``"scopes"``; named by ``Verifier(scopes=[...])``): with
``require_scopes={"/orders": ["trade"], "/": ["read"]}`` a request's path needs the scopes of
the longest prefix it falls under (whole segments: ``/orders`` covers ``/orders/7``, not
``/ordersx``), else 403 ``forbidden``; a path under no prefix needs none. In a handler, the same
check is ``verifier.require_scopes(principal, ["trade"])`` (raises
:class:`~apisig.exceptions.Forbidden`). An OpenID access token is checked through its
``oidc_key=`` principal; without one it holds no scope.

A verifier over a persistent store or a ``lookup=`` callable (``Verifier.may_block``) may wait
on a database: the ASGI middleware then verifies in a worker thread, so the event loop keeps
serving other requests; over the in-memory store it verifies on the loop (no thread hop).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import io
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from typing import TYPE_CHECKING, Any, get_args
from urllib.parse import quote, urlsplit

from ._native import (
    APEX,
    DETACH_THRESHOLD,
    Principal,
    ReplayClaim,
    Scheme,
    Verifier,
    _AsgiGate,
    _TrustedProxies,
)
from .exceptions import (
    ApisigError,
    AuthorizationFailed,
    Forbidden,
    MissingCredential,
)
from .replay import claim_async
from .tls import asgi_peer_certificate, wsgi_peer_certificate
from .types import MtlsMode

if TYPE_CHECKING:
    from .ocsp import OcspChecker
    from .oidc import AccessToken, Introspector, OidcVerifier

__all__ = ["MTLS_MODES", "PRINCIPAL_KEY", "ApisigASGIMiddleware", "ApisigWSGIMiddleware", "Authenticator"]

MTLS_MODES: tuple[MtlsMode, ...] = get_args(MtlsMode)
"""``mtls=`` values: the pinned client certificate by itself, or with a scheme's credentials."""

PRINCIPAL_KEY = "apisig.principal"
"""The scope (ASGI) or environ (WSGI) key holding the verified :class:`apisig.Principal`."""

HeaderList = list[tuple[str, bytes]]


def status_for(exc: ApisigError) -> int:
    """The HTTP status answering a refused request: the core's, for the error's family."""
    return exc.http_status


def error_body(exc: ApisigError) -> bytes:
    return json.dumps({"error": exc.name, "code": exc.code, "message": str(exc)}).encode()


class Authenticator:
    """What both middlewares do, without a web framework: choose the scheme from the headers,
    verify, authorize, and handle APEX ``AuthenticateUser``."""

    def __init__(
        self,
        verifier: Verifier,
        schemes: Sequence[Scheme],
        *,
        authorize: bool = False,
        apex_authenticate: str | None = None,
        session_lifetime: int = 3600,
        exempt: Iterable[str] = (),
        mtls: MtlsMode | None = None,
        ocsp: OcspChecker | None = None,
        oidc: OidcVerifier | None = None,
        introspection: Introspector | None = None,
        oidc_key: Scheme | None = None,
        trusted_proxies: Iterable[str] = (),
        require_scopes: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        table = set(verifier.scopes)
        for prefix, needed in (require_scopes or {}).items():
            if not prefix.startswith("/"):
                raise ValueError(f"require_scopes: a path prefix starts with '/', not {prefix!r}")
            if isinstance(needed, str):
                raise TypeError(f"require_scopes[{prefix!r}] is a list of scope names, not a str")
            unknown = [n for n in needed if n not in table]
            if unknown:
                raise ValueError(
                    f"require_scopes[{prefix!r}]: unknown scope {unknown[0]!r}, not in the verifier's scopes {sorted(table)}"
                )
        # Longest prefix first: the first that covers a path is its rule.
        self.require_scopes = sorted(
            ((p.rstrip("/"), tuple(n)) for p, n in (require_scopes or {}).items()), key=lambda r: -len(r[0])
        )
        self.may_block = verifier.may_block
        self.trusted_proxies = tuple(trusted_proxies)
        self._proxies = _TrustedProxies(list(self.trusted_proxies))
        self.oidc = oidc
        self.introspection = introspection
        if oidc_key is not None and oidc is None and introspection is None:
            raise ValueError("oidc_key= goes with the access tokens of oidc= or introspection=")
        self.oidc_key = oidc_key
        if mtls is not None and mtls not in MTLS_MODES:
            raise ValueError(f"mtls is one of {MTLS_MODES} or None, not {mtls!r}")
        if ocsp is not None and mtls is None:
            raise ValueError("ocsp= checks client certificates: it needs mtls=")
        self.ocsp = ocsp
        if not schemes and mtls != "alone" and oidc is None and introspection is None:
            raise ValueError("configure at least one scheme")
        self.mtls = mtls
        self.verifier = verifier
        self.schemes = tuple(schemes)
        self.authorize = authorize
        self.apex_authenticate = apex_authenticate
        self.session_lifetime = session_lifetime
        self.exempt = frozenset(exempt)
        # Each scheme with the (lowercase) names of its headers, those with more headers first:
        # the order candidates are tried in, fixed once (Python's sort is stable).
        self._names = [(s, frozenset(h[0].lower() for h in s.headers)) for s in self.schemes]
        self._names.sort(key=lambda pair: -len(pair[0].headers))
        # The ASGI middleware's per-request work in one native call (the same rules, see
        # python/src/asgi.rs) when the request needs nothing else: mutual TLS (and so OCSP),
        # OpenID access tokens, and a subclass's own verification take the Python path.
        own = all(
            getattr(type(self), m) is getattr(Authenticator, m)
            for m in ("authenticate_async", "authenticate_deferred", "_by_headers")
        )
        self.asgi_gate = (
            _AsgiGate(verifier, self.schemes, authorize=authorize, trusted_proxies=list(self.trusted_proxies))
            if mtls is None and oidc is None and self.schemes and own
            else None
        )

    def peer(self, direct: str | None, headers: HeaderList) -> str | None:
        """The client's address for allow-lists: ``direct`` (the connection's peer) unless it
        is a trusted proxy, then the right-most ``X-Forwarded-For`` address that is not one;
        ``None`` when ``direct`` is ``None`` or no IP address. Raises
        :class:`~apisig.exceptions.InvalidForwardedFor` for a malformed header from a trusted
        proxy."""
        forwarded = [v for k, v in headers if k.lower() == "x-forwarded-for"] if self.trusted_proxies else []
        return self._proxies.peer(direct, forwarded)

    def check_scopes(self, principal: Principal | AccessToken, path: str) -> None:
        """Raises :class:`~apisig.exceptions.Forbidden` unless the principal holds the scopes
        ``require_scopes`` asks for ``path`` (the verifier's ``require_scopes``)."""
        for prefix, needed in self.require_scopes:
            if path == prefix or path.startswith(prefix + "/") or not prefix:
                key = principal if isinstance(principal, Principal) else principal.key
                if key is None:
                    raise Forbidden("an access token without an oidc_key= principal holds no scope")
                self.verifier.require_scopes(key, list(needed))
                return

    def is_exempt(self, path: str) -> bool:
        return path in self.exempt

    def is_apex_login(self, method: str, path: str) -> bool:
        return self.apex_authenticate is not None and method == "POST" and path == self.apex_authenticate

    def bearer_token(self, headers: HeaderList) -> str | None:
        """The access token for ``oidc=`` (a ``Bearer`` JWS) or ``introspection=`` (any other
        ``Bearer`` token; every one without ``oidc=``), else ``None``: the schemes decide."""
        if self.oidc is None and self.introspection is None:
            return None
        values = [v for k, v in headers if k.lower() == "authorization"]
        if len(values) != 1:
            return None
        scheme, _, token = values[0].decode("latin-1").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return None
        if self.oidc is not None and token.count(".") == 2:
            return token
        return token if self.introspection is not None else None

    def _token_principal(self, token: str) -> AccessToken:
        if self.oidc is not None and (self.introspection is None or token.count(".") == 2):
            return self.oidc.principal(token)
        assert self.introspection is not None
        return self.introspection.principal(token)

    def _token_key(
        self, method: str, target: str, headers: HeaderList, body: bytes, peer: str | None = None
    ) -> tuple[Principal | None, ReplayClaim | None]:
        """The ``oidc_key=`` credentials that must come with an access token."""
        if self.oidc_key is None:
            return None, None
        return self.verifier.verify_deferred(
            self.oidc_key, method, target, headers, body, authorize=self.authorize, peer=peer
        )

    def authenticate(
        self,
        method: str,
        target: str,
        headers: HeaderList,
        body: bytes,
        certificate: bytes | None = None,
        *,
        peer: str | None = None,
    ) -> Principal | AccessToken:
        """The principal of a request (``certificate``: the TLS client certificate, DER, if
        any; ``peer``: the client's address, :meth:`peer`), or the exception to answer with."""
        token = self.bearer_token(headers)
        if token is not None:
            key, claim = self._token_key(method, target, headers, body, peer)
            who = self._token_principal(token)
            self.claim(claim)
            return who if key is None else dataclasses.replace(who, key=key)
        principal, claim = self.authenticate_deferred(method, target, headers, body, certificate, peer=peer)
        self.claim(claim)
        return principal

    async def authenticate_async(
        self,
        method: str,
        target: str,
        headers: HeaderList,
        body: bytes,
        certificate: bytes | None = None,
        *,
        peer: str | None = None,
    ) -> Principal | AccessToken:
        """:meth:`authenticate` for asyncio: large bodies are verified off the event loop, an
        asyncio replay store is awaited, an OCSP responder is asked in a thread, and an OpenID
        access token is verified in one (its JWK set may have to be fetched)."""
        token = self.bearer_token(headers)
        if token is not None:
            key, claim = await _maybe_in_thread(
                self.may_block or len(body) >= DETACH_THRESHOLD,
                self._token_key,
                method,
                target,
                headers,
                body,
                peer,
            )
            who = await asyncio.to_thread(self._token_principal, token)
            if claim is not None:
                await self.claim_async(claim)
            return who if key is None else dataclasses.replace(who, key=key)
        checked = False
        if self.ocsp is not None and certificate is not None:
            self.verifier.verify_certificate(certificate, peer=peer)  # pinned first: strangers cause no fetch
            await self.ocsp.check_async(certificate)
            checked = True
        # _maybe_in_thread inline, and no claim awaited when there is none: every request
        # comes this way, and each coroutine costs it (about 0.3 us, more on a busy server).
        if self.may_block or len(body) >= DETACH_THRESHOLD:
            loop = asyncio.get_running_loop()
            call = functools.partial(
                self.authenticate_deferred, method, target, headers, body, certificate, checked, peer=peer
            )
            principal, claim = await loop.run_in_executor(None, call)
        else:
            principal, claim = self.authenticate_deferred(
                method, target, headers, body, certificate, checked, peer=peer
            )
        if claim is not None:
            await self.claim_async(claim)
        return principal

    def authenticate_deferred(
        self,
        method: str,
        target: str,
        headers: HeaderList,
        body: bytes,
        certificate: bytes | None = None,
        revocation_checked: bool = False,
        *,
        peer: str | None = None,
    ) -> tuple[Principal, ReplayClaim | None]:
        """The principal and the claim still to be made good in the verifier's shared replay
        store (see :meth:`apisig.Verifier.verify_deferred`). ``revocation_checked``: the
        certificate's OCSP check was already made; ``peer``: the client's address."""
        if self.ocsp is not None and certificate is not None and not revocation_checked:
            # The pin first, so an unpinned certificate costs no responder round trip.
            self.verifier.verify_certificate(certificate, peer=peer)
            self.ocsp.check(certificate)
        if self.mtls == "alone":
            return self.verifier.verify_with_certificate(
                certificate, path=target, authorize=self.authorize, peer=peer
            )
        return self._by_headers(method, target, headers, body, certificate, peer)

    def claim(self, claim: ReplayClaim | None) -> None:
        """Makes ``claim`` good in the verifier's shared replay store (synchronous stores)."""
        store = self.verifier.replay_store
        if claim is None or store is None:
            return
        if store.claim(claim) is not None:
            raise TypeError("the replay store is asynchronous: use it with the ASGI middleware")

    async def claim_async(self, claim: ReplayClaim | None) -> None:
        """Makes ``claim`` good in the verifier's shared replay store, awaiting an asyncio one."""
        store = self.verifier.replay_store
        if claim is not None and store is not None:
            await claim_async(store, claim)

    def _by_headers(
        self,
        method: str,
        target: str,
        headers: HeaderList,
        body: bytes,
        certificate: bytes | None,
        peer: str | None = None,
    ) -> tuple[Principal, ReplayClaim | None]:
        # Servers send lowercase names (ASGI's rule, and what _wsgi_headers makes): those are
        # looked up as they are, and only when that misses a scheme are all names lowercased.
        sent = dict(headers).keys()
        candidates = [s for s, names in self._names if names <= sent]
        if len(candidates) < len(self._names):
            present = {name.lower() for name in sent}
            candidates = [s for s, names in self._names if names <= present]
        if not candidates:
            if self.mtls != "combined":
                raise MissingCredential("no credentials for any accepted scheme")
            # The core still judges the certificate first: none, or an unpinned one, is its
            # answer; a pinned one without credentials is missing_credential.
            candidates = list(self.schemes[:1])
        first: ApisigError | None = None
        for scheme in candidates:
            try:
                if self.mtls == "combined":
                    return self.verifier.verify_with_certificate(
                        certificate,
                        scheme,
                        method,
                        target,
                        headers,
                        body,
                        authorize=self.authorize,
                        peer=peer,
                    )
                return self.verifier.verify_deferred(
                    scheme, method, target, headers, body, authorize=self.authorize, peer=peer
                )
            except AuthorizationFailed:
                raise
            except ApisigError as e:
                first = first or e
        assert first is not None
        raise first

    def apex_login(
        self, target: str, headers: HeaderList, body: bytes, *, peer: str | None = None
    ) -> tuple[int, bytes]:
        """Answers ``AuthenticateUser``: status and JSON body."""
        try:
            principal, claim = self._apex_verify(target, headers, body, peer)
            self.claim(claim)
        except ApisigError as e:
            return _apex_refusal(e)
        return self._apex_session(principal)

    async def apex_login_async(
        self, target: str, headers: HeaderList, body: bytes, *, peer: str | None = None
    ) -> tuple[int, bytes]:
        """:meth:`apex_login` for asyncio."""
        try:
            result: tuple[Principal, ReplayClaim | None] = await _maybe_in_thread(
                self.may_block or len(body) >= DETACH_THRESHOLD,
                self._apex_verify,
                target,
                headers,
                body,
                peer,
            )
            principal, claim = result
            await self.claim_async(claim)
        except ApisigError as e:
            return _apex_refusal(e)
        return self._apex_session(principal)

    def _apex_verify(
        self, target: str, headers: HeaderList, body: bytes, peer: str | None = None
    ) -> tuple[Principal, ReplayClaim | None]:
        # The headers when they carry all four credentials, else the JSON body's: the core's
        # rule (Verifier::verify_json_body), the same a C server applies.
        return self.verifier.verify_deferred(APEX, "POST", target, headers, body, json_body=True, peer=peer)

    def _apex_session(self, principal: Principal) -> tuple[int, bytes]:
        user_id = principal.user_id or ""
        try:
            token = self.verifier.issue_session(principal.client_id, user_id, lifetime=self.session_lifetime)
        except ApisigError as e:
            return _apex_refusal(e)
        answer = {"Authenticated": True, "SessionToken": token, "User": {"UserId": user_id}}
        return 200, json.dumps(answer).encode()


def _apex_refusal(e: ApisigError) -> tuple[int, bytes]:
    answer = {"Authenticated": False, "errormsg": str(e), "error": e.name, "code": e.code}
    return status_for(e), json.dumps(answer).encode()


def _authenticator(
    authenticator: Authenticator | None, verifier: Verifier | None, schemes: Sequence[Scheme], options: Any
) -> Authenticator:
    if authenticator is not None:
        return authenticator
    if verifier is None:
        raise TypeError("pass an Authenticator, or a verifier and schemes")
    return Authenticator(verifier, schemes, **options)


# ---- ASGI ----------------------------------------------------------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class ApisigASGIMiddleware:
    """ASGI middleware: ``app = ApisigASGIMiddleware(app, verifier=v, schemes=[apisig.AEVO])``,
    or with Starlette ``Middleware(ApisigASGIMiddleware, verifier=v, schemes=[...])``."""

    def __init__(
        self,
        app: ASGIApp,
        authenticator: Authenticator | None = None,
        *,
        verifier: Verifier | None = None,
        schemes: Sequence[Scheme] = (),
        max_body: int = 8 << 20,
        peer_certificate: Callable[[Scope], bytes | None] = asgi_peer_certificate,
        **options: Any,
    ) -> None:
        self.app = app
        self.auth = _authenticator(authenticator, verifier, schemes, options)
        self.max_body = max_body
        self.peer_certificate = peer_certificate
        # Read per request: one attribute each, so the in-memory fast path pays next to nothing.
        self._offload = self.auth.may_block
        self._scoped = bool(self.auth.require_scopes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.auth.exempt:  # is_exempt, inline
            await self.app(scope, receive, send)
            return
        # The body: most requests send it in one message (read without a loop or a join).
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        body = message.get("body", b"")
        size = len(body)
        if size > self.max_body:
            await _asgi_answer(send, 413, b'{"error":"body_too_large"}')
            return
        if message.get("more_body", False):
            chunks = [body]
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    await _asgi_answer(send, 413, b'{"error":"body_too_large"}')
                    return
                chunks.append(chunk)
                if not message.get("more_body", False):
                    break
            body = b"".join(chunks)
        elif type(body) is not bytes:
            body = bytes(body)
        gate = self.auth.asgi_gate
        entered = None
        apex = self.auth.apex_authenticate is not None and self.auth.is_apex_login(
            scope["method"], scope["path"]
        )
        if gate is not None and len(body) < DETACH_THRESHOLD and not apex:
            try:
                if self._offload:  # a database lookup: in a worker thread, never on the loop
                    entered = await asyncio.get_running_loop().run_in_executor(None, gate.enter, scope, body)
                else:
                    entered = gate.enter(scope, body)
                if entered is not None and entered[1] is not None:
                    await self.auth.claim_async(entered[1])
            except ApisigError as e:
                await _asgi_answer(send, status_for(e), error_body(e))
                return
        if entered is not None:
            scope = entered[0]
        else:
            authenticated = await self._authenticate(scope, body, send)
            if authenticated is None:
                return
            scope = authenticated
        if self._scoped:
            try:
                self.auth.check_scopes(scope[PRINCIPAL_KEY], scope["path"])
            except ApisigError as e:
                await _asgi_answer(send, status_for(e), error_body(e))
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _authenticate(self, scope: Scope, body: bytes, send: Send) -> Scope | None:
        """The scope for the application, with the principal; ``None`` when the request was
        answered here (refused, or APEX ``AuthenticateUser``). The Python path, for what the
        native gate does not take (see :class:`Authenticator`)."""
        raw_path = scope.get("raw_path") or quote(scope["path"]).encode()
        query = scope.get("query_string", b"")
        target = (raw_path + b"?" + query if query else raw_path).decode("latin-1")
        headers = _asgi_headers(scope["headers"])
        method: str = scope["method"]
        client = scope.get("client")
        try:
            peer = self.auth.peer(client[0] if client else None, headers)
        except ApisigError as e:
            await _asgi_answer(send, status_for(e), error_body(e))
            return None

        if self.auth.is_apex_login(method, scope["path"]):
            status, answer = await self.auth.apex_login_async(target, headers, body, peer=peer)
            await _asgi_answer(send, status, answer)
            return None
        certificate = self.peer_certificate(scope) if self.auth.mtls else None
        try:
            principal = await self.auth.authenticate_async(
                method, target, headers, body, certificate, peer=peer
            )
        except ApisigError as e:
            await _asgi_answer(send, status_for(e), error_body(e))
            return None
        state = dict(scope.get("state") or {})
        state["apisig_principal"] = principal
        return {**scope, PRINCIPAL_KEY: principal, "state": state}


# Header names as str, each decoded once: a server sends the same few names again and again.
_HEADER_NAMES: dict[bytes, str] = {}
_HEADER_NAMES_MAX = 1024


def _asgi_headers(raw: Iterable[tuple[bytes, bytes]]) -> HeaderList:
    """ASGI's ``(name, value)`` byte pairs with names as ``str`` (decoded as Latin-1)."""
    names = _HEADER_NAMES
    if type(raw) is not list:  # walked twice when a name is new
        raw = list(raw)
    try:
        return [(names[k], v) for k, v in raw]
    except (KeyError, TypeError):  # a name not seen yet (or not bytes)
        pass
    if len(names) > _HEADER_NAMES_MAX:  # a client sending made-up names does not grow it forever
        names.clear()
    out: HeaderList = []
    for k, v in raw:
        if type(k) is bytes:
            name = names.get(k)
            if name is None:
                name = names[k] = k.decode("latin-1")
        else:
            name = k.decode("latin-1")
        out.append((name, v))
    return out


async def _maybe_in_thread(offload: bool, fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, off the event loop when ``offload``: a large body (the core releases the
    GIL for it) or a verifier whose lookups may block."""
    if offload:
        return await asyncio.get_running_loop().run_in_executor(None, fn, *args)
    return fn(*args)


async def _asgi_answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# ---- WSGI ----------------------------------------------------------------------------------------

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_STATUS_TEXT = {200: "OK", 401: "Unauthorized", 403: "Forbidden", 413: "Content Too Large", 500: "Internal Server Error",
                503: "Service Unavailable"}  # fmt: skip


def _wsgi_header_name(key: str) -> str | None:
    """The header name an environ key carries (lowercase), or None for other keys."""
    if key.startswith("HTTP_"):
        return key[5:].replace("_", "-").lower()
    if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        return key.replace("_", "-").lower()
    return None


# Environ keys and the header names they carry, each worked out once: a server's environ has the
# same keys request after request.
_WSGI_NAMES: dict[str, str | None] = {}


def _wsgi_headers(environ: dict[str, Any]) -> HeaderList:
    names = _WSGI_NAMES
    try:
        return [
            (name, value.encode("latin-1"))
            for key, value in environ.items()
            if (name := names[key]) is not None and value != ""
        ]
    except KeyError:  # a key not seen yet
        pass
    if len(names) > _HEADER_NAMES_MAX:  # a client sending made-up names does not grow it forever
        names.clear()
    out: HeaderList = []
    for key, value in environ.items():
        name = names[key] if key in names else names.setdefault(key, _wsgi_header_name(key))
        if name is not None and value != "":
            out.append((name, value.encode("latin-1")))
    return out


def _wsgi_target(environ: dict[str, Any]) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        if not raw.startswith("/"):
            parts = urlsplit(raw)
            raw = parts.path + (f"?{parts.query}" if parts.query else "")
        return str(raw)
    path = quote((environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")).encode("latin-1"))
    query = environ.get("QUERY_STRING", "")
    return path + (f"?{query}" if query else "")


class ApisigWSGIMiddleware:
    """WSGI middleware: ``app.wsgi_app = ApisigWSGIMiddleware(app.wsgi_app, verifier=v,
    schemes=[apisig.SIGNIUS])`` for Flask. WSGI servers join repeated headers with commas, so
    a repeated credential header arrives as one (bad) value rather than as a duplicate."""

    def __init__(
        self,
        app: WSGIApp,
        authenticator: Authenticator | None = None,
        *,
        verifier: Verifier | None = None,
        schemes: Sequence[Scheme] = (),
        max_body: int = 8 << 20,
        peer_certificate: Callable[[dict[str, Any]], bytes | None] = wsgi_peer_certificate,
        **options: Any,
    ) -> None:
        self.app = app
        self.auth = _authenticator(authenticator, verifier, schemes, options)
        self.max_body = max_body
        self.peer_certificate = peer_certificate

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if self.auth.is_exempt(path):
            return self.app(environ, start_response)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > self.max_body:
            return _wsgi_answer(start_response, 413, b'{"error":"body_too_large"}')
        stream = environ["wsgi.input"]
        if length:
            body = stream.read(length)
        elif environ.get("wsgi.input_terminated"):
            body = stream.read(self.max_body + 1)
            if len(body) > self.max_body:
                return _wsgi_answer(start_response, 413, b'{"error":"body_too_large"}')
        else:
            body = b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        target = _wsgi_target(environ)
        headers = _wsgi_headers(environ)
        method = environ["REQUEST_METHOD"]
        try:
            peer = self.auth.peer(environ.get("REMOTE_ADDR") or None, headers)
        except ApisigError as e:
            return _wsgi_answer(start_response, status_for(e), error_body(e))
        if self.auth.is_apex_login(method, path):
            status, answer = self.auth.apex_login(target, headers, body, peer=peer)
            return _wsgi_answer(start_response, status, answer)
        certificate = self.peer_certificate(environ) if self.auth.mtls else None
        try:
            principal = self.auth.authenticate(method, target, headers, body, certificate, peer=peer)
            self.auth.check_scopes(principal, path)
        except ApisigError as e:
            return _wsgi_answer(start_response, status_for(e), error_body(e))
        environ[PRINCIPAL_KEY] = principal
        return self.app(environ, start_response)


def _wsgi_answer(start_response: StartResponse, status: int, body: bytes) -> list[bytes]:
    start_response(
        f"{status} {_STATUS_TEXT.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
