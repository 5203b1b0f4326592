"""Tokens and certificates through the Python face: every case of tests/vectors/jwt.json,
session.json and pins.json, PyJWT interoperability both ways, RFC 7515 A.1, and the token
lifetime bookkeeping."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import jwt as pyjwt
import pytest
from conftest import VECTORS, load_vectors

import apisig

JWT = load_vectors("jwt.json")
SESSION = load_vectors("session.json")
PINS = load_vectors("pins.json")
S = 1_000_000_000

JWT_KEYS = {"tcId", "comment", "key", "key_hex", "token", "now", "validation", "claims", "result", "error"}
ENCODE_KEYS = {"tcId", "comment", "key", "key_hex", "header", "claims", "token", "result", "error"}


def ids(cases: list[dict[str, Any]]) -> list[str]:
    return [f"tc{c['tcId']}" for c in cases]


def key_of(case: dict[str, Any]) -> bytes:
    if case.get("key_hex") is not None:
        return bytes.fromhex(case["key_hex"])
    key: str = case["key"]
    return key.encode()


def expect_error(exc: apisig.ApisigError, want: str, where: str) -> None:
    assert exc.name == want, f"{where}: got {type(exc).__name__} ({exc.name}), want {want}"


def verify_case(case: dict[str, Any], token: str | bytes | None = None) -> apisig.JwtClaims:
    v = case["validation"]
    return apisig.jwt_verify(
        key_of(case),
        case["token"] if token is None else token,
        now=case["now"] * S,
        leeway=v["leeway_s"],
        require_exp=v["require_exp"],
        issuer=v["iss"],
        audience=v["aud"],
        subject=v["sub"],
        max_len=v["max_len"],
    )


# ---- JWT vectors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", JWT["tests"], ids=ids(JWT["tests"]))
def test_jwt_verify(case: dict[str, Any]) -> None:
    assert set(case) <= JWT_KEYS, f"new vector fields {set(case) - JWT_KEYS}: teach the Python test"
    where = f"tcId {case['tcId']} ({case['comment']})"
    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            verify_case(case)
        expect_error(info.value, case["error"], where)
        return
    got = verify_case(case)
    want = case["claims"]
    assert (got.iss, got.sub, got.aud, got.exp, got.nbf, got.iat) == (
        want["iss"],
        want["sub"],
        want["aud"],
        want["exp"],
        want["nbf"],
        want["iat"],
    ), where
    # The claims JSON is the token's second part, decoded.
    assert pyjwt.utils.base64url_decode(case["token"].split(".")[1]) == got.json, where
    # bytes and str tokens are the same token.
    assert verify_case(case, case["token"].encode()) == got, where


@pytest.mark.parametrize("case", JWT["encode"], ids=ids(JWT["encode"]))
def test_jwt_encode(case: dict[str, Any]) -> None:
    assert set(case) <= ENCODE_KEYS, f"new vector fields {set(case) - ENCODE_KEYS}: teach the Python test"
    where = f"tcId {case['tcId']} ({case['comment']})"
    header, claims = case["header"].encode(), case["claims"].encode()
    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            apisig.jwt_encode(key_of(case), claims, header)
        expect_error(info.value, case["error"], where)
        return
    assert apisig.jwt_encode(key_of(case), claims, header) == case["token"], where
    if header == b'{"alg":"HS256","typ":"JWT"}':
        assert apisig.jwt_encode(key_of(case), claims) == case["token"], where


def test_rfc7515_a1_byte_for_byte() -> None:
    """RFC 7515 Appendix A.1: the JWK's k, the header and payload octets with their CR LF, and
    the token copied from the RFC text."""
    k = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
    key = pyjwt.utils.base64url_decode(k)
    header = bytes([123, 34, 116, 121, 112, 34, 58, 34, 74, 87, 84, 34, 44, 13, 10, 32, 34, 97, 108, 103, 34,
                    58, 34, 72, 83, 50, 53, 54, 34, 125])  # fmt: skip
    payload = b'{"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}'
    token = (
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    )
    assert apisig.jwt_encode(key, payload, header) == token
    claims = apisig.jwt_verify(key, token, now=1300819379 * S, issuer="joe")
    assert (claims.iss, claims.exp, claims.json) == ("joe", 1300819380, payload)
    with pytest.raises(apisig.TokenExpired):
        apisig.jwt_verify(key, token, now=1300819380 * S)
    # PyJWT reads the RFC's token too.
    decoded = pyjwt.decode(token, key, algorithms=["HS256"], options={"verify_exp": False})
    assert decoded == {"iss": "joe", "exp": 1300819380, "http://example.com/is_root": True}


# ---- PyJWT interop ------------------------------------------------------------------------------

KEY = b"apisig-pyjwt-interop-key/0123456789abcdef"


@pytest.fixture
def frozen_pyjwt(monkeypatch: pytest.MonkeyPatch) -> Any:
    """PyJWT's clock set to a given UNIX second (PyJWT reads datetime.now)."""
    at = [0]

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> Frozen:
            return cls.fromtimestamp(at[0], tz)

    monkeypatch.setattr(pyjwt.api_jwt, "datetime", Frozen)
    return at


