"""OCSP: the shared vectors (responses made by `openssl ocsp`, read here with `cryptography`,
decided by the core), the checker's cache and fail-soft with an injected responder, and the
live test against a real `openssl ocsp` responder (python/tests/ocsp_live.py), run in a network
namespace of its own with loopback alone."""

from __future__ import annotations

import logging
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import VECTORS, load_vectors
from cryptography import x509

import apisig
from apisig import exceptions
from apisig._native import ocsp_verdict
from apisig.ocsp import OcspChecker, read_response

OCSP = load_vectors("ocsp.json")
DIR = VECTORS / OCSP["dir"]
NS = 10**9


def _cert(name: str) -> x509.Certificate:
    return x509.load_der_x509_certificate((DIR / name).read_bytes())


def _response(spec: dict[str, Any]) -> bytes | None:
    if "file" in spec:
        data = (DIR / spec["file"]).read_bytes()
        return data[: spec["truncate"]] if "truncate" in spec else data
    if "hex" in spec:
        return bytes.fromhex(spec["hex"])
    if "zeros" in spec:
        return bytes(spec["zeros"])
    return None


def _code(name: str) -> int:
    return next(e.code for e in apisig.error_table() if e.name == name)


@pytest.mark.parametrize("case", OCSP["tests"], ids=lambda c: f"{c['tcId']}-{c['comment'][:40]}")
def test_vector(case: dict[str, Any]) -> None:
    der = _response(case["response"])
    nonce = bytes.fromhex(case["nonce"]) if case["nonce"] is not None else None
    if der is None:
        facts: dict[str, Any] = {"failure": _code(case["response"]["failure"])}
    else:
        facts = read_response(der, _cert(case["cert"]), _cert(case["issuer"]), nonce)
    policy = {"now": case["now"], "skew": case["skew"] * NS, "max_age": case["max_age"] * NS}
    if case["result"] == "valid":
        warning = ocsp_verdict(**policy, fail_soft=case["fail_soft"], **facts)
        assert (warning.name if warning else None) == case.get("warning")
    else:
        with pytest.raises(apisig.ApisigError) as info:
            ocsp_verdict(**policy, fail_soft=case["fail_soft"], **facts)
        assert info.value.name == case["error"]


def test_exception_families_and_statuses() -> None:
    from apisig.server import status_for

    assert issubclass(apisig.CertificateRevoked, apisig.AuthorizationFailed)
    assert status_for(apisig.CertificateRevoked()) == 403
    assert status_for(apisig.CertificateStatusUnknown()) == 403
    for name in ("OcspUnavailable", "OcspSignatureInvalid", "OcspMalformed", "OcspResponseStale"):
        cls = getattr(apisig, name)
        assert issubclass(cls, apisig.ServiceUnavailable)
        assert status_for(cls()) == 503
    with pytest.raises(ValueError, match="not one of"):
        ocsp_verdict(now=0, skew=0, max_age=0, fail_soft=False, status="fine")
    with pytest.raises(ValueError, match="not an apisig error code"):
        ocsp_verdict(now=0, skew=0, max_age=0, fail_soft=False, failure=7)


# ---- the checker, with a responder that replays the vector files -----------------------------------


class Replayer:
    """A fetch function answering every request with one file's bytes (or raising), counting
    calls; the nonce is not echoed, so the checker runs with ``nonce=False``."""

    def __init__(self, name: str | None) -> None:
        self.name, self.calls = name, 0

    def __call__(self, url: str, request: bytes, timeout: float) -> bytes:
        self.calls += 1
        if self.name is None:
            raise OSError("connection refused")
        return (DIR / self.name).read_bytes()


def _checker(fetch: Replayer, now: list[int], **options: Any) -> OcspChecker:
    return OcspChecker(
        [(DIR / "ca-a.der").read_bytes()], nonce=False, fetch=fetch, clock=lambda: now[0], **options
    )


def _this_update(name: str) -> int:
    der = (DIR / name).read_bytes()
    facts = read_response(der, _cert("client-good.der"), _cert("ca-a.der"), None)
    this_update: int = facts["this_update"]
    return this_update


def test_cache_serves_until_max_age_then_asks_again() -> None:
    fetch = Replayer("good-no-nonce.der")
    now = [_this_update("good-no-nonce.der") + 10 * NS]
    checker = _checker(fetch, now, max_age=60)
    cert = (DIR / "client-good.der").read_bytes()
    for _ in range(5):
        checker.check(cert)
    assert fetch.calls == 1 and len(checker) == 1
    now[0] += 59 * NS
    checker.check(cert)
    assert fetch.calls == 1
    now[0] += 1 * NS
    checker.check(cert)
    assert fetch.calls == 2


def test_revocation_is_cached_and_never_softened(caplog: pytest.LogCaptureFixture) -> None:
    fetch = Replayer("revoked.der")
    now = [_this_update("revoked.der") + 10 * NS]
    # revoked.der carries a nonce (its request had one): fetched without nonce, it is still
    # authentic, and the checker sent none, so only the status decides.
    checker = _checker(fetch, now, fail_soft=True)
    cert = (DIR / "client-revoked.der").read_bytes()
    for _ in range(3):
        with pytest.raises(apisig.CertificateRevoked):
            checker.check(cert)
    assert fetch.calls == 1
    assert not [r for r in caplog.records if r.name == "apisig.ocsp" and r.levelno >= logging.WARNING]


