"""DER: a hand-written TLV walker from the Certificate down to its
SubjectPublicKeyInfo, and the certificate / public-key fingerprints pinned to clients."""

from __future__ import annotations

import hashlib

from .common import OracleError


class DerError(Exception):
    pass


def der_tlv(data: bytes, pos: int, end: int) -> tuple:
    """One DER TLV inside data[pos:end]: (tag, start, content_start, content_end).
    Low-tag-number form only; definite, minimal length encodings only."""
    start = pos
    if pos >= end:
        raise DerError("missing TLV")
    tag = data[pos]
    if tag & 0x1F == 0x1F:
        raise DerError("high tag number form")
    pos += 1
    if pos >= end:
        raise DerError("missing length")
    first = data[pos]
    pos += 1
    if first == 0x80:
        raise DerError("indefinite length")
    if first < 0x80:
        length = first
    else:
        n = first & 0x7F
        if n > 4 or pos + n > end:
            raise DerError("length of length")
        raw = data[pos:pos + n]
        pos += n
        length = int.from_bytes(raw, "big")
        if raw[0] == 0 or length < 0x80:
            raise DerError("non-minimal length")
    if length > end - pos:
        raise DerError("length runs past the end")
    return tag, start, pos, pos + length


def der_spki(der: bytes) -> bytes:
    """The whole subjectPublicKeyInfo TLV of an X.509 certificate; raises DerError."""
    tag, _, body, end = der_tlv(der, 0, len(der))
    if tag != 0x30:
        raise DerError("Certificate is not a SEQUENCE")
    if end != len(der):
        raise DerError("bytes after the Certificate")
    tag, _, pos, tbs_end = der_tlv(der, body, end)
    if tag != 0x30:
        raise DerError("tbsCertificate is not a SEQUENCE")
    tag, _, _, after = der_tlv(der, pos, tbs_end)
    if tag == 0xA0:  # [0] EXPLICIT version, absent in v1 certificates
        pos = after
    # serialNumber, signature, issuer, validity, subject
    for want in (0x02, 0x30, 0x30, 0x30, 0x30):
        tag, _, _, pos = der_tlv(der, pos, tbs_end)
        if tag != want:
            raise DerError(f"tbsCertificate member tag {tag:#04x}, expected {want:#04x}")
    tag, start, _, spki_end = der_tlv(der, pos, tbs_end)
    if tag != 0x30:
        raise DerError("subjectPublicKeyInfo is not a SEQUENCE")
    return der[start:spki_end]


def fingerprint(der: bytes, kind: str) -> str | None:
    """Lowercase hex SHA-256 of the DER ("certificate") or of its SPKI ("spki"); None when
    the input is not a certificate the walker accepts (both kinds parse it)."""
    try:
        spki = der_spki(der)
    except DerError:
        return None
    if kind == "certificate":
        return hashlib.sha256(der).hexdigest()
    if kind == "spki":
        return hashlib.sha256(spki).hexdigest()
    raise OracleError(f"unknown pin kind {kind!r}")


def pin_lookup(der: bytes, kind: str, pins: list) -> tuple:
    """(failed checks, (client, slot))."""
    fp = fingerprint(der, kind)
    if fp is None:
        return ["invalid_certificate"], None
    found = [(p["client"], p["slot"]) for p in pins if p["fingerprint"] == fp]
    if not found:
        return ["unpinned_certificate"], None
    return [], found[0]
