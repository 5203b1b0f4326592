#!/usr/bin/env python3
"""Generate apisig's shared test vectors (tests/vectors/*.json).

The Rust, C and Python test suites of apisig all read the JSON files this script writes.
Every expected value comes from an oracle that is independent of apisig:

* HMAC-SHA256 is computed twice, by Python's ``hmac`` module and by a hand-written HMAC
  construction over ``hashlib.sha256`` (RFC 2104), and the two must agree. The RFC 4231
  file also embeds the RFC's published outputs as literals and checks them against both.
* Encodings come from ``bytes.hex`` and ``base64``.
* Canonical messages, header sets, the verifier's decisions (including replay cache and
  nonce state) and the Securosys role policy are computed by small reference
  implementations written here from the spec (../shared/DESIGN.md, the seeds, and the
  vector brief). Path patterns are matched twice, by a ``re.fullmatch`` translation and by
  a linear-time NFA walk, and the two must agree.
* Every case also *declares* its expected outcome by hand; the generator refuses to write
  anything unless the reference computation gives exactly that outcome. An invalid case must
  trip exactly one check of the reference, so the order in which an implementation runs its
  checks never changes the expected error (see the "notes" in each file).

The default Securosys role table is parsed out of the seed document
(../shared/seeds/securosys-tsb-authentication.md relative to the repository, or
$APISIG_SEEDS), so the table in policy.json is provably verbatim.

The token files (jwt.json, session.json, pins.json) take their references from the sibling
module oracle_tokens.py: a hand-written HS256 JWT (canonical base64url decoded two ways, a
strict JSON parser that keeps raw string text, cross-checked against ``json.loads``),
the APEX session token format, and a DER walker from Certificate to SubjectPublicKeyInfo.
Their verification has an order the brief fixes (a JWT's header before its signature), so
those references run in stages: the first stage with a failed check decides, and inside
a stage an invalid case must fail exactly one check. jwt.json embeds RFC 7515 Appendix
A.1's token verbatim. When PyJWT is importable its verdict on every JWT case is compared
with the one declared for it (evidence only; --pyjwt makes a disagreement an error).
pins.json reads real certificates from certs/*.der, made once with the openssl CLI by
--regen-certs (see regen_certs: the exact commands, and a cross-check of the DER walker
against openssl); plain runs and --check never run openssl.

Usage, from the repository root:

    python3 tests/vectors/generate.py          # (re)write the JSON files
    python3 tests/vectors/generate.py --check  # exit 1 if a committed file is stale
    python3 tests/vectors/generate.py --pyjwt  # also require PyJWT to agree as declared
    python3 tests/vectors/generate.py --regen-certs  # new certs/*.der (openssl), then write

Standard library only. Output is deterministic:
``json.dumps(obj, indent=1, ensure_ascii=False) + "\\n"``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
import oracle_tokens as ot  # noqa: E402 (sibling module: the token and certificate oracles)
from oracle_tokens import OracleError  # noqa: E402

REPO = HERE.parent.parent
SEEDS = Path(os.environ.get("APISIG_SEEDS", REPO.parent / "shared" / "seeds"))
SECUROSYS_SEED = SEEDS / "securosys-tsb-authentication.md"
GENERATOR = "tests/vectors/generate.py"

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
    invalid_certificate unpinned_certificate""".split()
)

VALID = "valid"


class VectorError(OracleError):
    """A declared expectation disagrees with the reference computation."""


# ---------------------------------------------------------------------------------------
# Small shared helpers
# ---------------------------------------------------------------------------------------


class TcIds:
    """Hands out tcIds 1, 2, 3, ... for one file."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def outcome(expect: str) -> dict:
    """The result/error fields for an expectation ("valid" or an error name)."""
    if expect == VALID:
        return {"result": "valid"}
    if expect not in ERRORS:
        raise VectorError(f"unknown error name {expect!r}")
    return {"result": "invalid", "error": expect}


def check_faults(faults: set, expect: str, where: str) -> None:
    """An invalid case must trip exactly the declared check; a valid one none."""
    wanted = set() if expect == VALID else {expect}
    if faults != wanted:
        raise VectorError(f"{where}: declared {expect!r}, reference found {sorted(faults)}")


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


def derived_hex(label: str, n: int) -> str:
    """A fixed pseudo-random byte string (n <= 64), reproducible from its label."""
    return hashlib.sha512(label.encode()).digest()[:n].hex()


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
    """1 to 20 ASCII digits whose value fits in a u64, else None."""
    if re.fullmatch(r"[0-9]{1,20}", text) is None:
        return None
    value = int(text, 10)
    return value if value <= U64_MAX else None


def headers_named(headers: list, name: str) -> list:
    """Values of every header called `name`, compared case-insensitively (ASCII)."""
    lowered = name.lower()
    return [v for n, v in headers if n.lower() == lowered]


def write_json(obj: dict) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def file_header(description: str, notes: list) -> dict:
    return {"description": description, "generator": GENERATOR, "notes": notes}


# ---------------------------------------------------------------------------------------
# Securosys policy: pattern grammar, canonical-path check, matching (two matchers)
# ---------------------------------------------------------------------------------------


def pattern_fault(pattern: str) -> str | None:
    """invalid_pattern unless the pattern follows the grammar, else None."""
    raw = pattern.encode("utf-8")
    if not 1 <= len(raw) <= 128 or not raw.startswith(b"/") or not is_printable_ascii(raw):
        return "invalid_pattern"
    if any(c in raw for c in (b"?", b"%", b";", b"\\")) or b"//" in raw or b"***" in raw:
        return "invalid_pattern"
    if any(seg in (b".", b"..") for seg in raw.split(b"/")[1:]):
        return "invalid_pattern"
    return None


def pattern_to_regex(pattern: str) -> str:
    """Matcher 1: `**` -> `.*`, `*` -> `[^/]*`, everything else literal."""
    out = []
    for piece in re.split(r"(\*\*|\*)", pattern):
        if piece == "**":
            out.append(".*")
        elif piece == "*":
            out.append("[^/]*")
        else:
            out.append(re.escape(piece))
    return "".join(out)


def pattern_tokens(pattern: str) -> list:
    tokens, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            tokens.append("**")
            i += 2
        elif pattern[i] == "*":
            tokens.append("*")
            i += 1
        else:
            tokens.append(("lit", pattern[i]))
            i += 1
    return tokens


def nfa_match(pattern: str, path: str) -> bool:
    """Matcher 2: a linear-time NFA walk over the pattern's tokens."""
    tokens = pattern_tokens(pattern)
    end = len(tokens)

    def closure(states: set) -> set:
        out, stack = set(), list(states)
        while stack:
            i = stack.pop()
            if i in out:
                continue
            out.add(i)
            if i < end and tokens[i] in ("*", "**"):
                stack.append(i + 1)
        return out

    current = closure({0})
    for ch in path:
        nxt = set()
        for i in current:
            if i == end:
                continue
            tok = tokens[i]
            if tok == "**" or (tok == "*" and ch != "/"):
                nxt.add(i)
            elif tok == ("lit", ch):
                nxt.add(i + 1)
        current = closure(nxt)
        if not current:
            return False
    return end in current


def pattern_matches(pattern: str, path: str) -> bool:
    """Both matchers; the regex one is skipped only where backtracking would explode
    (then the pattern's final literal is absent from the path's end, so no match)."""
    by_nfa = nfa_match(pattern, path)
    stars = len(re.findall(r"\*\*|\*", pattern))
    if stars >= 4 and len(path) > 64:
        if not by_nfa and path.endswith(pattern[-1]):
            raise VectorError("hostile case would need the regex oracle")
        return by_nfa
    by_regex = re.fullmatch(pattern_to_regex(pattern), path, flags=re.DOTALL) is not None
    if by_regex != by_nfa:
        raise VectorError(f"matchers disagree on {pattern!r} vs {path!r}")
    return by_nfa


PERCENT_REFUSED = frozenset(b"./\\;%")


def canonical_fault(target: str) -> str | None:
    """non_canonical_path unless the request target is canonical, else None."""
    raw = target.encode("utf-8")
    if not raw or not is_printable_ascii(raw):
        return "non_canonical_path"
    path = raw.split(b"?", 1)[0]
    if not path.startswith(b"/") or b"//" in path or b"\\" in path or b";" in path:
        return "non_canonical_path"
    if any(seg in (b".", b"..") for seg in path.split(b"/")[1:]):
        return "non_canonical_path"
    for i, c in enumerate(path):
        if c != ord("%"):
            continue
        hex2 = path[i + 1 : i + 3]
        if len(hex2) != 2 or not all(h in b"0123456789abcdefABCDEF" for h in hex2):
            return "non_canonical_path"
        byte = int(hex2, 16)
        if byte in PERCENT_REFUSED or byte < 0x20 or byte >= 0x7F:
            return "non_canonical_path"
    return None


def path_part(target: str) -> str:
    return target.split("?", 1)[0]


def role_fault(roles: dict, role: str, target: str) -> str | None:
    """The policy decision: non_canonical_path, forbidden, or None (allowed)."""
    fault = canonical_fault(target)
    if fault:
        return fault
    if any(pattern_matches(p, path_part(target)) for p in roles.get(role, [])):
        return None
    return "forbidden"


def parse_role_table(text: str) -> dict:
    """The default role table, in document order, from the Securosys seed."""
    roles: dict = {}
    current, in_details = None, False
    for line in text.splitlines():
        heading = re.fullmatch(r"\*\*[^*`]+\(`([A-Za-z]+)`\)\*\*\s*", line)
        if heading:
            current = heading.group(1)
            roles[current] = []
        elif line.strip() == "<details>":
            in_details = True
        elif line.strip() == "</details>":
            in_details = False
        elif in_details and current is not None:
            item = re.fullmatch(r"\s*-\s+(/\S*)\s*", line)
            if item:
                roles[current].append(item.group(1))
    sizes = {name: len(patterns) for name, patterns in roles.items()}
    expected = {
        "keyManagementToken": 10,
        "keyOperationToken": 22,
        "approverToken": 4,
        "serviceToken": 5,
        "approverKeyManagementToken": 1,
    }
    if len(roles) != 5 or sizes != expected:
        raise VectorError(f"role table parse gave {sizes}, expected {expected}")
    for patterns in roles.values():
        for p in patterns:
            if pattern_fault(p):
                raise VectorError(f"seed pattern {p!r} is not valid under the grammar")
    return roles


