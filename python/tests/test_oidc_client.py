"""The OAuth2 client against a real OpenID provider (node-oidc-provider, see
test_oidc_provider.py) over HTTP: ``ClientCredentials.from_issuer`` (discovery, issuer checked)
through the httpx auth (sync and asyncio) and the requests auth, with ``client_secret_basic``
and ``client_secret_post``, calling a resource server that is apisig's ASGI (uvicorn) or WSGI
(werkzeug) middleware with ``oidc=`` (the provider's JWT access tokens), ``introspection=``
(its opaque ones) and ``oidc_key=ZIGNSEC`` (a ZignSec product key must come with the token).

What is checked: one token for many threads and tasks, refreshed when the core's
``TokenLifetime`` says so, refreshed once when the resource server answers 401 (the provider
revoked the token: RFC 7009 revocation, seen by introspection), the ``Zs-Product-Key``
rotation beside the token, and every refusal of the combined check with the core's status.
"""

from __future__ import annotations

import asyncio
import base64
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
from conftest import uvicorn_server, werkzeug_server
from test_oidc_provider import API, CLIENTS, ROOT, Provider

from apisig import ZIGNSEC, Verifier, exceptions
from apisig.oauth import ClientCredentials, OAuth2HttpxAuth, OAuth2RequestsAuth
from apisig.oidc import AccessToken, Introspector, OidcVerifier, discover
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

PRIMARY, SECONDARY = "zs-primary-6a0c2f", "zs-secondary-91be44"
S = 1_000_000_000
N = 16
KINDS = ["requests", "httpx", "httpx-async"]


@dataclass
class Resource:
    """One resource server and what it saw."""

    url: str
    verifier: Verifier
    tokens: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saw(self, headers: Any) -> None:
        with self.lock:
            self.tokens.append(headers.get("authorization", ""))


def authenticator(op: Provider, verifier: Verifier) -> Authenticator:
    oidc = OidcVerifier(op.issuer, API + "ES256", algorithms=["ES256"], strict=True)
    intro = Introspector(op.issuer, *CLIENTS["client_secret_basic"], audience=API + "opaque", max_cache=0)
    return Authenticator(verifier, [], oidc=oidc, introspection=intro, oidc_key=ZIGNSEC)


def answer(p: AccessToken) -> dict[str, Any]:
    assert p.key is not None
    return {"client_id": p.client_id, "key": p.key.client_id, "slot": str(p.key.slot), "alg": p.algorithm}


def asgi_app(auth: Authenticator, seen: Resource) -> Callable[..., Any]:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def whoami(request: Request) -> JSONResponse:
        seen.saw(request.headers)
        return JSONResponse(answer(request.scope[PRINCIPAL_KEY]))

    app = Starlette(routes=[Route("/{path:path}", whoami, methods=["GET", "POST"])])
    return ApisigASGIMiddleware(app, auth)


def wsgi_app(auth: Authenticator, seen: Resource) -> Callable[..., Any]:
    from flask import Flask, jsonify, request

    flask = Flask("apisig-oidc-resource")

    @flask.route("/<path:path>", methods=["GET", "POST"])
    def whoami(path: str) -> Any:
        seen.saw(request.headers)
        return jsonify(answer(request.environ[PRINCIPAL_KEY]))

    return ApisigWSGIMiddleware(flask.wsgi_app, auth)


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def resource(request: pytest.FixtureRequest, op: Provider) -> Iterator[Resource]:
    verifier = Verifier()
    verifier.add("zs-customer", PRIMARY.encode(), secondary=SECONDARY.encode())
    seen = Resource("", verifier)
    auth = authenticator(op, verifier)
    if request.param == "asgi":
        with uvicorn_server(asgi_app(auth, seen)) as url:
            seen.url = f"{url}/v3/ekyc/sessions"
            yield seen
    else:
        with werkzeug_server(wsgi_app(auth, seen)) as url:
            seen.url = f"{url}/v3/ekyc/sessions"
            yield seen


@pytest.fixture
def api(resource: Resource) -> Iterator[Resource]:
    resource.tokens.clear()
    yield resource


