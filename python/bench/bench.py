"""The Python face's benchmark (pyperf), each figure against a baseline measured in the same run:

- ``aevo-sign``: ``apisig.Signer.sign`` producing the header dict vs the Aevo document's
  reference code (``time.time_ns()``, f-string, ``hmac.new(...).hexdigest()``, dict), 200-byte body;
- ``apex-sign``: an APEX request signed by ``apisig`` vs ccxt's ``ndax`` client signing the
  equivalent request (its ``sign``: nonce, HMAC, headers);
- ``aevo-verify``: ``apisig.Verifier.verify`` vs the reference's recompute +
  ``hmac.compare_digest``;
- ``aevo-1MiB``, ``aevo-64MiB``: signing and verifying large ``bytes`` bodies (GIL released, no
  copy) vs ``hashlib.sha256`` of the same body;
- ``jws-rs256``, ``jws-es256``, ``jws-eddsa``: an OpenID access token of the shared vectors
  (tests/vectors/jws.json) verified by ``apisig.JwkSet.verify`` (the key by ``kid`` from the
  set parsed once; ``iss``, ``aud``, ``exp``) vs PyJWT (cryptography) doing the same: the
  header read for its ``kid``, the key from a ``PyJWKSet`` parsed once, ``jwt.decode`` with
  issuer, audience and the one algorithm. ``floor/openssl``: the signature alone verified by
  OpenSSL through ``cryptography`` (the key object built once, an ES256 signature already in
  DER), what PyJWT pays for the arithmetic: no verifier of the token can take less than the
  fastest raw verification (this one, or ring's in the Rust benchmark).

  python bench.py -o results.json [pyperf options]   full run (make bench)
  python bench.py -o results.json --only jws-        only the benchmarks named so
  python bench.py --smoke                            check every function once (make test)
  python bench.py --interleaved jws- [SECONDS]       each group's functions in alternating
                                                     batches: ratios a shared machine's load
                                                     cannot skew (every function sees the same
                                                     moments); min and median per call
"""

from __future__ import annotations

import hashlib
import hmac
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import apisig

API_KEY = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le"
API_SECRET = "7f3a9c2e51d84b06a1e5c9d27b3f480e6a2d1c9b8e7f5a3c0d4b6e2f1a9c8d7e"
APEX_USER = "12"
_HEAD = (
    '{"instrument":"ETH-PERP","maker":"0x5a3f","is_buy":true,"amount":"1000000",'
    '"limit_price":"2450500000","salt":"91382","signature":"0x'
)
BODY = _HEAD + "a" * (199 - len(_HEAD)) + "}"
BODY_BYTES = BODY.encode()
assert len(BODY_BYTES) == 200


# The Aevo document's reference code, verbatim but for the constants' names.
def get_headers(path: str, method: str, body: str) -> dict[str, str]:
    timestamp = str(time.time_ns())

    # If the body is empty, it would look like:
    # concat = 'API_KEY,1673425955575713842,GET,/account,'
    concat = f"{API_KEY},{timestamp},{method.upper()},{path},{body}".encode("utf-8")  # noqa: UP012 (verbatim)
    signature = hmac.new(API_SECRET.encode("utf-8"), concat, hashlib.sha256).hexdigest()

    headers = {
        "AEVO-TIMESTAMP": timestamp,
        "AEVO-SIGNATURE": signature,
        "AEVO-KEY": API_KEY,
    }

    return headers


def reference_verify(method: str, path: str, headers: dict[str, str], body: bytes) -> None:
    """What a server would write after the reference: recompute, compare in constant time."""
    concat = b",".join(
        [
            headers["AEVO-KEY"].encode(),
            headers["AEVO-TIMESTAMP"].encode(),
            method.encode(),
            path.encode(),
            body,
        ]
    )
    expected = hmac.new(API_SECRET.encode("utf-8"), concat, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, headers["AEVO-SIGNATURE"]):
        raise ValueError("signature mismatch")


def aevo_signer() -> apisig.Signer:
    return apisig.Signer(apisig.AEVO, api_key=API_KEY, secret=API_SECRET.encode())


def ndax() -> Any:
    import ccxt  # installed with the test dependencies (scripts/py-env.sh)

    return ccxt.ndax(
        {"apiKey": API_KEY, "secret": API_SECRET, "uid": APEX_USER, "login": "x", "password": "x"}
    )


def signed_batch(signer: apisig.Signer, n: int, body: bytes, start: int) -> list[tuple[int, dict[str, str]]]:
    """`n` requests signed at consecutive microseconds (outside any timed part)."""
    return [(start + 1000 * i, signer.sign("POST", "/orders", body, now=start + 1000 * i)) for i in range(n)]


