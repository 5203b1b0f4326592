"""OCSP for mutual TLS: is the client certificate revoked? Asked of the CA's responder in real
time, answers cached until ``nextUpdate``.

:class:`OcspChecker` builds the request with ``cryptography`` (SHA-256 CertID and a nonce),
POSTs it to the responder named in the certificate's Authority Information Access (or a
configured URL), parses the response with ``cryptography`` and passes what it found to the core,
which decides (the same decision the C face makes; see ``core/src/ocsp.rs``):

* the response must be signed by the certificate's issuer, or by a delegated responder
  certificate that this issuer signed, that carries ``id-kp-OCSPSigning`` and that is valid
  now; it must be about this certificate, echo the nonce, and be current
  (``thisUpdate <= now + skew``, ``now - skew <= nextUpdate``);
* ``good`` passes; ``revoked`` raises :class:`apisig.CertificateRevoked` (HTTP 403),
  ``unknown`` :class:`apisig.CertificateStatusUnknown` (403); a responder that cannot be
  reached, a bad signature, a stale or malformed response raise a
  :class:`apisig.ServiceUnavailable` (503) — unless the checker is ``fail_soft``, which lets
  the request through and logs a warning on the ``apisig.ocsp`` logger. A revocation is never
  softened.

Use it with the middleware (``Authenticator(..., mtls="alone", ocsp=OcspChecker([ca]))``) or
call :meth:`OcspChecker.check` with the peer certificate (DER). Needs ``cryptography`` (the
``apisig[ocsp]`` extra).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from ._native import OCSP_RESPONSE_MAX_LEN, ocsp_cache_until, ocsp_verdict
from .exceptions import (
    ApisigError,
    CertificateRevoked,
    CertificateStatusUnknown,
    OcspMalformed,
    OcspNoResponder,
    OcspResponderError,
    OcspResponseTooLarge,
    OcspUnavailable,
)

__all__ = ["Fetch", "OcspChecker", "http_fetch", "read_response", "request_for"]

log = logging.getLogger("apisig.ocsp")

NS = 1_000_000_000

Fetch = Callable[[str, bytes, float], bytes]
"""``fetch(url, request_der, timeout_s) -> response_der``; raises :class:`OSError` when the
responder cannot be reached or answers other than HTTP 200."""

# Signature hashes accepted on a response (SHA-1 is not).
_HASHES = (hashes.SHA256, hashes.SHA384, hashes.SHA512)


def http_fetch(url: str, request: bytes, timeout: float) -> bytes:
    """POSTs ``request`` (``application/ocsp-request``) and returns at most
    ``OCSP_RESPONSE_MAX_LEN + 1`` bytes of the answer (more is refused by the caller)."""
    req = urllib.request.Request(
        url, data=request, method="POST", headers={"Content-Type": "application/ocsp-request"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as answer:
        if answer.status != 200:
            raise OSError(f"OCSP responder answered HTTP {answer.status}")
        data: bytes = answer.read(OCSP_RESPONSE_MAX_LEN + 1)
        return data


def request_for(cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None) -> bytes:
    """The DER OCSP request for ``cert``: a SHA-256 CertID, and ``nonce`` if given."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256())
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _ns(when: Any) -> int:
    return int(when.timestamp()) * NS


def _key_hash(cert: x509.Certificate) -> bytes:
    """SHA-1 of the subjectPublicKey bits: the ResponderID ``byKey`` form."""
    return x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest


def _verifies(key: Any, signature: bytes, data: bytes, algorithm: Any) -> bool:
    try:
        if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(signature, data)
            return algorithm is None
        if not isinstance(algorithm, _HASHES):
            return False
        if isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        else:
            return False
    except InvalidSignature:
        return False
    return True


