"""OCSP against a real responder nobody here wrote: `openssl ocsp` with an index of valid and
revoked certificates, signing with a delegated responder certificate; uvicorn (ASGI) and
werkzeug (WSGI) behind apisig's middleware, real TLS handshakes with client certificates.

`openssl ocsp -port` listens on every interface, so this module runs only inside a network
namespace whose one interface is loopback: test_ocsp.py starts it there (`unshare -n`), and it
refuses to run anywhere else."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import VECTORS, free_port, uvicorn_server, werkzeug_server
from cryptography import x509
from test_mtls import asgi, wsgi

import apisig
from apisig import tls
from apisig.ocsp import OcspChecker, http_fetch, request_for
from apisig.server import Authenticator

sys.path.insert(0, str(VECTORS / "ocsp"))
import pki

if os.environ.get("APISIG_OCSP_NETNS") != "1" or [n for _, n in socket.if_nameindex()] != ["lo"]:
    pytest.fail("ocsp_live.py runs only in a network namespace with loopback alone (see test_ocsp.py)",
                pytrace=False)  # fmt: skip

MAX_AGE = 2  # seconds: answers are reused this long, so a revocation shows within it


@dataclass
class Pki:
    dir: Path
    ca: pki.Cert
    server: pki.Cert
    good: pki.Cert
    revoked: pki.Cert
    later: pki.Cert  # revoked during a test
    responder: pki.Cert
    index: Path
    other_ca: pki.Cert
    other_responder: pki.Cert
    other_index: Path
    port: int


@contextmanager
def responder(index: Path, ca: pki.Cert, signer: pki.Cert, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`openssl ocsp` answering on `port`, nextUpdate one minute after each answer. Ready once
    it says so on stderr (a probing connection that sends nothing would stall it)."""
    log = index.with_name(f"responder-{port}.log")
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            ["openssl", "ocsp", "-index", str(index), "-CA", str(ca.cert), "-rsigner", str(signer.cert),
             "-rkey", str(signer.key), "-port", str(port), "-nmin", "1", "-ignore_err"],
            stdout=subprocess.DEVNULL, stderr=err,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while b"waiting for OCSP client connections" not in log.read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pki]:
    d = tmp_path_factory.mktemp("ocsp")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    ca, other_ca = pki.ca(d, "ca"), pki.ca(d, "other-ca")
    server = pki.issue(d, "localhost", ca, 0x10,
                       ["extendedKeyUsage=serverAuth", "subjectAltName=IP:127.0.0.1,DNS:localhost"])  # fmt: skip
    w = Pki(
        dir=d, ca=ca, server=server,
        good=pki.client(d, "good", ca, 0x1001, url),
        revoked=pki.client(d, "revoked", ca, 0x1002, url),
        later=pki.client(d, "later", ca, 0x1003, url),
        responder=pki.responder(d, "responder", ca, 0x2001),
        index=d / "index.txt",
        other_ca=other_ca,
        other_responder=pki.responder(d, "other-responder", other_ca, 0x2002),
        other_index=d / "other-index.txt",
        port=port,
    )  # fmt: skip
    pki.write_index(w.index, [w.good, w.later], [w.revoked])
    pki.write_index(w.other_index, [w.other_responder], [])  # openssl refuses an empty index
    with responder(w.index, ca, w.responder, port):
        yield w


def verifier(w: Pki) -> apisig.Verifier:
    """Every client certificate is pinned: what refuses them here is OCSP."""
    v = apisig.Verifier()
    for who in (w.good, w.revoked, w.later):
        name = who.cert.stem
        v.add(name, None)
        v.pin(name, who.der())
    return v


@contextmanager
def server(w: Pki, kind: str, checker: OcspChecker) -> Iterator[str]:
    auth = Authenticator(verifier(w), [], mtls="alone", ocsp=checker)
    ctx = tls.server_context(w.server.cert, w.server.key, ca=w.ca.cert)
    if kind == "asgi":
        factory: Any = lambda config, default: ctx  # noqa: E731
        with uvicorn_server(asgi(auth), ssl_context_factory=factory, http=tls.uvicorn_protocol()) as url:
            yield url
    else:
        with werkzeug_server(wsgi(auth), ctx) as url:
            yield url


