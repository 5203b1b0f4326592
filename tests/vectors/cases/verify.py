"""verify.json: server-side cases, each a verifier run through steps by the reference
verifier."""

from __future__ import annotations

import base64
import json

from oracles.common import NS_PER_S, U64_MAX, VALID, VectorError
from oracles.hmac_sha256 import mac
from oracles.verifier import RefVerifier

from .common import TcIds, check_faults, derived_hex, file_header, outcome
from .sign import (
    AEVO_EXAMPLE_TS,
    APEX_KEY,
    APEX_SECRET,
    APEX_SESSION_TOKEN,
    JWT,
    SECUROSYS_KEYS,
    SIGNIUS_SEED_KEY,
    ZIGNSEC_PRIMARY,
    ZIGNSEC_SECONDARY,
    req,
)

NOW = 1700000000000000000
WINDOW_S = 300
WNS = WINDOW_S * NS_PER_S


def client(cid: str, secret=None, secret_hex=None, secondary_secret=None, key=None,
           secondary_key=None, role=None, user_id=None) -> dict:
    out = {"id": cid}
    if secret_hex is not None:
        out["secret_hex"] = secret_hex
    else:
        out["secret"] = secret
    out.update(secondary_secret=secondary_secret, key=key, secondary_key=secondary_key,
               role=role, user_id=user_id)
    return out


def ok(cid: str, slot: str = "primary", role: str | None = None) -> dict:
    return {"id": cid, "slot": slot, "role": role}


def step(comment: str, now_ns: int, request: dict, expect, authorize: bool = False) -> dict:
    return {"comment": comment, "now_ns": now_ns, "request": request, "authorize": authorize,
            "expect": expect}


def verify_case(ids: TcIds, roles: dict, comment: str, scheme: str, keyring: list,
                steps: list, window_s: int = WINDOW_S, replay_capacity: int = 64) -> dict:
    ref = RefVerifier(scheme, keyring, window_s, replay_capacity, roles)
    out_steps = []
    for n, s in enumerate(steps, 1):
        faults, principal = ref.step(s["now_ns"], s["request"], s["authorize"])
        where = f"{comment} / step {n}: {s['comment']}"
        expect = s["expect"]
        if isinstance(expect, dict):
            check_faults(faults, VALID, where)
            if principal != expect:
                raise VectorError(f"{where}: principal {principal} != declared {expect}")
            result = {"result": "valid", "principal": principal}
        else:
            check_faults(faults, expect, where)
            result = outcome(expect)
        out_steps.append({k: v for k, v in s.items() if k != "expect"} | result)
    return {"tcId": ids.next(), "comment": comment, "scheme": scheme, "keyring": keyring,
            "window_s": window_s, "replay_capacity": replay_capacity, "steps": out_steps}


def aevo_sig(secret: bytes, key_id: str, ts_text: str, method: str, path: str,
             body: bytes) -> str:
    message = b",".join([key_id.encode(), ts_text.encode(), method.encode(), path.encode(), body])
    return mac(secret, message).hex()


def aevo_req(secret: bytes, key_id: str, ts, method: str, path: str, body: str = "", *,
             sign_method=None, sign_path=None, sign_body=None, sign_ts=None,
             sig=None, body_hex=None) -> dict:
    """A request as received; the signature covers the sign_* values where given
    (to model tampering), else the received ones."""
    ts_text = ts if isinstance(ts, str) else str(ts)
    raw_body = bytes.fromhex(body_hex) if body_hex is not None else body.encode()
    if sig is None:
        sig = aevo_sig(secret,
                       key_id,
                       ts_text if sign_ts is None else str(sign_ts),
                       method if sign_method is None else sign_method,
                       path if sign_path is None else sign_path,
                       raw_body if sign_body is None else sign_body.encode())
    headers = [["AEVO-TIMESTAMP", ts_text], ["AEVO-SIGNATURE", sig], ["AEVO-KEY", key_id]]
    return req(method, path, body, body_hex=body_hex, headers=headers)


def with_headers(request: dict, headers: list) -> dict:
    return dict(request, headers=headers)


def replace_header(request: dict, name: str, value: str) -> dict:
    return with_headers(request, [[n, value if n == name else v] for n, v in request["headers"]])


def static_cases(ids: TcIds, roles: dict) -> list:
    other = "q8ZtR2vLx0NcB7mW4kYp1HsJ9dFg3AeU6oIi5TrEwQyXzVb2CnMlKjHg8FdSa0Pq"
    ring = [client("acme-prod", key=SIGNIUS_SEED_KEY, secondary_key=other),
            client("acme-ci", key="ci-" + SIGNIUS_SEED_KEY[3:])]
    g = "/api/v1/documents"

    def si(headers):
        return req("GET", g, headers=headers)

    k = SIGNIUS_SEED_KEY
    out = [
        verify_case(ids, roles, "SIGNIUS static key: matching, header-name case, wrong keys",
                    "signius", ring, [
                        step("the seed's key, canonical header name", NOW,
                             si([["X-Api-Key", k]]), ok("acme-prod")),
                        step("header name lowercase", NOW, si([["x-api-key", k]]),
                             ok("acme-prod")),
                        step("header name uppercase", NOW, si([["X-API-KEY", k]]),
                             ok("acme-prod")),
                        step("secondary key of the same client", NOW,
                             si([["X-Api-Key", other]]), ok("acme-prod", "secondary")),
                        step("key of the second client", NOW,
                             si([["X-Api-Key", "ci-" + k[3:]]]), ok("acme-ci")),
                        step("static keys are not replay-protected: same request again",
                             NOW, si([["X-Api-Key", k]]), ok("acme-prod")),
                        step("unregistered key", NOW,
                             si([["X-Api-Key", "0" * 64]]), "unknown_key"),
                        step("key missing its last character (prefix)", NOW,
                             si([["X-Api-Key", k[:-1]]]), "unknown_key"),
                        step("key with one extra character", NOW,
                             si([["X-Api-Key", k + "x"]]), "unknown_key"),
                        step("key with one letter's case changed", NOW,
                             si([["X-Api-Key", k[:1] + k[1].swapcase() + k[2:]]]), "unknown_key"),
                        step("both keys concatenated", NOW,
                             si([["X-Api-Key", k + other]]), "unknown_key"),
                        step("header absent (key sent in another header)", NOW,
                             si([["Authorization", k]]), "missing_credential"),
                        step("no headers at all", NOW, si([]), "missing_credential"),
                        step("header twice with the same value", NOW,
                             si([["X-Api-Key", k], ["X-Api-Key", k]]), "duplicate_header"),
                        step("header twice, names differing in case, second value unknown",
                             NOW, si([["X-Api-Key", k], ["x-api-key", "0" * 64]]),
                             "duplicate_header"),
                    ]),
    ]

    sec_ring = [client(f"tsb-{role}", key=key, role=role)
                for role, key in SECUROSYS_KEYS.items()]
    sec_ring[1]["secondary_key"] = "tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6"

    def sx(key, path="/v1/versionInfo", method="GET", name="X-API-KEY"):
        return req(method, path, headers=[[name, key]])

    ko = SECUROSYS_KEYS["keyOperationToken"]
    steps = [step(f"{role} key resolves to its role", NOW, sx(key), ok(f"tsb-{role}", role=role))
             for role, key in SECUROSYS_KEYS.items()]
    steps += [
        step("keyOperationToken secondary (rolled-over) key", NOW,
             sx("tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6"), ok("tsb-keyOperationToken", "secondary",
                                                     "keyOperationToken")),
        step("header name in lowercase", NOW, sx(ko, name="x-api-key"),
             ok("tsb-keyOperationToken", role="keyOperationToken")),
        step("unknown key", NOW, sx("tsb-ko-guess"), "unknown_key"),
        step("key of a role sent in the SIGNIUS header name spelling matches too (names "
             "are case-insensitive)", NOW, sx(ko, name="X-Api-Key"),
             ok("tsb-keyOperationToken", role="keyOperationToken")),
        step("X-API-KEY missing", NOW, req("GET", "/v1/versionInfo",
                                            headers=[["Authorization", "Bearer " + JWT]]),
             "missing_credential"),
    ]
    out.append(verify_case(ids, roles, "Securosys TSB API keys: key to role (no authorization)",
                           "securosys", sec_ring, steps))

    def auth(comment, key, path, expect, method="POST"):
        return step(comment, NOW, sx(key, path, method), expect, authorize=True)

    km = SECUROSYS_KEYS["keyManagementToken"]
    ap = SECUROSYS_KEYS["approverToken"]
    sv = SECUROSYS_KEYS["serviceToken"]
    akm = SECUROSYS_KEYS["approverKeyManagementToken"]
    kop = ok("tsb-keyOperationToken", role="keyOperationToken")
    out.append(verify_case(ids, roles, "Securosys TSB: authentication plus role authorization "
                           "against the default role table", "securosys", sec_ring, [
        auth("keyOperationToken on /v1/sign", ko, "/v1/sign", kop),
        auth("keyOperationToken on /v1/sign with a query string", ko,
             "/v1/sign?requestId=42", kop),
        auth("keyOperationToken on /v1/key (key management)", ko, "/v1/key", "forbidden"),
        auth("keyOperationToken on /v1/../v1/key (dot segment)", ko, "/v1/../v1/key",
             "non_canonical_path"),
        auth("keyOperationToken on /v1/certificate/../key (pattern-prefix bypass)", ko,
             "/v1/certificate/../key", "non_canonical_path"),
        auth("keyOperationToken secondary key on /v1/decrypt", "tsb-ko-next-1Qa2Ws3Ed4Rf5Tg6",
             "/v1/decrypt", ok("tsb-keyOperationToken", "secondary", "keyOperationToken")),
        auth("approverToken on /v1/filteredXYZApprovalTask", ap, "/v1/filteredXYZApprovalTask",
             ok("tsb-approverToken", role="approverToken"), "GET"),
        auth("approverToken on /v1/filteredRequests (keyOperationToken's)", ap,
             "/v1/filteredRequests", "forbidden", "GET"),
        auth("keyManagementToken on /v1/key/my-key/attributes", km,
             "/v1/key/my-key/attributes", ok("tsb-keyManagementToken",
                                              role="keyManagementToken"), "GET"),
        auth("keyManagementToken on /v1/keystore/statistics (prefix confusion)", km,
             "/v1/keystore/statistics", "forbidden", "GET"),
        auth("serviceToken on /v1/hsm/log/../../key", sv, "/v1/hsm/log/../../key",
             "non_canonical_path", "GET"),
        auth("serviceToken on /v1/hsm/log/2024-01-01", sv, "/v1/hsm/log/2024-01-01",
             ok("tsb-serviceToken", role="serviceToken"), "GET"),
        auth("approverKeyManagementToken on /v1/approverManagement/approvers", akm,
             "/v1/approverManagement/approvers",
             ok("tsb-approverKeyManagementToken", role="approverKeyManagementToken")),
        auth("approverKeyManagementToken on /v1/approval", akm, "/v1/approval", "forbidden"),
        auth("unknown key on an allowed-looking path", "tsb-ko-guess", "/v1/sign",
             "unknown_key"),
        auth("keyOperationToken on /v1/sign%2f..%2fkey (encoded slash)", ko,
             "/v1/sign%2f..%2fkey", "non_canonical_path"),
    ]))

    zs_ring = [client("zs-customer", key=ZIGNSEC_PRIMARY, secondary_key=ZIGNSEC_SECONDARY)]
    zp = "/core/api/sessions"
    out.append(verify_case(ids, roles, "ZignSec default scheme: primary and secondary keys",
                           "zignsec", zs_ring, [
        step("primary key", NOW, req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             ok("zs-customer")),
        step("secondary key", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("header name lowercase", NOW,
             req("POST", zp, headers=[["zs-product-key", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("unknown key", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", "f" * 32]]), "unknown_key"),
        step("legacy Authorization header on the default scheme", NOW,
             req("POST", zp, headers=[["Authorization", ZIGNSEC_PRIMARY]]),
             "missing_credential"),
        step("Zs-Product-Key twice (primary and secondary)", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY],
                                      ["Zs-Product-Key", ZIGNSEC_SECONDARY]]),
             "duplicate_header"),
    ]))
    out.append(verify_case(ids, roles, "ZignSec legacy scheme: raw key in Authorization",
                           "zignsec-legacy", zs_ring, [
        step("primary key", NOW, req("POST", zp, headers=[["Authorization", ZIGNSEC_PRIMARY]]),
             ok("zs-customer")),
        step("secondary key, header name lowercase", NOW,
             req("POST", zp, headers=[["authorization", ZIGNSEC_SECONDARY]]),
             ok("zs-customer", "secondary")),
        step("'Bearer <key>' is not the raw key", NOW,
             req("POST", zp, headers=[["Authorization", "Bearer " + ZIGNSEC_PRIMARY]]),
             "unknown_key"),
        step("only Zs-Product-Key present", NOW,
             req("POST", zp, headers=[["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             "missing_credential"),
    ]))
    out.append(verify_case(ids, roles, "ZignSec OAuth2: bearer tokens are not verified by the "
                           "core yet", "zignsec-oauth", zs_ring, [
        step("bearer token plus product key", NOW,
             req("POST", zp, headers=[["Authorization", "Bearer " + JWT],
                                      ["Zs-Product-Key", ZIGNSEC_PRIMARY]]),
             "unsupported_credential"),
    ]))
    out.append(verify_case(ids, roles, "Securosys TSB JWT: bearer tokens are not verified by "
                           "the core yet", "securosys-jwt", sec_ring, [
        step("bearer JWT", NOW, req("POST", "/v1/sign",
                                    headers=[["Authorization", "Bearer " + JWT]]),
             "unsupported_credential"),
    ]))
    out.append(verify_case(ids, roles, "APEX session token: not verified by the core yet",
                           "apex-session", [client(APEX_KEY, APEX_SECRET, user_id="12345")], [
        step("aptoken header", NOW, req("POST", "/GetAccountPositions",
                                        headers=[["aptoken", APEX_SESSION_TOKEN]]),
             "unsupported_credential"),
    ]))
    return out


def aevo_secret_cases(ids: TcIds, roles: dict) -> list:
    ring = [client("API_KEY", "API_SECRET", secondary_secret="API_SECRET_NEXT"),
            client("OTHER_KEY", "OTHER_SECRET")]

    def r(headers):
        return req("GET", "/account", headers=headers)

    return [verify_case(ids, roles, "Aevo key + secret headers", "aevo-secret", ring, [
        step("key and primary secret", NOW, r([["AEVO-KEY", "API_KEY"],
                                               ["AEVO-SECRET", "API_SECRET"]]), ok("API_KEY")),
        step("header names lowercase, reversed order", NOW,
             r([["aevo-secret", "API_SECRET"], ["aevo-key", "API_KEY"]]), ok("API_KEY")),
        step("secondary secret", NOW, r([["AEVO-KEY", "API_KEY"],
                                         ["AEVO-SECRET", "API_SECRET_NEXT"]]),
             ok("API_KEY", "secondary")),
        step("wrong secret", NOW, r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "API_SECRET_"]]),
             "secret_mismatch"),
        step("secret prefix", NOW, r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "API_SECRE"]]),
             "secret_mismatch"),
        step("secret case changed", NOW, r([["AEVO-KEY", "API_KEY"],
                                            ["AEVO-SECRET", "api_secret"]]), "secret_mismatch"),
        step("another client's secret under this key", NOW,
             r([["AEVO-KEY", "API_KEY"], ["AEVO-SECRET", "OTHER_SECRET"]]), "secret_mismatch"),
        step("the other client with its own secret", NOW,
             r([["AEVO-KEY", "OTHER_KEY"], ["AEVO-SECRET", "OTHER_SECRET"]]), ok("OTHER_KEY")),
        step("unknown key", NOW, r([["AEVO-KEY", "NO_SUCH_KEY"], ["AEVO-SECRET", "API_SECRET"]]),
             "unknown_key"),
        step("secret header missing", NOW, r([["AEVO-KEY", "API_KEY"]]), "missing_credential"),
        step("key header missing", NOW, r([["AEVO-SECRET", "API_SECRET"]]),
             "missing_credential"),
        step("secret header twice", NOW, r([["AEVO-KEY", "API_KEY"],
                                            ["AEVO-SECRET", "API_SECRET"],
                                            ["AEVO-SECRET", "API_SECRET"]]), "duplicate_header"),
    ])]


def aevo_cases(ids: TcIds, roles: dict) -> list:
    sec = b"API_SECRET"
    nxt = b"API_SECRET_NEXT"
    ring = [client("API_KEY", "API_SECRET", secondary_secret="API_SECRET_NEXT"),
            client("OTHER_KEY", "OTHER_SECRET")]
    ex = AEVO_EXAMPLE_TS
    post_body = json.dumps({"name": "My API key"})
    out = []

    worked = aevo_req(sec, "API_KEY", ex, "GET", "/account")
    out.append(verify_case(ids, roles, "Aevo worked example: accepted once, then replays refused",
                           "aevo", ring, [
        step("worked example at now = its timestamp", ex, worked, ok("API_KEY")),
        step("same request again at the same now", ex, worked, "replayed_request"),
        step("same request 1 s later (still inside the window)", ex + NS_PER_S, worked,
             "replayed_request"),
        step("same request at exactly ts + window (still inside, entry still live)", ex + WNS,
             worked, "replayed_request"),
        step("same request with header names lowercased and reordered", ex + 2 * NS_PER_S,
             with_headers(worked, [[n.lower(), v] for n, v in reversed(worked["headers"])]),
             "replayed_request"),
        step("same request 1 ns after ts + window: the timestamp is stale", ex + WNS + 1,
             worked, "timestamp_outside_window"),
    ]))

    base = aevo_req(sec, "API_KEY", NOW, "POST", "/api-key", post_body)
    t1 = NOW + 1
    out.append(verify_case(ids, roles, "Aevo: tampering with any signed field breaks the "
                           "signature (tampered requests first, original last)", "aevo", ring, [
        step("body changed", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-key",
                                           '{"name": "My API key!"}', sign_body=post_body),
             "signature_mismatch"),
        step("body emptied", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-key", "",
                                           sign_body=post_body), "signature_mismatch"),
        step("path changed", NOW, aevo_req(sec, "API_KEY", NOW, "POST", "/api-keys", post_body,
                                           sign_path="/api-key"), "signature_mismatch"),
        step("query string appended to the path", NOW,
             aevo_req(sec, "API_KEY", NOW, "POST", "/api-key?x=1", post_body,
                      sign_path="/api-key"), "signature_mismatch"),
        step("timestamp changed by 1 ns (still inside the window)", NOW,
             aevo_req(sec, "API_KEY", t1, "POST", "/api-key", post_body, sign_ts=NOW),
             "signature_mismatch"),
        step("method changed POST -> PUT", NOW,
             aevo_req(sec, "API_KEY", NOW, "PUT", "/api-key", post_body, sign_method="POST"),
             "signature_mismatch"),
        step("method sent as 'post' while signed as 'POST': verifier uses the method as "
             "received", NOW, aevo_req(sec, "API_KEY", NOW, "post", "/api-key", post_body,
                                       sign_method="POST"), "signature_mismatch"),
        step("signed with the wrong secret", NOW,
             aevo_req(b"API_SECRET_", "API_KEY", NOW, "POST", "/api-key", post_body),
             "signature_mismatch"),
        step("AEVO-KEY switched to another registered client", NOW,
             replace_header(base, "AEVO-KEY", "OTHER_KEY"), "signature_mismatch"),
        step("signature of a different request (replay of a signature across requests)", NOW,
             replace_header(base, "AEVO-SIGNATURE",
                            aevo_sig(sec, "API_KEY", str(NOW), "GET", "/account", b"")),
             "signature_mismatch"),
        step("empty body signed as a blank space (the seed's prose) instead of the empty "
             "string (its worked example)", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/account", "", sign_body=" "),
             "signature_mismatch"),
        step("all zeros signature", NOW, replace_header(base, "AEVO-SIGNATURE", "0" * 64),
             "signature_mismatch"),
        step("the original request, finally", NOW, base, ok("API_KEY")),
    ]))

    def fresh(comment, request, expect):
        return step(comment, NOW, request, expect)

    out.append(verify_case(ids, roles, "Aevo: request shapes that verify", "aevo", ring, [
        fresh("POST with the doc's JSON body", aevo_req(sec, "API_KEY", NOW, "POST",
                                                           "/api-key", post_body), ok("API_KEY")),
        fresh("body holding commas", aevo_req(sec, "API_KEY", NOW, "POST", "/orders",
                                                 '{"a":1,"b":[1,2,3]}'), ok("API_KEY")),
        fresh("query string in the path, signed as sent",
              aevo_req(sec, "API_KEY", NOW, "GET", "/orderbook?instrument_name=ETH-PERP"),
              ok("API_KEY")),
        fresh("UTF-8 non-ASCII body", aevo_req(sec, "API_KEY", NOW, "POST", "/api-key",
                                                  '{"name": "Zürich ☃ 東京"}'), ok("API_KEY")),
        fresh("binary body", aevo_req(sec, "API_KEY", NOW, "PUT", "/upload",
                                         body_hex="00ff10c0af2c0d0a"), ok("API_KEY")),
        fresh("signed with the secondary secret", aevo_req(nxt, "API_KEY", NOW, "GET",
                                                              "/account"),
              ok("API_KEY", "secondary")),
        fresh("the other client", aevo_req(b"OTHER_SECRET", "OTHER_KEY", NOW, "GET",
                                              "/account"), ok("OTHER_KEY")),
        fresh("method 'get' signed as 'get' and sent as 'get': the verifier does not "
              "uppercase, so the message matches", aevo_req(sec, "API_KEY", NOW, "get",
                                                            "/positions"), ok("API_KEY")),
        fresh("header names in mixed case", with_headers(
            aevo_req(sec, "API_KEY", NOW, "GET", "/markets"),
            [[n, v] for n, v in zip(["aevo-timestamp", "Aevo-Signature", "aEvO-kEy"],
                                    [h[1] for h in aevo_req(sec, "API_KEY", NOW, "GET",
                                                            "/markets")["headers"]])]),
              ok("API_KEY")),
        fresh("extra unrelated headers present", with_headers(
            aevo_req(sec, "API_KEY", NOW, "GET", "/index"),
            [["Content-Type", "application/json"]]
            + aevo_req(sec, "API_KEY", NOW, "GET", "/index")["headers"]
            + [["X-Api-Key", "unrelated"]]), ok("API_KEY")),
    ]))

    missing = aevo_req(sec, "API_KEY", NOW, "GET", "/account")
    h = {n: v for n, v in missing["headers"]}
    out.append(verify_case(ids, roles, "Aevo: header presence, duplicates, unknown key, "
                           "separator", "aevo", ring, [
        step("AEVO-SIGNATURE missing", NOW, with_headers(missing, [
            ["AEVO-TIMESTAMP", h["AEVO-TIMESTAMP"]], ["AEVO-KEY", "API_KEY"]]),
             "missing_credential"),
        step("AEVO-TIMESTAMP missing", NOW, with_headers(missing, [
            ["AEVO-SIGNATURE", h["AEVO-SIGNATURE"]], ["AEVO-KEY", "API_KEY"]]),
             "missing_credential"),
        step("AEVO-KEY missing", NOW, with_headers(missing, [
            ["AEVO-TIMESTAMP", h["AEVO-TIMESTAMP"]], ["AEVO-SIGNATURE", h["AEVO-SIGNATURE"]]]),
             "missing_credential"),
        step("AEVO-TIMESTAMP twice (same value)", NOW, with_headers(
            missing, missing["headers"] + [["aevo-timestamp", h["AEVO-TIMESTAMP"]]]),
             "duplicate_header"),
        step("AEVO-SIGNATURE twice (second one garbage)", NOW, with_headers(
            missing, missing["headers"] + [["AEVO-SIGNATURE", "0" * 64]]), "duplicate_header"),
        step("unknown key (validly signed with some secret)", NOW,
             aevo_req(sec, "NO_SUCH_KEY", NOW, "GET", "/account"), "unknown_key"),
        step("comma in the path (signed over the ambiguous message)", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/account,GET"), "separator_in_field"),
        step("comma in the query string", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/orderbook?ids=1,2"), "separator_in_field"),
        step("the well-formed request still verifies afterwards", NOW, missing, ok("API_KEY")),
    ]))

    bad_ts = [
        ("abc", "letters"), ("-5", "leading minus"), ("+5", "leading plus"),
        ("", "empty"), ("18446744073709551616", "u64::MAX + 1"), (" 123", "leading space"),
        ("1.7e18", "exponent notation"), ("0x1F", "hex"), ("1700000000000000000.0", "decimal"),
        ("0" + str(NOW) + "0", "21 digits"), ("170000000000000000000000", "24 digits"),
        ("1_700_000_000", "digit separators"),
        # One text per number: what a lenient integer parser would accept is refused.
        ("0" + str(NOW), "the current time with a leading zero"), ("007", "leading zeros"),
        ("00", "zero with a leading zero"), ("+7", "leading plus"), (" 7", "leading space"),
        ("7 ", "trailing space"), ("00000000000000000001", "20 digits with leading zeros"),
    ]
    out.append(verify_case(ids, roles, "Aevo: AEVO-TIMESTAMP must be canonical decimal ('0' "
                           "or 1-20 ASCII digits without a leading zero) fitting u64 (each "
                           "request correctly signed over the bad text)", "aevo", ring,
                           [step(f"timestamp {text!r} ({why})", NOW,
                                 aevo_req(sec, "API_KEY", text, "GET", "/account"),
                                 "invalid_timestamp") for text, why in bad_ts]
                           + [step("timestamp '0' at now 0: canonical zero, inside the window",
                                   0, aevo_req(sec, "API_KEY", "0", "GET", "/account"),
                                   ok("API_KEY"))]))

    def at(ts, comment, expect, now=NOW, path="/account"):
        return step(comment, now, aevo_req(sec, "API_KEY", ts, "GET", path), expect)

    out.append(verify_case(ids, roles, "Aevo: two-sided window of 300 s, inclusive", "aevo",
                           ring, [
        at(NOW - WNS, "exactly window in the past", ok("API_KEY")),
        at(NOW + WNS, "exactly window in the future", ok("API_KEY")),
        at(NOW - WNS - 1, "window + 1 ns in the past", "timestamp_outside_window"),
        at(NOW + WNS + 1, "window + 1 ns in the future", "timestamp_outside_window"),
        at(0, "timestamp 0", "timestamp_outside_window"),
        at(U64_MAX, "timestamp u64::MAX", "timestamp_outside_window"),
        at(NOW // NS_PER_S, "seconds sent where nanoseconds are expected",
           "timestamp_outside_window"),
        at(NOW // 10**6, "milliseconds sent where nanoseconds are expected",
           "timestamp_outside_window"),
        at(NOW + 10**18, "about 31 years in the future",
           "timestamp_outside_window"),
        at(NOW - 1, "1 ns in the past", ok("API_KEY")),
    ]))
    out.append(verify_case(ids, roles, "Aevo: window_s 0 means exact equality, not 'off'",
                           "aevo", ring, [
        at(NOW, "timestamp equals now", ok("API_KEY")),
        at(NOW + 1, "1 ns in the future", "timestamp_outside_window"),
        at(NOW - 1, "1 ns in the past", "timestamp_outside_window"),
    ], window_s=0))
    out.append(verify_case(ids, roles, "Aevo: window arithmetic near 0 and u64::MAX must not "
                           "wrap", "aevo", ring, [
        at(0, "now 100 ns, timestamp 0", ok("API_KEY"), now=100, path="/sat1"),
        at(WNS, "now 0, timestamp exactly window", ok("API_KEY"), now=0, path="/sat2"),
        at(WNS + 1, "now 0, timestamp window + 1 ns", "timestamp_outside_window", now=0,
           path="/sat3"),
        at(U64_MAX, "now u64::MAX, timestamp u64::MAX", ok("API_KEY"), now=U64_MAX,
           path="/sat4"),
        at(U64_MAX - WNS, "now u64::MAX, timestamp exactly window earlier", ok("API_KEY"),
           now=U64_MAX, path="/sat5"),
        at(U64_MAX - WNS - 1, "now u64::MAX, timestamp window + 1 ns earlier",
           "timestamp_outside_window", now=U64_MAX, path="/sat6"),
        at(0, "now u64::MAX, timestamp 0", "timestamp_outside_window", now=U64_MAX, path="/sat7"),
        at(U64_MAX, "now 0, timestamp u64::MAX", "timestamp_outside_window", now=0, path="/sat8"),
    ]))

    good = aevo_req(sec, "API_KEY", NOW, "GET", "/wallet")
    sig = dict(good["headers"])["AEVO-SIGNATURE"]
    letter = next(i for i, ch in enumerate(sig) if ch.isalpha())
    bad_sigs = [
        (sig.upper(), "uppercase hex"),
        (sig[:letter] + sig[letter].upper() + sig[letter + 1:], "one letter uppercase"),
        (sig[:63], "63 characters"),
        (sig + "0", "65 characters"),
        (sig[:63] + " ", "trailing space within 64 characters"),
        (" " + sig[:63], "leading space within 64 characters"),
        (sig[:63] + "g", "non-hex character 'g'"),
        ("", "empty"),
        (base64.b64encode(bytes.fromhex(sig)).decode(), "base64 of the right tag"),
        ("0x" + sig[:62], "0x prefix"),
        (sig[:32] + "\t" + sig[33:], "tab inside"),
    ]
    out.append(verify_case(ids, roles, "Aevo: AEVO-SIGNATURE must be exactly 64 lowercase hex "
                           "characters", "aevo", ring,
                           [step(f"signature: {why}", NOW,
                                 replace_header(good, "AEVO-SIGNATURE", bad),
                                 "invalid_signature_encoding") for bad, why in bad_sigs]
                           + [step("the correctly encoded signature", NOW, good,
                                   ok("API_KEY"))]))

    binary = derived_hex("apisig aevo binary secret", 32)
    out.append(verify_case(ids, roles, "Aevo: binary secret", "aevo",
                           [client("BIN_KEY", secret_hex=binary)], [
        step("signed with the 32-byte binary secret", NOW,
             aevo_req(bytes.fromhex(binary), "BIN_KEY", NOW, "GET", "/account"), ok("BIN_KEY")),
        step("signed with the secret's hex text instead of its bytes", NOW,
             aevo_req(binary.encode(), "BIN_KEY", NOW, "GET", "/account"),
             "signature_mismatch"),
    ]))

    def r(path, ts=NOW):
        return aevo_req(sec, "API_KEY", ts, "GET", path)

    late = NOW + WNS + 1
    out.append(verify_case(ids, roles, "Aevo: replay cache of capacity 2 fails closed when "
                           "full and reuses expired entries", "aevo", ring, [
        step("request 1", NOW, r("/r1"), ok("API_KEY")),
        step("request 2", NOW, r("/r2"), ok("API_KEY")),
        step("request 1 again while the cache is full: replay is detected first", NOW, r("/r1"),
             "replayed_request"),
        step("request 3: no free slot, refused", NOW, r("/r3"), "replay_cache_full"),
        step("request 4 at now = ts + window: entries 1 and 2 are still live", NOW + WNS,
             r("/r4", NOW + WNS), "replay_cache_full"),
        step("request 4 at now = ts + window + 1 ns: entries 1 and 2 have expired, a slot "
             "is reused", late, r("/r4", late), ok("API_KEY")),
        step("request 4 again", late, r("/r4", late), "replayed_request"),
        step("request 5, same time: the second expired slot is reused", late, r("/r5", late),
             ok("API_KEY")),
        step("request 6: full again", late, r("/r6", late), "replay_cache_full"),
    ], replay_capacity=2))
    out.append(verify_case(ids, roles, "Aevo: refused requests do not take replay cache slots",
                           "aevo", ring, [
        step("request 1 with a tampered path", NOW,
             aevo_req(sec, "API_KEY", NOW, "GET", "/r1x", sign_path="/r1"),
             "signature_mismatch"),
        step("request with a stale timestamp", NOW, r("/r0", NOW - WNS - 1),
             "timestamp_outside_window"),
        step("request 1 untampered: takes the only slot", NOW, r("/r1"), ok("API_KEY")),
        step("request 2: no free slot", NOW, r("/r2"), "replay_cache_full"),
        step("request 1 replayed", NOW, r("/r1"), "replayed_request"),
    ], replay_capacity=1))
    return out


APEX_NAMES = ("APIKey", "Signature", "UserId", "Nonce")


def apex_headers(key, sig, user_id, nonce_text, names=APEX_NAMES) -> list:
    return [[names[0], key], [names[1], sig], [names[2], user_id], [names[3], nonce_text]]


def apex_sig(secret: bytes, nonce_text: str, user_id: str, key: str) -> str:
    return mac(secret, (nonce_text + user_id + key).encode()).hex()


def apex_req(secret: bytes, key: str, user_id: str, nonce, *, sig=None, names=None,
             sign_user_id=None) -> dict:
    nonce_text = nonce if isinstance(nonce, str) else str(nonce)
    if sig is None:
        sig = apex_sig(secret, nonce_text, user_id if sign_user_id is None else sign_user_id,
                       key)
    headers = apex_headers(key, sig, user_id, nonce_text, names or APEX_NAMES)
    return req("POST", "/AuthenticateUser", headers=headers)


def apex_cases(ids: TcIds, roles: dict) -> list:
    sec = APEX_SECRET.encode()
    other_key, other_sec = "0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e", b"other-apex-secret"
    ring = [client(APEX_KEY, APEX_SECRET, user_id="12345"),
            client(other_key, other_sec.decode(), user_id="777")]
    n0 = 1700000000123
    me = ok(APEX_KEY)
    out = [verify_case(ids, roles, "APEX: signatures and strictly increasing nonces", "apex",
                       ring, [
        step("ms-counter nonce, user 12345", NOW, apex_req(sec, APEX_KEY, "12345", n0), me),
        step("same request again", NOW, apex_req(sec, APEX_KEY, "12345", n0),
             "replayed_request"),
        step("lower nonce", NOW, apex_req(sec, APEX_KEY, "12345", n0 - 1), "replayed_request"),
        step("higher nonce, signature in uppercase hex (accepted)", NOW,
             with_headers(apex_req(sec, APEX_KEY, "12345", n0 + 5),
                          apex_headers(APEX_KEY, apex_sig(sec, str(n0 + 5), "12345",
                                                          APEX_KEY).upper(),
                                       "12345", str(n0 + 5))), me),
        step("nonce in between the last two accepted ones", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 3), "replayed_request"),
        step("no timestamp window: now 0 is irrelevant", 0,
             apex_req(sec, APEX_KEY, "12345", n0 + 6), me),
        step("no timestamp window: now u64::MAX is irrelevant", U64_MAX,
             apex_req(sec, APEX_KEY, "12345", n0 + 7), me),
        step("header names lowercase", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 8,
                      names=("apikey", "signature", "userid", "nonce")), me),
        step("nonces are per client: the other client starts lower", NOW,
             apex_req(other_sec, other_key, "777", 50), ok(other_key)),
        step("and the first client is unaffected", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 9), me),
        step("signature under the wrong secret with a fresh nonce", NOW,
             apex_req(b"wrong", APEX_KEY, "12345", n0 + 100), "signature_mismatch"),
        step("the refused nonce did not advance the high-water mark", NOW,
             apex_req(sec, APEX_KEY, "12345", n0 + 10), me),
        step("nonce u64::MAX", NOW, apex_req(sec, APEX_KEY, "12345", U64_MAX), me),
        step("after u64::MAX every nonce is a replay", NOW,
             apex_req(sec, APEX_KEY, "12345", U64_MAX), "replayed_request"),
    ])]

    small = [client("apex-small", "small-secret", user_id="12")]
    s = b"small-secret"
    legit = apex_req(s, "apex-small", "12", 345)
    out.append(verify_case(ids, roles, "APEX digit-shift attack: Nonce||UserId has no separator, "
                           "so UserId must be bound to the key", "apex", small, [
        step("attacker moves a digit from UserId into Nonce: Nonce 3451, UserId 2 (same "
             "message '34512apex-small', same valid signature)", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "2",
                                              "3451")), "user_id_mismatch"),
        step("attacker moves digits the other way: Nonce 34, UserId 512", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "512",
                                              "34")), "user_id_mismatch"),
        step("legitimate request: Nonce 345, UserId 12", NOW, legit, ok("apex-small")),
        step("attacker after the legitimate request (Nonce 3451 > 345)", NOW,
             with_headers(legit, apex_headers("apex-small", apex_sig(s, "345", "12",
                                                                     "apex-small"), "2",
                                              "3451")), "user_id_mismatch"),
        step("UserId '012' (same number, different bytes), correctly signed", NOW,
             apex_req(s, "apex-small", "012", 400), "user_id_mismatch"),
        step("legitimate replay", NOW, legit, "replayed_request"),
    ]))

    bad_nonces = [("abc", "letters"), ("", "empty"), ("-1", "leading minus"),
                  ("+1", "leading plus"), (" 5", "leading space"),
                  ("18446744073709551616", "u64::MAX + 1"), ("1.5", "decimal"),
                  ("1e3", "exponent"), ("000000000000000000001", "21 digits"),
                  # One text per number: what a lenient integer parser would accept.
                  ("007", "leading zeros"), ("00", "zero with a leading zero"),
                  ("+7", "leading plus"), (" 7", "leading space"), ("7 ", "trailing space"),
                  ("01700000000123", "a millisecond counter with a leading zero")]
    out.append(verify_case(ids, roles, "APEX: Nonce must be canonical decimal ('0' or 1-20 "
                           "ASCII digits without a leading zero) fitting u64 (each request "
                           "correctly signed over the bad text)", "apex", ring,
                           [step(f"nonce {text!r} ({why})", NOW,
                                 apex_req(sec, APEX_KEY, "12345", text), "invalid_nonce")
                            for text, why in bad_nonces]
                           + [step("nonce '0': canonical zero, the first nonce of this key",
                                   NOW, apex_req(sec, APEX_KEY, "12345", "0"), ok(APEX_KEY)),
                              step("nonce '00' after '0': refused as text, not as a replay",
                                   NOW, apex_req(sec, APEX_KEY, "12345", "00"),
                                   "invalid_nonce"),
                              step("nonce '1' after '0'", NOW,
                                   apex_req(sec, APEX_KEY, "12345", "1"), ok(APEX_KEY))]))

    good = apex_req(sec, APEX_KEY, "12345", 42)
    sig = dict(good["headers"])["Signature"]
    bad_sigs = [(sig[:63], "63 characters"), (sig + "a", "65 characters"),
                (sig[:63] + "z", "non-hex character"), ("", "empty"),
                (sig[:63] + " ", "trailing space within 64 characters"),
                (base64.b64encode(bytes.fromhex(sig)).decode(), "base64 of the right tag")]
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(sig))
    out.append(verify_case(ids, roles, "APEX: Signature hex in either case, exactly 64 chars",
                           "apex", ring,
                           [step(f"signature: {why}", NOW,
                                 replace_header(good, "Signature", bad),
                                 "invalid_signature_encoding") for bad, why in bad_sigs]
                           + [step("mixed-case hex is accepted", NOW,
                                   replace_header(good, "Signature", mixed), ok(APEX_KEY))]))

    fresh = apex_req(sec, APEX_KEY, "12345", 1000)
    hd = dict(fresh["headers"])

    def drop(name):
        return with_headers(fresh, [[n, v] for n, v in fresh["headers"] if n != name])

    out.append(verify_case(ids, roles, "APEX: header presence, duplicates, unknown key", "apex",
                           ring, [
        *[step(f"{name} missing", NOW, drop(name), "missing_credential")
          for name in ("APIKey", "Signature", "UserId", "Nonce")],
        step("Nonce twice", NOW, with_headers(fresh, fresh["headers"] + [["nonce", hd["Nonce"]]]),
             "duplicate_header"),
        step("UserId twice with different values", NOW,
             with_headers(fresh, fresh["headers"] + [["UserId", "2"]]), "duplicate_header"),
        step("unknown APIKey (signed with some secret)", NOW,
             apex_req(sec, "f" * 32, "12345", 1000), "unknown_key"),
        step("another client's UserId under this key, correctly signed", NOW,
             apex_req(sec, APEX_KEY, "777", 1001), "user_id_mismatch"),
        step("another client's key with this client's secret", NOW,
             apex_req(sec, other_key, "777", 1002), "signature_mismatch"),
        step("the well-formed request", NOW, fresh, ok(APEX_KEY)),
    ]))
    return out