@pytest.fixture(scope="module")
def op() -> Iterator[Provider]:
    """The provider of this module (test_oidc_provider.py restarts its own with new keys)."""
    subprocess.run([str(ROOT / "scripts" / "oidc-provider.sh")], check=True)
    p = Provider()
    p.start(1)
    try:
        yield p
    finally:
        p.stop()


class Clock:
    """The client's clock (nanoseconds), moved by the tests."""

    def __init__(self) -> None:
        import time

        self.now = time.time_ns()

    def __call__(self) -> int:
        return self.now


def credentials(
    op: Provider,
    method: str = "client_secret_basic",
    resource: str = API + "ES256",
    **options: Any,
) -> ClientCredentials:
    client_id, secret = CLIENTS[method]
    return ClientCredentials.from_issuer(
        op.issuer,
        client_id,
        secret,
        auth_method=method,  # type: ignore[arg-type]
        scope="payments:read",
        extra={"resource": resource},
        **options,
    )


def call(
    kind: str, url: str, creds: ClientCredentials, **auth_options: Any
) -> httpx.Response | requests.Response:
    """One GET through the auth of ``kind``."""
    if kind == "requests":
        return requests.get(url, auth=OAuth2RequestsAuth(creds, **auth_options), timeout=10)
    if kind == "httpx":
        return httpx.get(url, auth=OAuth2HttpxAuth(creds, **auth_options), timeout=10)

    async def once() -> httpx.Response:
        async with httpx.AsyncClient(auth=OAuth2HttpxAuth(creds, **auth_options), timeout=10) as c:
            return await c.get(url)

    return asyncio.run(once())


def ok(r: httpx.Response | requests.Response, method: str = "client_secret_basic", **want: str) -> None:
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["client_id"] == CLIENTS[method][0] and got["key"] == "zs-customer"
    for k, v in want.items():
        assert got[k] == v, got


def _sent_token(r: httpx.Response | requests.Response) -> str:
    return str(r.request.headers["Authorization"]).removeprefix("Bearer ")


# ---- discovery and both client authentication methods ---------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_from_issuer_through_each_auth(op: Provider, api: Resource, kind: str, method: str) -> None:
    creds = credentials(op, method)
    assert creds.token_url == discover(op.issuer)["token_endpoint"]
    r = call(kind, api.url, creds, product_key=PRIMARY)
    ok(r, method, alg="ES256", slot="primary")
    assert r.request.headers["Zs-Product-Key"] == PRIMARY
    assert creds.fetches == 1
    ok(call(kind, api.url, creds, product_key=PRIMARY), method)
    assert creds.fetches == 1  # cached
    # The opaque tokens of the same op, checked by introspection at the resource server.
    opaque = credentials(op, method, API + "opaque")
    r = call(kind, api.url, opaque, product_key=PRIMARY)
    ok(r, method, alg="introspection")
    assert _sent_token(r).count(".") == 0


def test_discovery_is_checked(op: Provider) -> None:
    with pytest.raises(exceptions.DiscoveryMismatch):
        ClientCredentials.from_issuer(op.issuer + "/", *CLIENTS["client_secret_basic"])
    # The provider refuses a wrong secret: the caller sees the provider's error, with either auth.
    client_id, _ = CLIENTS["client_secret_post"]
    wrong = ClientCredentials.from_issuer(op.issuer, client_id, "wrong", auth_method="client_secret_post")
    from apisig.oauth import OAuth2Error

    with pytest.raises(OAuth2Error) as err:
        httpx.get(op.issuer + "/unused", auth=OAuth2HttpxAuth(wrong))
    assert (err.value.status, err.value.error) == (401, "invalid_client")
    with pytest.raises(OAuth2Error, match="invalid_client"):
        requests.get(op.issuer + "/unused", auth=OAuth2RequestsAuth(wrong), timeout=10)


# ---- one token, refreshed when the core's TokenLifetime says ---------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_refreshed_when_the_lifetime_says(op: Provider, api: Resource, kind: str) -> None:
    clock = Clock()
    creds = credentials(op, clock=clock, skew=60)
    start = clock.now
    ok(call(kind, api.url, creds, product_key=PRIMARY))
    assert creds.lifetime is not None and creds.lifetime.lifetime_s == 1200  # the provider's TTL
    clock.now = start + 1139 * S
    ok(call(kind, api.url, creds, product_key=PRIMARY))
    assert creds.fetches == 1
    clock.now = start + 1140 * S  # 60 s before the provider's expiry
    ok(call(kind, api.url, creds, product_key=PRIMARY))
    assert creds.fetches == 2
    first, _, third = api.tokens
    assert first == api.tokens[1] and third != first  # a new token from the provider


