"""HS256 compact JWTs with PyJWT's time rules: each check returns the error it fails,
in stages (the header before the signature, the signature before the claims)."""

from __future__ import annotations

import hmac
import re

from .base64url import b64url, b64url_decode
from .common import U64_MAX, OracleError
from .hmac_sha256 import hmac_sha256
from .strict_json import JsonError, has_duplicates, members, parse_json

EMBEDDED_KEY_MEMBERS = ("jwk", "jku", "x5u", "x5c")
AUD_MAX = 8
TIME_CLAIMS = ("exp", "nbf", "iat")
_U64_TEXT = re.compile(r"0|[1-9][0-9]{0,19}")


def jwt_signing_input(header: bytes, claims: bytes) -> str:
    return b64url(header) + "." + b64url(claims)


def jwt_sign(key: bytes, signing_input: str) -> str:
    return b64url(hmac_sha256(key, signing_input.encode("ascii")))


def jwt_header_faults(header: bytes) -> list:
    """Failed header checks: JSON object, alg present once, HS256 exactly, no key
    embedded or referenced, no crit. A repeated alg is only duplicate_field (its values
    are not judged: there is no single alg)."""
    try:
        doc = parse_json(header)
    except JsonError:
        return ["token_malformed"]
    if doc[0] != "object":
        return ["token_malformed"]
    pairs = members(doc)
    names = [n for n, _ in pairs]
    faults = []
    if has_duplicates(pairs):
        faults.append("duplicate_field")
    algs = [v for n, v in pairs if n == "alg"]
    if not algs:
        faults.append("missing_algorithm")
    elif len(algs) == 1:
        alg = algs[0]
        if alg[0] != "string":
            faults.append("token_malformed")
        elif alg[1].encode("utf-8").lower() == b"none":  # ASCII-only case folding
            faults.append("algorithm_none")
        elif alg[1] != "HS256":  # raw text: "HS\\u0032\\u0035\\u0036" is not HS256
            faults.append("algorithm_not_allowed")
    if any(n in EMBEDDED_KEY_MEMBERS for n in names):
        faults.append("embedded_key")
    if "crit" in names:
        faults.append("token_malformed")
    return faults


def jwt_claims(claims: bytes) -> tuple:
    """(failed checks, claims) for a claims set: a JSON object, no repeated member,
    iss/sub strings, aud a string or an array of at most AUD_MAX strings, exp/nbf/iat
    integers 0..u64::MAX written as plain digits. Strings are kept as raw JSON text."""
    try:
        doc = parse_json(claims)
    except JsonError:
        return ["token_malformed"], None
    if doc[0] != "object":
        return ["token_malformed"], None
    pairs = members(doc)
    faults = ["duplicate_field"] if has_duplicates(pairs) else []
    out: dict = {"iss": None, "sub": None, "aud": [], "exp": None, "nbf": None, "iat": None}
    for name, value in pairs:
        if name in ("iss", "sub"):
            if value[0] != "string":
                faults.append("token_malformed")
            else:
                out[name] = value[1]
        elif name == "aud":
            if value[0] == "string":
                out["aud"] = [value[1]]
            elif (value[0] == "array" and len(value[1]) <= AUD_MAX
                  and all(v[0] == "string" for v in value[1])):
                out["aud"] = [v[1] for v in value[1]]
            else:
                faults.append("token_malformed")
        elif name in TIME_CLAIMS:
            if (value[0] != "number" or _U64_TEXT.fullmatch(value[1]) is None
                    or int(value[1]) > U64_MAX):
                faults.append("token_malformed")
            else:
                out[name] = int(value[1])
    return faults, (None if faults else out)


def jwt_claim_faults(claims: dict, v: dict, now: int) -> list:
    """PyJWT's time rules with leeway, required exp, expected iss/sub/aud."""
    leeway = v["leeway_s"]
    if now < leeway:
        raise OracleError("vectors keep now >= leeway (no saturation at zero)")
    faults = []
    if claims["exp"] is None:
        if v["require_exp"]:
            faults.append("missing_claim")
    elif claims["exp"] <= now - leeway:
        faults.append("token_expired")
    for name in ("nbf", "iat"):
        if claims[name] is not None and claims[name] > now + leeway:
            faults.append("token_not_yet_valid")
    for name in ("iss", "sub"):
        if v[name] is not None:
            if claims[name] is None:
                faults.append("missing_claim")
            elif claims[name] != v[name]:
                faults.append("claim_mismatch")
    if v["aud"] is not None:
        if not claims["aud"]:
            faults.append("missing_claim")
        elif v["aud"] not in claims["aud"]:
            faults.append("claim_mismatch")
    return faults


def jwt_verify(key: bytes, token: str, v: dict, now: int) -> tuple:
    """(stage, failed checks of that stage, claims). Stages run in order and the first
    stage with a failed check decides; later stages are not looked at."""
    if not key:
        return "key", ["empty_secret"], None
    if len(token.encode("utf-8")) > v["max_len"]:
        return "length", ["token_too_long"], None
    parts = token.split(".")
    if len(parts) != 3:
        return "parts", ["token_malformed"], None
    h64, c64, s64 = parts
    header = b64url_decode(h64)
    faults = ["token_malformed"] if header is None else jwt_header_faults(header)
    if faults:
        return "header", faults, None
    sig = b64url_decode(s64)
    if sig is None or len(sig) != 32:
        return "signature", ["token_malformed"], None
    if not hmac.compare_digest(hmac_sha256(key, f"{h64}.{c64}".encode("ascii")), sig):
        return "signature", ["signature_mismatch"], None
    raw = b64url_decode(c64)
    faults, claims = (["token_malformed"], None) if raw is None else jwt_claims(raw)
    if faults:
        return "claims", faults, None
    faults = jwt_claim_faults(claims, v, now)
    if faults:
        return "validation", faults, None
    return None, [], claims


def jwt_encode(key: bytes, header: bytes, claims: bytes) -> tuple:
    """(failed checks, token): the encoder checks the header as verification does and that
    the claims are an object of the expected shape; nothing about times."""
    faults = [] if key else ["empty_secret"]
    faults += jwt_header_faults(header)
    faults += jwt_claims(claims)[0]
    signing_input = jwt_signing_input(header, claims)
    return faults, signing_input + "." + jwt_sign(key, signing_input)
