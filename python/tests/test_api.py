"""The Python face itself: types, defaults, injection, errors, threads."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, get_args

import pytest
from conftest import VECTORS

import apisig
import apisig.oauth
import apisig.server
from apisig import exceptions
from apisig.client import KeyChain

NOW = 1_700_000_000_000_000_000


def test_exception_families_and_pickling() -> None:
    assert issubclass(apisig.MissingCredential, ValueError)
    assert issubclass(apisig.ReplayedRequest, apisig.AuthenticationFailed)
    assert issubclass(apisig.Forbidden, apisig.AuthorizationFailed)
    assert issubclass(apisig.TokenExpired, apisig.InvalidToken)
    assert not issubclass(apisig.SignatureMismatch, ValueError)
    err = exceptions._from_code(33, "replayed_request", "request was already accepted (replay)")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is apisig.ReplayedRequest and again.args == err.args and again.code == 33
    unknown = exceptions._from_code(999, "from_the_future", "newer core")
    assert type(unknown) is apisig.ApisigError and unknown.code == 999 and unknown.name == "from_the_future"


def test_secrets_never_in_repr() -> None:
    secret, key = b"s3cr3t-VALUE", "static-KEY-123"
    for s in (
        apisig.Signer(apisig.AEVO, api_key="id", secret=secret),
        apisig.Signer(apisig.SIGNIUS, api_key=key),
        apisig.Signer(apisig.SECUROSYS_JWT, token="tok.en.VALUE"),
    ):
        text = repr(s) + str(s)
        assert "s3cr3t" not in text and key not in text and "VALUE" not in text
    v = apisig.Verifier()
    v.add("client", secret)
    assert "s3cr3t" not in repr(v)
    p = v.verify(
        apisig.AEVO_SECRET, "GET", "/", {"AEVO-KEY": "client", "AEVO-SECRET": secret.decode()}, now=NOW
    )
    assert "s3cr3t" not in repr(p)


def test_bytes_for_secrets_str_for_text() -> None:
    with pytest.raises(TypeError):
        apisig.Signer(apisig.AEVO, api_key="k", secret="not-bytes")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        apisig.Signer(apisig.AEVO, api_key="k", secret=b"s").sign("GET", "/", "body as str")  # type: ignore[arg-type]
    signer = apisig.Signer(apisig.AEVO, api_key="k", secret=bytearray(b"s"))
    assert signer.sign("GET", "/", bytearray(b"x"), now=1) == signer.sign("GET", "/", b"x", now=1)


def test_default_clock_and_injected_clock() -> None:
    signer = apisig.Signer(apisig.AEVO, api_key="k", secret=b"s")
    before = time.time_ns()
    ts = int(signer.sign("GET", "/")["AEVO-TIMESTAMP"])
    assert before <= ts <= time.time_ns()
    fixed = apisig.Signer(apisig.AEVO, api_key="k", secret=b"s", clock=lambda: 42)
    assert fixed.sign("GET", "/")["AEVO-TIMESTAMP"] == "42"
    assert fixed.sign("GET", "/", now=7)["AEVO-TIMESTAMP"] == "7"


def test_nonce_counter_is_per_signer_increasing_and_injectable() -> None:
    signer = apisig.Signer(apisig.APEX, api_key="k", secret=b"s", user_id="1")
    start_ms = time.time_ns() // 10**6
    nonces = [int(signer.sign("POST", "/AuthenticateUser")["Nonce"]) for _ in range(50)]
    assert nonces == sorted(set(nonces)) and nonces[0] >= start_ms
    # Concurrent callers never get the same nonce.
    with ThreadPoolExecutor(8) as pool:
        many = list(pool.map(lambda _: int(signer.sign("POST", "/")["Nonce"]), range(400)))
    assert len(set(many)) == 400 and min(many) > nonces[-1]
    counter = iter(range(100, 200))
    injected = apisig.Signer(apisig.APEX, api_key="k", secret=b"s", user_id="1", nonces=lambda: next(counter))
    assert [injected.sign("POST", "/")["Nonce"] for _ in range(3)] == ["100", "101", "102"]
    assert injected.sign("POST", "/", nonce=5)["Nonce"] == "5"


def test_user_defined_scheme_from_dataclass_and_round_trip() -> None:
    @dataclasses.dataclass
    class Spec:
        name: str
        headers: list[tuple[str, str]]
        parts: list[str]
        separator: str = ""
        encoding: str = "base64"
        time_unit: str = "s"

    spec = Spec(
        "bybit-style",
        [("X-BAPI-API-KEY", "api_key"), ("X-BAPI-TIMESTAMP", "timestamp"), ("X-BAPI-SIGN", "signature")],
        ["timestamp", "api_key", "body"],
        encoding="lower_hex",
        time_unit="ms",
    )
    s = apisig.scheme(spec)
    assert s.name == "bybit-style" and s.kind == "signed" and s.time_unit == "ms"
    assert apisig.Scheme.from_dict(s.to_dict()).to_dict() == s.to_dict()
    for preset in apisig.PRESETS.values():
        assert apisig.Scheme.from_dict(preset.to_dict()).to_dict() == preset.to_dict()
    with pytest.raises(apisig.InvalidTemplate):
        apisig.Scheme("no-signature-header", [("X-Key", "api_key")], parts=["body"])
    with pytest.raises(ValueError, match="unknown template part"):
        apisig.Scheme("x", [("X-Sig", "signature"), ("X-Ts", "timestamp")], parts=["bogus"])
    with pytest.raises(ValueError, match="not a bare name"):
        apisig.Scheme("x", [("X-Sig", "signature"), ("X-Ts", "timestamp")], parts=["literal"])
    with pytest.raises(ValueError, match="unknown time unit 'us': 's', 'ms' or 'ns'"):
        apisig.Scheme("x", [("X-Key", "api_key")], time_unit="us")
    with pytest.raises(ValueError, match="unknown header field 'token'"):
        apisig.Scheme("x", [("X-Key", "token")])
    # "key_id" is the core's other name for the api key, as a header field and as a part.
    aliased = apisig.Scheme(
        "x",
        [("X-Key", "key_id"), ("X-Sig", "signature"), ("X-Ts", "timestamp")],
        parts=["key_id", "timestamp"],
    )
    assert aliased.headers[0][1] == "api_key" and aliased.parts == ["api_key", "timestamp"]


def test_verifier_roles_capacity_and_replay_capacity() -> None:
    v = apisig.Verifier(capacity=2, replay_capacity=2, policy=apisig.SECUROSYS_ROLES)
    v.add("ops", b"op-key", role="keyOperationToken")
    v.add("svc", b"sv-key", role="serviceToken")
    with pytest.raises(apisig.KeyringFull):
        v.add("third", b"x")
    assert v.client_ids == ["ops", "svc"] and len(v) == 2 and "ops" in v
    p = v.verify(apisig.SECUROSYS, "POST", "/v1/sign", {"X-API-KEY": "op-key"}, authorize=True)
    assert (p.client_id, p.role, p.slot) == ("ops", "keyOperationToken", "primary")
    with pytest.raises(apisig.Forbidden):
        v.verify(apisig.SECUROSYS, "POST", "/v1/key", {"X-API-KEY": "op-key"}, authorize=True)
    with pytest.raises(apisig.NonCanonicalPath):
        v.authorize(p, "/v1/sign/../key")
    with pytest.raises(apisig.Forbidden):
        v.set_role("ops", "noSuchRole")

    ring = apisig.Verifier(replay_capacity=2)
    ring.add("K", b"S")
    signer = apisig.Signer(apisig.AEVO, api_key="K", secret=b"S")
    for i in range(2):
        ring.verify(apisig.AEVO, "GET", f"/{i}", signer.sign("GET", f"/{i}", now=NOW), now=NOW)
    with pytest.raises(apisig.ReplayCacheFull):
        ring.verify(apisig.AEVO, "GET", "/2", signer.sign("GET", "/2", now=NOW), now=NOW)
    assert ring.live_replay_entries(now=NOW) == 2
    # After the window, the expired entries are reused.
    later = NOW + 301 * 10**9
    ring.verify(apisig.AEVO, "GET", "/3", signer.sign("GET", "/3", now=later), now=later)


def test_key_rotation_on_the_server() -> None:
    v = apisig.Verifier()
    v.add("acme", b"zs-primary", secondary=b"zs-secondary")
    assert v.verify(apisig.ZIGNSEC, "GET", "/", {"Zs-Product-Key": "zs-secondary"}).slot == "secondary"
    v.set_key("acme", "primary", None)
    with pytest.raises(apisig.UnknownKey):
        v.verify(apisig.ZIGNSEC, "GET", "/", {"Zs-Product-Key": "zs-primary"})
    v.revoke("acme")
    with pytest.raises(apisig.ClientRevoked):
        v.verify(apisig.ZIGNSEC, "GET", "/", {"Zs-Product-Key": "zs-secondary"})
    # Revoking keeps the client's record (its secondary key) and refuses it as revoked.
    assert v.client_info("acme") == (None, None, False, True)
    assert v.status("acme") == "revoked"


def test_principals_follow_every_change_to_the_client() -> None:
    # The verifier hands back the principal it returned last for a client when the outcome is
    # the same (they are immutable); any difference must give a new, correct one.
    v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES)
    v.add("acme", b"key-1", secondary=b"key-2", role="serviceToken")
    first = v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"})
    again = v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"})
    assert again == first and again.slot == "primary" and again.role == "serviceToken"
    assert again.scheme == "securosys"
    assert v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-2"}).slot == "secondary"
    assert v.verify(apisig.ZIGNSEC, "GET", "/", {"Zs-Product-Key": "key-1"}).scheme == "zignsec"
    v.set_role("acme", "keyOperationToken")
    changed = v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"})
    assert (changed.role, changed.slot, changed.scheme) == ("keyOperationToken", "primary", "securosys")
    assert first.role == "serviceToken", "a principal already returned never changes"
    v.bind_user_id("acme", "7")
    assert v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"}).user_id == "7"
    v.add("other", b"key-3")
    assert v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-3"}).client_id == "other"


def test_principals_are_hashable_values() -> None:
    # Two verifiers make distinct objects for the same outcome: equal, and hashed alike.
    def verifier() -> apisig.Verifier:
        v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES)
        v.add("acme", b"key-1", secondary=b"key-2", role="serviceToken")
        v.add("beta", b"key-3", role="serviceToken")
        v.add("gamma", b"key-4", role="keyOperationToken", user_id="7")
        v.add("delta", b"key-5", role="keyOperationToken")
        return v

    first, second = verifier(), verifier()
    a = first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"})
    b = second.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"})
    assert a is not b and a == b and hash(a) == hash(b)
    assert {a: "seen"}[b] == "seen" and len({a, b}) == 1
    # The same verifier hands back the object it returned last for the same outcome.
    assert first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-1"}) is a
    # One field different each: slot, client id, role, user id, scheme.
    others = [
        first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-2"}),
        first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-3"}),
        second.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "key-1"}),
        first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-4"}),
        first.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "key-5"}),
    ]
    fields = [(p.client_id, p.slot, p.role, p.user_id, p.scheme) for p in [a, *others]]
    assert fields == [
        ("acme", "primary", "serviceToken", None, "securosys"),
        ("acme", "secondary", "serviceToken", None, "securosys"),
        ("beta", "primary", "serviceToken", None, "securosys"),
        ("acme", "primary", "serviceToken", None, "signius"),
        ("gamma", "primary", "keyOperationToken", "7", "securosys"),
        ("delta", "primary", "keyOperationToken", None, "securosys"),
    ]
    for other in others:
        assert other != a and a != other
    assert others[3] != others[4]  # only the user id differs
    assert len({a, b, *others}) == 6
    assert repr(others[3]) == (
        'Principal(client_id="gamma", slot="primary", role="keyOperationToken", user_id="7", scheme="securosys")'
    )


def test_literal_types_are_what_the_native_module_takes_and_gives() -> None:
    def scheme(**options: Any) -> apisig.Scheme:
        headers = [("X-Key", "api_key"), ("X-Ts", "timestamp"), ("X-Sig", "signature")]
        return apisig.Scheme("t", headers, **{"parts": ["api_key", "timestamp"], **options})

    for unit in get_args(apisig.TimeUnit):
        assert scheme(time_unit=unit).time_unit == unit
    for encoding in get_args(apisig.Encoding):
        assert scheme(encoding=encoding).encoding == encoding
    with pytest.raises(ValueError, match="time unit"):
        scheme(time_unit="us")
    with pytest.raises(ValueError, match="encoding"):
        scheme(encoding="base32")
    presets = list(apisig.PRESETS.values())
    assert {s.kind for s in presets} == set(get_args(apisig.SchemeKind))
    assert {h[1] for s in presets for h in s.headers} <= set(get_args(apisig.HeaderField))
    every_field = [
        apisig.Scheme("t", [("X-K", "api_key"), ("X-S", "secret")]),
        apisig.Scheme("t", [("X-J", "jwt")]),
        apisig.Scheme("t", [("X-T", "session_token")]),
        apisig.Scheme(
            "t",
            [
                ("X-K", "api_key"),
                ("X-U", "user_id"),
                ("X-N", "nonce"),
                ("X-Ts", "timestamp"),
                ("X-Sig", "signature"),
            ],
            parts=["api_key", "user_id", "nonce", "timestamp"],
        ),
    ]
    assert {h[1] for s in every_field for h in s.headers} == set(get_args(apisig.HeaderField))
    with pytest.raises(ValueError, match="header field"):
        apisig.Scheme("t", [("X-F", "password")])
    signed = every_field[-1].to_dict()
    for part in get_args(apisig.TemplatePart):
        assert apisig.Scheme.from_dict({**signed, "parts": [part, "timestamp"]}).parts == [part, "timestamp"]
    with pytest.raises(ValueError, match="template part"):
        apisig.Scheme.from_dict({**signed, "parts": ["query"]})
    v = apisig.Verifier()
    v.add("c", b"primary-key", secondary=b"secondary-key")
    assert {
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": k}).slot for k in ("primary-key", "secondary-key")
    } == set(get_args(apisig.Slot))
    for slot in get_args(apisig.Slot):
        v.set_key("c", slot, None)
    assert v.client_info("c") == (None, None, False, False)
    der = (VECTORS / "certs" / "client-ec-p256.der").read_bytes()
    assert len({apisig.fingerprint(der, kind) for kind in get_args(apisig.PinKind)}) == 2
    for mode in get_args(apisig.MtlsMode):
        assert apisig.server.Authenticator(v, [apisig.SIGNIUS], mtls=mode).mtls == mode
    with pytest.raises(ValueError, match="mtls"):
        apisig.server.Authenticator(v, [apisig.SIGNIUS], mtls="optional")  # type: ignore[arg-type]
    for method in get_args(apisig.ClientAuthMethod):
        assert (
            apisig.oauth.ClientCredentials("https://x/token", "id", "s", auth_method=method).auth_method
            == method
        )
    with pytest.raises(ValueError, match="auth_method"):
        apisig.oauth.ClientCredentials("https://x/token", "id", "s", auth_method="none")  # type: ignore[arg-type]


def test_rotation_state_machine() -> None:
    r = apisig.Rotation.zignsec()
    a = r.begin()
    assert a.key == 0
    assert r.on_response(a, 403) is apisig.Next.RETRY and a.key == 1
    assert r.on_response(a, 200) is apisig.Next.DONE
    assert r.current == 1 and r.begin().key == 1
    s = apisig.Rotation.securosys(3)
    a = s.begin()
    assert s.on_response(a, 403) is apisig.Next.DONE
    a = s.begin()
    assert [s.on_response(a, 401) for _ in range(3)] == [
        apisig.Next.RETRY,
        apisig.Next.RETRY,
        apisig.Next.EXHAUSTED,
    ]
    with pytest.raises(ValueError):
        apisig.Rotation(0)


def test_one_verifier_shared_by_threads_accepts_each_request_once() -> None:
    v = apisig.Verifier(replay_capacity=8192)
    v.add("K", b"S")
    signer = apisig.Signer(apisig.AEVO, api_key="K", secret=b"S")
    big = b"z" * (apisig.DETACH_THRESHOLD * 4)  # takes the GIL-free path
    requests = [(f"/r{i}", big if i % 2 else b"{}") for i in range(64)]
    signed = [(p, b, signer.sign("POST", p, b, now=NOW)) for p, b in requests]
    accepted: list[str] = []
    refused: list[str] = []
    lock = threading.Lock()

    def attempt(item: tuple[str, bytes, dict[str, str]]) -> None:
        path, body, headers = item
        try:
            v.verify(apisig.AEVO, "POST", path, headers, body, now=NOW)
            with lock:
                accepted.append(path)
        except apisig.ReplayedRequest:
            with lock:
                refused.append(path)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(attempt, signed * 4))  # every request sent four times, concurrently
    assert sorted(accepted) == sorted(p for p, _ in requests)
    assert len(refused) == 3 * len(requests)


def test_header_names_are_unique_in_any_case() -> None:
    """The core's Scheme::check refuses two headers of one name (the C face alike)."""
    with pytest.raises(apisig.InvalidTemplate):
        apisig.Scheme("twice", [("X-Key", "api_key"), ("x-KEY", "secret")])
    assert apisig.Scheme("once", [("X-Key", "api_key"), ("X-Keys", "secret")]).kind == "key_and_secret"


