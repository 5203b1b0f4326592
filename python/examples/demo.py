"""``make py-demo``: every dialect signed by the Python client side and verified by the Python
server side, then a tampered request, a replay, and a key outside its role refused."""

from __future__ import annotations

import json
import time

import apisig

NOW = time.time_ns()


def show(label: str, verifier: apisig.Verifier, scheme: apisig.Scheme, method: str, path: str,
         headers: dict[str, str], body: bytes = b"", authorize: bool = False) -> None:  # fmt: skip
    try:
        p = verifier.verify(scheme, method, path, headers, body, now=NOW, authorize=authorize)
        role = f", role {p.role}" if p.role else ""
        print(f"  accepted  {label}: client {p.client_id!r} ({p.slot} key{role})")
    except apisig.ApisigError as e:
        print(f"  REFUSED   {label}: {e} ({type(e).__name__}, code {e.code})")


def main() -> None:
    v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES, sessions=apisig.SessionKeys(b"demo-session-secret"))
    v.add("portal", b"sg-3H06Ydk2Al4aSBuT6zXAuXEqOI6V")
    v.add("acme", b"zs-primary-5b1f0c", secondary=b"zs-secondary-93ad27")
    v.add("ops", b"op-7f3a9c2e51d84b06", role="keyOperationToken")
    v.add("API_KEY", b"API_SECRET")
    v.add("f3a9c2e5b7d84a61", b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b", user_id="12")

    print("== SIGNIUS, ZignSec (primary, secondary, legacy)")
    for scheme, key in [(apisig.SIGNIUS, "sg-3H06Ydk2Al4aSBuT6zXAuXEqOI6V"), (apisig.ZIGNSEC, "zs-primary-5b1f0c"),
                        (apisig.ZIGNSEC, "zs-secondary-93ad27"), (apisig.ZIGNSEC_LEGACY, "zs-primary-5b1f0c")]:  # fmt: skip
        headers = apisig.Signer(scheme, api_key=key).sign("GET", "/api/v1/documents")
        show(scheme.name, v, scheme, "GET", "/api/v1/documents", headers)

    print("== Securosys TSB: keyOperationToken")
    signer = apisig.Signer(apisig.SECUROSYS, api_key="op-7f3a9c2e51d84b06")
    for path in ["/v1/sign", "/v1/key", "/v1/sign/../key"]:
        show(path, v, apisig.SECUROSYS, "POST", path, signer.sign("POST", path), authorize=True)

    print("== Aevo: HMAC over key,timestamp,METHOD,path,body")
    aevo = apisig.Signer(apisig.AEVO, api_key="API_KEY", secret=b"API_SECRET", clock=lambda: NOW)
    body = json.dumps({"name": "My API key"}).encode()
    headers = aevo.sign("POST", "/api-key", body)
    print("  message:", aevo.message("POST", "/api-key", body).decode())
    show("signed request", v, apisig.AEVO, "POST", "/api-key", headers, body)
    show("replayed", v, apisig.AEVO, "POST", "/api-key", headers, body)
    show("body changed", v, apisig.AEVO, "POST", "/api-key", headers, body + b" ")
    plain = apisig.Signer(apisig.AEVO_SECRET, api_key="API_KEY", secret=b"API_SECRET").sign("GET", "/account")
    show("AEVO-KEY + AEVO-SECRET", v, apisig.AEVO_SECRET, "GET", "/account", plain)

    print("== AlphaPoint APEX: AuthenticateUser, then aptoken")
    apex = apisig.Signer(
        apisig.APEX, api_key="f3a9c2e5b7d84a61", secret=b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b", user_id="12"
    )
    login = apex.sign("POST", "/AuthenticateUser")
    print("  body:", apex.sign_json("POST", "/AuthenticateUser", nonce=int(login["Nonce"])).decode())
    show("AuthenticateUser", v, apisig.APEX, "POST", "/AuthenticateUser", login)
    token = v.issue_session("f3a9c2e5b7d84a61", "12")
    session = apisig.Signer(apisig.APEX_SESSION, token=token).sign("POST", "/GetAccountPositions")
    show("aptoken", v, apisig.APEX_SESSION, "POST", "/GetAccountPositions", session)

    print("== A user-defined scheme (Coinbase-style, as data)")
    cb = apisig.Scheme(
        "coinbase-style",
        [("CB-ACCESS-KEY", "api_key"), ("CB-ACCESS-SIGN", "signature"), ("CB-ACCESS-TIMESTAMP", "timestamp")],
        parts=["timestamp", "method", "path", "body"],
        encoding="base64",
    )
    headers = apisig.Signer(cb, api_key="API_KEY", secret=b"API_SECRET").sign(
        "GET", "/orders?limit=10", now=NOW
    )
    show("signed request", v, cb, "GET", "/orders?limit=10", headers)
    show("query changed", v, cb, "GET", "/orders?limit=1000", headers)

    print("== Key rotation (ZignSec): retry with the other key on 401/403")
    rotation = apisig.Rotation.zignsec()
    attempt = rotation.begin()
    v.set_key("acme", "primary", None)
    keys = ["zs-primary-5b1f0c", "zs-secondary-93ad27"]
    while True:
        h = apisig.Signer(apisig.ZIGNSEC, api_key=keys[attempt.key]).sign("GET", "/x")
        try:
            v.verify(apisig.ZIGNSEC, "GET", "/x", h, now=NOW)
            status = 200
        except apisig.AuthenticationFailed:
            status = 401
        print(f"  key {attempt.key} -> HTTP {status}")
        if rotation.on_response(attempt, status) is not apisig.Next.RETRY:
            break
    print(f"  next requests start with key {rotation.current}")


if __name__ == "__main__":
    main()
