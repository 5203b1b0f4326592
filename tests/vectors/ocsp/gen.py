#!/usr/bin/env python3
"""The shared OCSP vectors: tests/vectors/ocsp.json and the DER files beside this script.

    gen.py            rewrite ocsp.json from the DER files here
    gen.py --check    fail if ocsp.json is not what the DER files say, or if `openssl ocsp`
                      disagrees with a case's declared verdict
    gen.py --regen    make new CAs, certificates, requests and responses with the openssl CLI
                      (`openssl ocsp -index ... -reqin ... -respout ...`; keys are thrown away),
                      then rewrite ocsp.json

Each case is one response (a file, a file cut short, a few bytes, or no response at all: a
failure such as an unreachable responder), the certificate and issuer it is checked for, the
nonce the request carried, `now` and the policy, and the verdict every face must reach:
`"result": "valid"` (with `"warning"` when fail-soft let a failure through) or
`"result": "invalid"` with `"error"`. The times in the cases are read from the responses with
`openssl ocsp -resp_text`, so plain runs and --check only read the files.

The oracle for --check is OpenSSL (`openssl ocsp -respin ... -CAfile issuer`): a case declared
revoked or unknown must be reported so, an authentic response must verify, a badly signed one
or one from an unauthorized responder must fail to verify, one for another certificate must
have no status for it, a malformed one must not parse. Where apisig is stricter than OpenSSL's
defaults (SHA-1 response signatures) the case says so and --check confirms the algorithm.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "ocsp.json"
sys.path.insert(0, str(HERE))
import pki

NS = 10**9
SKEW = 300
MAX_AGE = 3600
URL = "http://127.0.0.1:8888/"

# DER files: certificates, then responses (made by --regen).
CERTS = ("ca-a", "ca-b", "client-good", "client-revoked", "client-unknown", "responder-a",
         "responder-a-no-eku", "responder-b")  # fmt: skip


def regen() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ca_a, ca_b = pki.ca(d, "ca-a"), pki.ca(d, "ca-b")
        good = pki.client(d, "client-good", ca_a, 0x1001, URL)
        revoked = pki.client(d, "client-revoked", ca_a, 0x1002, URL)
        unknown = pki.client(d, "client-unknown", ca_a, 0x1003, URL)
        resp_a = pki.responder(d, "responder-a", ca_a, 0x2001)
        resp_a_no_eku = pki.responder(d, "responder-a-no-eku", ca_a, 0x2002, ocsp_signing=False)
        resp_b = pki.responder(d, "responder-b", ca_b, 0x2003)
        for c in (ca_a, ca_b, good, revoked, unknown, resp_a, resp_a_no_eku, resp_b):
            (HERE / f"{c.cert.stem}.der").write_bytes(c.der())
        index = d / "index.txt"
        pki.write_index(index, [good], [revoked])

        def request(cert: pki.Cert, nonce: bool) -> Path:
            out = d / f"req-{cert.cert.stem}-{nonce}.der"
            pki.openssl("ocsp", "-issuer", ca_a.cert, "-sha256", "-cert", cert.cert,
                        "-nonce" if nonce else "-no_nonce", "-reqout", out)  # fmt: skip
            return out

        def respond(name: str, cert: pki.Cert, signer: pki.Cert, *extra: str, nonce: bool = True) -> None:
            pki.openssl("ocsp", "-index", index, "-CA", ca_a.cert, "-rsigner", signer.cert,
                        "-rkey", signer.key, "-reqin", request(cert, nonce),
                        "-respout", HERE / f"{name}.der", *extra)  # fmt: skip

        respond("good-by-issuer", good, ca_a, "-ndays", "30")
        respond("good-by-delegate", good, resp_a, "-ndays", "30")
        respond("good-by-delegate-key-id", good, resp_a, "-ndays", "30", "-resp_key_id")
        respond("good-by-issuer-no-certs", good, ca_a, "-ndays", "30", "-resp_no_certs")
        respond("good-no-nonce", good, resp_a, "-ndays", "30", nonce=False)
        respond("good-no-next-update", good, resp_a)
        respond("revoked", revoked, resp_a, "-ndays", "30")
        respond("unknown", unknown, resp_a, "-ndays", "30")
        respond("good-by-other-ca-responder", good, resp_b, "-ndays", "30")
        respond("good-by-responder-without-eku", good, resp_a_no_eku, "-ndays", "30")
        respond("good-by-other-ca-no-certs", good, pki.Cert(ca_b.cert, ca_b.key, 0, ""), "-ndays", "30",
                "-resp_no_certs")  # fmt: skip
        respond("good-sha1-signature", good, resp_a, "-ndays", "30", "-rmd", "sha1")
        # The last byte of the signature (the last field when no certificates follow) flipped.
        der = bytearray((HERE / "good-by-issuer-no-certs.der").read_bytes())
        der[-1] ^= 0x01
        (HERE / "bad-signature.der").write_bytes(bytes(der))


def text(response: Path) -> str:
    return pki.openssl("ocsp", "-respin", response, "-resp_text", "-noverify").decode()


def when(label: str, resp_text: str) -> int | None:
    m = re.search(rf"{label}: (\w+ +\d+ [\d:]+ \d+) GMT", resp_text)
    if m is None:
        return None
    t = datetime.strptime(" ".join(m.group(1).split()), "%b %d %H:%M:%S %Y").replace(tzinfo=UTC)
    return int(t.timestamp()) * NS


def nonce_of(resp_text: str) -> str | None:
    m = re.search(r"OCSP Nonce: *\n *04([0-9A-F]{2})([0-9A-F]+)", resp_text)
    return m.group(2).lower() if m else None


def cases() -> list[dict[str, object]]:
    out: list[dict[str, object]] = []

    def case(comment: str, response: dict[str, object], result: str, *, cert: str = "client-good",
             now_from: str = "good-by-delegate", offset: int = 60, nonce: str | None = "from-response",
             fail_soft: bool = False, error: str | None = None, warning: str | None = None,
             oracle: str) -> None:  # fmt: skip
        base = text(HERE / f"{now_from}.der")
        this_update = when("This Update", base)
        assert this_update is not None
        if nonce == "from-response":
            f = response.get("file")
            nonce = nonce_of(text(HERE / str(f))) if f and "truncate" not in response else None
        c: dict[str, object] = {
            "tcId": len(out) + 1, "comment": comment, "response": response, "cert": f"{cert}.der",
            "issuer": "ca-a.der", "nonce": nonce, "now": this_update + offset * NS, "skew": SKEW,
            "max_age": MAX_AGE, "fail_soft": fail_soft, "result": result, "oracle": oracle,
        }  # fmt: skip
        if error:
            c["error"] = error
        if warning:
            c["warning"] = warning
        out.append(c)

    f = lambda name: {"file": f"{name}.der"}
    later = 31 * 86400  # past nextUpdate (30 days) and the skew
    case("good, signed by the issuer", f("good-by-issuer"), "valid", oracle="good")
    case("good, signed by the issuer, no certificates in the response", f("good-by-issuer-no-certs"),
         "valid", oracle="good")  # fmt: skip
    case("good, signed by a delegated responder the issuer certified for OCSPSigning",
         f("good-by-delegate"), "valid", oracle="good")  # fmt: skip
    case("good, delegated responder named by its key hash (ResponderID byKey)",
         f("good-by-delegate-key-id"), "valid", oracle="good")  # fmt: skip
    case("revoked", f("revoked"), "invalid", cert="client-revoked", error="certificate_revoked",
         oracle="revoked")  # fmt: skip
    case("revoked: fail-soft never softens a revocation", f("revoked"), "invalid", cert="client-revoked",
         fail_soft=True, error="certificate_revoked", oracle="revoked")  # fmt: skip
    case("unknown to the responder", f("unknown"), "invalid", cert="client-unknown",
         error="certificate_status_unknown", oracle="unknown")  # fmt: skip
    case("unknown, fail-soft: accepted with a warning", f("unknown"), "valid", cert="client-unknown",
         fail_soft=True, warning="certificate_status_unknown", oracle="unknown")  # fmt: skip
    case("a nonce was sent, the response has none", f("good-no-nonce"), "invalid", nonce="00" * 16,
         error="ocsp_nonce_mismatch", oracle="good")  # fmt: skip
    case("no nonce sent, none in the response", f("good-no-nonce"), "valid", nonce=None, oracle="good")
    case("the response echoes another nonce", f("good-by-delegate"), "invalid", nonce="11" * 16,
         error="ocsp_nonce_mismatch", oracle="good")  # fmt: skip
    case("the response is about another certificate (serial)", f("good-by-delegate"), "invalid",
         cert="client-revoked", error="ocsp_cert_id_mismatch", oracle="no-status")  # fmt: skip
    case("signed by another CA's delegated responder", f("good-by-other-ca-responder"), "invalid",
         error="ocsp_unauthorized_responder", oracle="verify-fails")  # fmt: skip
    case("signed by a responder certificate of the issuer without id-kp-OCSPSigning",
         f("good-by-responder-without-eku"), "invalid", error="ocsp_unauthorized_responder",
         oracle="verify-fails")  # fmt: skip
    case("signed by another CA's key, no certificate included", f("good-by-other-ca-no-certs"),
         "invalid", error="ocsp_unauthorized_responder", oracle="verify-fails")  # fmt: skip
    case("the signature is corrupted", f("bad-signature"), "invalid", error="ocsp_signature_invalid",
         oracle="verify-fails")  # fmt: skip
    case("signed with SHA-1 (OpenSSL accepts it by default; apisig does not)", f("good-sha1-signature"),
         "invalid", error="ocsp_signature_invalid", oracle="sha1")  # fmt: skip
    case("signature refused, fail-soft: accepted with a warning", f("bad-signature"), "valid",
         fail_soft=True, warning="ocsp_signature_invalid", oracle="verify-fails")  # fmt: skip
    case("stale: past nextUpdate beyond the skew", f("good-by-delegate"), "invalid", offset=later,
         error="ocsp_response_stale", oracle="good")  # fmt: skip
    case("stale, fail-soft: accepted with a warning", f("good-by-delegate"), "valid", offset=later,
         fail_soft=True, warning="ocsp_response_stale", oracle="good")  # fmt: skip
    # Signed by the issuer: a delegated responder certified at the same moment would not be
    # current yet either (its notBefore is checked first).
    case("thisUpdate in the future beyond the skew", f("good-by-issuer"), "invalid",
         now_from="good-by-issuer", offset=-SKEW - 1, error="ocsp_response_not_yet_valid",
         oracle="good")  # fmt: skip
    case("thisUpdate in the future within the skew", f("good-by-issuer"), "valid",
         now_from="good-by-issuer", offset=-SKEW, oracle="good")  # fmt: skip
    case("no nextUpdate: valid for max_age after thisUpdate", f("good-no-next-update"), "valid",
         now_from="good-no-next-update", offset=MAX_AGE + SKEW, oracle="good")  # fmt: skip
    case("no nextUpdate: stale after max_age", f("good-no-next-update"), "invalid",
         now_from="good-no-next-update", offset=MAX_AGE + SKEW + 1, error="ocsp_response_stale",
         oracle="good")  # fmt: skip
    case("truncated DER", {"file": "good-by-issuer.der", "truncate": 100}, "invalid",
         error="ocsp_malformed", oracle="unparsable")  # fmt: skip
    case("not DER at all", {"hex": b"not an OCSP response".hex()}, "invalid", error="ocsp_malformed",
         oracle="unparsable")  # fmt: skip
    case("empty", {"hex": ""}, "invalid", error="ocsp_malformed", oracle="unparsable")
    case("responseStatus tryLater", {"hex": "30030a0103"}, "invalid", error="ocsp_responder_error",
         oracle="trylater")  # fmt: skip
    case("huge: one byte more than the maximum", {"zeros": 64 * 1024 + 1}, "invalid",
         error="ocsp_response_too_large", oracle="none")  # fmt: skip
    case("responder unreachable", {"failure": "ocsp_unavailable"}, "invalid", error="ocsp_unavailable",
         oracle="none")  # fmt: skip
    case("responder unreachable, fail-soft: accepted with a warning", {"failure": "ocsp_unavailable"},
         "valid", fail_soft=True, warning="ocsp_unavailable", oracle="none")  # fmt: skip
    case("no responder known", {"failure": "ocsp_no_responder"}, "invalid", error="ocsp_no_responder",
         oracle="none")  # fmt: skip
    return out


def response_bytes(spec: dict[str, object]) -> bytes | None:
    if "file" in spec:
        data = (HERE / str(spec["file"])).read_bytes()
        return data[: int(spec["truncate"])] if "truncate" in spec else data  # type: ignore[call-overload]
    if "hex" in spec:
        return bytes.fromhex(str(spec["hex"]))
    if "zeros" in spec:
        return bytes(int(spec["zeros"]))  # type: ignore[call-overload]
    return None


def check_oracle(c: dict[str, object]) -> None:
    """`openssl ocsp` agrees with the case."""
    kind, spec = c["oracle"], c["response"]
    assert isinstance(spec, dict)
    if kind == "none":
        return
    with tempfile.TemporaryDirectory() as tmp:
        resp = Path(tmp) / "resp.der"
        resp.write_bytes(response_bytes(spec) or b"")
        pem = {n: Path(tmp) / f"{n}.pem" for n in ("issuer", "cert")}
        for n, p in pem.items():
            p.write_bytes(pki.openssl("x509", "-inform", "DER", "-in", HERE / str(c[n])))
        run = subprocess.run(
            ["openssl", "ocsp", "-respin", resp, "-issuer", pem["issuer"], "-cert", pem["cert"],
             "-CAfile", pem["issuer"], "-no_nonce", "-resp_text"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    out = run.stdout + run.stderr
    verified = "Response verify OK" in out
    expect = {
        "good": verified and ": good" in out,
        "revoked": verified and ": revoked" in out,
        "unknown": verified and ": unknown" in out,
        "no-status": verified and "No Status found" in out,
        "verify-fails": "Response Verify Failure" in out,
        "sha1": verified and "ecdsa-with-SHA1" in out,
        "unparsable": "Error reading OCSP response" in out,
        "trylater": "trylater (3)" in out,
    }[str(kind)]
    if not expect:
        raise SystemExit(f"tcId {c['tcId']} ({c['comment']}): openssl disagrees ({kind}):\n{out}")


def document() -> str:
    tests = cases()
    doc = {
        "comment": "OCSP for mutual TLS: responses made by `openssl ocsp` (tests/vectors/ocsp/gen.py), "
        "the certificate and issuer each is checked for, the nonce the request carried, now (ns), "
        "skew and max_age (s), fail_soft, and the verdict every face reaches. response: "
        "{file} (in tests/vectors/ocsp/, truncated to `truncate` bytes if given), {hex}, {zeros: n} "
        "(n zero bytes), or {failure: name} (no response: the face could not get one).",
        "dir": "ocsp",
        "tests": tests,
    }
    return json.dumps(doc, indent=1) + "\n"


def main() -> None:
    if "--regen" in sys.argv:
        regen()
    doc = document()
    if "--check" in sys.argv:
        if not OUT.exists() or OUT.read_text() != doc:
            raise SystemExit(f"{OUT} is stale: run {Path(__file__).name}")
        for c in json.loads(doc)["tests"]:
            check_oracle(c)
        print(f"ocsp vectors: {len(json.loads(doc)['tests'])} cases agree with openssl")
        return
    OUT.write_text(doc)


if __name__ == "__main__":
    main()
