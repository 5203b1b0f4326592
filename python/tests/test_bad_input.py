"""Bad input through the Python face: wrong types, ``str`` where bytes are required, huge
inputs, and every core error reached from Python with its own class and message."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import pytest
from conftest import VECTORS

import apisig
from apisig import exceptions
from apisig.server import Authenticator

NOW = 1_700_000_000_000_000_000
SIGNER = apisig.Signer(apisig.AEVO, api_key="key", secret=b"secret")


def verifier() -> apisig.Verifier:
    v = apisig.Verifier(capacity=2)
    v.add("key", b"secret")
    return v


# (what is called, the exception, its message, the argument Python names in a note)
WRONG_TYPES: list[tuple[str, Callable[[], Any], type[Exception], str, str | None]] = [
    ("secret as str", lambda: apisig.Signer(apisig.AEVO, api_key="k", secret="s"), TypeError,
     r"expected bytes, not str: encode the text first", "secret"),
    ("secret as list", lambda: apisig.Signer(apisig.AEVO, api_key="k", secret=[1, 2]), TypeError,
     r"expected bytes, bytearray or memoryview, not list", "secret"),
    ("api key as bytes", lambda: apisig.Signer(apisig.AEVO, api_key=b"k", secret=b"s"), TypeError,
     r"'bytes' object is not an instance of 'str'", "api_key"),
    ("scheme by name", lambda: apisig.Signer("aevo", api_key="k", secret=b"s"), TypeError,
     r"not an instance of 'Scheme'", "scheme"),
    ("body as str", lambda: SIGNER.sign("POST", "/", "text"), TypeError, r"encode the text first", "body"),
    ("body as int", lambda: SIGNER.sign("POST", "/", 5), TypeError, r"not int", "body"),
    ("headers as int", lambda: SIGNER.sign("POST", "/", b"", headers=5), TypeError, r"not iterable", None),
    ("negative time", lambda: SIGNER.sign("POST", "/", now=-1), OverflowError, r"negative", "now"),
    ("hmac key as str", lambda: apisig.hmac_sign("k", b"m"), TypeError, r"encode the text first", "key"),
    ("verify body as str", lambda: verifier().verify(apisig.AEVO, "POST", "/", {}, "x"), TypeError,
     r"encode the text first", "body"),
    ("header value as int", lambda: verifier().verify(apisig.AEVO, "POST", "/", {"AEVO-KEY": 5}), TypeError,
     r"header value must be str or bytes", None),
    ("client key as str", lambda: verifier().add("other", "secret"), TypeError, r"encode the text first", "key"),
    ("negative window", lambda: apisig.Verifier(window=-1), OverflowError, r"negative", "window"),
    ("session secret as bytes", lambda: apisig.Verifier(sessions=b"secret"), TypeError,
     r"not an instance of 'SessionKeys'", "sessions"),
    ("jwt secret as bytes", lambda: apisig.Verifier(jwt=b"secret"), TypeError,
     r"not an instance of 'JwtPolicy'", "jwt"),
    ("policy as dict", lambda: apisig.Verifier(policy={"r": ["/x"]}), TypeError,
     r"not an instance of 'Policy'", "policy"),
    ("window twice", lambda: apisig.Verifier(window=30, window_ns=10**9), TypeError,
     r"window \(seconds\) or window_ns \(nanoseconds\), not both", None),
    ("clock as int", lambda: apisig.Verifier(clock=NOW), TypeError,
     r"clock must be a callable returning nanoseconds .*, not int", None),
    ("replay store without claim", lambda: apisig.Verifier(replay_store=object()), TypeError,
     r"replay_store must have a claim\(claim\) method .*, not object", None),
    ("jwt issuer too long", lambda: apisig.JwtPolicy(b"s", issuer="i" * 65), apisig.FieldTooLong,
     r"longer than its fixed capacity", "issuer"),
    ("jwt audience too long", lambda: apisig.JwtPolicy(b"s", audience="a" * 65), apisig.FieldTooLong,
     r"longer than its fixed capacity", "audience"),
    ("jwt secret empty", lambda: apisig.JwtPolicy(b""), apisig.EmptySecret, r"empty", None),
    ("jwt leeway negative", lambda: apisig.JwtPolicy(b"s", leeway=-1), OverflowError, r"negative", "leeway"),
    ("unknown slot", lambda: verifier().set_key("key", "tertiary", b"x"), ValueError,
     r"'primary' or 'secondary'", None),
    ("pin of wrong length", lambda: verifier().pin("key", "ab:cd"), ValueError, r"64 hex digits", None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("what", "call", "exc", "message", "argument"), WRONG_TYPES, ids=[w[0] for w in WRONG_TYPES]
)
def test_wrong_types_name_the_problem(
    what: str, call: Callable[[], Any], exc: type[Exception], message: str, argument: str | None
) -> None:
    with pytest.raises(exc, match=message) as e:
        call()
    if argument is not None:
        assert f"while processing '{argument}'" in getattr(e.value, "__notes__", []), what


def test_every_bytes_like_is_accepted_alike() -> None:
    want = SIGNER.sign("POST", "/orders", b"{}", now=NOW)
    for body in (bytearray(b"{}"), memoryview(b"{}"), memoryview(b"x{}x")[1:3]):
        assert SIGNER.sign("POST", "/orders", body, now=NOW) == want, type(body)


def test_huge_inputs_are_refused_or_handled_never_crash() -> None:
    v = verifier()
    huge = "k" * (1 << 20)
    # A header larger than any key the core holds is simply no registered key.
    with pytest.raises(apisig.UnknownKey):
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": huge})
    with pytest.raises(apisig.FieldTooLong, match="longer than its fixed capacity"):
        v.add(huge, b"secret")
    # Client side, fields stream into the HMAC: a 1 MiB user id is signed, not truncated.
    user = "1" * (1 << 20)
    signed = apisig.Signer(apisig.APEX, api_key="k", secret=b"s", user_id=user).sign("POST", "/", nonce=1)
    assert signed["UserId"] == user
    with pytest.raises(apisig.InvalidTimestamp):
        v.verify(apisig.AEVO, "POST", "/", {"AEVO-KEY": "key", "AEVO-TIMESTAMP": "9" * 4096,
                                              "AEVO-SIGNATURE": "00" * 32}, now=NOW)  # fmt: skip
    with pytest.raises(apisig.TokenTooLong):
        apisig.jwt_verify(b"secret", "e" * (1 << 20), now=NOW)
    # A 64 MiB body is signed and verified in place.
    body = bytes(64 << 20)
    headers = SIGNER.sign("POST", "/orders", body, now=NOW)
    assert v.verify(apisig.AEVO, "POST", "/orders", headers, body, now=NOW).client_id == "key"


class DownStore:
    def claim(self, claim: apisig.ReplayClaim) -> None:
        raise apisig.ReplayStoreUnavailable("the store is down")


def keyring_full() -> None:
    v = apisig.Verifier(capacity=1)
    v.add("a", b"secret-a")
    v.add("b", b"secret-b")


def duplicate_key_id() -> None:
    v = verifier()
    v.add("key", b"another-secret")


def replay_store_unavailable() -> None:
    v = apisig.Verifier(replay_store=DownStore())
    v.add("key", b"secret")
    v.verify(apisig.AEVO, "POST", "/", SIGNER.sign("POST", "/", now=NOW), now=NOW)


def _unreachable_store() -> None:
    """A PostgreSQL store on a port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    apisig.Store.open(f"postgres://a@127.0.0.1:{port}/a?connect_timeout=2", master_key="00" * 32)


