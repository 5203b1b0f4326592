"""jws.json: OpenID providers' access tokens (RS256, PS256, ES256, EdDSA) against a JWK set,
RFC known answers, the attack table, and JWK set parsing."""

from __future__ import annotations

import base64
import json

from cryptography.hazmat.primitives import hashes, hmac, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from oracles.base64url import b64url, b64url_decode
from oracles.common import VALID, VECTORS_DIR, VectorError
from oracles.jws import (
    ed25519_decompresses,
    es256_der,
    judge,
    parse_jwks,
    public_jwk,
    rsa_private,
    sign,
    verify,
)

from .common import TcIds, derived_hex, file_header, outcome

NOW = 1700000000
ISS = "https://op.example.test/realms/zignsec"
AUD = "https://api.example.test"
CAPACITY = 16

# RFC 7515 Appendix A.2 (RS256): the RSA key, private members included (they are public).
RFC7515_A2_RSA = {
    "kty": "RSA",
    "n": "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-"
         "yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-"
         "KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_"
         "h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    "e": "AQAB",
    "d": "Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46s"
         "ui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4"
         "D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufu"
         "BiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
    "p": "4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY"
         "8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
    "q": "uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66"
         "t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
    "dp": "BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeD"
          "Cjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
    "dq": "h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJ"
          "nwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
    "qi": "IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w"
          "93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U",
}
# RFC 7515 Appendix A.3 (ES256).
RFC7515_A3_EC = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
                 "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0", "d": "jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}
# RFC 8037 Appendix A.1 (Ed25519).
RFC8037_A1_OKP = {"kty": "OKP", "crv": "Ed25519", "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
                  "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
# The RFCs' compact serializations, verbatim.
RFC_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
RFC7515_A2 = ("eyJhbGciOiJSUzI1NiJ9." + RFC_PAYLOAD + ".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5R"
              "Zmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75v"
              "RK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv"
              "hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw")
RFC7515_A3 = ("eyJhbGciOiJFUzI1NiJ9." + RFC_PAYLOAD
              + ".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")
RFC8037_A4 = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbh"
              "ijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
# RFC 7517 Appendix A.1: a public JWK set (an EC P-256 key and an RSA key), verbatim.
RFC7517_A1 = ('{"keys":[{"kty":"EC","crv":"P-256","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4",'
              '"y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM","use":"enc","kid":"1"},'
              '{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPeb'
              'WKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnY'
              'b9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-cs'
              'FCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}]}')


def _attacker_ec() -> dict:
    """A P-256 key nobody trusts (another issuer's), from a fixed scalar."""
    key = ec.derive_private_key(int(derived_hex("jws attacker ec", 32), 16), ec.SECP256R1())
    n = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64url(n.x.to_bytes(32, "big")), "y": b64url(n.y.to_bytes(32, "big")),
            "d": b64url(key.private_numbers().private_value.to_bytes(32, "big"))}


RSA = dict(RFC7515_A2_RSA, kid="rsa-1")
EC = dict(RFC7515_A3_EC, kid="ec-1")
ED = dict(RFC8037_A1_OKP, kid="ed-1")
ATTACKER = dict(_attacker_ec(), kid="ec-1")


def _compact(obj: dict) -> str:
    return json.dumps(obj, separators=(",", ":"))


def _jwks(*keys: dict, extra: str = "") -> str:
    return '{"keys":[' + ",".join(_compact(public_jwk(k)) for k in keys) + "]" + extra + "}"


# The test issuer's set; the P-384 and oct keys are skipped (unsupported), not refused.
SET = _jwks(RSA, EC, ED, {"kty": "EC", "crv": "P-384", "kid": "p384", "x": "AA", "y": "AA"},
            {"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"})


def _issuer(**over: object) -> dict:
    base = {"issuer": ISS, "audience": AUD, "algorithms": ["RS256", "PS256", "ES256", "EdDSA"],
            "leeway_s": 0, "strict": False, "max_len": 8192}
    base.update(over)
    return base