def test_pyjwt_style_encode_cases_are_what_pyjwt_writes() -> None:
    """Every PyJWT-style encode vector is byte for byte what PyJWT writes, and what apisig
    writes."""
    style = [c for c in JWT["encode"] if c["comment"].startswith("PyJWT-style")]
    assert len(style) >= 6
    for case in style:
        made = pyjwt.encode(json.loads(case["claims"]), key_of(case), algorithm="HS256")
        assert made == case["token"] == apisig.jwt_encode(key_of(case), case["claims"].encode()), case[
            "comment"
        ]


def test_valid_vectors_verify_with_pyjwt(frozen_pyjwt: Any) -> None:
    """Every token the vectors call valid is valid for PyJWT too, with the same claims."""
    valid = [c for c in JWT["tests"] if c["result"] == "valid"]
    for case in valid:
        v = case["validation"]
        frozen_pyjwt[0] = case["now"]
        kwargs: dict[str, Any] = {"leeway": v["leeway_s"], "issuer": v["iss"], "audience": v["aud"]}
        if v["sub"] is not None:
            kwargs["subject"] = v["sub"]
        options = {"require": ["exp"] if v["require_exp"] else [], "verify_aud": v["aud"] is not None}
        got = pyjwt.decode(case["token"], key_of(case), algorithms=["HS256"], options=options, **kwargs)  # type: ignore[arg-type]
        assert got == json.loads(verify_case(case).json), case["comment"]


CLAIM_SETS: list[dict[str, Any]] = [
    {"sub": "client-7"},
    {"sub": "zs-acme", "iss": "https://auth.example", "aud": "zignsec", "scope": "read write"},
    {"sub": "tsb-ops", "aud": ["tsb", "other"], "nbf": 0, "jti": "7f3c", "name": "Grüße ✓"},
    {"iss": "joe", "http://example.com/is_root": True, "nested": {"a": [1, 2, {"b": None}]}},
]


@pytest.mark.parametrize("claims", CLAIM_SETS)
def test_pyjwt_tokens_verify_with_apisig(claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims = {**claims, "iat": now - 5, "exp": now + 600}
    token = pyjwt.encode(claims, KEY, algorithm="HS256")
    aud = claims.get("aud")
    audience = aud if isinstance(aud, str) else (aud[0] if aud else None)
    got = apisig.jwt_verify(
        KEY, token, issuer=claims.get("iss"), audience=audience, subject=claims.get("sub")
    )
    assert json.loads(got.json) == claims
    assert (got.exp, got.iat, got.sub) == (now + 600, now - 5, claims.get("sub"))
    # A PyJWT token under another key, or another algorithm, is refused.
    with pytest.raises(apisig.SignatureMismatch):
        apisig.jwt_verify(KEY + b"!", token)
    with pytest.raises(apisig.AlgorithmNotAllowed):
        apisig.jwt_verify(KEY, pyjwt.encode(claims, KEY * 2, algorithm="HS512"))
    with pytest.raises(apisig.AlgorithmNone):
        apisig.jwt_verify(KEY, pyjwt.encode(claims, None, algorithm="none"))


@pytest.mark.parametrize("claims", CLAIM_SETS)
def test_apisig_tokens_verify_with_pyjwt(claims: dict[str, Any]) -> None:
    now = int(time.time())
    claims = {**claims, "iat": now - 5, "exp": now + 600}
    text = json.dumps(claims, separators=(",", ":")).encode()
    token = apisig.jwt_encode(KEY, text)
    aud = claims.get("aud")
    got = pyjwt.decode(
        token,
        KEY,
        algorithms=["HS256"],
        issuer=claims.get("iss"),
        audience=aud if isinstance(aud, str) else (aud[0] if aud else None),
        options={"require": ["exp", "iat"]},
    )
    assert got == claims
    assert pyjwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    # Same header and JSON text: the very token PyJWT writes.
    assert token == pyjwt.encode(claims, KEY, algorithm="HS256")
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, KEY + b"!", algorithms=["HS256"])