def test_unreachable_fails_closed_or_soft_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    cert = (DIR / "client-good.der").read_bytes()
    now = [_this_update("good-no-nonce.der")]
    with pytest.raises(apisig.OcspUnavailable):
        _checker(Replayer(None), now).check(cert)
    soft = _checker(Replayer(None), now, fail_soft=True)
    with caplog.at_level(logging.WARNING, logger="apisig.ocsp"):
        soft.check(cert)
    assert len(soft) == 0  # failures are not cached
    [record] = [r for r in caplog.records if r.name == "apisig.ocsp"]
    assert record.levelno == logging.WARNING and "ocsp_unavailable" in record.getMessage()


def test_hostile_responses_give_specific_errors() -> None:
    cert = (DIR / "client-good.der").read_bytes()
    now = [_this_update("good-by-delegate.der") + 10 * NS]
    for name, error in [
        ("good-by-other-ca-responder.der", apisig.OcspUnauthorizedResponder),
        ("bad-signature.der", apisig.OcspSignatureInvalid),
        ("good-sha1-signature.der", apisig.OcspSignatureInvalid),
        ("unknown.der", apisig.OcspCertIdMismatch),  # about client-unknown, asked for client-good
        ("ca-a.der", apisig.OcspMalformed),  # a certificate, not a response
    ]:
        with pytest.raises(error):
            _checker(Replayer(name), now).check(cert)


def test_bounded_entries_drop_the_soonest_to_expire() -> None:
    good, revoked = (DIR / "client-good.der").read_bytes(), (DIR / "client-revoked.der").read_bytes()
    for max_entries, refetched in ((1, True), (2, False)):
        fetch = Replayer("good-no-nonce.der")
        now = [_this_update("good-no-nonce.der") + 10 * NS]
        checker = _checker(fetch, now, max_entries=max_entries)
        checker.check(good)
        fetch.name = "revoked.der"
        with pytest.raises(apisig.CertificateRevoked):
            checker.check(revoked)
        assert len(checker) == max_entries
        fetch.name = "good-no-nonce.der"
        checker.check(good)
        assert fetch.calls == (3 if refetched else 2), max_entries


def test_mutated_responses_never_crash_the_reader() -> None:
    """Every vector response with bytes flipped, cut or inserted (a fixed seed): the reader
    returns facts or a failure, and the core a verdict or a specific error, never anything
    else."""
    rng = random.Random(21)
    cert, issuer = _cert("client-good.der"), _cert("ca-a.der")
    files = sorted(p for p in DIR.glob("*.der") if not p.name.startswith(("ca-", "client-", "responder-")))
    names = {e.name for e in apisig.error_table()}
    outcomes: set[str] = set()
    for _ in range(3000):
        der = bytearray(rng.choice(files).read_bytes())
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(der))
            match rng.randrange(3):
                case 0:
                    der[at] ^= 1 << rng.randrange(8)
                case 1:
                    del der[at:]
                case _:
                    der[at:at] = bytes([rng.randrange(256)])
            if not der:
                break
        facts = read_response(bytes(der), cert, issuer, None)
        try:
            warning = ocsp_verdict(
                now=facts.get("this_update", 0), skew=0, max_age=0, fail_soft=False, **facts
            )
            outcomes.add("good" if warning is None else warning.name)
        except apisig.ApisigError as e:
            assert e.name in names
            outcomes.add(e.name)
    # The mutations reach the reader's failures and the core's refusals alike.
    assert {"ocsp_malformed", "ocsp_signature_invalid"} <= outcomes, outcomes


def test_no_responder_and_bad_configuration() -> None:
    now = [0]
    checker = _checker(Replayer("good-no-nonce.der"), now)
    with pytest.raises(apisig.OcspNoResponder):
        checker.check((DIR / "responder-b.der").read_bytes())  # issued by CA B, not configured
    with pytest.raises(apisig.OcspMalformed):
        checker.check(b"\x30\x00")
    with pytest.raises(ValueError, match="CA certificates"):
        OcspChecker([])
    from apisig.server import Authenticator

    with pytest.raises(ValueError, match="needs mtls"):
        Authenticator(apisig.Verifier(), [apisig.SIGNIUS], ocsp=checker)


def test_every_ocsp_error_has_its_class() -> None:
    for name in {c["error"] for c in OCSP["tests"] if "error" in c}:
        cls = exceptions._BY_CODE[_code(name)]
        assert cls.name == name


# ---- a real responder ----------------------------------------------------------------------------


def _netns_prefix() -> list[str]:
    """`unshare` into a new network namespace (as root, or with a user namespace)."""
    for prefix in (["unshare", "-n"], ["unshare", "-rn"]):
        if subprocess.run([*prefix, "true"], capture_output=True, check=False).returncode == 0:
            return prefix
    pytest.fail("cannot create a network namespace (unshare -n / -rn); the live OCSP test needs one")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_live_openssl_responder_in_a_private_network_namespace() -> None:
    """Runs python/tests/ocsp_live.py (uvicorn and werkzeug behind the middleware, `openssl
    ocsp` responders) in a new network namespace with only loopback up: `openssl ocsp -port`
    listens on every interface, and here there is no other."""
    here = Path(__file__).resolve().parent
    script = 'ip link set lo up && exec "$0" -m pytest -q -p no:cacheprovider -x "$1"'
    run = subprocess.run(
        [*_netns_prefix(), "sh", "-c", script, sys.executable, str(here / "ocsp_live.py")],
        capture_output=True, text=True, timeout=300, check=False, cwd=here,
        env={**os.environ, "APISIG_OCSP_NETNS": "1"},
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout
