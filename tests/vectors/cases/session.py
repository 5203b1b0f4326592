"""session.json: APEX session token (aptoken) cases."""

from __future__ import annotations

from oracles.base64url import b64url, b64url_decode
from oracles.common import U64_MAX, VALID, VectorError
from oracles.hmac_sha256 import mac
from oracles.session_token import (
    SESSION_LABEL,
    SESSION_TOKEN_MAX,
    is_session_id,
    session_payload,
    session_tag,
    session_verify,
)

from .common import TcIds, file_header, outcome
from .jwt import jwt_claims_at, jwt_make
from .sign import APEX_KEY, APEX_SESSION_TOKEN
from .tokens import (
    b64_length_1_mod_4,
    b64_padded,
    b64_std_alphabet,
    b64_unused_bits,
    b64_with_space,
    check_one,
    first_matching,
)

S_NOW = 1700000000
S_EXP = S_NOW + 3600
S_PRIMARY = "apisig-session-primary-2024-Qm8vT3xK"
S_SECONDARY = "apisig-session-secondary-2023-Lr5wN9pD"
S_USER = "12345"
S_KEY = APEX_KEY
PRINTABLE = "".join(chr(c) for c in range(0x21, 0x7F))


def s_payload(user_id=S_USER, key_id=S_KEY, expires=S_EXP, version=1) -> bytes:
    u = user_id if isinstance(user_id, bytes) else user_id.encode("ascii")
    k = key_id if isinstance(key_id, bytes) else key_id.encode("ascii")
    return session_payload(u, k, expires, version)


def s_token(payload: bytes, secret: str = S_PRIMARY, label: bytes = SESSION_LABEL) -> str:
    """b64url(payload) '.' b64url(tag), the tag from both HMAC oracles."""
    tag = mac(secret.encode("utf-8"), label + payload)
    if label == SESSION_LABEL and tag != session_tag(secret.encode("utf-8"), payload):
        raise VectorError("session tag: HMAC oracles disagree")
    return b64url(payload) + "." + b64url(tag)


class SessionBook:
    def __init__(self) -> None:
        self.ids = TcIds()
        self.tests: list = []
        self.issue: list = []

    def verify(self, comment: str, token: str, expect: str = VALID, *, now: int = S_NOW,
               primary: str = S_PRIMARY, secondary: str | None = S_SECONDARY) -> None:
        faults, session = session_verify(
            primary.encode("utf-8"), None if secondary is None else secondary.encode("utf-8"),
            token, now)
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, "primary": primary,
                "secondary": secondary, "now": now, "token": token}
        if expect == VALID:
            case["session"] = session
        case.update(outcome(expect))
        self.tests.append(case)

    def make(self, comment: str, user_id: str, key_id: str, expires: int,
             expect: str = VALID, *, primary: str = S_PRIMARY) -> None:
        faults = [] if primary else ["empty_secret"]
        u, k = user_id.encode("utf-8"), key_id.encode("utf-8")
        if not all(is_session_id(x) for x in (u, k)):
            raise VectorError(f"{comment}: issue cases keep ids valid")
        check_one(faults, expect, comment)
        case = {"tcId": self.ids.next(), "comment": comment, "primary": primary,
                "user_id": user_id, "key_id": key_id, "expires": expires}
        if expect == VALID:
            token = s_token(s_payload(user_id, key_id, expires), primary)
            back, session = session_verify(primary.encode(), None, token, 0)
            want = {"user_id": user_id, "key_id": key_id, "expires": expires,
                    "slot": "primary"}
            if expires > 0 and (back or session != want):
                raise VectorError(f"{comment}: issued token does not verify back")
            case["token"] = token
        case.update(outcome(expect))
        self.issue.append(case)


def session_valid_cases(book: SessionBook) -> None:
    ok_p = s_token(s_payload())
    book.verify("signed with the primary secret", ok_p)
    book.verify("signed with the primary secret, no secondary configured", ok_p,
                secondary=None)
    book.verify("signed with the secondary secret (rotation): slot secondary",
                s_token(s_payload(), S_SECONDARY))
    book.verify("user id and key id of 1 byte", s_token(s_payload("7", "k")))
    book.verify("user id and key id of 64 bytes (the most): the longest token, 230 bytes",
                s_token(s_payload("u" * 64, "k" * 64)))
    book.verify("ids spanning printable ASCII ('!' and '~' at the edges, '.' inside)",
                s_token(s_payload(PRINTABLE[:64], PRINTABLE[30:])))
    book.verify("one second before expiry", ok_p, now=S_EXP - 1)
    book.verify("expires = u64::MAX", s_token(s_payload(expires=U64_MAX)))
    book.verify("non-ASCII secret text (used as its UTF-8 bytes); expires 1 at now 0",
                s_token(s_payload(expires=1), "\u00e9t\u00e9 \u2603 secret"),
                primary="\u00e9t\u00e9 \u2603 secret", now=0)
    for n in (1, 2, 3):
        payload = s_payload("u" * n, "k" * 32)
        book.verify(f"payload of {len(payload)} bytes ({len(payload) % 3} mod 3)",
                    s_token(payload))


