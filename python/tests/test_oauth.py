"""OAuth2 client credentials (ZignSec) against a real Authlib authorization server on loopback
and a resource server protected by apisig's ASGI (uvicorn) or WSGI (werkzeug) middleware."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import jwt as pyjwt
import pytest
import requests
from conftest import free_port, uvicorn_server, werkzeug_server
from oauth_server import (
    AUDIENCE,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    LIFETIME,
    PRODUCT_KEY,
    SHARED_SECRET,
    AuthServerState,
    Hits,
    authorization_server,
    resource_asgi,
    resource_wsgi,
)

import apisig
from apisig.oauth import ClientCredentials, OAuth2Error, OAuth2HttpxAuth, OAuth2RequestsAuth

N = 16
S = 1_000_000_000
WHO = {"client_id": "zs-customer", "scheme": "zignsec-oauth"}


@pytest.fixture(scope="module")
def auth_server() -> Iterator[tuple[str, AuthServerState]]:
    state = AuthServerState()
    with werkzeug_server(authorization_server(state)) as url:
        yield f"{url}/oauth/token", state


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def resource(request: pytest.FixtureRequest) -> Iterator[tuple[str, Hits]]:
    hits = Hits()
    if request.param == "asgi":
        with uvicorn_server(resource_asgi(hits)) as url:
            yield f"{url}/v3/ekyc/sessions", hits
    else:
        with werkzeug_server(resource_wsgi(hits)) as url:
            yield f"{url}/v3/ekyc/sessions", hits


class Env:
    """One test's view: fresh counters, a fresh server state, a client clock it controls."""

    def __init__(self, token_url: str, state: AuthServerState, api: str, hits: Hits) -> None:
        self.token_url, self.state, self.api, self.hits = token_url, state, api, hits
        self.now = time.time_ns()

    def credentials(self, **kwargs: Any) -> ClientCredentials:
        options: dict[str, Any] = {"clock": lambda: self.now, **kwargs}
        return ClientCredentials(self.token_url, CLIENT_ID, CLIENT_SECRET, **options)

    @property
    def issued(self) -> int:
        return self.state.issued


@pytest.fixture
def env(auth_server: tuple[str, AuthServerState], resource: tuple[str, Hits]) -> Env:
    token_url, state = auth_server
    api, hits = resource
    state.issued, state.delay, state.expired_tokens, state.lifetime = 0, 0.0, 0, LIFETIME
    hits.count = 0
    return Env(token_url, state, api, hits)


def check(response: httpx.Response | requests.Response) -> None:
    assert response.status_code == 200, response.text
    assert response.json() == WHO


# ---- one token for many requests ------------------------------------------------------------------


def test_threads_share_one_token_requests(env: Env) -> None:
    env.state.delay = 0.1  # every thread arrives while the first fetch is in flight
    creds = env.credentials()
    auth = OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY)
    with ThreadPoolExecutor(N) as pool:
        responses = list(pool.map(lambda _: requests.get(env.api, auth=auth, timeout=10), range(N)))
    for r in responses:
        check(r)
        assert r.request.headers["Zs-Product-Key"] == PRODUCT_KEY
        assert r.request.headers["Authorization"].startswith("Bearer ey")
    assert (env.issued, creds.fetches, env.hits.count) == (1, 1, N)


def test_threads_share_one_token_httpx(env: Env) -> None:
    env.state.delay = 0.1
    creds = env.credentials()
    auth = OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)
    with httpx.Client(auth=auth, timeout=10) as client, ThreadPoolExecutor(N) as pool:
        responses = list(pool.map(lambda _: client.get(env.api), range(N)))
    for r in responses:
        check(r)
    assert (env.issued, creds.fetches, env.hits.count) == (1, 1, N)


def test_tasks_share_one_token_asyncio(env: Env) -> None:
    env.state.delay = 0.1
    creds = env.credentials()

    async def main() -> list[httpx.Response]:
        auth = OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)
        async with httpx.AsyncClient(auth=auth, timeout=10) as client:
            return await asyncio.gather(*(client.get(env.api) for _ in range(N)))

    for r in asyncio.run(main()):
        check(r)
    assert (env.issued, creds.fetches, env.hits.count) == (1, 1, N)
    # The same credentials on another event loop: a new loop lock, the cached token.
    for r in asyncio.run(main()):
        check(r)
    assert env.issued == 1


# ---- refresh before expiry, decided by the core's TokenLifetime ------------------------------------


