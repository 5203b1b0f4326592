"""The ASGI middleware's native gate (`_AsgiGate`, python/src/asgi.rs: scope, headers, scheme
choice and verification in one call) against its oracle, the Python path it stands in for
(the same `Authenticator` without the gate): the same requests, sent to two middlewares over
identical verifiers, get the same answers — status, error, principal — for every dialect,
tampered, unsigned, replayed, stale, refused by the role policy, with header names in any
case, queries and non-ASCII targets. Scopes the gate does not read (no `raw_path`, headers not
a list) go the Python path and are still answered right. Small bodies only: from
`DETACH_THRESHOLD` on, requests go the Python path (verified off the event loop), which the
loopback tests (test_integration.py) drive."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from apps import (
    AEVO_KEY,
    AEVO_SECRET,
    APEX_KEY,
    APEX_SECRET,
    CB_KEY,
    CB_SECRET,
    COINBASE,
    SIGNIUS_KEY,
    TSB_MGMT,
    TSB_OPS,
    ZS_PRIMARY,
    ZS_SECONDARY,
    gateway,
    jwt_for,
    tsb,
)

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, Authenticator

BODY = b'{"order": "buy", "amount": "1.5"}'
TARGET = "/api/v1/things?limit=10&q=a%20b"


class CountingGate:
    """The authenticator's gate, counting the requests it answered itself."""

    def __init__(self, gate: Any) -> None:
        self.gate = gate
        self.answered = 0

    def enter(self, scope: dict[str, Any], body: bytes) -> Any:
        try:
            entered = self.gate.enter(scope, body)
        except apisig.ApisigError:
            self.answered += 1
            raise
        self.answered += entered is not None
        return entered


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    principal = scope[PRINCIPAL_KEY]
    assert scope["state"]["apisig_principal"] is principal
    fields = ("client_id", "slot", "role", "user_id", "scheme")
    answer = {f: getattr(principal, f) for f in fields} | {
        "body": message["body"].decode(),
        "state": scope["state"].get("kept"),
    }
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


def scope_for(method: str, target: str, headers: dict[str, str] | list[tuple[str, str]]) -> dict[str, Any]:
    path, _, query = target.partition("?")
    pairs = headers.items() if isinstance(headers, dict) else headers
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "scheme": "http",
        "method": method, "path": path, "raw_path": path.encode("latin-1"), "query_string": query.encode("latin-1"),
        "root_path": "", "headers": [(k.lower().encode(), v.encode("latin-1")) for k, v in pairs],
        "state": {"kept": "yes"},
    }  # fmt: skip


def call(middleware: ApisigASGIMiddleware, scope: dict[str, Any], body: bytes) -> tuple[int, dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(dict(scope), receive, send))
    start, answer = sent
    return start["status"], json.loads(answer["body"])


class Pair:
    """Two middlewares over identical verifiers: the gated one and the Python path."""

    def __init__(self, make: Any) -> None:
        gated: Authenticator = make()
        reference: Authenticator = make()
        assert gated.asgi_gate is not None
        self.gate = CountingGate(gated.asgi_gate)
        gated.asgi_gate = self.gate
        reference.asgi_gate = None
        self.gated = ApisigASGIMiddleware(app, gated)
        self.reference = ApisigASGIMiddleware(app, reference)

    def same(self, scope: dict[str, Any], body: bytes = BODY) -> tuple[int, dict[str, Any]]:
        got = call(self.gated, scope, body)
        want = call(self.reference, scope, body)
        assert got == want
        return got


def signed(
    scheme: apisig.Scheme, method: str = "POST", target: str = TARGET, body: bytes = BODY, **creds: Any
) -> dict[str, str]:
    return dict(apisig.Signer(scheme, **creds).sign(method, target, body))


def test_every_dialect_verifies_as_the_python_path_does() -> None:
    gw, ts = Pair(gateway), Pair(tsb)
    cases: list[tuple[Pair, dict[str, str], str, dict[str, Any]]] = [
        (
            gw,
            signed(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET),
            TARGET,
            {"client_id": AEVO_KEY, "scheme": "aevo"},
        ),
        (
            gw,
            signed(apisig.AEVO_SECRET, api_key=AEVO_KEY, secret=AEVO_SECRET),
            TARGET,
            {"scheme": "aevo-secret"},
        ),
        (
            gw,
            signed(apisig.APEX, api_key=APEX_KEY, secret=APEX_SECRET, user_id="12"),
            TARGET,
            {"user_id": "12"},
        ),
        (gw, signed(COINBASE, api_key=CB_KEY, secret=CB_SECRET), TARGET, {"client_id": CB_KEY}),
        (gw, signed(apisig.SIGNIUS, api_key=SIGNIUS_KEY), TARGET, {"client_id": "signius-portal"}),
        (gw, signed(apisig.ZIGNSEC, api_key=ZS_PRIMARY), TARGET, {"client_id": "zs-acme", "slot": "primary"}),
        (gw, signed(apisig.ZIGNSEC_LEGACY, api_key=ZS_SECONDARY), TARGET, {"slot": "secondary"}),
        (
            gw,
            signed(apisig.ZIGNSEC_OAUTH, api_key=ZS_PRIMARY, token=jwt_for("zs-acme")),
            TARGET,
            {"scheme": "zignsec-oauth"},
        ),
        (ts, signed(apisig.SECUROSYS, api_key=TSB_OPS), "/v1/sign?mode=async", {"role": "keyOperationToken"}),
        (ts, signed(apisig.SECUROSYS_JWT, token=jwt_for("tsb-ops")), "/v1/sign", {"scheme": "securosys-jwt"}),
    ]
    for pair, headers, target, want in cases:
        status, answer = pair.same(scope_for("POST", target, headers))
        assert status == 200, answer
        assert answer["body"] == BODY.decode() and answer["state"] == "yes"
        for k, v in want.items():
            assert answer[k] == v, (k, answer)
    assert gw.gate.answered == 8 and ts.gate.answered == 2


def test_refusals_are_the_python_paths() -> None:
    gw, ts = Pair(gateway), Pair(tsb)
    aevo = signed(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET)
    stale = dict(
        apisig.Signer(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET, clock=lambda: 1).sign(
            "POST", TARGET, BODY
        )
    )
    bad_signature = aevo | {"AEVO-SIGNATURE": "0" * 64}
    cases: list[tuple[Pair, dict[str, Any], bytes, int, str]] = [
        (gw, scope_for("POST", TARGET, aevo), BODY + b" ", 401, "signature_mismatch"),
        (gw, scope_for("POST", TARGET, bad_signature), BODY, 401, "signature_mismatch"),
        (gw, scope_for("POST", TARGET + "&more=1", aevo), BODY, 401, "signature_mismatch"),
        (gw, scope_for("PUT", TARGET, aevo), BODY, 401, "signature_mismatch"),
        (gw, scope_for("POST", TARGET, stale), BODY, 401, "timestamp_outside_window"),
        (gw, scope_for("GET", "/x", {"X-Api-Key": "nope"}), b"", 401, "unknown_key"),
        (gw, scope_for("GET", "/x", {}), b"", 401, "missing_credential"),
        (gw, scope_for("GET", "/x", {"Accept": "*/*"}), b"", 401, "missing_credential"),
        (ts, scope_for("POST", "/v1/key", {"X-API-KEY": TSB_OPS}), b"", 403, "forbidden"),
        (ts, scope_for("POST", "/v1/sign/..%2Fkey", {"X-API-KEY": TSB_OPS}), b"", 403, "non_canonical_path"),
        (ts, scope_for("POST", "/v1/sign", {"X-API-KEY": TSB_MGMT}), b"", 403, "forbidden"),
    ]
    for pair, scope, body, status, error in cases:
        got = pair.same(scope, body)
        assert got[0] == status and got[1]["error"] == error, got
    # A replay: the first is accepted, the same again refused, by both.
    assert gw.same(scope_for("POST", TARGET, aevo))[0] == 200
    assert gw.same(scope_for("POST", TARGET, aevo))[1]["error"] == "replayed_request"


@pytest.mark.parametrize(
    "target",
    ["/", "/a%20b/c?x=%2F&y=", "/caf%C3%A9?q=%C3%BC", "/p?" + "q" * 300],
)
def test_targets_and_header_names_in_any_case(target: str) -> None:
    gw = Pair(gateway)
    headers = signed(apisig.AEVO, target=target, api_key=AEVO_KEY, secret=AEVO_SECRET)
    status, answer = gw.same(scope_for("POST", target, headers))
    assert status == 200 and answer["client_id"] == AEVO_KEY
    # Header names as a server that does not lowercase them would give them.
    scope = scope_for(
        "POST", target, signed(apisig.AEVO, target=target, api_key=AEVO_KEY, secret=AEVO_SECRET)
    )
    scope["headers"] = [(k.upper(), v) for k, v in scope["headers"]]
    assert gw.same(scope)[0] == 200
    assert gw.gate.answered == 2


def test_a_target_outside_ascii_is_refused_as_the_python_path_refuses_it() -> None:
    gw = Pair(gateway)
    headers = signed(apisig.AEVO, target="/caf%C3%A9", api_key=AEVO_KEY, secret=AEVO_SECRET)
    for target in ("/caf\u00e9", "/caf%C3%A9?q=\u00fc"):  # the bytes of the raw path taken as Latin-1
        status, answer = gw.same(scope_for("POST", target, headers))
        assert status == 401 and answer["error"] in ("invalid_path", "signature_mismatch"), answer


def test_scopes_the_gate_does_not_read_take_the_python_path() -> None:
    gw = Pair(gateway)

    def fresh() -> dict[str, Any]:
        return scope_for("POST", TARGET, signed(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET))

    no_raw_path = fresh()
    del no_raw_path["raw_path"]
    as_tuple = fresh()
    as_tuple["headers"] = tuple(as_tuple["headers"])
    for scope in (no_raw_path, as_tuple):
        status, answer = gw.same(scope)
        assert status == 200 and answer["client_id"] == AEVO_KEY
    assert gw.gate.answered == 0


def test_a_subclass_verifying_its_own_way_takes_the_python_path() -> None:
    class Audited(Authenticator):
        def authenticate_deferred(self, *args: Any, **kwargs: Any) -> Any:
            self.seen = True
            return super().authenticate_deferred(*args, **kwargs)

    plain = gateway()
    auth = Audited(plain.verifier, plain.schemes)
    assert auth.asgi_gate is None and plain.asgi_gate is not None
    middleware = ApisigASGIMiddleware(app, auth)
    headers = signed(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET)
    status, answer = call(middleware, scope_for("POST", TARGET, headers), BODY)
    assert status == 200 and answer["client_id"] == AEVO_KEY and auth.seen
