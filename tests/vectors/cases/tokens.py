"""Shared by the token files (jwt.json, session.json, pins.json): key fields and
non-canonical base64url variants."""

from __future__ import annotations

from oracles.base64url import B64URL_ALPHABET
from oracles.common import VectorError

from .common import check_faults


def check_one(faults: list, expect: str, where: str) -> None:
    """check_faults for the token references, which list every failed check: every
    failed check must give the declared error (so their order cannot matter)."""
    check_faults(set(faults), expect, where)


def key_field(key, key_hex) -> dict:
    return {"key_hex": key_hex} if key_hex is not None else {"key": key}


def key_bytes(key, key_hex) -> bytes:
    return bytes.fromhex(key_hex) if key_hex is not None else key.encode("utf-8")


def b64_padded(text: str) -> str:
    if len(text) % 4 == 0:
        raise VectorError(f"{text!r} needs no padding")
    return text + "=" * (-len(text) % 4)


def b64_std_alphabet(text: str) -> str:
    if "-" not in text and "_" not in text:
        raise VectorError(f"{text!r} has no '-' or '_' to swap")
    return text.replace("-", "+").replace("_", "/")


def b64_unused_bits(text: str) -> str:
    """The same bytes with the lowest unused trailing bit set (a non-canonical text that
    lenient decoders read as the same bytes)."""
    if len(text) % 4 not in (2, 3):
        raise VectorError(f"{text!r} has no unused bits")
    last = B64URL_ALPHABET.index(text[-1])
    return text[:-1] + B64URL_ALPHABET[last | 1]


def b64_length_1_mod_4(text: str) -> str:
    return text + "A" * ((1 - len(text)) % 4 or 4)


def b64_with_space(text: str) -> str:
    return text[: len(text) // 2] + " " + text[len(text) // 2:]


def first_matching(make, predicate, what: str):
    """The first of make(0), make(1), ... that satisfies predicate (deterministic)."""
    for i in range(10_000):
        candidate = make(i)
        if predicate(candidate):
            return candidate
    raise VectorError(f"no candidate for {what}")