@pytest.mark.parametrize("kind", ["requests", "httpx", "httpx-async"])
def test_refreshed_near_expiry(env: Env, kind: str) -> None:
    creds = env.credentials(skew=60)

    def get() -> None:
        if kind == "requests":
            check(requests.get(env.api, auth=OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY), timeout=10))
        elif kind == "httpx":
            check(httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)))
        else:

            async def once() -> httpx.Response:
                async with httpx.AsyncClient(auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)) as c:
                    return await c.get(env.api)

            check(asyncio.run(once()))

    start = env.now
    get()
    lifetime = creds.lifetime
    assert lifetime is not None
    assert (lifetime.issued_at, lifetime.lifetime_s, lifetime.refresh_at) == (
        start,
        LIFETIME,
        start + 1140 * S,
    )
    env.now = start + 1139 * S  # 61 s before expiry: still good
    get()
    assert env.issued == 1
    env.now = start + 1140 * S  # 60 s before expiry: refresh
    get()
    assert env.issued == 2
    assert creds.lifetime is not None and creds.lifetime.issued_at == env.now
    get()
    assert env.issued == 2


def test_short_lifetime_is_used_for_half_of_it(env: Env) -> None:
    env.state.lifetime = 30  # shorter than twice the skew: refresh after half
    creds = env.credentials(skew=60)
    auth = OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY)
    start = env.now
    check(requests.get(env.api, auth=auth, timeout=10))
    env.now = start + 14 * S
    check(requests.get(env.api, auth=auth, timeout=10))
    assert env.issued == 1
    env.now = start + 15 * S
    check(requests.get(env.api, auth=auth, timeout=10))
    assert env.issued == 2


# ---- refresh once on 401 ---------------------------------------------------------------------------


def test_refreshed_once_on_401_httpx(env: Env) -> None:
    env.state.expired_tokens = 1  # the first token is already expired at the resource server
    creds = env.credentials()
    with httpx.Client(auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)) as client:
        r = client.get(env.api)
        check(r)
        # The history holds the token endpoint's answers too (httpx auth flows send them).
        assert [(h.url.path, h.status_code) for h in r.history] == [
            ("/oauth/token", 200),
            ("/v3/ekyc/sessions", 401),
            ("/oauth/token", 200),
        ]
        assert r.history[1].json()["error"] == "token_expired"
        assert (env.issued, env.hits.count) == (2, 2)
        # Still refused after a refresh: the 401 is the caller's, after exactly one retry.
        env.state.expired_tokens = 2
        creds.invalidate()
        r = client.get(env.api)
        assert r.status_code == 401
        assert (env.issued, env.hits.count) == (4, 4)


def test_refreshed_once_on_401_httpx_async(env: Env) -> None:
    env.state.expired_tokens = 1
    creds = env.credentials()

    async def main() -> httpx.Response:
        async with httpx.AsyncClient(auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)) as client:
            return await client.get(env.api)

    r = asyncio.run(main())
    check(r)
    assert [h.status_code for h in r.history if h.url.path != "/oauth/token"] == [401]
    assert (env.issued, env.hits.count) == (2, 2)
    env.state.expired_tokens = 2
    creds.invalidate()
    assert asyncio.run(main()).status_code == 401
    assert (env.issued, env.hits.count) == (4, 4)


def test_refreshed_once_on_401_requests(env: Env) -> None:
    env.state.expired_tokens = 1
    creds = env.credentials()
    auth = OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY)
    with requests.Session() as s:
        r = s.post(env.api, json={"a": 1}, auth=auth, timeout=10)
        check(r)
        assert [h.status_code for h in r.history] == [401]
        assert (env.issued, env.hits.count) == (2, 2)
        env.state.expired_tokens = 2
        creds.invalidate()
        assert s.get(env.api, auth=auth, timeout=10).status_code == 401
        assert (env.issued, env.hits.count) == (4, 4)


def test_many_401s_for_one_token_refresh_once(env: Env) -> None:
    """Every thread holds the same server-side-expired token: all get 401, one new token."""
    env.state.expired_tokens = 1
    env.state.delay = 0.1
    creds = env.credentials()
    auth = OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY)
    with ThreadPoolExecutor(N) as pool:
        responses = list(pool.map(lambda _: requests.get(env.api, auth=auth, timeout=10), range(N)))
    for r in responses:
        check(r)
    assert env.issued == 2
    assert env.hits.count == N + sum(len(r.history) for r in responses)


# ---- failures surface ------------------------------------------------------------------------------


