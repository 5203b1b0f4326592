"""jwt.json: HS256 JWT verification and encode cases, and PyJWT interop evidence."""

from __future__ import annotations

import hashlib
import hmac
import json

from oracles.base64url import b64url, b64url_decode
from oracles.common import U64_MAX, VALID, VectorError
from oracles.hmac_sha256 import mac
from oracles.jwt_hs256 import jwt_encode, jwt_verify

from .common import TcIds, derived_hex, file_header, outcome
from .tokens import (
    b64_length_1_mod_4,
    b64_padded,
    b64_std_alphabet,
    b64_unused_bits,
    b64_with_space,
    check_one,
    first_matching,
    key_bytes,
    key_field,
)

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
    return f"{h64}.{c64}." + b64url(mac(raw, f"{h64}.{c64}".encode("ascii")))


def jwt_make(claims: str | bytes, header: str | bytes = JWT_HEADER,
             key: str | bytes = JWT_KEY) -> str:
    h = header if isinstance(header, bytes) else header.encode("utf-8")
    c = claims if isinstance(claims, bytes) else claims.encode("utf-8")
    return jwt_sign_parts(key, b64url(h), b64url(c))


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
        _, faults, claims = jwt_verify(key_bytes(key, key_hex), token, v, now)
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
        faults, token = jwt_encode(raw_key, header.encode("utf-8"), claims.encode("utf-8"))
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, **key_field(key, key_hex),
                "header": header, "claims": claims}
        if expect == VALID:
            if token != jwt_make(claims, header, raw_key):
                raise VectorError(f"{comment}: reference encoder and HMAC oracles disagree")
            if published is not None and token != published:
                raise VectorError(f"{comment}: the published token is not what the oracle makes")
            relaxed = dict(JWT_VALIDATION, require_exp=False, max_len=len(token))
            stage, _, _ = jwt_verify(raw_key, token, relaxed, 0)
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
    k_rfc = b64url_decode(RFC7515_A1_K).hex()
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
    k_rfc = b64url_decode(RFC7515_A1_K).hex()
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
    c64 = b64url(claims.encode())
    for alg in ("none", "None", "NONE", "nOnE"):
        h64 = b64url(f'{{"alg":"{alg}","typ":"JWT"}}'.encode())
        book.verify(f"attack: alg '{alg}' without a signature (empty third part)",
                    f"{h64}.{c64}.", "algorithm_none")
        book.verify(f"attack: alg '{alg}' with a valid HMAC-SHA256 signature of the key",
                    jwt_sign_parts(JWT_KEY, h64, c64), "algorithm_none")
    none64 = b64url(b'{"alg":"none"}')
    book.verify("attack: alg none, header with no typ, token without the third part's dot",
                f"{none64}.{c64}", "token_malformed")
    book.verify("attack: algorithm confusion, RS256 header signed with HMAC-SHA256 of the key",
                jwt_make(claims, '{"alg":"RS256","typ":"JWT"}'), "algorithm_not_allowed")
    hs512 = b64url(b'{"alg":"HS512","typ":"JWT"}')
    sig512 = hmac.new(JWT_KEY.encode(), f"{hs512}.{c64}".encode(), hashlib.sha512).digest()
    book.verify("HS512 token genuinely signed with HMAC-SHA512 (64-byte signature)",
                f"{hs512}.{c64}.{b64url(sig512)}", "algorithm_not_allowed")
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
    book.verify("all-zero 32-byte signature", f"{h64}.{c64}.{b64url(bytes(32))}",
                "signature_mismatch")
    sig = bytearray(b64url_decode(s64))
    sig[31] ^= 0x80
    book.verify("last signature byte with one bit flipped",
                f"{h64}.{c64}.{b64url(bytes(sig))}", "signature_mismatch")
    other = jwt_make(jwt_claims_at(sub="admin"))
    book.verify("claims changed (sub admin), signature of the original kept",
                f"{h64}.{other.split('.')[1]}.{s64}", "signature_mismatch")
    book.verify("signature of another token pasted on", f"{h64}.{c64}.{other.split('.')[2]}",
                "signature_mismatch")
    h2 = b64url(b'{"typ":"JWT","alg":"HS256"}')
    book.verify("header rewritten (same members, other order), signature of the original kept",
                f"{h2}.{c64}.{s64}", "signature_mismatch")
    book.verify("signature over the decoded header and claims instead of their base64url",
                f"{h64}.{c64}." + b64url(mac(JWT_KEY.encode(),
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
                f"{h64}.{c64}.{b64url(b64url_decode(s64) + bytes(1))}",
                "token_malformed", pyjwt="signature_mismatch")
    book.verify("signature as lowercase hex (64 characters)",
                f"{h64}.{c64}.{b64url_decode(s64).hex()}", "token_malformed",
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
            text_of, lambda s: len(b64url(s.encode())) % 4 in (2, 3)
            and any(c in b64url(s.encode()) for c in "-_"), what)

    header = long_b64(lambda i: f'{{"alg":"HS256","typ":"JWT","kid":"k>{i}?"}}',
                      "header with '-' or '_' and unused bits")
    claims = long_b64(lambda i: jwt_claims_at(jti=f"~{i}>"),
                      "claims with '-' or '_' and unused bits")
    h64, c64 = b64url(header.encode()), b64url(claims.encode())
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
            "hand-written JWT in oracles/jwt_hs256.py (base64url, strict JSON, hmac/hashlib).",
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
