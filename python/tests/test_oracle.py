"""Cross-checks against independent implementations: Python's hmac as an oracle for every
signing preset and for user-defined schemes, and the Aevo document's own reference code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import random
import re
import string
from pathlib import Path
from typing import Any

import pytest

import apisig

RNG_SEED = 20240611
TOKEN_CHARS = string.ascii_letters + string.digits + "-_"


def rand_text(rng: random.Random, lo: int, hi: int, alphabet: str = TOKEN_CHARS) -> str:
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(lo, hi)))


def rand_body(rng: random.Random) -> bytes:
    size = rng.choice([0, 1, 17, 2047, 2048, 5000, rng.randint(0, 300)])
    return bytes(rng.getrandbits(8) for _ in range(size))


def oracle(secret: bytes, message: bytes) -> bytes:
    return hmac.new(secret, message, hashlib.sha256).digest()


def test_aevo_against_hmac() -> None:
    rng = random.Random(RNG_SEED)
    for _ in range(300):
        key, secret = rand_text(rng, 1, 40), rand_text(rng, 1, 64).encode()
        method = rng.choice(["get", "GET", "Post", "DELETE", "patch"])
        path = "/" + rand_text(rng, 0, 30, TOKEN_CHARS + "/?=&.%")
        body = rand_body(rng)
        now = rng.randrange(0, 2**64)
        got = apisig.Signer(apisig.AEVO, api_key=key, secret=secret).sign(method, path, body, now=now)
        msg = f"{key},{now},{method.upper()},{path},".encode() + body
        assert got == {
            "AEVO-TIMESTAMP": str(now),
            "AEVO-SIGNATURE": oracle(secret, msg).hex(),
            "AEVO-KEY": key,
        }


def test_apex_against_hmac() -> None:
    rng = random.Random(RNG_SEED + 1)
    for _ in range(300):
        key, secret, uid = rand_text(rng, 1, 40), rand_text(rng, 1, 64).encode(), rand_text(rng, 1, 10)
        nonce = rng.randrange(0, 2**64)
        signer = apisig.Signer(apisig.APEX, api_key=key, secret=secret, user_id=uid)
        got = signer.sign("POST", "/AuthenticateUser", nonce=nonce)
        sig = oracle(secret, f"{nonce}{uid}{key}".encode()).hex()
        assert got == {"APIKey": key, "Signature": sig, "UserId": uid, "Nonce": str(nonce)}


def test_user_defined_schemes_against_hmac() -> None:
    rng = random.Random(RNG_SEED + 2)
    coinbase = apisig.Scheme(
        "coinbase-style",
        [("CB-ACCESS-KEY", "api_key"), ("CB-ACCESS-SIGN", "signature"), ("CB-ACCESS-TIMESTAMP", "timestamp")],
        parts=["timestamp", "method", "path", "body"],
        encoding="base64",
        time_unit="s",
    )
    webhook = apisig.Scheme(
        "webhook-style",
        [("Webhook-Timestamp", "timestamp"), ("Webhook-Signature", "signature", "v1=")],
        parts=[{"literal": "v1"}, {"header": "Webhook-Id"}, "timestamp", "body"],
        separator=".",
        encoding="upper_hex",
        time_unit="ms",
    )
    for _ in range(200):
        secret = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 100)))
        key = rand_text(rng, 1, 30)
        body = rand_body(rng)
        now = rng.randrange(0, 2**63)
        path = "/" + rand_text(rng, 0, 20)
        got = apisig.Signer(coinbase, api_key=key, secret=secret).sign("get", path, body, now=now)
        ts = now // 10**9
        sig = base64.b64encode(oracle(secret, f"{ts}GET{path}".encode() + body)).decode()
        assert got == {"CB-ACCESS-KEY": key, "CB-ACCESS-SIGN": sig, "CB-ACCESS-TIMESTAMP": str(ts)}

        msg_id = "msg_" + rand_text(rng, 1, 20)
        got = apisig.Signer(webhook, secret=secret).sign(
            "POST", "/hook", body, {"Webhook-Id": msg_id}, now=now
        )
        ms = now // 10**6
        sig = oracle(secret, f"v1.{msg_id}.{ms}.".encode() + body).hex().upper()
        assert got == {"Webhook-Timestamp": str(ms), "Webhook-Signature": "v1=" + sig}


def test_static_schemes_send_the_key_as_is() -> None:
    for scheme, name in [
        (apisig.SIGNIUS, "X-Api-Key"),
        (apisig.SECUROSYS, "X-API-KEY"),
        (apisig.ZIGNSEC, "Zs-Product-Key"),
        (apisig.ZIGNSEC_LEGACY, "Authorization"),
    ]:
        assert apisig.Signer(scheme, api_key="k-123").sign("GET", "/x") == {name: "k-123"}
    assert apisig.Signer(apisig.SECUROSYS_JWT, token="a.b.c").sign("GET", "/x") == {
        "Authorization": "Bearer a.b.c"
    }
    assert apisig.Signer(apisig.APEX_SESSION, token="tok").sign("GET", "/x") == {"aptoken": "tok"}
    assert apisig.Signer(apisig.AEVO_SECRET, api_key="K", secret=b"S").sign("GET", "/x") == {
        "AEVO-KEY": "K",
        "AEVO-SECRET": "S",
    }


def test_hmac_functions_match_hmac_module() -> None:
    rng = random.Random(RNG_SEED + 3)
    for _ in range(100):
        key = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 200)))
        msg = rand_body(rng)
        tag = apisig.hmac_sign(key, msg)
        assert tag == oracle(key, msg)
        apisig.hmac_verify(key, msg, tag)
        with pytest.raises(apisig.SignatureMismatch):
            apisig.hmac_verify(key, msg + b"x", tag)


# ---- the Aevo document's reference code --------------------------------------------------------

# Verbatim from seeds/aevo-authentication.md ("Code Example"); checked against the seed below
# when the seeds are beside the repository.
AEVO_REFERENCE = """
def get_headers(path, method, body):
    timestamp = str(time.time_ns())

    # If the body is empty, it would look like:
    # concat = 'API_KEY,1673425955575713842,GET,/account,'
    concat = f"{API_KEY},{timestamp},{method.upper()},{path},{body}".encode("utf-8")
    signature = hmac.new(API_SECRET.encode("utf-8"), concat, hashlib.sha256).hexdigest()

    headers = {
        "AEVO-TIMESTAMP": timestamp,
        "AEVO-SIGNATURE": signature,
        "AEVO-KEY": API_KEY,
    }

    return headers