def get(w: Pki, url: str, who: pki.Cert) -> httpx.Response:
    with httpx.Client(verify=tls.client_context(who.cert, who.key, ca=w.ca.cert), timeout=20) as c:
        return c.get(f"{url}/v1/status")


def checker(w: Pki, **options: Any) -> OcspChecker:
    return OcspChecker([w.ca.der()], max_age=MAX_AGE, timeout=2, **options)


def revoke(w: Pki, who: pki.Cert | None) -> None:
    """Revokes `who` in the responder's index (None: restores the initial index). `openssl
    ocsp` looks for a changed index before it waits for a connection, so one request (for
    another certificate) makes it reload."""
    valid = [c for c in (w.good, w.later) if c is not who]
    pki.write_index(w.index, valid, [w.revoked, *([who] if who else [])])
    request = request_for(
        x509.load_der_x509_certificate(w.good.der()), x509.load_der_x509_certificate(w.ca.der()), None
    )
    http_fetch(f"http://127.0.0.1:{w.port}/", request, 5)


@pytest.fixture(params=["asgi", "wsgi"])
def kind(request: pytest.FixtureRequest) -> str:
    param: str = request.param
    return param


def test_good_is_accepted_revoked_refused(world: Pki, kind: str) -> None:
    c = checker(world)
    with server(world, kind, c) as url:
        r = get(world, url, world.good)
        assert r.status_code == 200, r.text
        assert r.json()["client_id"] == "good"
        r = get(world, url, world.revoked)
        assert (r.status_code, r.json()["error"]) == (403, "certificate_revoked")
    assert len(c) == 2  # both answers cached


def test_revoked_during_the_test_is_refused_once_the_answer_expires(world: Pki, kind: str) -> None:
    c = checker(world)
    with server(world, kind, c) as url:
        assert get(world, url, world.later).status_code == 200
        revoke(world, world.later)
        assert get(world, url, world.later).status_code == 200  # the cached answer, < MAX_AGE old
        time.sleep(MAX_AGE)
        r = get(world, url, world.later)
        assert (r.status_code, r.json()["error"]) == (403, "certificate_revoked")
    pki.write_index(world.index, [world.good, world.later], [world.revoked])
    revoke(world, None)


def test_responder_for_another_ca_is_refused(world: Pki, kind: str) -> None:
    port = free_port()
    with responder(world.other_index, world.other_ca, world.other_responder, port):
        c = checker(world, responder_url=f"http://127.0.0.1:{port}/")
        with server(world, kind, c) as url:
            r = get(world, url, world.good)
    assert (r.status_code, r.json()["error"]) == (503, "ocsp_unauthorized_responder")


def test_responder_stopped_fails_closed_or_soft(
    world: Pki, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    port = free_port()
    closed = checker(world, responder_url=f"http://127.0.0.1:{port}/")
    soft = checker(world, responder_url=f"http://127.0.0.1:{port}/", fail_soft=True)
    with responder(world.index, world.ca, world.responder, port), server(world, kind, closed) as url:
        assert get(world, url, world.good).status_code == 200
    closed.clear()
    with server(world, kind, closed) as url:
        r = get(world, url, world.good)
        assert (r.status_code, r.json()["error"]) == (503, "ocsp_unavailable")
    with caplog.at_level(logging.WARNING, logger="apisig.ocsp"), server(world, kind, soft) as url:
        r = get(world, url, world.good)
        assert r.status_code == 200, r.text
    warnings = [rec for rec in caplog.records if rec.name == "apisig.ocsp" and rec.levelno == logging.WARNING]
    assert warnings and "ocsp_unavailable" in warnings[0].getMessage()
