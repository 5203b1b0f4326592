"""Cross-implementation: ccxt's ``ndax`` exchange (an AlphaPoint APEX client written
independently of apisig) signs requests that apisig's verifier accepts, both directly and
through the ASGI middleware on loopback."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from apps import APEX_KEY, APEX_SECRET, APEX_USER, asgi_app, gateway
from conftest import uvicorn_server

import apisig

ccxt = pytest.importorskip("ccxt")


def ndax(base: str = "https://api.ndax.io:8443/AP") -> object:
    exchange = ccxt.ndax(
        {
            "apiKey": APEX_KEY,
            "secret": APEX_SECRET.decode(),
            "uid": APEX_USER,
            "login": "unused",
            "password": "unused",
            "timeout": 10000,
        }
    )
    exchange.urls["api"] = {"public": base, "private": base}
    return exchange


def test_ndax_signed_fields_verify() -> None:
    verifier = apisig.Verifier()
    verifier.add(APEX_KEY, APEX_SECRET, user_id=APEX_USER)
    exchange = ndax()
    for endpoint in ("GetAccountPositions", "GetOpenOrders", "GetAccountInfo"):
        # ccxt's nonce is the time in milliseconds; apisig requires it to grow per key.
        time.sleep(0.002)
        signed = exchange.sign(endpoint, ["private"], "GET", {"AccountId": 7, "OMSId": 1})
        headers = signed["headers"]
        assert set(headers) == {"Nonce", "APIKey", "Signature", "UserId"}
        url = urlsplit(signed["url"])
        p = verifier.verify(apisig.APEX, "GET", url.path + "?" + url.query, headers)
        assert (p.client_id, p.user_id, p.scheme) == (APEX_KEY, APEX_USER, "apex")
    # The same signed fields again (or a second request in the same millisecond): a replay.
    with pytest.raises(apisig.ReplayedRequest):
        verifier.verify(apisig.APEX, "GET", "/", headers)
    time.sleep(0.002)
    signed = exchange.sign("GetOpenOrders", ["private"], "GET", {})
    # apisig's own signer produces what ndax produces for the same nonce.
    ours = apisig.Signer(apisig.APEX, api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER)
    nonce = int(signed["headers"]["Nonce"])
    assert ours.sign("GET", "/", nonce=nonce) == {
        k: signed["headers"][k] for k in ("APIKey", "Signature", "UserId", "Nonce")
    }
    # A tampered field is refused.
    forged = dict(signed["headers"], UserId="13")
    with pytest.raises(apisig.UserIdMismatch):
        verifier.verify(apisig.APEX, "GET", "/", forged)


def test_ndax_private_call_through_the_middleware() -> None:
    with uvicorn_server(asgi_app(gateway())) as base:
        exchange = ndax(base + "/AP")
        answer = exchange.privateGetGetAccountPositions({"AccountId": 7, "OMSId": 1})
        assert answer["client_id"] == APEX_KEY and answer["scheme"] == "apex"
        assert answer["user_id"] == APEX_USER and answer["path"] == "/AP/GetAccountPositions"
        exchange.secret = "not-the-secret"
        with pytest.raises(ccxt.BaseError):
            exchange.privateGetGetOpenOrders({"AccountId": 7, "OMSId": 1})