def _claims(**over: object) -> dict:
    c = {"iss": ISS, "sub": "client-7", "aud": AUD, "exp": NOW + 1200, "iat": NOW - 10,
         "client_id": "client-7", "scope": "payments:read", "jti": "jti-1"}
    for k, v in over.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


def _previous() -> dict:
    """Signatures of the committed file, so PS256's random salt does not churn it."""
    path = VECTORS_DIR / "jws.json"
    if not path.is_file():
        return {}
    old = json.loads(path.read_text(encoding="utf-8"))
    return {t["comment"]: t["token"] for t in old.get("tests", []) if t.get("kind") == "token"}


def _token(header: dict | str, claims: dict | str, key: dict | None, alg: str, prev: str | None) -> str:
    h = b64url((header if isinstance(header, str) else _compact(header)).encode())
    c = b64url((claims if isinstance(claims, str) else _compact(claims)).encode())
    signing_input = f"{h}.{c}".encode()
    if key is None:
        return f"{h}.{c}."
    old = b64url_decode(prev.rsplit(".", 1)[1]) if prev and prev.startswith(f"{h}.{c}.") else None
    return f"{h}.{c}.{b64url(sign(alg, key, signing_input, old))}"


def build_jws() -> dict:
    ids = TcIds()
    prev = _previous()
    tests: list = []
    fault, keys = parse_jwks(SET, CAPACITY)
    if fault or [k["kid"] for k in keys] != ["rsa-1", "ec-1", "ed-1"]:
        raise VectorError("jws.json: the test JWK set does not load as expected")

    def rsa_features(alg: str) -> list:
        return ["rsa"] if alg in ("RS256", "PS256") else (["es256"] if alg == "ES256" else ["eddsa"])

    # RFC known answers: the RFC's key and signature, checked by the oracle too.
    for comment, jwk, token, alg in (
        ("RFC 7515 A.2 (RS256)", RFC7515_A2_RSA, RFC7515_A2, "RS256"),
        ("RFC 7515 A.3 (ES256)", RFC7515_A3_EC, RFC7515_A3, "ES256"),
        ("RFC 8037 A.4 (Ed25519)", RFC8037_A1_OKP, RFC8037_A4, "EdDSA"),
    ):
        h, c, s = token.split(".")
        sig = b64url_decode(s)
        assert sig is not None
        if not verify(alg, jwk, f"{h}.{c}".encode(), sig):
            raise VectorError(f"{comment}: the oracle does not verify the RFC's signature")
        if alg != "ES256" and sign(alg, jwk, f"{h}.{c}".encode()) != sig:
            raise VectorError(f"{comment}: the oracle does not reproduce the RFC's signature")
        tests.append({"tcId": ids.next(), "comment": comment, "kind": "rfc", "features": rsa_features(alg),
                      "jwks": _jwks(jwk), "alg": alg, "signing_input": f"{h}.{c}", "signature": s,
                      "result": "valid"})
        flipped = s[:10] + ("A" if s[10] != "A" else "B") + s[11:]
        tests.append({"tcId": ids.next(), "comment": comment + ", signature altered", "kind": "rfc",
                      "features": rsa_features(alg), "jwks": _jwks(jwk), "alg": alg,
                      "signing_input": f"{h}.{c}", "signature": flipped, **outcome("signature_mismatch")})

    def tok(comment: str, expect: str, header: dict | str, claims: dict | str = "", key: dict | None = None,
            alg: str = "", issuer: dict | None = None, token: str | None = None, features: list | None = None,
            ) -> None:
        issuer = issuer or _issuer()
        if token is None:
            token = _token(header, claims if claims != "" else _claims(), key, alg, prev.get(comment))
        faults = judge(token, keys, issuer, NOW)
        wanted = set() if expect == VALID else {expect}
        if faults != wanted:
            raise VectorError(f"jws.json {comment}: declared {expect!r}, reference found {sorted(faults)}")
        case = {"tcId": ids.next(), "comment": comment, "kind": "token",
                "features": features if features is not None else rsa_features(alg or "ES256"),
                "issuer": issuer, "token": token, **outcome(expect)}
        if expect == VALID:
            body = json.loads(b64url_decode(token.split(".")[1]) or b"{}")
            case["claims"] = {k: body.get(k) for k in ("sub", "client_id", "scope")}
        tests.append(case)

    at = {"typ": "at+jwt"}
    for alg, key in (("RS256", RSA), ("PS256", RSA), ("ES256", EC), ("EdDSA", ED)):
        tok(f"{alg} access token", VALID, {"alg": alg, "kid": key["kid"], **at}, key=key, alg=alg)
    tok("Ed25519 as the alg name (RFC 9864)", VALID, {"alg": "Ed25519", "kid": "ed-1", **at}, key=ED, alg="EdDSA",
        issuer=_issuer(algorithms=["EdDSA"]))
    tok("typ application/at+jwt", VALID, {"alg": "ES256", "kid": "ec-1", "typ": "application/at+jwt"}, key=EC,
        alg="ES256")
    tok("typ JWT, not strict", VALID, {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}, key=EC, alg="ES256")
    tok("no typ, not strict", VALID, {"alg": "ES256", "kid": "ec-1"}, key=EC, alg="ES256")
    tok("no kid, one key fits", VALID, {"alg": "EdDSA", **at}, key=ED, alg="EdDSA")
    tok("aud a list holding the audience", VALID, {"alg": "ES256", "kid": "ec-1", **at},
        _claims(aud=["other", AUD]), EC, "ES256")
    tok("strict, RFC 9068 profile complete", VALID, {"alg": "ES256", "kid": "ec-1", **at}, key=EC, alg="ES256",
        issuer=_issuer(strict=True))
    tok("expired 10 s ago, leeway 30 s", VALID, {"alg": "ES256", "kid": "ec-1", **at}, _claims(exp=NOW - 10),
        EC, "ES256", issuer=_issuer(leeway_s=30))

    # The attack table.
    pem = rsa_private(RSA).public_key().public_bytes(serialization.Encoding.PEM,
                                                    serialization.PublicFormat.SubjectPublicKeyInfo)
    h = b64url(_compact({"alg": "HS256", "kid": "rsa-1", **at}).encode())
    c = b64url(_compact(_claims()).encode())
    mac = hmac.HMAC(pem, hashes.SHA256())
    mac.update(f"{h}.{c}".encode())
    tok("HS256 keyed with the RSA public key (algorithm confusion)", "symmetric_algorithm", {},
        token=f"{h}.{c}.{b64url(mac.finalize())}", features=["es256"])
    tok("alg none", "algorithm_none", {"alg": "none", **at}, key=None)
    tok("alg NoNe", "algorithm_none", {"alg": "NoNe", "kid": "ec-1"}, key=None)
    tok("kid names an EC key, alg RS256", "key_type_mismatch", {"alg": "RS256", "kid": "ec-1", **at}, key=RSA,
        alg="RS256")
    tok("kid names an Ed25519 key, alg ES256", "key_type_mismatch", {"alg": "ES256", "kid": "ed-1", **at}, key=EC,
        alg="ES256")
    tok("unknown kid", "unknown_kid", {"alg": "ES256", "kid": "ec-2", **at}, key=EC, alg="ES256")
    tok("another issuer's key with a colliding kid", "signature_mismatch", {"alg": "ES256", "kid": "ec-1", **at},
        _claims(iss="https://evil.example.test"), ATTACKER, "ES256")
    for member, value in (("jku", "https://evil.example.test/jwks"), ("x5u", "https://evil.example.test/cert"),
                          ("jwk", public_jwk(ATTACKER)), ("x5c", ["MIIB"])):
        tok(f"{member} header", "embedded_key", {"alg": "ES256", "kid": "ec-1", member: value, **at},
            key=ATTACKER if member == "jwk" else EC, alg="ES256")
    tok("unknown crit", "crit_unsupported", {"alg": "ES256", "kid": "ec-1", "crit": ["exp"], "exp": 1, **at},
        key=EC, alg="ES256")
    tok("RS256 for an issuer configured for ES256 only", "algorithm_not_allowed",
        {"alg": "RS256", "kid": "rsa-1", **at}, key=RSA, alg="RS256", issuer=_issuer(algorithms=["ES256"]))
    tok("RS512", "algorithm_not_allowed", {"alg": "RS512", "kid": "rsa-1", **at}, key=RSA, alg="RS256")
    tok("no alg", "missing_algorithm", {"kid": "ec-1", **at}, key=EC, alg="ES256")
    tok("alg twice", "duplicate_field", '{"alg":"ES256","alg":"ES256","kid":"ec-1"}', key=EC, alg="ES256")
    tok("wrong iss", "issuer_mismatch", {"alg": "ES256", "kid": "ec-1", **at}, _claims(iss=ISS + "/"), EC, "ES256")
    tok("wrong aud", "audience_mismatch", {"alg": "ES256", "kid": "ec-1", **at}, _claims(aud="https://other"), EC,
        "ES256")
    tok("no aud", "missing_claim", {"alg": "ES256", "kid": "ec-1", **at}, _claims(aud=None), EC, "ES256")
    tok("typ JWT in strict mode", "token_type_mismatch", {"alg": "ES256", "kid": "ec-1", "typ": "JWT"}, key=EC,
        alg="ES256", issuer=_issuer(strict=True))
    tok("typ dpop+jwt", "token_type_mismatch", {"alg": "ES256", "kid": "ec-1", "typ": "dpop+jwt"}, key=EC,
        alg="ES256")
    tok("strict, no jti", "missing_claim", {"alg": "ES256", "kid": "ec-1", **at}, _claims(jti=None), EC, "ES256",
        issuer=_issuer(strict=True))
    tok("expired", "token_expired", {"alg": "ES256", "kid": "ec-1", **at}, _claims(exp=NOW), EC, "ES256")
    tok("not yet valid", "token_not_yet_valid", {"alg": "ES256", "kid": "ec-1", **at}, _claims(nbf=NOW + 60), EC,
        "ES256")
    tok("no exp", "missing_claim", {"alg": "ES256", "kid": "ec-1", **at}, _claims(exp=None), EC, "ES256")
    good = _token({"alg": "ES256", "kid": "ec-1", **at}, _claims(), EC, "ES256", None)
    gh, gc, gs = good.split(".")
    sig = b64url_decode(gs) or b""
    tok("ES256 signature DER-encoded", "signature_mismatch", {}, token=f"{gh}.{gc}.{b64url(es256_der(sig))}")
    tok("ES256 signature truncated", "signature_mismatch", {}, token=f"{gh}.{gc}.{b64url(sig[:-1])}")
    tok("ES256 signature with a bit flipped", "signature_mismatch", {},
        token=f"{gh}.{gc}.{b64url(sig[:-1] + bytes([sig[-1] ^ 1]))}")
    tok("ES256 signature padded base64", "token_malformed", {},
        token=f"{gh}.{gc}.{base64.urlsafe_b64encode(sig + b'x').decode()}")
    tok("ES256 signature in the standard alphabet", "token_malformed", {},
        token=f"{gh}.{gc}.{base64.b64encode(sig + b'x').decode().replace('=', '')}")
    other = b64url(_compact(_claims(sub="admin")).encode())
    tok("claims altered after signing", "signature_mismatch", {}, token=f"{gh}.{other}.{gs}")
    tok("four parts", "token_malformed", {}, token=f"{good}.{gs}")
    tok("oversized token", "token_too_long", {"alg": "ES256", "kid": "ec-1", **at},
        _claims(pad="x" * 8200), EC, "ES256")

    # JWK set documents.
    def jwks(comment: str, expect: str, text: str, kids: list | None = None, features: list | None = None) -> None:
        fault, got = parse_jwks(text, CAPACITY)
        if (fault or VALID) != expect or (kids is not None and [k.get("kid") for k in got] != kids):
            raise VectorError(f"jws.json {comment}: declared {expect!r}, reference found {fault!r}")
        case = {"tcId": ids.next(), "comment": comment, "kind": "jwks", "features": features or [],
                "capacity": CAPACITY, "jwks": text, **outcome(expect)}
        if kids is not None:
            case["kids"] = kids
        tests.append(case)

    jwks("the test set: RSA, EC, OKP; P-384 and oct skipped", VALID, SET, ["rsa-1", "ec-1", "ed-1"],
         ["rsa", "es256", "eddsa"])
    jwks("RFC 7517 A.1: the EC key is for encryption, skipped", VALID, RFC7517_A1, ["2011-04-29"], ["rsa"])
    jwks("EC x of 31 bytes", "jwks_malformed", _jwks(dict(EC, x=b64url((b64url_decode(EC["x"]) or b"")[1:]))),
         features=["es256"])
    y = b64url_decode(EC["y"]) or b""
    jwks("EC point not on the curve", "jwks_malformed", _jwks(dict(EC, y=b64url(y[:-1] + bytes([y[-1] ^ 1])))),
         features=["es256"])
    bad = next(bytes([i]) + bytes(31) for i in range(2, 256) if not ed25519_decompresses(bytes([i]) + bytes(31)))
    jwks("Ed25519 x not a point", "jwks_malformed", _jwks(dict(ED, x=b64url(bad))), features=["eddsa"])
    jwks("RSA modulus of 1024 bits", "jwk_weak_key", _jwks(dict(RSA, n=b64url(b"\xc1" + bytes(126) + b"\x01"))),
         features=["rsa"])
    jwks("RSA modulus with a leading zero octet", "jwks_malformed",
         _jwks(dict(RSA, n=b64url(b"\x00" + (b64url_decode(RSA["n"]) or b"")))), features=["rsa"])
    n = b64url_decode(RSA["n"]) or b""
    jwks("RSA modulus even", "jwks_malformed", _jwks(dict(RSA, n=b64url(n[:-1] + bytes([n[-1] ^ 1])))),
         features=["rsa"])
    # The exponents every backend takes (RustCrypto's and ring's bounds; jws_backend.rs): odd, 3 to 2^33 - 1.
    for e, expect in ((3, VALID), (2**33 - 1, VALID), (1, "jwks_malformed"), (65536, "jwks_malformed"),
                      (2**33 + 1, "jwks_malformed")):
        jwks(f"RSA exponent {e}", expect, _jwks(dict(RSA, e=b64url(e.to_bytes((e.bit_length() + 7) // 8, "big")))),
             ["rsa-1"] if expect == VALID else None, ["rsa"])
    jwks("repeated member in a key", "jwks_malformed",
         '{"keys":[{"kty":"OKP","crv":"Ed25519","crv":"Ed25519","x":"' + ED["x"] + '"}]}')
    jwks("escaped member name", "jwks_malformed",
         '{"keys":[{"\\u006bty":"OKP","crv":"Ed25519","x":"' + ED["x"] + '"}]}')
    jwks("no keys member", "jwks_malformed", '{"kty":"OKP"}')
    jwks("not JSON", "jwks_malformed", '{"keys":[')
    many = [dict(ED, kid=f"ed-{i}") for i in range(CAPACITY + 1)]
    jwks("more usable keys than the set holds", "jwks_too_large", _jwks(*many), features=["eddsa"])
    jwks("document over 32 KiB", "jwks_too_large", _jwks(ED, extra=',"pad":"' + "x" * (32 * 1024) + '"'))

    notes = [
        "kind rfc: load jwks, verify signature (base64url) over signing_input with alg; the key is the set's only key.",
        "kind token: load the top-level jwks (capacity) and verify token with issuer at now; valid cases list the",
        "claims sub, client_id, scope the caller must see. kind jwks: parse jwks with capacity; kids in order.",
        "features: the core features a case needs (rsa, es256, eddsa); builds without one skip the case.",
        "Expected outcomes come from oracles/jws.py (cryptography/OpenSSL and a reference verifier from the RFCs).",
    ]
    head = file_header("Asymmetric JWS access tokens and JWK sets (RFC 7515/7517/7518/8037/9068).", notes)
    return {**head, "now": NOW, "capacity": CAPACITY, "jwks": SET, "tests": tests}