def verify_loop(body: bytes) -> Callable[[int], float]:
    """Times `loops` verifications of fresh requests (a 1 µs window, one request a µs: the
    replay cache recycles expired slots), signing them first, untimed."""
    signer = aevo_signer()
    verifier = apisig.Verifier(window_ns=1000)
    verifier.add(API_KEY, API_SECRET.encode())
    clock = [time.time_ns()]

    def run(loops: int) -> float:
        batch = signed_batch(signer, loops, body, clock[0])
        clock[0] += 1000 * loops
        verify = verifier.verify
        aevo = apisig.AEVO
        t0 = time.perf_counter()
        for ts, headers in batch:
            verify(aevo, "POST", "/orders", headers, body, now=ts)
        return time.perf_counter() - t0

    return run


def reference_verify_loop(body: bytes) -> Callable[[int], float]:
    signer = aevo_signer()

    def run(loops: int) -> float:
        batch = signed_batch(signer, loops, body, time.time_ns())
        t0 = time.perf_counter()
        for _, headers in batch:
            reference_verify("POST", "/orders", headers, body)
        return time.perf_counter() - t0

    return run


JWS = json.loads((Path(__file__).resolve().parents[2] / "tests/vectors/jws.json").read_text())
JWS_CASES = (
    ("jws-rs256", "RS256 access token", "RS256"),
    ("jws-es256", "ES256 access token", "ES256"),
    ("jws-eddsa", "EdDSA access token", "EdDSA"),
)


