"""Builds every file, checks its structure, and writes it (or, with --check, compares)."""

from __future__ import annotations

import json
import sys

from oracles.common import ERRORS, VECTORS_DIR, OracleError, VectorError
from oracles.policy import load_roles

from .common import write_json
from .introspect import build_introspect
from .jws import build_jws
from .jwt import build_jwt, pyjwt_interop
from .pins import build_pins, regen_certs
from .policy import build_policy
from .rfc4231 import build_rfc4231
from .session import build_session
from .sign import build_sign
from .verify import build_verify

CASE_LISTS = ("tests", "pattern_tests", "encode", "issue")


def validate_file(name: str, obj: dict) -> None:
    """Structural checks every file must pass before it is written."""
    lists = [obj[key] for key in CASE_LISTS if key in obj]
    ids = [t["tcId"] for lst in lists for t in lst]
    if ids != list(range(1, len(ids) + 1)):
        raise VectorError(f"{name}: tcIds are not 1..n")
    for lst in lists:
        for t in lst:
            if not t.get("comment"):
                raise VectorError(f"{name} tcId {t['tcId']}: missing comment")
            results = [t] if "result" in t else t["steps"]
            for r in results:
                if r["result"] == "invalid" and r.get("error") not in ERRORS:
                    raise VectorError(f"{name} tcId {t['tcId']}: bad error")
                if r["result"] not in ("valid", "invalid"):
                    raise VectorError(f"{name} tcId {t['tcId']}: bad result")
    text = write_json(obj)
    if json.loads(text) != obj:
        raise VectorError(f"{name}: JSON does not round-trip")


def build_all(pyjwt_strict: bool = False) -> dict:
    roles = load_roles()
    jwt_file, jwt_book = build_jwt()
    files = {
        "hmac_sha256_rfc4231.json": build_rfc4231(),
        "sign.json": build_sign(),
        "verify.json": build_verify(roles),
        "policy.json": build_policy(roles),
        "jwt.json": jwt_file,
        "session.json": build_session(),
        "pins.json": build_pins(),
        "jws.json": build_jws(),
        "introspection.json": build_introspect(),
    }
    pyjwt_interop(jwt_book, pyjwt_strict)
    for name, obj in files.items():
        validate_file(name, obj)
    return {name: write_json(obj) for name, obj in files.items()}


def count_cases(text: str) -> str:
    obj = json.loads(text)
    n = sum(len(obj.get(key, [])) for key in CASE_LISTS)
    steps = sum(len(t.get("steps", [])) for t in obj["tests"])
    return f"{n} cases" + (f", {steps} steps" if steps else "")


def main(argv: list) -> int:
    flags = set(argv[1:])
    check, regen = "--check" in flags, "--regen-certs" in flags
    unknown = flags - {"--check", "--pyjwt", "--regen-certs"}
    if unknown or (check and regen):
        print(f"usage: {argv[0]} [--check | --regen-certs] [--pyjwt]", file=sys.stderr)
        return 2
    try:
        if regen:
            regen_certs()
        outputs = build_all(pyjwt_strict="--pyjwt" in flags)
    except OracleError as err:
        print(f"generate.py: {err}", file=sys.stderr)
        return 1
    stale = []
    for name, text in outputs.items():
        path = VECTORS_DIR / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            print(f"{name}: up to date ({count_cases(text)})")
            continue
        if check:
            stale.append(name)
            print(f"{name}: STALE (differs from what generate.py produces)", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: written ({count_cases(text)})")
    if stale:
        print("run: python3 tests/vectors/generate.py", file=sys.stderr)
        return 1
    return 0
