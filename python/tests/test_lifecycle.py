"""The key lifecycle from Python: after ``Verifier.revoke`` a client is refused whatever it
presents — static key, signature, bearer JWT naming it, a session token issued before the
revoke, a pinned certificate — and ``disable``, ``set_expiry``, ``revoke_key`` and
``set_allowed`` each refuse with their own exception."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from conftest import VECTORS

import apisig

NOW = 1_700_000_000_000_000_000
S = 1_000_000_000
JWT_SECRET = b"jwt-signing-secret-0123456789abcdef"
SESSION_SECRET = b"session-secret-0123456789abcdef"
CERT = (VECTORS / "certs" / "client-ec-p256.der").read_bytes()

Attempt = Callable[[apisig.Verifier, int], apisig.Principal]


def verifier() -> apisig.Verifier:
    v = apisig.Verifier(
        jwt=apisig.JwtPolicy(JWT_SECRET), sessions=apisig.SessionKeys(SESSION_SECRET), clock=lambda: NOW
    )
    v.add("client-7", b"secret-7", user_id="42")
    v.pin("client-7", CERT, kind="spki", slot="secondary")
    return v


def static_key(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    return v.verify(apisig.SECUROSYS, "GET", "/v1/sign", {"X-API-KEY": "secret-7"}, now=NOW + n, **kw)


def signature(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    signer = apisig.Signer(apisig.AEVO, api_key="client-7", secret=b"secret-7")
    headers = signer.sign("POST", "/orders", b"{}", now=NOW + n)
    return v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}", now=NOW + n, **kw)


def nonce(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    signer = apisig.Signer(apisig.APEX, api_key="client-7", secret=b"secret-7", user_id="42")
    headers = signer.sign("POST", "/AuthenticateUser", now=NOW + n, nonce=n + 1)
    return v.verify(apisig.APEX, "POST", "/AuthenticateUser", headers, now=NOW + n, **kw)


def jwt(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    claims = json.dumps({"sub": "client-7", "exp": NOW // S + 600}).encode()
    token = apisig.jwt_encode(JWT_SECRET, claims)
    headers = {"Authorization": f"Bearer {token}"}
    return v.verify(apisig.SECUROSYS_JWT, "GET", "/v1/sign", headers, now=NOW + n, **kw)


# Issued once, before any revoke: the issue's case of a session outliving the revoke.
SESSION = apisig.SessionKeys(SESSION_SECRET).issue("42", "client-7", NOW // S + 3600)


def session(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    return v.verify(apisig.APEX_SESSION, "GET", "/orders", {"aptoken": SESSION}, now=NOW + n, **kw)


def certificate(v: apisig.Verifier, n: int, **kw: str) -> apisig.Principal:
    return v.verify_certificate(CERT, now=NOW + n, **kw)


KINDS: dict[str, Attempt] = {
    "static_key": static_key,
    "signature": signature,
    "nonce": nonce,
    "jwt": jwt,
    "session": session,
    "certificate": certificate,
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_credential_is_accepted_then_refused_after_revoke(kind: str) -> None:
    v = verifier()
    attempt = KINDS[kind]
    assert attempt(v, 0).client_id == "client-7"
    v.revoke("client-7")
    assert v.status("client-7") == "revoked"
    with pytest.raises(apisig.ClientRevoked) as info:
        attempt(v, 10)
    assert info.value.code == 121 and isinstance(info.value, apisig.AuthenticationFailed)


@pytest.mark.parametrize("kind", KINDS)
def test_disable_then_enable(kind: str) -> None:
    v = verifier()
    v.disable("client-7")
    with pytest.raises(apisig.ClientDisabled):
        KINDS[kind](v, 0)
    v.enable("client-7")
    # Nothing was recorded while it was refused: the same request (same signature, same
    # nonce) passes now.
    assert KINDS[kind](v, 0).client_id == "client-7"


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "jwt"])
def test_expiry_and_key_revocation_are_per_slot(kind: str) -> None:
    slot = "secondary" if kind == "certificate" else "primary"
    v = verifier()
    v.set_expiry("client-7", NOW + 5, slot=slot)
    assert KINDS[kind](v, 4).client_id == "client-7"
    with pytest.raises(apisig.KeyExpired):
        KINDS[kind](v, 5)
    v.set_expiry("client-7", None, slot=slot)
    v.revoke_key("client-7", slot=slot)
    with pytest.raises(apisig.KeyRevoked):
        KINDS[kind](v, 20)


def test_a_jwt_names_the_client_not_a_key() -> None:
    v = verifier()
    v.revoke_key("client-7", slot="primary")
    assert jwt(v, 0).client_id == "client-7"


@pytest.mark.parametrize("kind", KINDS)
def test_allowed_addresses(kind: str) -> None:
    v = verifier()
    v.set_allowed("client-7", ["10.0.0.0/8", "2001:db8::/32"])
    assert KINDS[kind](v, 0, peer="10.1.2.3").client_id == "client-7"
    assert KINDS[kind](v, 10, peer="2001:db8::1").client_id == "client-7"
    for n, peer in enumerate(["192.0.2.1", "2001:db9::1"], start=2):
        with pytest.raises(apisig.AddressNotAllowed) as info:
            KINDS[kind](v, n * 10, peer=peer)
        assert isinstance(info.value, apisig.AuthorizationFailed)
    with pytest.raises(apisig.AddressNotAllowed):
        KINDS[kind](v, 50)  # no peer given: fail closed
    v.set_allowed("client-7", [])
    assert KINDS[kind](v, 60).client_id == "client-7"


def test_bad_ranges_and_peers_are_refused() -> None:
    v = verifier()
    with pytest.raises(apisig.InvalidPattern):
        v.set_allowed("client-7", ["10.0.0.1/8"])
    with pytest.raises(apisig.FieldTooLong):
        v.set_allowed("client-7", ["10.0.0.0/8"] * 9)
    with pytest.raises(ValueError):
        static_key(v, 0, peer="not-an-address")
    with pytest.raises(apisig.UnknownKey):
        v.revoke("nobody")


def test_a_client_without_a_key_holds_no_placeholder() -> None:
    v = apisig.Verifier()
    v.add("cert-only", None)
    v.pin("cert-only", CERT)
    assert v.client_info("cert-only") == (None, None, False, False)
    assert v.verify_certificate(CERT).client_id == "cert-only"
