"""Asymmetric JWS (RS256, PS256, ES256, EdDSA) and JWK sets: the oracle of jws.json.

Signatures are made and checked by the ``cryptography`` package (OpenSSL), never by apisig.
The private keys are the published RFC examples (RFC 7515 A.2 RSA and A.3 P-256, RFC 8037
A.1 Ed25519), so anyone can rebuild them. ES256 signs with RFC 6979 deterministic nonces and
RS256/EdDSA are deterministic; a PS256 signature (random salt) is kept from the committed
file when it still verifies, so regeneration is stable.

The reference verifier ``judge`` is written from RFC 7515/7517/7518/8037/9068 and the OIDC
rules of DESIGN.md, in stages (shape, header, key, signature, claims): the first stage with a
fault decides, and inside a stage a case must trip exactly one check.
"""

from __future__ import annotations

import json

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from .base64url import b64url, b64url_decode

RSA_MIN_BITS, RSA_MAX_BITS = 2048, 4096
RSA_MAX_EXPONENT = 2**33 - 1  # RustCrypto's and ring's bound
JWKS_MAX_LEN = 32 * 1024
KID_MAX = 64
ALG_NAMES = {"HS256": "HS256", "RS256": "RS256", "PS256": "PS256", "ES256": "ES256",
             "EdDSA": "EdDSA", "Ed25519": "EdDSA"}
KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC", "EdDSA": "OKP"}


def _int(b64: str) -> int:
    raw = b64url_decode(b64)
    assert raw is not None
    return int.from_bytes(raw, "big")


def rsa_private(jwk: dict) -> rsa.RSAPrivateKey:
    pub = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"]))
    return rsa.RSAPrivateNumbers(_int(jwk["p"]), _int(jwk["q"]), _int(jwk["d"]), _int(jwk["dp"]),
                                 _int(jwk["dq"]), _int(jwk["qi"]), pub).private_key()


def ec_private(jwk: dict) -> ec.EllipticCurvePrivateKey:
    key = ec.derive_private_key(_int(jwk["d"]), ec.SECP256R1())
    nums = key.public_key().public_numbers()
    if (nums.x, nums.y) != (_int(jwk["x"]), _int(jwk["y"])):
        raise ValueError("EC JWK: d does not give x, y")
    return key


def ed_private(jwk: dict) -> ed25519.Ed25519PrivateKey:
    raw = b64url_decode(jwk["d"])
    assert raw is not None
    key = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
    if b64url(key.public_key().public_bytes_raw()) != jwk["x"]:
        raise ValueError("OKP JWK: d does not give x")
    return key


def public_jwk(jwk: dict) -> dict:
    """The JWK without its private members."""
    return {k: v for k, v in jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}


def sign(alg: str, private: dict, signing_input: bytes, previous: bytes | None = None) -> bytes:
    """The raw JWS signature (RFC 7518 §3) of ``signing_input`` with the private JWK."""
    if alg == "RS256":
        return rsa_private(private).sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    if alg == "PS256":
        if previous is not None and verify(alg, private, signing_input, previous):
            return previous
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return rsa_private(private).sign(signing_input, pss, hashes.SHA256())
    if alg == "ES256":
        der = ec_private(private).sign(signing_input, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
        r, s = decode_dss_signature(der)
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if alg == "EdDSA":
        return ed_private(private).sign(signing_input)
    raise ValueError(alg)


def es256_der(raw: bytes) -> bytes:
    """An r‖s signature re-encoded as DER (what a careless signer sends)."""
    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def verify(alg: str, jwk: dict, signing_input: bytes, sig: bytes) -> bool:
    """Whether ``sig`` is a valid ``alg`` signature by the public JWK (cryptography)."""
    try:
        if alg in ("RS256", "PS256"):
            key = rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
            if len(sig) != (key.key_size + 7) // 8:
                return False
            pad = (padding.PKCS1v15() if alg == "RS256"
                   else padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32))
            key.verify(sig, signing_input, pad, hashes.SHA256())
        elif alg == "ES256":
            if len(sig) != 64:
                return False
            pub = ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1()).public_key()
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            pub.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        elif alg == "EdDSA":
            raw = b64url_decode(jwk["x"])
            assert raw is not None
            ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(sig, signing_input)
        else:
            return False
    except (InvalidSignature, ValueError):
        return False
    return True


