"""Mutual TLS with certificate pinning: real TLS handshakes on loopback, uvicorn (ASGI) and
werkzeug (WSGI) behind apisig's middleware, certificates made at test time with
`cryptography` (a CA, the server, a pinned client, a client with a valid chain that is not
pinned, a Securosys client whose API key and certificate go together)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from conftest import uvicorn_server, werkzeug_server
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

import apisig
from apisig import tls
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

TSB_KEY = "op-7f3a9c2e51d84b06"


@dataclass
class Pki:
    ca: Path
    server: tuple[Path, Path]
    pinned: tuple[Path, Path]  # device-1, pinned by certificate
    unpinned: tuple[Path, Path]  # a valid chain, pinned to nobody
    tsb: tuple[Path, Path]  # tsb-ops, pinned by SPKI, also has an API key

    def der(self, which: tuple[Path, Path]) -> bytes:
        return ssl.PEM_cert_to_DER_cert(which[0].read_text())


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "apisig tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _issue(
    directory: Path,
    stem: str,
    cn: str,
    ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    server: bool = False,
    is_ca: bool = False,
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey, tuple[Path, Path]]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    issuer_cert, issuer_key = ca if ca else (None, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(issuer_cert.subject if issuer_cert else _name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        if issuer_cert is None:
            builder = builder.add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False
            )
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        assert issuer_cert is not None
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_cert.public_key()),  # type: ignore[arg-type]
            critical=False,
        )
    if server:
        san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    cert_path, key_path = directory / f"{stem}.pem", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert, key, (cert_path, key_path)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_cert, ca_key, (ca_path, _) = _issue(d, "ca", "apisig test CA", None, is_ca=True)
    ca = (ca_cert, ca_key)
    return Pki(
        ca=ca_path,
        server=_issue(d, "server", "localhost", ca, server=True)[2],
        pinned=_issue(d, "device-1", "device-1", ca)[2],
        unpinned=_issue(d, "stranger", "stranger", ca)[2],
        tsb=_issue(d, "tsb-ops", "tsb-ops", ca)[2],
    )


def verifier(pki: Pki) -> apisig.Verifier:
    v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES)
    v.add("device-1", None)  # certificate only
    v.pin("device-1", pki.der(pki.pinned))
    v.add("tsb-ops", TSB_KEY.encode(), role="keyOperationToken")
    v.pin("tsb-ops", pki.der(pki.tsb), kind="spki")
    return v


def asgi(auth: Authenticator) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        p = scope[PRINCIPAL_KEY]
        body = f'{{"client_id":"{p.client_id}","scheme":"{p.scheme}","role":"{p.role}"}}'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return ApisigASGIMiddleware(app, auth)


def wsgi(auth: Authenticator) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        p = environ[PRINCIPAL_KEY]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [f'{{"client_id":"{p.client_id}","scheme":"{p.scheme}","role":"{p.role}"}}'.encode()]

    return ApisigWSGIMiddleware(app, auth)


@pytest.fixture(scope="module", params=["asgi", "wsgi"])
def servers(request: pytest.FixtureRequest, pki: Pki) -> Iterator[dict[str, str]]:
    """``alone``: certificate by itself, client certificate required by the handshake.
    ``combined``: Securosys (API key and certificate of one client, roles enforced), the
    certificate optional in the handshake so the middleware answers for a missing one."""
    required = tls.server_context(*pki.server, ca=pki.ca)
    optional = tls.server_context(*pki.server, ca=pki.ca, require_client_cert=False)
    alone = Authenticator(verifier(pki), [], mtls="alone")
    combined = Authenticator(verifier(pki), [apisig.SECUROSYS], mtls="combined", authorize=True)
    if request.param == "asgi":
        proto = tls.uvicorn_protocol()

        def factory(ctx: ssl.SSLContext) -> Any:
            return lambda config, default: ctx

        with (
            uvicorn_server(asgi(alone), ssl_context_factory=factory(required), http=proto) as a,
            uvicorn_server(asgi(combined), ssl_context_factory=factory(optional), http=proto) as c,
        ):
            yield {"alone": a, "combined": c}
    else:
        with werkzeug_server(wsgi(alone), required) as a, werkzeug_server(wsgi(combined), optional) as c:
            yield {"alone": a, "combined": c}


def client(pki: Pki, who: tuple[Path, Path] | None) -> httpx.Client:
    ctx = tls.client_context(*(who or (None, None)), ca=pki.ca)
    return httpx.Client(verify=ctx, timeout=10)


# ---- certificate alone -----------------------------------------------------------------------------


def test_pinned_client_is_accepted(pki: Pki, servers: dict[str, str]) -> None:
    with client(pki, pki.pinned) as c:
        r = c.get(f"{servers['alone']}/v1/keystore/status")
    assert r.status_code == 200, r.text
    assert r.json() == {"client_id": "device-1", "scheme": "mtls", "role": "None"}
    # requests, with the certificate and key as files.
    r = requests.get(
        f"{servers['alone']}/x", cert=(str(pki.pinned[0]), str(pki.pinned[1])), verify=str(pki.ca), timeout=10
    )
    assert r.status_code == 200 and r.json()["client_id"] == "device-1"


def test_unpinned_client_with_valid_chain_is_refused(pki: Pki, servers: dict[str, str]) -> None:
    with client(pki, pki.unpinned) as c:
        r = c.get(f"{servers['alone']}/x")
    assert r.status_code == 401
    assert r.json()["error"] == "unpinned_certificate"


def test_client_without_certificate_fails_the_handshake(pki: Pki, servers: dict[str, str]) -> None:
    """CERT_REQUIRED: the server aborts the handshake. In TLS 1.3 the client has already
    finished its side, so it sees the alert (or the closed connection) on its first read."""
    with client(pki, None) as c, pytest.raises(httpx.TransportError) as info:
        c.get(f"{servers['alone']}/x")
    assert isinstance(info.value, httpx.ConnectError | httpx.ReadError | httpx.RemoteProtocolError)


def test_untrusted_certificate_fails_the_handshake(pki: Pki, servers: dict[str, str], tmp_path: Path) -> None:
    """A self-signed certificate: the chain check fails before pinning is consulted."""
    _, _, rogue = _issue(tmp_path, "rogue", "device-1", None, is_ca=True)
    with client(pki, rogue) as c, pytest.raises(httpx.TransportError):
        c.get(f"{servers['alone']}/x")


# ---- certificate combined with an API key (Securosys) ------------------------------------------------


def test_combined_key_and_certificate_of_one_client(pki: Pki, servers: dict[str, str]) -> None:
    url = servers["combined"]
    ok = "/v1/synchronousSign"  # keyOperationToken may
    with client(pki, pki.tsb) as c:
        r = c.get(f"{url}{ok}", headers={"X-API-KEY": TSB_KEY})
        assert r.status_code == 200, r.text
        assert r.json() == {"client_id": "tsb-ops", "scheme": "securosys", "role": "keyOperationToken"}
        # The key's role still decides where it may go.
        assert c.post(f"{url}/v1/key", headers={"X-API-KEY": TSB_KEY}).status_code == 403
        # The certificate without the key.
        r = c.get(f"{url}{ok}")
        assert (r.status_code, r.json()["error"]) == (401, "missing_credential")
    # The key with a certificate pinned to another client.
    with client(pki, pki.pinned) as c:
        r = c.get(f"{url}{ok}", headers={"X-API-KEY": TSB_KEY})
        assert (r.status_code, r.json()["error"]) == (401, "unpinned_certificate")
    # The key with an unpinned certificate.
    with client(pki, pki.unpinned) as c:
        r = c.get(f"{url}{ok}", headers={"X-API-KEY": TSB_KEY})
        assert (r.status_code, r.json()["error"]) == (401, "unpinned_certificate")
    # The key without any certificate (the handshake allows it here).
    with client(pki, None) as c:
        r = c.get(f"{url}{ok}", headers={"X-API-KEY": TSB_KEY})
        assert (r.status_code, r.json()["error"]) == (401, "missing_credential")


# ---- the pieces ------------------------------------------------------------------------------------


def test_peer_certificate_readers(pki: Pki) -> None:
    der = pki.der(pki.pinned)
    pem = ssl.DER_cert_to_PEM_cert(der)
    assert tls.asgi_peer_certificate({"extensions": {"tls": {"client_cert_chain": [pem]}}}) == der
    assert tls.asgi_peer_certificate({"extensions": {"tls": {"client_cert_chain": []}}}) is None
    assert tls.asgi_peer_certificate({"type": "http"}) is None
    assert tls.wsgi_peer_certificate({"SSL_CLIENT_CERT": pem}) == der
    assert tls.wsgi_peer_certificate({"SSL_CLIENT_CERT": ""}) is None
    assert tls.wsgi_peer_certificate({}) is None
    ctx = tls.server_context(*pki.server, ca=pki.ca)
    assert ctx.verify_mode == ssl.CERT_REQUIRED
    assert (
        tls.server_context(*pki.server, ca=pki.ca, require_client_cert=False).verify_mode == ssl.CERT_OPTIONAL
    )
    with pytest.raises(ValueError, match="CA bundle"):
        tls.server_context(*pki.server)
    assert tls.client_context(*pki.pinned, ca=pki.ca).check_hostname
    with pytest.raises(ValueError, match="mtls"):
        Authenticator(verifier(pki), [], mtls="either")
    with pytest.raises(ValueError, match="scheme"):
        Authenticator(verifier(pki), [], mtls="combined")
