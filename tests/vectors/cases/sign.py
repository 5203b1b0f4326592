"""sign.json: client-side cases for the reference signer."""

from __future__ import annotations

import json

from oracles.common import U64_MAX, VALID, VectorError
from oracles.signer import STATIC_HEADER, sign_reference
from oracles.verifier import BEARER_SCHEMES, RefVerifier

from .common import TcIds, check_faults, derived_hex, file_header, outcome


def creds(key_id=None, secret=None, secret_hex=None, user_id=None, token=None) -> dict:
    out = {"key_id": key_id}
    if secret_hex is not None:
        out["secret_hex"] = secret_hex
    else:
        out["secret"] = secret
    out.update(user_id=user_id, token=token)
    return out


def req(method: str, path: str, body: str = "", body_hex: str | None = None,
        headers: list | None = None) -> dict:
    out = {"method": method, "path": path}
    if body_hex is not None:
        out["body_hex"] = body_hex
    else:
        out["body"] = body
    if headers is not None:
        out["headers"] = headers
    return out


def roundtrip_signed(scheme: str, cred: dict, request: dict, out: dict, now_ns) -> None:
    """A valid preset signature must verify under the reference verifier (or, for
    bearer schemes, reach the unsupported_credential stage)."""
    if scheme == "custom":
        return
    entry = {"id": cred["key_id"], "secret": None, "secondary_secret": None, "key": None,
             "secondary_key": None, "role": None, "user_id": cred["user_id"]}
    if scheme in STATIC_HEADER:
        entry["key"] = cred["key_id"]
    elif "secret_hex" in cred:
        del entry["secret"]
        entry["secret_hex"] = cred["secret_hex"]
    else:
        entry["secret"] = cred["secret"]
    verifier = RefVerifier(scheme, [entry], 300, 64, {})
    # The HTTP request goes out with the uppercased method the signer signed.
    verify_request = dict(request, method=request["method"].upper(), headers=out["headers"])
    faults, _ = verifier.step(now_ns or 0, verify_request, False)
    want = {"unsupported_credential"} if scheme in BEARER_SCHEMES else set()
    if faults != want:
        raise VectorError(f"sign round trip for {scheme} failed: {sorted(faults)}")


def sign_case(ids: TcIds, comment: str, scheme: str, cred: dict, request: dict,
              expect: str = VALID, now_ns=None, nonce=None, template=None) -> dict:
    faults, out = sign_reference(scheme, cred, request, now_ns, nonce, template)
    check_faults(faults, expect, comment)
    case = {"tcId": ids.next(), "comment": comment, "scheme": scheme}
    if template is not None:
        case["template"] = template
    case.update(credentials=cred, request=request, now_ns=now_ns)
    if expect != VALID:
        case.update(timestamp=out["timestamp"], nonce=nonce)
        case.update(outcome(expect))
        return case
    roundtrip_signed(scheme, cred, request, out, now_ns)
    case.update(timestamp=out["timestamp"], nonce=nonce)
    message = out["message"]
    try:
        case["message"] = None if message is None else message.decode("utf-8")
    except UnicodeDecodeError:
        case["message"] = None
        case["message_hex"] = message.hex()
    case.update(signature=out["signature"], headers=out["headers"])
    if "authenticate_body" in out:
        case["authenticate_body"] = out["authenticate_body"]
    case.update(outcome(expect))
    return case


AEVO_EXAMPLE_TS = 1673425955575713842
SIGNIUS_SEED_KEY = "3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZyADZshuvmvcTqr60WQBAob78Lpkjh7Le"
SECUROSYS_KEYS = {
    "keyManagementToken": "tsb-km-9fK2qLx7Vb3ZrT8mWc1N",
    "keyOperationToken": "tsb-ko-4HdP8sYq2Lw6XeJ0uRt5",
    "approverToken": "tsb-ap-7Gm3Ck9Vn1Bx5Qz2Hs8L",
    "serviceToken": "tsb-sv-2Wr6Ty0Ui4Op8As1Df5G",
    "approverKeyManagementToken": "tsb-akm-6Jk1Lz5Xc9Vb3Nm7Qw2E",
}
ZIGNSEC_PRIMARY = "3f2b8c1d9e0a4b7c8d6e5f4a3b2c1d0e"
ZIGNSEC_SECONDARY = "9a8b7c6d5e4f30211203f4e5d6c7b8a9"
JWT = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhcGlzaWctdGVzdCIsImV4cCI6MTcwMDAwMTIwMH0"
       ".c2lnbmF0dXJlLW5vdC1jaGVja2VkLWJ5LXRoZS1jb3Jl")
