"""Reference implementations behind jwt.json, session.json and pins.json.

Imported by generate.py, which holds the case tables; this module holds only the oracles,
written from the vector brief (HS256 JWTs with PyJWT's time rules, APEX session tokens,
certificate pinning), never from apisig's code. Standard library only.

* base64url: canonical unpadded text, decoded twice (a hand-written sextet walk and the
  ``base64`` module plus a re-encoding check); the two must agree.
* JSON: a small strict RFC 8259 parser that keeps every string as its raw JSON text
  (escape sequences not decoded), cross-checked against ``json.loads`` on every input.
* DER: a hand-written TLV walker from the Certificate down to its SubjectPublicKeyInfo.

Each reference returns the list of checks an input fails (an error name per failed
check), so generate.py can insist that an invalid case fails exactly the check it
declares.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

U64_MAX = 2**64 - 1


class OracleError(Exception):
    """An input the references refuse to judge (vectors must stay clear of it)."""


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


# ---------------------------------------------------------------------------------------
# base64url, canonical and unpadded (RFC 4648 section 5, no '=')
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# Strict JSON that keeps raw string text
# ---------------------------------------------------------------------------------------
#
# A value is ("object", [(raw_name, value), ...]), ("array", [value, ...]),
# ("string", raw_text), ("number", raw_text), ("true",), ("false",) or ("null",).


class JsonError(Exception):
    pass


_STRING = re.compile(r'"((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WS = " \t\n\r"


class _Parser:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WS:
            self.i += 1

    def take(self, ch: str) -> None:
        self.ws()
        if not self.s.startswith(ch, self.i):
            raise JsonError(f"expected {ch!r} at {self.i}")
        self.i += 1

    def string(self) -> str:
        self.ws()
        m = _STRING.match(self.s, self.i)
        if m is None:
            raise JsonError(f"bad string at {self.i}")
        self.i = m.end()
        return m.group(1)

    def value(self, depth: int = 0):
        if depth > 64:
            raise JsonError("nested too deeply")
        self.ws()
        rest = self.s[self.i:]
        if rest.startswith("{"):
            return self.container("object", "}", depth)
        if rest.startswith("["):
            return self.container("array", "]", depth)
        if rest.startswith('"'):
            return ("string", self.string())
        m = _NUMBER.match(self.s, self.i)
        if m is not None:
            self.i = m.end()
            return ("number", m.group(0))
        for word in ("true", "false", "null"):
            if rest.startswith(word):
                self.i += len(word)
                return (word,)
        raise JsonError(f"no value at {self.i}")

    def container(self, kind: str, close: str, depth: int):
        self.i += 1
        items: list = []
        self.ws()
        if self.s.startswith(close, self.i):
            self.i += 1
            return (kind, items)
        while True:
            if kind == "object":
                name = self.string()
                self.take(":")
                items.append((name, self.value(depth + 1)))
            else:
                items.append(self.value(depth + 1))
            self.ws()
            if self.s.startswith(close, self.i):
                self.i += 1
                return (kind, items)
            self.take(",")


def _decoded(value):
    """The value as json.loads gives it (objects as ("object", pairs))."""
    kind = value[0]
    if kind == "object":
        return ("object", [(json.loads(f'"{k}"'), _decoded(v)) for k, v in value[1]])
    if kind == "array":
        return [_decoded(v) for v in value[1]]
    if kind in ("string", "number"):
        return json.loads(f'"{value[1]}"' if kind == "string" else value[1])
    return {"true": True, "false": False, "null": None}[kind]


def _refuse_constant(name: str):
    raise ValueError(f"not JSON: {name}")


def parse_json(raw: bytes):
    """Parses one JSON text (UTF-8, surrounding whitespace allowed); raises JsonError."""
    mine: object = None
    try:
        text = raw.decode("utf-8")
        parser = _Parser(text)
        mine = parser.value()
        parser.ws()
        if parser.i != len(text):
            raise JsonError("trailing characters")
    except (JsonError, UnicodeDecodeError) as err:
        mine = err
    try:
        theirs = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant,
                            object_pairs_hook=lambda pairs: ("object", pairs))
    except (ValueError, UnicodeDecodeError) as err:
        theirs = err
    mine_failed, theirs_failed = isinstance(mine, Exception), isinstance(theirs, Exception)
    if mine_failed != theirs_failed or (not mine_failed and _decoded(mine) != theirs):
        raise OracleError(f"JSON parsers disagree on {raw!r}: {mine!r} / {theirs!r}")
    if mine_failed:
        raise JsonError(str(mine))
    return mine


def members(obj) -> list:
    """(name, value) pairs of a top-level object. Member names with escape sequences are
    kept out of the vectors: JSON says "\\u0061lg" names "alg", a raw comparison does not."""
    pairs = obj[1]
    if len(pairs) > 32:
        raise OracleError("vectors keep objects to at most 32 members")
    for name, _ in pairs:
        if "\\" in name:
            raise OracleError(f"vectors keep member names free of escapes: {name!r}")
    return pairs


def has_duplicates(pairs: list) -> bool:
    names = [n for n, _ in pairs]
    return len(set(names)) != len(names)


# ---------------------------------------------------------------------------------------
# JWT (HS256, compact serialization)
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# APEX session tokens (aptoken), stateless
# ---------------------------------------------------------------------------------------

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


def _session_id(raw: bytes) -> bool:
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
    if len(rest) != 1 + rest[0] or not _session_id(user_id) or not _session_id(key_id):
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


# ---------------------------------------------------------------------------------------
# DER: Certificate -> tbsCertificate -> subjectPublicKeyInfo
# ---------------------------------------------------------------------------------------


class DerError(Exception):
    pass


def der_tlv(data: bytes, pos: int, end: int) -> tuple:
    """One DER TLV inside data[pos:end]: (tag, start, content_start, content_end).
    Low-tag-number form only; definite, minimal length encodings only."""
    start = pos
    if pos >= end:
        raise DerError("missing TLV")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag number form")
    pos += 1
    if pos >= end:
        raise DerError("missing length")
    first = data[pos]
    pos += 1
    if first == 0x80:
        raise DerError("indefinite length")
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n > 4 or pos + n > end:
            raise DerError("length of length")
        raw = data[pos:pos + n]
        pos += n
        length = int.from_bytes(raw, "big")
        if raw[0] == 0 or length < 0x80:
            raise DerError("non-minimal length")
    if length > end - pos:
        raise DerError("length runs past the end")
    return tag, start, pos, pos + length


def der_spki(der: bytes) -> bytes:
    """The whole subjectPublicKeyInfo TLV of an X.509 certificate; raises DerError."""
    tag, _, body, end = der_tlv(der, 0, len(der))
    if tag != 0x30:
        raise DerError("Certificate is not a SEQUENCE")
    if end != len(der):
        raise DerError("bytes after the Certificate")
    tag, _, pos, tbs_end = der_tlv(der, body, end)
    if tag != 0x30:
        raise DerError("tbsCertificate is not a SEQUENCE")
    tag, _, _, after = der_tlv(der, pos, tbs_end)
    if tag == 0xA0:  # [0] EXPLICIT version, absent in v1 certificates
        pos = after
    # serialNumber, signature, issuer, validity, subject
    for want in (0x02, 0x30, 0x30, 0x30, 0x30):
        tag, _, _, pos = der_tlv(der, pos, tbs_end)
        if tag != want:
            raise DerError(f"tbsCertificate member tag {tag:#04x}, expected {want:#04x}")
    tag, start, _, spki_end = der_tlv(der, pos, tbs_end)
    if tag != 0x30:
        raise DerError("subjectPublicKeyInfo is not a SEQUENCE")
    return der[start:spki_end]


def fingerprint(der: bytes, kind: str) -> str | None:
    """Lowercase hex SHA-256 of the DER ("certificate") or of its SPKI ("spki"); None when
    the input is not a certificate the walker accepts (both kinds parse it)."""
    try:
        spki = der_spki(der)
    except DerError:
        return None
    if kind == "certificate":
        return hashlib.sha256(der).hexdigest()
    if kind == "spki":
        return hashlib.sha256(spki).hexdigest()
    raise OracleError(f"unknown pin kind {kind!r}")


def pin_lookup(der: bytes, kind: str, pins: list) -> tuple:
    """(failed checks, (client, slot))."""
    fp = fingerprint(der, kind)
    if fp is None:
        return ["invalid_certificate"], None
    found = [(p["client"], p["slot"]) for p in pins if p["fingerprint"] == fp]
    if not found:
        return ["unpinned_certificate"], None
    return [], found[0]
