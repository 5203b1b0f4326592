"""apisig.oidc without a network: Cache-Control, the refetch rules and discovery checks, with a
fake fetch serving the shared vectors' JWK set (tests/vectors/jws.json) and its tokens."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from conftest import load_vectors

import apisig
from apisig import exceptions
from apisig.oauth import ClientCredentials
from apisig.oidc import OidcVerifier, max_age

FILE = load_vectors("jws.json")
NOW_NS = FILE["now"] * 1_000_000_000
ISS = "https://op.example.test/realms/zignsec"
AUD = "https://api.example.test"
TOKEN = next(c["token"] for c in FILE["tests"] if c["comment"] == "ES256 access token")
UNKNOWN = next(c["token"] for c in FILE["tests"] if c["comment"] == "unknown kid")


class FakeOp:
    """Serves discovery and the JWK set; counts requests; can fail."""

    def __init__(self, jwks: str = FILE["jwks"], cache_control: str | None = None) -> None:
        self.jwks, self.cache_control, self.down, self.gets = jwks, cache_control, False, 0
        self.issuer = ISS

    def __call__(self, url: str) -> tuple[int, Mapping[str, str], bytes]:
        self.gets += 1
        if self.down:
            raise ConnectionRefusedError("provider down")
        if url == ISS + "/.well-known/openid-configuration":
            doc = {
                "issuer": self.issuer,
                "jwks_uri": ISS + "/jwks",
                "token_endpoint": ISS + "/token",
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
            }
            return 200, {}, json.dumps(doc).encode()
        if url == ISS + "/jwks":
            headers = {"cache-control": self.cache_control} if self.cache_control else {}
            return 200, headers, self.jwks.encode()
        return 404, {}, b""


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _verifier(op: FakeOp, clock: Clock, **kw: Any) -> OidcVerifier:
    return OidcVerifier(ISS, AUD, algorithms=["ES256", "EdDSA"], fetch=op, clock=clock, **kw)


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("max-age=600", 600.0),
        ("public, max-age=60, must-revalidate", 60.0),
        ("no-store", 0.0),
        ("no-cache, max-age=60", 0.0),
        ("private", None),
        ("", None),
        ('max-age="30"', 30.0),
    ],
)
def test_max_age(value: str, want: float | None) -> None:
    assert max_age({"cache-control": value}) == want


def test_cache_control_is_honoured() -> None:
    op, clock = FakeOp(cache_control="max-age=120"), Clock()
    v = _verifier(op, clock)
    v.verify(TOKEN, now=NOW_NS)
    assert (v.fetches, op.gets) == (1, 2)  # discovery + JWK set
    clock.t = 119
    v.verify(TOKEN, now=NOW_NS)
    assert v.fetches == 1
    clock.t = 121
    v.verify(TOKEN, now=NOW_NS)
    assert (v.fetches, op.gets) == (2, 3)  # jwks_uri is remembered


def test_default_max_age_is_an_hour() -> None:
    op, clock = FakeOp(), Clock()
    v = _verifier(op, clock)
    v.verify(TOKEN, now=NOW_NS)
    clock.t = 3599
    v.verify(TOKEN, now=NOW_NS)
    assert v.fetches == 1
    clock.t = 3601
    v.verify(TOKEN, now=NOW_NS)
    assert v.fetches == 2


def test_unknown_kid_refetches_at_most_every_30_s() -> None:
    op, clock = FakeOp(), Clock()
    v = _verifier(op, clock)
    v.verify(TOKEN, now=NOW_NS)
    for _ in range(5):
        with pytest.raises(exceptions.UnknownKid):
            v.verify(UNKNOWN, now=NOW_NS)
    assert op.gets == 2  # no refetch within 30 s of the last
    clock.t = 31
    with pytest.raises(exceptions.UnknownKid):
        v.verify(UNKNOWN, now=NOW_NS)
    assert op.gets == 3  # one refetch, still unknown: fail closed (503)


def test_last_good_set_is_kept() -> None:
    op, clock = FakeOp(), Clock()
    v = _verifier(op, clock)
    v.verify(TOKEN, now=NOW_NS)
    op.jwks = '{"keys":['  # a broken document
    clock.t = 4000
    assert v.verify(TOKEN, now=NOW_NS)["sub"] == "client-7"
    assert isinstance(v.last_error, exceptions.JwksMalformed)
    op.down = True
    clock.t = 9000
    assert v.verify(TOKEN, now=NOW_NS)["sub"] == "client-7"
    assert isinstance(v.last_error, OSError)


def test_no_set_fails_closed() -> None:
    op, clock = FakeOp(), Clock()
    op.down = True
    with pytest.raises(exceptions.JwksUnavailable) as err:
        _verifier(op, clock).verify(TOKEN, now=NOW_NS)
    assert err.value.http_status == 503


def test_discovery_issuer_must_match() -> None:
    op, clock = FakeOp(), Clock()
    op.issuer = ISS + "/"
    v = _verifier(op, clock)
    with pytest.raises(exceptions.DiscoveryMismatch):
        v.verify(TOKEN, now=NOW_NS)
    with pytest.raises(exceptions.DiscoveryMismatch):
        ClientCredentials.from_issuer(ISS, "c", "s", fetch=op)


def test_client_discovery() -> None:
    op = FakeOp()
    creds = ClientCredentials.from_issuer(ISS, "c", "s", fetch=op)
    assert creds.token_url == ISS + "/token"
    with pytest.raises(exceptions.DiscoveryMismatch, match="client_secret_post"):
        ClientCredentials.from_issuer(ISS, "c", "s", fetch=op, auth_method="client_secret_post")


class FakeIntrospection:
    """An RFC 7662 endpoint: answers from a table, records requests, can be down."""

    def __init__(self, answers: dict[str, dict[str, Any]]) -> None:
        self.answers, self.down, self.bodies = answers, False, []  # type: list[bytes]

    def __call__(self, url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        if self.down:
            raise ConnectionRefusedError("down")
        assert url == ISS + "/introspect"
        assert headers.get("Authorization", "").startswith("Basic ")
        self.bodies.append(body)
        token = dict(p.split("=", 1) for p in body.decode().split("&"))["token"]
        return 200, json.dumps(self.answers.get(token, {"active": False})).encode()


def _introspector(ep: FakeIntrospection, clock: Clock, **kw: Any) -> Any:
    from apisig.oidc import Introspector

    kw.setdefault("post", ep)
    return Introspector(ISS, "rs", "rs-secret", audience=AUD, endpoint=ISS + "/introspect", clock=clock, **kw)


def test_introspection() -> None:
    active = {"active": True, "client_id": "client-7", "scope": "a b", "aud": AUD, "iss": ISS, "exp": 1000}
    ep = FakeIntrospection({"t1": active, "t2": dict(active, aud="other"), "t3": dict(active, iss="x")})
    clock = Clock()
    clock.t = 900.0
    intro = _introspector(ep, clock)
    who = intro.principal("t1")
    assert (who.client_id, who.scopes) == ("client-7", ("a", "b"))
    assert b"token=t1" in ep.bodies[0] and b"token_type_hint=access_token" in ep.bodies[0]
    intro.principal("t1")
    assert intro.requests == 1  # cached until exp
    clock.t = 1000.0
    with pytest.raises(exceptions.TokenExpired):
        intro.principal("t1")  # at exp: asked again, and refused by the core
    clock.t = 900.0
    with pytest.raises(exceptions.TokenInactive):
        intro.principal("nope")
    with pytest.raises(exceptions.AudienceMismatch):
        intro.principal("t2")
    with pytest.raises(exceptions.IssuerMismatch):
        intro.principal("t3")
    ep.down = True
    with pytest.raises(exceptions.IntrospectionUnavailable) as err:
        intro.principal("t4")
    assert err.value.http_status == 503
    soft = _introspector(ep, clock, fail_open=True)
    assert soft.principal("t4").client_id is None


ACTIVE = {"active": True, "client_id": "client-7", "scope": "a", "aud": AUD, "iss": ISS}


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def test_introspection_cache_is_keyed_by_digest_and_bounded() -> None:
    """At most ``capacity`` answers, keyed by the token's SHA-256; when full, expired ones go
    first, then the one expiring soonest; ``max_cache`` bounds each."""
    ep = FakeIntrospection({f"tok-{i}": dict(ACTIVE, exp=1000 + i) for i in range(5)})
    ep.answers["far"] = dict(ACTIVE, exp=5000)
    clock = Clock()
    clock.t = 900.0
    intro = _introspector(ep, clock, capacity=3)
    for t in ("tok-4", "tok-0", "tok-2"):
        intro.principal(t)
    assert set(intro._cache) == {_digest(t) for t in ("tok-4", "tok-0", "tok-2")}
    for kept in intro._cache.values():  # nothing kept names a token
        assert "tok-" not in json.dumps(kept.claims)
    intro.principal("tok-3")  # full, none expired: tok-0 (exp 1000) goes
    assert set(intro._cache) == {_digest(t) for t in ("tok-4", "tok-2", "tok-3")}
    intro.principal("tok-4")
    assert intro.requests == 4  # tok-4 still kept
    clock.t = 1003.0  # tok-2 and tok-3 expired (exp 1002, 1003)
    intro.principal("far")  # full: the expired go, nothing live
    assert set(intro._cache) == {_digest(t) for t in ("tok-4", "far")}
    clock.t = 1003 + 299.9
    intro.principal("far")
    assert intro.requests == 5  # kept max_cache (300 s) from 1003
    clock.t = 1003 + 300
    intro.principal("far")
    assert intro.requests == 6
    none = _introspector(ep, clock, capacity=0)
    none.principal("far")
    assert (none.cached, none.in_flight) == (0, 0)
    for bad in ({"capacity": -1}, {"serve_stale": -1.0}, {"max_cache": -1.0}):
        with pytest.raises(ValueError):
            _introspector(ep, clock, **bad)


def test_introspection_serve_stale() -> None:
    """While the provider cannot answer, kept answers serve ``serve_stale`` seconds past
    ``max_cache``, never past the token's exp; a refusal drops what was kept."""
    ep = FakeIntrospection({"long": dict(ACTIVE, exp=10_000), "short": dict(ACTIVE, exp=1000)})
    clock = Clock()
    clock.t = 900.0
    intro = _introspector(ep, clock, max_cache=60, serve_stale=300)
    closed = _introspector(ep, clock, max_cache=60)
    for i in (intro, closed):
        i.principal("long")
        i.principal("short")
    ep.down = True
    clock.t = 959.9
    assert intro.principal("long").client_id == "client-7"  # fresh
    assert (intro.requests, intro.served_stale) == (2, 0)
    clock.t = 960.0
    with pytest.raises(exceptions.IntrospectionUnavailable):
        closed.principal("long")  # without serve_stale: fail closed
    assert intro.principal("long").client_id == "client-7"
    assert intro.principal("short").client_id == "client-7"
    assert intro.served_stale == 2
    assert isinstance(intro.last_error, exceptions.IntrospectionUnavailable)
    clock.t = 999.9
    intro.principal("short")
    clock.t = 1000.0  # short's exp, before 900 + 60 + 300
    with pytest.raises(exceptions.IntrospectionUnavailable):
        intro.principal("short")
    clock.t = 1259.9
    intro.principal("long")
    clock.t = 1260.0  # 60 + 300 s after it was asked
    with pytest.raises(exceptions.IntrospectionUnavailable):
        intro.principal("long")
    assert intro.served_stale == 4
    assert intro.cached == 0

    # The provider up again and refusing the token (revoked): what was kept is dropped, and
    # does not come back when it goes down again.
    ep.down = False
    clock.t = 900.0
    intro.principal("long")
    ep.answers["long"] = {"active": False}
    clock.t = 960.0
    with pytest.raises(exceptions.TokenInactive):
        intro.principal("long")
    ep.down = True
    with pytest.raises(exceptions.IntrospectionUnavailable):
        intro.principal("long")