def lifecycle_cases(ids: TcIds, roles: dict) -> list:
    """Revoked, disabled and expired clients and keys (issue 19): each refused with its own
    error once its credential checked out, whatever the kind of credential."""
    k = ["lc-" + derived_hex(f"lifecycle static {n}", 16) for n in range(5)]
    ring = [client("static-revoked", key=k[0]) | {"status": "revoked"},
            client("static-disabled", key=k[1]) | {"status": "disabled"},
            client("static-rotating", key=k[2], secondary_key=k[3]) | {"primary_revoked": True},
            client("static-expiring", key=k[4]) | {"primary_expires_ns": NOW + 1}]

    def si(key):
        return req("GET", "/api/v1/documents", headers=[["X-Api-Key", key]])

    out = [verify_case(ids, roles, "Lifecycle, static keys: revoked, disabled, a revoked "
                       "primary beside a live secondary, expiry at expires_ns", "signius", ring, [
        step("a revoked client's key", NOW, si(k[0]), "client_revoked"),
        step("a disabled client's key", NOW, si(k[1]), "client_disabled"),
        step("a revoked primary key", NOW, si(k[2]), "key_revoked"),
        step("the same client's live secondary", NOW, si(k[3]), ok("static-rotating", "secondary")),
        step("1 ns before the key expires", NOW, si(k[4]), ok("static-expiring")),
        step("at the expiry instant", NOW + 1, si(k[4]), "key_expired"),
        step("an unknown key is still unknown_key", NOW, si("lc-unknown"), "unknown_key"),
    ])]

    sec = b"lifecycle-aevo-secret"
    ring = [client("aevo-revoked", "lifecycle-aevo-secret") | {"status": "revoked"},
            client("aevo-expiring", "lifecycle-aevo-secret-2",
                   secondary_secret="lifecycle-aevo-next") | {"primary_expires_ns": NOW}]
    sec2, nxt = b"lifecycle-aevo-secret-2", b"lifecycle-aevo-next"
    out.append(verify_case(ids, roles, "Lifecycle, Aevo signatures: a revoked client, an "
                           "expired primary beside a live secondary; a refusal records "
                           "nothing", "aevo", ring, [
        step("a revoked client's correct signature", NOW,
             aevo_req(sec, "aevo-revoked", NOW, "GET", "/account"), "client_revoked"),
        step("a wrong signature under a revoked client's key id", NOW,
             aevo_req(b"wrong", "aevo-revoked", NOW, "GET", "/account"), "signature_mismatch"),
        step("1 ns before the primary expires", NOW - 1,
             aevo_req(sec2, "aevo-expiring", NOW - 1, "GET", "/account"), ok("aevo-expiring")),
        step("the primary at its expiry", NOW,
             aevo_req(sec2, "aevo-expiring", NOW, "GET", "/account"), "key_expired"),
        step("the secondary at the same instant", NOW,
             aevo_req(nxt, "aevo-expiring", NOW, "GET", "/account"),
             ok("aevo-expiring", "secondary")),
    ]))

    asec = b"lifecycle-apex-secret"
    akey = "lifecycle-apex-key"
    ring = [client(akey, "lifecycle-apex-secret", user_id="7") | {"status": "disabled"}]
    out.append(verify_case(ids, roles, "Lifecycle, APEX: a disabled client is refused once its "
                           "signature checks out", "apex", ring, [
        step("a disabled client's correctly signed login", NOW, apex_req(asec, akey, "7", 5),
             "client_disabled"),
        step("a wrong signature under its key", NOW, apex_req(b"wrong", akey, "7", 6),
             "signature_mismatch"),
    ]))
    return out


