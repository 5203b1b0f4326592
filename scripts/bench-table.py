#!/usr/bin/env python3
"""Prints one table of the benchmark figures of `make bench`, each as a ratio against a baseline
measured in the same run, with the issue-6 target beside it.

Reads (whichever exist):
  target/criterion/<group>/<bench>/new/{benchmark,estimates}.json   Rust (criterion; the ffi-200B
                                                                    group calls the C ABI in process)
  target/bench/c.jsonl                                              C (bench/c/bench.c)
  target/bench/python.json                                          Python (pyperf)
  target/bench/store-scale.json                                     store/benches/stores.rs, interleaved pass
Every figure is a median (criterion's, of the C harness's rounds, of pyperf's values).
docs/benchmarks.md shows the --markdown table of one run, with the machine it ran on.

  scripts/bench-table.py [--markdown] [ROOT]
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

args = [a for a in sys.argv[1:] if not a.startswith("--")]
markdown = "--markdown" in sys.argv
root = Path(args[0] if args else "target")


def rust() -> dict[str, float]:
    out: dict[str, float] = {}
    base = root / "criterion"
    if not base.is_dir():
        return out
    for est in base.glob("**/new/estimates.json"):
        meta = json.loads((est.parent / "benchmark.json").read_text())
        out[f"{meta['group_id']}/{meta['function_id']}"] = json.loads(est.read_text())["median"]["point_estimate"]
    return out


def c() -> dict[str, float]:
    path = root / "bench" / "c.jsonl"
    if not path.is_file():
        return {}
    rows = (json.loads(line) for line in path.read_text().splitlines() if line.startswith("{"))
    return {r["name"]: r["ns"] for r in rows}


def python() -> dict[str, float]:
    path = root / "bench" / "python.json"
    if not path.is_file():
        return {}
    out = {}
    for b in json.loads(path.read_text())["benchmarks"]:
        values = [v for run in b["runs"] for v in run.get("values", [])]
        if values:
            out[b["metadata"]["name"]] = statistics.median(values) * 1e9
    return out


def store_scale() -> dict[str, float]:
    path = root / "bench" / "store-scale.json"
    if not path.is_file():
        return {}
    return {k: v["min"] for k, v in json.loads(path.read_text()).items()}


R, C, P, S = rust(), c(), python(), store_scale()
if not (R or C or P):
    sys.exit(f"no benchmark results under {root}")

# (face, what, measured, baseline, how: "x" time ratio (lower is better) | "faster" baseline/measured
#  (higher is better) | "thrpt" throughput share (higher is better) | "over" measured − baseline
#  (info) | "per-byte", target)
rows: list[tuple[str, str, float | None, str, float | None, str, float]] = []


def add(face, what, m, bname, b, how, target):
    rows.append((face, what, m, bname, b, how, target))


for g in ("aevo-200B",):
    for op, target in (("sign", 1.10), ("verify", 1.20)):
        m = R.get(f"{g}/apisig/{op}")
        add("Rust", f"{op}, Aevo 200 B body", m, "RustCrypto hmac, precomputed key", R.get(f"{g}/baseline/rustcrypto-hmac-precomputed"), "x", target)
    add("Rust", "verify, scheme prepared at run time (info)", R.get(f"{g}/apisig/verify-prepared"), "RustCrypto hmac, precomputed key", R.get(f"{g}/baseline/rustcrypto-hmac-precomputed"), "x", 0)
    add("Rust", "sign, Aevo 200 B body", R.get(f"{g}/apisig/sign"), "ring hmac, precomputed key", R.get(f"{g}/baseline/ring-precomputed"), "x", 1.00)
    add("Rust", "sign, Aevo 200 B body", R.get(f"{g}/apisig/sign"), "RustCrypto hmac, new key (info)", R.get(f"{g}/baseline/rustcrypto-hmac-new-key"), "x", 0)
    # The floor: a single-purpose Aevo signer (no checks, no header set) over the same compressions.
    add("Rust", "the floor: single-purpose Aevo signer (info)", R.get(f"{g}/floor/sign"), "RustCrypto hmac, precomputed key", R.get(f"{g}/baseline/rustcrypto-hmac-precomputed"), "x", 0)
    # Issue 18: sign and verify within a margin of the floor, measured in the same run.
    for op, target in (("sign", 1.10), ("verify", 1.30)):
        add("Rust", f"{op}, Aevo 200 B body", R.get(f"{g}/apisig/{op}"), "the floor: single-purpose signer", R.get(f"{g}/floor/sign"), "x", target)
    # "Faster than anything its users would write by hand": the Aevo example in Rust as it reads.
    for op in ("sign", "verify"):
        add("Rust", f"{op}, Aevo 200 B body", R.get(f"{g}/apisig/{op}"), f"the same {op} by hand (hmac, hex, format!)", R.get(f"{g}/by-hand/{op}"), "faster", 1)
    add("Rust", "MacKey::sign alone, same message", R.get(f"{g}/apisig/mac"), "RustCrypto hmac, precomputed key (info)", R.get(f"{g}/baseline/rustcrypto-hmac-precomputed"), "x", 0)
for g, label in (("aevo-1MiB", "1 MiB"), ("aevo-64MiB", "64 MiB")):
    for op in ("sign", "verify"):
        add("Rust", f"{op}, {label} body", R.get(f"{g}/apisig/{op}"), "SHA-256 (sha2) of the body", R.get(f"{g}/baseline/sha256"), "thrpt", 0.97)
add("Rust", "keyring lookup, 65,536 clients", R.get("keyring-find/apisig/65536-clients"), "the same at 64 clients", R.get("keyring-find/baseline/64-clients"), "x", 1.5)
add("Rust", "static-key lookup, 65,536 clients", R.get("keyring-static-key/apisig/65536-clients"), "the same at 64 clients", R.get("keyring-static-key/baseline/64-clients"), "x", 1.3)
# Issue 19: clients in a store (apisig-store's benches/stores.rs).
add("Rust", "verify (Aevo), 10^6 clients in memory", R.get("store-verify/apisig/1M-clients"), "the same at 64 clients", R.get("store-verify/baseline/64-clients"), "x", 1.3)
add("Rust", "static-key verify (SIGNIUS), 10^6 clients", R.get("store-static/apisig/1M-clients"), "the same at 64 clients", R.get("store-static/baseline/64-clients"), "x", 1.3)
# The DRAM floor of the same run (store/benches/common/floor.rs): a bare hash map to boxed blocks of
# a client's size, the same access pattern, the lines a verification needs read. No heap store
# grows less from 64 clients to 10^6 (cache and TLB misses); apisig's growth is held against it.
# The growths are of the bench's interleaved pass (target/bench/store-scale.json, fastest chunks:
# the four figures of a comparison see the same load), else of criterion's medians.
for g, label in (("store-verify", "verify (Aevo)"), ("store-static", "static-key verify (SIGNIUS)")):
    add("Rust", f"the floor of {label}, 10^6 clients (info)", R.get(f"{g}/floor/1M-clients"), "the floor at 64 clients", R.get(f"{g}/floor/64-clients"), "x", 0)
    fig = {k: S.get(f"{g}/{k}") for k in ("apisig/64-clients", "apisig/1M-clients", "floor/64-clients", "floor/1M-clients")}
    how = "interleaved"
    if None in fig.values():
        fig = {k: R.get(f"{g}/{k.replace('apisig/64', 'baseline/64')}") for k in fig}
        how = "criterion"
    if None in fig.values():
        continue
    a64, a1m, f64, f1m = fig.values()
    if how == "interleaved":
        add("Rust", f"{label}, 10^6 clients vs 64 ({how}; info)", a1m, "the same at 64 clients", a64, "x", 0)
    add("Rust", f"{label}: growth from 64 to 10^6 clients ({how})", a1m - a64, "the floor's growth", f1m - f64, "x", 1.3)
    add("Rust", f"{label}: growth beyond the floor's ({how}; info)", a1m - a64, "the floor's growth", f1m - f64, "over", 0)
add("Rust", "verify (Aevo) through a warm cache (SQLite)", R.get("store-cache/apisig/warm-cache"), "the same client in memory", R.get("store-cache/baseline/memory"), "x", 1.2)
add("Rust", "cold miss: client loaded from SQLite (info)", R.get("store-cold/apisig/sqlite-miss"), "warm cache hit", R.get("store-cold/baseline/warm-cache"), "x", 0)
add("Rust", "cold miss: client loaded from PostgreSQL (info)", R.get("store-cold/apisig/postgres-miss"), "warm cache hit", R.get("store-cold/baseline/warm-cache"), "x", 0)
add("Rust", "replay check-and-insert, 65,536 entries", R.get("replay-insert/apisig/65536-entries"), "the same at 64 entries", R.get("replay-insert/baseline/64-entries"), "x", 1.5)
for label, size in (("4 KiB", 4), ("16 KiB", 16)):
    m, b = R.get(f"policy-hostile/apisig/path-{size}KiB"), R.get("policy-hostile/baseline/path-1KiB")
    add("Rust", f"hostile policy match, {label} path (time ÷ {size})", m, "the same, 1 KiB path", b * size if b else None, "x", 1.5)

# Issue 20: access-token verification not slower than jsonwebtoken (same crates underneath).
# apisig/verify is the host build (the core's `ring` feature); apisig-rustcrypto/verify the
# same without it (firmware's arithmetic); floor/*: the token's signature alone.
JWS = (("jws-rs256", "RS256"), ("jws-es256", "ES256"), ("jws-eddsa", "EdDSA"))
for g, label in JWS:
    add("Rust", f"{label} access token verify (JWK set, iss, aud, exp)", R.get(f"{g}/apisig/verify"), "jsonwebtoken (rust_crypto)", R.get(f"{g}/baseline/jsonwebtoken"), "x", 1.0)
    add("Rust", f"{label} verify, RustCrypto arithmetic (info)", R.get(f"{g}/apisig-rustcrypto/verify"), "jsonwebtoken (rust_crypto)", R.get(f"{g}/baseline/jsonwebtoken"), "x", 0)
    rust_floors = [f for f in (R.get(f"{g}/floor/ring"), R.get(f"{g}/floor/rustcrypto")) if f]
    add("Rust", f"{label} verify, above the floor (info)", R.get(f"{g}/apisig/verify"), "the faster raw verify (ring, RustCrypto)", min(rust_floors) if rust_floors else None, "x", 0)
    add("Rust", f"{label} the floor: ring, signature alone (info)", R.get(f"{g}/floor/ring"), "RustCrypto, signature alone", R.get(f"{g}/floor/rustcrypto"), "x", 0)

add("C", "apisig_signer_sign, Aevo 200 B body (FFI)", R.get("ffi-200B/apisig/ffi-signer-sign"), "the core's Signer::sign, same process", R.get("ffi-200B/baseline/core-sign"), "x", 1.05)
add("C", "apisig_signer_sign from C, Aevo 200 B body", C.get("aevo-200B/apisig/sign"), "the Rust core's sign (criterion, info)", R.get("aevo-200B/apisig/sign"), "x", 0)
add("C", "apisig_signer_sign, Aevo 200 B body (FFI)", C.get("aevo-200B/apisig/sign"), "OpenSSL HMAC, precomputed key (info)", C.get("aevo-200B/baseline/openssl-hmac-precomputed"), "x", 0)
add("C", "apisig_signer_sign, Aevo 200 B body (FFI)", C.get("aevo-200B/apisig/sign"), "the same sign by hand (OpenSSL, snprintf)", C.get("aevo-200B/by-hand/sign"), "faster", 1)
add("C", "stateless apisig_sign, Aevo 200 B (FFI)", C.get("aevo-200B/apisig/sign-stateless"), "apisig_signer_sign (info)", C.get("aevo-200B/apisig/sign"), "x", 0)
add("C", "verify, Aevo 200 B body (FFI)", C.get("aevo-200B/apisig/verify"), "the Rust core's verify (criterion, info)", R.get("aevo-200B/apisig/verify"), "x", 0)
add("C", "verify, Aevo 200 B body (FFI)", C.get("aevo-200B/apisig/verify"), "the same verify by hand (OpenSSL, strtoull)", C.get("aevo-200B/by-hand/verify"), "faster", 1)
for g, label in (("aevo-1MiB", "1 MiB"), ("aevo-64MiB", "64 MiB")):
    for op in ("sign", "verify"):
        add("C", f"{op}, {label} body", C.get(f"{g}/apisig/{op}"), "OpenSSL SHA256() of the body", C.get(f"{g}/baseline/openssl-sha256"), "thrpt", 0.97)

add("Python", "sign → header dict, Aevo 200 B", P.get("aevo-sign/apisig/sign"), "Aevo document's reference code", P.get("aevo-sign/baseline/aevo-reference"), "faster", 4)
add("Python", "sign → header dict, APEX", P.get("apex-sign/apisig/sign"), "ccxt ndax sign, same request", P.get("apex-sign/baseline/ccxt-ndax"), "faster", 5)
add("Python", "verify, Aevo 200 B", P.get("aevo-verify/apisig/verify"), "reference recompute + compare_digest", P.get("aevo-verify/baseline/reference-recompute"), "faster", 4)
for g, label in (("aevo-1MiB", "1 MiB"), ("aevo-64MiB", "64 MiB")):
    for op in ("sign", "verify"):
        add("Python", f"{op}, {label} body", P.get(f"{g}/apisig/{op}"), "hashlib.sha256 of the body", P.get(f"{g}/baseline/hashlib-sha256"), "thrpt", 0.97)
# Issue 20: access-token verification at least 3x PyJWT (cryptography). PyJWT's time is
# OpenSSL's verification plus Python's work, and no verifier takes less than the fastest raw
# verification (OpenSSL through cryptography, measured here; ring or RustCrypto, the Rust
# run's floors), so PyJWT / that floor is the ceiling of the ratio. For ES256 it is under 3x (docs/benchmarks.md):
# the row with target 2 is the proposed restatement. `python bench.py --interleaved jws-` gives
# the same ratios measured in alternation, which a loaded machine skews less.
for g, label in JWS:
    pyjwt, ours, openssl = P.get(f"{g}/baseline/pyjwt"), P.get(f"{g}/apisig/verify"), P.get(f"{g}/floor/openssl")
    floors = [f for f in (openssl, R.get(f"{g}/floor/ring"), R.get(f"{g}/floor/rustcrypto")) if f]
    add("Python", f"{label} access token verify (JWK set, iss, aud, exp)", ours, "PyJWT (cryptography), key by kid", pyjwt, "faster", 3)
    if label == "ES256":
        add("Python", f"{label} access token verify (proposed target)", ours, "PyJWT (cryptography), key by kid", pyjwt, "faster", 2)
    add("Python", f"{label} PyJWT's arithmetic alone (info)", openssl, "PyJWT (cryptography), key by kid", pyjwt, "faster", 0)
    add("Python", f"{label} ceiling: fastest raw verify (info)", min(floors) if floors else None, "PyJWT (cryptography), key by kid", pyjwt, "faster", 0)
    add("Python", f"{label} verify vs OpenSSL's raw verify (info)", ours, "OpenSSL (cryptography), signature alone", openssl, "x", 0)

def fmt_time(ns: float | None) -> str:
    if ns is None:
        return "—"
    for unit, scale in (("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.1f} ns"


table = []
for face, what, m, bname, b, how, target in rows:
    if m is None or b is None:
        continue
    if how == "x":
        value, shown, goal, ok = m / b, f"{m / b:.2f}×", f"≤ {target:.2f}×", m / b <= target
    elif how == "faster":
        value, shown, goal, ok = b / m, f"{b / m:.1f}× faster", f"≥ {target}×", b / m >= target
    elif how == "over":
        value, shown, goal, ok = m - b, ("+" if m >= b else "−") + fmt_time(abs(m - b)), "", True
    else:
        value, shown, goal, ok = b / m, f"{100 * b / m:.1f}% of SHA-256", f"≥ {100 * target:.0f}%", b / m >= target
    met = "info" if target == 0 else ("yes" if ok else "NO")
    if target == 0:
        goal = ""
    table.append((face, what, fmt_time(m), bname, fmt_time(b), shown, goal, met))

memory = root / "bench" / "store-memory.txt"
if memory.is_file():
    table.append(("Rust", "memory per client, 10^6 clients in memory", memory.read_text().strip() + " B", "", "", "", "", "info"))

head = ("face", "benchmark", "time", "baseline (same run)", "baseline time", "ratio", "target", "met")
if markdown:
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in table:
        print("| " + " | ".join(r) + " |")
else:
    widths = [max(len(str(r[i])) for r in [head, *table]) for i in range(len(head))]
    for r in [head, *table]:
        print("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip())