def _directly_issued(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def read_response(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None
) -> dict[str, Any]:
    """What a response says, as the keyword arguments of the core's decision (``signer``,
    ``signature_valid``, ``cert_id_matches``, ``nonce``, ``status``, the times); or
    ``{"failure": code}`` for a response too large, malformed or with an error status. Never
    raises for any ``der``."""
    if len(der) > OCSP_RESPONSE_MAX_LEN:
        return {"failure": OcspResponseTooLarge.code}
    try:
        return _read(der, cert, issuer, nonce)
    except (ValueError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return {"failure": OcspMalformed.code}


def _read(
    der: bytes, cert: x509.Certificate, issuer: x509.Certificate, nonce: bytes | None
) -> dict[str, Any]:
    resp = ocsp.load_der_ocsp_response(der)
    if resp.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return {"failure": OcspResponderError.code}
    facts: dict[str, Any] = {}

    # Who signed it: the issuer, a certificate in the response, or nobody we know.
    def names(c: x509.Certificate) -> bool:
        if resp.responder_key_hash is not None:
            return resp.responder_key_hash == _key_hash(c)
        return resp.responder_name == c.subject

    signer_cert: x509.Certificate | None = None
    if names(issuer):
        facts["signer"] = "issuer"
        signer_cert = issuer
    else:
        signer_cert = next((c for c in resp.certificates if names(c)), None)
        if signer_cert is None:
            facts["signer"] = "unrelated"
        else:
            try:
                eku = signer_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
                ocsp_signing = ExtendedKeyUsageOID.OCSP_SIGNING in eku
            except x509.ExtensionNotFound:
                ocsp_signing = False
            facts.update(
                signer="delegated",
                responder_issued_by_issuer=signer_cert.issuer == issuer.subject
                and _directly_issued(signer_cert, issuer),
                responder_ocsp_signing=ocsp_signing,
                responder_not_before=_ns(signer_cert.not_valid_before_utc),
                responder_not_after=_ns(signer_cert.not_valid_after_utc),
            )
    try:
        algorithm = resp.signature_hash_algorithm
    except UnsupportedAlgorithm:
        algorithm = None
        facts["signature_valid"] = False
    if signer_cert is not None and "signature_valid" not in facts:
        facts["signature_valid"] = _verifies(
            signer_cert.public_key(), resp.signature, resp.tbs_response_bytes, algorithm
        )

    # The single response about this certificate (the CertID in the response's hash).
    single = None
    for one in resp.responses:
        mine = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, one.hash_algorithm).build()
        if (one.serial_number, one.issuer_name_hash, one.issuer_key_hash) == (
            mine.serial_number,
            mine.issuer_name_hash,
            mine.issuer_key_hash,
        ):
            single = one
            break
    if single is None:
        single = next(iter(resp.responses), None)
        if single is None:
            return {"failure": OcspMalformed.code}
        facts["cert_id_matches"] = False
    else:
        facts["cert_id_matches"] = True

    if nonce is None:
        facts["nonce"] = "not_sent"
    else:
        try:
            echoed = resp.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
            facts["nonce"] = "echoed" if echoed == nonce else "different"
        except x509.ExtensionNotFound:
            facts["nonce"] = "missing"

    facts["status"] = {
        ocsp.OCSPCertStatus.GOOD: "good",
        ocsp.OCSPCertStatus.REVOKED: "revoked",
        ocsp.OCSPCertStatus.UNKNOWN: "unknown",
    }[single.certificate_status]
    facts["this_update"] = _ns(single.this_update_utc)
    if single.next_update_utc is not None:
        facts["next_update"] = _ns(single.next_update_utc)
    return facts


@dataclass(frozen=True)
class _Entry:
    until: int  # ns
    refusal: ApisigError | None  # None: good
    soft: bool  # the refusal was softened to a warning


class OcspChecker:
    """Checks client certificates against their CA's OCSP responder.

    ``issuers``: the CA certificates (``x509.Certificate`` or DER) that issue client
    certificates; a certificate's issuer is the one whose key signed it. ``responder_url``
    overrides the certificate's Authority Information Access. ``timeout`` (seconds) bounds each
    fetch; ``skew`` (seconds) is the clock difference tolerated on the response's times;
    answers are reused until ``nextUpdate`` and at most ``max_age`` seconds, for up to
    ``max_entries`` certificates (the soonest to expire is dropped first). ``fail_soft``: let
    the request through, with a warning on the ``apisig.ocsp`` logger, when the status cannot be
    established (never when it is ``revoked``). ``fetch`` and ``clock`` (ns) are injectable.
    """

    def __init__(
        self,
        issuers: Iterable[x509.Certificate | bytes],
        *,
        responder_url: str | None = None,
        fail_soft: bool = False,
        timeout: float = 2.0,
        skew: int = 300,
        max_age: int = 3600,
        max_entries: int = 10_000,
        nonce: bool = True,
        fetch: Fetch = http_fetch,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self.issuers = [
            c if isinstance(c, x509.Certificate) else x509.load_der_x509_certificate(c) for c in issuers
        ]
        if not self.issuers:
            raise ValueError("OCSP needs the CA certificates that issue the client certificates")
        if max_entries < 1 or timeout <= 0 or skew < 0 or max_age < 0:
            raise ValueError("max_entries >= 1, timeout > 0, skew >= 0, max_age >= 0")
        self.responder_url = responder_url
        self.fail_soft = fail_soft
        self.timeout = timeout
        self.skew = skew * NS
        self.max_age = max_age * NS
        self.max_entries = max_entries
        self.nonce = nonce
        self.fetch = fetch
        self.clock = clock
        self._cache: dict[bytes, _Entry] = {}
        self._lock = threading.Lock()

    # ---- the per-request path ----

    def check(self, certificate: bytes) -> None:
        """Raises when the certificate (DER) may not be used; returns when it is good, or when
        fail-soft lets it through (after logging a warning). Asks the responder only when no
        current answer is cached."""
        key = hashlib.sha256(certificate).digest()
        if self._replay(key, certificate):
            return
        self._ask(key, certificate)

    async def check_async(self, certificate: bytes) -> None:
        """:meth:`check` for asyncio: a cache hit is answered on the loop, a fetch in a thread."""
        key = hashlib.sha256(certificate).digest()
        if self._replay(key, certificate):
            return
        await asyncio.get_running_loop().run_in_executor(None, self._ask, key, certificate)

    def _replay(self, key: bytes, certificate: bytes) -> bool:
        with self._lock:
            entry = self._cache.get(key)
        if entry is None or self.clock() >= entry.until:
            return False
        if entry.refusal is not None:
            again = type(entry.refusal)(*entry.refusal.args)
            if not entry.soft:
                raise again
            self._warn(certificate, again)
        return True

    def _ask(self, key: bytes, certificate: bytes) -> None:
        facts, fetched_at = self._facts(certificate)
        policy: dict[str, Any] = {
            "now": self.clock(),
            "skew": self.skew,
            "max_age": self.max_age,
            "fail_soft": self.fail_soft,
        }
        try:
            warning = ocsp_verdict(**policy, **facts)
        except (CertificateRevoked, CertificateStatusUnknown) as e:
            self._remember(key, facts, fetched_at, e, soft=False)
            raise
        if warning is None:
            self._remember(key, facts, fetched_at, None, soft=False)
            return
        if isinstance(warning, CertificateStatusUnknown):
            self._remember(key, facts, fetched_at, warning, soft=True)
        self._warn(certificate, warning)

    def _facts(self, certificate: bytes) -> tuple[dict[str, Any], int]:
        """The response's facts (or the failure) and when it was fetched."""
        now = self.clock()
        try:
            cert = x509.load_der_x509_certificate(certificate)
        except ValueError:
            return {"failure": OcspMalformed.code}, now
        issuer = next(
            (i for i in self.issuers if cert.issuer == i.subject and _directly_issued(cert, i)), None
        )
        url = self.responder_url or _aia_url(cert)
        if issuer is None or url is None:
            return {"failure": OcspNoResponder.code}, now
        nonce = os.urandom(16) if self.nonce else None
        try:
            der = self.fetch(url, request_for(cert, issuer, nonce), self.timeout)
        except (OSError, urllib.error.URLError, ValueError) as e:
            log.debug("OCSP responder %s unreachable: %s", url, e)
            return {"failure": OcspUnavailable.code}, now
        return read_response(der, cert, issuer, nonce), now

    def _remember(
        self, key: bytes, facts: dict[str, Any], now: int, refusal: ApisigError | None, *, soft: bool
    ) -> None:
        until = ocsp_cache_until(facts["this_update"], facts.get("next_update"), now, self.max_age)
        if until is None:
            return
        with self._lock:
            if key not in self._cache and len(self._cache) >= self.max_entries:
                current = self.clock()
                for k in [k for k, e in self._cache.items() if e.until <= current]:
                    del self._cache[k]
                if len(self._cache) >= self.max_entries:
                    del self._cache[min(self._cache, key=lambda k: self._cache[k].until)]
            self._cache[key] = _Entry(until, refusal, soft)

    def _warn(self, certificate: bytes, warning: ApisigError) -> None:
        log.warning(
            "OCSP: %s (%s) for client certificate sha256:%s; accepted (fail-soft)",
            warning.name,
            warning,
            hashlib.sha256(certificate).hexdigest(),
        )

    def clear(self) -> None:
        """Forgets every cached answer."""
        with self._lock:
            self._cache.clear()

    def __len__(self) -> int:
        """The number of cached answers."""
        return len(self._cache)


def _aia_url(cert: x509.Certificate) -> str | None:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    for desc in aia:
        if desc.access_method == AuthorityInformationAccessOID.OCSP and isinstance(
            desc.access_location, x509.UniformResourceIdentifier
        ):
            url = desc.access_location.value
            if url.startswith(("http://", "https://")):
                return url
    return None
