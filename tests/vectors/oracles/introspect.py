"""RFC 7662 introspection answers: the oracle of introspection.json.

Written from RFC 7662 §2.2 (the response: ``active`` a required boolean; ``scope``,
``client_id``, ``username``, ``token_type``, ``exp``, ``iat``, ``nbf``, ``sub``, ``aud``,
``iss``, ``jti`` optional, with RFC 7519's meanings) and the rules of DESIGN.md (fail closed,
``iss`` exact, ``aud`` containing the resource server's audience). The JSON is read twice, by
the strict parser of strict_json.py and by ``json.loads``, which must agree.

``judge`` runs in stages (shape, active, time, issuer, audience): the first stage with a fault
decides, and inside a stage a case must trip exactly one check. Limits shared with the JWT
claims reader: at most 32 members, at most 8 audiences, integers below 2**64.
"""

from __future__ import annotations

from .common import U64_MAX
from .strict_json import JsonError, has_duplicates, members, parse_json

INTROSPECTION_MAX = 16 * 1024
MEMBERS_MAX, AUD_MAX = 32, 8


def _uint(value) -> int | None:
    """An RFC 7519 NumericDate as the reader takes it: digits only, below 2**64."""
    if value[0] != "number" or not value[1].isdigit() or (value[1].startswith("0") and value[1] != "0"):
        return None
    n = int(value[1])
    return n if n <= U64_MAX else None


def read(body: bytes) -> tuple[str | None, dict]:
    """(fault, claims): the shape stage. Claims hold the raw JSON text of strings."""
    if len(body) > INTROSPECTION_MAX:
        return "introspection_malformed", {}
    try:
        value = parse_json(body)
    except JsonError:
        return "introspection_malformed", {}
    if value[0] != "object" or len(value[1]) > MEMBERS_MAX or any("\\" in n for n, _ in value[1]):
        return "introspection_malformed", {}
    pairs = members(value)
    claims: dict = {}
    for name, v in pairs:
        if name in ("iss", "sub"):
            if v[0] != "string":
                return "introspection_malformed", {}
            claims[name] = v[1]
        elif name in ("exp", "nbf", "iat"):
            n = _uint(v)
            if n is None:
                return "introspection_malformed", {}
            claims[name] = n
        elif name == "aud":
            if v[0] == "string":
                claims["aud"] = [v[1]]
            elif v[0] == "array" and all(a[0] == "string" for a in v[1]) and len(v[1]) <= AUD_MAX:
                claims["aud"] = [a[1] for a in v[1]]
            else:
                return "introspection_malformed", {}
        elif name in ("client_id", "scope", "jti"):
            claims[name] = v[1] if v[0] == "string" else None  # another type: not reported
        elif name == "active":
            if v[0] not in ("true", "false"):
                return "introspection_malformed", {}
            claims["active"] = v[0] == "true"
    if has_duplicates(pairs):
        return "duplicate_field", {}
    return None, claims


def judge(body: bytes, expected: dict, now: int) -> tuple[set, dict]:
    """The faults of an answer (one stage's) and, when there are none, its claims."""
    fault, c = read(body)
    if fault:
        return {fault}, {}
    if "active" not in c:
        return {"introspection_malformed"}, {}
    if c["active"] is not True:
        return {"token_inactive"}, {}
    leeway = expected["leeway_s"]
    faults = set()
    if "exp" in c and c["exp"] <= now - leeway:
        faults.add("token_expired")
    if c.get("nbf", 0) > now + leeway or c.get("iat", 0) > now + leeway:
        faults.add("token_not_yet_valid")
    if faults:
        return faults, {}
    if "iss" in c and c["iss"] != expected["issuer"]:
        return {"issuer_mismatch"}, {}
    if expected["audience"] is not None and expected["audience"] not in c.get("aud", []):
        return {"audience_mismatch"}, {}
    return set(), c


def cache_seconds(claims: dict, now: int, max_s: int) -> int:
    """How long an active answer may be kept: ``max_s``, never past ``exp``."""
    if "exp" not in claims:
        return max_s
    return min(max(claims["exp"] - now, 0), max_s)