# Ed25519 point decompression (RFC 8032 §5.1.3), by hand: cryptography loads any 32 bytes.
_P = 2**255 - 19
_D = (-121665 * pow(121666, -1, _P)) % _P


def ed25519_decompresses(raw: bytes) -> bool:
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    sign = raw[31] >> 7
    if y >= _P:
        return False
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = (u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P)) % _P
    if (v * x * x - u) % _P == 0:
        pass
    elif (v * x * x + u) % _P == 0:
        x = (x * pow(2, (_P - 1) // 4, _P)) % _P
    else:
        return False
    return not (x == 0 and sign == 1)


def _pairs_no_dup(pairs: list) -> dict:
    names = [k for k, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError("repeated member")
    return dict(pairs)


def _usable(k: dict) -> bool:
    if k.get("use", "sig") != "sig" or ("alg" in k and k["alg"] not in ALG_NAMES):
        return False
    return (k.get("kty"), k.get("crv")) in (("EC", "P-256"), ("OKP", "Ed25519")) or k.get("kty") == "RSA"


def _fixed(b64: object, n: int) -> bytes | None:
    raw = b64url_decode(b64) if isinstance(b64, str) else None
    return raw if raw is not None and len(raw) == n else None


def _key_fault(k: dict) -> str | None:
    kty = k["kty"]
    if not all(isinstance(k.get(m), str) for m in ("kty", "kid", "use", "alg", "crv", "x", "y", "n", "e")
               if m in k):
        return "jwks_malformed"
    if len(k.get("kid", "")) > KID_MAX:
        return "jwks_malformed"
    if kty == "EC":
        x, y = _fixed(k.get("x"), 32), _fixed(k.get("y"), 32)
        if x is None or y is None:
            return "jwks_malformed"
        try:
            ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                          ec.SECP256R1()).public_key()
        except ValueError:
            return "jwks_malformed"
        return None
    if kty == "OKP":
        x = _fixed(k.get("x"), 32)
        return None if x is not None and ed25519_decompresses(x) else "jwks_malformed"
    n = b64url_decode(k["n"]) if isinstance(k.get("n"), str) else None
    e = b64url_decode(k["e"]) if isinstance(k.get("e"), str) else None
    if n is None or e is None or not n or not e or n[0] == 0 or e[0] == 0 or len(e) > 8:
        return "jwks_malformed"
    if not RSA_MIN_BITS <= 8 * len(n) <= RSA_MAX_BITS:
        return "jwk_weak_key"
    if n[-1] % 2 == 0:  # an RSA modulus is odd
        return "jwks_malformed"
    e_value = int.from_bytes(e, "big")
    if e_value % 2 == 0 or not 3 <= e_value <= RSA_MAX_EXPONENT:  # so is the exponent, 3 to 2^33 - 1
        return "jwks_malformed"
    return None


def parse_jwks(text: str, capacity: int) -> tuple[str | None, list]:
    """The reference JWK set parser: (fault or None, the usable keys)."""
    if len(text.encode()) > JWKS_MAX_LEN:
        return "jwks_too_large", []
    if "\\" in text:  # this file's sets never escape anything but member names
        return "jwks_malformed", []
    try:
        doc = json.loads(text, object_pairs_hook=_pairs_no_dup)
    except ValueError:
        return "jwks_malformed", []
    if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list) or \
            not all(isinstance(k, dict) for k in doc["keys"]):
        return "jwks_malformed", []
    usable = [k for k in doc["keys"] if _usable(k)]
    if len(usable) > capacity:
        return "jwks_too_large", []
    for k in usable:
        fault = _key_fault(k)
        if fault:
            return fault, []
    return None, usable


def _find(keys: list, kid: str | None, alg: str) -> tuple[str | None, dict | None]:
    def fits(k: dict) -> bool:
        return KEY_TYPE[alg] == k["kty"] and ALG_NAMES.get(k.get("alg", alg)) == alg
    if kid is None:
        fitting = [k for k in keys if fits(k)]
        if len(fitting) == 1:
            return None, fitting[0]
        return ("missing_kid" if fitting else "unknown_kid"), None
    named = [k for k in keys if k.get("kid") == kid]
    if not named:
        return "unknown_kid", None
    good = [k for k in named if fits(k)]
    return (None, good[0]) if good else ("key_type_mismatch", None)


def judge(token: str, keys: list, issuer: dict, now: int) -> set:
    """The faults the first failing stage finds (empty: valid)."""
    if len(token) > issuer["max_len"]:
        return {"token_too_long"}
    parts = token.split(".")
    if len(parts) != 3:
        return {"token_malformed"}
    raw_header = b64url_decode(parts[0])
    raw_claims = b64url_decode(parts[1])
    sig = b64url_decode(parts[2])
    try:
        header = json.loads(raw_header, object_pairs_hook=lambda p: p) if raw_header is not None else None
    except ValueError:
        header = None
    if not isinstance(header, list):
        return {"token_malformed"}
    names = [k for k, _ in header]
    if len(names) != len(set(names)):
        return {"duplicate_field"}
    h = dict(header)
    faults = set()
    alg = h.get("alg")
    if alg is None:
        return {"missing_algorithm"}
    if alg.lower() == "none":
        faults.add("algorithm_none")
    if any(m in h for m in ("jku", "x5u", "jwk", "x5c")):
        faults.add("embedded_key")
    if "crit" in h:
        faults.add("crit_unsupported")
    if faults:
        return faults
    if alg[:2].upper() == "HS":
        return {"symmetric_algorithm"}
    name = ALG_NAMES.get(alg)
    if name is None or name not in issuer["algorithms"]:
        return {"algorithm_not_allowed"}
    typ = h.get("typ")
    ok = [t.lower() for t in (["at+jwt", "application/at+jwt"]
                              + ([] if issuer["strict"] else ["jwt", "application/jwt"]))]
    if not ((typ is None and not issuer["strict"]) or (typ is not None and typ.lower() in ok)):
        return {"token_type_mismatch"}
    fault, key = _find(keys, h.get("kid"), name)
    if fault:
        return {fault}
    if sig is None or len(sig) > RSA_MAX_BITS // 8:
        return {"token_malformed"}
    if not verify(name, key, f"{parts[0]}.{parts[1]}".encode(), sig):
        return {"signature_mismatch"}
    try:
        claims = json.loads(raw_claims, object_pairs_hook=_pairs_no_dup) if raw_claims is not None else None
    except ValueError:
        return {"token_malformed"}
    if not isinstance(claims, dict):
        return {"token_malformed"}
    leeway = issuer["leeway_s"]
    if "exp" not in claims:
        return {"missing_claim"}
    if claims["exp"] <= now - leeway:
        return {"token_expired"}
    if claims.get("nbf", 0) > now + leeway or claims.get("iat", 0) > now + leeway:
        return {"token_not_yet_valid"}
    if "iss" not in claims:
        return {"missing_claim"}
    if claims["iss"] != issuer["issuer"]:
        return {"issuer_mismatch"}
    aud = claims.get("aud")
    aud = [aud] if isinstance(aud, str) else (aud or [])
    if not aud:
        return {"missing_claim"}
    if issuer["audience"] not in aud:
        return {"audience_mismatch"}
    if issuer["strict"] and not all(c in claims for c in ("sub", "client_id", "iat", "jti")):
        return {"missing_claim"}
    return set()