def test_threads_fetch_one_token(op: Provider, api: Resource) -> None:
    creds = credentials(op)
    barrier = threading.Barrier(N)
    auth = OAuth2RequestsAuth(creds, product_key=PRIMARY)

    def get(_: int) -> requests.Response:
        barrier.wait()
        return requests.get(api.url, auth=auth, timeout=10)

    with ThreadPoolExecutor(N) as pool:
        for r in pool.map(get, range(N)):
            ok(r)
    client = httpx.Client(auth=OAuth2HttpxAuth(creds, product_key=PRIMARY), timeout=10)
    with client, ThreadPoolExecutor(N) as pool:
        for r in pool.map(lambda _: client.get(api.url), range(N)):
            ok(r)
    assert creds.fetches == 1 and len(set(api.tokens)) == 1 and len(api.tokens) == 2 * N


def test_tasks_fetch_one_token(op: Provider, api: Resource) -> None:
    creds = credentials(op)

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(auth=OAuth2HttpxAuth(creds, product_key=PRIMARY), timeout=10) as c:
            return await asyncio.gather(*(c.get(api.url) for _ in range(N)))

    for r in asyncio.run(main()):
        ok(r)
    assert creds.fetches == 1 and len(set(api.tokens)) == 1 and len(api.tokens) == N


# ---- a 401 refreshes the token once -----------------------------------------------------------------