def load_roles() -> dict:
    if not SECUROSYS_SEED.is_file():
        raise VectorError(f"seed not found: {SECUROSYS_SEED} (set APISIG_SEEDS)")
    return parse_role_table(SECUROSYS_SEED.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------
# Reference signer (client side)
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# Reference verifier (server side), with replay cache and nonce high-water marks
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# File 1: RFC 4231 HMAC-SHA256
# ---------------------------------------------------------------------------------------

# RFC 4231 section 4, test cases 1-7, HMAC-SHA-256 only; hex exactly as published.
RFC4231 = [
    {
        "case": 1,
        "key": "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "data": "4869205468657265",
        "text": "Hi There",
        "hmac_sha256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    },
    {
        "case": 2,
        "key": "4a656665",
        "data": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "text": "what do ya want for nothing?",
        "hmac_sha256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
    {
        "case": 3,
        "key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "data": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
        "dddddddddddddddddddddddddddddddddddd",
        "text": None,
        "hmac_sha256": "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    },
    {
        "case": 4,
        "key": "0102030405060708090a0b0c0d0e0f10111213141516171819",
        "data": "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        "text": None,
        "hmac_sha256": "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    },
    {
        "case": 5,
        "key": "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
        "data": "546573742057697468205472756e636174696f6e",
        "text": "Test With Truncation",
        "hmac_sha256": "a3b6167473100ee06e0c796c2955552b",  # truncated to 128 bits
    },
    {
        "case": 6,
        "key": "aa" * 131,
        "data": "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
        "65204b6579202d2048617368204b6579204669727374",
        "text": "Test Using Larger Than Block-Size Key - Hash Key First",
        "hmac_sha256": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    },
    {
        "case": 7,
        "key": "aa" * 131,
        "data": "5468697320697320612074657374207573696e672061206c6172676572207468"
        "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
        "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
        "647320746f20626520686173686564206265666f7265206265696e6720757365"
        "642062792074686520484d414320616c676f726974686d2e",
        "text": "This is a test using a larger than block-size key and a larger than "
        "block-size data. The key needs to be hashed before being used by the HMAC "
        "algorithm.",
        "hmac_sha256": "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    },
]


def flip_bit(hex_tag: str, byte_index: int, bit: int) -> str:
    raw = bytearray(bytes.fromhex(hex_tag))
    raw[byte_index] ^= 1 << bit
    return raw.hex()


def hmac_case(ids: TcIds, comment: str, key: str, msg: str, tag: str, expect: str,
              **extra) -> dict:
    """One HMAC case; the expectation is re-derived from the two HMAC oracles."""
    actual = mac(bytes.fromhex(key), bytes.fromhex(msg))
    presented = bytes.fromhex(tag)
    if len(presented) != 32:
        faults = {"invalid_signature_encoding"}
    elif presented != actual:
        faults = {"signature_mismatch"}
    else:
        faults = set()
    check_faults(faults, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "key": key, "msg": msg, "tag": tag,
            **extra, **outcome(expect)}


def build_rfc4231() -> dict:
    ids, tests, full = TcIds(), [], {}
    for tv in RFC4231:
        key, data = bytes.fromhex(tv["key"]), bytes.fromhex(tv["data"])
        if tv["text"] is not None and data != tv["text"].encode("ascii"):
            raise VectorError(f"RFC 4231 case {tv['case']}: data hex is not its text")
        tag = mac(key, data).hex()
        published = tv["hmac_sha256"]
        extra = {}
        if tv["case"] == 5:
            if not tag.startswith(published) or len(published) != 32:
                raise VectorError("RFC 4231 case 5: published value is not the tag's prefix")
            extra = {"truncated_bits": 128}
        elif tag != published:
            raise VectorError(f"RFC 4231 case {tv['case']}: python hmac disagrees with RFC")
        full[tv["case"]] = tv["key"], tv["data"], tag
        comment = f"RFC 4231 test case {tv['case']}"
        if tv["case"] == 5:
            comment += " (RFC publishes the first 128 bits; tag here is the full 256-bit output)"
        tests.append(hmac_case(ids, comment, tv["key"], tv["data"], tag, VALID, **extra))

    # Block-size boundaries and an empty message (not in the RFC: both oracles only).
    for n in (63, 64, 65):
        key = bytes(range(1, n + 1)).hex()
        msg = b"apisig block-size boundary".hex()
        tag = mac(bytes.fromhex(key), bytes.fromhex(msg)).hex()
        tests.append(hmac_case(ids, f"key of {n} bytes (block size is 64); not from the RFC",
                               key, msg, tag, VALID))
    key = b"key".hex()
    tag = mac(b"key", b"").hex()
    tests.append(hmac_case(ids, "empty message; not from the RFC", key, "", tag, VALID))

    k1, m1, t1 = full[1]
    k2, m2, t2 = full[2]
    k5, m5, t5 = full[5]
    k6, m6, t6 = full[6]
    invalid = [
        ("case 1 with the lowest bit of the first tag byte flipped", k1, m1,
         flip_bit(t1, 0, 0), "signature_mismatch"),
        ("case 2 with the highest bit of the last tag byte flipped", k2, m2,
         flip_bit(t2, 31, 7), "signature_mismatch"),
        ("case 6 (hashed long key) with a bit in the middle of the tag flipped", k6, m6,
         flip_bit(t6, 16, 3), "signature_mismatch"),
        ("case 2 tag over a message with one bit flipped", k2,
         flip_bit(m2, 0, 5), t2, "signature_mismatch"),
        ("case 2 tag under the key 'jefe' instead of 'Jefe'", b"jefe".hex(), m2, t2,
         "signature_mismatch"),
        ("case 1 message, all-zero 32-byte tag", k1, m1, "00" * 32, "signature_mismatch"),
        ("case 1 tag truncated to 31 bytes", k1, m1, t1[:62], "invalid_signature_encoding"),
        ("case 1 tag with an extra zero byte (33 bytes)", k1, m1, t1 + "00",
         "invalid_signature_encoding"),
        ("case 5 tag as the RFC publishes it, truncated to 128 bits: truncated tags are "
         "not accepted", k5, m5, t5[:32], "invalid_signature_encoding"),
        ("case 1, empty tag", k1, m1, "", "invalid_signature_encoding"),
    ]
    for comment, key, msg, tag, error in invalid:
        tests.append(hmac_case(ids, comment, key, msg, tag, error))

    return {
        **file_header(
            "HMAC-SHA256 test vectors: RFC 4231 test cases 1-7 (checked against both the RFC's "
            "published values and Python's hmac), a few block-size boundary cases, and tags "
            "that must be refused.",
            [
                "key, msg and tag are lowercase hex. A valid case's tag is the full 32-byte "
                "HMAC-SHA256.",
                "RFC 4231 case 5 publishes only the first 128 bits; here tag is the full "
                "output and truncated_bits: 128 records that the RFC's value is its prefix.",
                "A tag that is not exactly 32 bytes is invalid_signature_encoding; a 32-byte "
                "tag that differs is signature_mismatch.",
            ],
        ),
        "algorithm": "HMAC-SHA256",
        "tests": tests,
    }


# ---------------------------------------------------------------------------------------
# File 2: sign.json (client side)
# ---------------------------------------------------------------------------------------


def creds(key_id=None, secret=None, secret_hex=None, user_id=None, token=None) -> dict:
    out = {"key_id": key_id}
    if secret_hex is not None:
        out["secret_hex"] = secret_hex
    else:
        out["secret"] = secret
    out.update(user_id=user_id, token=token)
    return out


def req(method: str, path: str, body: str = "", body_hex: str | None = None,
        headers: list | None = None) -> dict:
    out = {"method": method, "path": path}
    if body_hex is not None:
        out["body_hex"] = body_hex
    else:
        out["body"] = body
    if headers is not None:
        out["headers"] = headers
    return out


def roundtrip_signed(scheme: str, cred: dict, request: dict, out: dict, now_ns) -> None:
    """A valid preset signature must verify under the reference verifier (or, for
    bearer schemes, reach the unsupported_credential stage)."""
    if scheme == "custom":
        return
    entry = {"id": cred["key_id"], "secret": None, "secondary_secret": None, "key": None,
             "secondary_key": None, "role": None, "user_id": cred["user_id"]}
    if scheme in STATIC_HEADER:
        entry["key"] = cred["key_id"]
    elif "secret_hex" in cred:
        del entry["secret"]
        entry["secret_hex"] = cred["secret_hex"]
    else:
        entry["secret"] = cred["secret"]
    verifier = RefVerifier(scheme, [entry], 300, 64, {})
    # The HTTP request goes out with the uppercased method the signer signed.
    verify_request = dict(request, method=request["method"].upper(), headers=out["headers"])
    faults, _ = verifier.step(now_ns or 0, verify_request, False)
    want = {"unsupported_credential"} if scheme in BEARER_SCHEMES else set()
    if faults != want:
        raise VectorError(f"sign round trip for {scheme} failed: {sorted(faults)}")


def sign_case(ids: TcIds, comment: str, scheme: str, cred: dict, request: dict,
              expect: str = VALID, now_ns=None, nonce=None, template=None) -> dict:
    faults, out = sign_reference(scheme, cred, request, now_ns, nonce, template)
    check_faults(faults, expect, comment)
    case = {"tcId": ids.next(), "comment": comment, "scheme": scheme}
    if template is not None:
        case["template"] = template
    case.update(credentials=cred, request=request, now_ns=now_ns)
    if expect != VALID:
        case.update(timestamp=out["timestamp"], nonce=nonce)
        case.update(outcome(expect))
        return case
    roundtrip_signed(scheme, cred, request, out, now_ns)
    case.update(timestamp=out["timestamp"], nonce=nonce)
    message = out["message"]
    try:
        case["message"] = None if message is None else message.decode("utf-8")
    except UnicodeDecodeError:
        case["message"] = None
        case["message_hex"] = message.hex()
    case.update(signature=out["signature"], headers=out["headers"])
    if "authenticate_body" in out:
        case["authenticate_body"] = out["authenticate_body"]
    case.update(outcome(expect))
    return case


AEVO_EXAMPLE_TS = 1673425955575713842
SIGNIUS_SEED_KEY = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le"
SECUROSYS_KEYS = {
    "keyManagementToken": "tsb-km-9fK2qLx7Vb3ZrT8mWc1N",
    "keyOperationToken": "tsb-ko-4HdP8sYq2Lw6XeJ0uRt5",
    "approverToken": "tsb-ap-7Gm3Ck9Vn1Bx5Qz2Hs8L",
    "serviceToken": "tsb-sv-2Wr6Ty0Ui4Op8As1Df5G",
    "approverKeyManagementToken": "tsb-akm-6Jk1Lz5Xc9Vb3Nm7Qw2E",
}
ZIGNSEC_PRIMARY = "3f2b8c1d9e0a4b7c8d6e5f4a3b2c1d0e"
ZIGNSEC_SECONDARY = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhcGlzaWctdGVzdCIsImV4cCI6MTcwMDAwMTIwMH0"
       ".c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LXRoZS1jb3Jl")
APEX_KEY = "d6b1bf0e2c1f4bd8a6f1d8c3b7a9e201"
APEX_SECRET = "5a2c7e9f1b3d4c6e8f0a2b4c6d8e0f1a"
APEX_SESSION_TOKEN = "b2f1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"

COINBASE_TEMPLATE = {
    "parts": ["timestamp", "method", "path", "body"],
    "separator": "",
    "encoding": "base64",
    "time_unit": "s",
    "headers": [["CB-ACCESS-KEY", "key_id"], ["CB-ACCESS-SIGN", "signature"],
                ["CB-ACCESS-TIMESTAMP", "timestamp"]],
}
BYBIT_TEMPLATE = {
    "parts": ["timestamp", "api_key", {"literal": "5000"}, "body"],
    "separator": "",
    "encoding": "lower_hex",
    "time_unit": "ms",
    "headers": [["X-BAPI-API-KEY", "key_id"], ["X-BAPI-SIGN", "signature"],
                ["X-BAPI-TIMESTAMP", "timestamp"]],
}
WEBHOOK_TEMPLATE = {
    "parts": [{"header": "X-Webhook-Id"}, "timestamp", "body"],
    "separator": ".",
    "encoding": "upper_hex",
    "time_unit": "s",
    "headers": [["X-Webhook-Timestamp", "timestamp"], ["X-Webhook-Signature", "signature"]],
}
NONCE_TEMPLATE = {
    "parts": ["method", "path", {"literal": "v1"}, "nonce", "user_id", "api_key"],
    "separator": "\n",
    "encoding": "lower_hex",
    "time_unit": "ns",
    "headers": [["X-Key", "key_id"], ["X-Nonce", "nonce"], ["X-User", "user_id"],
                ["X-Signature", "signature"]],
}


def sign_cases_aevo(ids: TcIds) -> list:
    c = creds("API_KEY", "API_SECRET")
    ts = AEVO_EXAMPLE_TS
    now = 1700000000123456789
    post_body = json.dumps({"name": "My API key"})
    binary_secret = derived_hex("apisig aevo binary secret", 32)
    big_body = json.dumps([{"i": i, "note": "x" * 40} for i in range(64)])
    out = [
        sign_case(ids, "Aevo worked example verbatim: GET /account, empty body gives the "
                  "trailing comma; the doc's secret is $API_SECRET, here the text 'API_SECRET'",
                  "aevo", c, req("GET", "/account"), now_ns=ts),
        sign_case(ids, "Aevo POST from the doc's code example: body json.dumps({'name': "
                  "'My API key'}) signed for path /api-key", "aevo", c,
                  req("POST", "/api-key", post_body), now_ns=ts),
        sign_case(ids, "body holding commas (the body is the last field, so it may)", "aevo",
                  c, req("POST", "/orders", '{"instrument":1,"is_buy":true,"amount":"1,000"}'),
                  now_ns=now),
        sign_case(ids, "query string is part of the signed path", "aevo", c,
                  req("GET", "/orderbook?instrument_name=ETH-PERP&depth=10"), now_ns=now),
        sign_case(ids, "lowercase method 'get' is uppercased to GET by the signer", "aevo", c,
                  req("get", "/account"), now_ns=ts),
        sign_case(ids, "lowercase method 'delete' is uppercased to DELETE", "aevo", c,
                  req("delete", "/orders/0x6a3f"), now_ns=now),
        sign_case(ids, "UTF-8 non-ASCII body (signed as its UTF-8 bytes)", "aevo", c,
                  req("POST", "/api-key", '{"name": "Zürich – 東京 ☃ 🚀"}'), now_ns=now),
        sign_case(ids, "binary 32-byte secret (secret_hex)", "aevo",
                  creds("API_KEY", secret_hex=binary_secret), req("GET", "/account"),
                  now_ns=now),
        sign_case(ids, "binary (non-UTF-8) body: message given as message_hex", "aevo", c,
                  req("PUT", "/upload", body_hex="00ff10c0af2c0d0a"), now_ns=now),
        sign_case(ids, f"{len(big_body)}-byte body (streamed into the HMAC)", "aevo", c,
                  req("POST", "/orders/batch", big_body), now_ns=now),
        sign_case(ids, "realistic key id and secret shapes", "aevo",
                  creds("5b4c6a7e-0f1d-4c2b-9a8e-7d6c5b4a3f2e",
                        "0x1f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f0"),
                  req("GET", "/portfolio"), now_ns=now),
        sign_case(ids, "comma in key id would make the message ambiguous", "aevo",
                  creds("API,KEY", "API_SECRET"), req("GET", "/account"),
                  "separator_in_field", now_ns=now),
        sign_case(ids, "comma in path would make the message ambiguous", "aevo", c,
                  req("GET", "/account,GET"), "separator_in_field", now_ns=now),
        sign_case(ids, "comma in the query part of the path", "aevo", c,
                  req("GET", "/orderbook?ids=1,2"), "separator_in_field", now_ns=now),
        sign_case(ids, "method with a space is not an HTTP token", "aevo", c,
                  req("GE T", "/account"), "invalid_method", now_ns=now),
        sign_case(ids, "empty method", "aevo", c, req("", "/account"), "invalid_method",
                  now_ns=now),
        sign_case(ids, "method with CR LF (header/line injection)", "aevo", c,
                  req("GET\r\n", "/account"), "invalid_method", now_ns=now),
        sign_case(ids, "empty path", "aevo", c, req("GET", ""), "invalid_path", now_ns=now),
        sign_case(ids, "path without leading slash", "aevo", c, req("GET", "account"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing a space", "aevo", c, req("GET", "/acc ount"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing a control byte 0x01", "aevo", c,
                  req("GET", "/account\x01"), "invalid_path", now_ns=now),
        sign_case(ids, "path containing DEL 0x7f", "aevo", c, req("GET", "/account\x7f"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing raw non-ASCII", "aevo", c, req("GET", "/caf\u00e9"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "key id with CR LF (header injection)", "aevo",
                  creds("API_KEY\r\nX-Injected: 1", "API_SECRET"), req("GET", "/account"),
                  "invalid_header_value", now_ns=now),
        sign_case(ids, "empty secret", "aevo", creds("API_KEY", ""), req("GET", "/account"),
                  "empty_secret", now_ns=now),
        sign_case(ids, "empty binary secret", "aevo", creds("API_KEY", secret_hex=""),
                  req("GET", "/account"), "empty_secret", now_ns=now),
    ]
    return out


def sign_cases_static(ids: TcIds) -> list:
    g = req("GET", "/v1/versionInfo")
    out = [
        sign_case(ids, "SIGNIUS: the 64-character example key from the seed", "signius",
                  creds(SIGNIUS_SEED_KEY), req("GET", "/api/v1/documents")),
        sign_case(ids, "SIGNIUS: another 64-character key", "signius",
                  creds("q8ZtR2vLx0NcB7mW4kYp1HsJ9dFg3AeU6oIi5TrEwQyXzVb2CnMlKjHg8FdSa0Pq"),
                  req("POST", "/api/v1/envelopes", '{"title":"contract"}')),
        sign_case(ids, "SIGNIUS: key with CR LF (header injection)", "signius",
                  creds(SIGNIUS_SEED_KEY[:32] + "\r\nX-Injected: 1"),
                  req("GET", "/api/v1/documents"), "invalid_header_value"),
        sign_case(ids, "SIGNIUS: key with a bare LF", "signius", creds("abc\ndef"),
                  req("GET", "/api/v1/documents"), "invalid_header_value"),
    ]
    role_paths = {
        "keyManagementToken": "/v1/key",
        "keyOperationToken": "/v1/sign",
        "approverToken": "/v1/approval",
        "serviceToken": "/v1/versionInfo",
        "approverKeyManagementToken": "/v1/approverManagement/approvers",
    }
    for role, key in SECUROSYS_KEYS.items():
        out.append(sign_case(ids, f"Securosys TSB: {role} API key in X-API-KEY", "securosys",
                             creds(key), req("GET", role_paths[role])))
    out += [
        sign_case(ids, "Securosys TSB: bearer JWT", "securosys-jwt", creds(token=JWT),
                  req("POST", "/v1/sign", '{"signRequest":{}}')),
        sign_case(ids, "Securosys TSB: bearer token with LF (header injection)",
                  "securosys-jwt", creds(token=JWT[:20] + "\nX-Injected: 1"),
                  req("GET", "/v1/versionInfo"), "invalid_header_value"),
        sign_case(ids, "ZignSec default scheme: primary subscription key in Zs-Product-Key",
                  "zignsec", creds(ZIGNSEC_PRIMARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec default scheme: secondary subscription key (rotation)",
                  "zignsec", creds(ZIGNSEC_SECONDARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec legacy scheme: raw key in Authorization", "zignsec-legacy",
                  creds(ZIGNSEC_PRIMARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec legacy scheme: key with CR LF", "zignsec-legacy",
                  creds(ZIGNSEC_PRIMARY + "\r\n"), req("GET", "/core/api/sessions"),
                  "invalid_header_value"),
        sign_case(ids, "ZignSec OAuth2: bearer token plus product key", "zignsec-oauth",
                  creds(ZIGNSEC_PRIMARY, token=JWT), req("POST", "/core/api/sessions")),
        sign_case(ids, "APEX session token in aptoken", "apex-session",
                  creds(token=APEX_SESSION_TOKEN), req("POST", "/GetAccountPositions")),
        sign_case(ids, "Aevo key + secret headers", "aevo-secret",
                  creds("API_KEY", "API_SECRET"), g),
        sign_case(ids, "Aevo key + secret headers: secret with CR LF", "aevo-secret",
                  creds("API_KEY", "API_SECRET\r\nX-Injected: 1"), g, "invalid_header_value"),
    ]
    return out


def sign_cases_apex(ids: TcIds) -> list:
    c = creds(APEX_KEY, APEX_SECRET, user_id="12345")
    r = req("POST", "/AuthenticateUser")
    return [
        sign_case(ids, "APEX: nonce is a millisecond counter, user id 12345", "apex", c, r,
                  nonce=1700000000123),
        sign_case(ids, "APEX: next request, nonce + 1", "apex", c, r, nonce=1700000000124),
        sign_case(ids, "APEX: small numbers (user 12, nonce 345: message '34512' + key; see "
                  "the digit-shift attack in verify.json)", "apex",
                  creds(APEX_KEY, APEX_SECRET, user_id="12"), r, nonce=345),
        sign_case(ids, "APEX: nonce u64::MAX", "apex", c, r, nonce=U64_MAX),
        sign_case(ids, "APEX: binary secret", "apex",
                  creds(APEX_KEY, secret_hex=derived_hex("apisig apex binary secret", 32),
                        user_id="12345"), r, nonce=1700000000125),
        sign_case(ids, "APEX: no nonce supplied", "apex", c, r, "invalid_nonce", nonce=None),
        sign_case(ids, "APEX: empty secret", "apex", creds(APEX_KEY, "", user_id="12345"), r,
                  "empty_secret", nonce=1700000000126),
        sign_case(ids, "APEX: key with CR LF (header injection)", "apex",
                  creds(APEX_KEY + "\r\nX-Injected: 1", APEX_SECRET, user_id="12345"), r,
                  "invalid_header_value", nonce=1700000000127),
    ]


def sign_cases_custom(ids: TcIds) -> list:
    cb = creds("cb-access-key-1", secret_hex=derived_hex("apisig coinbase-style secret", 64))
    by = creds("XXXXXXXXXXXXXXXXXX", "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY")
    wh = creds("whk_1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    nc = creds("k-7", "n0nce-template-secret", user_id="u-42")
    order = '{"size":"0.01","price":"0.100","side":"buy","product_id":"BTC-USD"}'
    bybit_body = ('{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market",'
                  '"qty":"0.01"}')
    hook_body = '{"type":"invoice.paid","data":{"id":"in_1","amount":1.5}}'
    hook_id = [["X-Webhook-Id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"]]
    t = 1700000000987654321
    return [
        sign_case(ids, "Coinbase-style: timestamp(s)+METHOD+path+body, base64, 64-byte "
                  "secret; now_ns is rounded down to whole seconds", "custom", cb,
                  req("POST", "/orders", order), now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style GET with query and empty body", "custom", cb,
                  req("GET", "/orders?status=open&limit=5"), now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style, lowercase method uppercased when signing", "custom",
                  cb, req("delete", "/orders/abc"), now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style, binary body (message_hex)", "custom", cb,
                  req("POST", "/files", body_hex="89504e470d0a1a0a0000000d49484452"),
                  now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Bybit-style: timestamp(ms)+api_key+'5000'+body, lower hex; now_ns "
                  "rounded down to whole milliseconds", "custom", by,
                  req("POST", "/v5/order/create", bybit_body), now_ns=1700000000123456789,
                  template=BYBIT_TEMPLATE),
        sign_case(ids, "Bybit-style with empty body", "custom", by,
                  req("GET", "/v5/account/wallet-balance"), now_ns=1700000000999999999,
                  template=BYBIT_TEMPLATE),
        sign_case(ids, "webhook-style: id.timestamp.body, separator '.', upper hex, id from "
                  "a request header; the body (last part) may hold the separator", "custom",
                  wh, req("POST", "/hooks/billing", hook_body, headers=hook_id), now_ns=t,
                  template=WEBHOOK_TEMPLATE),
        sign_case(ids, "template with nonce, user id, literal, separator LF, ns time unit "
                  "unused", "custom", nc, req("patch", "/v2/profile"), nonce=981,
                  template=NONCE_TEMPLATE),
        sign_case(ids, "webhook-style: header part value holds the separator '.'", "custom",
                  wh, req("POST", "/hooks/billing", hook_body,
                          headers=[["X-Webhook-Id", "msg.1"]]),
                  "separator_in_field", now_ns=t, template=WEBHOOK_TEMPLATE),
        sign_case(ids, "Coinbase-style: method part with a space", "custom", cb,
                  req("GE T", "/orders"), "invalid_method", now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style: path without leading slash", "custom", cb,
                  req("GET", "orders"), "invalid_path", now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style: key id with CR LF goes into CB-ACCESS-KEY", "custom",
                  creds("cb\r\nX-Injected: 1", secret_hex=cb["secret_hex"]),
                  req("GET", "/orders"), "invalid_header_value", now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "template with a nonce part but no nonce supplied", "custom", nc,
                  req("GET", "/v2/profile"), "invalid_nonce", nonce=None,
                  template=NONCE_TEMPLATE),
        sign_case(ids, "custom template, empty secret", "custom", creds("k", ""),
                  req("GET", "/orders"), "empty_secret", now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "template with no parts", "custom", by, req("GET", "/orders"),
                  "invalid_template", now_ns=t, template=dict(BYBIT_TEMPLATE, parts=[])),
    ]


def build_sign() -> dict:
    ids = TcIds()
    tests = sign_cases_aevo(ids) + sign_cases_apex(ids) + sign_cases_static(ids)
    tests += sign_cases_custom(ids)
    return {
        **file_header(
            "Client-side signing vectors: for each scheme preset (and user-defined 'custom' "
            "templates), the credentials, request, injected time/nonce, and the exact "
            "canonical message, signature and header list the signer must produce; or the "
            "error it must return.",
            [
                "now_ns is the injected clock (UNIX ns). timestamp is the value written into "
                "the message and headers, in the scheme's unit: for aevo it equals now_ns, "
                "for custom templates it is floor(now_ns / unit).",
                "message is the canonical message as text; where it is not valid UTF-8 it "
                "is null and message_hex holds its bytes. message and signature are null "
                "for schemes that send a credential as is.",
                "headers is the exact list, in order, with these names' exact spelling.",
                "credentials.secret is UTF-8 text; secret_hex is used instead for binary "
                "secrets. request.body is UTF-8 text; body_hex is used instead for binary "
                "bodies. request.headers (custom templates only) are the request's own "
                "headers that {'header': name} parts read.",
                "Invalid cases carry the inputs (and timestamp) plus result/error, but no "
                "message, signature or headers: nothing is produced on error.",
                "Each invalid case breaks exactly one rule, so the order of checks does "
                "not matter. Signer rules: method must be an HTTP token (RFC 9110 tchar) "
                "and is ASCII-uppercased; path must be printable ASCII 0x21-0x7e starting "
                "with '/'; header values must be visible ASCII (no CR, LF, controls, "
                "non-ASCII); a non-literal part other than the last must not contain a "
                "non-empty separator (aevo: ',' in key id or path); empty secret is "
                "empty_secret; a missing nonce is invalid_nonce.",
            ],
        ),
        "tests": tests,
    }


# ---------------------------------------------------------------------------------------
# File 3: verify.json (server side)
# ---------------------------------------------------------------------------------------

NOW = 1700000000000000000
WINDOW_S = 300
WNS = WINDOW_S * NS_PER_S


def client(cid: str, secret=None, secret_hex=None, secondary_secret=None, key=None,
           secondary_key=None, role=None, user_id=None) -> dict:
    out = {"id": cid}
    if secret_hex is not None:
        out["secret_hex"] = secret_hex
    else:
        out["secret"] = secret
    out.update(secondary_secret=secondary_secret, key=key, secondary_key=secondary_key,
               role=role, user_id=user_id)
    return out


def ok(cid: str, slot: str = "primary", role: str | None = None) -> dict:
    return {"id": cid, "slot": slot, "role": role}


def step(comment: str, now_ns: int, request: dict, expect, authorize: bool = False) -> dict:
    return {"comment": comment, "now_ns": now_ns, "request": request, "authorize": authorize,
            "expect": expect}


def verify_case(ids: TcIds, roles: dict, comment: str, scheme: str, keyring: list,
                steps: list, window_s: int = WINDOW_S, replay_capacity: int = 64) -> dict:
    ref = RefVerifier(scheme, keyring, window_s, replay_capacity, roles)
    out_steps = []
    for n, s in enumerate(steps, 1):
        faults, principal = ref.step(s["now_ns"], s["request"], s["authorize"])
        where = f"{comment} / step {n}: {s['comment']}"
        expect = s["expect"]
        if isinstance(expect, dict):
            check_faults(faults, VALID, where)
            if principal != expect:
                raise VectorError(f"{where}: principal {principal} != declared {expect}")
            result = {"result": "valid", "principal": principal}
        else:
            check_faults(faults, expect, where)
            result = outcome(expect)
        out_steps.append({k: v for k, v in s.items() if k != "expect"} | result)
    return {"tcId": ids.next(), "comment": comment, "scheme": scheme, "keyring": keyring,
            "window_s": window_s, "replay_capacity": replay_capacity, "steps": out_steps}


def aevo_sig(secret: bytes, key_id: str, ts_text: str, method: str, path: str,
             body: bytes) -> str:
    message = b",".join([key_id.encode(), ts_text.encode(), method.encode(), path.encode(), body])
    return mac(secret, message).hex()


def aevo_req(secret: bytes, key_id: str, ts, method: str, path: str, body: str = "", *,
             sign_method=None, sign_path=None, sign_body=None, sign_ts=None,
             sig=None, body_hex=None) -> dict:
    """A request as received; the signature covers the sign_* values where given
    (to model tampering), else the received ones."""
    ts_text = ts if isinstance(ts, str) else str(ts)
    raw_body = bytes.fromhex(body_hex) if body_hex is not None else body.encode()
    if sig is None:
        sig = aevo_sig(secret,
                       key_id,
                       ts_text if sign_ts is None else str(sign_ts),
                       method if sign_method is None else sign_method,
                       path if sign_path is None else sign_path,
                       raw_body if sign_body is None else sign_body.encode())
    headers = [["AEVO-TIMESTAMP", ts_text], ["AEVO-SIGNATURE", sig], ["AEVO-KEY", key_id]]
    return req(method, path, body, body_hex=body_hex, headers=headers)


def with_headers(request: dict, headers: list) -> dict:
    return dict(request, headers=headers)


def replace_header(request: dict, name: str, value: str) -> dict:
    return with_headers(request, [[n, value if n == name else v] for n, v in request["headers"]])


def static_cases(ids: TcIds, roles: dict) -> list:
    other = "q8ZtR2vLx0NcB7mW4kYp1HsJ9dFg3AeU6oIi5TrEwQyXzVb2CnMlKjHg8FdSa0Pq"
    ring = [client("acme-prod", key=SIGNIUS_SEED_KEY, secondary_key=other),
            client("acme-ci", key="ci-" + SIGNIUS_SEED_KEY[3:])]
    g = "/api/v1/documents"

    def si(headers):
        return req("GET", g, headers=headers)

    k = SIGNIUS_SEED_KEY
    out = [
        verify_case(ids, roles, "SIGNIUS static key: matching, header-name case, wrong keys",
                    "signius", ring, [
                        step("the seed's key, canonical header name", NOW,
                             si([["X-Api-Key", k]]), ok("acme-prod")),
                        step("header name lowercase", NOW, si([["x-api-key", k]]),
                             ok("acme-prod")),
                        step("header name uppercase", NOW, si([["X-API-KEY", k]]),
                             ok("acme-prod")),
                        step("secondary key of the same client", NOW,
                             si([["X-Api-Key", other]]), ok("acme-prod", "secondary")),
                        step("key of the second client", NOW,
                             si([["X-Api-Key", "ci-" + k[3:]]]), ok("acme-ci")),
                        step("static keys are not replay-protected: same request again",
                             NOW, si([["X-Api-Key", k]]), ok("acme-prod")),
                        step("unregistered key", NOW,
                             si([["X-Api-Key", "0" * 64]]), "unknown_key"),
                        step("key missing its last character (prefix)", NOW,
                             si([["X-Api-Key", k[:-1]]]), "unknown_key"),
                        step("key with one extra character", NOW,
                             si([["X-Api-Key", k + "x"]]), "unknown_key"),
                        step("key with one letter's case changed", NOW,
                             si([["X-Api-Key", k[:1] + k[1].swapcase() + k[2:]]]), "unknown_key"),
                        step("both keys concatenated", NOW,
                             si([["X-Api-Key", k + other]]), "unknown_key"),
                        step("header absent (key sent in another header)", NOW,
                             si([["Authorization", k]]), "missing_credential"),
                        step("no headers at all", NOW, si([]), "missing_credential"),
                        step("header twice with the same value", NOW,
                             si([["X-Api-Key", k], ["X-Api-Key", k]]), "duplicate_header"),
                        step("header twice, names differing in case, second value unknown",
                             NOW, si([["X-Api-Key", k], ["x-api-key", "0" * 64]]),
                             "duplicate_header"),
                    ]),
    ]

    sec_ring = [client(f"tsb-{role}", key=key, role=role)
                for role, key in SECUROSYS_KEYS.items()]
    sec_ring[1]["secondary_key"] = "tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6"

    def sx(key, path="/v1/versionInfo", method="GET", name="X-API-KEY"):
        return req(method, path, headers=[[name, key]])

    ko = SECUROSYS_KEYS["keyOperationToken"]
    steps = [step(f"{role} key resolves to its role", NOW, sx(key), ok(f"tsb-{role}", role=role))
             for role, key in SECUROSYS_KEYS.items()]
    steps += [
        step("keyOperationToken secondary (rolled-over) key", NOW,
             sx("tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6"), ok("tsb-keyOperationToken", "secondary",
                                                     "keyOperationToken")),
        step("header name in lowercase", NOW, sx(ko, name="x-api-key"),
             ok("tsb-keyOperationToken", role="keyOperationToken")),
        step("unknown key", NOW, sx("tsb-ko-guess"), "unknown_key"),
        step("key of a role sent in the SIGNIUS header name spelling matches too (names "
             "are case-insensitive)", NOW, sx(ko, name="X-Api-Key"),
             ok("tsb-keyOperationToken", role="keyOperationToken")),
        step("X-API-KEY missing", NOW, req("GET", "/v1/versionInfo",
                                            headers=[["Authorization", "Bearer " + JWT]]),
             "missing_credential"),
    ]
    out.append(verify_case(ids, roles, "Securosys TSB API keys: key to role (no authorization)",
                           "securosys", sec_ring, steps))

    def auth(comment, key, path, expect, method="POST"):
        return step(comment, NOW, sx(key, path, method), expect, authorize=True)

    km = SECUROSYS_KEYS["keyManagementToken"]
    ap = SECUROSYS_KEYS["approverToken"]
    sv = SECUROSYS_KEYS["serviceToken"]
    akm = SECUROSYS_KEYS["approverKeyManagementToken"]
    kop = ok("tsb-keyOperationToken", role="keyOperationToken")
    out.append(verify_case(ids, roles, "Securosys TSB: authentication plus role authorization "
                           "against the default role table", "securosys", sec_ring, [
        auth("keyOperationToken on /v1/sign", ko, "/v1/sign", kop),
        auth("keyOperationToken on /v1/sign with a query string", ko,
             "/v1/sign?requestId=42", kop),
        auth("keyOperationToken on /v1/key (key management)", ko, "/v1/key", "forbidden"),
        auth("keyOperationToken on /v1/../v1/key (dot segment)", ko, "/v1/../v1/key",
             "non_canonical_path"),
        auth("keyOperationToken on /v1/certificate/../key (pattern-prefix bypass)", ko,
             "/v1/certificate/../key", "non_canonical_path"),
        auth("keyOperationToken secondary key on /v1/decrypt", "tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6",
             "/v1/decrypt", ok("tsb-keyOperationToken", "secondary", "keyOperationToken")),
        auth("approverToken on /v1/filteredXYZApprovalTask", ap, "/v1/filteredXYZApprovalTask",
             ok("tsb-approverToken", role="approverToken"), "GET"),
        auth("approverToken on /v1/filteredRequests (keyOperationToken's)", ap,
             "/v1/filteredRequests", "forbidden", "GET"),
        auth("keyManagementToken on /v1/key/my-key/attributes", km,
             "/v1/key/my-key/attributes", ok("tsb-keyManagementToken",
                                              role="keyManagementToken"), "GET"),
        auth("keyManagementToken on /v1/keystore/statistics (prefix confusion)", km,
             "/v1/keystore/statistics", "forbidden", "GET"),
        auth("serviceToken on /v1/hsm/log/../../key", sv, "/v1/hsm/log/../../key",
             "non_canonical_path", "GET"),
        auth("serviceToken on /v1/hsm/log/2024-01-01", sv, "/v1/hsm/log/2024-01-01",
             ok("tsb-serviceToken", role="serviceToken"), "GET"),
        auth("approverKeyManagementToken on /v1/approverManagement/approvers", akm,
             "/v1/approverManagement/approvers",
             ok("tsb-approverKeyManagementToken", role="approverKeyManagementToken")),
        auth("approverKeyManagementToken on /v1/approval", akm, "/v1/approval", "forbidden"),
        auth("unknown key on an allowed-looking path", "tsb-ko-guess", "/v1/sign",
             "unknown_key"),
        auth("keyOperationToken on /v1/sign%2f..%2fkey (encoded slash)", ko,
             "/v1/sign%2f..%2fkey", "non_canonical_path"),
    ]))

    zs_ring = [client("zs-customer", key=ZIGNSEC_PRIMARY, secondary_key=ZIGNSEC_SECONDARY)]
    zp = "/core/api/sessions"
    out.append(verify_case(ids, roles, "ZignSec default scheme: primary and secondary keys",
                           "zignsec", zs_ring, [
        step("primary key", NOW, req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             ok("zs-customer")),
        step("secondary key", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("header name lowercase", NOW,
             req("POST", zp, headers=[["zs-product-key", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("unknown key", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", "f" * 32]]), "unknown_key"),
        step("legacy Authorization header on the default scheme", NOW,
             req("POST", zp, headers=[["Authorization", ZIGNSEC_PRIMARY]]),
             "missing_credential"),
        step("Zs-Product-Key twice (primary and secondary)", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY],
                                      ["Zs-Product-Key", ZIGNSEC_SECONDARY]]),
             "duplicate_header"),
    ]))
    out.append(verify_case(ids, roles, "ZignSec legacy scheme: raw key in Authorization",
                           "zignsec-legacy", zs_ring, [
        step("primary key", NOW, req("POST", zp, headers=[["Authorization", ZIGNSEC_PRIMARY]]),
             ok("zs-customer")),
        step("secondary key, header name lowercase", NOW,
             req("POST", zp, headers=[["authorization", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("'Bearer <key>' is not the raw key", NOW,
             req("POST", zp, headers=[["Authorization", "Bearer " + ZIGNSEC_PRIMARY]]),
             "unknown_key"),
        step("only Zs-Product-Key present", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             "missing_credential"),
    ]))
    out.append(verify_case(ids, roles, "ZignSec OAuth2: bearer tokens are not verified by the "
                           "core yet", "zignsec-oauth", zs_ring, [
        step("bearer token plus product key", NOW,
             req("POST", zp, headers=[["Authorization", "Bearer " + JWT],
                                      ["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             "unsupported_credential"),
    ]))
    out.append(verify_case(ids, roles, "Securosys TSB JWT: bearer tokens are not verified by "
                           "the core yet", "securosys-jwt", sec_ring, [
        step("bearer JWT", NOW, req("POST", "/v1/sign",
                                    headers=[["Authorization", "Bearer " + JWT]]),
             "unsupported_credential"),
    ]))
    out.append(verify_case(ids, roles, "APEX session token: not verified by the core yet",
                           "apex-session", [client(APEX_KEY, APEX_SECRET, user_id="12345")], [
        step("aptoken header", NOW, req("POST", "/GetAccountPositions",
                                        headers=[["aptoken", APEX_SESSION_TOKEN]]),
             "unsupported_credential"),
    ]))
    return out


def aevo_secret_cases(ids: TcIds, roles: dict) -> list:
    ring = [client("API_KEY", "API_SECRET", secondary_secret="API_SECRET_NEXT"),
            client("OTHER_KEY", "OTHER_SECRET")]

    def r(headers):
        return req("GET", "/account", headers=headers)

    return [verify_case(ids, roles, "Aevo key + secret headers", "aevo-secret", ring, [
        step("key and primary secret", NOW, r([["AEVO-KEY", "API_KEY"],
                                               ["AEVO-SECRET", "API_SECRET"]]), ok("API_KEY")),
        step("header names lowercase, reversed order", NOW,
             r([["aevo-secret", "API_SECRET"], ["aevo-key", "API_KEY"]]), ok("API_KEY")),
        step("secondary secret", NOW, r([["AEVO-KEY", "API_KEY"],
                                         ["AEVO-SECRET", "API_SECRET_NEXT"]]),
             ok("API_KEY", "secondary")),
        step("wrong secret", NOW, r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "API_SECRET_"]]),
             "secret_mismatch"),
        step("secret prefix", NOW, r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "API_SECRE"]]),
             "secret_mismatch"),
        step("secret case changed", NOW, r([["AEVO-KEY", "API_KEY"],
                                            ["AEVO-SECRET", "api_secret"]]), "secret_mismatch"),
        step("another client's secret under this key", NOW,
             r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "OTHER_SECRET"]]), "secret_mismatch"),
        step("the other client with its own secret", NOW,
             r([["AEVO-KEY", "OTHER_KEY"], ["AEVO-SECRET", "OTHER_SECRET"]]), ok("OTHER_KEY")),
        step("unknown key", NOW, r([["AEVO-KEY", "NO_SUCH_KEY"], ["AEVO-SECRET", "API_SECRET"]]),
             "unknown_key"),
        step("secret header missing", NOW, r([["AEVO-KEY", "API_KEY"]]), "missing_credential"),
        step("key header missing", NOW, r([["AEVO-SECRET", "API_SECRET"]]),
             "missing_credential"),
        step("secret header twice", NOW, r([["AEVO-KEY", "API_KEY"],
                                            ["AEVO-SECRET", "API_SECRET"],
                                            ["AEVO-SECRET", "API_SECRET"]]), "duplicate_header"),
    ])]


def aevo_cases(ids: TcIds, roles: dict) -> list:
    sec = b"API_SECRET"
    nxt = b"API_SECRET_NEXT"
    ring = [client("API_KEY", "API_SECRET", secondary_secret="API_SECRET_NEXT"),
            client("OTHER_KEY", "OTHER_SECRET")]
    ex = AEVO_EXAMPLE_TS
    post_body = json.dumps({"name": "My API key"})
    out = []

    worked = aevo_req(sec, "API_KEY", ex, "GET", "/account")
    out.append(verify_case(ids, roles, "Aevo worked example: accepted once, then replays refused",
                           "aevo", ring, [
        step("worked example at now = its timestamp", ex, worked, ok("API_KEY")),
        step("same request again at the same now", ex, worked, "replayed_request"),
        step("same request 1 s later (still inside the window)", ex + NS_PER_S, worked,
             "replayed_request"),
        step("same request at exactly ts + window (still inside, entry still live)", ex + WNS,
             worked, "replayed_request"),
        step("same request with header names lowercased and reordered", ex + 2 * NS_PER_S,
             with_headers(worked, [[n.lower(), v] for n, v in reversed(worked["headers"])]),
             "replayed_request"),
        step("same request 1 ns after ts + window: the timestamp is stale", ex + WNS + 1,
             worked, "timestamp_outside_window"),
    ]))

    base = aevo_req(sec, "API_KEY", NOW, "POST", "/api-key", post_body)
    t1 = NOW + 1
    out.append(verify_case(ids, roles, "Aevo: tampering with any signed field breaks the "
                           "signature (tampered requests first, original last)", "aevo", ring, [
        step("body changed", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-key",
                                           '{"name": "My API key!"}', sign_body=post_body),
             "signature_mismatch"),
        step("body emptied", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-key", "",
                                           sign_body=post_body), "signature_mismatch"),
        step("path changed", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-keys", post_body,
                                           sign_path="/api-key"), "signature_mismatch"),
        step("query string appended to the path", NOW,
             aevo_req(sec, "API_KEY", NOW, "POST", "/api-key?x=1", post_body,
                      sign_path="/api-key"), "signature_mismatch"),
        step("timestamp changed by 1 ns (still inside the window)", NOW,
             aevo_req(sec, "API_KEY", t1, "POST", "/api-key", post_body, sign_ts=NOW),
             "signature_mismatch"),
        step("method changed POST -> PUT", NOW,
             aevo_req(sec, "API_KEY", NOW, "PUT", "/api-key", post_body, sign_method="POST"),
             "signature_mismatch"),
        step("method sent as 'post' while signed as 'POST': verifier uses the method as "
             "received", NOW, aevo_req(sec, "API_KEY", NOW, "post", "/api-key", post_body,
                                       sign_method="POST"), "signature_mismatch"),
        step("signed with the wrong secret", NOW,
             aevo_req(b"API_SECRET_", "API_KEY", NOW, "POST", "/api-key", post_body),
             "signature_mismatch"),
        step("AEVO-KEY switched to another registered client", NOW,
             replace_header(base, "AEVO-KEY", "OTHER_KEY"), "signature_mismatch"),
        step("signature of a different request (replay of a signature across requests)", NOW,
             replace_header(base, "AEVO-SIGNATURE",
                            aevo_sig(sec, "API_KEY", str(NOW), "GET", "/account", b"")),
             "signature_mismatch"),
        step("empty body signed as a blank space (the seed's prose) instead of the empty "
             "string (its worked example)", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/account", "", sign_body=" "),
             "signature_mismatch"),
        step("all zeros signature", NOW, replace_header(base, "AEVO-SIGNATURE", "0" * 64),
             "signature_mismatch"),
        step("the original request, finally", NOW, base, ok("API_KEY")),
    ]))

    def fresh(comment, request, expect):
        return step(comment, NOW, request, expect)

    out.append(verify_case(ids, roles, "Aevo: request shapes that verify", "aevo", ring, [
        fresh("POST with the doc's JSON body", aevo_req(sec, "API_KEY", NOW, "POST",
                                                           "/api-key", post_body), ok("API_KEY")),
        fresh("body holding commas", aevo_req(sec, "API_KEY", NOW, "POST", "/orders",
                                                 '{"a":1,"b":[1,2,3]}'), ok("API_KEY")),
        fresh("query string in the path, signed as sent",
              aevo_req(sec, "API_KEY", NOW, "GET", "/orderbook?instrument_name=ETH-PERP"),
              ok("API_KEY")),
        fresh("UTF-8 non-ASCII body", aevo_req(sec, "API_KEY", NOW, "POST", "/api-key",
                                                  '{"name": "Zürich ☃ 東京"}'), ok("API_KEY")),
        fresh("binary body", aevo_req(sec, "API_KEY", NOW, "PUT", "/upload",
                                         body_hex="00ff10c0af2c0d0a"), ok("API_KEY")),
        fresh("signed with the secondary secret", aevo_req(nxt, "API_KEY", NOW, "GET",
                                                              "/account"),
              ok("API_KEY", "secondary")),
        fresh("the other client", aevo_req(b"OTHER_SECRET", "OTHER_KEY", NOW, "GET",
                                              "/account"), ok("OTHER_KEY")),
        fresh("method 'get' signed as 'get' and sent as 'get': the verifier does not "
              "uppercase, so the message matches", aevo_req(sec, "API_KEY", NOW, "get",
                                                            "/positions"), ok("API_KEY")),
        fresh("header names in mixed case", with_headers(
            aevo_req(sec, "API_KEY", NOW, "GET", "/markets"),
            [[n, v] for n, v in zip(["aevo-timestamp", "Aevo-Signature", "aEvO-kEy"],
                                    [h[1] for h in aevo_req(sec, "API_KEY", NOW, "GET",
                                                            "/markets")["headers"]])]),
              ok("API_KEY")),
        fresh("extra unrelated headers present", with_headers(
            aevo_req(sec, "API_KEY", NOW, "GET", "/index"),
            [["Content-Type", "application/json"]]
            + aevo_req(sec, "API_KEY", NOW, "GET", "/index")["headers"]
            + [["X-Api-Key", "unrelated"]]), ok("API_KEY")),
    ]))

    missing = aevo_req(sec, "API_KEY", NOW, "GET", "/account")
    h = {n: v for n, v in missing["headers"]}
    out.append(verify_case(ids, roles, "Aevo: header presence, duplicates, unknown key, "
                           "separator", "aevo", ring, [
        step("AEVO-SIGNATURE missing", NOW, with_headers(missing, [
            ["AEVO-TIMESTAMP", h["AEVO-TIMESTAMP"]], ["AEVO-KEY", "API_KEY"]]),
             "missing_credential"),
        step("AEVO-TIMESTAMP missing", NOW, with_headers(missing, [
            ["AEVO-SIGNATURE", h["AEVO-SIGNATURE"]], ["AEVO-KEY", "API_KEY"]]),
             "missing_credential"),
        step("AEVO-KEY missing", NOW, with_headers(missing, [
            ["AEVO-TIMESTAMP", h["AEVO-TIMESTAMP"]], ["AEVO-SIGNATURE", h["AEVO-SIGNATURE"]]]),
             "missing_credential"),
        step("AEVO-TIMESTAMP twice (same value)", NOW, with_headers(
            missing, missing["headers"] + [["aevo-timestamp", h["AEVO-TIMESTAMP"]]]),
             "duplicate_header"),
        step("AEVO-SIGNATURE twice (second one garbage)", NOW, with_headers(
            missing, missing["headers"] + [["AEVO-SIGNATURE", "0" * 64]]), "duplicate_header"),
        step("unknown key (validly signed with some secret)", NOW,
             aevo_req(sec, "NO_SUCH_KEY", NOW, "GET", "/account"), "unknown_key"),
        step("comma in the path (signed over the ambiguous message)", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/account,GET"), "separator_in_field"),
        step("comma in the query string", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/orderbook?ids=1,2"), "separator_in_field"),
        step("the well-formed request still verifies afterwards", NOW, missing, ok("API_KEY")),
    ]))

    bad_ts = [
        ("abc", "letters"), ("-5", "leading minus"), ("+5", "leading plus"),
        ("", "empty"), ("18446744073709551616", "u64::MAX + 1"), (" 123", "leading space"),
        ("1.7e18", "exponent notation"), ("0x1F", "hex"), ("1700000000000000000.0", "decimal"),
        ("0" + str(NOW) + "0", "21 digits"), ("170000000000000000000000", "24 digits"),
        ("1_700_000_000", "digit separators"),
    ]
    out.append(verify_case(ids, roles, "Aevo: AEVO-TIMESTAMP must be 1-20 ASCII digits fitting "
                           "u64 (each request correctly signed over the bad text)", "aevo", ring,
                           [step(f"timestamp {text!r} ({why})", NOW,
                                 aevo_req(sec, "API_KEY", text, "GET", "/account"),
                                 "invalid_timestamp") for text, why in bad_ts]
                           + [step("20-digit timestamp with leading zeros is syntactically "
                                   "fine but far outside the window", NOW,
                                   aevo_req(sec, "API_KEY", "00000000000000000001", "GET",
                                            "/account"), "timestamp_outside_window")]))

    def at(ts, comment, expect, now=NOW, path="/account"):
        return step(comment, now, aevo_req(sec, "API_KEY", ts, "GET", path), expect)

    out.append(verify_case(ids, roles, "Aevo: two-sided window of 300 s, inclusive", "aevo",
                           ring, [
        at(NOW - WNS, "exactly window in the past", ok("API_KEY")),
        at(NOW + WNS, "exactly window in the future", ok("API_KEY")),
        at(NOW - WNS - 1, "window + 1 ns in the past", "timestamp_outside_window"),
        at(NOW + WNS + 1, "window + 1 ns in the future", "timestamp_outside_window"),
        at(0, "timestamp 0", "timestamp_outside_window"),
        at(U64_MAX, "timestamp u64::MAX", "timestamp_outside_window"),
        at(NOW // NS_PER_S, "seconds sent where nanoseconds are expected",
           "timestamp_outside_window"),
        at(NOW // 10**6, "milliseconds sent where nanoseconds are expected",
           "timestamp_outside_window"),
        at(NOW + 10**18, "about 31 years in the future",
           "timestamp_outside_window"),
        at(NOW - 1, "1 ns in the past", ok("API_KEY")),
    ]))
    out.append(verify_case(ids, roles, "Aevo: window_s 0 means exact equality, not 'off'",
                           "aevo", ring, [
        at(NOW, "timestamp equals now", ok("API_KEY")),
        at(NOW + 1, "1 ns in the future", "timestamp_outside_window"),
        at(NOW - 1, "1 ns in the past", "timestamp_outside_window"),
    ], window_s=0))
    out.append(verify_case(ids, roles, "Aevo: window arithmetic near 0 and u64::MAX must not "
                           "wrap", "aevo", ring, [
        at(0, "now 100 ns, timestamp 0", ok("API_KEY"), now=100, path="/sat1"),
        at(WNS, "now 0, timestamp exactly window", ok("API_KEY"), now=0, path="/sat2"),
        at(WNS + 1, "now 0, timestamp window + 1 ns", "timestamp_outside_window", now=0,
           path="/sat3"),
        at(U64_MAX, "now u64::MAX, timestamp u64::MAX", ok("API_KEY"), now=U64_MAX,
           path="/sat4"),
        at(U64_MAX - WNS, "now u64::MAX, timestamp exactly window earlier", ok("API_KEY"),
           now=U64_MAX, path="/sat5"),
        at(U64_MAX - WNS - 1, "now u64::MAX, timestamp window + 1 ns earlier",
           "timestamp_outside_window", now=U64_MAX, path="/sat6"),
        at(0, "now u64::MAX, timestamp 0", "timestamp_outside_window", now=U64_MAX, path="/sat7"),
        at(U64_MAX, "now 0, timestamp u64::MAX", "timestamp_outside_window", now=0, path="/sat8"),
    ]))

    good = aevo_req(sec, "API_KEY", NOW, "GET", "/wallet")
    sig = dict(good["headers"])["AEVO-SIGNATURE"]
    letter = next(i for i, ch in enumerate(sig) if ch.isalpha())
    bad_sigs = [
        (sig.upper(), "uppercase hex"),
        (sig[:letter] + sig[letter].upper() + sig[letter + 1:], "one letter uppercase"),
        (sig[:63], "63 characters"),
        (sig + "0", "65 characters"),
        (sig[:63] + " ", "trailing space within 64 characters"),
        (" " + sig[:63], "leading space within 64 characters"),
        (sig[:63] + "g", "non-hex character 'g'"),
        ("", "empty"),
        (base64.b64encode(bytes.fromhex(sig)).decode(), "base64 of the right tag"),
        ("0x" + sig[:62], "0x prefix"),
        (sig[:32] + "\t" + sig[33:], "tab inside"),
    ]
    out.append(verify_case(ids, roles, "Aevo: AEVO-SIGNATURE must be exactly 64 lowercase hex "
                           "characters", "aevo", ring,
                           [step(f"signature: {why}", NOW,
                                 replace_header(good, "AEVO-SIGNATURE", bad),
                                 "invalid_signature_encoding") for bad, why in bad_sigs]
                           + [step("the correctly encoded signature", NOW, good,
                                   ok("API_KEY"))]))

    binary = derived_hex("apisig aevo binary secret", 32)
    out.append(verify_case(ids, roles, "Aevo: binary secret", "aevo",
                           [client("BIN_KEY", secret_hex=binary)], [
        step("signed with the 32-byte binary secret", NOW,
             aevo_req(bytes.fromhex(binary), "BIN_KEY", NOW, "GET", "/account"), ok("BIN_KEY")),
        step("signed with the secret's hex text instead of its bytes", NOW,
             aevo_req(binary.encode(), "BIN_KEY", NOW, "GET", "/account"),
             "signature_mismatch"),
    ]))

    def r(path, ts=NOW):
        return aevo_req(sec, "API_KEY", ts, "GET", path)

    late = NOW + WNS + 1
    out.append(verify_case(ids, roles, "Aevo: replay cache of capacity 2 fails closed when "
                           "full and reuses expired entries", "aevo", ring, [
        step("request 1", NOW, r("/r1"), ok("API_KEY")),
        step("request 2", NOW, r("/r2"), ok("API_KEY")),
        step("request 1 again while the cache is full: replay is detected first", NOW, r("/r1"),
             "replayed_request"),
        step("request 3: no free slot, refused", NOW, r("/r3"), "replay_cache_full"),
        step("request 4 at now = ts + window: entries 1 and 2 are still live", NOW + WNS,
             r("/r4", NOW + WNS), "replay_cache_full"),
        step("request 4 at now = ts + window + 1 ns: entries 1 and 2 have expired, a slot "
             "is reused", late, r("/r4", late), ok("API_KEY")),
        step("request 4 again", late, r("/r4", late), "replayed_request"),
        step("request 5, same time: the second expired slot is reused", late, r("/r5", late),
             ok("API_KEY")),
        step("request 6: full again", late, r("/r6", late), "replay_cache_full"),
    ], replay_capacity=2))
    out.append(verify_case(ids, roles, "Aevo: refused requests do not take replay cache slots",
                           "aevo", ring, [
        step("request 1 with a tampered path", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/r1x", sign_path="/r1"),
             "signature_mismatch"),
        step("request with a stale timestamp", NOW, r("/r0", NOW - WNS - 1),
             "timestamp_outside_window"),
        step("request 1 untampered: takes the only slot", NOW, r("/r1"), ok("API_KEY")),
        step("request 2: no free slot", NOW, r("/r2"), "replay_cache_full"),
        step("request 1 replayed", NOW, r("/r1"), "replayed_request"),
    ], replay_capacity=1))
    return out


APEX_NAMES = ("APIKey", "Signature", "UserId", "Nonce")


def apex_headers(key, sig, user_id, nonce_text, names=APEX_NAMES) -> list:
    return [[names[0], key], [names[1], sig], [names[2], user_id], [names[3], nonce_text]]


def apex_sig(secret: bytes, nonce_text: str, user_id: str, key: str) -> str:
    return mac(secret, (nonce_text + user_id + key).encode()).hex()


def apex_req(secret: bytes, key: str, user_id: str, nonce, *, sig=None, names=None,
             sign_user_id=None) -> dict:
    nonce_text = nonce if isinstance(nonce, str) else str(nonce)
    if sig is None:
        sig = apex_sig(secret, nonce_text, user_id if sign_user_id is None else sign_user_id,
                       key)
    headers = apex_headers(key, sig, user_id, nonce_text, names or APEX_NAMES)
    return req("POST", "/AuthenticateUser", headers=headers)


def apex_cases(ids: TcIds, roles: dict) -> list:
    sec = APEX_SECRET.encode()
    other_key, other_sec = "0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e", b"other-apex-secret"
    ring = [client(APEX_KEY, APEX_SECRET, user_id="12345"),
            client(other_key, other_sec.decode(), user_id="777")]
    n0 = 1700000000123
    me = ok(APEX_KEY)
    out = [verify_case(ids, roles, "APEX: signatures and strictly increasing nonces", "apex",
                       ring, [
        step("ms-counter nonce, user 12345", NOW, apex_req(sec, APEX_KEY, "12345", n0), me),
        step("same request again", NOW, apex_req(sec, APEX_KEY, "12345", n0),
             "replayed_request"),
        step("lower nonce", NOW, apex_req(sec, APEX_KEY, "12345", n0 - 1), "replayed_request"),
        step("higher nonce, signature in uppercase hex (accepted)", NOW,
             with_headers(apex_req(sec, APEX_KEY, "12345", n0 + 5),
                          apex_headers(APEX_KEY, apex_sig(sec, str(n0 + 5), "12345",
                                                          APEX_KEY).upper(),
                                       "12345", str(n0 + 5))), me),
        step("nonce in between the last two accepted ones", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 3), "replayed_request"),
        step("no timestamp window: now 0 is irrelevant", 0,
             apex_req(sec, APEX_KEY, "12345", n0 + 6), me),
        step("no timestamp window: now u64::MAX is irrelevant", U64_MAX,
             apex_req(sec, APEX_KEY, "12345", n0 + 7), me),
        step("header names lowercase", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 8,
                      names=("apikey", "signature", "userid", "nonce")), me),
        step("nonces are per client: the other client starts lower", NOW,
             apex_req(other_sec, other_key, "777", 50), ok(other_key)),
        step("and the first client is unaffected", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 9), me),
        step("signature under the wrong secret with a fresh nonce", NOW,
             apex_req(b"wrong", APEX_KEY, "12345", n0 + 100), "signature_mismatch"),
        step("the refused nonce did not advance the high-water mark", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 10), me),
        step("nonce u64::MAX", NOW, apex_req(sec, APEX_KEY, "12345", U64_MAX), me),
        step("after u64::MAX every nonce is a replay", NOW,
             apex_req(sec, APEX_KEY, "12345", U64_MAX), "replayed_request"),
    ])]

    small = [client("apex-small", "small-secret", user_id="12")]
    s = b"small-secret"
    legit = apex_req(s, "apex-small", "12", 345)
    out.append(verify_case(ids, roles, "APEX digit-shift attack: Nonce||UserId has no separator, "
                           "so UserId must be bound to the key", "apex", small, [
        step("attacker moves a digit from UserId into Nonce: Nonce 3451, UserId 2 (same "
             "message '34512apex-small', same valid signature)", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "2",
                                              "3451")), "user_id_mismatch"),
        step("attacker moves digits the other way: Nonce 34, UserId 512", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "512",
                                              "34")), "user_id_mismatch"),
        step("legitimate request: Nonce 345, UserId 12", NOW, legit, ok("apex-small")),
        step("attacker after the legitimate request (Nonce 3451 > 345)", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "2",
                                              "3451")), "user_id_mismatch"),
        step("UserId '012' (same number, different bytes), correctly signed", NOW,
             apex_req(s, "apex-small", "012", 400), "user_id_mismatch"),
        step("legitimate replay", NOW, legit, "replayed_request"),
    ]))

    bad_nonces = [("abc", "letters"), ("", "empty"), ("-1", "leading minus"),
                  ("+1", "leading plus"), (" 5", "leading space"),
                  ("18446744073709551616", "u64::MAX + 1"), ("1.5", "decimal"),
                  ("1e3", "exponent"), ("000000000000000000001", "21 digits")]
    out.append(verify_case(ids, roles, "APEX: Nonce must be 1-20 ASCII digits fitting u64 "
                           "(each request correctly signed over the bad text)", "apex", ring,
                           [step(f"nonce {text!r} ({why})", NOW,
                                 apex_req(sec, APEX_KEY, "12345", text), "invalid_nonce")
                            for text, why in bad_nonces]))

    good = apex_req(sec, APEX_KEY, "12345", 42)
    sig = dict(good["headers"])["Signature"]
    bad_sigs = [(sig[:63], "63 characters"), (sig + "a", "65 characters"),
                (sig[:63] + "z", "non-hex character"), ("", "empty"),
                (sig[:63] + " ", "trailing space within 64 characters"),
                (base64.b64encode(bytes.fromhex(sig)).decode(), "base64 of the right tag")]
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(sig))
    out.append(verify_case(ids, roles, "APEX: Signature hex in either case, exactly 64 chars",
                           "apex", ring,
                           [step(f"signature: {why}", NOW,
                                 replace_header(good, "Signature", bad),
                                 "invalid_signature_encoding") for bad, why in bad_sigs]
                           + [step("mixed-case hex is accepted", NOW,
                                   replace_header(good, "Signature", mixed), ok(APEX_KEY))]))

    fresh = apex_req(sec, APEX_KEY, "12345", 1000)
    hd = dict(fresh["headers"])

    def drop(name):
        return with_headers(fresh, [[n, v] for n, v in fresh["headers"] if n != name])

    out.append(verify_case(ids, roles, "APEX: header presence, duplicates, unknown key", "apex",
                           ring, [
        *[step(f"{name} missing", NOW, drop(name), "missing_credential")
          for name in ("APIKey", "Signature", "UserId", "Nonce")],
        step("Nonce twice", NOW, with_headers(fresh, fresh["headers"] + [["nonce", hd["Nonce"]]]),
             "duplicate_header"),
        step("UserId twice with different values", NOW,
             with_headers(fresh, fresh["headers"] + [["UserId", "2"]]), "duplicate_header"),
        step("unknown APIKey (signed with some secret)", NOW,
             apex_req(sec, "f" * 32, "12345", 1000), "unknown_key"),
        step("another client's UserId under this key, correctly signed", NOW,
             apex_req(sec, APEX_KEY, "777", 1001), "user_id_mismatch"),
        step("another client's key with this client's secret", NOW,
             apex_req(sec, other_key, "777", 1002), "signature_mismatch"),
        step("the well-formed request", NOW, fresh, ok(APEX_KEY)),
    ]))
    return out


def build_verify(roles: dict) -> dict:
    ids = TcIds()
    tests = static_cases(ids, roles) + aevo_secret_cases(ids, roles) + aevo_cases(ids, roles)
    tests += apex_cases(ids, roles)
    return {
        **file_header(
            "Server-side verification vectors. Each test builds ONE verifier (keyring, "
            "window, replay capacity) and runs its steps in order; state (replay cache, APEX "
            "nonce high-water marks) carries over between steps.",
            [
                "keyring entries: static-key clients have key (and secondary_key) with id "
                "a label; HMAC/secret clients have id = key id and secret or secret_hex "
                "(and secondary_secret, text). role is a Securosys role name or null. APEX "
                "clients have user_id.",
                "A valid step's principal is {id, slot: primary|secondary, role}.",
                "authorize: true also checks the principal's role against policy.json's "
                "'roles' for request.path (authentication first, then canonical-path check, "
                "then pattern match).",
                "Header names match case-insensitively. A required header absent is "
                "missing_credential, present twice duplicate_header.",
                "Each invalid step breaks exactly one rule (checked by the generator's "
                "reference verifier, which runs every independent check), so the order of "
                "checks does not matter. Replay (same key id + signature while live, or an "
                "APEX nonce not above the last accepted one) and replay_cache_full are "
                "counted as independent checks too.",
                "A step that fails changes no state: no replay slot is taken, no nonce "
                "high-water mark moves.",
                "Replay cache entries for aevo are (key id, signature, ts). An entry is live "
                "while now_ns <= ts + window (saturating) and free afterwards; the cache "
                "never evicts a live entry (replay_cache_full instead). A replay is "
                "reported as replayed_request even when the cache is full.",
                "aevo: the message is built from the header texts as received (timestamp "
                "text, key id) and the method and path as received (no uppercasing); "
                "signature must be 64 lowercase hex. apex: Signature hex in either case; "
                "no timestamp window (now_ns is irrelevant).",
                "Numbers up to u64::MAX (18446744073709551615) appear in now_ns and in "
                "header texts; JSON readers must parse now_ns as an unsigned 64-bit integer.",
            ],
        ),
        "tests": tests,
    }


# ---------------------------------------------------------------------------------------
# File 4: policy.json (Securosys roles, canonical paths, pattern matching)
# ---------------------------------------------------------------------------------------

ROLE_ALLOWED = {
    "keyManagementToken": [
        "/v1/key", "/v1/key/abc?x=1", "/v1/key/", "/v1/key/my-key", "/v1/key/my-key/attributes",
        "/v1/key/a/b/attributes", "/v1/importedKey", "/v1/derivedKey", "/v1/dataObject",
        "/v1/dataObject/obj-1", "/v1/dataObject/a/b", "/v1/attestation/key/k1",
        "/v1/attestation/", "/v1/modify", "/v1/synchronousModify", "/v1/key?",
        "/v1/key/a%20b", "/v1/key/%41", "/v1/key/.hidden", "/v1/key/...",
    ],
    "keyOperationToken": [
        "/v1/certificate/synchronous/selfsign", "/v1/synchronousUnwrap",
        "/v1/synchronousUnblock", "/v1/synchronousSign", "/v1/synchronousFileDecrypt",
        "/v1/synchronousDecrypt", "/v1/synchronousBlock", "/v1/synchronousHmac",
        "/v1/fileEncrypt", "/v1/wrap", "/v1/verify", "/v1/encrypt", "/v1/createRfcTimestamp",
        "/v1/generateRandom/32", "/v1/unwrap", "/v1/unblock", "/v1/sign", "/v1/decrypt",
        "/v1/block", "/v1/request/abc-123", "/v1/filteredRequests", "/v1/sign?x=1",
        "/v1/sign?next=/../v1/key", "/v1/sign?redirect=https://example.com/a",
        "/v1/sign?q=%41%20b", "/v1/certificate/", "/v1/request/a/b/c",
    ],
    "approverToken": [
        "/v1/filteredApprovalTask", "/v1/filteredXYZApprovalTask",
        "/v1/filteredSign/Decrypt/ApprovalTask", "/v1/approval", "/v1/task",
        "/v1/approver/onboard", "/v1/approval?status=open",
    ],
    "serviceToken": [
        "/v1/versionInfo", "/v1/licenseInfo", "/v1/keystore/statistics", "/v1/hsm/log",
        "/v1/hsm/log/", "/v1/hsm/log/2024-01-01", "/v1/hsm/log/a/b",
    ],
    "approverKeyManagementToken": [
        "/v1/approverManagement/", "/v1/approverManagement/approvers",
        "/v1/approverManagement/approvers/42/keys",
    ],
}

ROLE_FORBIDDEN = {
    "keyManagementToken": [
        ("/v1/sign", "keyOperationToken's endpoint"),
        ("/v1/keys", "longer literal"),
        ("/v1/keystore/statistics", "prefix '/v1/key' without the '/' of '/v1/key/**'"),
        ("/v1/attestation", "'/v1/attestation/**' needs the trailing '/'"),
        ("/v1/dataObjects", "longer literal"),
        ("/v1/modify/", "trailing slash does not match a literal"),
        ("/v2/key", "other API version"),
        ("/v1/ke%79", "percent-encoded 'y' is matched literally, not decoded"),
        ("/", "root"),
    ],
    "keyOperationToken": [
        ("/v1/key", "keyManagementToken's endpoint"),
        ("/v1/certificate", "'/v1/certificate/**' needs the trailing '/'"),
        ("/v1/generateRandom", "'/v1/generateRandom/**' needs the trailing '/'"),
        ("/v1/approval", "approverToken's endpoint"),
        ("/v1/key?x=/../sign", "query is not matched: the path is /v1/key"),
    ],
    "approverToken": [
        ("/v1/filteredRequests", "keyOperationToken's endpoint"),
        ("/v1/filteredApprovalTasks", "'**' then literal must end the path"),
        ("/v1/approverManagement/x", "approverKeyManagementToken's endpoint"),
        ("/v1/tasks", "longer literal"),
        ("/v1/approver/onboard/x", "literal pattern has no '**'"),
    ],
    "serviceToken": [
        ("/v1/hsm/logs", "longer literal"),
        ("/v1/hsm", "shorter literal"),
        ("/v1/key", "keyManagementToken's endpoint"),
        ("/v1/keystore", "prefix of a literal"),
    ],
    "approverKeyManagementToken": [
        ("/v1/approverManagement", "'/v1/approverManagement/**' needs the trailing '/'"),
        ("/v1/approval", "approverToken's endpoint"),
        ("/v1/approverManagementX/y", "'/**' requires the '/' right after the literal"),
    ],
}

# (role, target, expected, what the attack tries)
ATTACKS = [
    ("serviceToken", "/v1/hsm/log/../../key", "non_canonical_path", "'..' segments"),
    ("keyOperationToken", "/v1/certificate/../key", "non_canonical_path", "'..' out of '/**'"),
    ("approverToken", "/v1/filtered/../../v1/key/x/ApprovalTask", "non_canonical_path",
     "'..' inside a mid-segment '**' match"),
    ("keyManagementToken", "/v1/key/../sign", "non_canonical_path", "'..' out of '/v1/key/**'"),
    ("keyManagementToken", "/v1/key/..", "non_canonical_path", "trailing '..'"),
    ("keyManagementToken", "/v1/key/.", "non_canonical_path", "trailing '.'"),
    ("keyOperationToken", "/v1/./key", "non_canonical_path", "'/./'"),
    ("keyOperationToken", "/v1/request/./../key", "non_canonical_path", "'/./' and '..'"),
    ("serviceToken", "/..", "non_canonical_path", "'..' at the root"),
    ("keyOperationToken", "//v1/sign", "non_canonical_path", "leading '//'"),
    ("keyOperationToken", "/v1//sign", "non_canonical_path", "'//' in the middle"),
    ("keyOperationToken", "/v1/request//../key", "non_canonical_path", "'//' then '..'"),
    ("keyOperationToken", "/v1/certificate/%2e%2e/key", "non_canonical_path", "'%2e%2e'"),
    ("keyOperationToken", "/v1/certificate/%2E%2E/key", "non_canonical_path", "'%2E%2E'"),
    ("keyOperationToken", "/v1/certificate/.%2e/key", "non_canonical_path", "'.%2e'"),
    ("keyOperationToken", "/v1/certificate/%252e%252e/key", "non_canonical_path",
     "double-encoded '%252e'"),
    ("serviceToken", "/v1/hsm/log/..%2f..%2fkey", "non_canonical_path", "'%2f'"),
    ("serviceToken", "/v1/hsm/log/..%2F..%2Fkey", "non_canonical_path", "'%2F'"),
    ("serviceToken", "/v1/hsm/log/..%5c..%5ckey", "non_canonical_path", "'%5c'"),
    ("serviceToken", "/v1/hsm/log/..\\..\\key", "non_canonical_path", "backslash"),
    ("keyManagementToken", "/v1/key;jsessionid=x", "non_canonical_path", "';' parameter"),
    ("keyOperationToken", "/v1/sign/..;/key", "non_canonical_path", "'..;/'"),
    ("keyOperationToken", "/v1/certificate/..;/key", "non_canonical_path",
     "'..;/' inside '/**'"),
    ("keyOperationToken", "/v1/certificate/..%3b/key", "non_canonical_path", "'%3b'"),
    ("keyOperationToken", "/v1/sign ", "non_canonical_path", "trailing space"),
    ("keyOperationToken", "/v1/sign\t", "non_canonical_path", "trailing tab"),
    ("keyOperationToken", " /v1/sign", "non_canonical_path", "leading space"),
    ("keyOperationToken", "/v1/sign\r\n", "non_canonical_path", "trailing CR LF"),
    ("keyOperationToken", "/v1/sign?x=1 y", "non_canonical_path", "space in the query"),
    ("keyOperationToken", "/v1/sign/", "forbidden", "trailing slash"),
    ("keyOperationToken", "/V1/KEY", "forbidden", "case change"),
    ("keyOperationToken", "/v1/SIGN", "forbidden", "case change of an allowed path"),
    ("keyManagementToken", "/v1/Key", "forbidden", "case change"),
    ("keyOperationToken", "/v1/sign%00", "non_canonical_path", "'%00'"),
    ("keyOperationToken", "/v1/certificate/x%00/../../key", "non_canonical_path",
     "'%00' and '..'"),
    ("keyOperationToken", "/v1/sign%0a", "non_canonical_path", "'%0a'"),
    ("keyOperationToken", "/v1/sign%1f", "non_canonical_path", "'%1f'"),
    ("keyOperationToken", "/v1/sign%7f", "non_canonical_path", "'%7f' (DEL)"),
    ("keyOperationToken", "/v1/certificate/..%c0%af..%c0%afkey", "non_canonical_path",
     "overlong UTF-8 '/' '%c0%af'"),
    ("keyOperationToken", "/v1/sign%80", "non_canonical_path", "'%80'"),
    ("keyOperationToken", "/v1/sign%ff", "non_canonical_path", "'%ff'"),
    ("keyOperationToken", "/v1/sign%2", "non_canonical_path", "'%' with one hex digit"),
    ("keyOperationToken", "/v1/sign%2?x=1", "non_canonical_path",
     "'%' with one hex digit before the query"),
    ("keyOperationToken", "/v1/sign%", "non_canonical_path", "'%' at the end"),
    ("keyOperationToken", "/v1/sign%zz", "non_canonical_path", "'%zz'"),
    ("keyOperationToken", "/v1/sign%g0", "non_canonical_path", "'%g0'"),
    ("keyOperationToken", "", "non_canonical_path", "empty target"),
    ("keyOperationToken", "*", "non_canonical_path", "asterisk-form"),
    ("keyOperationToken", "v1/sign", "non_canonical_path", "no leading '/'"),
    ("keyOperationToken", "?x=1", "non_canonical_path", "query only, empty path"),
    ("keyOperationToken", "http://hsm.example/v1/sign", "non_canonical_path",
     "absolute-form"),
    ("keyOperationToken", "/v1/sign/\u00e9", "non_canonical_path", "raw non-ASCII"),
    ("keyOperationToken", "/v1/sign\x01", "non_canonical_path", "control byte 0x01"),
    ("keyOperationToken", "/v1/sign\x7f", "non_canonical_path", "DEL"),
    ("keyOperationToken", "/v1/sign?next=/../v1/key", VALID,
     "'/../' in the query is fine: the query is not matched"),
    ("keyOperationToken", "/v1/%73ign", "forbidden",
     "'%73' ('s') is allowed but matched literally"),
    ("approverToken", "/v1/%61pproval", "forbidden", "'%61' ('a') is matched literally"),
    ("keyManagementToken", "/v1/key/%7e", VALID, "'%7e' ('~') is allowed"),
]

PATTERN_TESTS = [
    ("/v1/filtered**ApprovalTask", "/v1/filteredFooApprovalTask", VALID, "'**' inside a segment"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTask", VALID, "'**' matches empty"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredA/B/CApprovalTask", VALID,
     "'**' inside a segment crosses '/'"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTaskX", "forbidden", "extra suffix"),
    ("/v1/filtered**ApprovalTask", "/v1/filteredApprovalTas", "forbidden", "short suffix"),
    ("/v1/filtered**ApprovalTask", "/v1/FilteredXApprovalTask", "forbidden", "case-sensitive"),
    ("/v1/key/**", "/v1/key/", VALID, "'/**' matches the empty rest"),
    ("/v1/key/**", "/v1/key/a/b", VALID, "'/**' crosses segments"),
    ("/v1/key/**", "/v1/key", "forbidden", "the '/' before '**' is literal"),
    ("/v1/key/**/attributes", "/v1/key/x/attributes", VALID, "one segment"),
    ("/v1/key/**/attributes", "/v1/key/x/y/attributes", VALID, "two segments"),
    ("/v1/key/**/attributes", "/v1/key/attributes", "forbidden", "needs '/' on both sides"),
    ("/v1/key/**/attributes", "/v1/key/x/attributes/", "forbidden", "trailing slash"),
    ("/v1/*/sign", "/v1/abc/sign", VALID, "'*' one segment"),
    ("/v1/*/sign", "/v1/a/b/sign", "forbidden", "'*' does not cross '/'"),
    ("/v1/key*", "/v1/key", VALID, "'*' matches empty"),
    ("/v1/key*", "/v1/keystore", VALID, "'*' matches within the segment"),
    ("/v1/key*", "/v1/key/x", "forbidden", "'*' stops at '/'"),
    ("/v1/*", "/v1/", VALID, "'*' matches an empty last segment"),
    ("/*/*/*", "/a/b/c", VALID, "three segments"),
    ("/*/*/*", "/a/b", "forbidden", "two segments"),
    ("/*/*/*", "/a/b/c/d", "forbidden", "four segments"),
    ("/*/*/*", "/a/b/", VALID, "empty third segment"),
    ("/**", "/", VALID, "'/**' matches '/'"),
    ("/**", "/anything/at/all", VALID, "'/**' matches everything under '/'"),
    ("/", "/", VALID, "root literal"),
    ("/", "/x", "forbidden", "root literal only"),
    ("/v1/**x", "/v1/x", VALID, "'**' empty before a literal"),
    ("/v1/**x", "/v1/a/b/x", VALID, "'**' across segments before a literal"),
    ("/v1/**x", "/v1/a/b/y", "forbidden", "wrong last literal"),
    ("/a*b*c", "/abc", VALID, "two stars, empty"),
    ("/a*b*c", "/aXbYc", VALID, "two stars"),
    ("/a*b*c", "/aX/bYc", "forbidden", "'*' does not cross '/'"),
    ("/v1/Key", "/v1/key", "forbidden", "case-sensitive"),
    ("/v1/a.b+c(d)[e]{f}^$|", "/v1/a.b+c(d)[e]{f}^$|", VALID,
     "regex metacharacters are literal"),
    ("/v1/a.b+c(d)[e]{f}^$|", "/v1/aXb+c(d)[e]{f}^$|", "forbidden", "'.' is literal"),
    ("/v1/.hidden", "/v1/.hidden", VALID, "a segment starting with '.' is fine"),
    ("/v1/...", "/v1/...", VALID, "'...' is not a dot segment"),
    ("/" + "a" * 127, "/" + "a" * 127, VALID, "pattern of exactly 128 bytes"),
    ("/**a**a**a**a**a**b", "/" + "a" * 256, "forbidden",
     "hostile pattern vs 256 'a's: must stay linear"),
    ("/**a**a**a**a**a**b", "/" + "a" * 255 + "b", VALID, "hostile pattern, matching"),
    ("/*a*a*a*a*a*b", "/" + "a" * 256, "forbidden", "hostile single-star pattern"),
    ("/**/**/**/**/**/x", "/a" * 128, "forbidden", "hostile '/**/' pattern vs 128 segments"),
    ("", "/v1/key", "invalid_pattern", "empty pattern"),
    ("v1/key", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("*", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("**", "/v1/key", "invalid_pattern", "no leading '/'"),
    ("/v1/key?", "/v1/key", "invalid_pattern", "'?'"),
    ("/v1/key?x=1", "/v1/key", "invalid_pattern", "'?' query"),
    ("/v1/%2e", "/v1/key", "invalid_pattern", "'%'"),
    ("/v1/key;x", "/v1/key", "invalid_pattern", "';'"),
    ("/v1\\key", "/v1/key", "invalid_pattern", "backslash"),
    ("/v1//key", "/v1/key", "invalid_pattern", "'//'"),
    ("/**//x", "/v1/key", "invalid_pattern", "'//' after '**'"),
    ("/v1/./key", "/v1/key", "invalid_pattern", "'.' segment"),
    ("/v1/../key", "/v1/key", "invalid_pattern", "'..' segment"),
    ("/v1/key/.", "/v1/key", "invalid_pattern", "trailing '.' segment"),
    ("/v1/key/..", "/v1/key", "invalid_pattern", "trailing '..' segment"),
    ("/v1/***", "/v1/key", "invalid_pattern", "three stars"),
    ("/****", "/v1/key", "invalid_pattern", "four stars"),
    ("/v1/ key", "/v1/key", "invalid_pattern", "space"),
    ("/v1/key\t", "/v1/key", "invalid_pattern", "tab"),
    ("/v1/key\x7f", "/v1/key", "invalid_pattern", "DEL"),
    ("/v1/k\u00e9y", "/v1/key", "invalid_pattern", "non-ASCII"),
    ("/" + "a" * 128, "/" + "a" * 128, "invalid_pattern", "pattern of 129 bytes"),
]


def policy_test(ids: TcIds, roles: dict, role: str, target: str, expect: str,
                comment: str) -> dict:
    check_faults({role_fault(roles, role, target)} - {None}, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "role": role, "path": target,
            **outcome(expect)}


def pattern_test(ids: TcIds, pattern: str, path: str, expect: str, comment: str) -> dict:
    if canonical_fault(path) or "?" in path:
        raise VectorError(f"pattern test paths must be canonical, without query: {path!r}")
    fault = pattern_fault(pattern)
    if fault is None and not pattern_matches(pattern, path):
        fault = "forbidden"
    check_faults({fault} - {None}, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "pattern": pattern, "path": path,
            **outcome(expect)}


def check_role_coverage(roles: dict, tests: list) -> None:
    for role, patterns in roles.items():
        allowed = [t["path"] for t in tests if t["role"] == role and t["result"] == "valid"]
        denied = [t for t in tests if t["role"] == role and t.get("error") == "forbidden"]
        if len(allowed) < 3 or len(denied) < 2:
            raise VectorError(f"{role}: needs >= 3 allowed and >= 2 forbidden paths")
        for p in patterns:
            if not any(pattern_matches(p, path_part(a)) for a in allowed):
                raise VectorError(f"{role}: pattern {p!r} is not covered by an allowed path")


def build_policy(roles: dict) -> dict:
    ids = TcIds()
    tests = []
    for role, paths in ROLE_ALLOWED.items():
        for target in paths:
            tests.append(policy_test(ids, roles, role, target, VALID,
                                     f"{role}: allowed path"))
    for role, items in ROLE_FORBIDDEN.items():
        for target, why in items:
            tests.append(policy_test(ids, roles, role, target, "forbidden",
                                     f"{role}: not allowed ({why})"))
    for role, target, expect, why in ATTACKS:
        tests.append(policy_test(ids, roles, role, target, expect,
                                 f"attack table, {role}: {why}"))
    check_role_coverage(roles, tests)
    pattern_tests = [pattern_test(ids, p, path, expect, why)
                     for p, path, expect, why in PATTERN_TESTS]
    return {
        **file_header(
            "Securosys TSB role policy: the default role table (verbatim from the seed), "
            "role checks on request targets (canonical-path check, then pattern match), and "
            "pattern-matcher tests.",
            [
                "roles: parsed from seeds/securosys-tsb-authentication.md in document order, "
                "including its duplicate '/v1/fileEncrypt'.",
                "tests: does the role allow the request target? valid, or forbidden (no "
                "pattern matches), or non_canonical_path (checked first; refused, never "
                "normalised). The query (from the first '?') is not matched.",
                "Canonical path rules: whole target printable ASCII 0x21-0x7e; the path "
                "part starts with '/', has no '//', no '.' or '..' segment, no '\\', no ';'; "
                "every '%' is followed by two hex digits and does not encode '.', '/', "
                "'\\', ';', '%', a byte < 0x20, 0x7f or >= 0x80. Other percent escapes "
                "are allowed and matched literally (not decoded). The dot, '//', '\\', ';' "
                "and percent rules apply to the path part only; vectors keep queries free "
                "of those characters except '/../' and '//' (allowed).",
                "pattern_tests: one pattern against one canonical path: valid (match), "
                "forbidden (no match) or invalid_pattern (pattern breaks the grammar). "
                "'*' matches any run (possibly empty) of non-'/' bytes; '**' any run of any "
                "bytes; everything else is literal and case-sensitive.",
                "tcIds are unique across tests and pattern_tests.",
            ],
        ),
        "source": "seeds/securosys-tsb-authentication.md",
        "roles": roles,
        "tests": tests,
        "pattern_tests": pattern_tests,
    }


# ---------------------------------------------------------------------------------------
# Shared by the token files (jwt.json, session.json, pins.json)
# ---------------------------------------------------------------------------------------


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
    last = ot.B64URL_ALPHABET.index(text[-1])
    return text[:-1] + ot.B64URL_ALPHABET[last | 1]


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


# ---------------------------------------------------------------------------------------
# File 5: jwt.json (HS256 compact JWTs; reference in oracle_tokens.py)
# ---------------------------------------------------------------------------------------

JWT_NOW = 1700000000
JWT_KEY = "apisig-jwt-test-key/0123456789abcdef"
JWT_OTHER_KEY = "apisig-jwt-test-key/0123456789abcdeF"
JWT_HEADER = '{"alg":"HS256","typ":"JWT"}'
JWT_VALIDATION = {"leeway_s": 0, "require_exp": True, "iss": None, "aud": None, "sub": None,
                  "max_len": 8192}

# RFC 7515 Appendix A.1 (JWS using HMAC SHA-256), verbatim: the JWK's "k", the exact
# header and payload octets, and the complete JWS Compact Serialization of A.1.1.
RFC7515_A1_K = ("AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZ"
                "r1Z9CAow")
RFC7515_A1_HEADER = '{"typ":"JWT",\r\n "alg":"HS256"}'
RFC7515_A1_CLAIMS = '{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
RFC7515_A1_TOKEN = (
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
    ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
)

# Our error name -> the coarser verdict PyJWT can express (it has one exception for every
# algorithm problem).
PYJWT_FAMILY = {"algorithm_none": "algorithm", "algorithm_not_allowed": "algorithm",
                "missing_algorithm": "algorithm"}


def pyjson(claims: dict) -> str:
    """Claims as PyJWT writes them: json.dumps(..., separators=(",", ":"))."""
    return json.dumps(claims, separators=(",", ":"))


def jwt_sign_parts(key: str | bytes, h64: str, c64: str) -> str:
    """h64.c64.signature, the HMAC from both HMAC oracles."""
    raw = key if isinstance(key, bytes) else key.encode("utf-8")
    return f"{h64}.{c64}." + ot.b64url(mac(raw, f"{h64}.{c64}".encode("ascii")))


def jwt_make(claims: str | bytes, header: str | bytes = JWT_HEADER,
             key: str | bytes = JWT_KEY) -> str:
    h = header if isinstance(header, bytes) else header.encode("utf-8")
    c = claims if isinstance(claims, bytes) else claims.encode("utf-8")
    return jwt_sign_parts(key, ot.b64url(h), ot.b64url(c))


def jwt_claims_at(**extra) -> str:
    """Everyday claims: sub, iat a minute ago, exp in an hour (plus extra, in order)."""
    return pyjson({"sub": "client-7", "iat": JWT_NOW - 60, "exp": JWT_NOW + 3600, **extra})


class JwtBook:
    """jwt.json under construction. tcIds run across tests and encode; pyjwt records what
    PyJWT is declared to decide for each test (checked when PyJWT is importable)."""

    def __init__(self) -> None:
        self.ids = TcIds()
        self.tests: list = []
        self.encode: list = []
        self.pyjwt: dict = {}
        self.pyjwt_style: list = []

    def verify(self, comment: str, token: str, expect: str = VALID, *, key=JWT_KEY,
               key_hex=None, now: int = JWT_NOW, pyjwt: str | None = None, **validation) -> None:
        if not set(validation) <= set(JWT_VALIDATION):
            raise VectorError(f"{comment}: unknown validation fields {sorted(validation)}")
        v = dict(JWT_VALIDATION, **validation)
        _, faults, claims = ot.jwt_verify(key_bytes(key, key_hex), token, v, now)
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, **key_field(key, key_hex),
                "token": token, "now": now, "validation": v}
        if expect == VALID:
            case["claims"] = claims
        case.update(outcome(expect))
        self.tests.append(case)
        self.pyjwt[case["tcId"]] = pyjwt or PYJWT_FAMILY.get(expect, expect)

    def make(self, comment: str, header: str, claims: str, expect: str = VALID, *,
             key=JWT_KEY, key_hex=None, published: str | None = None,
             pyjwt_style: bool = False) -> None:
        raw_key = key_bytes(key, key_hex)
        faults, token = ot.jwt_encode(raw_key, header.encode("utf-8"), claims.encode("utf-8"))
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, **key_field(key, key_hex),
                "header": header, "claims": claims}
        if expect == VALID:
            if token != jwt_make(claims, header, raw_key):
                raise VectorError(f"{comment}: reference encoder and HMAC oracles disagree")
            if published is not None and token != published:
                raise VectorError(f"{comment}: the published token is not what the oracle makes")
            relaxed = dict(JWT_VALIDATION, require_exp=False, max_len=len(token))
            stage, _, _ = ot.jwt_verify(raw_key, token, relaxed, 0)
            if stage not in (None, "validation"):
                raise VectorError(f"{comment}: encoded token fails verification ({stage})")
            case["token"] = token
            if pyjwt_style:
                if header != JWT_HEADER or pyjson(json.loads(claims)) != claims:
                    raise VectorError(f"{comment}: not a PyJWT-style header and claims")
                self.pyjwt_style.append(case)
        case.update(outcome(expect))
        self.encode.append(case)


def jwt_encode_cases(book: JwtBook) -> None:
    k_rfc = ot.b64url_decode(RFC7515_A1_K).hex()
    book.make("RFC 7515 Appendix A.1: the HS256 example byte for byte (header and payload "
              "with CR LF and spaces, key from the JWK's k); token from the RFC text",
              RFC7515_A1_HEADER, RFC7515_A1_CLAIMS, key_hex=k_rfc, published=RFC7515_A1_TOKEN)
    book.make("PyJWT-style: sub and exp", JWT_HEADER,
              pyjson({"sub": "client-7", "exp": 1900000000}), pyjwt_style=True)
    book.make("PyJWT-style: every registered claim apisig reads, aud as a list", JWT_HEADER,
              pyjson({"iss": "https://auth.example.com", "sub": "device-42",
                      "aud": ["tsb", "zignsec"], "iat": JWT_NOW, "nbf": JWT_NOW,
                      "exp": JWT_NOW + 900, "jti": "7f3c"}), pyjwt_style=True)
    book.make("PyJWT-style: non-ASCII claim escaped by json.dumps (\\u00fc), nested object "
              "and array claims", JWT_HEADER,
              pyjson({"sub": "client-7", "name": "Z\u00fcrich", "scope": ["read", "write"],
                      "ctx": {"ip": "192.0.2.1", "mfa": True}, "exp": 1900000000}),
              pyjwt_style=True)
    book.make("PyJWT-style: empty claims set", JWT_HEADER, "{}", pyjwt_style=True)
    book.make("PyJWT-style: 64-byte binary key (one HMAC block)", JWT_HEADER,
              pyjson({"sub": "client-7", "exp": 1900000000}),
              key_hex=derived_hex("apisig jwt 64-byte key", 64), pyjwt_style=True)
    book.make("PyJWT-style: 100-byte key (longer than the block: hashed first)", JWT_HEADER,
              pyjson({"sub": "client-7", "exp": 1900000000}), key="k" * 100,
              pyjwt_style=True)
    book.make("custom header with kid, claims written with spaces: both signed as given",
              '{"alg":"HS256","typ":"JWT","kid":"2024-06"}',
              '{ "sub": "client-7", "exp": 1900000000 }')
    book.make("custom header without typ", '{"alg":"HS256"}', '{"exp":1900000000}')
    book.make("encoder refuses a header naming none", '{"alg":"none","typ":"JWT"}',
              '{"exp":1900000000}', "algorithm_none")
    book.make("encoder refuses a header naming RS256", '{"alg":"RS256","typ":"JWT"}',
              '{"exp":1900000000}', "algorithm_not_allowed")
    book.make("encoder refuses a header without alg", '{"typ":"JWT"}', '{"exp":1900000000}',
              "missing_algorithm")
    book.make("encoder refuses a header embedding a key (jwk)",
              '{"alg":"HS256","jwk":{"kty":"oct","k":"AAAA"}}', '{"exp":1900000000}',
              "embedded_key")
    book.make("encoder refuses a header with crit", '{"alg":"HS256","crit":["exp"],"exp":1}',
              '{"exp":1900000000}', "token_malformed")
    book.make("encoder refuses a header that is not JSON", '{"alg":"HS256"',
              '{"exp":1900000000}', "token_malformed")
    book.make("encoder refuses claims that are not an object", JWT_HEADER, '["client-7"]',
              "token_malformed")
    book.make("encoder refuses claims naming exp twice", JWT_HEADER,
              '{"exp":1900000000,"exp":1}', "duplicate_field")
    book.make("encoder refuses exp written as a string", JWT_HEADER, '{"exp":"1900000000"}',
              "token_malformed")
    book.make("encoder refuses an empty key", JWT_HEADER, '{"exp":1900000000}',
              "empty_secret", key="")


def jwt_valid_cases(book: JwtBook) -> None:
    k_rfc = ot.b64url_decode(RFC7515_A1_K).hex()
    std = jwt_make(jwt_claims_at())
    book.verify("PyJWT-style token: sub, iat a minute ago, exp in an hour", std)
    book.verify("RFC 7515 A.1 token one second before its exp, iss 'joe' expected",
                RFC7515_A1_TOKEN, key_hex=k_rfc, now=1300819379, iss="joe")
    book.verify("RFC 7515 A.1 token at its exp (PyJWT: expired when exp <= now)",
                RFC7515_A1_TOKEN, "token_expired", key_hex=k_rfc, now=1300819380, iss="joe")
    full = jwt_make(pyjson({"iss": "https://auth.example.com", "sub": "device-42",
                            "aud": "tsb", "iat": JWT_NOW, "nbf": JWT_NOW,
                            "exp": JWT_NOW + 900}))
    book.verify("iss, sub and aud all expected and equal; iat and nbf equal to now", full,
                iss="https://auth.example.com", sub="device-42", aud="tsb")
    book.verify("aud is a list holding the expected audience",
                jwt_make(jwt_claims_at(aud=["zignsec", "tsb", "apex"])), aud="tsb")
    book.verify("aud of 8 entries (the most accepted), expected one is last",
                jwt_make(jwt_claims_at(aud=[f"svc-{i}" for i in range(7)] + ["tsb"])),
                aud="tsb")
    book.verify("aud present but no audience expected: not checked", jwt_make(jwt_claims_at(
                aud="somebody-else")), pyjwt="claim_mismatch")
    book.verify("no exp, exp not required", jwt_make(pyjson({"sub": "client-7"})),
                require_exp=False)
    book.verify("empty claims set, exp not required", jwt_make("{}"), require_exp=False)
    book.verify("exp = u64::MAX", jwt_make(pyjson({"exp": U64_MAX})))
    book.verify("exp, nbf and iat of 0 and u64::MAX where they pass",
                jwt_make(pyjson({"nbf": 0, "iat": 0, "exp": U64_MAX})))
    book.verify("header without typ", jwt_make(jwt_claims_at(), '{"alg":"HS256"}'))
    book.verify("header with kid and typ 'at+jwt' (neither is interpreted)",
                jwt_make(jwt_claims_at(), '{"typ":"at+jwt","kid":"k-2024","alg":"HS256"}'))
    book.verify("header and claims with JSON whitespace around and inside",
                jwt_make('\t{ "sub" : "client-7" ,\n "exp" : 1900000000 }\r\n',
                         ' { "alg" : "HS256" } '))
    book.verify("claims with non-ASCII UTF-8 strings, sub compared byte for byte",
                jwt_make(json.dumps({"sub": "Z\u00fcrich-\u6771\u4eac", "exp": 1900000000},
                                    ensure_ascii=False)), sub="Z\u00fcrich-\u6771\u4eac")
    book.verify("string claims are reported as raw JSON text: escapes are not decoded",
                jwt_make('{"iss":"jo\\u0065","sub":"a\\/b","aud":["x\\"y"],'
                         '"exp":1900000000}'), pyjwt="claim_mismatch")
    book.verify("unknown claims of every JSON type are ignored",
                jwt_make(pyjson({"exp": 1900000000, "n": -1.5e-3, "t": True, "f": False,
                                 "z": None, "o": {"a": [1, {"b": []}]}, "s": ""})))
    book.verify("binary 32-byte key (key_hex)", jwt_make(jwt_claims_at(), key=bytes(range(32))),
                key=None, key_hex=bytes(range(32)).hex())


def jwt_time_cases(book: JwtBook) -> None:
    now = JWT_NOW

    def at(**claims) -> str:
        return jwt_make(pyjson({"sub": "client-7", **claims}))

    book.verify("exp = now + 1", at(exp=now + 1))
    book.verify("exp = now: expired (exp <= now)", at(exp=now), "token_expired")
    book.verify("exp = now - 1", at(exp=now - 1), "token_expired")
    book.verify("exp = 0", at(exp=0), "token_expired")
    book.verify("leeway 30: exp = now - 29 still valid", at(exp=now - 29), leeway_s=30)
    book.verify("leeway 30: exp = now - 30 expired (exp <= now - leeway)", at(exp=now - 30),
                "token_expired", leeway_s=30)
    book.verify("nbf = now", at(exp=now + 60, nbf=now))
    book.verify("nbf = now + 1: not yet valid", at(exp=now + 60, nbf=now + 1),
                "token_not_yet_valid")
    book.verify("leeway 30: nbf = now + 30 valid", at(exp=now + 60, nbf=now + 30), leeway_s=30)
    book.verify("leeway 30: nbf = now + 31 not yet valid (nbf > now + leeway)",
                at(exp=now + 60, nbf=now + 31), "token_not_yet_valid", leeway_s=30)
    book.verify("iat = now", at(exp=now + 60, iat=now))
    book.verify("iat = now + 1: issued in the future, not yet valid (as PyJWT)",
                at(exp=now + 60, iat=now + 1), "token_not_yet_valid")
    book.verify("leeway 30: iat = now + 30 valid", at(exp=now + 60, iat=now + 30), leeway_s=30)
    book.verify("leeway 30: iat = now + 31 not yet valid", at(exp=now + 60, iat=now + 31),
                "token_not_yet_valid", leeway_s=30)
    book.verify("leeway 30 does not stretch a far-future nbf", at(exp=now + 600, nbf=now + 300),
                "token_not_yet_valid", leeway_s=30)
    book.verify("exp absent and required", at(iat=now), "missing_claim")
    book.verify("exp absent and required, empty claims set", jwt_make("{}"), "missing_claim")
    book.verify("exp null counts as malformed, not absent", jwt_make('{"exp":null}'),
                "token_malformed", pyjwt="missing_claim")


def jwt_claim_cases(book: JwtBook) -> None:
    iss = "https://auth.example.com"

    def tok(**claims) -> str:
        return jwt_make(pyjson({**claims, "exp": JWT_NOW + 600}))

    book.verify("expected iss absent", tok(sub="client-7"), "missing_claim", iss=iss)
    book.verify("iss differs", tok(iss="https://evil.example.com"), "claim_mismatch", iss=iss)
    book.verify("iss differs in letter case only", tok(iss="https://Auth.example.com"),
                "claim_mismatch", iss=iss)
    book.verify("iss with a trailing slash", tok(iss=iss + "/"), "claim_mismatch", iss=iss)
    book.verify("iss is a prefix of the expected one", tok(iss=iss[:-4]), "claim_mismatch",
                iss=iss)
    book.verify("iss written with an escape ('\\u0065' for 'e') is compared as raw text: "
                "refused, never confused", jwt_make('{"iss":"jo\\u0065","exp":1900000000}'),
                "claim_mismatch", iss="joe", pyjwt="valid")
    book.verify("expected sub absent", tok(iss=iss), "missing_claim", sub="device-42",
                pyjwt="valid")
    book.verify("sub differs", tok(sub="device-43"), "claim_mismatch", sub="device-42")
    book.verify("sub 'Z\\u00fcrich' (escaped) against expected 'Z\u00fcrich'",
                jwt_make('{"sub":"Z\\u00fcrich","exp":1900000000}'), "claim_mismatch",
                sub="Z\u00fcrich", pyjwt="valid")
    book.verify("expected aud absent", tok(sub="client-7"), "missing_claim", aud="tsb")
    book.verify("aud is an empty list: treated as absent", tok(aud=[]), "missing_claim",
                aud="tsb")
    book.verify("aud string differs", tok(aud="tsb-staging"), "claim_mismatch", aud="tsb")
    book.verify("aud empty string", tok(aud=""), "claim_mismatch", aud="tsb",
                pyjwt="missing_claim")
    book.verify("aud list without the expected audience", tok(aud=["zignsec", "apex"]),
                "claim_mismatch", aud="tsb")
    book.verify("aud list holding a longer name only", tok(aud=["tsb2"]), "claim_mismatch",
                aud="tsb")


def jwt_type_cases(book: JwtBook) -> None:
    def raw(claims: str) -> str:
        return jwt_make(claims)

    cases = [
        ('{"exp":"1900000000"}', "exp as a string", "valid"),
        ('{"exp":1900000000.0}', "exp with a fraction", "valid"),
        ('{"exp":1.9e9}', "exp in exponent notation", "valid"),
        ('{"exp":-1}', "negative exp", "token_expired"),
        ('{"exp":-0}', "exp -0", "token_expired"),
        ('{"exp":18446744073709551616}', "exp = u64::MAX + 1", "valid"),
        ('{"exp":true}', "exp true", "token_expired"),
        ('{"exp":[1900000000]}', "exp in an array", "token_malformed"),
        ('{"exp":1900000000,"nbf":"0"}', "nbf as a string", "valid"),
        ('{"exp":1900000000,"iat":1.5}', "iat with a fraction", "valid"),
        ('{"exp":1900000000,"iss":7}', "iss a number", "valid"),
        ('{"exp":1900000000,"sub":null}', "sub null", "claim_mismatch"),
        ('{"exp":1900000000,"aud":5}', "aud a number", "claim_mismatch"),
        ('{"exp":1900000000,"aud":["tsb",5]}', "aud list with a number", "claim_mismatch"),
        ('{"exp":1900000000,"aud":{"tsb":true}}', "aud an object", "claim_mismatch"),
        ('{"exp":1900000000,"aud":null}', "aud null", "valid"),
        (pyjson({"exp": 1900000000, "aud": [f"svc-{i}" for i in range(9)]}),
         "aud list of 9 (more than the 8 accepted)", "claim_mismatch"),
    ]
    for claims, why, pyjwt in cases:
        book.verify(f"claim types: {why}", raw(claims), "token_malformed", pyjwt=pyjwt)


def jwt_duplicate_cases(book: JwtBook) -> None:
    book.verify("claims name exp twice (first expired, last valid)",
                jwt_make(f'{{"exp":{JWT_NOW - 100},"exp":{JWT_NOW + 3600}}}'),
                "duplicate_field", pyjwt="valid")
    book.verify("claims name sub twice", jwt_make('{"sub":"admin","sub":"client-7",'
                                                  '"exp":1900000000}'),
                "duplicate_field", pyjwt="valid")
    book.verify("claims name an unknown member twice",
                jwt_make('{"x":1,"exp":1900000000,"x":2}'), "duplicate_field", pyjwt="valid")
    book.verify("header names alg twice, both HS256",
                jwt_make(jwt_claims_at(), '{"alg":"HS256","alg":"HS256"}'), "duplicate_field",
                pyjwt="valid")
    book.verify("header names alg twice, none then HS256 (parsers that keep the last see "
                "HS256, those that keep the first see none)",
                jwt_make(jwt_claims_at(), '{"alg":"none","alg":"HS256"}'), "duplicate_field",
                pyjwt="valid")
    book.verify("header names alg twice, HS256 then none",
                jwt_make(jwt_claims_at(), '{"alg":"HS256","typ":"JWT","alg":"none"}'),
                "duplicate_field", pyjwt="algorithm")
    book.verify("header names typ twice",
                jwt_make(jwt_claims_at(), '{"alg":"HS256","typ":"JWT","typ":"JWT"}'),
                "duplicate_field", pyjwt="valid")


def jwt_header_attacks(book: JwtBook) -> None:
    claims = jwt_claims_at()
    c64 = ot.b64url(claims.encode())
    for alg in ("none", "None", "NONE", "nOnE"):
        h64 = ot.b64url(f'{{"alg":"{alg}","typ":"JWT"}}'.encode())
        book.verify(f"attack: alg '{alg}' without a signature (empty third part)",
                    f"{h64}.{c64}.", "algorithm_none")
        book.verify(f"attack: alg '{alg}' with a valid HMAC-SHA256 signature of the key",
                    jwt_sign_parts(JWT_KEY, h64, c64), "algorithm_none")
    none64 = ot.b64url(b'{"alg":"none"}')
    book.verify("attack: alg none, header with no typ, token without the third part's dot",
                f"{none64}.{c64}", "token_malformed")
    book.verify("attack: algorithm confusion, RS256 header signed with HMAC-SHA256 of the key",
                jwt_make(claims, '{"alg":"RS256","typ":"JWT"}'), "algorithm_not_allowed")
    hs512 = ot.b64url(b'{"alg":"HS512","typ":"JWT"}')
    sig512 = hmac.new(JWT_KEY.encode(), f"{hs512}.{c64}".encode(), hashlib.sha512).digest()
    book.verify("HS512 token genuinely signed with HMAC-SHA512 (64-byte signature)",
                f"{hs512}.{c64}.{ot.b64url(sig512)}", "algorithm_not_allowed")
    for alg, why in [("HS384", "another HMAC"), ("HS512", "another HMAC"),
                     ("RS256", "RSA"), ("ES256", "ECDSA"), ("PS256", "RSA-PSS"),
                     ("EdDSA", "Ed25519"), ("hs256", "HS256 in lowercase"),
                     ("Hs256", "HS256 in mixed case"), ("", "empty"),
                     ("HS256 ", "HS256 with a trailing space"),
                     ("HS256\\u0000", "HS256 with an escaped NUL"),
                     ("none ", "'none' with a trailing space")]:
        book.verify(f"alg '{alg}' ({why}), signed with HMAC-SHA256 of the key",
                    jwt_make(claims, f'{{"alg":"{alg}","typ":"JWT"}}'), "algorithm_not_allowed")
    book.verify("alg 'HS\\u0032\\u0035\\u0036' (HS256 written with escapes) is compared as raw "
                "text: refused", jwt_make(claims, '{"alg":"HS\\u0032\\u0035\\u0036"}'),
                "algorithm_not_allowed", pyjwt="valid")
    book.verify("alg 'n\\u006fne' ('none' written with an escape): refused as another "
                "algorithm (raw text is not 'none')", jwt_make(claims, '{"alg":"n\\u006fne"}'),
                "algorithm_not_allowed")
    book.verify("header without alg", jwt_make(claims, '{"typ":"JWT"}'), "missing_algorithm")
    book.verify("empty header object", jwt_make(claims, "{}"), "missing_algorithm")
    book.verify("header member 'ALG' is not 'alg'", jwt_make(claims, '{"ALG":"HS256"}'),
                "missing_algorithm")
    for value, why in [("null", "null"), ("256", "a number"), ('["HS256"]', "an array"),
                       ('{"name":"HS256"}', "an object")]:
        book.verify(f"alg is {why}", jwt_make(claims, f'{{"alg":{value}}}'), "token_malformed",
                    pyjwt="algorithm")
    for member, value in [("jwk", '{"kty":"oct","k":"c2VjcmV0"}'),
                          ("jku", '"https://attacker.example/jwks.json"'),
                          ("x5u", '"https://attacker.example/cert.pem"'),
                          ("x5c", '["MIIBszCCAVmgAwIBAgIUQ"]'), ("jwk", "null")]:
        book.verify(f"header {member}: {value}", jwt_make(
            claims, f'{{"alg":"HS256","typ":"JWT","{member}":{value}}}'), "embedded_key",
            pyjwt="valid")
    book.verify("header crit (no extension is understood)",
                jwt_make(claims, '{"alg":"HS256","crit":["exp"],"exp":1900000000}'),
                "token_malformed")
    book.verify("header crit, empty list", jwt_make(claims, '{"alg":"HS256","crit":[]}'),
                "token_malformed")
    book.verify("header crit b64 (RFC 7797 unencoded payload)",
                jwt_make(claims, '{"alg":"HS256","b64":true,"crit":["b64"]}'),
                "token_malformed", pyjwt="valid")


def jwt_json_cases(book: JwtBook) -> None:
    claims = jwt_claims_at()
    headers = [
        ('["HS256"]', "is an array", None),
        ('"HS256"', "is a string", None),
        ("null", "is null", None),
        ("42", "is a number", None),
        ("", "is empty", None),
        ('{"alg":"HS256","typ":"JWT"}x', "is followed by garbage", None),
        ('{"alg":"HS256"}{"alg":"none"}', "is two objects", None),
        ('{"alg":"HS256","typ":"JWT"', "is truncated", None),
        ('{"alg":"HS256",}', "has a trailing comma", None),
        ("{'alg':'HS256'}", "uses single quotes", None),
        ('{alg:"HS256"}', "has an unquoted member name", None),
        ('\ufeff{"alg":"HS256"}', "starts with a UTF-8 byte order mark", "valid"),
    ]
    for header, why, pyjwt in headers:
        book.verify(f"header JSON {why}", jwt_make(claims, header), "token_malformed",
                    pyjwt=pyjwt)
    book.verify("header not UTF-8 (0xff inside a string)",
                jwt_make(claims, b'{"alg":"HS256","typ":"\xff"}'), "token_malformed")
    bodies = [
        ("[]", "is an array"),
        ('"client-7"', "is a string"),
        ("null", "is null"),
        ("1900000000", "is a number"),
        ("", "is empty"),
        ('{"exp":1900000000}x', "is followed by garbage"),
        ('{"exp":1900000000}}', "is followed by a brace"),
        ('{"exp":1900000000}{"exp":1}', "is two objects"),
        ('{"exp":1900000000', "is truncated"),
        ('{"exp":1900000000,}', "has a trailing comma"),
        ('{"exp":01900000000}', "has a leading zero in exp"),
        ('{"exp":NaN}', "has NaN for exp"),
    ]
    for body, why in bodies:
        book.verify(f"claims JSON {why} (signature valid)", jwt_make(body), "token_malformed")
    book.verify("claims not UTF-8 (0xc3 0x28 inside a string)",
                jwt_make(b'{"exp":1900000000,"name":"\xc3\x28"}'), "token_malformed")
    book.verify("claims followed by a newline (trailing whitespace is allowed)",
                jwt_make('{"exp":1900000000}\n'))


def jwt_signature_cases(book: JwtBook) -> None:
    good = jwt_make(jwt_claims_at())
    h64, c64, s64 = good.split(".")
    # A token whose signature holds '-' or '_', so the standard alphabet can be swapped in.
    alt = first_matching(lambda i: jwt_make(jwt_claims_at(jti=f"n-{i}")),
                         lambda t: "-" in t.split(".")[2] or "_" in t.split(".")[2],
                         "signature with '-' or '_'")
    book.verify("signature of another key", jwt_make(jwt_claims_at(), key=JWT_OTHER_KEY),
                "signature_mismatch")
    book.verify("verifier key differs in its last byte", good, "signature_mismatch",
                key=JWT_OTHER_KEY)
    book.verify("empty key", jwt_make(jwt_claims_at(), key=b""), "empty_secret", key="")
    book.verify("all-zero 32-byte signature", f"{h64}.{c64}.{ot.b64url(bytes(32))}",
                "signature_mismatch")
    sig = bytearray(ot.b64url_decode(s64))
    sig[31] ^= 0x80
    book.verify("last signature byte with one bit flipped",
                f"{h64}.{c64}.{ot.b64url(bytes(sig))}", "signature_mismatch")
    other = jwt_make(jwt_claims_at(sub="admin"))
    book.verify("claims changed (sub admin), signature of the original kept",
                f"{h64}.{other.split('.')[1]}.{s64}", "signature_mismatch")
    book.verify("signature of another token pasted on", f"{h64}.{c64}.{other.split('.')[2]}",
                "signature_mismatch")
    h2 = ot.b64url(b'{"typ":"JWT","alg":"HS256"}')
    book.verify("header rewritten (same members, other order), signature of the original kept",
                f"{h2}.{c64}.{s64}", "signature_mismatch")
    book.verify("signature over the decoded header and claims instead of their base64url",
                f"{h64}.{c64}." + ot.b64url(mac(JWT_KEY.encode(),
                                                JWT_HEADER.encode() + b"." + jwt_claims_at()
                                                .encode())),
                "signature_mismatch")
    book.verify("empty signature", f"{h64}.{c64}.", "token_malformed",
                pyjwt="signature_mismatch")
    book.verify("signature truncated to 40 characters (30 bytes)", f"{h64}.{c64}.{s64[:40]}",
                "token_malformed", pyjwt="signature_mismatch")
    book.verify("signature truncated by its last character (42 characters)",
                f"{h64}.{c64}.{s64[:42]}", "token_malformed", pyjwt="token_malformed")
    book.verify("signature with one character appended (44 characters, 33 bytes)",
                f"{h64}.{c64}.{s64}A", "token_malformed", pyjwt="signature_mismatch")
    book.verify("signature of 33 bytes (the tag and a zero byte)",
                f"{h64}.{c64}.{ot.b64url(ot.b64url_decode(s64) + bytes(1))}",
                "token_malformed", pyjwt="signature_mismatch")
    book.verify("signature as lowercase hex (64 characters)",
                f"{h64}.{c64}.{ot.b64url_decode(s64).hex()}", "token_malformed",
                pyjwt="signature_mismatch")
    book.verify("signature padded with '='", f"{h64}.{c64}.{b64_padded(s64)}",
                "token_malformed", pyjwt="valid")
    a_h, a_c, a_s = alt.split(".")
    book.verify("signature in the standard alphabet ('+' '/')",
                f"{a_h}.{a_c}.{b64_std_alphabet(a_s)}", "token_malformed")
    book.verify("signature with a non-zero unused trailing bit (same bytes to a lenient "
                "decoder)", f"{h64}.{c64}.{b64_unused_bits(s64)}", "token_malformed")
    book.verify("signature with a space inside", f"{h64}.{c64}.{b64_with_space(s64)}",
                "token_malformed")
    book.verify("signature followed by a newline", f"{good}\n", "token_malformed")
    book.verify("signature of 45 characters (length 1 mod 4)",
                f"{h64}.{c64}.{b64_length_1_mod_4(s64)}", "token_malformed")


def jwt_encoding_cases(book: JwtBook) -> None:
    """Non-canonical base64url in the header and the claims part, each signed as sent,
    so the encoding is the only fault."""
    def long_b64(text_of, what):
        return first_matching(
            text_of, lambda s: len(ot.b64url(s.encode())) % 4 in (2, 3)
            and any(c in ot.b64url(s.encode()) for c in "-_"), what)

    header = long_b64(lambda i: f'{{"alg":"HS256","typ":"JWT","kid":"k>{i}?"}}',
                      "header with '-' or '_' and unused bits")
    claims = long_b64(lambda i: jwt_claims_at(jti=f"~{i}>"),
                      "claims with '-' or '_' and unused bits")
    h64, c64 = ot.b64url(header.encode()), ot.b64url(claims.encode())
    book.verify("header and claims whose base64url has '-' or '_' and unused bits "
                "(the base of the next cases)", jwt_sign_parts(JWT_KEY, h64, c64))
    variants = [
        ("padded with '='", b64_padded, "valid"),
        ("in the standard alphabet ('+' '/')", b64_std_alphabet, None),
        ("with a non-zero unused trailing bit", b64_unused_bits, None),
        ("with a space inside", b64_with_space, None),
        ("of length 1 mod 4", b64_length_1_mod_4, None),
    ]
    for why, change, pyjwt in variants:
        book.verify(f"header part {why}, signed as sent",
                    jwt_sign_parts(JWT_KEY, change(h64), c64), "token_malformed", pyjwt=pyjwt)
        book.verify(f"claims part {why}, signed as sent",
                    jwt_sign_parts(JWT_KEY, h64, change(c64)), "token_malformed", pyjwt=pyjwt)
    book.verify("claims part with a trailing newline, signed as sent",
                jwt_sign_parts(JWT_KEY, h64, c64 + "\n"), "token_malformed")


def jwt_structure_cases(book: JwtBook) -> None:
    good = jwt_make(jwt_claims_at())
    h64, c64, s64 = good.split(".")
    for token, why in [
        ("", "empty token"),
        (f"{h64}.{c64}", "two parts"),
        (f"{good}.", "four parts (trailing dot)"),
        (f"{h64}.{c64}.{s64}.{s64}", "four parts"),
        (f"{h64}..{c64}.{s64}.{s64}", "five parts, JWE-shaped"),
        ("..", "three empty parts"),
        (f".{good}", "leading dot"),
        (good.replace(".", "\u3002"), "parts separated by U+3002 IDEOGRAPHIC FULL STOP"),
    ]:
        book.verify(f"structure: {why}", token, "token_malformed")
    book.verify("'Bearer ' prefix left on the token", "Bearer " + good, "token_malformed")


def jwt_length_cases(book: JwtBook) -> None:
    def padded(n: int) -> str:
        return jwt_make(pyjson({"exp": 1900000000, "pad": "p" * n}))

    exact = first_matching(padded, lambda t: len(t) == 8192, "token of 8192 bytes")
    over = first_matching(padded, lambda t: len(t) == 8193, "token of 8193 bytes")
    book.verify("token of exactly 8192 bytes (max_len)", exact, pyjwt="valid")
    book.verify("token of 8193 bytes, otherwise valid", over, "token_too_long", pyjwt="valid")
    small = jwt_make(jwt_claims_at())
    book.verify("token exactly as long as a custom max_len", small, max_len=len(small))
    book.verify("token one byte longer than a custom max_len", small, "token_too_long",
                max_len=len(small) - 1, pyjwt="valid")
    book.verify("garbage longer than max_len: the length is checked first", "x" * 8193,
                "token_too_long", pyjwt="token_malformed")


def build_jwt() -> tuple:
    book = JwtBook()
    jwt_valid_cases(book)
    jwt_time_cases(book)
    jwt_claim_cases(book)
    jwt_type_cases(book)
    jwt_duplicate_cases(book)
    jwt_header_attacks(book)
    jwt_json_cases(book)
    jwt_signature_cases(book)
    jwt_encoding_cases(book)
    jwt_structure_cases(book)
    jwt_length_cases(book)
    jwt_encode_cases(book)
    obj = {
        **file_header(
            "HS256 compact JWTs: verification cases (valid tokens and the attack table) and "
            "encode cases whose exact token an implementation must produce. Reference: a "
            "hand-written JWT in oracle_tokens.py (base64url, strict JSON, hmac/hashlib).",
            [
                "tests: key is UTF-8 text (key_hex for binary keys); token is the compact "
                "serialization as received; now is UNIX seconds; validation is {leeway_s, "
                "require_exp, iss, aud, sub, max_len} (null: no expectation). A valid case "
                "gives the registered claims read: iss, sub (raw JSON string text, escapes "
                "not decoded, or null), aud (list, [] if absent), exp, nbf, iat (integers "
                "or null).",
                "Checks run in stages, in this order: key (empty: empty_secret); length "
                "(bytes > max_len: token_too_long); parts (exactly three, split on '.'); "
                "header; signature; claims; validation. The first stage with a failed check "
                "decides and later stages are not looked at (alg none without a signature "
                "is algorithm_none). Inside a stage, every check an invalid case fails "
                "gives the declared error, so the order of checks inside a stage never "
                "matters.",
                "base64url: canonical unpadded only: no '=', no '+' or '/', no whitespace, "
                "length not 1 mod 4, unused trailing bits zero; else token_malformed.",
                "header: a JSON object (else token_malformed); any member repeated: "
                "duplicate_field (a repeated alg is not judged further); no alg: "
                "missing_algorithm; alg not a string: token_malformed; alg equal to 'none' "
                "ignoring ASCII case: algorithm_none; alg other than exactly 'HS256': "
                "algorithm_not_allowed; jwk, jku, x5u or x5c present (any value): "
                "embedded_key; crit present: token_malformed. alg is compared as raw JSON "
                "text, so 'HS\\u0032\\u0035\\u0036' is not HS256. Other members are ignored.",
                "signature: canonical base64url of exactly 32 bytes (else token_malformed), "
                "equal to HMAC-SHA256(key, header64 '.' claims64) as sent (else "
                "signature_mismatch).",
                "claims: a JSON object (else token_malformed); any member repeated: "
                "duplicate_field; exp, nbf, iat: JSON integers 0..2^64-1 written as plain "
                "digits (no sign, fraction, exponent, quotes), else token_malformed; iss, "
                "sub: strings; aud: a string or an array of at most 8 strings; other members "
                "are ignored. Trailing whitespace after the JSON is allowed, anything else "
                "is token_malformed.",
                "validation, as PyJWT: expired iff exp <= now - leeway (token_expired); "
                "nbf > now + leeway or iat > now + leeway: token_not_yet_valid; exp absent "
                "while require_exp: missing_claim; an expected iss/sub/aud absent (aud: "
                "absent or []): missing_claim; different (compared as raw JSON text; aud: "
                "the token's string or list must hold it): claim_mismatch. aud is not "
                "checked when none is expected. Vectors keep now >= leeway_s.",
                "encode: key (or key_hex), header and claims as exact JSON text; a valid "
                "case's token is base64url(header) '.' base64url(claims) '.' "
                "base64url(HMAC-SHA256), written exactly. The encoder checks the header "
                "as verification does and the claims' shape (object, no repeated member, "
                "types), not times. The first case is RFC 7515 Appendix A.1, its token "
                "copied from the RFC; the PyJWT-style ones use PyJWT's header "
                "{\"alg\":\"HS256\",\"typ\":\"JWT\"} and json.dumps(claims, "
                "separators=(',', ':')).",
                "tcIds are unique across tests and encode.",
                "PyJWT interop: generate.py decodes every test with PyJWT (algorithms "
                "['HS256'], the same leeway, issuer, audience, subject, require exp) and "
                "re-encodes the PyJWT-style encode cases when PyJWT is importable; where "
                "PyJWT decides differently the generator declares it per case (checked "
                "against PyJWT 2.15.1; a different PyJWT version is reported, not failed).",
            ],
        ),
        "algorithm": "HS256",
        "tests": book.tests,
        "encode": book.encode,
    }
    return obj, book


PYJWT_ERRORS = [
    ("ExpiredSignatureError", "token_expired"),
    ("ImmatureSignatureError", "token_not_yet_valid"),
    ("MissingRequiredClaimError", "missing_claim"),
    ("InvalidIssuerError", "claim_mismatch"),
    ("InvalidAudienceError", "claim_mismatch"),
    ("InvalidSubjectError", "claim_mismatch"),
    ("InvalidSignatureError", "signature_mismatch"),
    ("InvalidAlgorithmError", "algorithm"),
    ("InvalidKeyError", "empty_secret"),
    ("DecodeError", "token_malformed"),
    ("InvalidTokenError", "token_malformed"),
]


def pyjwt_interop(book: JwtBook, strict: bool) -> None:
    """Evidence that the vectors mean what PyJWT means: PyJWT re-encodes the PyJWT-style
    encode cases byte for byte and decodes every test (its clock frozen at the case's now);
    its verdict must be the one declared for the case. Prints a summary; with strict
    (--pyjwt) a disagreement, or PyJWT missing, is an error."""
    try:
        import jwt as pyjwt  # optional: evidence only
    except ImportError:
        if strict:
            raise VectorError("--pyjwt: PyJWT is not importable") from None
        print("jwt.json: PyJWT not importable, interop evidence skipped")
        return
    import datetime as dt
    import inspect
    import warnings

    frozen = [0]

    class FrozenClock(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return dt.datetime.fromtimestamp(frozen[0], tz)

    has_subject = "subject" in inspect.signature(pyjwt.decode).parameters
    problems = []
    for case in book.pyjwt_style:
        made = pyjwt.encode(json.loads(case["claims"]), key_bytes(case.get("key"),
                            case.get("key_hex")), algorithm="HS256")
        made = made.decode() if isinstance(made, bytes) else made
        if made != case["token"]:
            problems.append(f"encode tcId {case['tcId']}: PyJWT writes {made}")
    same = differ = 0
    saved = pyjwt.api_jwt.datetime
    pyjwt.api_jwt.datetime = FrozenClock
    try:
        for case in book.tests:
            v = case["validation"]
            frozen[0] = case["now"]
            kwargs = {"algorithms": ["HS256"], "leeway": v["leeway_s"], "issuer": v["iss"],
                      "audience": v["aud"],
                      "options": {"require": ["exp"] if v["require_exp"] else []}}
            if has_subject:
                kwargs["subject"] = v["sub"]
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    pyjwt.decode(case["token"], key_bytes(case.get("key"), case.get("key_hex")),
                                 **kwargs)
                verdict = VALID
            except Exception as err:  # any failure is a verdict
                verdict = next((name for cls, name in PYJWT_ERRORS
                                if isinstance(err, getattr(pyjwt.exceptions, cls, ()))),
                               f"{type(err).__name__}")
            declared = book.pyjwt[case["tcId"]]
            if verdict != declared:
                problems.append(f"tcId {case['tcId']} ({case['comment']}): PyJWT says "
                                f"{verdict}, declared {declared}")
            elif declared == PYJWT_FAMILY.get(case.get("error"), case.get("error", VALID)):
                same += 1
            else:
                differ += 1
    finally:
        pyjwt.api_jwt.datetime = saved
    print(f"jwt.json: PyJWT {pyjwt.__version__}: {len(book.pyjwt_style)} PyJWT-style encode "
          f"tokens checked; {same} tests decided alike, {differ} differ as declared, "
          f"{len(problems)} not as declared")
    for p in problems:
        print(f"  PyJWT {pyjwt.__version__}: {p}")
    if problems and strict:
        raise VectorError("PyJWT interop: verdicts not as declared (see above)")


# ---------------------------------------------------------------------------------------
# File 6: session.json (APEX aptoken session tokens; reference in oracle_tokens.py)
# ---------------------------------------------------------------------------------------

S_NOW = 1700000000
S_EXP = S_NOW + 3600
S_PRIMARY = "apisig-session-primary-2024-Qm8vT3xK"
S_SECONDARY = "apisig-session-secondary-2023-Lr5wN9pD"
S_USER = "12345"
S_KEY = APEX_KEY
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def s_payload(user_id=S_USER, key_id=S_KEY, expires=S_EXP, version=1) -> bytes:
    u = user_id if isinstance(user_id, bytes) else user_id.encode("ascii")
    k = key_id if isinstance(key_id, bytes) else key_id.encode("ascii")
    return ot.session_payload(u, k, expires, version)


def s_token(payload: bytes, secret: str = S_PRIMARY, label: bytes = ot.SESSION_LABEL) -> str:
    """b64url(payload) '.' b64url(tag), the tag from both HMAC oracles."""
    tag = mac(secret.encode("utf-8"), label + payload)
    if label == ot.SESSION_LABEL and tag != ot.session_tag(secret.encode("utf-8"), payload):
        raise VectorError("session tag: HMAC oracles disagree")
    return ot.b64url(payload) + "." + ot.b64url(tag)


class SessionBook:
    def __init__(self) -> None:
        self.ids = TcIds()
        self.tests: list = []
        self.issue: list = []

    def verify(self, comment: str, token: str, expect: str = VALID, *, now: int = S_NOW,
               primary: str = S_PRIMARY, secondary: str | None = S_SECONDARY) -> None:
        faults, session = ot.session_verify(
            primary.encode("utf-8"), None if secondary is None else secondary.encode("utf-8"),
            token, now)
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, "primary": primary,
                "secondary": secondary, "now": now, "token": token}
        if expect == VALID:
            case["session"] = session
        case.update(outcome(expect))
        self.tests.append(case)

    def make(self, comment: str, user_id: str, key_id: str, expires: int,
             expect: str = VALID, *, primary: str = S_PRIMARY) -> None:
        faults = [] if primary else ["empty_secret"]
        u, k = user_id.encode("utf-8"), key_id.encode("utf-8")
        if not all(ot._session_id(x) for x in (u, k)):
            raise VectorError(f"{comment}: issue cases keep ids valid")
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, "primary": primary,
                "user_id": user_id, "key_id": key_id, "expires": expires}
        if expect == VALID:
            token = s_token(s_payload(user_id, key_id, expires), primary)
            back, session = ot.session_verify(primary.encode(), None, token, 0)
            want = {"user_id": user_id, "key_id": key_id, "expires": expires,
                    "slot": "primary"}
            if expires > 0 and (back or session != want):
                raise VectorError(f"{comment}: issued token does not verify back")
            case["token"] = token
        case.update(outcome(expect))
        self.issue.append(case)


def session_valid_cases(book: SessionBook) -> None:
    ok_p = s_token(s_payload())
    book.verify("signed with the primary secret", ok_p)
    book.verify("signed with the primary secret, no secondary configured", ok_p,
                secondary=None)
    book.verify("signed with the secondary secret (rotation): slot secondary",
                s_token(s_payload(), S_SECONDARY))
    book.verify("user id and key id of 1 byte", s_token(s_payload("7", "k")))
    book.verify("user id and key id of 64 bytes (the most): the longest token, 230 bytes",
                s_token(s_payload("u" * 64, "k" * 64)))
    book.verify("ids spanning printable ASCII ('!' and '~' at the edges, '.' inside)",
                s_token(s_payload(PRINTABLE[:64], PRINTABLE[30:])))
    book.verify("one second before expiry", ok_p, now=S_EXP - 1)
    book.verify("expires = u64::MAX", s_token(s_payload(expires=U64_MAX)))
    book.verify("non-ASCII secret text (used as its UTF-8 bytes); expires 1 at now 0",
                s_token(s_payload(expires=1), "\u00e9t\u00e9 \u2603 secret"),
                primary="\u00e9t\u00e9 \u2603 secret", now=0)
    for n in (1, 2, 3):
        payload = s_payload("u" * n, "k" * 32)
        book.verify(f"payload of {len(payload)} bytes ({len(payload) % 3} mod 3)",
                    s_token(payload))


def session_invalid_cases(book: SessionBook) -> None:
    good = s_token(s_payload())
    p64, t64 = good.split(".")
    tag = ot.b64url_decode(t64)
    book.verify("now equal to expires", good, "token_expired", now=S_EXP)
    book.verify("one second after expiry", good, "token_expired", now=S_EXP + 1)
    book.verify("expires 0", s_token(s_payload(expires=0)), "token_expired")
    book.verify("signed with the secondary secret, none configured",
                s_token(s_payload(), S_SECONDARY), "signature_mismatch", secondary=None)
    book.verify("signed with an unrelated secret", s_token(s_payload(), "not-the-secret"),
                "signature_mismatch")
    book.verify("primary and secondary swapped between two servers: a third secret",
                s_token(s_payload(), S_PRIMARY + "-other-server"), "signature_mismatch")
    book.verify("tag without the domain label (HMAC of the payload alone)",
                s_token(s_payload(), label=b""), "signature_mismatch")
    book.verify("label without its NUL byte", s_token(s_payload(), label=b"apisig-session-v1"),
                "signature_mismatch")
    book.verify("tag over the payload's base64url text instead of its bytes",
                p64 + "." + ot.b64url(mac(S_PRIMARY.encode(), ot.SESSION_LABEL + p64.encode())),
                "signature_mismatch")
    for field, changed in [("expires extended by a day", s_payload(expires=S_EXP + 86400)),
                           ("user id changed", s_payload(user_id="12346")),
                           ("key id changed", s_payload(key_id=S_KEY[:-1] + "2"))]:
        book.verify(f"payload tampered ({field}), original tag kept",
                    ot.b64url(changed) + "." + t64, "signature_mismatch")
    flipped = bytearray(tag)
    flipped[0] ^= 0x01
    book.verify("tag with one bit flipped", f"{p64}.{ot.b64url(bytes(flipped))}",
                "signature_mismatch")
    book.verify("all-zero tag", f"{p64}.{ot.b64url(bytes(32))}", "signature_mismatch")
    book.verify("tag of another valid token", f"{p64}." + s_token(s_payload("99")).split(".")[1],
                "signature_mismatch")
    book.verify("empty primary secret", good, "empty_secret", primary="")
    book.verify("empty secondary secret (null means none; empty is refused)", good,
                "empty_secret", secondary="")


def session_malformed_cases(book: SessionBook) -> None:
    good = s_token(s_payload())
    p64, t64 = good.split(".")
    tag = ot.b64url_decode(t64)
    for token, why in [("", "empty token"), (".", "two empty parts"), (p64, "no dot"),
                       (f"{p64}.", "empty tag"),
                       ("." + ot.b64url(mac(S_PRIMARY.encode(), ot.SESSION_LABEL)),
                        "empty payload (tag valid)"),
                       (f"{good}.{t64}", "three parts"), (f"{p64}..{t64}", "empty middle part"),
                       (jwt_make(jwt_claims_at()), "a JWT"),
                       (APEX_SESSION_TOKEN, "an opaque UUID session token")]:
        book.verify(f"structure: {why}", token, "token_malformed")
    book.verify("tag of 31 bytes", f"{p64}.{ot.b64url(tag[:31])}", "token_malformed")
    book.verify("tag of 33 bytes", f"{p64}.{ot.b64url(tag + bytes(1))}", "token_malformed")
    book.verify("tag as hex", f"{p64}.{tag.hex()}", "token_malformed")

    # Base64url faults, payload and tag; each token is otherwise valid.
    alt = first_matching(lambda i: s_token(s_payload(user_id="123456", expires=S_EXP + i)),
                         lambda t: len(t.split(".")[0]) % 4 in (2, 3)
                         and any(c in t.split(".")[0] for c in "-_")
                         and any(c in t.split(".")[1] for c in "-_"),
                         "session token with '-' or '_' in both parts and unused bits")
    a64, b64 = alt.split(".")
    book.verify("the base of the next cases: both parts hold '-' or '_'", alt, now=S_NOW)
    for why, change in [("padded with '='", b64_padded),
                        ("in the standard alphabet ('+' '/')", b64_std_alphabet),
                        ("with a non-zero unused trailing bit", b64_unused_bits),
                        ("with a space inside", b64_with_space),
                        ("of length 1 mod 4", b64_length_1_mod_4)]:
        book.verify(f"payload part {why}", f"{change(a64)}.{b64}", "token_malformed")
        book.verify(f"tag part {why}", f"{a64}.{change(b64)}", "token_malformed")
    book.verify("trailing newline", alt + "\n", "token_malformed")

    # Payloads that decode but do not parse, each signed correctly with the primary.
    u, k = S_USER.encode(), S_KEY.encode()
    exp8 = S_EXP.to_bytes(8, "big")
    payloads = [
        (s_payload(version=0), "version 0"),
        (s_payload(version=2), "version 2"),
        (s_payload(version=0xFF), "version 0xff"),
        (b"", "empty payload"),
        (b"\x01", "version only"),
        (b"\x01" + exp8, "version and expires only"),
        (b"\x01" + exp8 + bytes([len(u)]) + u, "no key id length byte"),
        (b"\x01" + exp8 + bytes([len(u)]) + u + bytes([len(k)]) + k[:-1],
         "key id shorter than its length byte"),
        (b"\x01" + exp8 + bytes([60]) + u + bytes([len(k)]) + k,
         "user id length byte larger than what follows"),
        (s_payload() + b"\x00", "one trailing byte after the key id"),
        (s_payload() + s_payload(), "two payloads back to back"),
        (s_payload(user_id=b""), "user id of 0 bytes"),
        (s_payload(user_id="u" * 65), "user id of 65 bytes"),
        (s_payload(key_id=b""), "key id of 0 bytes"),
        (s_payload(key_id="k" * 65), "key id of 65 bytes"),
        (s_payload(user_id="123 45"), "user id with a space"),
        (s_payload(user_id="12345\x7f"), "user id with DEL"),
        (s_payload(user_id="12\x0045"), "user id with NUL"),
        (s_payload(user_id="caf\u00e9".encode()), "user id with UTF-8 '\u00e9'"),
        (s_payload(key_id=S_KEY + "\n"), "key id with LF"),
        (s_payload(key_id=b"\x80" * 4), "key id of bytes >= 0x80"),
    ]
    for payload, why in payloads:
        book.verify(f"payload: {why} (tag valid)", s_token(payload), "token_malformed")

    # Length limit: 256 bytes is still parsed; 257 is refused before anything else.
    long_payload = s_payload("u" * 64, "k" * 64) + b"\x00" * 20
    at_limit = s_token(long_payload)
    if len(at_limit) != 256:
        raise VectorError("session: the at-limit token is not 256 bytes")
    book.verify("256 bytes (the limit), trailing bytes after the key id: parsed, malformed",
                at_limit, "token_malformed")
    book.verify("257 bytes: refused on length alone", at_limit + "A", "token_too_long")
    book.verify("garbage of 4096 bytes", "A" * 4096, "token_too_long")


def session_issue_cases(book: SessionBook) -> None:
    book.make("user 12345, APEX key id, expires in an hour", S_USER, S_KEY, S_EXP)
    book.make("ids of 1 byte", "7", "k", S_EXP)
    book.make("ids of 64 bytes", "u" * 64, PRINTABLE[-64:], S_EXP)
    book.make("expires u64::MAX", "alice@example.com", "key-2", U64_MAX)
    book.make("expires 0 (already expired, still issued)", S_USER, S_KEY, 0)
    book.make("another primary secret", S_USER, S_KEY, S_EXP, primary=S_SECONDARY)
    book.make("empty primary secret", S_USER, S_KEY, S_EXP, "empty_secret", primary="")


def build_session() -> dict:
    book = SessionBook()
    session_valid_cases(book)
    session_invalid_cases(book)
    session_malformed_cases(book)
    session_issue_cases(book)
    return {
        **file_header(
            "APEX session tokens (aptoken), stateless: verification against a primary and "
            "an optional secondary server secret, and issue cases whose exact token an "
            "implementation must produce.",
            [
                "token = base64url(payload) '.' base64url(tag), canonical unpadded base64url "
                "(no '=', '+', '/', whitespace, length 1 mod 4, or non-zero unused bits).",
                "payload = 0x01 (version) || expires (u64 big-endian, UNIX seconds) || "
                "len(user_id) (1 byte) || user_id || len(key_id) (1 byte) || key_id; ids "
                "are 1..=64 bytes of printable ASCII 0x21-0x7e; nothing may follow key_id.",
                "tag = HMAC-SHA256(secret, b'apisig-session-v1\\x00' || payload); issued "
                "with the primary secret; verification tries the primary, then the "
                "secondary, and reports the slot that matched.",
                "tests: primary (text), secondary (text or null: none), now (UNIX seconds), "
                "token; a valid case gives session {user_id, key_id, expires, slot}.",
                "Errors: an empty primary or secondary secret: empty_secret (checked first); "
                "a token longer than 256 bytes: token_too_long (checked next, before "
                "anything else); wrong parts, base64url, version, lengths, trailing bytes, "
                "bytes outside 0x21-0x7e, a tag not of 32 bytes: token_malformed; a tag "
                "matching neither secret: signature_mismatch; now >= expires: "
                "token_expired. Past the first two, every check an invalid case fails gives "
                "the declared error (malformed payloads carry a correct tag), so whether "
                "the tag is checked before or after parsing never changes the error.",
                "issue: primary, user_id, key_id, expires -> token, exactly.",
                "tcIds are unique across tests and issue.",
            ],
        ),
        "label_hex": ot.SESSION_LABEL.hex(),
        "max_token_len": ot.SESSION_TOKEN_MAX,
        "tests": book.tests,
        "issue": book.issue,
    }


# ---------------------------------------------------------------------------------------
# File 7: pins.json + certs/ (mTLS certificate pinning; DER walker in oracle_tokens.py)
# ---------------------------------------------------------------------------------------
#
# certs/*.der are inputs, made once by regen_certs() below (python3 generate.py
# --regen-certs, which needs the openssl CLI and replaces every certificate, so every
# fingerprint in pins.json changes). Plain runs and --check only read them.

CERTS_DIR = HERE / "certs"
CERT_FILES = {
    "ec": "ec-p256-leaf.der",
    "rsa": "rsa2048-leaf.der",
    "v1": "ec-p256-v1-leaf.der",
    "ca": "ca-ec-p256.der",
    "client": "client-ec-p256.der",
    "reissued": "client-ec-p256-reissued.der",
}

OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_EC = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]
_ORG = "/O=apisig test vectors"
_SELF = ["req", "-x509", "-new", "-config", "openssl.cnf", "-days", "36500", "-sha256"]
_BY_CA = ["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-extfile", "openssl.cnf", "-extensions", "client", "-sha256"]

