"""Smoke test of the release wheel, run by scripts/wheel.sh inside a fresh venv that holds
nothing but the installed wheel (python -I, so the repository's sources cannot be imported).

    wheel_smoke.py WHEEL TAG VECTORS_DIR

Checks the wheel's name (abi3, the manylinux TAG), that its extension is stripped and needs no
glibc symbol version above TAG's (read from the ELF here, not from maturin's own check), then
imports apisig and signs and verifies against the shared vectors: every valid RFC 4231 case
(HMAC-SHA256), the Aevo worked example (a request signed, verified, then refused when
replayed and when tampered with) and an RS256, PS256, ES256 and EdDSA access token (verified,
then refused with its signature changed)."""

import json
import struct
import sys
import zipfile
from pathlib import Path


def elf_sections(data: bytes) -> dict[str, tuple[int, int, int]]:
    """Section name -> (offset, size, link) of a little-endian ELF64 file."""
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[5] == 1, (
        "not a little-endian ELF64 file"
    )
    (shoff,) = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [
        struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
        for i in range(shnum)
    ]
    names_off = headers[shstrndx][4]

    def name(at: int) -> str:
        return data[names_off + at : data.index(b"\0", names_off + at)].decode()

    return {name(h[0]): (h[4], h[5], h[6]) for h in headers}


def glibc_versions(
    data: bytes, sections: dict[str, tuple[int, int, int]]
) -> set[tuple[int, ...]]:
    """The GLIBC_x.y versions the file's .gnu.version_r asks for."""
    offset, _, link = sections[".gnu.version_r"]
    strtab = list(sections.values())[link][0]
    found = set()
    need = offset
    while True:
        _, count, _, aux, nxt = struct.unpack_from("<HHIII", data, need)
        entry = need + aux
        for _ in range(count):
            _, _, _, name, aux_next = struct.unpack_from("<IHHII", data, entry)
            text = data[strtab + name : data.index(b"\0", strtab + name)].decode()
            if text.startswith("GLIBC_") and text[6:7].isdigit():
                found.add(tuple(int(p) for p in text[6:].split(".")))
            entry += aux_next
        if not nxt:
            return found
        need += nxt


def check_wheel(wheel: Path, tag: str) -> None:
    parts = wheel.name[: -len(".whl")].split("-")
    assert parts[2:4] == ["cp311", "abi3"], (
        f"not an abi3 wheel for CPython >= 3.11: {wheel.name}"
    )
    assert f"{tag}_x86_64" in parts[4].split("."), f"not tagged {tag}: {wheel.name}"
    with zipfile.ZipFile(wheel) as z:
        (so,) = [n for n in z.namelist() if n.endswith(".abi3.so")]
        data = z.read(so)
    sections = elf_sections(data)
    leftovers = sorted(n for n in sections if n.startswith(".debug") or n == ".symtab")
    assert not leftovers, f"{so} is not stripped: {leftovers}"
    newest = max(glibc_versions(data, sections))
    wanted = tuple(int(p) for p in tag.removeprefix("manylinux_").split("_"))
    assert newest <= wanted, (
        f"{so} needs GLIBC_{'.'.join(map(str, newest))}, above {tag}"
    )
    print(
        f"wheel-smoke: {wheel.name}: {wheel.stat().st_size} bytes, {so} {len(data)} bytes, stripped,"
        f" needs glibc {'.'.join(map(str, newest))}"
    )


def check_module(vectors: Path) -> None:
    import apisig

    assert Path(apisig.__file__).is_relative_to(sys.prefix), (
        f"apisig imported from {apisig.__file__}"
    )

    rfc = json.loads((vectors / "hmac_sha256_rfc4231.json").read_text())["tests"]
    valid = [t for t in rfc if t["result"] == "valid" and "RFC 4231" in t["comment"]]
    assert len(valid) >= 7, "the RFC 4231 cases are in the vectors"
    for t in valid:
        key, msg, tag = (
            bytes.fromhex(t["key"]),
            bytes.fromhex(t["msg"]),
            bytes.fromhex(t["tag"]),
        )
        assert apisig.hmac_sign(key, msg) == tag, t["comment"]
        apisig.hmac_verify(key, msg, tag)
        try:
            apisig.hmac_verify(key, msg + b"!", tag)
        except apisig.SignatureMismatch:
            pass
        else:
            raise AssertionError(f"{t['comment']}: a changed message was accepted")

    signs = json.loads((vectors / "sign.json").read_text())["tests"]
    v = next(t for t in signs if t["scheme"] == "aevo" and t["result"] == "valid")
    creds, req, now = v["credentials"], v["request"], v["now_ns"]
    body = req["body"].encode()
    signer = apisig.Signer(
        apisig.AEVO, api_key=creds["key_id"], secret=creds["secret"].encode()
    )
    headers = signer.sign(req["method"], req["path"], body, now=now)
    assert list(headers.items()) == [tuple(h) for h in v["headers"]], (
        headers,
        v["headers"],
    )
    verifier = apisig.Verifier()
    verifier.add(creds["key_id"], creds["secret"].encode())
    who = verifier.verify(
        apisig.AEVO, req["method"], req["path"], headers, body, now=now
    )
    assert who.client_id == creds["key_id"]
    for refused, args in [
        (apisig.ReplayedRequest, (req["method"], req["path"], headers, body)),
        (apisig.SignatureMismatch, (req["method"], req["path"] + "x", headers, body)),
    ]:
        try:
            verifier.verify(apisig.AEVO, *args, now=now)
        except refused:
            pass
        else:
            raise AssertionError(f"not refused with {refused.__name__}")
    # The OpenID access tokens: RS256, PS256 and ES256 by ring's assembly (built by the wheel's
    # C toolchain), EdDSA by ed25519-dalek; each verified, and refused with one signature
    # character changed.
    jws = json.loads((vectors / "jws.json").read_text())
    keys = apisig.JwkSet(jws["jwks"].encode())
    algs = ("RS256", "PS256", "ES256", "EdDSA")
    for alg in algs:
        t = next(t for t in jws["tests"] if t["comment"] == f"{alg} access token")
        iss, aud = t["issuer"]["issuer"], t["issuer"]["audience"]
        now = jws["now"] * 1_000_000_000
        claims = keys.verify(t["token"], iss, aud, [alg], now=now)
        assert claims["client_id"] == t["claims"]["client_id"], alg
        head, sig = t["token"].rsplit(".", 1)
        bad = f"{head}.{sig[:10]}{'B' if sig[10] == 'A' else 'A'}{sig[11:]}"
        try:
            keys.verify(bad, iss, aud, [alg], now=now)
        except apisig.SignatureMismatch:
            pass
        else:
            raise AssertionError(f"{alg}: a changed signature was accepted")
    print(
        f"wheel-smoke: apisig {apisig.__version__} from {Path(apisig.__file__).parent}: RFC 4231"
        f" ({len(valid)} cases), Aevo sign/verify/replay/tamper, {'/'.join(algs)} access tokens OK"
    )


if __name__ == "__main__":
    wheel, tag, vectors = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    check_wheel(wheel, tag)
    check_module(vectors)