def test_introspection_single_flight() -> None:
    """16 threads with the same new token: one introspection request. A call that fails
    leaves neither a gate nor an answer behind."""
    ep = FakeIntrospection({"t1": dict(ACTIVE, exp=5000)})
    clock = Clock()
    clock.t = 900.0

    def slow(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        time.sleep(0.2)  # every thread arrives while the first is asking
        return ep(url, headers, body)

    intro = _introspector(ep, clock, post=slow)
    start = threading.Barrier(16)

    def call(_: int) -> str | None:
        start.wait()
        return intro.principal("t1").client_id

    with ThreadPoolExecutor(16) as pool:
        assert list(pool.map(call, range(16))) == ["client-7"] * 16
    assert (intro.requests, len(ep.bodies), intro.in_flight) == (1, 1, 0)

    def broken(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        raise RuntimeError("interrupted")

    failing = _introspector(ep, clock, post=broken)
    with pytest.raises(RuntimeError):
        failing.principal("t1")
    assert (failing.in_flight, failing.cached, failing.requests) == (0, 0, 0)


def test_introspection_cancelled_task() -> None:
    """An asyncio task cancelled while the ASGI authenticator's worker thread asks the provider:
    the thread finishes its request, then no gate is left and the whole answer is kept."""
    import asyncio

    from apisig import Verifier
    from apisig.server import Authenticator

    ep = FakeIntrospection({"t1": dict(ACTIVE, exp=5000)})
    asking, release = threading.Event(), threading.Event()

    def held(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        asking.set()
        release.wait(10)
        return ep(url, headers, body)

    clock = Clock()
    clock.t = 900.0
    intro = _introspector(ep, clock, post=held)
    auth = Authenticator(Verifier(), [], introspection=intro)
    headers = [("authorization", b"Bearer t1")]

    async def main() -> None:
        task = asyncio.create_task(auth.authenticate_async("GET", "/x", headers, b""))
        assert await asyncio.to_thread(asking.wait, 10)
        assert intro.in_flight == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()

    asyncio.run(main())  # waits for the worker thread
    assert (intro.in_flight, intro.cached, intro.requests) == (0, 1, 1)
    assert intro.principal("t1").client_id == "client-7"
    assert intro.requests == 1


def test_introspection_refuses_before_asking() -> None:
    """A token over the core's access-token maximum (8 KiB) is refused unsent."""
    assert apisig.ACCESS_TOKEN_MAX_LEN == 8 * 1024
    ep = FakeIntrospection({})
    intro = _introspector(ep, Clock())
    with pytest.raises(exceptions.TokenTooLong) as err:
        intro.principal("a" * (apisig.ACCESS_TOKEN_MAX_LEN + 1))
    assert err.value.http_status == 401
    with pytest.raises(exceptions.TokenTooLong):
        intro.principal("é" * (apisig.ACCESS_TOKEN_MAX_LEN // 2 + 1))  # bytes, not characters
    assert ep.bodies == []
    with pytest.raises(exceptions.TokenInactive):
        intro.principal("a" * apisig.ACCESS_TOKEN_MAX_LEN)  # at the maximum: asked
    assert len(ep.bodies) == 1


def test_introspection_wrong_client_secret() -> None:
    """The endpoint refusing the resource server's credentials is 503 with the provider's
    error, not a refusal of the token."""

    def refuses(url: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        return 401, b'{"error":"invalid_client","error_description":"client authentication failed"}'

    intro = _introspector(FakeIntrospection({}), Clock(), post=refuses)
    with pytest.raises(exceptions.IntrospectionUnavailable, match="answered 401 invalid_client") as err:
        intro.principal("t1")
    assert err.value.http_status == 503
    assert intro.last_error is err.value


def test_middleware_option() -> None:
    import asyncio

    from apisig import ZIGNSEC, Verifier
    from apisig.server import Authenticator

    op, clock = FakeOp(), Clock()
    auth = Authenticator(Verifier(), [ZIGNSEC], oidc=_verifier(op, clock))
    expired = next(c["token"] for c in FILE["tests"] if c["comment"] == "expired")
    # The vectors' tokens are valid at the file's `now`, long past: the system clock says expired.
    with pytest.raises(exceptions.TokenExpired) as err:
        auth.authenticate("GET", "/x", [("Authorization", f"Bearer {TOKEN}".encode())], b"")
    assert err.value.http_status == 401
    with pytest.raises(exceptions.TokenExpired):
        asyncio.run(
            auth.authenticate_async("GET", "/x", [("authorization", f"bearer {expired}".encode())], b"")
        )
    # Not a JWS: the schemes decide (ZignSec wants its product key).
    with pytest.raises(exceptions.MissingCredential):
        auth.authenticate("GET", "/x", [("Authorization", b"Bearer opaque")], b"")
    with pytest.raises(ValueError, match="at least one scheme"):
        Authenticator(Verifier(), [])
    assert Authenticator(Verifier(), [], oidc=_verifier(op, clock)).oidc is not None


INTROSPECTION = load_vectors("introspection.json")
S = 1_000_000_000


@pytest.mark.parametrize("case", INTROSPECTION["tests"], ids=lambda c: c["comment"])
def test_introspection_vectors(case: dict[str, Any]) -> None:
    """The shared introspection vectors (tests/vectors/introspection.json, from the RFC 7662
    oracle) through the core's judgement, as the Introspector uses it."""
    e = case["expected"]
    args = (case["body"].encode(), e["issuer"], e["audience"])
    kw: dict[str, Any] = {
        "leeway_s": e["leeway_s"],
        "max_cache_s": case["max_cache_s"],
        "now": case["now"] * S,
    }
    if case["result"] == "valid":
        got = apisig.introspection_check(*args, **kw)
        want = case["claims"]
        assert {k: got[k] for k in want} == want
        assert got["cache_s"] == case["cache_s"]
        assert json.loads(got["json"]) == json.loads(case["body"])
    else:
        with pytest.raises(exceptions.ApisigError) as err:
            apisig.introspection_check(*args, **kw)
        assert err.value.name == case["error"]
