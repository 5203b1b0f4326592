"""The shared asymmetric JWS vectors (tests/vectors/jws.json, from the cryptography oracle)
through the Python face: RFC known answers, the attack table, JWK set parsing."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import load_vectors

import apisig
from apisig import JwkSet

FILE = load_vectors("jws.json")
NOW_NS = FILE["now"] * 1_000_000_000
SET = JwkSet(FILE["jwks"].encode())


def _error_name(exc: BaseException) -> str:
    return str(getattr(exc, "name", ""))


def _cases(kind: str) -> list[dict[str, Any]]:
    return [c for c in FILE["tests"] if c["kind"] == kind]


@pytest.mark.parametrize("case", _cases("token"), ids=lambda c: f"{c['tcId']}-{c['comment']}")
def test_token(case: dict[str, Any]) -> None:
    iss = case["issuer"]
    args = (case["token"], iss["issuer"], iss["audience"], iss["algorithms"])
    kw: dict[str, Any] = {
        "leeway_s": iss["leeway_s"],
        "strict": iss["strict"],
        "max_len": iss["max_len"],
        "now": NOW_NS,
    }
    if case["result"] == "valid":
        claims = SET.verify(*args, **kw)
        assert {k: claims[k] for k in ("sub", "client_id", "scope")} == case["claims"]
    else:
        with pytest.raises(apisig.ApisigError) as err:
            SET.verify(*args, **kw)
        assert _error_name(err.value) == case["error"]


@pytest.mark.parametrize("case", _cases("jwks"), ids=lambda c: f"{c['tcId']}-{c['comment']}")
def test_jwks(case: dict[str, Any]) -> None:
    if case["result"] == "valid":
        assert JwkSet(case["jwks"].encode()).kids == case["kids"]
    else:
        with pytest.raises(apisig.ApisigError) as err:
            JwkSet(case["jwks"].encode())
        assert _error_name(err.value) == case["error"]


def test_rfc_keys_load() -> None:
    # The signature-level RFC cases are run by the Rust suite; here each RFC key loads.
    for case in _cases("rfc"):
        assert len(JwkSet(case["jwks"].encode())) == 1


def test_unknown_algorithm_name_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown algorithm"):
        SET.verify("a.b.c", "i", "a", ["HS512"], now=NOW_NS)
