"""APEX session tokens (aptoken), stateless: payload, tag, parse and verify."""

from __future__ import annotations

import hmac

from .base64url import b64url, b64url_decode
from .hmac_sha256 import hmac_sha256

SESSION_LABEL = b"apisig-session-v1\x00"
SESSION_VERSION = 1
SESSION_TOKEN_MAX = 256
SESSION_ID_MAX = 64


def session_payload(user_id: bytes, key_id: bytes, expires: int, version: int = 1) -> bytes:
    """Lays the fields out as given (no checks), so malformed payloads can be built."""
    return (bytes([version]) + expires.to_bytes(8, "big") + bytes([len(user_id)]) + user_id
            + bytes([len(key_id)]) + key_id)


def session_tag(secret: bytes, payload: bytes) -> bytes:
    return hmac_sha256(secret, SESSION_LABEL + payload)


def session_token(secret: bytes, payload: bytes) -> str:
    return b64url(payload) + "." + b64url(session_tag(secret, payload))


def is_session_id(raw: bytes) -> bool:
    return 1 <= len(raw) <= SESSION_ID_MAX and all(0x21 <= c <= 0x7E for c in raw)


def session_parse(payload: bytes) -> dict | None:
    """The fields of a well-formed payload, or None."""
    if len(payload) < 10 or payload[0] != SESSION_VERSION:
        return None
    expires = int.from_bytes(payload[1:9], "big")
    ulen = payload[9]
    user_id = payload[10:10 + ulen]
    rest = payload[10 + ulen:]
    if len(user_id) != ulen or not rest:
        return None
    key_id = rest[1:1 + rest[0]]
    if len(rest) != 1 + rest[0] or not is_session_id(user_id) or not is_session_id(key_id):
        return None
    return {"user_id": user_id.decode("ascii"), "key_id": key_id.decode("ascii"),
            "expires": expires}


def session_verify(primary: bytes, secondary: bytes | None, token: str, now: int) -> tuple:
    """(failed checks, session). Empty secrets and the length limit are checked first;
    past them every check that can run is run, so a case failing two is caught."""
    faults = [] if primary else ["empty_secret"]
    if secondary is not None and not secondary:
        faults.append("empty_secret")
    if faults:
        return faults, None
    if len(token.encode("utf-8")) > SESSION_TOKEN_MAX:
        return ["token_too_long"], None
    parts = token.split(".")
    if len(parts) != 2:
        return ["token_malformed"], None
    payload, tag = b64url_decode(parts[0]), b64url_decode(parts[1])
    fields = None if payload is None else session_parse(payload)
    if fields is None:
        faults.append("token_malformed")
    slot = None
    if tag is None or len(tag) != 32:
        faults.append("token_malformed")
    elif payload is not None:
        secrets = [("primary", primary)] + ([("secondary", secondary)] if secondary else [])
        for name, secret in secrets:
            if hmac.compare_digest(session_tag(secret, payload), tag):
                slot = name
                break
        if slot is None:
            faults.append("signature_mismatch")
    if fields is not None and now >= fields["expires"]:
        faults.append("token_expired")
    if faults:
        return faults, None
    return [], dict(fields, slot=slot)