def build_verify(roles: dict) -> dict:
    ids = TcIds()
    tests = static_cases(ids, roles) + aevo_secret_cases(ids, roles) + aevo_cases(ids, roles)
    tests += apex_cases(ids, roles)
    # Appended last: earlier cases keep their tcIds (the firmware test names two).
    tests += lifecycle_cases(ids, roles)
    return {
        **file_header(
            "Server-side verification vectors. Each test builds ONE verifier (keyring, "
            "window, replay capacity) and runs its steps in order; state (replay cache, APEX "
            "nonce high-water marks) carries over between steps.",
            [
                "keyring entries: static-key clients have key (and secondary_key) with id "
                "a label; HMAC/secret clients have id = key id and secret or secret_hex "
                "(and secondary_secret, text). role is a Securosys role name or null. APEX "
                "clients have user_id. Optional lifecycle fields: status "
                "(active|disabled|revoked: client_disabled, client_revoked), primary_revoked / "
                "secondary_revoked (key_revoked), primary_expires_ns / secondary_expires_ns "
                "(key_expired from that instant on); checked after the credential, in that "
                "order.",
                "A valid step's principal is {id, slot: primary|secondary, role}.",
                "authorize: true also checks the principal's role against policy.json's "
                "'roles' for request.path (authentication first, then canonical-path check, "
                "then pattern match).",
                "Header names match case-insensitively. A required header absent is "
                "missing_credential, present twice duplicate_header.",
                "Each invalid step breaks exactly one rule (checked by the generator's "
                "reference verifier, which runs every independent check), so the order of "
                "checks does not matter. Replay (same key id + signature while live, or an "
                "APEX nonce not above the last accepted one) and replay_cache_full are "
                "counted as independent checks too.",
                "A step that fails changes no state: no replay slot is taken, no nonce "
                "high-water mark moves.",
                "Replay cache entries for aevo are (key id, signature, ts). An entry is live "
                "while now_ns <= ts + window (saturating) and free afterwards; the cache "
                "never evicts a live entry (replay_cache_full instead). A replay is "
                "reported as replayed_request even when the cache is full.",
                "aevo: the message is built from the header texts as received (timestamp "
                "text, key id) and the method and path as received (no uppercasing); "
                "signature must be 64 lowercase hex. apex: Signature hex in either case; "
                "no timestamp window (now_ns is irrelevant).",
                "Numbers up to u64::MAX (18446744073709551615) appear in now_ns and in "
                "header texts; JSON readers must parse now_ns as an unsigned 64-bit integer.",
                "A timestamp or nonce has one text: '0', or 1-20 ASCII digits without a "
                "leading zero, fitting u64. Anything else ('007', '00', '+7', ' 7', '7 ') is "
                "invalid_timestamp / invalid_nonce, even when the signature covers it.",
            ],
        ),
        "tests": tests,
    }