def session_invalid_cases(book: SessionBook) -> None:
    good = s_token(s_payload())
    p64, t64 = good.split(".")
    tag = b64url_decode(t64)
    book.verify("now equal to expires", good, "token_expired", now=S_EXP)
    book.verify("one second after expiry", good, "token_expired", now=S_EXP + 1)
    book.verify("expires 0", s_token(s_payload(expires=0)), "token_expired")
    book.verify("signed with the secondary secret, none configured",
                s_token(s_payload(), S_SECONDARY), "signature_mismatch", secondary=None)
    book.verify("signed with an unrelated secret", s_token(s_payload(), "not-the-secret"),
                "signature_mismatch")
    book.verify("primary and secondary swapped between two servers: a third secret",
                s_token(s_payload(), S_PRIMARY + "-other-server"), "signature_mismatch")
    book.verify("tag without the domain label (HMAC of the payload alone)",
                s_token(s_payload(), label=b""), "signature_mismatch")
    book.verify("label without its NUL byte", s_token(s_payload(), label=b"apisig-session-v1"),
                "signature_mismatch")
    book.verify("tag over the payload's base64url text instead of its bytes",
                p64 + "." + b64url(mac(S_PRIMARY.encode(), SESSION_LABEL + p64.encode())),
                "signature_mismatch")
    for field, changed in [("expires extended by a day", s_payload(expires=S_EXP + 86400)),
                           ("user id changed", s_payload(user_id="12346")),
                           ("key id changed", s_payload(key_id=S_KEY[:-1] + "2"))]:
        book.verify(f"payload tampered ({field}), original tag kept",
                    b64url(changed) + "." + t64, "signature_mismatch")
    flipped = bytearray(tag)
    flipped[0] ^= 0x01
    book.verify("tag with one bit flipped", f"{p64}.{b64url(bytes(flipped))}",
                "signature_mismatch")
    book.verify("all-zero tag", f"{p64}.{b64url(bytes(32))}", "signature_mismatch")
    book.verify("tag of another valid token", f"{p64}." + s_token(s_payload("99")).split(".")[1],
                "signature_mismatch")
    book.verify("empty primary secret", good, "empty_secret", primary="")
    book.verify("empty secondary secret (null means none; empty is refused)", good,
                "empty_secret", secondary="")


def session_malformed_cases(book: SessionBook) -> None:
    good = s_token(s_payload())
    p64, t64 = good.split(".")
    tag = b64url_decode(t64)
    for token, why in [("", "empty token"), (".", "two empty parts"), (p64, "no dot"),
                       (f"{p64}.", "empty tag"),
                       ("." + b64url(mac(S_PRIMARY.encode(), SESSION_LABEL)),
                        "empty payload (tag valid)"),
                       (f"{good}.{t64}", "three parts"), (f"{p64}..{t64}", "empty middle part"),
                       (jwt_make(jwt_claims_at()), "a JWT"),
                       (APEX_SESSION_TOKEN, "an opaque UUID session token")]:
        book.verify(f"structure: {why}", token, "token_malformed")
    book.verify("tag of 31 bytes", f"{p64}.{b64url(tag[:31])}", "token_malformed")
    book.verify("tag of 33 bytes", f"{p64}.{b64url(tag + bytes(1))}", "token_malformed")
    book.verify("tag as hex", f"{p64}.{tag.hex()}", "token_malformed")

    # Base64url faults, payload and tag; each token is otherwise valid.
    alt = first_matching(lambda i: s_token(s_payload(user_id="123456", expires=S_EXP + i)),
                         lambda t: len(t.split(".")[0]) % 4 in (2, 3)
                         and any(c in t.split(".")[0] for c in "-_")
                         and any(c in t.split(".")[1] for c in "-_"),
                         "session token with '-' or '_' in both parts and unused bits")
    a64, b64 = alt.split(".")
    book.verify("the base of the next cases: both parts hold '-' or '_'", alt, now=S_NOW)
    for why, change in [("padded with '='", b64_padded),
                        ("in the standard alphabet ('+' '/')", b64_std_alphabet),
                        ("with a non-zero unused trailing bit", b64_unused_bits),
                        ("with a space inside", b64_with_space),
                        ("of length 1 mod 4", b64_length_1_mod_4)]:
        book.verify(f"payload part {why}", f"{change(a64)}.{b64}", "token_malformed")
        book.verify(f"tag part {why}", f"{a64}.{change(b64)}", "token_malformed")
    book.verify("trailing newline", alt + "\n", "token_malformed")

    # Payloads that decode but do not parse, each signed correctly with the primary.
    u, k = S_USER.encode(), S_KEY.encode()
    exp8 = S_EXP.to_bytes(8, "big")
    payloads = [
        (s_payload(version=0), "version 0"),
        (s_payload(version=2), "version 2"),
        (s_payload(version=0xFF), "version 0xff"),
        (b"", "empty payload"),
        (b"\x01", "version only"),
        (b"\x01" + exp8, "version and expires only"),
        (b"\x01" + exp8 + bytes([len(u)]) + u, "no key id length byte"),
        (b"\x01" + exp8 + bytes([len(u)]) + u + bytes([len(k)]) + k[:-1],
         "key id shorter than its length byte"),
        (b"\x01" + exp8 + bytes([60]) + u + bytes([len(k)]) + k,
         "user id length byte larger than what follows"),
        (s_payload() + b"\x00", "one trailing byte after the key id"),
        (s_payload() + s_payload(), "two payloads back to back"),
        (s_payload(user_id=b""), "user id of 0 bytes"),
        (s_payload(user_id="u" * 65), "user id of 65 bytes"),
        (s_payload(key_id=b""), "key id of 0 bytes"),
        (s_payload(key_id="k" * 65), "key id of 65 bytes"),
        (s_payload(user_id="123 45"), "user id with a space"),
        (s_payload(user_id="12345\x7f"), "user id with DEL"),
        (s_payload(user_id="12\x0045"), "user id with NUL"),
        (s_payload(user_id="caf\u00e9".encode()), "user id with UTF-8 '\u00e9'"),
        (s_payload(key_id=S_KEY + "\n"), "key id with LF"),
        (s_payload(key_id=b"\x80" * 4), "key id of bytes >= 0x80"),
    ]
    for payload, why in payloads:
        book.verify(f"payload: {why} (tag valid)", s_token(payload), "token_malformed")

    # Length limit: 256 bytes is still parsed; 257 is refused before anything else.
    long_payload = s_payload("u" * 64, "k" * 64) + b"\x00" * 20
    at_limit = s_token(long_payload)
    if len(at_limit) != 256:
        raise VectorError("session: the at-limit token is not 256 bytes")
    book.verify("256 bytes (the limit), trailing bytes after the key id: parsed, malformed",
                at_limit, "token_malformed")
    book.verify("257 bytes: refused on length alone", at_limit + "A", "token_too_long")
    book.verify("garbage of 4096 bytes", "A" * 4096, "token_too_long")