def revoke(op: Provider, token: str) -> None:
    """RFC 7009: the provider revokes ``token`` (its introspection says inactive from now)."""
    url = discover(op.issuer)["revocation_endpoint"]
    client_id, secret = CLIENTS["client_secret_basic"]
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    r = httpx.post(url, data={"token": token}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_revoked_token_is_refreshed_once(op: Provider, api: Resource, kind: str) -> None:
    creds = credentials(op, resource=API + "opaque")
    r = call(kind, api.url, creds, product_key=PRIMARY)
    ok(r, alg="introspection")
    old = _sent_token(r)
    revoke(op, old)
    r = call(kind, api.url, creds, product_key=PRIMARY)
    ok(r, alg="introspection")  # 401 token_inactive, a new token, the request sent again
    assert creds.fetches == 2 and _sent_token(r) != old
    refused = [h for h in r.history if "/token" not in str(h.url)]
    assert [h.status_code for h in refused] == [401]
    assert refused[0].json()["error"] == "token_inactive"
    # A token the provider never issued (the client believes it is good): refused, refreshed once.
    stale = ClientCredentials(creds.token_url, *CLIENTS["client_secret_basic"], extra=creds.extra)
    stale.accept(200, b'{"access_token":"never-issued","token_type":"Bearer","expires_in":600}', Clock()())
    ok(call(kind, api.url, stale, product_key=PRIMARY), alg="introspection")
    assert stale.fetches == 2
    # Refused again after the refresh (a retired product key): the 401 is the caller's.
    r = call(kind, api.url, stale, product_key="zs-retired")
    assert r.status_code == 401 and r.json()["error"] == "unknown_key"
    assert stale.fetches == 3 and len([h for h in r.history if "/token" not in str(h.url)]) == 1


# ---- the product key rotation beside the token -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_product_key_rotation_beside_the_token(op: Provider, api: Resource, kind: str) -> None:
    creds = credentials(op)
    api.verifier.set_key("zs-customer", "primary", None)  # ZignSec retired the primary key
    try:
        rotate(kind, api, creds)
    finally:
        api.verifier.set_key("zs-customer", "primary", PRIMARY.encode())
        api.verifier.set_key("zs-customer", "secondary", SECONDARY.encode())


def rotate(kind: str, api: Resource, creds: ClientCredentials) -> None:
    auth_options: dict[str, Any] = {"product_keys": [PRIMARY, SECONDARY]}
    if kind == "requests":
        auth: Any = OAuth2RequestsAuth(creds, **auth_options)
        first = requests.get(api.url, auth=auth, timeout=10)
        second = requests.get(api.url, auth=auth, timeout=10)
    else:
        auth = OAuth2HttpxAuth(creds, **auth_options)
        if kind == "httpx":
            with httpx.Client(auth=auth) as c:
                first, second = c.get(api.url), c.get(api.url)
        else:

            async def two() -> tuple[httpx.Response, httpx.Response]:
                async with httpx.AsyncClient(auth=auth) as c:
                    return await c.get(api.url), await c.get(api.url)

            first, second = asyncio.run(two())
    ok(first, slot="secondary")
    # 401 with the primary: the token is suspected first (refreshed once), then the key moves.
    assert [h.status_code for h in first.history if "/token" not in str(h.url)] == [401, 401]
    assert first.request.headers["Zs-Product-Key"] == SECONDARY
    ok(second, slot="secondary")  # the key that worked stays current: no retry
    assert [h for h in second.history if "/token" not in str(h.url)] == []
    assert creds.fetches == 2
    # Both keys refused: the caller gets the 401 after the token and each key were tried once.
    api.verifier.set_key("zs-customer", "secondary", None)
    r = call(kind, api.url, creds, product_keys=[PRIMARY, SECONDARY])
    assert r.status_code == 401 and r.json()["error"] == "unknown_key"


# ---- the resource server: product key and token, both checked -------------------------------------


def test_key_and_token_both_required(op: Provider, api: Resource) -> None:
    creds = credentials(op)
    token = creds.fetch_sync(post)
    opaque = credentials(op, resource=API + "opaque").fetch_sync(post)
    bearer = {"Authorization": f"Bearer {token}"}
    cases: list[tuple[dict[str, str], int, str]] = [
        (bearer, 401, "missing_credential"),  # token without a product key
        ({**bearer, "Zs-Product-Key": "zs-unknown"}, 401, "unknown_key"),
        ({"Zs-Product-Key": PRIMARY}, 401, "missing_credential"),  # key without a token
        ({"Authorization": f"Bearer {token[:-4]}AAAA", "Zs-Product-Key": PRIMARY}, 401, "signature_mismatch"),
        ({"Authorization": "Bearer not-issued", "Zs-Product-Key": PRIMARY}, 401, "token_inactive"),
        ({**bearer, "Zs-Product-Key": PRIMARY}, 200, ""),
        ({"Authorization": f"Bearer {opaque}", "Zs-Product-Key": SECONDARY}, 200, ""),
    ]
    for headers, status, error in cases:
        r = httpx.get(api.url, headers=headers)
        assert r.status_code == status, (headers, r.text)
        if error:
            assert r.json()["error"] == error
            assert r.json()["code"] == getattr(exceptions, _class(error)).code
    assert len(api.tokens) == 2  # only the accepted requests reached the application


def post(url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    r = httpx.post(url, headers=headers, content=body)
    return r.status_code, r.content


def _class(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def test_introspection_unreachable_is_503_unless_opted_out(op: Provider) -> None:
    from conftest import free_port

    v = Verifier()
    v.add("zs-customer", PRIMARY.encode())
    dead = f"http://127.0.0.1:{free_port()}/introspect"
    headers = [("authorization", b"Bearer opaque-token"), ("zs-product-key", PRIMARY.encode())]
    closed = Authenticator(
        v, [], introspection=Introspector("https://op", "c", "s", endpoint=dead), oidc_key=ZIGNSEC
    )
    with pytest.raises(exceptions.IntrospectionUnavailable) as err:
        closed.authenticate("GET", "/x", headers, b"")
    assert err.value.http_status == 503
    soft = Introspector("https://op", "c", "s", endpoint=dead, fail_open=True)
    who = Authenticator(v, [], introspection=soft, oidc_key=ZIGNSEC).authenticate("GET", "/x", headers, b"")
    assert isinstance(who, AccessToken) and who.client_id is None and who.key is not None
    with pytest.raises(ValueError, match="oidc_key"):
        Authenticator(v, [ZIGNSEC], oidc_key=ZIGNSEC)
