"""hmac_sha256_rfc4231.json: RFC 4231's HMAC-SHA-256 cases, checked against both HMAC
oracles, plus tampered tags."""

from __future__ import annotations

from oracles.common import VALID, VectorError
from oracles.hmac_sha256 import mac

from .common import TcIds, check_faults, file_header, outcome

# RFC 4231 section 4, test cases 1-7, HMAC-SHA-256 only; hex exactly as published.
RFC4231 = [
    {
        "case": 1,
        "key": "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
        "data": "4869205468657265",
        "text": "Hi There",
        "hmac_sha256": "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    },
    {
        "case": 2,
        "key": "4a656665",
        "data": "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
        "text": "what do ya want for nothing?",
        "hmac_sha256": "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    },
    {
        "case": 3,
        "key": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "data": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
        "dddddddddddddddddddddddddddddddddddd",
        "text": None,
        "hmac_sha256": "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    },
    {
        "case": 4,
        "key": "0102030405060708090a0b0c0d0e0f10111213141516171819",
        "data": "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
        "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
        "text": None,
        "hmac_sha256": "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    },
    {
        "case": 5,
        "key": "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
        "data": "546573742057697468205472756e636174696f6e",
        "text": "Test With Truncation",
        "hmac_sha256": "a3b6167473100ee06e0c796c2955552b",  # truncated to 128 bits
    },
    {
        "case": 6,
        "key": "aa" * 131,
        "data": "54657374205573696e67204c6172676572205468616e20426c6f636b2d53697a"
        "65204b6579202d2048617368204b6579204669727374",
        "text": "Test Using Larger Than Block-Size Key - Hash Key First",
        "hmac_sha256": "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    },
    {
        "case": 7,
        "key": "aa" * 131,
        "data": "5468697320697320612074657374207573696e672061206c6172676572207468"
        "616e20626c6f636b2d73697a65206b657920616e642061206c61726765722074"
        "68616e20626c6f636b2d73697a6520646174612e20546865206b6579206e6565"
        "647320746f20626520686173686564206265666f7265206265696e6720757365"
        "642062792074686520484d414320616c676f726974686d2e",
        "text": "This is a test using a larger than block-size key and a larger than "
        "block-size data. The key needs to be hashed before being used by the HMAC "
        "algorithm.",
        "hmac_sha256": "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    },
]


def flip_bit(hex_tag: str, byte_index: int, bit: int) -> str:
    raw = bytearray(bytes.fromhex(hex_tag))
    raw[byte_index] ^= 1 << bit
    return raw.hex()


def hmac_case(ids: TcIds, comment: str, key: str, msg: str, tag: str, expect: str,
              **extra) -> dict:
    """One HMAC case; the expectation is re-derived from the two HMAC oracles."""
    actual = mac(bytes.fromhex(key), bytes.fromhex(msg))
    presented = bytes.fromhex(tag)
    if len(presented) != 32:
        faults = {"invalid_signature_encoding"}
    elif presented != actual:
        faults = {"signature_mismatch"}
    else:
        faults = set()
    check_faults(faults, expect, comment)
    return {"tcId": ids.next(), "comment": comment, "key": key, "msg": msg, "tag": tag,
            **extra, **outcome(expect)}


def build_rfc4231() -> dict:
    ids, tests, full = TcIds(), [], {}
    for tv in RFC4231:
        key, data = bytes.fromhex(tv["key"]), bytes.fromhex(tv["data"])
        if tv["text"] is not None and data != tv["text"].encode("ascii"):
            raise VectorError(f"RFC 4231 case {tv['case']}: data hex is not its text")
        tag = mac(key, data).hex()
        published = tv["hmac_sha256"]
        extra = {}
        if tv["case"] == 5:
            if not tag.startswith(published) or len(published) != 32:
                raise VectorError("RFC 4231 case 5: published value is not the tag's prefix")
            extra = {"truncated_bits": 128}
        elif tag != published:
            raise VectorError(f"RFC 4231 case {tv['case']}: python hmac disagrees with RFC")
        full[tv["case"]] = tv["key"], tv["data"], tag
        comment = f"RFC 4231 test case {tv['case']}"
        if tv["case"] == 5:
            comment += " (RFC publishes the first 128 bits; tag here is the full 256-bit output)"
        tests.append(hmac_case(ids, comment, tv["key"], tv["data"], tag, VALID, **extra))

    # Block-size boundaries and an empty message (not in the RFC: both oracles only).
    for n in (63, 64, 65):
        key = bytes(range(1, n + 1)).hex()
        msg = b"apisig block-size boundary".hex()
        tag = mac(bytes.fromhex(key), bytes.fromhex(msg)).hex()
        tests.append(hmac_case(ids, f"key of {n} bytes (block size is 64); not from the RFC",
                               key, msg, tag, VALID))
    key = b"key".hex()
    tag = mac(b"key", b"").hex()
    tests.append(hmac_case(ids, "empty message; not from the RFC", key, "", tag, VALID))

    k1, m1, t1 = full[1]
    k2, m2, t2 = full[2]
    k5, m5, t5 = full[5]
    k6, m6, t6 = full[6]
    invalid = [
        ("case 1 with the lowest bit of the first tag byte flipped", k1, m1,
         flip_bit(t1, 0, 0), "signature_mismatch"),
        ("case 2 with the highest bit of the last tag byte flipped", k2, m2,
         flip_bit(t2, 31, 7), "signature_mismatch"),
        ("case 6 (hashed long key) with a bit in the middle of the tag flipped", k6, m6,
         flip_bit(t6, 16, 3), "signature_mismatch"),
        ("case 2 tag over a message with one bit flipped", k2,
         flip_bit(m2, 0, 5), t2, "signature_mismatch"),
        ("case 2 tag under the key 'jefe' instead of 'Jefe'", b"jefe".hex(), m2, t2,
         "signature_mismatch"),
        ("case 1 message, all-zero 32-byte tag", k1, m1, "00" * 32, "signature_mismatch"),
        ("case 1 tag truncated to 31 bytes", k1, m1, t1[:62], "invalid_signature_encoding"),
        ("case 1 tag with an extra zero byte (33 bytes)", k1, m1, t1 + "00",
         "invalid_signature_encoding"),
        ("case 5 tag as the RFC publishes it, truncated to 128 bits: truncated tags are "
         "not accepted", k5, m5, t5[:32], "invalid_signature_encoding"),
        ("case 1, empty tag", k1, m1, "", "invalid_signature_encoding"),
    ]
    for comment, key, msg, tag, error in invalid:
        tests.append(hmac_case(ids, comment, key, msg, tag, error))

    return {
        **file_header(
            "HMAC-SHA256 test vectors: RFC 4231 test cases 1-7 (checked against both the RFC's "
            "published values and Python's hmac), a few block-size boundary cases, and tags "
            "that must be refused.",
            [
                "key, msg and tag are lowercase hex. A valid case's tag is the full 32-byte "
                "HMAC-SHA256.",
                "RFC 4231 case 5 publishes only the first 128 bits; here tag is the full "
                "output and truncated_bits: 128 records that the RFC's value is its prefix.",
                "A tag that is not exactly 32 bytes is invalid_signature_encoding; a 32-byte "
                "tag that differs is signature_mismatch.",
            ],
        ),
        "algorithm": "HMAC-SHA256",
        "tests": tests,
    }