def test_rotation_follows_the_scheme() -> None:
    # The seeds: ZignSec retries with the other key on 401 or 403, Securosys (and every other
    # service) on 401 only.
    for name, preset in apisig.PRESETS.items():
        zignsec = name.startswith("zignsec")
        assert preset.retry_on_forbidden is zignsec, name
        r = apisig.Rotation.for_scheme(preset, 2)
        assert r.on_response(r.begin(), 403) is (apisig.Next.RETRY if zignsec else apisig.Next.DONE), name
        assert r.on_response(r.begin(), 401) is apisig.Next.RETRY, name
        chain = KeyChain(preset, keys=["k1", "k2"]) if preset.kind == "static_key" else None
        if chain is not None:
            assert chain.rotation.on_response(chain.rotation.begin(), 403) is r.on_response(r.begin(), 403)
    custom = apisig.Scheme("two-keys", [("X-Key", "api_key")], retry_on_forbidden=True)
    r = apisig.Rotation.for_scheme(custom, 2)
    assert r.on_response(r.begin(), 403) is apisig.Next.RETRY
    assert apisig.Scheme.from_dict(custom.to_dict()).retry_on_forbidden
    assert not apisig.Scheme("one", [("X-Key", "api_key")]).retry_on_forbidden


def _apex_signature(nonce: str) -> str:
    # Oracle: Python's hmac over Nonce ‖ UserId ‖ APIKey.
    return hmac.new(b"apex-secret", f"{nonce}12apex".encode(), hashlib.sha256).hexdigest()