def test_expiry_agrees_with_pyjwt(frozen_pyjwt: Any) -> None:
    """exp <= now - leeway is expired in both."""
    token = apisig.jwt_encode(KEY, b'{"exp":1700000000}')
    for now, leeway in [(1699999999, 0), (1700000000, 0), (1700000009, 10), (1700000010, 10)]:
        frozen_pyjwt[0] = now
        try:
            pyjwt.decode(token, KEY, algorithms=["HS256"], leeway=leeway)
            theirs = True
        except pyjwt.ExpiredSignatureError:
            theirs = False
        try:
            apisig.jwt_verify(KEY, token, now=now * S, leeway=leeway)
            ours = True
        except apisig.TokenExpired:
            ours = False
        assert ours == theirs, (now, leeway)


# ---- session vectors -----------------------------------------------------------------------------


def session_keys(case: dict[str, Any]) -> apisig.SessionKeys:
    secondary = case.get("secondary")
    return apisig.SessionKeys(case["primary"].encode(), None if secondary is None else secondary.encode())


@pytest.mark.parametrize("case", SESSION["tests"], ids=ids(SESSION["tests"]))
def test_session_verify(case: dict[str, Any]) -> None:
    where = f"tcId {case['tcId']} ({case['comment']})"
    now = case["now"] * S
    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            session_keys(case).verify(case["token"], now=now)
        expect_error(info.value, case["error"], where)
    else:
        got = session_keys(case).verify(case["token"], now=now)
        want = case["session"]
        assert (got.user_id, got.key_id, got.expires, got.slot) == (
            want["user_id"],
            want["key_id"],
            want["expires"],
            want["slot"],
        ), where

    # The same token as an `aptoken` header, through a Verifier configured with the secrets.
    def through_verifier() -> apisig.Principal:
        v = apisig.Verifier(sessions=session_keys(case))
        if case["result"] == "valid":
            v.add(case["session"]["key_id"], b"apex-secret-of-" + case["session"]["key_id"].encode())
        return v.verify(apisig.APEX_SESSION, "GET", "/x", {"aptoken": case["token"]}, now=now)

    if case["result"] == "valid":
        p = through_verifier()
        assert (p.client_id, p.slot, p.scheme) == (
            case["session"]["key_id"],
            case["session"]["slot"],
            "apex-session",
        )
    elif "\r" in case["token"] or "\n" in case["token"] or "\0" in case["token"]:
        pass  # not sendable as a header value: nothing to compare
    else:
        with pytest.raises(apisig.ApisigError) as info:
            through_verifier()
        assert info.value.name in {case["error"], "invalid_header_value"}, where


@pytest.mark.parametrize("case", SESSION["issue"], ids=ids(SESSION["issue"]))
def test_session_issue(case: dict[str, Any]) -> None:
    where = f"tcId {case['tcId']} ({case['comment']})"

    def issue() -> str:
        return session_keys(case).issue(case["user_id"], case["key_id"], case["expires"])

    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            issue()
        expect_error(info.value, case["error"], where)
        return
    assert issue() == case["token"], where
    # A Verifier issues the same token for the same expiry.
    v = apisig.Verifier(sessions=apisig.SessionKeys(case["primary"].encode()))
    expires = case["expires"]
    lifetime = min(3600, expires) if expires * S < 2**64 else expires
    now = (expires - lifetime) * S
    assert v.issue_session(case["key_id"], case["user_id"], lifetime=lifetime, now=now) == case["token"], (
        where
    )


def test_session_rotation_and_repr() -> None:
    old = apisig.SessionKeys(b"old-secret")
    token = old.issue("12", "key-1", 2_000_000_000)
    rotated = apisig.SessionKeys(b"new-secret", b"old-secret")
    assert rotated.verify(token, now=S).slot == "secondary"
    assert rotated.verify(rotated.issue("12", "key-1", 2_000_000_000), now=S).slot == "primary"
    with pytest.raises(apisig.SignatureMismatch):
        apisig.SessionKeys(b"new-secret").verify(token, now=S)
    assert "secret" not in repr(rotated)
    with pytest.raises(apisig.EmptySecret):
        apisig.SessionKeys(b"")


# ---- pin vectors ---------------------------------------------------------------------------------


def cert_of(case: dict[str, Any]) -> bytes:
    if case.get("cert") is not None:
        return (VECTORS / case["cert"]).read_bytes()
    return bytes.fromhex(case["cert_hex"])


