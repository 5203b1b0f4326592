"""The reference verifier (server side), with its replay cache and APEX nonce
high-water marks."""

from __future__ import annotations

import hmac
import re

from .common import (
    NS_PER_S,
    U64_MAX,
    VectorError,
    body_bytes,
    headers_named,
    parse_u64,
    secret_bytes,
)
from .hmac_sha256 import mac
from .policy import canonical_fault, role_fault
from .signer import STATIC_HEADER

REQUIRED_HEADERS = {
    "signius": ["X-Api-Key"],
    "securosys": ["X-API-KEY"],
    "zignsec": ["Zs-Product-Key"],
    "zignsec-legacy": ["Authorization"],
    "securosys-jwt": ["Authorization"],
    "zignsec-oauth": ["Authorization", "Zs-Product-Key"],
    "apex-session": ["aptoken"],
    "aevo-secret": ["AEVO-KEY", "AEVO-SECRET"],
    "aevo": ["AEVO-KEY", "AEVO-TIMESTAMP", "AEVO-SIGNATURE"],
    "apex": ["APIKey", "Signature", "UserId", "Nonce"],
}
BEARER_SCHEMES = ("securosys-jwt", "zignsec-oauth", "apex-session")


class RefVerifier:
    """One verifier; state (replay cache, apex nonces) carries over between steps.

    `step` returns (faults, principal). Faults are collected from every check that can run
    independently, so a vector with more than one fault is caught at generation time.
    State changes only when a step has no fault.
    """

    def __init__(self, scheme: str, keyring: list, window_s: int, replay_capacity: int, roles):
        self.scheme = scheme
        self.keyring = keyring
        self.window_ns = window_s * NS_PER_S
        self.capacity = replay_capacity
        self.roles = roles
        self.cache: list = []  # (key_id, signature, ts)
        self.high_water: dict = {}  # apex: key_id -> last accepted nonce

    def client(self, key_id: str):
        found = [c for c in self.keyring if c["id"] == key_id]
        return found[0] if found else None

    def principal(self, client: dict, slot: str) -> dict:
        return {"id": client["id"], "slot": slot, "role": client.get("role")}

    def lifecycle_fault(self, principal: dict, now_ns: int):
        """Whether the client the credentials named may authenticate with the matched slot:
        its status, then the slot's revocation, then its expiry (refused from expires_ns on)."""
        client, slot = self.client(principal["id"]), principal["slot"]
        status = client.get("status") or "active"
        if status != "active":
            return {"revoked": "client_revoked", "disabled": "client_disabled"}[status]
        if client.get(f"{slot}_revoked"):
            return "key_revoked"
        expires = client.get(f"{slot}_expires_ns")
        if expires is not None and now_ns >= expires:
            return "key_expired"
        return None

    def secrets(self, client: dict):
        yield "primary", secret_bytes(client)
        if client.get("secondary_secret") is not None:
            yield "secondary", client["secondary_secret"].encode("utf-8")

    def step(self, now_ns: int, request: dict, authorize: bool) -> tuple:
        faults, values = set(), {}
        for name in REQUIRED_HEADERS[self.scheme]:
            found = headers_named(request["headers"], name)
            if not found:
                faults.add("missing_credential")
            elif len(found) > 1:
                faults.add("duplicate_header")
            else:
                values[name] = found[0]
        if authorize and canonical_fault(request["path"]):
            faults.add("non_canonical_path")
        principal, commit = None, None
        if not (faults & {"missing_credential", "duplicate_header"}):
            principal, more, commit = self.authenticate(values, now_ns, request)
            faults |= more
            if principal is not None:
                fault = self.lifecycle_fault(principal, now_ns)
                if fault:
                    faults.add(fault)
        if authorize and principal is not None and not faults:
            fault = role_fault(self.roles, principal["role"], request["path"])
            if fault:
                faults.add(fault)
        if faults:
            return faults, None
        if commit:
            commit()
        return faults, principal

    def authenticate(self, values: dict, now_ns: int, request: dict) -> tuple:
        if self.scheme in STATIC_HEADER:
            return self.static_key(values[STATIC_HEADER[self.scheme]])
        if self.scheme in BEARER_SCHEMES:
            return None, {"unsupported_credential"}, None
        if self.scheme == "aevo-secret":
            return self.aevo_secret(values["AEVO-KEY"], values["AEVO-SECRET"])
        if self.scheme == "aevo":
            return self.aevo(values, now_ns, request)
        if self.scheme == "apex":
            return self.apex(values)
        raise VectorError(f"unknown scheme {self.scheme!r}")

    def static_key(self, presented: str) -> tuple:
        for client in self.keyring:
            for slot, field in (("primary", "key"), ("secondary", "secondary_key")):
                if client.get(field) is not None and client[field] == presented:
                    return self.principal(client, slot), set(), None
        return None, {"unknown_key"}, None

    def aevo_secret(self, key_id: str, presented: str) -> tuple:
        client = self.client(key_id)
        if client is None:
            return None, {"unknown_key"}, None
        for slot, secret in self.secrets(client):
            if hmac.compare_digest(secret, presented.encode("utf-8")):
                return self.principal(client, slot), set(), None
        return None, {"secret_mismatch"}, None

    def live_cache(self, now_ns: int) -> list:
        """Entries whose timestamp is still inside the window (expired ones are free)."""
        return [e for e in self.cache if now_ns <= min(e[2] + self.window_ns, U64_MAX)]

    def aevo(self, values: dict, now_ns: int, request: dict) -> tuple:
        key_id, ts_text = values["AEVO-KEY"], values["AEVO-TIMESTAMP"]
        sig = values["AEVO-SIGNATURE"]
        method, path = request["method"], request["path"]
        faults = set()
        client = self.client(key_id)
        if client is None:
            faults.add("unknown_key")
        ts = parse_u64(ts_text)
        if ts is None:
            faults.add("invalid_timestamp")
        elif abs(ts - now_ns) > self.window_ns:
            faults.add("timestamp_outside_window")
        encoding_ok = re.fullmatch(r"[0-9a-f]{64}", sig) is not None
        if not encoding_ok:
            faults.add("invalid_signature_encoding")
        if "," in path or "," in method:
            faults.add("separator_in_field")
        slot = None
        if client is not None and encoding_ok:
            message = b",".join(
                [key_id.encode(), ts_text.encode(), method.encode(), path.encode(),
                 body_bytes(request)]
            )
            for name, secret in self.secrets(client):
                if hmac.compare_digest(mac(secret, message).hex(), sig):
                    slot = name
                    break
            if slot is None:
                faults.add("signature_mismatch")
        live = self.live_cache(now_ns)
        if any(e[0] == key_id and e[1] == sig for e in live):
            faults.add("replayed_request")
        elif len(live) >= self.capacity:
            faults.add("replay_cache_full")

        def commit():
            self.cache = live + [(key_id, sig, ts)]

        principal = self.principal(client, slot) if slot else None
        return principal, faults, commit

    def apex(self, values: dict) -> tuple:
        key_id, sig = values["APIKey"], values["Signature"]
        user_id, nonce_text = values["UserId"], values["Nonce"]
        faults = set()
        client = self.client(key_id)
        if client is None:
            faults.add("unknown_key")
        nonce = parse_u64(nonce_text)
        if nonce is None:
            faults.add("invalid_nonce")
        if client is not None and user_id.encode() != client["user_id"].encode():
            faults.add("user_id_mismatch")
        encoding_ok = re.fullmatch(r"[0-9a-fA-F]{64}", sig) is not None
        if not encoding_ok:
            faults.add("invalid_signature_encoding")
        slot = None
        if client is not None and encoding_ok:
            message = (nonce_text + user_id + key_id).encode()
            for name, secret in self.secrets(client):
                if hmac.compare_digest(mac(secret, message).hex(), sig.lower()):
                    slot = name
                    break
            if slot is None:
                faults.add("signature_mismatch")
        if client is not None and nonce is not None and nonce <= self.high_water.get(key_id, -1):
            faults.add("replayed_request")

        def commit():
            self.high_water[key_id] = nonce

        principal = self.principal(client, slot) if slot else None
        return principal, faults, commit
