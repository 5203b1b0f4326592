"""introspection.json: RFC 7662 introspection answers and what a resource server makes of
them (the claims of an active token, how long to keep it, or the one error)."""

from __future__ import annotations

import json

from oracles.common import VALID, VectorError
from oracles.introspect import INTROSPECTION_MAX, cache_seconds, judge

from .common import TcIds, file_header, outcome

NOW = 1700000000
ISS = "http://127.0.0.1:3000"
AUD = "https://api.example.test/opaque"
MAX_CACHE = 300
REPORTED = ("client_id", "sub", "scope", "exp", "iss", "aud")


def _expected(audience: str | None = AUD, leeway_s: int = 0) -> dict:
    return {"issuer": ISS, "audience": audience, "leeway_s": leeway_s}


# What node-oidc-provider 9 answers for an opaque client-credentials token (its members, in
# its order), and a Keycloak-style answer with nested members apisig does not read.
NODE = {"active": True, "client_id": "client-basic", "exp": NOW + 600, "iat": NOW - 600,
        "iss": ISS, "scope": "payments:read", "token_type": "Bearer", "aud": AUD}
KEYCLOAK = {"exp": NOW + 60, "iat": NOW - 240, "jti": "0b5b8c1e", "iss": ISS, "aud": ["account", AUD],
            "sub": "4f1c2a", "typ": "Bearer", "azp": "zs-client", "realm_access": {"roles": ["a", "b"]},
            "resource_access": {"account": {"roles": ["view-profile"]}}, "scope": "profile email",
            "email_verified": False, "clientHost": "10.0.0.7", "client_id": "zs-client", "username": "svc",
            "active": True}


def build_introspect() -> dict:
    ids = TcIds()
    tests: list = []

    def case(comment: str, expect: str, body: str | dict, expected: dict | None = None, now: int = NOW) -> None:
        text = body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
        expected = expected or _expected()
        faults, claims = judge(text.encode(), expected, now)
        if faults != (set() if expect == VALID else {expect}):
            raise VectorError(f"introspection.json {comment}: declared {expect!r}, reference found {sorted(faults)}")
        t = {"tcId": ids.next(), "comment": comment, "body": text, "expected": expected, "now": now,
             "max_cache_s": MAX_CACHE, **outcome(expect)}
        if expect == VALID:
            t["claims"] = {k: claims.get(k) for k in REPORTED}
            t["claims"]["aud"] = claims.get("aud", [])
            t["cache_s"] = cache_seconds(claims, now, MAX_CACHE)
        tests.append(t)

    case("node-oidc-provider's answer", VALID, NODE)
    case("node-oidc-provider's answer, exp sooner than the cache limit", VALID, NODE, now=NOW + 500)
    case("Keycloak-style answer: aud a list, nested members ignored", VALID, KEYCLOAK)
    case("only active (no audience expected)", VALID, {"active": True}, _expected(None))
    case("no iss: optional in RFC 7662", VALID, {k: v for k, v in NODE.items() if k != "iss"})
    case("exp passed but inside the leeway", VALID, NODE, _expected(leeway_s=10), now=NOW + 605)
    case("whitespace around and inside", VALID, ' \n{ "active" : true ,\t"aud" : "' + AUD + '" }\r\n')
    case("client_id and scope of another type are not reported", VALID,
         {"active": True, "aud": AUD, "client_id": 7, "scope": ["a", "b"]})
    case("escapes in a string value are kept as written", VALID,
         '{"active":true,"aud":"' + AUD + '","sub":"J\\u00fcrgen"}')

    case("active false", "token_inactive", {"active": False})
    case("active false, with claims", "token_inactive", {**NODE, "active": False})

    case("empty body", "introspection_malformed", "")
    case("not JSON", "introspection_malformed", "<html>502 Bad Gateway</html>")
    case("an array, not an object", "introspection_malformed", "[true]")
    case("no active member", "introspection_malformed", {"client_id": "c", "aud": AUD})
    case("active as a string", "introspection_malformed", {"active": "true"})
    case("active null", "introspection_malformed", {"active": None})
    case("exp as a string", "introspection_malformed", {**NODE, "exp": str(NOW + 600)})
    case("exp negative", "introspection_malformed", {**NODE, "exp": -1})
    case("exp with a fraction", "introspection_malformed", '{"active":true,"exp":1700000600.5}')
    case("exp with an exponent", "introspection_malformed", '{"active":true,"exp":17e8}')
    case("exp above 2^64", "introspection_malformed", '{"active":true,"exp":18446744073709551616}')
    case("iss a number", "introspection_malformed", {**NODE, "iss": 3000})
    case("aud a number", "introspection_malformed", {**NODE, "aud": 1})
    case("aud holding a number", "introspection_malformed", {**NODE, "aud": [AUD, 1]})
    case("nine audiences", "introspection_malformed", {**NODE, "aud": [f"a{i}" for i in range(8)] + [AUD]})
    case("a bad literal in a member apisig does not read", "introspection_malformed",
         '{"active":true,"aud":"' + AUD + '","x":tru}')
    case("text after the object", "introspection_malformed", '{"active":true} {}')
    case("an escaped member name", "introspection_malformed", '{"\\u0061ctive":true,"aud":"' + AUD + '"}')
    case("33 members", "introspection_malformed", {"active": True, "aud": AUD, **{f"m{i}": i for i in range(31)}})
    case("longer than 16 KiB", "introspection_malformed",
         {"active": True, "aud": AUD, "pad": "x" * INTROSPECTION_MAX})
    case("active twice", "duplicate_field", '{"active":true,"aud":"' + AUD + '","active":true}')

    case("exp now", "token_expired", NODE, now=NOW + 600)
    case("exp one second past the leeway", "token_expired", NODE, _expected(leeway_s=10), now=NOW + 610)
    case("nbf in the future", "token_not_yet_valid", {**NODE, "nbf": NOW + 1})
    case("iat in the future", "token_not_yet_valid", {**NODE, "iat": NOW + 1})
    case("iss with a trailing slash", "issuer_mismatch", {**NODE, "iss": ISS + "/"})
    case("aud of another resource", "audience_mismatch", {**NODE, "aud": "https://api.example.test/ES256"})
    case("no aud, one expected", "audience_mismatch", {k: v for k, v in NODE.items() if k != "aud"})

    notes = [
        "body: the introspection endpoint's answer (RFC 7662 §2.2), as text. expected: the issuer "
        "(an iss in the answer must equal it), the audience (when not null, aud must contain it) "
        "and the leeway in seconds on exp/nbf/iat. now: seconds since the epoch.",
        "Valid cases give the claims reported (strings as their raw JSON text; aud always a list) "
        "and cache_s: how long the answer may be kept with max_cache_s, never past exp.",
        "Stages, the first fault deciding: shape (introspection_malformed: not one JSON object, "
        "active missing or not a boolean, a registered claim of the wrong type, more than 32 "
        "members or 8 audiences, longer than 16 KiB; duplicate_field), active (token_inactive), "
        "time (token_expired, token_not_yet_valid), iss (issuer_mismatch), aud (audience_mismatch).",
    ]
    return {**file_header("RFC 7662 introspection answers judged by a resource server", notes),
            "tests": tests}