"""


def seeds_dir() -> Path:
    default = Path(__file__).resolve().parents[3] / "shared" / "seeds"
    return Path(os.environ.get("APISIG_SEEDS", default))


def test_reference_code_is_the_documents() -> None:
    seed = seeds_dir() / "aevo-authentication.md"
    if not seed.exists():
        pytest.skip(f"{seed} not present")
    text = seed.read_text(encoding="utf-8")
    found = re.search(r"\ndef get_headers\(.*?\n    return headers\n", text, re.S)
    assert found is not None
    assert found.group(0) == AEVO_REFERENCE


class FixedClock:
    def __init__(self, ns: int) -> None:
        self.ns = ns

    def time_ns(self) -> int:
        return self.ns


@pytest.mark.parametrize(
    ("path", "method", "body"),
    [
        ("/account", "GET", ""),
        ("/api-key", "POST", '{"name": "My API key"}'),
        ("/orders?limit=10&cursor=a%2Cb", "get", ""),
        ("/orders", "delete", '{"ids": [1, 2, 3], "note": "a,b,c"}'),
        ("/x", "PUT", "é ü — unicode body"),
    ],
)
def test_aevo_reference_code_gives_identical_headers(path: str, method: str, body: str) -> None:
    for key, secret, now in [("API_KEY", "API_SECRET", 1673425955575713842), ("k-9", "s3cr3t,x", 1)]:
        namespace: dict[str, Any] = {
            "API_KEY": key,
            "API_SECRET": secret,
            "time": FixedClock(now),
            "hmac": hmac,
            "hashlib": hashlib,
        }
        exec(AEVO_REFERENCE, namespace)
        want = namespace["get_headers"](path, method, body)
        signer = apisig.Signer(apisig.AEVO, api_key=key, secret=secret.encode(), clock=lambda now=now: now)
        got = signer.sign(method, path, body.encode())
        assert list(got.items()) == list(want.items())


def test_aevo_worked_example() -> None:
    signer = apisig.Signer(apisig.AEVO, api_key="API_KEY", secret=b"API_SECRET")
    msg = signer.message("GET", "/account", now=1673425955575713842)
    assert msg == b"API_KEY,1673425955575713842,GET,/account,"
