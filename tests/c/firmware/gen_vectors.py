#!/usr/bin/env python3
"""Writes the shared vectors in tests/vectors/ (JSON) as C data, for firmware that has no file
system and no JSON parser. The host C tests read the JSON itself (tests/c/vectors.c).
scripts/c-firmware.sh runs this at every build, so the firmware always runs the current
vectors; the output is not committed.

    python3 tests/c/firmware/gen_vectors.py OUT.h [SIZE.h]

SIZE.h (optional) holds the one Aevo and one APEX signing case the size firmware
(tests/c/firmware/size.c) signs, as macros.
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
VECTORS = os.path.join(ROOT, "tests", "vectors")
REPLAY_CAPACITY = 64  # APISIG_REPLAY_CAPACITY: verify cases needing another capacity are left out

ERROR_CODES = None  # name -> code, read from the generated header


def load(name):
    with open(os.path.join(VECTORS, name), encoding="utf-8") as f:
        return json.load(f)


def codes():
    """Result names -> numbers, from include/apisig.h (APISIG_RESULT_FOO = n)."""
    out = {}
    with open(os.path.join(ROOT, "include", "apisig.h"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("APISIG_RESULT_") and "=" in line:
                name, value = line.rstrip(",").split("=")
                out[name.strip()[len("APISIG_RESULT_"):].lower()] = int(value)
    return out


def c_bytes(data):
    """A C string literal holding exactly `data` (bytes), plus its length."""
    parts = []
    prev_hex = False
    for b in data:
        ch = chr(b)
        if 0x20 <= b < 0x7F and ch not in '"\\?':
            if prev_hex and ch in "0123456789abcdefABCDEF":
                parts.append('""')
            parts.append(ch)
            prev_hex = False
        else:
            parts.append("\\x%02x" % b)
            prev_hex = True
    return '"%s"' % "".join(parts), len(data)


def text(s):
    if s is None:
        return "NULL, 0"
    lit, n = c_bytes(s.encode("utf-8"))
    return "%s, %d" % (lit, n)


def field_bytes(obj, name):
    if obj.get(name) is not None:
        return obj[name].encode("utf-8")
    if obj.get(name + "_hex") is not None:
        return bytes.fromhex(obj[name + "_hex"])
    return None


def blob(data):
    if data is None:
        return "NULL, 0"
    lit, n = c_bytes(data)
    return "(const uint8_t *)%s, %d" % (lit, n)


def code_of(case):
    if case["result"] == "valid":
        return 0
    return ERROR_CODES[case["error"]]


PART = {
    "api_key": "APISIG_PART_KIND_API_KEY",
    "timestamp": "APISIG_PART_KIND_TIMESTAMP",
    "nonce": "APISIG_PART_KIND_NONCE",
    "user_id": "APISIG_PART_KIND_USER_ID",
    "method": "APISIG_PART_KIND_METHOD",
    "path": "APISIG_PART_KIND_PATH",
    "body": "APISIG_PART_KIND_BODY",
}
FIELD = {
    "key_id": "APISIG_FIELD_API_KEY",
    "timestamp": "APISIG_FIELD_TIMESTAMP",
    "nonce": "APISIG_FIELD_NONCE",
    "user_id": "APISIG_FIELD_USER_ID",
    "signature": "APISIG_FIELD_SIGNATURE",
}
ENCODING = {
    "base64": "APISIG_ENCODING_BASE64",
    "lower_hex": "APISIG_ENCODING_LOWER_HEX",
    "upper_hex": "APISIG_ENCODING_UPPER_HEX",
    "hex": "APISIG_ENCODING_HEX",
}
UNIT = {"s": "APISIG_TIME_UNIT_SECONDS", "ms": "APISIG_TIME_UNIT_MILLIS", "ns": "APISIG_TIME_UNIT_NANOS"}


class Writer:
    def __init__(self):
        self.lines = []
        self.n = 0

    def emit(self, s=""):
        self.lines.append(s)

    def fresh(self, prefix):
        self.n += 1
        return "%s_%d" % (prefix, self.n)

    def template(self, t):
        """Emits the arrays of a custom template; returns the scheme initializer."""
        if len(t["parts"]) > 16 or len(t["headers"]) > 6 or not t["parts"]:
            return None
        parts = self.fresh("parts")
        self.emit("static const apisig_part %s[] = {" % parts)
        for p in t["parts"]:
            if isinstance(p, str):
                self.emit("    {%s, NULL, 0}," % PART[p])
            elif "literal" in p:
                self.emit("    {APISIG_PART_KIND_LITERAL, %s}," % blob(p["literal"].encode()))
            else:
                self.emit("    {APISIG_PART_KIND_HEADER, %s}," % blob(p["header"].encode()))
        self.emit("};")
        specs = self.fresh("specs")
        self.emit("static const apisig_header_spec %s[] = {" % specs)
        for name, field in t["headers"]:
            self.emit("    {%s, NULL, 0, %s}," % (text(name), FIELD[field]))
        self.emit("};")
        sep = t.get("separator") or ""
        return "{0, %s, %d, %s, %d, %s, %s, %s, 0}" % (
            specs,
            len(t["headers"]),
            parts,
            len(t["parts"]),
            blob(sep.encode()) if sep else "NULL, 0",
            ENCODING[t["encoding"]],
            UNIT[t.get("time_unit") or "s"],
        )

    def headers_in(self, hs):
        if not hs:
            return "NULL, 0"
        name = self.fresh("hin")
        self.emit("static const apisig_header_in %s[] = {" % name)
        for n, v in hs:
            self.emit("    {%s, %s}," % (text(n), blob(v.encode())))
        self.emit("};")
        return "%s, %d" % (name, len(hs))

    def request(self, r):
        return "{%s, %s, %s, %s}" % (
            text(r["method"]),
            text(r["path"]),
            blob(field_bytes(r, "body") or b""),
            self.headers_in(r.get("headers")),
        )


def main():
    global ERROR_CODES
    ERROR_CODES = codes()
    w = Writer()
    w.emit("/* Generated by tests/c/firmware/gen_vectors.py from the JSON in tests/vectors: do not edit. */")
    w.emit("#ifndef APISIG_FIRMWARE_VECTORS_H")
    w.emit("#define APISIG_FIRMWARE_VECTORS_H")
    w.emit("#include \"fw_vectors_types.h\"")
    w.emit()

    # RFC 4231
    hm = load("hmac_sha256_rfc4231.json")["tests"]
    w.emit("static const struct fw_hmac fw_hmac[] = {")
    for c in hm:
        w.emit(
            "    {%d, %s, %s, %s, %d},"
            % (c["tcId"], blob(bytes.fromhex(c["key"])), blob(bytes.fromhex(c["msg"])), blob(bytes.fromhex(c["tag"])), code_of(c))
        )
    w.emit("};")
    w.emit()

    # sign
    rows = []
    for c in load("sign.json")["tests"]:
        if c["scheme"] == "custom":
            scheme = w.template(c["template"])
            if scheme is None:
                continue  # shape errors are covered by the host tests
            preset = "NULL"
        else:
            scheme = "{0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0}"
            preset = text(c["scheme"]).split(",")[0]
        cr = c["credentials"]
        creds = "{%s, %s, %s, %s}" % (text(cr.get("key_id")), blob(field_bytes(cr, "secret")), text(cr.get("user_id")), text(cr.get("token")))
        req = w.request(c["request"])
        hs = c.get("headers") or []
        hdr = w.fresh("want")
        w.emit("static const struct fw_text %s[] = {" % hdr)
        for n, v in hs:
            w.emit("    {%s}, {%s}," % (text(n), text(v)))
        if not hs:
            w.emit("    {NULL, 0},")
        w.emit("};")
        msg = field_bytes(c, "message")
        rows.append(
            "    {%d, %s, %s, %s, %s, {%du, %du, %d}, %d, %s, %d, %s},"
            % (
                c["tcId"],
                preset,
                scheme,
                creds,
                req,
                c.get("now_ns") or 0,
                c.get("nonce") or 0,
                1 if c.get("nonce") is not None else 0,
                code_of(c),
                hdr,
                len(hs),
                blob(msg) if msg is not None else "NULL, 0",
            )
        )
    w.emit("static const struct fw_sign fw_sign[] = {")
    for r in rows:
        w.emit(r)
    w.emit("};")
    w.emit()

    # verify
    cases = []
    for c in load("verify.json")["tests"]:
        if c.get("replay_capacity", REPLAY_CAPACITY) != REPLAY_CAPACITY:
            continue
        if c["scheme"] == "custom":
            scheme = w.template(c["template"])
            preset = "NULL"
        else:
            scheme = "{0, NULL, 0, NULL, 0, NULL, 0, 0, 0, 0}"
            preset = text(c["scheme"]).split(",")[0]
        ring = w.fresh("ring")
        w.emit("static const struct fw_client %s[] = {" % ring)
        for e in c["keyring"]:
            primary = field_bytes(e, "key") or field_bytes(e, "secret")
            secondary = field_bytes(e, "secondary_key") or field_bytes(e, "secondary_secret")
            status = {"active": 0, "disabled": 1, "revoked": 2}[e.get("status", "active")]
            slots = ("primary", "secondary")
            revoked = ", ".join("1" if e.get(f"{s}_revoked") else "0" for s in slots)
            has_expiry = ", ".join("1" if f"{s}_expires_ns" in e else "0" for s in slots)
            expires = ", ".join("%dull" % e.get(f"{s}_expires_ns", 0) for s in slots)
            w.emit(
                "    {%s, %s, %s, %s, %s, %d, {%s}, {%s}, {%s}},"
                % (text(e["id"]), blob(primary), blob(secondary), text(e.get("role")), text(e.get("user_id")), status, revoked, has_expiry, expires)
            )
        w.emit("};")
        steps = w.fresh("steps")
        srows = []
        for s in c["steps"]:
            req = w.request(s["request"])
            p = s.get("principal") or {}
            srows.append(
                "    {%du, %s, %d, %d, %s, %d, %s},"
                % (
                    s.get("now_ns") or 0,
                    req,
                    1 if s.get("authorize") else 0,
                    code_of(s),
                    text(p.get("id")),
                    1 if p.get("slot") == "secondary" else 0,
                    text(p.get("role")),
                )
            )
        w.emit("static const struct fw_step %s[] = {" % steps)
        for r in srows:
            w.emit(r)
        w.emit("};")
        cases.append(
            "    {%d, %s, %s, %s, %d, %du, %s, %d},"
            % (c["tcId"], preset, scheme, ring, len(c["keyring"]), (c.get("window_s", 300)), steps, len(c["steps"]))
        )
    w.emit("static const struct fw_verify fw_verify[] = {")
    for r in cases:
        w.emit(r)
    w.emit("};")
    w.emit()

    # JWT (verification) and session tokens: result codes only
    jw = load("jwt.json")
    w.emit("static const struct fw_jwt fw_jwt[] = {")
    for c in jw["tests"]:
        v = c["validation"]
        def opt(x):
            return "{0, NULL, 0}" if x is None else "{1, %s}" % text(x)
        w.emit(
            "    {%d, %s, %s, {%du, %s, %s, %s, %s, %du}, %du, %d},"
            % (
                c["tcId"],
                blob(field_bytes(c, "key")),
                blob(c["token"].encode()),
                v["leeway_s"],
                "1" if v["require_exp"] else "0",
                opt(v.get("iss")),
                opt(v.get("aud")),
                opt(v.get("sub")),
                v["max_len"],
                c["now"],
                code_of(c),
            )
        )
    w.emit("};")
    se = load("session.json")
    w.emit("static const struct fw_session fw_session[] = {")
    for c in se["tests"]:
        sec = c.get("secondary")
        w.emit(
            "    {%d, %s, %s, %s, %du, %d},"
            % (
                c["tcId"],
                blob(c["primary"].encode()),
                "{0, NULL, 0}" if sec is None else "{1, %s}" % blob(sec.encode()),
                blob(c["token"].encode()),
                c["now"],
                code_of(c),
            )
        )
    w.emit("};")
    w.emit()
    w.emit("#endif")
    out = "\n".join(w.lines) + "\n"
    # 64-bit literals: make every 'Nu' with more than 9 digits an unsigned long long.
    import re

    out = re.sub(r"\b(\d{10,})u\b", r"\1ull", out)
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: gen_vectors.py OUT.h [SIZE.h]")
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        f.write(out)
    if len(sys.argv) == 3:
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            f.write(size_cases())


# The cases the size firmware signs: a POST with a body (Aevo) and APEX's worked example.
SIZE_CASES = {"AEVO": 3, "APEX": 27}


def size_cases():
    """The size firmware's cases as macros: PREFIX_KEY ... PREFIX_SIGNATURE (C literals)."""
    by_id = {c["tcId"]: c for c in load("sign.json")["tests"]}
    lines = ["/* Generated by tests/c/firmware/gen_vectors.py from tests/vectors/sign.json: do not edit. */"]
    for prefix, tc in SIZE_CASES.items():
        c = by_id[tc]
        cred, req = c["credentials"], c["request"]
        sig = dict(c["headers"]).get("AEVO-SIGNATURE") or dict(c["headers"])["Signature"]
        macros = {
            "SCHEME": c_bytes(c["scheme"].encode())[0],
            "KEY": c_bytes(cred["key_id"].encode())[0],
            "SECRET": c_bytes(cred["secret"].encode())[0],
            "USER": c_bytes((cred["user_id"] or "").encode())[0],
            "METHOD": c_bytes(req["method"].encode())[0],
            "PATH": c_bytes(req["path"].encode())[0],
            "BODY": c_bytes(req["body"].encode())[0],
            "NOW_NS": "%dull" % (c["now_ns"] or 0),
            "NONCE": "%dull" % (c["nonce"] or 0),
            "HAS_NONCE": "%d" % (c["nonce"] is not None),
            "MESSAGE": c_bytes(c["message"].encode())[0],
            "SIGNATURE": c_bytes(sig.encode())[0],
            "HEADERS": ", ".join(
                "{%s, %d, (const uint8_t *)%s, %d}" % (c_bytes(n.encode()) + c_bytes(v.encode()))
                for n, v in c["headers"]
            ),
        }
        lines.append("/* tcId %d: %s */" % (tc, c["comment"]))
        lines += ["#define %s_%s %s" % (prefix, k, v) for k, v in macros.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