def jws_pair(comment: str, alg: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """apisig's and PyJWT's verification of one vectors' token, each returning its claims."""
    import jwt as pyjwt

    case = next(t for t in JWS["tests"] if t["comment"] == comment)
    token, iss, aud = case["token"], case["issuer"]["issuer"], case["issuer"]["audience"]
    now = JWS["now"]
    ours = apisig.JwkSet(JWS["jwks"].encode())
    theirs = pyjwt.PyJWKSet.from_json(JWS["jwks"])
    # PyJWT checks exp against the system clock: a leeway reaching back to the vectors' now keeps
    # the same checks (iss, aud, exp) without failing on the clock.
    leeway = int(time.time()) - now + 60

    def apisig_verify() -> Any:
        return ours.verify(token, iss, aud, [alg], now=now * 1_000_000_000)

    def pyjwt_verify() -> Any:
        key = theirs[pyjwt.get_unverified_header(token)["kid"]].key
        return pyjwt.decode(token, key, algorithms=[alg], audience=aud, issuer=iss, leeway=leeway)

    return apisig_verify, pyjwt_verify


def jws_floor(comment: str, alg: str) -> Callable[[], None]:
    """OpenSSL's verification (through cryptography) of one vectors' token's signature alone."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, padding
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    from jwt import PyJWKSet, get_unverified_header

    token = next(t for t in JWS["tests"] if t["comment"] == comment)["token"]
    signing_input, _, sig64 = token.rpartition(".")
    message, sig = signing_input.encode(), base64.urlsafe_b64decode(sig64 + "=" * (-len(sig64) % 4))
    key: Any = PyJWKSet.from_json(JWS["jwks"])[get_unverified_header(token)["kid"]].key
    if alg == "RS256":
        return lambda: key.verify(sig, message, padding.PKCS1v15(), hashes.SHA256())
    if alg == "ES256":
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
        return lambda: key.verify(der, message, ec.ECDSA(hashes.SHA256()))
    return lambda: key.verify(sig, message)


def benchmarks() -> list[tuple[str, Callable[..., Any], tuple[Any, ...], bool]]:
    """(name, function, args, time_func): time_func functions take `loops` and time themselves."""
    signer = aevo_signer()
    apex = apisig.Signer(apisig.APEX, api_key=API_KEY, secret=API_SECRET.encode(), user_id=APEX_USER)
    exchange = ndax()
    out: list[tuple[str, Callable[..., Any], tuple[Any, ...], bool]] = [
        ("aevo-sign/baseline/aevo-reference", get_headers, ("/orders", "POST", BODY), False),
        ("aevo-sign/apisig/sign", signer.sign, ("POST", "/orders", BODY_BYTES), False),
        (
            "apex-sign/baseline/ccxt-ndax",
            exchange.sign,
            ("GetAccountInfo", ["private"], "GET", {"OMSId": 1}),
            False,
        ),
        ("apex-sign/apisig/sign", apex.sign, ("GET", "/AP/GetAccountInfo?OMSId=1"), False),
        ("aevo-verify/baseline/reference-recompute", reference_verify_loop(BODY_BYTES), (), True),
        ("aevo-verify/apisig/verify", verify_loop(BODY_BYTES), (), True),
    ]
    for group, size in (("aevo-1MiB", 1 << 20), ("aevo-64MiB", 64 << 20)):
        big = b"x" * size
        out += [
            (f"{group}/baseline/hashlib-sha256", lambda b=big: hashlib.sha256(b).digest(), (), False),
            (f"{group}/apisig/sign", signer.sign, ("POST", "/orders", big), False),
            (f"{group}/apisig/verify", verify_loop(big), (), True),
        ]
    for group, comment, alg in JWS_CASES:
        ours, theirs = jws_pair(comment, alg)
        out += [
            (f"{group}/baseline/pyjwt", theirs, (), False),
            (f"{group}/apisig/verify", ours, (), False),
            (f"{group}/floor/openssl", jws_floor(comment, alg), (), False),
        ]
    return out


def smoke() -> None:
    """Each benchmarked function once, and the results checked against the reference."""
    signer = aevo_signer()
    ours = signer.sign("POST", "/orders", BODY_BYTES, now=1673425955575713842)
    reference_verify("POST", "/orders", ours, BODY_BYTES)  # the reference accepts ours
    ref = get_headers("/orders", "POST", BODY)
    assert ref == signer.sign("POST", "/orders", BODY_BYTES, now=int(ref["AEVO-TIMESTAMP"])), (
        "differs from reference"
    )
    signed = ndax().sign("GetAccountInfo", ["private"], "GET", {"OMSId": 1})["headers"]
    apex = apisig.Signer(apisig.APEX, api_key=API_KEY, secret=API_SECRET.encode(), user_id=APEX_USER)
    assert apex.sign("GET", "/", nonce=int(signed["Nonce"])) == {k: signed[k] for k in apex.sign("GET", "/")}
    for _, comment, alg in JWS_CASES:
        ours, theirs = jws_pair(comment, alg)
        mine, pyjwt_claims = ours(), theirs()
        assert (mine["client_id"], mine["aud"]) == (pyjwt_claims["client_id"], [pyjwt_claims["aud"]]), alg
        jws_floor(comment, alg)()  # raises InvalidSignature unless OpenSSL accepts the signature
    for _, func, args, time_func in benchmarks():
        func(2) if time_func else func(*args)
    print("python bench: smoke run ok", file=sys.stderr)


def interleaved(prefix: str, seconds: float) -> None:
    """Prints, per group, each function's per-call time (min and median of ~1 ms batches taken
    in turn for `seconds`), and its ratio to the group's first function (the baseline)."""
    groups: dict[str, list[tuple[str, Callable[..., Any], tuple[Any, ...]]]] = {}
    for name, func, args, time_func in benchmarks():
        if not time_func and name.startswith(prefix):
            groups.setdefault(name.split("/")[0], []).append((name, func, args))
    for funcs in groups.values():
        batch = {}
        for name, func, args in funcs:  # calls per batch: about 1 ms
            t0 = time.perf_counter()
            func(*args)
            batch[name] = max(1, int(1e-3 / max(time.perf_counter() - t0, 1e-7)))
        per_call: dict[str, list[float]] = {name: [] for name, _, _ in funcs}
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            for name, func, args in funcs:
                n = batch[name]
                t0 = time.perf_counter_ns()
                for _ in range(n):
                    func(*args)
                per_call[name].append((time.perf_counter_ns() - t0) / n)
        base = funcs[0][0]
        for name, _, _ in funcs:
            lo, mid = min(per_call[name]), statistics.median(per_call[name])
            ratio = f"{min(per_call[base]) / lo:5.2f}x {statistics.median(per_call[base]) / mid:5.2f}x"
            print(f"{name:32} min {lo / 1e3:8.2f} us  median {mid / 1e3:8.2f} us  {base} / this: {ratio}")


def main() -> None:
    if "--smoke" in sys.argv:
        smoke()
        return
    if "--interleaved" in sys.argv:
        rest = sys.argv[sys.argv.index("--interleaved") + 1 :]
        interleaved(rest[0] if rest else "", float(rest[1]) if len(rest) > 1 else 10.0)
        return
    import pyperf  # installed by scripts/bench-py.sh, only for full runs

    def worker_args(cmd: list[str], args: Any) -> None:
        cmd.extend(("--only", args.only))

    runner = pyperf.Runner(add_cmdline_args=worker_args)
    runner.argparser.add_argument("--only", default="", help="run only the benchmarks whose names start so")
    only = runner.parse_args().only
    runner.metadata["apisig_bench"] = json.dumps({"body_bytes": len(BODY_BYTES)})
    for name, func, args, time_func in benchmarks():
        if not name.startswith(only):
            continue
        if time_func:
            runner.bench_time_func(name, func)
        else:
            runner.bench_func(name, func, *args)


if __name__ == "__main__":
    main()