def test_apex_credentials_in_the_json_body() -> None:
    """AuthenticateUser's body is read by the core (json_body=True), as the C face reads it."""
    v = apisig.Verifier()
    v.add("apex", b"apex-secret", user_id="12")

    def login(body: str, headers: dict[str, str] | None = None) -> str:
        p = v.verify(apisig.APEX, "POST", "/AuthenticateUser", headers or {}, body.encode(), json_body=True)
        return p.client_id

    def body(nonce: str, user: str = "12", signed: str | None = None) -> str:
        """The body with ``nonce`` and ``user`` as JSON text, signed over ``signed`` (default:
        the nonce's text as written)."""
        sig = _apex_signature(nonce if signed is None else signed)
        return f'{{"APIKey":"apex","Signature":"{sig}","UserId":{user},"Nonce":{nonce},"UserName":"ann"}}'

    assert login(body("8")) == "apex"
    with pytest.raises(apisig.ReplayedRequest):
        login(body("8"))
    assert login(body('"9"', '"12"', signed="9")) == "apex"
    # Integers have one text: another spelling is refused even when signed over that text.
    for nonce in ["1e3", "10.0", "-10", str(2**64)]:
        with pytest.raises(apisig.InvalidNonce):
            login(body(nonce))
    with pytest.raises(apisig.InvalidNonce):
        login(body('"010"', signed="010"))
    with pytest.raises(apisig.InvalidBody):
        login(body("010"))  # not JSON
    with pytest.raises(apisig.UserIdMismatch):
        login(body("11", "12.0"))
    with pytest.raises(apisig.DuplicateHeader):
        login(body("11")[:-1] + ',"Nonce":12}')
    for bad in ["[]", "{", '{"APIKey":true}', '{"APIKey":5}', '{"Nonce":null}']:
        with pytest.raises(apisig.InvalidBody):
            login(bad)
    with pytest.raises(apisig.MissingCredential):
        login("")
    # All four headers: used, the body is not read.
    signer = apisig.Signer(apisig.APEX, api_key="apex", secret=b"apex-secret", user_id="12")
    assert login("not json", signer.sign("POST", "/AuthenticateUser", nonce=20)) == "apex"
    # Without json_body the body is never read.
    with pytest.raises(apisig.MissingCredential):
        v.verify(apisig.APEX, "POST", "/AuthenticateUser", {}, body("21").encode())
