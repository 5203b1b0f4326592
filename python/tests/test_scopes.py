"""Per-key permissions (scopes) in the Python face: the server names them once
(``Verifier(scopes=[...])``, the core's ``ScopeNames`` table), clients get them in memory
(``Verifier.set_scopes``), in a persistent ``Store`` read through the cache, or in a ``lookup=``
record; principals carry them as a frozenset of names; ``Verifier.require_scopes`` (the core's
``ScopeNames::authorize``) and the middlewares' ``require_scopes=`` refuse a request lacking one
with 403 ``forbidden``. Signatures are made with Python's ``hmac``; the static key is issued by
the store; the ASGI check runs over real HTTP (uvicorn on loopback)."""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import uvicorn_server

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

TABLE = ["read", "trade", "withdraw"]
SECRET = b"s" * 32


def aevo_headers(key: str, secret: bytes, path: str = "/x") -> dict[str, str]:
    """Aevo's headers made with Python's hmac: HMAC-SHA256 over key,timestamp,method,path,body."""
    ts = str(time.time_ns())
    signature = hmac.new(
        secret, b",".join([key.encode(), ts.encode(), b"GET", path.encode(), b""]), hashlib.sha256
    )
    return {"AEVO-KEY": key, "AEVO-TIMESTAMP": ts, "AEVO-SIGNATURE": signature.hexdigest()}


def test_the_scope_table_is_checked() -> None:
    assert apisig.Verifier(scopes=TABLE).scopes == TABLE
    assert apisig.Verifier().scopes == []
    with pytest.raises(ValueError, match="twice"):
        apisig.Verifier(scopes=["read", "trade", "read"])
    with pytest.raises(ValueError, match="at most 64"):
        apisig.Verifier(scopes=[f"s{i}" for i in range(65)])
    assert len(apisig.Verifier(scopes=[f"s{i}" for i in range(64)]).scopes) == 64
    with pytest.raises(ValueError, match="not empty"):
        apisig.Verifier(scopes=["read", ""])


def test_in_memory_scopes_reach_the_principal_and_are_checked_by_the_core() -> None:
    v = apisig.Verifier(scopes=TABLE)
    v.add("trader", SECRET)
    p = v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", SECRET))
    assert p.scopes == frozenset()
    with pytest.raises(apisig.Forbidden):
        v.require_scopes(p, ["read"])
    v.require_scopes(p, [])  # nothing needed: allowed
    v.set_scopes("trader", ["read", "withdraw"])
    p = v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", SECRET))
    assert p.scopes == frozenset({"read", "withdraw"}) and isinstance(p.scopes, frozenset)
    v.require_scopes(p, ["read"])
    v.require_scopes(p, ["withdraw", "read"])
    with pytest.raises(apisig.Forbidden):
        v.require_scopes(p, ["read", "trade"])
    # Unknown names are the server's mistake: a clear error, never a silent allow or deny.
    with pytest.raises(ValueError, match='unknown scope "deposit"'):
        v.require_scopes(p, ["deposit"])
    with pytest.raises(ValueError, match="deposit"):
        v.set_scopes("trader", ["read", "deposit"])
    assert v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", SECRET)).scopes == {"read", "withdraw"}
    with pytest.raises(ValueError, match=r"Verifier\(scopes="):
        apisig.Verifier().set_scopes("x", ["read"])
    with pytest.raises(apisig.UnknownKey):
        v.set_scopes("nobody", ["read"])
    # A principal with other scopes is another principal.
    v.set_scopes("trader", ["trade"])
    q = v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", SECRET))
    assert q.scopes == {"trade"} and q != p and repr(q).endswith('scheme="aevo", scopes={"trade"})')
    # Another verifier's table: a name it lacks is not held there.
    other = apisig.Verifier(scopes=["read"])
    with pytest.raises(apisig.Forbidden):
        other.require_scopes(q, ["read"])


def test_lookup_records_carry_scopes() -> None:
    records = {"trader": {"id": "trader", "key": SECRET, "scopes": ["trade", "not-in-the-table"]}}
    v = apisig.Verifier(scopes=TABLE, lookup=lambda by, value: records.get(value) if by == "id" else None)
    p = v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", SECRET))
    assert p.scopes == {"trade"}  # a name the server does not know is dropped: fewer permissions
    v.require_scopes(p, ["trade"])
    with pytest.raises(apisig.Forbidden):
        v.require_scopes(p, ["read"])
    assert v.may_block


def _app() -> Any:
    async def handler(scope: Any, receive: Any, send: Any) -> None:
        body = ",".join(sorted(scope[PRINCIPAL_KEY].scopes)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return handler


def test_store_issued_key_with_read_scope_over_http(tmp_path: Path) -> None:
    store = apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=secrets.token_hex(32))
    store.create_client("reader")
    key = store.issue("reader", "primary", "static")
    store.set_scopes("reader", ["read"])
    v = apisig.Verifier(store=store, scopes=TABLE, cache_ttl=60)
    rules = {"/trade": ["trade"], "/": ["read"]}
    app = ApisigASGIMiddleware(_app(), verifier=v, schemes=[apisig.SIGNIUS], require_scopes=rules)
    with uvicorn_server(app) as base:
        ok = httpx.get(f"{base}/read/prices", headers={"X-Api-Key": key})
        assert (ok.status_code, ok.text) == (200, "read")
        refused = httpx.get(f"{base}/trade/order", headers={"X-Api-Key": key})
        assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
        assert httpx.get(f"{base}/trade", headers={"X-Api-Key": key}).status_code == 403
        # A segment boundary: /trader is under "/" (read), not under "/trade".
        assert httpx.get(f"{base}/trader", headers={"X-Api-Key": key}).status_code == 200
        assert httpx.get(f"{base}/read/prices").status_code == 401  # no key: still 401 first


def test_middleware_scope_rules_are_checked_at_start() -> None:
    v = apisig.Verifier(scopes=TABLE)
    with pytest.raises(ValueError, match="deposit"):
        Authenticator(v, [apisig.AEVO], require_scopes={"/x": ["deposit"]})
    with pytest.raises(ValueError, match="starts with"):
        Authenticator(v, [apisig.AEVO], require_scopes={"x": ["read"]})
    with pytest.raises(TypeError, match="list of scope names"):
        Authenticator(v, [apisig.AEVO], require_scopes={"/x": "read"})


def test_wsgi_middleware_requires_scopes() -> None:
    v = apisig.Verifier(scopes=TABLE)
    v.add("trader", SECRET)
    v.set_scopes("trader", ["read"])

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [environ[PRINCIPAL_KEY].client_id.encode()]

    mw = ApisigWSGIMiddleware(app, verifier=v, schemes=[apisig.AEVO], require_scopes={"/trade": ["trade"]})

    def get(path: str) -> tuple[str, bytes]:
        status: list[str] = []
        environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "wsgi.input": io.BytesIO(b""), "CONTENT_LENGTH": "0"}  # fmt: skip
        environ.update(
            {
                "HTTP_" + k.upper().replace("-", "_"): v
                for k, v in aevo_headers("trader", SECRET, path).items()
            }
        )
        body = b"".join(mw(environ, lambda s, h, *a: status.append(s)))
        return status[0], body

    assert get("/read") == ("200 OK", b"trader")
    status, body = get("/trade/1")
    assert status.startswith("403") and b"forbidden" in body