# The exact openssl commands (run in order in an empty temporary directory holding
# openssl.cnf = OPENSSL_CNF); only the .der files are kept, never the private keys.
CERT_RECIPE = [
    [*_EC, "ec.key"],
    [*_SELF, "-extensions", "leaf", "-key", "ec.key", "-subj", _ORG + "/CN=device-ec",
     "-set_serial", "0x0a01", "-outform", "DER", "-out", CERT_FILES["ec"]],
    ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key"],
    [*_SELF, "-extensions", "leaf", "-key", "rsa.key", "-subj", _ORG + "/CN=device-rsa",
     "-set_serial", "0x0a02", "-outform", "DER", "-out", CERT_FILES["rsa"]],
    # An X.509 v1 certificate (no extensions, so no [0] version field).
    [*_EC, "v1.key"],
    ["req", "-new", "-config", "openssl.cnf", "-key", "v1.key", "-subj",
     _ORG + "/CN=device-v1", "-out", "v1.csr"],
    ["x509", "-req", "-in", "v1.csr", "-signkey", "v1.key", "-days", "36500", "-sha256",
     "-set_serial", "0x0a03", "-outform", "DER", "-out", CERT_FILES["v1"]],
    [*_EC, "ca.key"],
    [*_SELF, "-extensions", "ca", "-key", "ca.key", "-subj", _ORG + "/CN=apisig test CA",
     "-set_serial", "0x0c01", "-out", "ca.pem"],
    ["x509", "-in", "ca.pem", "-outform", "DER", "-out", CERT_FILES["ca"]],
    [*_EC, "client.key"],
    ["req", "-new", "-config", "openssl.cnf", "-key", "client.key", "-subj",
     _ORG + "/CN=gateway-7", "-out", "client.csr"],
    [*_BY_CA, "-days", "36500", "-set_serial", "0x1001", "-outform", "DER", "-out",
     CERT_FILES["client"]],
    # The same key re-issued: same SubjectPublicKeyInfo, another certificate.
    [*_BY_CA, "-days", "3650", "-set_serial", "0x1002", "-outform", "DER", "-out",
     CERT_FILES["reissued"]],
]