APEX_KEY = "d6b1bf0e2c1f4bd8a6f1d8c3b7a9e201"
APEX_SECRET = "5a2c7e9f1b3d4c6e8f0a2b4c6d8e0f1a"
APEX_SESSION_TOKEN = "b2f1c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d"

COINBASE_TEMPLATE = {
    "parts": ["timestamp", "method", "path", "body"],
    "separator": "",
    "encoding": "base64",
    "time_unit": "s",
    "headers": [["CB-ACCESS-KEY", "key_id"], ["CB-ACCESS-SIGN", "signature"],
                ["CB-ACCESS-TIMESTAMP", "timestamp"]],
}
BYBIT_TEMPLATE = {
    "parts": ["timestamp", "api_key", {"literal": "5000"}, "body"],
    "separator": "",
    "encoding": "lower_hex",
    "time_unit": "ms",
    "headers": [["X-BAPI-API-KEY", "key_id"], ["X-BAPI-SIGN", "signature"],
                ["X-BAPI-TIMESTAMP", "timestamp"]],
}
WEBHOOK_TEMPLATE = {
    "parts": [{"header": "X-Webhook-Id"}, "timestamp", "body"],
    "separator": ".",
    "encoding": "upper_hex",
    "time_unit": "s",
    "headers": [["X-Webhook-Timestamp", "timestamp"], ["X-Webhook-Signature", "signature"]],
}
NONCE_TEMPLATE = {
    "parts": ["method", "path", {"literal": "v1"}, "nonce", "user_id", "api_key"],
    "separator": "\n",
    "encoding": "lower_hex",
    "time_unit": "ns",
    "headers": [["X-Key", "key_id"], ["X-Nonce", "nonce"], ["X-User", "user_id"],
                ["X-Signature", "signature"]],
}


