"""base64url, canonical and unpadded (RFC 4648 section 5, no '='), decoded twice: a
hand-written sextet walk and the ``base64`` module plus a re-encoding check."""

from __future__ import annotations

import base64

from .common import OracleError

B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64url_by_hand(text: str) -> bytes | None:
    """Sextet walk: refuses any character outside the alphabet, a length of 1 mod 4 and
    non-zero unused trailing bits."""
    acc, bits, out = 0, 0, bytearray()
    for ch in text:
        value = B64URL_ALPHABET.find(ch)
        if value < 0:
            return None
        acc, bits = (acc << 6) | value, bits + 6
        if bits >= 8:
            bits -= 8
            out.append(acc >> bits)
            acc &= (1 << bits) - 1
    if bits == 6 or acc != 0:
        return None
    return bytes(out)


def _b64url_by_module(text: str) -> bytes | None:
    if any(ch not in B64URL_ALPHABET for ch in text) or len(text) % 4 == 1:
        return None
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return raw if b64url(raw) == text else None


def b64url_decode(text: str) -> bytes | None:
    """The bytes of a canonical unpadded base64url text, or None."""
    a, b = _b64url_by_hand(text), _b64url_by_module(text)
    if a != b:
        raise OracleError(f"base64url decoders disagree on {text!r}")
    return a