def openssl(args: list, cwd=None, stdin: bytes | None = None) -> bytes:
    import subprocess  # only --regen-certs runs openssl

    done = subprocess.run(["openssl", *args], cwd=cwd, input=stdin, capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise VectorError(f"openssl {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def regen_certs() -> None:
    """Makes certs/*.der anew with the openssl CLI, then cross-checks the DER walker
    against openssl: the SPKI it extracts must equal `openssl x509 -pubkey -noout |
    openssl pkey -pubin -outform DER`, the certificate fingerprint must equal `openssl
    x509 -fingerprint -sha256`."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "openssl.cnf").write_text(OPENSSL_CNF, encoding="ascii")
        for args in CERT_RECIPE:
            openssl(args, cwd=tmp)
        openssl(["x509", "-inform", "DER", "-in", CERT_FILES["client"], "-out", "client.pem"],
                cwd=tmp)
        openssl(["verify", "-CAfile", "ca.pem", "client.pem"], cwd=tmp)
        CERTS_DIR.mkdir(exist_ok=True)
        for name in CERT_FILES.values():
            (CERTS_DIR / name).write_bytes((Path(tmp) / name).read_bytes())
    certs = load_certs()
    for key, der in certs.items():
        path = str(CERTS_DIR / CERT_FILES[key])
        pem_key = openssl(["x509", "-inform", "DER", "-in", path, "-pubkey", "-noout"])
        spki = openssl(["pkey", "-pubin", "-outform", "DER"], stdin=pem_key)
        if spki != ot.der_spki(der):
            raise VectorError(f"{path}: DER walker's SPKI differs from openssl's")
        text = openssl(["x509", "-inform", "DER", "-in", path, "-noout", "-fingerprint",
                        "-sha256"]).decode()
        if text.split("=", 1)[1].strip().replace(":", "").lower() != hashlib.sha256(der).hexdigest():
            raise VectorError(f"{path}: fingerprint differs from openssl's")
    check_cert_set(certs)
    print(f"certs/: {len(certs)} certificates made; DER walker agrees with openssl")


def load_certs() -> dict:
    out = {}
    for key, name in CERT_FILES.items():
        path = CERTS_DIR / name
        if not path.is_file():
            raise VectorError(f"{path} missing (python3 tests/vectors/generate.py "
                              "--regen-certs makes the set; it needs openssl)")
        out[key] = path.read_bytes()
    return out


def check_cert_set(certs: dict) -> None:
    """What the cases rely on: the v1 certificate has no [0] version and the others do,
    the re-issued certificate shares the client's SPKI only, the three length forms occur."""
    spki = {k: ot.der_spki(v) for k, v in certs.items()}
    if spki["reissued"] != spki["client"] or certs["reissued"] == certs["client"]:
        raise VectorError("certs: the re-issued certificate must share only the SPKI")
    if len(set(spki.values())) != len(spki) - 1:
        raise VectorError("certs: unexpected shared keys")
    for k, der in certs.items():
        _, _, tbs, _ = ot.der_tlv(der, ot.der_tlv(der, 0, len(der))[2], len(der))
        if (der[tbs] == 0xA0) == (k == "v1"):
            raise VectorError(f"certs: {k} has the wrong version layout")
    if der_length_form(spki["rsa"]) != 3 or der_length_form(spki["ec"]) != 1:
        raise VectorError("certs: expected long-form RSA and short-form EC SPKI lengths")


def der_length_form(tlv: bytes) -> int:
    """Bytes in a TLV's length field."""
    return 1 if tlv[1] < 0x80 else 1 + (tlv[1] & 0x7F)


def der_len(n: int, extra_zero: bool = False, long_form: bool = False) -> bytes:
    """A length field: minimal, or with a leading zero byte, or in long form for n < 128
    (both non-minimal)."""
    if n < 0x80 and not (extra_zero or long_form):
        return bytes([n])
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    if extra_zero:
        body = b"\x00" + body
    return bytes([0x80 | len(body)]) + body


def der_children(der: bytes, start: int, end: int) -> list:
    """The TLVs in der[start:end] as (tag, content) pairs."""
    out, pos = [], start
    while pos < end:
        tag, _, body, pos = ot.der_tlv(der, pos, end)
        out.append((tag, der[body:pos]))
    return out


def der_tlv_bytes(tag: int, content: bytes, **form) -> bytes:
    return bytes([tag]) + der_len(len(content), **form) + content


def tbs_members(der: bytes) -> list:
    """(tag, content) of each tbsCertificate member."""
    _, _, body, end = ot.der_tlv(der, 0, len(der))
    _, _, tbs, tbs_end = ot.der_tlv(der, body, end)
    return der_children(der, tbs, tbs_end)


def cert_rebuilt(der: bytes, outer: dict | None = None, tbs: dict | None = None,
                 member: int | None = None, member_form: dict | None = None,
                 tbs_tag: int = 0x30, outer_tag: int = 0x30) -> bytes:
    """The certificate re-encoded with one length field or tag changed: the outer
    Certificate's, the tbsCertificate's, or that of tbs member number `member`."""
    _, _, body, end = ot.der_tlv(der, 0, len(der))
    rest = der_children(der, body, end)[1:]
    new_tbs = b"".join(der_tlv_bytes(t, c, **(member_form if i == member else {}))
                       for i, (t, c) in enumerate(tbs_members(der)))
    content = der_tlv_bytes(tbs_tag, new_tbs, **(tbs or {}))
    content += b"".join(der_tlv_bytes(t, c) for t, c in rest)
    return der_tlv_bytes(outer_tag, content, **(outer or {}))


def with_outer_length(der: bytes, delta: int) -> bytes:
    """The Certificate's declared length changed by delta (content unchanged)."""
    _, _, body, end = ot.der_tlv(der, 0, len(der))
    return bytes([der[0]]) + der_len(end - body + delta) + der[body:]


class PinBook:
    def __init__(self, certs: dict) -> None:
        self.certs = certs
        self.ids = TcIds()
        self.tests: list = []

    def fp(self, key: str, kind: str) -> str:
        return ot.fingerprint(self.certs[key], kind)

    def pins(self, kind: str, *entries) -> list:
        """entries: (client, cert key, slot), or (client, fingerprint hex, slot) when the
        middle item is 64 hex digits."""
        out = []
        for client_name, what, slot in entries:
            fp = what if re.fullmatch(r"[0-9a-f]{64}", what) else self.fp(what, kind)
            out.append({"client": client_name, "fingerprint": fp, "slot": slot})
        if len({p["fingerprint"] for p in out}) != len(out):
            raise VectorError("a pin set names a fingerprint twice")
        return out

    def case(self, comment: str, kind: str, pins: list, expect, *, cert: str | None = None,
             raw: bytes | None = None) -> None:
        der = self.certs[cert] if cert is not None else raw
        faults, found = ot.pin_lookup(der, kind, pins)
        if isinstance(expect, tuple):
            check_one(faults, VALID, comment)
            if found != expect:
                raise VectorError(f"{comment}: found {found}, declared {expect}")
        else:
            check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment}
        if cert is not None:
            case["cert"] = f"certs/{CERT_FILES[cert]}"
        else:
            case["cert_hex"] = raw.hex()
        case.update(kind=kind, pins=pins)
        if isinstance(expect, tuple):
            case.update(result="valid", client=expect[0], slot=expect[1])
        else:
            case.update(outcome(expect))
        self.tests.append(case)


def pin_cases(book: PinBook) -> None:
    c = book.certs
    for kind in ("certificate", "spki"):
        fleet = book.pins(kind, ("device-ec", "ec", "primary"), ("device-rsa", "rsa", "primary"),
                          ("device-v1", "v1", "primary"), ("gateway-7", "client", "primary"))
        for key, client_name in [("ec", "device-ec"), ("rsa", "device-rsa"),
                                 ("v1", "device-v1"), ("client", "gateway-7")]:
            book.case(f"{kind} pin: {CERT_FILES[key]} is pinned to {client_name}", kind, fleet,
                      (client_name, "primary"), cert=key)
        book.case(f"{kind} pin: the CA that issued a pinned certificate is not pinned itself "
                  "(pinning is not chain validation)", kind, fleet, "unpinned_certificate",
                  cert="ca")
        book.case(f"{kind} pin: no pins at all", kind, [], "unpinned_certificate", cert="ec")
        book.case(f"{kind} pin: only the other devices pinned", kind, fleet[1:],
                  "unpinned_certificate", cert="ec")
    cert_fleet = book.pins("certificate", ("device-ec", "ec", "primary"),
                           ("gateway-7", "client", "primary"))
    spki_fleet = book.pins("spki", ("device-ec", "ec", "primary"),
                           ("gateway-7", "client", "primary"))
    book.case("re-issued certificate (same key) under certificate pinning of the original",
              "certificate", cert_fleet, "unpinned_certificate", cert="reissued")
    book.case("re-issued certificate (same key) under SPKI pinning: still the same client",
              "spki", spki_fleet, ("gateway-7", "primary"), cert="reissued")
    rotation = book.pins("certificate", ("gateway-7", "reissued", "primary"),
                         ("gateway-7", "client", "secondary"), ("device-ec", "ec", "primary"))
    book.case("rotation: the new certificate pinned as primary", "certificate", rotation,
              ("gateway-7", "primary"), cert="reissued")
    book.case("rotation: the old certificate still pinned as secondary", "certificate",
              rotation, ("gateway-7", "secondary"), cert="client")
    book.case("SPKI rotation: device-rsa moving to a new (EC) key, its RSA key pinned as "
              "secondary",
              "spki", book.pins("spki", ("device-rsa", "ec", "primary"),
                                ("device-rsa", "rsa", "secondary")),
              ("device-rsa", "secondary"), cert="rsa")
    book.case("kind confusion: the certificate's SPKI fingerprint pinned, certificate "
              "fingerprint asked for", "certificate",
              book.pins("certificate", ("device-ec", book.fp("ec", "spki"), "primary")),
              "unpinned_certificate", cert="ec")
    book.case("kind confusion: the whole-certificate fingerprint pinned, SPKI asked for",
              "spki", book.pins("spki", ("device-ec", book.fp("ec", "certificate"), "primary")),
              "unpinned_certificate", cert="ec")
    spki = ot.der_spki(c["ec"])
    _, _, body, end = ot.der_tlv(spki, 0, len(spki))
    bitstring = der_children(spki, body, end)[1][1]
    raw_key_fp = hashlib.sha256(bitstring[1:]).hexdigest()
    book.case("pin over the raw public key point (BIT STRING contents), not the SPKI", "spki",
              book.pins("spki", ("device-ec", raw_key_fp, "primary")),
              "unpinned_certificate", cert="ec")
    near = book.fp("ec", "spki")
    near = near[:-1] + format(int(near[-1], 16) ^ 1, "x")
    book.case("pin differing in the last bit", "spki",
              book.pins("spki", ("device-ec", near, "primary")), "unpinned_certificate",
              cert="ec")
    book.case("pin of the SHA-256 of the certificate's PEM text", "certificate",
              book.pins("certificate", ("device-ec", hashlib.sha256(pem(c["ec"])).hexdigest(),
                                        "primary")), "unpinned_certificate", cert="ec")


def pem(der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode()


def malformed_cert_cases(book: PinBook) -> None:
    c = book.certs
    ec, v1, rsa = c["ec"], c["v1"], c["rsa"]
    spki_ec = ot.der_spki(ec)
    if cert_rebuilt(ec) != ec or cert_rebuilt(v1) != v1 or cert_rebuilt(rsa) != rsa:
        raise VectorError("cert_rebuilt does not reproduce the certificates")
    version, spki_at = 0, 6  # v3 tbs: [0] version, serial, signature, issuer, validity,
    #                          subject, subjectPublicKeyInfo, [3] extensions
    serial_len = len(tbs_members(v1)[0][1])
    bad_length_form = "(long form for a short length: non-minimal)"
    indefinite = b"\x30\x80" + ec[der_length_form(ec) + 1:] + b"\x00\x00"
    inputs = [
        (b"", "empty input"),
        (b"\x30", "a lone SEQUENCE tag"),
        (b"\x30\x00", "an empty SEQUENCE"),
        (ec[:3], "only the first three bytes"),
        (ec[:-1], "last byte cut off"),
        (ec[: len(ec) // 2], "cut in half"),
        (ec + b"\x00", "one trailing zero byte"),
        (ec + ec, "two certificates back to back"),
        (indefinite, "indefinite length (BER 0x80 with end-of-contents), not DER"),
        (cert_rebuilt(ec, outer={"extra_zero": True}),
         "Certificate length with a leading zero byte (non-minimal)"),
        (cert_rebuilt(ec, tbs={"extra_zero": True}),
         "tbsCertificate length with a leading zero byte (non-minimal)"),
        (cert_rebuilt(v1, member=0, member_form={"long_form": True}),
         f"v1 certificate, serialNumber length written 0x81 0x{serial_len:02x} "
         + bad_length_form),
        (cert_rebuilt(ec, member=version, member_form={"long_form": True}),
         "[0] version length written 0x81 0x03 " + bad_length_form),
        (cert_rebuilt(ec, member=spki_at, member_form={"long_form": True}),
         f"subjectPublicKeyInfo length written 0x81 0x{len(spki_ec) - 2:02x} "
         + bad_length_form),
        (with_outer_length(ec, +1), "Certificate length one more than the bytes present"),
        (with_outer_length(ec, -1), "Certificate length one less than the bytes present"),
        (spki_overrun(v1), "v1 certificate, subjectPublicKeyInfo length running past the "
         "end of tbsCertificate (into the signature algorithm, not past the input)"),
        (cert_rebuilt(ec, outer_tag=0x31), "outer tag SET (0x31) instead of SEQUENCE"),
        (cert_rebuilt(ec, outer_tag=0xA0), "outer tag [0] (0xa0) instead of SEQUENCE"),
        (der_tlv_bytes(0x04, ec), "the certificate wrapped in an OCTET STRING"),
        (cert_rebuilt(ec, tbs_tag=0x31), "tbsCertificate tag SET (0x31)"),
        (pem(ec), "PEM text instead of DER"),
        (spki_ec, "a bare SubjectPublicKeyInfo instead of a certificate"),
    ]
    for raw, why in inputs:
        book.case(f"not a certificate: {why}", "spki", book.pins("spki", ("device-ec", "ec",
                                                                          "primary")),
                  "invalid_certificate", raw=raw)
    for raw, why in [(b"", "empty input"), (ec[:-1], "last byte cut off"),
                     (ec + b"\x00", "one trailing zero byte"),
                     (indefinite, "indefinite length")]:
        book.case(f"certificate pinning parses the DER too: {why}", "certificate",
                  book.pins("certificate", ("device-ec", hashlib.sha256(raw).hexdigest(),
                                            "primary")),
                  "invalid_certificate", raw=raw)


def spki_overrun(der: bytes) -> bytes:
    """The SPKI's short-form length raised by 4 (it must be tbsCertificate's last member),
    every other length unchanged."""
    spki = ot.der_spki(der)
    at = der.index(spki)
    if spki[1] >= 0x7C or tbs_members(der)[-1][1] != spki[2:]:
        raise VectorError("spki_overrun needs a short-form SPKI ending tbsCertificate")
    return der[:at + 1] + bytes([spki[1] + 4]) + der[at + 2:]


def build_pins() -> dict:
    certs = load_certs()
    check_cert_set(certs)
    book = PinBook(certs)
    pin_cases(book)
    malformed_cert_cases(book)
    return {
        **file_header(
            "mTLS client-certificate pinning: the peer certificate's SHA-256 fingerprint, of "
            "the whole DER or of its SubjectPublicKeyInfo, looked up in a set of pins.",
            [
                "cert: a DER file under tests/vectors/ (certs/*.der, real certificates made "
                "once with the openssl CLI; see generate.py, regen_certs); or cert_hex: the "
                "presented bytes, for inputs that are not certificates.",
                "kind: 'certificate' pins SHA-256 of the whole DER; 'spki' pins SHA-256 of "
                "the DER subjectPublicKeyInfo (tag and length included), found by walking "
                "Certificate SEQUENCE -> tbsCertificate SEQUENCE -> optional [0] version, "
                "serialNumber, signature, issuer, validity, subject -> subjectPublicKeyInfo. "
                "Fingerprints are lowercase hex.",
                "pins: [{client, fingerprint, slot}], all of the case's kind; no "
                "fingerprint appears twice. valid: the matching pin's client and slot.",
                "invalid_certificate (checked first, for both kinds): not DER the walker "
                "accepts: empty or truncated input, bytes after the Certificate, "
                "indefinite or non-minimal lengths (anywhere the walker reads one), a "
                "length running past the end of its parent, a wrong tag on the "
                "Certificate, the tbsCertificate or the members walked. "
                "unpinned_certificate: a certificate whose fingerprint no pin holds.",
                "Nothing else about the certificate is checked: not validity dates, not "
                "the issuer chain, not the signature.",
            ],
        ),
        "tests": book.tests,
    }


# ---------------------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------------------


CASE_LISTS = ("tests", "pattern_tests", "encode", "issue")


def validate_file(name: str, obj: dict) -> None:
    """Structural checks every file must pass before it is written."""
    lists = [obj[key] for key in CASE_LISTS if key in obj]
    ids = [t["tcId"] for lst in lists for t in lst]
    if ids != list(range(1, len(ids) + 1)):
        raise VectorError(f"{name}: tcIds are not 1..n")
    for lst in lists:
        for t in lst:
            if not t.get("comment"):
                raise VectorError(f"{name} tcId {t['tcId']}: missing comment")
            results = [t] if "result" in t else t["steps"]
            for r in results:
                if r["result"] == "invalid" and r.get("error") not in ERRORS:
                    raise VectorError(f"{name} tcId {t['tcId']}: bad error")
                if r["result"] not in ("valid", "invalid"):
                    raise VectorError(f"{name} tcId {t['tcId']}: bad result")
    text = write_json(obj)
    if json.loads(text) != obj:
        raise VectorError(f"{name}: JSON does not round-trip")


def build_all(pyjwt_strict: bool = False) -> dict:
    roles = load_roles()
    jwt_file, jwt_book = build_jwt()
    files = {
        "hmac_sha256_rfc4231.json": build_rfc4231(),
        "sign.json": build_sign(),
        "verify.json": build_verify(roles),
        "policy.json": build_policy(roles),
        "jwt.json": jwt_file,
        "session.json": build_session(),
        "pins.json": build_pins(),
    }
    pyjwt_interop(jwt_book, pyjwt_strict)
    for name, obj in files.items():
        validate_file(name, obj)
    return {name: write_json(obj) for name, obj in files.items()}


def count_cases(text: str) -> str:
    obj = json.loads(text)
    n = sum(len(obj.get(key, [])) for key in CASE_LISTS)
    steps = sum(len(t.get("steps", [])) for t in obj["tests"])
    return f"{n} cases" + (f", {steps} steps" if steps else "")


def main(argv: list) -> int:
    flags = set(argv[1:])
    check, regen = "--check" in flags, "--regen-certs" in flags
    unknown = flags - {"--check", "--pyjwt", "--regen-certs"}
    if unknown or (check and regen):
        print(f"usage: {argv[0]} [--check | --regen-certs] [--pyjwt]", file=sys.stderr)
        return 2
    try:
        if regen:
            regen_certs()
        outputs = build_all(pyjwt_strict="--pyjwt" in flags)
    except OracleError as err:
        print(f"generate.py: {err}", file=sys.stderr)
        return 1
    stale = []
    for name, text in outputs.items():
        path = HERE / name
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            print(f"{name}: up to date ({count_cases(text)})")
            continue
        if check:
            stale.append(name)
            print(f"{name}: STALE (differs from what generate.py produces)", file=sys.stderr)
        else:
            path.write_text(text, encoding="utf-8")
            print(f"{name}: written ({count_cases(text)})")
    if stale:
        print("run: python3 tests/vectors/generate.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