@pytest.mark.parametrize("case", PINS["tests"], ids=ids(PINS["tests"]))
def test_pins(case: dict[str, Any]) -> None:
    where = f"tcId {case['tcId']} ({case['comment']})"
    der = cert_of(case)
    v = apisig.Verifier()
    for n, p in enumerate(case["pins"]):
        if p["client"] not in v:
            # Half the clients have an API key besides the pin, half only the pin.
            v.add(p["client"], f"{p['client']}-secret".encode() if n % 2 else None)
        fp = bytes.fromhex(p["fingerprint"])
        v.pin(p["client"], fp if n % 2 else p["fingerprint"], kind=case["kind"], slot=p["slot"])
    if case["result"] == "invalid":
        with pytest.raises(apisig.ApisigError) as info:
            v.verify_certificate(der)
        expect_error(info.value, case["error"], where)
        if case["error"] == "invalid_certificate":
            with pytest.raises(apisig.InvalidCertificate):
                apisig.fingerprint(der, case["kind"])
        return
    p = v.verify_certificate(der)
    assert (p.client_id, p.slot, p.scheme) == (case["client"], case["slot"], "mtls"), where
    # fingerprint() gives the pinned value, and pinning the DER itself pins the same.
    pinned = next(x for x in case["pins"] if x["client"] == case["client"] and x["slot"] == case["slot"])
    assert apisig.fingerprint(der, case["kind"]).hex() == pinned["fingerprint"], where
    w = apisig.Verifier()
    w.add("by-der", None)
    w.pin("by-der", der, kind=case["kind"], slot=case["slot"])
    assert w.verify_certificate(der).client_id == "by-der"


def test_pin_api() -> None:
    der = (VECTORS / "certs" / "client-ec-p256.der").read_bytes()
    reissued = (VECTORS / "certs" / "client-ec-p256-reissued.der").read_bytes()
    v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES)
    v.add("gw", b"gw-key", role="keyOperationToken")
    v.pin("gw", der, kind="spki")
    p = v.verify_certificate(reissued)
    assert (p.client_id, p.role, p.slot) == ("gw", "keyOperationToken", "primary")
    # openssl-style colon-separated hex is accepted.
    colons = ":".join(f"{b:02X}" for b in apisig.fingerprint(der))
    v.pin("gw", colons, slot="secondary")
    assert v.verify_certificate(der).client_id == "gw"  # both pins match
    v.pin("gw", None, kind="spki")
    assert v.verify_certificate(der).slot == "secondary"
    with pytest.raises(apisig.UnpinnedCertificate):
        v.verify_certificate(reissued)
    v.revoke("gw")
    with pytest.raises(apisig.ClientRevoked):
        v.verify_certificate(der)
    with pytest.raises(ValueError, match="kind"):
        v.pin("gw", der, kind="sha1")
    with pytest.raises(ValueError, match="hex"):
        v.pin("gw", "abc")
    with pytest.raises(apisig.InvalidCertificate):
        v.pin("gw", b"not a certificate")
    with pytest.raises(apisig.UnknownKey):
        v.pin("nobody", der)
    # A pin-only client has no key: no static key authenticates as it.
    v.add("pin-only", None)
    assert v.client_info("pin-only") == (None, None, False, False)
    assert len(apisig.fingerprint(der, "spki")) == apisig.PIN_LEN


# ---- token lifetime ------------------------------------------------------------------------------


def test_token_lifetime_is_the_cores() -> None:
    t = apisig.TokenLifetime(issued_at=1000 * S, lifetime_s=1200, skew_s=60)
    assert (t.expires_at, t.refresh_at) == (2200 * S, 2140 * S)
    assert not t.needs_refresh(2140 * S - 1)
    assert t.needs_refresh(2140 * S)
    assert not t.is_expired(2200 * S - 1)
    assert t.is_expired(2200 * S)
    # The skew is capped at half the lifetime.
    assert apisig.TokenLifetime(0, 10, 60).refresh_at == 5 * S
    # Saturating arithmetic.
    assert apisig.TokenLifetime(2**64 - 2, 2**64 - 1, 0).expires_at == 2**64 - 1
    assert apisig.TokenLifetime(0, 1200) == apisig.TokenLifetime(0, 1200, 60)
    fresh = apisig.TokenLifetime(time.time_ns(), 1200)
    assert not fresh.needs_refresh() and not fresh.is_expired()


# ---- the verifier's JWT policy -------------------------------------------------------------------