def test_bad_client_secret_raises(env: Env) -> None:
    creds = ClientCredentials(env.token_url, CLIENT_ID, "wrong")
    with pytest.raises(OAuth2Error) as info:
        httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY))
    assert (info.value.status, info.value.error) == (401, "invalid_client")
    assert "invalid_client" in str(info.value) and env.token_url in str(info.value)
    with pytest.raises(OAuth2Error, match="invalid_client"):
        requests.get(env.api, auth=OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY), timeout=10)

    async def main() -> None:
        async with httpx.AsyncClient(auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)) as client:
            await client.get(env.api)

    with pytest.raises(OAuth2Error, match="invalid_client"):
        asyncio.run(main())
    assert env.hits.count == 0 and creds.fetches == 0
    unknown = ClientCredentials(env.token_url, "nobody", "x", auth_method="client_secret_post")
    with pytest.raises(OAuth2Error, match="invalid_client"):
        httpx.get(env.api, auth=OAuth2HttpxAuth(unknown))


def test_unreachable_token_endpoint_raises_and_recovers(env: Env) -> None:
    creds = ClientCredentials(f"http://127.0.0.1:{free_port()}/oauth/token", CLIENT_ID, CLIENT_SECRET)
    with pytest.raises(httpx.ConnectError):
        httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY))
    with pytest.raises(requests.ConnectionError):
        requests.get(env.api, auth=OAuth2RequestsAuth(creds, product_key=PRODUCT_KEY), timeout=10)
    # The single-flight lock was released: the next fetch works.
    creds.token_url = env.token_url
    check(httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)))


def test_wrong_product_key_is_refused_after_one_refresh(env: Env) -> None:
    creds = env.credentials()
    r = httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key="not-a-product-key"))
    assert r.status_code == 401 and r.json()["error"] == "unknown_key"
    assert env.issued == 2  # the token was suspected once, then the 401 was handed over


def test_client_secret_post_and_bare_bearer(env: Env) -> None:
    creds = env.credentials(auth_method="client_secret_post", scope="ekyc")
    headers, body = creds.token_request()
    assert "Authorization" not in headers and b"client_secret=" in body and b"scope=ekyc" in body
    check(httpx.get(env.api, auth=OAuth2HttpxAuth(creds, product_key=PRODUCT_KEY)))
    # Without a product key only the bearer token is sent: ZignSec refuses that.
    r = httpx.get(env.api, auth=OAuth2HttpxAuth(creds))
    assert r.request.headers["Authorization"].startswith("Bearer ")
    assert "Zs-Product-Key" not in r.request.headers
    assert r.status_code == 401
    # The token is a JWT an independent library reads: RFC 9068 from Authlib, verified by PyJWT.
    token = r.request.headers["Authorization"].removeprefix("Bearer ")
    claims = pyjwt.decode(token, SHARED_SECRET, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["client_id"] == CLIENT_ID and claims["exp"] - claims["iat"] == LIFETIME
    assert (
        apisig.jwt_verify(SHARED_SECRET, token, issuer=ISSUER, audience=AUDIENCE, subject=CLIENT_ID).exp
        == claims["exp"]
    )


def test_token_answer_parsing() -> None:
    creds = ClientCredentials("https://auth.example/token", "id", "secret", default_lifetime=300)
    assert creds.accept(200, b'{"access_token":"t1","token_type":"bearer"}', 0) == "t1"
    assert creds.lifetime == apisig.TokenLifetime(0, 300, 60)
    assert creds.accept(200, b'{"access_token":"t2","token_type":"Bearer","expires_in":"60"}', 5) == "t2"
    assert creds.lifetime == apisig.TokenLifetime(5, 60, 60)
    for status, body, error in [
        (400, b'{"error":"invalid_scope","error_description":"no such scope"}', "invalid_scope"),
        (200, b'{"token_type":"Bearer"}', None),
        (200, b"<html>", None),
        (502, b"", None),
        (200, b'{"access_token":"t","token_type":"mac"}', "unsupported_token_type"),
        (200, b'{"access_token":"t","expires_in":-1}', "invalid_expires_in"),
    ]:
        with pytest.raises(OAuth2Error) as info:
            creds.accept(status, body, 0)
        assert (info.value.status, info.value.error) == (status, error)
    assert "secret" not in repr(creds) or "redacted" in repr(creds)
    with pytest.raises(ValueError):
        ClientCredentials("u", "i", "s", auth_method="private_key_jwt")