def _mistyped_issued_key() -> None:
    """An issued key with one character changed: refused by its checksum, before any lookup."""
    store = apisig.Store.open("sqlite::memory:", master_key="00" * 32)
    store.create_client("c")
    key = store.issue("c")
    typo = key[:20] + ("a" if key[20] != "a" else "b") + key[21:]
    apisig.Verifier(store=store).verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": typo})


def _oidc_down(what: str) -> None:
    """apisig.oidc with a provider that cannot be reached, or that names another issuer."""
    from apisig.oidc import Introspector, OidcVerifier

    def down(url: str) -> tuple[int, dict[str, str], bytes]:
        raise ConnectionRefusedError(url)

    def other(url: str) -> tuple[int, dict[str, str], bytes]:
        return 200, {}, b'{"issuer": "https://other.example"}'

    def inactive(url: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        return 200, b'{"active": false}'

    def refused(url: str, headers: Any, body: bytes) -> tuple[int, bytes]:
        raise ConnectionRefusedError(url)

    iss = "https://op.example"
    if what == "jwks":
        OidcVerifier(iss, "api", fetch=down).verify("a.b.c")
    elif what == "discovery":
        OidcVerifier(iss, "api", fetch=other).verify("a.b.c")
    else:
        post = inactive if what == "inactive" else refused
        Introspector(iss, "rs", "secret", endpoint=iss + "/introspect", post=post).introspect("t")


def _missing_kid() -> None:
    """The vectors' kid-less EdDSA token against a set with two Ed25519 keys."""
    jws = json.loads((VECTORS / "jws.json").read_text(encoding="utf-8"))
    ed = next(k for k in json.loads(jws["jwks"])["keys"] if k.get("kid") == "ed-1")
    keys = apisig.JwkSet(json.dumps({"keys": [ed, dict(ed, kid="ed-2")]}).encode())
    case = next(c for c in jws["tests"] if c["comment"] == "no kid, one key fits")
    iss = case["issuer"]
    keys.verify(case["token"], iss["issuer"], iss["audience"], iss["algorithms"], now=jws["now"] * 10**9)


def _lifecycle(change: Callable[[apisig.Verifier], None], peer: str | None = None) -> None:
    """A static key of a client that `change` revoked, disabled, expired or restricted."""
    v = apisig.Verifier()
    v.add("c", b"static-key")
    change(v)
    v.verify(apisig.SECUROSYS, "GET", "/", {"X-API-KEY": "static-key"}, now=10**18, peer=peer)


# Errors the shared vectors (run by test_vectors.py, test_tokens.py, test_jwks.py) do not reach.
NOT_IN_VECTORS: dict[str, Callable[[], Any]] = {
    "field_too_long": lambda: apisig.Verifier().add("k" * 4096, b"secret"),
    "keyring_full": keyring_full,
    "duplicate_key_id": duplicate_key_id,
    "replay_store_unavailable": replay_store_unavailable,
    "invalid_body": lambda: verifier().verify(
        apisig.APEX, "POST", "/AuthenticateUser", {}, b"[]", json_body=True
    ),
    "missing_kid": _missing_kid,
    "jwks_unavailable": lambda: _oidc_down("jwks"),
    "discovery_mismatch": lambda: _oidc_down("discovery"),
    "token_inactive": lambda: _oidc_down("inactive"),
    "introspection_unavailable": lambda: _oidc_down("introspection"),
    "client_revoked": lambda: _lifecycle(lambda v: v.revoke("c")),
    "client_disabled": lambda: _lifecycle(lambda v: v.disable("c")),
    "key_revoked": lambda: _lifecycle(lambda v: v.revoke_key("c")),
    "key_expired": lambda: _lifecycle(lambda v: v.set_expiry("c", 10**18)),
    "address_not_allowed": lambda: _lifecycle(lambda v: v.set_allowed("c", ["10.0.0.0/8"]), peer="192.0.2.1"),
    "store_unavailable": _unreachable_store,
    "invalid_key_format": _mistyped_issued_key,
    "invalid_forwarded_for": lambda: Authenticator(
        verifier(), [apisig.SIGNIUS], trusted_proxies=["10.0.0.0/8"]
    ).peer("10.0.0.1", [("X-Forwarded-For", b"203.0.113.7:443")]),
}

# Python sizes every output itself: the core's buffer_too_small cannot happen here (C tests it).
# The C face's codes for what Python raises as its own classes: a missing, malformed or wrong
# master key and a store URL it does not open (`MasterKeyError`, `StoreError` from
# `Store.open`), a peer that is no address (`ValueError`); tests/c/bad_input.c reaches them.
UNREACHABLE_FROM_PYTHON = {
    "buffer_too_small",
    "invalid_master_key",
    "wrong_master_key",
    "invalid_store_url",
    "invalid_address",
}


def names_in_vectors() -> set[str]:
    names: set[str] = set()

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for k, x in v.items():
                if k in ("error", "result") and isinstance(x, str):
                    names.add(x)
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    for name in ("sign", "verify", "policy", "jwt", "session", "pins", "ocsp", "jws", "introspection"):
        walk(json.loads((VECTORS / f"{name}.json").read_text(encoding="utf-8")))
    return names


@pytest.mark.parametrize("name", sorted(NOT_IN_VECTORS))
def test_errors_the_vectors_do_not_reach(name: str) -> None:
    cls = next(c for c in exceptions._BY_CODE.values() if c.name == name)
    with pytest.raises(cls) as e:
        NOT_IN_VECTORS[name]()
    assert e.value.name == name and str(e.value)


def test_every_core_error_is_reached_from_python() -> None:
    every = {e.name for e in apisig.error_table()}
    reached = names_in_vectors() | set(NOT_IN_VECTORS)
    assert every - reached - UNREACHABLE_FROM_PYTHON == set()
