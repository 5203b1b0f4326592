"""Allowed addresses behind the ASGI and WSGI middlewares over real HTTP (uvicorn, werkzeug)
on 127.0.0.1: the connection's peer is checked against a client's allow-list, or behind
``trusted_proxies=`` the right-most ``X-Forwarded-For`` address that is no trusted proxy; a
spoofed header from an untrusted peer is ignored, a malformed one from a trusted proxy refused
(``invalid_forwarded_for``); IPv6 entries. The ASGI middleware's native gate (small bodies)
and its Python path (bodies of ``DETACH_THRESHOLD`` or more) are both exercised."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from conftest import uvicorn_server, werkzeug_server

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

LOCAL = "sg-local-7f3a9c2e51d84b06"
OFFICE = "sg-office-0d5e8b7a4c3f2169"
ANYWHERE = "sg-anywhere-93ad275b1f0c"


def verifier() -> apisig.Verifier:
    v = apisig.Verifier()
    v.add("local", LOCAL.encode())
    v.set_allowed("local", ["127.0.0.0/8"])
    v.add("office", OFFICE.encode())
    v.set_allowed("office", ["203.0.113.0/24", "2001:db8::/32"])
    v.add("anywhere", ANYWHERE.encode())
    return v


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = json.dumps({"client": scope[PRINCIPAL_KEY].client_id}).encode()
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]}
    )
    await send({"type": "http.response.body", "body": body})


def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", [("Content-Type", "application/json")])
    return [json.dumps({"client": environ[PRINCIPAL_KEY].client_id}).encode()]


def asgi(**options: Any) -> AbstractContextManager[str]:
    app = ApisigASGIMiddleware(asgi_app, verifier=verifier(), schemes=[apisig.SIGNIUS], **options)
    # uvicorn's own proxy handling off: it would rewrite scope["client"] from X-Forwarded-For
    # sent from 127.0.0.1 (its default --forwarded-allow-ips), before the middleware sees it.
    return uvicorn_server(app, proxy_headers=False)


def wsgi(**options: Any) -> AbstractContextManager[str]:
    return werkzeug_server(
        ApisigWSGIMiddleware(wsgi_app, verifier=verifier(), schemes=[apisig.SIGNIUS], **options)
    )


SERVERS = {"asgi": asgi, "wsgi": wsgi}
# A small body goes through the ASGI middleware's native gate, a large one its Python path.
BODIES = {"small": b"{}", "large": b"x" * apisig.DETACH_THRESHOLD}


@pytest.fixture(params=[(s, b) for s in SERVERS for b in BODIES], ids=lambda p: f"{p[0]}-{p[1]}")
def face(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[Callable[..., AbstractContextManager[str]], bytes]]:
    server, body = request.param
    yield SERVERS[server], BODIES[body]


def ask(url: str, body: bytes, key: str, *forwarded: str) -> tuple[int, str]:
    headers = [("X-Api-Key", key)] + [("X-Forwarded-For", f) for f in forwarded]
    res = httpx.post(f"{url}/account", headers=headers, content=body)
    answer = res.json()
    return res.status_code, answer.get("client") or answer.get("error")


def test_the_connection_peer_is_checked_and_a_spoofed_header_ignored(
    face: tuple[Callable[..., AbstractContextManager[str]], bytes],
) -> None:
    serve, body = face
    with serve() as url:
        assert ask(url, body, LOCAL) == (200, "local")
        assert ask(url, body, ANYWHERE) == (200, "anywhere")
        assert ask(url, body, OFFICE) == (403, "address_not_allowed")
        # No proxy trusted: the client's own X-Forwarded-For changes nothing, even malformed.
        assert ask(url, body, OFFICE, "203.0.113.7") == (403, "address_not_allowed")
        assert ask(url, body, LOCAL, "not an address") == (200, "local")


def test_behind_a_trusted_proxy_the_address_it_reports_is_checked(
    face: tuple[Callable[..., AbstractContextManager[str]], bytes],
) -> None:
    serve, body = face
    with serve(trusted_proxies=["127.0.0.1"]) as url:
        assert ask(url, body, OFFICE, "203.0.113.7") == (200, "office")
        assert ask(url, body, OFFICE, "2001:db8::7") == (200, "office")
        assert ask(url, body, OFFICE, "198.51.100.9, 203.0.113.7") == (200, "office")
        assert ask(url, body, OFFICE, "203.0.113.7, 198.51.100.9") == (403, "address_not_allowed")
        assert ask(url, body, LOCAL) == (200, "local"), "the proxy's own request: its address"
        assert ask(url, body, LOCAL, "203.0.113.7") == (403, "address_not_allowed")
        for bad in ["203.0.113.7:443", "[2001:db8::7]", "unknown", "203.0.113.7,"]:
            assert ask(url, body, OFFICE, bad) == (401, "invalid_forwarded_for"), bad


def test_repeated_header_lines_are_one_list() -> None:
    # httpx sends each line; uvicorn hands them on as separate pairs (werkzeug joins them).
    with asgi(trusted_proxies=["127.0.0.0/8"]) as url:
        assert ask(url, b"{}", OFFICE, "203.0.113.7", "127.0.0.2") == (200, "office")
        assert ask(url, b"{}", OFFICE, "203.0.113.7", "198.51.100.9") == (403, "address_not_allowed")


def test_the_peer_of_an_authenticator_without_a_server() -> None:
    auth = Authenticator(verifier(), [apisig.SIGNIUS], trusted_proxies=["10.0.0.0/8", "fd00::/8"])
    xff = [("x-forwarded-for", b"6.6.6.6, 2001:db8::7, fd00::2")]
    assert auth.peer("10.0.0.1", xff) == "2001:db8::7"
    assert auth.peer("198.51.100.1", xff) == "198.51.100.1"
    assert auth.peer("testclient", xff) is None, "no IP address: unknown"
    assert auth.peer(None, xff) is None
    with pytest.raises(apisig.InvalidForwardedFor):
        auth.peer("fd00::1", [("X-Forwarded-For", b"203.0.113.7:443")])
    with pytest.raises(apisig.InvalidPattern):
        Authenticator(verifier(), [apisig.SIGNIUS], trusted_proxies=["10.0.0.1/8"])
