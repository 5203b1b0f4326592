"""The reference signer (client side): the header set and canonical message of every
dialect and of user-defined templates, with the faults a request trips."""

from __future__ import annotations

import json

from .common import (
    NS_PER_S,
    VectorError,
    body_bytes,
    headers_named,
    is_header_value,
    is_http_token,
    is_request_path,
    secret_bytes,
)
from .hmac_sha256 import encode_tag, mac

STATIC_HEADER = {
    "signius": "X-Api-Key",
    "securosys": "X-API-KEY",
    "zignsec": "Zs-Product-Key",
    "zignsec-legacy": "Authorization",
}
TIME_UNITS = {"s": NS_PER_S, "ms": 10**6, "ns": 1}


def header_value_faults(headers: list) -> set:
    return {"invalid_header_value" for _, v in headers if not is_header_value(v)}


def sign_aevo(creds: dict, request: dict, now_ns: int) -> tuple:
    key_id, method, path = creds["key_id"], request["method"], request["path"]
    secret = secret_bytes(creds) or b""
    faults = set()
    if not is_http_token(method):
        faults.add("invalid_method")
    if not is_request_path(path):
        faults.add("invalid_path")
    if "," in key_id or "," in path:
        faults.add("separator_in_field")
    if not secret:
        faults.add("empty_secret")
    ts = str(now_ns)
    message = b",".join(
        [key_id.encode(), ts.encode(), method.encode().upper(), path.encode(), body_bytes(request)]
    )
    sig = mac(secret, message).hex()
    headers = [["AEVO-TIMESTAMP", ts], ["AEVO-SIGNATURE", sig], ["AEVO-KEY", key_id]]
    faults |= header_value_faults(headers)
    return faults, {"timestamp": now_ns, "message": message, "signature": sig, "headers": headers}


def sign_apex(creds: dict, nonce: int | None) -> tuple:
    key_id, user_id = creds["key_id"], creds["user_id"]
    secret = secret_bytes(creds) or b""
    faults = set()
    if nonce is None:
        faults.add("invalid_nonce")
    if not secret:
        faults.add("empty_secret")
    message = (str(nonce) + user_id + key_id).encode()
    sig = mac(secret, message).hex()
    headers = [["APIKey", key_id], ["Signature", sig], ["UserId", user_id], ["Nonce", str(nonce)]]
    faults |= header_value_faults(headers)
    body = json.dumps(
        {"APIKey": key_id, "Signature": sig, "UserId": user_id, "Nonce": str(nonce)},
        separators=(",", ":"),
    )
    out = {"timestamp": None, "message": message, "signature": sig, "headers": headers}
    out["authenticate_body"] = body
    return faults, out


def custom_part_value(part, creds: dict, request: dict, ts, nonce) -> bytes:
    if isinstance(part, dict) and "literal" in part:
        return part["literal"].encode()
    if isinstance(part, dict) and "header" in part:
        found = headers_named(request.get("headers", []), part["header"])
        if len(found) != 1:
            raise VectorError(f"custom header part {part} needs exactly one request header")
        return found[0].encode()
    simple = {
        "api_key": lambda: creds["key_id"],
        "timestamp": lambda: str(ts),
        "nonce": lambda: str(nonce),
        "user_id": lambda: creds["user_id"],
        "method": lambda: request["method"].encode().upper().decode(),
        "path": lambda: request["path"],
    }
    if part == "body":
        return body_bytes(request)
    return simple[part]().encode()


def sign_custom(creds: dict, request: dict, now_ns: int | None, nonce, template: dict) -> tuple:
    parts, sep = template["parts"], template["separator"].encode()
    secret = secret_bytes(creds) or b""
    faults = set()
    if not parts:
        faults.add("invalid_template")
    if sep and "body" in parts and parts[-1] != "body":
        raise VectorError("vectors keep the body last when a separator is used")
    if "method" in parts and not is_http_token(request["method"]):
        faults.add("invalid_method")
    if "path" in parts and not is_request_path(request["path"]):
        faults.add("invalid_path")
    if "nonce" in parts and nonce is None:
        faults.add("invalid_nonce")
    if not secret:
        faults.add("empty_secret")
    ts = None if now_ns is None else now_ns // TIME_UNITS[template["time_unit"]]
    values = []
    for i, part in enumerate(parts):
        value = custom_part_value(part, creds, request, ts, nonce)
        is_literal = isinstance(part, dict) and "literal" in part
        if sep and not is_literal and i != len(parts) - 1 and sep in value:
            faults.add("separator_in_field")
        values.append(value)
    message = sep.join(values)
    sig = encode_tag(mac(secret, message), template["encoding"])
    fields = {
        "key_id": creds["key_id"],
        "timestamp": str(ts),
        "nonce": str(nonce),
        "user_id": creds["user_id"],
        "signature": sig,
    }
    headers = [[name, fields[field]] for name, field in template["headers"]]
    faults |= header_value_faults(headers)
    return faults, {"timestamp": ts, "message": message, "signature": sig, "headers": headers}


def sign_unsigned(scheme: str, creds: dict) -> tuple:
    """Schemes whose headers carry a credential as is (static keys, bearer, secret)."""
    key_id, token = creds["key_id"], creds["token"]
    if scheme in STATIC_HEADER:
        headers = [[STATIC_HEADER[scheme], key_id]]
    elif scheme == "securosys-jwt":
        headers = [["Authorization", "Bearer " + token]]
    elif scheme == "zignsec-oauth":
        headers = [["Authorization", "Bearer " + token], ["Zs-Product-Key", key_id]]
    elif scheme == "apex-session":
        headers = [["aptoken", token]]
    elif scheme == "aevo-secret":
        headers = [["AEVO-KEY", key_id], ["AEVO-SECRET", creds["secret"]]]
    else:
        raise VectorError(f"unknown scheme {scheme!r}")
    faults = header_value_faults(headers)
    if scheme == "aevo-secret" and not creds["secret"]:
        faults.add("empty_secret")
    return faults, {"timestamp": None, "message": None, "signature": None, "headers": headers}


def sign_reference(scheme, creds, request, now_ns, nonce, template) -> tuple:
    if scheme == "aevo":
        return sign_aevo(creds, request, now_ns)
    if scheme == "apex":
        return sign_apex(creds, nonce)
    if scheme == "custom":
        return sign_custom(creds, request, now_ns, nonce, template)
    return sign_unsigned(scheme, creds)