def session_issue_cases(book: SessionBook) -> None:
    book.make("user 12345, APEX key id, expires in an hour", S_USER, S_KEY, S_EXP)
    book.make("ids of 1 byte", "7", "k", S_EXP)
    book.make("ids of 64 bytes", "u" * 64, PRINTABLE[-64:], S_EXP)
    book.make("expires u64::MAX", "alice@example.com", "key-2", U64_MAX)
    book.make("expires 0 (already expired, still issued)", S_USER, S_KEY, 0)
    book.make("another primary secret", S_USER, S_KEY, S_EXP, primary=S_SECONDARY)
    book.make("empty primary secret", S_USER, S_KEY, S_EXP, "empty_secret", primary="")


def build_session() -> dict:
    book = SessionBook()
    session_valid_cases(book)
    session_invalid_cases(book)
    session_malformed_cases(book)
    session_issue_cases(book)
    return {
        **file_header(
            "APEX session tokens (aptoken), stateless: verification against a primary and "
            "an optional secondary server secret, and issue cases whose exact token an "
            "implementation must produce.",
            [
                "token = base64url(payload) '.' base64url(tag), canonical unpadded base64url "
                "(no '=', '+', '/', whitespace, length 1 mod 4, or non-zero unused bits).",
                "payload = 0x01 (version) || expires (u64 big-endian, UNIX seconds) || "
                "len(user_id) (1 byte) || user_id || len(key_id) (1 byte) || key_id; ids "
                "are 1..=64 bytes of printable ASCII 0x21-0x7e; nothing may follow key_id.",
                "tag = HMAC-SHA256(secret, b'apisig-session-v1\\x00' || payload); issued "
                "with the primary secret; verification tries the primary, then the "
                "secondary, and reports the slot that matched.",
                "tests: primary (text), secondary (text or null: none), now (UNIX seconds), "
                "token; a valid case gives session {user_id, key_id, expires, slot}.",
                "Errors: an empty primary or secondary secret: empty_secret (checked first); "
                "a token longer than 256 bytes: token_too_long (checked next, before "
                "anything else); wrong parts, base64url, version, lengths, trailing bytes, "
                "bytes outside 0x21-0x7e, a tag not of 32 bytes: token_malformed; a tag "
                "matching neither secret: signature_mismatch; now >= expires: "
                "token_expired. Past the first two, every check an invalid case fails gives "
                "the declared error (malformed payloads carry a correct tag), so whether "
                "the tag is checked before or after parsing never changes the error.",
                "issue: primary, user_id, key_id, expires -> token, exactly.",
                "tcIds are unique across tests and issue.",
            ],
        ),
        "label_hex": SESSION_LABEL.hex(),
        "max_token_len": SESSION_TOKEN_MAX,
        "tests": book.tests,
        "issue": book.issue,
    }
