"""HMAC-SHA256, the primitive under every signature: Python's ``hmac`` module and a
hand-written RFC 2104 construction over ``hashlib.sha256`` that must agree; and the tag
encodings (``bytes.hex``, ``base64``)."""

from __future__ import annotations

import base64
import hashlib
import hmac

from .common import VectorError


def hmac_sha256_by_hand(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 HMAC over hashlib.sha256, written out (second oracle)."""
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    key = key.ljust(block, b"\x00")
    ipad = bytes(b ^ 0x36 for b in key)
    opad = bytes(b ^ 0x5C for b in key)
    return hashlib.sha256(opad + hashlib.sha256(ipad + msg).digest()).digest()


def mac(key: bytes, msg: bytes) -> bytes:
    """HMAC-SHA256 from two oracles that must agree."""
    a = hmac.new(key, msg, hashlib.sha256).digest()
    b = hmac_sha256_by_hand(key, msg)
    if a != b:
        raise VectorError("hmac module and hand-written HMAC disagree")
    return a


def encode_tag(tag: bytes, encoding: str) -> str:
    if encoding == "lower_hex":
        return tag.hex()
    if encoding == "upper_hex":
        return tag.hex().upper()
    if encoding == "base64":
        return base64.b64encode(tag).decode("ascii")
    raise VectorError(f"unknown encoding {encoding!r}")


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()