def test_jwt_policy_through_the_verifier() -> None:
    """``Verifier(jwt=JwtPolicy(...))``: tokens written by PyJWT, refused or accepted by the
    rules of RFC 7519 (exact ``iss``, ``aud`` naming the audience, ``exp`` with leeway)."""
    secret = b"verifier-jwt-secret/0123456789abcdef"
    policy = apisig.JwtPolicy(secret, issuer="https://issuer.example", audience="tsb", leeway=30)
    assert (policy.issuer, policy.audience, policy.leeway, policy.require_exp) == (
        "https://issuer.example",
        "tsb",
        30,
        True,
    )
    assert repr(policy) == (
        'JwtPolicy(<redacted>, issuer="https://issuer.example", audience="tsb", leeway=30, require_exp=True)'
    )
    now = 1_700_000_000
    good = {"sub": "svc", "iss": "https://issuer.example", "aud": ["other", "tsb"], "exp": now + 60}

    def verify(claims: dict[str, Any], v: apisig.Verifier) -> apisig.Principal:
        token = pyjwt.encode(claims, secret, algorithm="HS256")
        return v.verify(apisig.SECUROSYS_JWT, "GET", "/", {"Authorization": f"Bearer {token}"}, now=now * S)

    v = apisig.Verifier(jwt=policy)
    v.add("svc", b"svc-static-key")
    p = verify(good, v)
    assert (p.client_id, p.scheme) == ("svc", "securosys-jwt")
    assert verify({**good, "exp": now - 29}, v) == p  # inside the leeway
    for changed, error in [
        ({"iss": "https://issuer.example/"}, apisig.ClaimMismatch),
        ({"aud": "tsb2"}, apisig.ClaimMismatch),
        ({"exp": now - 31}, apisig.TokenExpired),
    ]:
        with pytest.raises(error):
            verify({**good, **changed}, v)
    no_exp = {k: c for k, c in good.items() if k != "exp"}
    with pytest.raises(apisig.MissingClaim):
        verify(no_exp, v)
    lenient = apisig.Verifier(jwt=apisig.JwtPolicy(secret, require_exp=False))
    lenient.add("svc", b"svc-static-key")
    assert verify(no_exp, lenient).client_id == "svc"
    with pytest.raises(apisig.SignatureMismatch):
        verify(good, apisig.Verifier(jwt=apisig.JwtPolicy(b"another-secret")))
    with pytest.raises(apisig.UnsupportedCredential):
        verify(good, apisig.Verifier())


def test_certificate_alone_or_with_credentials_records_nothing_when_refused() -> None:
    """The core's mutual-TLS rule (what the middleware's ``mtls=`` modes call): the
    certificate first, then credentials naming the same client; a refusal records no nonce."""
    ops = (VECTORS / "certs" / "client-ec-p256.der").read_bytes()
    device = (VECTORS / "certs" / "ec-p256-leaf.der").read_bytes()
    unpinned = (VECTORS / "certs" / "rsa2048-leaf.der").read_bytes()
    v = apisig.Verifier()
    v.add("tsb-ops", b"tsb-key")
    v.pin("tsb-ops", ops)
    v.add("apex", b"apex-secret", user_id="12")
    v.pin("apex", device)
    p, claim = v.verify_with_certificate(ops)
    assert (p.client_id, p.scheme, claim) == ("tsb-ops", "mtls", None)
    for der, error in [(None, apisig.MissingCredential), (unpinned, apisig.UnpinnedCertificate),
                       (b"not DER", apisig.InvalidCertificate)]:  # fmt: skip
        with pytest.raises(error):
            v.verify_with_certificate(der)
    key = {"X-API-KEY": "tsb-key"}
    p, _ = v.verify_with_certificate(ops, apisig.SECUROSYS, "GET", "/v1/sign", key)
    assert (p.client_id, p.scheme) == ("tsb-ops", "securosys")
    with pytest.raises(apisig.UnpinnedCertificate):
        v.verify_with_certificate(device, apisig.SECUROSYS, "GET", "/v1/sign", key)
    with pytest.raises(apisig.MissingCredential):
        v.verify_with_certificate(ops, apisig.SECUROSYS, "GET", "/v1/sign", {})
    signer = apisig.Signer(apisig.APEX, api_key="apex", secret=b"apex-secret", user_id="12")
    login = signer.sign("POST", "/AuthenticateUser", nonce=5)
    for der in (ops, unpinned, None):
        with pytest.raises((apisig.UnpinnedCertificate, apisig.MissingCredential)):
            v.verify_with_certificate(der, apisig.APEX, "POST", "/AuthenticateUser", login)
    p, _ = v.verify_with_certificate(device, apisig.APEX, "POST", "/AuthenticateUser", login)
    assert p.client_id == "apex", "the refusals recorded no nonce"
    with pytest.raises(apisig.ReplayedRequest):
        v.verify_with_certificate(device, apisig.APEX, "POST", "/AuthenticateUser", login)
