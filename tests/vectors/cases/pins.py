"""pins.json and certs/: mTLS certificate pinning cases over real certificates."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from oracles.common import VALID, VECTORS_DIR, VectorError
from oracles.der import der_spki, der_tlv, fingerprint, pin_lookup

from .common import TcIds, file_header, outcome
from .tokens import check_one

# certs/*.der are inputs, made once by regen_certs() below (python3 generate.py
# --regen-certs, which needs the openssl CLI and replaces every certificate, so every
# fingerprint in pins.json changes). Plain runs and --check only read them.

CERTS_DIR = VECTORS_DIR / "certs"
CERT_FILES = {
    "ec": "ec-p256-leaf.der",
    "rsa": "rsa2048-leaf.der",
    "v1": "ec-p256-v1-leaf.der",
    "ca": "ca-ec-p256.der",
    "client": "client-ec-p256.der",
    "reissued": "client-ec-p256-reissued.der",
}

OPENSSL_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_EC = ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"]
_ORG = "/O=apisig test vectors"
_SELF = ["req", "-x509", "-new", "-config", "openssl.cnf", "-days", "36500", "-sha256"]
_BY_CA = ["x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
          "-extfile", "openssl.cnf", "-extensions", "client", "-sha256"]

# The exact openssl commands (run in order in an empty temporary directory holding
# openssl.cnf = OPENSSL_CNF); only the .der files are kept, never the private keys.
CERT_RECIPE = [
    [*_EC, "ec.key"],
    [*_SELF, "-extensions", "leaf", "-key", "ec.key", "-subj", _ORG + "/CN=device-ec",
     "-set_serial", "0x0a01", "-outform", "DER", "-out", CERT_FILES["ec"]],
    ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.key"],
    [*_SELF, "-extensions", "leaf", "-key", "rsa.key", "-subj", _ORG + "/CN=device-rsa",
     "-set_serial", "0x0a02", "-outform", "DER", "-out", CERT_FILES["rsa"]],
    # An X.509 v1 certificate (no extensions, so no [0] version field).
    [*_EC, "v1.key"],
    ["req", "-new", "-config", "openssl.cnf", "-key", "v1.key", "-subj",
     _ORG + "/CN=device-v1", "-out", "v1.csr"],
    ["x509", "-req", "-in", "v1.csr", "-signkey", "v1.key", "-days", "36500", "-sha256",
     "-set_serial", "0x0a03", "-outform", "DER", "-out", CERT_FILES["v1"]],
    [*_EC, "ca.key"],
    [*_SELF, "-extensions", "ca", "-key", "ca.key", "-subj", _ORG + "/CN=apisig test CA",
     "-set_serial", "0x0c01", "-out", "ca.pem"],
    ["x509", "-in", "ca.pem", "-outform", "DER", "-out", CERT_FILES["ca"]],
    [*_EC, "client.key"],
    ["req", "-new", "-config", "openssl.cnf", "-key", "client.key", "-subj",
     _ORG + "/CN=gateway-7", "-out", "client.csr"],
    [*_BY_CA, "-days", "36500", "-set_serial", "0x1001", "-outform", "DER", "-out",
     CERT_FILES["client"]],
    # The same key re-issued: same SubjectPublicKeyInfo, another certificate.
    [*_BY_CA, "-days", "3650", "-set_serial", "0x1002", "-outform", "DER", "-out",
     CERT_FILES["reissued"]],
]


def openssl(args: list, cwd=None, stdin: bytes | None = None) -> bytes:
    import subprocess  # only --regen-certs runs openssl

    done = subprocess.run(["openssl", *args], cwd=cwd, input=stdin, capture_output=True,
                          check=False)
    if done.returncode != 0:
        raise VectorError(f"openssl {' '.join(args)}: {done.stderr.decode(errors='replace')}")
    return done.stdout


def regen_certs() -> None:
    """Makes certs/*.der anew with the openssl CLI, then cross-checks the DER walker
    against openssl: the SPKI it extracts must equal `openssl x509 -pubkey -noout |
    openssl pkey -pubin -outform DER`, the certificate fingerprint must equal `openssl
    x509 -fingerprint -sha256`."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "openssl.cnf").write_text(OPENSSL_CNF, encoding="ascii")
        for args in CERT_RECIPE:
            openssl(args, cwd=tmp)
        openssl(["x509", "-inform", "DER", "-in", CERT_FILES["client"], "-out", "client.pem"],
                cwd=tmp)
        openssl(["verify", "-CAfile", "ca.pem", "client.pem"], cwd=tmp)
        CERTS_DIR.mkdir(exist_ok=True)
        for name in CERT_FILES.values():
            (CERTS_DIR / name).write_bytes((Path(tmp) / name).read_bytes())
    certs = load_certs()
    for key, der in certs.items():
        path = str(CERTS_DIR / CERT_FILES[key])
        pem_key = openssl(["x509", "-inform", "DER", "-in", path, "-pubkey", "-noout"])
        spki = openssl(["pkey", "-pubin", "-outform", "DER"], stdin=pem_key)
        if spki != der_spki(der):
            raise VectorError(f"{path}: DER walker's SPKI differs from openssl's")
        text = openssl(["x509", "-inform", "DER", "-in", path, "-noout", "-fingerprint",
                        "-sha256"]).decode()
        if text.split("=", 1)[1].strip().replace(":", "").lower() != hashlib.sha256(der).hexdigest():
            raise VectorError(f"{path}: fingerprint differs from openssl's")
    check_cert_set(certs)
    print(f"certs/: {len(certs)} certificates made; DER walker agrees with openssl")


def load_certs() -> dict:
    out = {}
    for key, name in CERT_FILES.items():
        path = CERTS_DIR / name
        if not path.is_file():
            raise VectorError(f"{path} missing (python3 tests/vectors/generate.py "
                              "--regen-certs makes the set; it needs openssl)")
        out[key] = path.read_bytes()
    return out


def check_cert_set(certs: dict) -> None:
    """What the cases rely on: the v1 certificate has no [0] version and the others do,
    the re-issued certificate shares the client's SPKI only, the three length forms occur."""
    spki = {k: der_spki(v) for k, v in certs.items()}
    if spki["reissued"] != spki["client"] or certs["reissued"] == certs["client"]:
        raise VectorError("certs: the re-issued certificate must share only the SPKI")
    if len(set(spki.values())) != len(spki) - 1:
        raise VectorError("certs: unexpected shared keys")
    for k, der in certs.items():
        _, _, tbs, _ = der_tlv(der, der_tlv(der, 0, len(der))[2], len(der))
        if (der[tbs] == 0xA0) == (k == "v1"):
            raise VectorError(f"certs: {k} has the wrong version layout")
    if der_length_form(spki["rsa"]) != 3 or der_length_form(spki["ec"]) != 1:
        raise VectorError("certs: expected long-form RSA and short-form EC SPKI lengths")


def der_length_form(tlv: bytes) -> int:
    """Bytes in a TLV's length field."""
    return 1 if tlv[1] < 0x80 else 1 + (tlv[1] & 0x7F)


def der_len(n: int, extra_zero: bool = False, long_form: bool = False) -> bytes:
    """A length field: minimal, or with a leading zero byte, or in long form for n < 128
    (both non-minimal)."""
    if n < 0x80 and not (extra_zero or long_form):
        return bytes([n])
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    if extra_zero:
        body = b"\x00" + body
    return bytes([0x80 | len(body)]) + body


def der_children(der: bytes, start: int, end: int) -> list:
    """The TLVs in der[start:end] as (tag, content) pairs."""
    out, pos = [], start
    while pos < end:
        tag, _, body, pos = der_tlv(der, pos, end)
        out.append((tag, der[body:pos]))
    return out


def der_tlv_bytes(tag: int, content: bytes, **form) -> bytes:
    return bytes([tag]) + der_len(len(content), **form) + content


def tbs_members(der: bytes) -> list:
    """(tag, content) of each tbsCertificate member."""
    _, _, body, end = der_tlv(der, 0, len(der))
    _, _, tbs, tbs_end = der_tlv(der, body, end)
    return der_children(der, tbs, tbs_end)


def cert_rebuilt(der: bytes, outer: dict | None = None, tbs: dict | None = None,
                 member: int | None = None, member_form: dict | None = None,
                 tbs_tag: int = 0x30, outer_tag: int = 0x30) -> bytes:
    """The certificate re-encoded with one length field or tag changed: the outer
    Certificate's, the tbsCertificate's, or that of tbs member number `member`."""
    _, _, body, end = der_tlv(der, 0, len(der))
    rest = der_children(der, body, end)[1:]
    new_tbs = b"".join(der_tlv_bytes(t, c, **(member_form if i == member else {}))
                       for i, (t, c) in enumerate(tbs_members(der)))
    content = der_tlv_bytes(tbs_tag, new_tbs, **(tbs or {}))
    content += b"".join(der_tlv_bytes(t, c) for t, c in rest)
    return der_tlv_bytes(outer_tag, content, **(outer or {}))


def with_outer_length(der: bytes, delta: int) -> bytes:
    """The Certificate's declared length changed by delta (content unchanged)."""
    _, _, body, end = der_tlv(der, 0, len(der))
    return bytes([der[0]]) + der_len(end - body + delta) + der[body:]


class PinBook:
    def __init__(self, certs: dict) -> None:
        self.certs = certs
        self.ids = TcIds()
        self.tests: list = []

    def fp(self, key: str, kind: str) -> str:
        return fingerprint(self.certs[key], kind)

    def pins(self, kind: str, *entries) -> list:
        """entries: (client, cert key, slot), or (client, fingerprint hex, slot) when the
        middle item is 64 hex digits."""
        out = []
        for client_name, what, slot in entries:
            fp = what if re.fullmatch(r"[0-9a-f]{64}", what) else self.fp(what, kind)
            out.append({"client": client_name, "fingerprint": fp, "slot": slot})
        if len({p["fingerprint"] for p in out}) != len(out):
            raise VectorError("a pin set names a fingerprint twice")
        return out

    def case(self, comment: str, kind: str, pins: list, expect, *, cert: str | None = None,
             raw: bytes | None = None) -> None:
        der = self.certs[cert] if cert is not None else raw
        faults, found = pin_lookup(der, kind, pins)
        if isinstance(expect, tuple):
            check_one(faults, VALID, comment)
            if found != expect:
                raise VectorError(f"{comment}: found {found}, declared {expect}")
        else:
            check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment}
        if cert is not None:
            case["cert"] = f"certs/{CERT_FILES[cert]}"
        else:
            case["cert_hex"] = raw.hex()
        case.update(kind=kind, pins=pins)
        if isinstance(expect, tuple):
            case.update(result="valid", client=expect[0], slot=expect[1])
        else:
            case.update(outcome(expect))
        self.tests.append(case)


def pin_cases(book: PinBook) -> None:
    c = book.certs
    for kind in ("certificate", "spki"):
        fleet = book.pins(kind, ("device-ec", "ec", "primary"), ("device-rsa", "rsa", "primary"),
                          ("device-v1", "v1", "primary"), ("gateway-7", "client", "primary"))
        for key, client_name in [("ec", "device-ec"), ("rsa", "device-rsa"),
                                 ("v1", "device-v1"), ("client", "gateway-7")]:
            book.case(f"{kind} pin: {CERT_FILES[key]} is pinned to {client_name}", kind, fleet,
                      (client_name, "primary"), cert=key)
        book.case(f"{kind} pin: the CA that issued a pinned certificate is not pinned itself "
                  "(pinning is not chain validation)", kind, fleet, "unpinned_certificate",
                  cert="ca")
        book.case(f"{kind} pin: no pins at all", kind, [], "unpinned_certificate", cert="ec")
        book.case(f"{kind} pin: only the other devices pinned", kind, fleet[1:],
                  "unpinned_certificate", cert="ec")
    cert_fleet = book.pins("certificate", ("device-ec", "ec", "primary"),
                           ("gateway-7", "client", "primary"))
    spki_fleet = book.pins("spki", ("device-ec", "ec", "primary"),
                           ("gateway-7", "client", "primary"))
    book.case("re-issued certificate (same key) under certificate pinning of the original",
              "certificate", cert_fleet, "unpinned_certificate", cert="reissued")
    book.case("re-issued certificate (same key) under SPKI pinning: still the same client",
              "spki", spki_fleet, ("gateway-7", "primary"), cert="reissued")
    rotation = book.pins("certificate", ("gateway-7", "reissued", "primary"),
                         ("gateway-7", "client", "secondary"), ("device-ec", "ec", "primary"))
    book.case("rotation: the new certificate pinned as primary", "certificate", rotation,
              ("gateway-7", "primary"), cert="reissued")
    book.case("rotation: the old certificate still pinned as secondary", "certificate",
              rotation, ("gateway-7", "secondary"), cert="client")
    book.case("SPKI rotation: device-rsa moving to a new (EC) key, its RSA key pinned as "
              "secondary",
              "spki", book.pins("spki", ("device-rsa", "ec", "primary"),
                                ("device-rsa", "rsa", "secondary")),
              ("device-rsa", "secondary"), cert="rsa")
    book.case("kind confusion: the certificate's SPKI fingerprint pinned, certificate "
              "fingerprint asked for", "certificate",
              book.pins("certificate", ("device-ec", book.fp("ec", "spki"), "primary")),
              "unpinned_certificate", cert="ec")
    book.case("kind confusion: the whole-certificate fingerprint pinned, SPKI asked for",
              "spki", book.pins("spki", ("device-ec", book.fp("ec", "certificate"), "primary")),
              "unpinned_certificate", cert="ec")
    spki = der_spki(c["ec"])
    _, _, body, end = der_tlv(spki, 0, len(spki))
    bitstring = der_children(spki, body, end)[1][1]
    raw_key_fp = hashlib.sha256(bitstring[1:]).hexdigest()
    book.case("pin over the raw public key point (BIT STRING contents), not the SPKI", "spki",
              book.pins("spki", ("device-ec", raw_key_fp, "primary")),
              "unpinned_certificate", cert="ec")
    near = book.fp("ec", "spki")
    near = near[:-1] + format(int(near[-1], 16) ^ 1, "x")
    book.case("pin differing in the last bit", "spki",
              book.pins("spki", ("device-ec", near, "primary")), "unpinned_certificate",
              cert="ec")
    book.case("pin of the SHA-256 of the certificate's PEM text", "certificate",
              book.pins("certificate", ("device-ec", hashlib.sha256(pem(c["ec"])).hexdigest(),
                                        "primary")), "unpinned_certificate", cert="ec")


def pem(der: bytes) -> bytes:
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return ("-----BEGIN CERTIFICATE-----\n" + "\n".join(lines)
            + "\n-----END CERTIFICATE-----\n").encode()


def malformed_cert_cases(book: PinBook) -> None:
    c = book.certs
    ec, v1, rsa = c["ec"], c["v1"], c["rsa"]
    spki_ec = der_spki(ec)
    if cert_rebuilt(ec) != ec or cert_rebuilt(v1) != v1 or cert_rebuilt(rsa) != rsa:
        raise VectorError("cert_rebuilt does not reproduce the certificates")
    version, spki_at = 0, 6  # v3 tbs: [0] version, serial, signature, issuer, validity,
    #                          subject, subjectPublicKeyInfo, [3] extensions
    serial_len = len(tbs_members(v1)[0][1])
    bad_length_form = "(long form for a short length: non-minimal)"
    indefinite = b"\x30\x80" + ec[der_length_form(ec) + 1:] + b"\x00\x00"
    inputs = [
        (b"", "empty input"),
        (b"\x30", "a lone SEQUENCE tag"),
        (b"\x30\x00", "an empty SEQUENCE"),
        (ec[:3], "only the first three bytes"),
        (ec[:-1], "last byte cut off"),
        (ec[: len(ec) // 2], "cut in half"),
        (ec + b"\x00", "one trailing zero byte"),
        (ec + ec, "two certificates back to back"),
        (indefinite, "indefinite length (BER 0x80 with end-of-contents), not DER"),
        (cert_rebuilt(ec, outer={"extra_zero": True}),
         "Certificate length with a leading zero byte (non-minimal)"),
        (cert_rebuilt(ec, tbs={"extra_zero": True}),
         "tbsCertificate length with a leading zero byte (non-minimal)"),
        (cert_rebuilt(v1, member=0, member_form={"long_form": True}),
         f"v1 certificate, serialNumber length written 0x81 0x{serial_len:02x} "
         + bad_length_form),
        (cert_rebuilt(ec, member=version, member_form={"long_form": True}),
         "[0] version length written 0x81 0x03 " + bad_length_form),
        (cert_rebuilt(ec, member=spki_at, member_form={"long_form": True}),
         f"subjectPublicKeyInfo length written 0x81 0x{len(spki_ec) - 2:02x} "
         + bad_length_form),
        (with_outer_length(ec, +1), "Certificate length one more than the bytes present"),
        (with_outer_length(ec, -1), "Certificate length one less than the bytes present"),
        (spki_overrun(v1), "v1 certificate, subjectPublicKeyInfo length running past the "
         "end of tbsCertificate (into the signature algorithm, not past the input)"),
        (cert_rebuilt(ec, outer_tag=0x31), "outer tag SET (0x31) instead of SEQUENCE"),
        (cert_rebuilt(ec, outer_tag=0xA0), "outer tag [0] (0xa0) instead of SEQUENCE"),
        (der_tlv_bytes(0x04, ec), "the certificate wrapped in an OCTET STRING"),
        (cert_rebuilt(ec, tbs_tag=0x31), "tbsCertificate tag SET (0x31)"),
        (pem(ec), "PEM text instead of DER"),
        (spki_ec, "a bare SubjectPublicKeyInfo instead of a certificate"),
    ]
    for raw, why in inputs:
        book.case(f"not a certificate: {why}", "spki", book.pins("spki", ("device-ec", "ec",
                                                                          "primary")),
                  "invalid_certificate", raw=raw)
    for raw, why in [(b"", "empty input"), (ec[:-1], "last byte cut off"),
                     (ec + b"\x00", "one trailing zero byte"),
                     (indefinite, "indefinite length")]:
        book.case(f"certificate pinning parses the DER too: {why}", "certificate",
                  book.pins("certificate", ("device-ec", hashlib.sha256(raw).hexdigest(),
                                            "primary")),
                  "invalid_certificate", raw=raw)


def spki_overrun(der: bytes) -> bytes:
    """The SPKI's short-form length raised by 4 (it must be tbsCertificate's last member),
    every other length unchanged."""
    spki = der_spki(der)
    at = der.index(spki)
    if spki[1] >= 0x7C or tbs_members(der)[-1][1] != spki[2:]:
        raise VectorError("spki_overrun needs a short-form SPKI ending tbsCertificate")
    return der[:at + 1] + bytes([spki[1] + 4]) + der[at + 2:]


def build_pins() -> dict:
    certs = load_certs()
    check_cert_set(certs)
    book = PinBook(certs)
    pin_cases(book)
    malformed_cert_cases(book)
    return {
        **file_header(
            "mTLS client-certificate pinning: the peer certificate's SHA-256 fingerprint, of "
            "the whole DER or of its SubjectPublicKeyInfo, looked up in a set of pins.",
            [
                "cert: a DER file under tests/vectors/ (certs/*.der, real certificates made "
                "once with the openssl CLI; see cases/pins.py, regen_certs); or cert_hex: the "
                "presented bytes, for inputs that are not certificates.",
                "kind: 'certificate' pins SHA-256 of the whole DER; 'spki' pins SHA-256 of "
                "the DER subjectPublicKeyInfo (tag and length included), found by walking "
                "Certificate SEQUENCE -> tbsCertificate SEQUENCE -> optional [0] version, "
                "serialNumber, signature, issuer, validity, subject -> subjectPublicKeyInfo. "
                "Fingerprints are lowercase hex.",
                "pins: [{client, fingerprint, slot}], all of the case's kind; no "
                "fingerprint appears twice. valid: the matching pin's client and slot.",
                "invalid_certificate (checked first, for both kinds): not DER the walker "
                "accepts: empty or truncated input, bytes after the Certificate, "
                "indefinite or non-minimal lengths (anywhere the walker reads one), a "
                "length running past the end of its parent, a wrong tag on the "
                "Certificate, the tbsCertificate or the members walked. "
                "unpinned_certificate: a certificate whose fingerprint no pin holds.",
                "Nothing else about the certificate is checked: not validity dates, not "
                "the issuer chain, not the signature.",
            ],
        ),
        "tests": book.tests,
    }
