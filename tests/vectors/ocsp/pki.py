"""A small PKI made with the `openssl` CLI, for OCSP: CAs, client certificates with an Authority
Information Access, delegated responder certificates, the responder's index file, requests and
responses (`openssl ocsp`). Used by gen.py (the shared vectors) and by the Python face's test
against a live `openssl ocsp` responder."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


def openssl(*args: str | Path, stdin: bytes | None = None) -> bytes:
    run = subprocess.run(["openssl", *map(str, args)], input=stdin, capture_output=True, check=False)
    if run.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))}: {run.stderr.decode(errors='replace')}")
    return run.stdout


@dataclass(frozen=True)
class Cert:
    """A certificate (PEM file), its key (PEM file), and its serial."""

    cert: Path
    key: Path
    serial: int
    subject: str

    def der(self) -> bytes:
        return openssl("x509", "-in", self.cert, "-outform", "DER")


def _key(path: Path) -> Path:
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path)
    return path


def ca(directory: Path, name: str) -> Cert:
    """A self-signed CA."""
    key = _key(directory / f"{name}.key")
    cert = directory / f"{name}.pem"
    subject = f"/O=apisig tests/CN={name}"
    openssl(
        "req", "-x509", "-new", "-key", key, "-subj", subject, "-days", "3650", "-sha256", "-out", cert,
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature",
    )  # fmt: skip
    return Cert(cert, key, 0, subject)


def issue(directory: Path, name: str, issuer: Cert, serial: int, extensions: list[str]) -> Cert:
    """A certificate for `name` signed by `issuer`, with `extensions` (openssl config lines)."""
    key = _key(directory / f"{name}.key")
    subject = f"/O=apisig tests/CN={name}"
    csr = openssl("req", "-new", "-key", key, "-subj", subject)
    ext = directory / f"{name}.ext"
    ext.write_text("[v3]\n" + "\n".join(["basicConstraints=critical,CA:FALSE", *extensions]) + "\n")
    cert = directory / f"{name}.pem"
    openssl(
        "x509", "-req", "-CA", issuer.cert, "-CAkey", issuer.key, "-set_serial", str(serial),
        "-days", "3650", "-sha256", "-extfile", ext, "-extensions", "v3", "-out", cert,
        stdin=csr,
    )  # fmt: skip
    return Cert(cert, key, serial, subject)


def client(directory: Path, name: str, issuer: Cert, serial: int, ocsp_url: str) -> Cert:
    """A TLS client certificate naming `ocsp_url` as its OCSP responder."""
    return issue(
        directory, name, issuer, serial,
        ["extendedKeyUsage=clientAuth", f"authorityInfoAccess=OCSP;URI:{ocsp_url}"],
    )  # fmt: skip


def responder(directory: Path, name: str, issuer: Cert, serial: int, *, ocsp_signing: bool = True) -> Cert:
    """A delegated responder certificate (with `id-kp-OCSPSigning` unless told otherwise)."""
    eku = "extendedKeyUsage=OCSPSigning" if ocsp_signing else "extendedKeyUsage=clientAuth"
    return issue(directory, name, issuer, serial, [eku, "keyUsage=critical,digitalSignature"])


def write_index(path: Path, valid: list[Cert], revoked: list[Cert]) -> None:
    """The `openssl ca` index file `openssl ocsp -index` reads (rewritten atomically, so a
    running responder sees either the old or the new one)."""
    expiry = "491231235959Z"
    lines = [f"V\t{expiry}\t\t{c.serial:04X}\tunknown\t{c.subject}" for c in valid]
    lines += [f"R\t{expiry}\t260101000000Z\t{c.serial:04X}\tunknown\t{c.subject}" for c in revoked]
    tmp = path.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
