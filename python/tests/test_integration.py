"""Client integrations against real servers on loopback: uvicorn running a Starlette app behind
the ASGI middleware, and werkzeug running a Flask app behind the WSGI middleware."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import requests
from apps import (
    AEVO_KEY,
    AEVO_SECRET,
    APEX_KEY,
    APEX_SECRET,
    APEX_USER,
    CB_KEY,
    CB_SECRET,
    COINBASE,
    SIGNIUS_KEY,
    TSB_MGMT,
    TSB_OPS,
    TSB_OPS_2,
    TSB_REVOKED,
    ZS_NEW,
    ZS_OLD,
    ZS_PRIMARY,
    ZS_SECONDARY,
    asgi_app,
    gateway,
    jwt_for,
    tsb,
    wsgi_app,
)
from conftest import uvicorn_server, werkzeug_server

import apisig
from apisig.client import ApexHttpxAuth, ApexRequestsAuth, HttpxAuth, KeyChain, RequestsAuth

BODY = ('{"name": "Grüße, ✓", "pad": "' + "x" * 3000 + '"}').encode()


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def servers(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """A gateway (every dialect but Securosys) and a TSB (Securosys roles), both of one kind."""
    if request.param == "asgi":
        with uvicorn_server(asgi_app(gateway())) as gw, uvicorn_server(asgi_app(tsb())) as ts:
            yield {"gateway": gw, "tsb": ts, "kind": "asgi"}
    else:
        with werkzeug_server(wsgi_app(gateway())) as gw, werkzeug_server(wsgi_app(tsb())) as ts:
            yield {"gateway": gw, "tsb": ts, "kind": "wsgi"}


# (server, auth factory arguments, expected principal) for every dialect.
DIALECTS: dict[str, tuple[str, dict[str, Any], dict[str, Any]]] = {
    "signius": (
        "gateway",
        {"scheme": apisig.SIGNIUS, "api_key": SIGNIUS_KEY},
        {"client_id": "signius-portal"},
    ),
    "zignsec": ("gateway", {"scheme": apisig.ZIGNSEC, "api_key": ZS_PRIMARY}, {"client_id": "zs-acme"}),
    "zignsec-legacy": (
        "gateway",
        {"scheme": apisig.ZIGNSEC_LEGACY, "api_key": ZS_SECONDARY},
        {"client_id": "zs-acme", "slot": "secondary"},
    ),
    "aevo": (
        "gateway",
        {"scheme": apisig.AEVO, "api_key": AEVO_KEY, "secret": AEVO_SECRET},
        {"scheme": "aevo"},
    ),
    "aevo-secret": (
        "gateway",
        {"scheme": apisig.AEVO_SECRET, "api_key": AEVO_KEY, "secret": AEVO_SECRET},
        {"client_id": AEVO_KEY, "scheme": "aevo-secret"},
    ),
    "coinbase-style": (
        "gateway",
        {"scheme": COINBASE, "api_key": CB_KEY, "secret": CB_SECRET},
        {"client_id": CB_KEY},
    ),
    "securosys": ("tsb", {"scheme": apisig.SECUROSYS, "api_key": TSB_OPS}, {"role": "keyOperationToken"}),
}


def token_dialects() -> dict[str, tuple[str, Callable[[], dict[str, Any]], dict[str, Any]]]:
    return {
        "securosys-jwt": (
            "tsb",
            lambda: {"scheme": apisig.SECUROSYS_JWT, "token": jwt_for("tsb-ops")},
            {"client_id": "tsb-ops", "role": "keyOperationToken", "scheme": "securosys-jwt"},
        ),
        "zignsec-oauth": (
            "gateway",
            lambda: {"scheme": apisig.ZIGNSEC_OAUTH, "api_key": ZS_PRIMARY, "token": jwt_for("zs-acme")},
            {"client_id": "zs-acme", "scheme": "zignsec-oauth"},
        ),
    }


def all_dialects() -> dict[str, tuple[str, Callable[[], dict[str, Any]], dict[str, Any]]]:
    out: dict[str, tuple[str, Callable[[], dict[str, Any]], dict[str, Any]]] = {
        name: (srv, (lambda a=args: dict(a)), want) for name, (srv, args, want) in DIALECTS.items()
    }
    out.update(token_dialects())
    return out


def path_for(server: str) -> str:
    return "/v1/sign?mode=async&x=%2F" if server == "tsb" else "/api/v1/things?limit=10&q=a%20b"


def check(resp_json: dict[str, Any], want: dict[str, Any], body: bytes) -> None:
    for k, v in want.items():
        assert resp_json[k] == v, (k, resp_json)
    assert resp_json["length"] == len(body)
    assert resp_json["sha256"] == hashlib.sha256(body).hexdigest()


@pytest.mark.parametrize("dialect", sorted(all_dialects()))
def test_httpx_sync_every_dialect(servers: dict[str, str], dialect: str) -> None:
    server, args, want = all_dialects()[dialect]
    auth = HttpxAuth(**args())
    with httpx.Client(base_url=servers[server], auth=auth, timeout=10) as client:
        r = client.post(path_for(server), content=BODY)
        assert r.status_code == 200, r.text
        check(r.json(), want, BODY)
        r = client.get(path_for(server))
        assert r.status_code == 200, r.text
        check(r.json(), want, b"")


@pytest.mark.parametrize("dialect", sorted(all_dialects()))
def test_httpx_async_every_dialect(servers: dict[str, str], dialect: str) -> None:
    server, args, want = all_dialects()[dialect]

    async def run() -> None:
        async with httpx.AsyncClient(
            base_url=servers[server], auth=HttpxAuth(**args()), timeout=10
        ) as client:
            # Distinct targets: a seconds-resolution scheme signs identical requests identically.
            puts = (client.put(path_for(server) + f"&i={i}", content=BODY) for i in range(5))
            results = await asyncio.gather(*puts)
            for r in results:
                assert r.status_code == 200, r.text
                check(r.json(), want, BODY)

    asyncio.run(run())


@pytest.mark.parametrize("dialect", sorted(all_dialects()))
def test_requests_every_dialect(servers: dict[str, str], dialect: str) -> None:
    server, args, want = all_dialects()[dialect]
    # Not the httpx test's body: a scheme with timestamps in seconds signs the same request
    # alike within one second, and the server rightly refuses the second as a replay.
    body = BODY + b" "
    with requests.Session() as s:
        s.auth = RequestsAuth(**args())
        r = s.post(servers[server] + path_for(server), data=body, timeout=10)
        assert r.status_code == 200, r.text
        check(r.json(), want, body)
        text = "plain text body, not bytes ✓"
        r = s.patch(servers[server] + path_for(server), data=text.encode(), timeout=10)
        assert r.status_code == 200, r.text
        check(r.json(), want, text.encode())
        r = s.delete(servers[server] + path_for(server), timeout=10)
        assert r.status_code == 200, r.text
        check(r.json(), want, b"")


def test_apex_flow_httpx(servers: dict[str, str]) -> None:
    auth = ApexHttpxAuth(api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER)
    want = {"client_id": APEX_KEY, "user_id": APEX_USER, "scheme": "apex-session"}
    with httpx.Client(base_url=servers["gateway"], auth=auth, timeout=10) as client:
        first = client.post("/GetAccountPositions", content=b'{"AccountId":7}')
        assert first.status_code == 200, first.text
        check(first.json(), want, b'{"AccountId":7}')
        assert [h.request.url.path for h in first.history] == ["/AuthenticateUser"]
        second = client.get("/GetOpenOrders")
        assert second.status_code == 200 and second.history == []
        # A session the server no longer accepts: re-authenticate once, transparently.
        auth.session.token = auth.session.token[:-4] + "AAAA"  # type: ignore[index]
        third = client.get("/GetOpenOrders")
        assert third.status_code == 200, third.text
        assert [h.status_code for h in third.history] == [401, 200]

    async def run() -> None:
        async_auth = ApexHttpxAuth(api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER)
        async with httpx.AsyncClient(base_url=servers["gateway"], auth=async_auth, timeout=10) as client:
            r = await client.get("/GetOpenOrders")
            assert r.status_code == 200 and r.json()["scheme"] == "apex-session"

    asyncio.run(run())


def test_apex_flow_requests(servers: dict[str, str]) -> None:
    auth = ApexRequestsAuth(api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER)
    r = requests.post(
        servers["gateway"] + "/GetAccountPositions", json={"AccountId": 7}, auth=auth, timeout=10
    )
    assert r.status_code == 200, r.text
    assert r.json()["scheme"] == "apex-session" and r.json()["user_id"] == APEX_USER
    auth.session.token = "not-a-session-token"
    r = requests.get(servers["gateway"] + "/GetOpenOrders", auth=auth, timeout=10)
    assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
    bad = ApexRequestsAuth(api_key=APEX_KEY, secret=b"wrong-secret", user_id=APEX_USER)
    r = requests.get(servers["gateway"] + "/GetOpenOrders", auth=bad, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "missing_credential"


def test_apex_authenticate_user_body_variant(servers: dict[str, str]) -> None:
    """AuthenticateUser with the signed fields only in the JSON body (the document's OpenAPI)."""
    signer = apisig.Signer(apisig.APEX, api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER)
    body = signer.sign_json("POST", "/AuthenticateUser")
    r = httpx.post(servers["gateway"] + "/AuthenticateUser", content=body, timeout=10)
    assert r.status_code == 200 and r.json()["Authenticated"] is True
    again = httpx.post(servers["gateway"] + "/AuthenticateUser", content=body, timeout=10)
    assert again.status_code == 401 and again.json()["error"] == "replayed_request"
    token = r.json()["SessionToken"]
    who = httpx.get(servers["gateway"] + "/x", headers={"aptoken": token}, timeout=10)
    assert who.json()["user_id"] == APEX_USER


def test_zignsec_other_key_retry(servers: dict[str, str]) -> None:
    # 401: the first key was retired; the auth retries with the other and keeps it.
    auth = HttpxAuth(apisig.ZIGNSEC, keys=[ZS_OLD, ZS_NEW])
    with httpx.Client(base_url=servers["gateway"], auth=auth, timeout=10) as client:
        r = client.post("/core/api/sessions", content=BODY)
        assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
        assert r.json()["slot"] == "secondary"
        assert client.get("/core/api/sessions").history == []
        assert auth.chain.rotation.current == 1
    # 403: the product refuses the primary key; the auth retries with the secondary.
    with requests.Session() as s:
        s.auth = RequestsAuth(apisig.ZIGNSEC, keys=[ZS_PRIMARY, ZS_SECONDARY])
        r = s.post(servers["gateway"] + "/zs/strict", data=BODY, timeout=10)
        assert r.status_code == 200 and [h.status_code for h in r.history] == [403]
        assert r.json()["slot"] == "secondary" and r.json()["sha256"] == hashlib.sha256(BODY).hexdigest()
    # Both keys refused: the last answer is handed back.
    auth = HttpxAuth(apisig.ZIGNSEC, keys=["zs-unknown-1", "zs-unknown-2"])
    r = httpx.get(servers["gateway"] + "/x", auth=auth, timeout=10)
    assert r.status_code == 401 and len(r.history) == 1


def test_securosys_roll_over_on_401_not_403(servers: dict[str, str]) -> None:
    keys = [TSB_REVOKED, TSB_OPS_2]
    with requests.Session() as s:
        s.auth = RequestsAuth(apisig.SECUROSYS, keys=keys)
        r = s.post(servers["tsb"] + "/v1/sign", data=b"{}", timeout=10)
        assert r.status_code == 200 and [h.status_code for h in r.history] == [401]
        assert r.json()["client_id"] == "tsb-ops-2"
        # A key outside its role gets 403, and 403 is no reason to roll over.
        r = s.post(servers["tsb"] + "/v1/key", data=b"{}", timeout=10)
        assert r.status_code == 403 and r.history == [] and r.json()["error"] == "forbidden"
    chain = KeyChain(apisig.SECUROSYS, keys=[TSB_MGMT])
    r = httpx.post(servers["tsb"] + "/v1/key", content=b"{}", auth=HttpxAuth(chain=chain), timeout=10)
    assert r.status_code == 200 and r.json()["role"] == "keyManagementToken"


def test_server_refusals(servers: dict[str, str]) -> None:
    gw, ts = servers["gateway"], servers["tsb"]
    r = httpx.get(gw + "/x", timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "missing_credential"
    signer = apisig.Signer(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET)
    headers = signer.sign("POST", "/orders", BODY)
    tampered = httpx.post(gw + "/orders", content=BODY + b" ", headers=headers, timeout=10)
    assert tampered.status_code == 401 and tampered.json()["error"] == "signature_mismatch"
    ok = httpx.post(gw + "/orders", content=BODY, headers=headers, timeout=10)
    assert ok.status_code == 200
    replay = httpx.post(gw + "/orders", content=BODY, headers=headers, timeout=10)
    assert replay.status_code == 401 and replay.json()["error"] == "replayed_request"
    stale = apisig.Signer(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET, clock=lambda: 1)
    r = httpx.get(gw + "/x", headers=stale.sign("GET", "/x"), timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "timestamp_outside_window"
    r = httpx.get(gw + "/x", headers={"X-Api-Key": "nope"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unknown_key"
    expired = jwt_for("tsb-ops", lifetime=-3600)
    r = httpx.post(ts + "/v1/sign", headers={"Authorization": f"Bearer {expired}"}, timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "token_expired"
    r = httpx.post(ts + "/v1/key", headers={"X-API-KEY": TSB_OPS}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "forbidden"
    r = httpx.post(ts + "/v1/sign/..%2Fkey", headers={"X-API-KEY": TSB_OPS}, timeout=10)
    assert r.status_code == 403 and r.json()["error"] == "non_canonical_path"