def sign_cases_aevo(ids: TcIds) -> list:
    c = creds("API_KEY", "API_SECRET")
    ts = AEVO_EXAMPLE_TS
    now = 1700000000123456789
    post_body = json.dumps({"name": "My API key"})
    binary_secret = derived_hex("apisig aevo binary secret", 32)
    big_body = json.dumps([{"i": i, "note": "x" * 40} for i in range(64)])
    out = [
        sign_case(ids, "Aevo worked example verbatim: GET /account, empty body gives the "
                  "trailing comma; the doc's secret is $API_SECRET, here the text 'API_SECRET'",
                  "aevo", c, req("GET", "/account"), now_ns=ts),
        sign_case(ids, "Aevo POST from the doc's code example: body json.dumps({'name': "
                  "'My API key'}) signed for path /api-key", "aevo", c,
                  req("POST", "/api-key", post_body), now_ns=ts),
        sign_case(ids, "body holding commas (the body is the last field, so it may)", "aevo",
                  c, req("POST", "/orders", '{"instrument":1,"is_buy":true,"amount":"1,000"}'),
                  now_ns=now),
        sign_case(ids, "query string is part of the signed path", "aevo", c,
                  req("GET", "/orderbook?instrument_name=ETH-PERP&depth=10"), now_ns=now),
        sign_case(ids, "lowercase method 'get' is uppercased to GET by the signer", "aevo", c,
                  req("get", "/account"), now_ns=ts),
        sign_case(ids, "lowercase method 'delete' is uppercased to DELETE", "aevo", c,
                  req("delete", "/orders/0x6a3f"), now_ns=now),
        sign_case(ids, "UTF-8 non-ASCII body (signed as its UTF-8 bytes)", "aevo", c,
                  req("POST", "/api-key", '{"name": "Zürich – 東京 ☃ 🚀"}'), now_ns=now),
        sign_case(ids, "binary 32-byte secret (secret_hex)", "aevo",
                  creds("API_KEY", secret_hex=binary_secret), req("GET", "/account"),
                  now_ns=now),
        sign_case(ids, "binary (non-UTF-8) body: message given as message_hex", "aevo", c,
                  req("PUT", "/upload", body_hex="00ff10c0af2c0d0a"), now_ns=now),
        sign_case(ids, f"{len(big_body)}-byte body (streamed into the HMAC)", "aevo", c,
                  req("POST", "/orders/batch", big_body), now_ns=now),
        sign_case(ids, "realistic key id and secret shapes", "aevo",
                  creds("5b4c6a7e-0f1d-4c2b-9a8e-7d6c5b4a3f2e",
                        "0x1f2e3d4c5b6a79880f1e2d3c4b5a69788796a5b4c3d2e1f0"),
                  req("GET", "/portfolio"), now_ns=now),
        sign_case(ids, "comma in key id would make the message ambiguous", "aevo",
                  creds("API,KEY", "API_SECRET"), req("GET", "/account"),
                  "separator_in_field", now_ns=now),
        sign_case(ids, "comma in path would make the message ambiguous", "aevo", c,
                  req("GET", "/account,GET"), "separator_in_field", now_ns=now),
        sign_case(ids, "comma in the query part of the path", "aevo", c,
                  req("GET", "/orderbook?ids=1,2"), "separator_in_field", now_ns=now),
        sign_case(ids, "method with a space is not an HTTP token", "aevo", c,
                  req("GE T", "/account"), "invalid_method", now_ns=now),
        sign_case(ids, "empty method", "aevo", c, req("", "/account"), "invalid_method",
                  now_ns=now),
        sign_case(ids, "method with CR LF (header/line injection)", "aevo", c,
                  req("GET\r\n", "/account"), "invalid_method", now_ns=now),
        sign_case(ids, "empty path", "aevo", c, req("GET", ""), "invalid_path", now_ns=now),
        sign_case(ids, "path without leading slash", "aevo", c, req("GET", "account"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing a space", "aevo", c, req("GET", "/acc ount"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing a control byte 0x01", "aevo", c,
                  req("GET", "/account\x01"), "invalid_path", now_ns=now),
        sign_case(ids, "path containing DEL 0x7f", "aevo", c, req("GET", "/account\x7f"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "path containing raw non-ASCII", "aevo", c, req("GET", "/caf\u00e9"),
                  "invalid_path", now_ns=now),
        sign_case(ids, "key id with CR LF (header injection)", "aevo",
                  creds("API_KEY\r\nX-Injected: 1", "API_SECRET"), req("GET", "/account"),
                  "invalid_header_value", now_ns=now),
        sign_case(ids, "empty secret", "aevo", creds("API_KEY", ""), req("GET", "/account"),
                  "empty_secret", now_ns=now),
        sign_case(ids, "empty binary secret", "aevo", creds("API_KEY", secret_hex=""),
                  req("GET", "/account"), "empty_secret", now_ns=now),
    ]
    return out


def sign_cases_static(ids: TcIds) -> list:
    g = req("GET", "/v1/versionInfo")
    out = [
        sign_case(ids, "SIGNIUS: the 64-character example key from the seed", "signius",
                  creds(SIGNIUS_SEED_KEY), req("GET", "/api/v1/documents")),
        sign_case(ids, "SIGNIUS: another 64-character key", "signius",
                  creds("q8ZtR2vLx0NcB7mW4kYp1HsJ9dFg3AeU6oIi5TrEwQyXzVb2CnMlKjHg8FdSa0Pq"),
                  req("POST", "/api/v1/envelopes", '{"title":"contract"}')),
        sign_case(ids, "SIGNIUS: key with CR LF (header injection)", "signius",
                  creds(SIGNIUS_SEED_KEY[:32] + "\r\nX-Injected: 1"),
                  req("GET", "/api/v1/documents"), "invalid_header_value"),
        sign_case(ids, "SIGNIUS: key with a bare LF", "signius", creds("abc\ndef"),
                  req("GET", "/api/v1/documents"), "invalid_header_value"),
    ]
    role_paths = {
        "keyManagementToken": "/v1/key",
        "keyOperationToken": "/v1/sign",
        "approverToken": "/v1/approval",
        "serviceToken": "/v1/versionInfo",
        "approverKeyManagementToken": "/v1/approverManagement/approvers",
    }
    for role, key in SECUROSYS_KEYS.items():
        out.append(sign_case(ids, f"Securosys TSB: {role} API key in X-API-KEY", "securosys",
                             creds(key), req("GET", role_paths[role])))
    out += [
        sign_case(ids, "Securosys TSB: bearer JWT", "securosys-jwt", creds(token=JWT),
                  req("POST", "/v1/sign", '{"signRequest":{}}')),
        sign_case(ids, "Securosys TSB: bearer token with LF (header injection)",
                  "securosys-jwt", creds(token=JWT[:20] + "\nX-Injected: 1"),
                  req("GET", "/v1/versionInfo"), "invalid_header_value"),
        sign_case(ids, "ZignSec default scheme: primary subscription key in Zs-Product-Key",
                  "zignsec", creds(ZIGNSEC_PRIMARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec default scheme: secondary subscription key (rotation)",
                  "zignsec", creds(ZIGNSEC_SECONDARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec legacy scheme: raw key in Authorization", "zignsec-legacy",
                  creds(ZIGNSEC_PRIMARY), req("POST", "/core/api/sessions")),
        sign_case(ids, "ZignSec legacy scheme: key with CR LF", "zignsec-legacy",
                  creds(ZIGNSEC_PRIMARY + "\r\n"), req("GET", "/core/api/sessions"),
                  "invalid_header_value"),
        sign_case(ids, "ZignSec OAuth2: bearer token plus product key", "zignsec-oauth",
                  creds(ZIGNSEC_PRIMARY, token=JWT), req("POST", "/core/api/sessions")),
        sign_case(ids, "APEX session token in aptoken", "apex-session",
                  creds(token=APEX_SESSION_TOKEN), req("POST", "/GetAccountPositions")),
        sign_case(ids, "Aevo key + secret headers", "aevo-secret",
                  creds("API_KEY", "API_SECRET"), g),
        sign_case(ids, "Aevo key + secret headers: secret with CR LF", "aevo-secret",
                  creds("API_KEY", "API_SECRET\r\nX-Injected: 1"), g, "invalid_header_value"),
    ]
    return out


def sign_cases_apex(ids: TcIds) -> list:
    c = creds(APEX_KEY, APEX_SECRET, user_id="12345")
    r = req("POST", "/AuthenticateUser")
    return [
        sign_case(ids, "APEX: nonce is a millisecond counter, user id 12345", "apex", c, r,
                  nonce=1700000000123),
        sign_case(ids, "APEX: next request, nonce + 1", "apex", c, r, nonce=1700000000124),
        sign_case(ids, "APEX: small numbers (user 12, nonce 345: message '34512' + key; see "
                  "the digit-shift attack in verify.json)", "apex",
                  creds(APEX_KEY, APEX_SECRET, user_id="12"), r, nonce=345),
        sign_case(ids, "APEX: nonce u64::MAX", "apex", c, r, nonce=U64_MAX),
        sign_case(ids, "APEX: binary secret", "apex",
                  creds(APEX_KEY, secret_hex=derived_hex("apisig apex binary secret", 32),
                        user_id="12345"), r, nonce=1700000000125),
        sign_case(ids, "APEX: no nonce supplied", "apex", c, r, "invalid_nonce", nonce=None),
        sign_case(ids, "APEX: empty secret", "apex", creds(APEX_KEY, "", user_id="12345"), r,
                  "empty_secret", nonce=1700000000126),
        sign_case(ids, "APEX: key with CR LF (header injection)", "apex",
                  creds(APEX_KEY + "\r\nX-Injected: 1", APEX_SECRET, user_id="12345"), r,
                  "invalid_header_value", nonce=1700000000127),
    ]


def sign_cases_custom(ids: TcIds) -> list:
    cb = creds("cb-access-key-1", secret_hex=derived_hex("apisig coinbase-style secret", 64))
    by = creds("XXXXXXXXXXXXXXXXXX", "YYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYYY")
    wh = creds("whk_1", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    nc = creds("k-7", "n0nce-template-secret", user_id="u-42")
    order = '{"size":"0.01","price":"0.100","side":"buy","product_id":"BTC-USD"}'
    bybit_body = ('{"category":"spot","symbol":"BTCUSDT","side":"Buy","orderType":"Market",'
                  '"qty":"0.01"}')
    hook_body = '{"type":"invoice.paid","data":{"id":"in_1","amount":1.5}}'
    hook_id = [["X-Webhook-Id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"]]
    t = 1700000000987654321
    return [
        sign_case(ids, "Coinbase-style: timestamp(s)+METHOD+path+body, base64, 64-byte "
                  "secret; now_ns is rounded down to whole seconds", "custom", cb,
                  req("POST", "/orders", order), now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style GET with query and empty body", "custom", cb,
                  req("GET", "/orders?status=open&limit=5"), now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style, lowercase method uppercased when signing", "custom",
                  cb, req("delete", "/orders/abc"), now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style, binary body (message_hex)", "custom", cb,
                  req("POST", "/files", body_hex="89504e470d0a1a0a0000000d49484452"),
                  now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Bybit-style: timestamp(ms)+api_key+'5000'+body, lower hex; now_ns "
                  "rounded down to whole milliseconds", "custom", by,
                  req("POST", "/v5/order/create", bybit_body), now_ns=1700000000123456789,
                  template=BYBIT_TEMPLATE),
        sign_case(ids, "Bybit-style with empty body", "custom", by,
                  req("GET", "/v5/account/wallet-balance"), now_ns=1700000000999999999,
                  template=BYBIT_TEMPLATE),
        sign_case(ids, "webhook-style: id.timestamp.body, separator '.', upper hex, id from "
                  "a request header; the body (last part) may hold the separator", "custom",
                  wh, req("POST", "/hooks/billing", hook_body, headers=hook_id), now_ns=t,
                  template=WEBHOOK_TEMPLATE),
        sign_case(ids, "template with nonce, user id, literal, separator LF, ns time unit "
                  "unused", "custom", nc, req("patch", "/v2/profile"), nonce=981,
                  template=NONCE_TEMPLATE),
        sign_case(ids, "webhook-style: header part value holds the separator '.'", "custom",
                  wh, req("POST", "/hooks/billing", hook_body,
                          headers=[["X-Webhook-Id", "msg.1"]]),
                  "separator_in_field", now_ns=t, template=WEBHOOK_TEMPLATE),
        sign_case(ids, "Coinbase-style: method part with a space", "custom", cb,
                  req("GE T", "/orders"), "invalid_method", now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style: path without leading slash", "custom", cb,
                  req("GET", "orders"), "invalid_path", now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "Coinbase-style: key id with CR LF goes into CB-ACCESS-KEY", "custom",
                  creds("cb\r\nX-Injected: 1", secret_hex=cb["secret_hex"]),
                  req("GET", "/orders"), "invalid_header_value", now_ns=t,
                  template=COINBASE_TEMPLATE),
        sign_case(ids, "template with a nonce part but no nonce supplied", "custom", nc,
                  req("GET", "/v2/profile"), "invalid_nonce", nonce=None,
                  template=NONCE_TEMPLATE),
        sign_case(ids, "custom template, empty secret", "custom", creds("k", ""),
                  req("GET", "/orders"), "empty_secret", now_ns=t, template=COINBASE_TEMPLATE),
        sign_case(ids, "template with no parts", "custom", by, req("GET", "/orders"),
                  "invalid_template", now_ns=t, template=dict(BYBIT_TEMPLATE, parts=[])),
    ]


def build_sign() -> dict:
    ids = TcIds()
    tests = sign_cases_aevo(ids) + sign_cases_apex(ids) + sign_cases_static(ids)
    tests += sign_cases_custom(ids)
    return {
        **file_header(
            "Client-side signing vectors: for each scheme preset (and user-defined 'custom' "
            "templates), the credentials, request, injected time/nonce, and the exact "
            "canonical message, signature and header list the signer must produce; or the "
            "error it must return.",
            [
                "now_ns is the injected clock (UNIX ns). timestamp is the value written into "
                "the message and headers, in the scheme's unit: for aevo it equals now_ns, "
                "for custom templates it is floor(now_ns / unit).",
                "message is the canonical message as text; where it is not valid UTF-8 it "
                "is null and message_hex holds its bytes. message and signature are null "
                "for schemes that send a credential as is.",
                "headers is the exact list, in order, with these names' exact spelling.",
                "credentials.secret is UTF-8 text; secret_hex is used instead for binary "
                "secrets. request.body is UTF-8 text; body_hex is used instead for binary "
                "bodies. request.headers (custom templates only) are the request's own "
                "headers that {'header': name} parts read.",
                "Invalid cases carry the inputs (and timestamp) plus result/error, but no "
                "message, signature or headers: nothing is produced on error.",
                "Each invalid case breaks exactly one rule, so the order of checks does "
                "not matter. Signer rules: method must be an HTTP token (RFC 9110 tchar) "
                "and is ASCII-uppercased; path must be printable ASCII 0x21-0x7e starting "
                "with '/'; header values must be visible ASCII (no CR, LF, controls, "
                "non-ASCII); a non-literal part other than the last must not contain a "
                "non-empty separator (aevo: ',' in key id or path); empty secret is "
                "empty_secret; a missing nonce is invalid_nonce.",
            ],
        ),
        "tests": tests,
    }
