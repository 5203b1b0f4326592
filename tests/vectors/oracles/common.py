"""What every oracle shares: the error names a vector may expect, the exceptions the
generator raises, and the HTTP syntax rules of DESIGN.md (tokens, paths, header values,
unsigned decimal integers)."""

from __future__ import annotations

import os
import re
from pathlib import Path

VECTORS_DIR = Path(__file__).resolve().parent.parent  # tests/vectors
REPO = VECTORS_DIR.parent.parent
SEEDS = Path(os.environ.get("APISIG_SEEDS", REPO.parent / "shared" / "seeds"))
SECUROSYS_SEED = SEEDS / "securosys-tsb-authentication.md"

U64_MAX = 2**64 - 1
NS_PER_S = 10**9

ERRORS = frozenset(
    """buffer_too_small missing_credential duplicate_header invalid_header_value
    field_too_long invalid_method separator_in_field invalid_path unknown_key
    secret_mismatch signature_mismatch invalid_signature_encoding user_id_mismatch
    unsupported_credential invalid_timestamp timestamp_outside_window invalid_nonce
    replayed_request replay_cache_full non_canonical_path forbidden invalid_pattern
    keyring_full duplicate_key_id empty_secret invalid_template token_malformed
    token_too_long algorithm_none algorithm_not_allowed missing_algorithm duplicate_field
    embedded_key token_expired token_not_yet_valid missing_claim claim_mismatch
    invalid_certificate unpinned_certificate unknown_kid key_type_mismatch jwks_malformed
    jwks_too_large symmetric_algorithm crit_unsupported token_type_mismatch
    missing_kid issuer_mismatch audience_mismatch jwk_weak_key token_inactive
    introspection_unavailable client_revoked client_disabled key_revoked key_expired""".split()
)

VALID = "valid"


class OracleError(Exception):
    """An input the references refuse to judge (vectors must stay clear of it)."""


class VectorError(OracleError):
    """A declared expectation disagrees with the reference computation."""


def body_bytes(request: dict) -> bytes:
    if "body_hex" in request:
        return bytes.fromhex(request["body_hex"])
    return request["body"].encode("utf-8")


def secret_bytes(holder: dict, prefix: str = "") -> bytes | None:
    """The secret of a credentials or keyring entry (text or hex), or None."""
    if holder.get(prefix + "secret_hex") is not None:
        return bytes.fromhex(holder[prefix + "secret_hex"])
    if holder.get(prefix + "secret") is not None:
        return holder[prefix + "secret"].encode("utf-8")
    return None


# Syntax checks (reference implementations of the rules in the brief / DESIGN.md).

TCHAR = frozenset(b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def is_http_token(text: str) -> bool:
    """RFC 9110 token: one or more tchar."""
    raw = text.encode("utf-8")
    return len(raw) > 0 and all(c in TCHAR for c in raw)


def is_printable_ascii(raw: bytes) -> bool:
    return all(0x21 <= c <= 0x7E for c in raw)


def is_request_path(text: str) -> bool:
    """Signer's path rule: printable ASCII (0x21-0x7e) starting with '/'."""
    raw = text.encode("utf-8")
    return raw.startswith(b"/") and is_printable_ascii(raw)


def is_header_value(text: str) -> bool:
    """Visible ASCII with inner SP/HTAB only; no CR, LF, NUL, controls, non-ASCII."""
    raw = text.encode("utf-8")
    if any(not (0x21 <= c <= 0x7E or c in (0x20, 0x09)) for c in raw):
        return False
    return not raw or (raw[0] not in (0x20, 0x09) and raw[-1] not in (0x20, 0x09))


def parse_u64(text: str) -> int | None:
    """Canonical decimal text of a u64 ("0", or 1 to 20 ASCII digits without a leading
    zero, no sign, no space) and its value, else None: every number has exactly one text."""
    if re.fullmatch(r"0|[1-9][0-9]{0,19}", text) is None:
        return None
    value = int(text, 10)
    return value if value <= U64_MAX else None


def headers_named(headers: list, name: str) -> list:
    """Values of every header called `name`, compared case-insensitively (ASCII)."""
    lowered = name.lower()
    return [v for n, v in headers if n.lower() == lowered]
