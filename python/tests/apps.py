"""The applications the integration tests run on loopback: one Starlette (ASGI) and one Flask
(WSGI) app, each behind apisig's middleware, configured for every dialect."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

JWT_SECRET = b"jwt-secret-for-the-loopback-tests"
SESSION_SECRET = b"session-secret-for-the-loopback-tests"

COINBASE = apisig.Scheme(
    "coinbase-style",
    [("CB-ACCESS-KEY", "api_key"), ("CB-ACCESS-SIGN", "signature"), ("CB-ACCESS-TIMESTAMP", "timestamp")],
    parts=["timestamp", "method", "path", "body"],
    encoding="base64",
    time_unit="s",
)

# Clients and their credentials, as the tests hold them.
SIGNIUS_KEY = "sg-3H06Ydk2Al4aSBuT6zXAuXEqOI6VdSxZ"
ZS_PRIMARY, ZS_SECONDARY = "zs-primary-5b1f0c", "zs-secondary-93ad27"
ZS_OLD, ZS_NEW = "zs-rot-old-0a1b2c", "zs-rot-new-3d4e5f"
AEVO_KEY, AEVO_SECRET = "aevo-key-1", b"aevo-secret-1"
APEX_KEY, APEX_SECRET, APEX_USER = "f3a9c2e5b7d84a61", b"9e1c7b3a5d2f4e8c0b6a1d9f3e7c5a2b", "12"
CB_KEY, CB_SECRET = "cb-key-1", b"cb-secret-1"
TSB_OPS, TSB_OPS_2, TSB_MGMT, TSB_REVOKED = (
    "op-7f3a9c2e51d84b06",
    "op-next-1Qa2Ws3Ed4",
    "km-0d5e8b7a4c3f2169",
    "op-old",
)

GATEWAY_SCHEMES = [
    apisig.AEVO,
    apisig.AEVO_SECRET,
    apisig.APEX,
    apisig.APEX_SESSION,
    apisig.SIGNIUS,
    apisig.ZIGNSEC,
    apisig.ZIGNSEC_LEGACY,
    apisig.ZIGNSEC_OAUTH,
    COINBASE,
]
TSB_SCHEMES = [apisig.SECUROSYS, apisig.SECUROSYS_JWT]


def gateway() -> Authenticator:
    v = apisig.Verifier(sessions=apisig.SessionKeys(SESSION_SECRET), jwt=apisig.JwtPolicy(JWT_SECRET))
    v.add("signius-portal", SIGNIUS_KEY.encode())
    v.add("zs-acme", ZS_PRIMARY.encode(), secondary=ZS_SECONDARY.encode())
    v.add("zs-rotated", ZS_OLD.encode(), secondary=ZS_NEW.encode())
    v.set_key("zs-rotated", "primary", None)  # the service retired the old key
    v.add(AEVO_KEY, AEVO_SECRET)
    v.add(APEX_KEY, APEX_SECRET, user_id=APEX_USER)
    v.add(CB_KEY, CB_SECRET)
    return Authenticator(v, GATEWAY_SCHEMES, apex_authenticate="/AuthenticateUser")


def tsb() -> Authenticator:
    v = apisig.Verifier(policy=apisig.SECUROSYS_ROLES, jwt=apisig.JwtPolicy(JWT_SECRET))
    v.add("tsb-ops", TSB_OPS.encode(), role="keyOperationToken")
    v.add("tsb-ops-2", TSB_OPS_2.encode(), role="keyOperationToken")
    v.add("tsb-mgmt", TSB_MGMT.encode(), role="keyManagementToken")
    v.add("tsb-ops-old", TSB_REVOKED.encode(), role="keyOperationToken")
    v.revoke("tsb-ops-old")
    return Authenticator(v, TSB_SCHEMES, authorize=True)


def jwt_for(sub: str, lifetime: int = 600) -> str:
    claims = {"sub": sub, "exp": int(time.time()) + lifetime}
    return apisig.jwt_encode(JWT_SECRET, json.dumps(claims, separators=(",", ":")).encode())


def describe(principal: apisig.Principal, body: bytes, path: str) -> dict[str, Any]:
    return {
        "client_id": principal.client_id,
        "slot": principal.slot,
        "role": principal.role,
        "user_id": principal.user_id,
        "scheme": principal.scheme,
        "length": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "path": path,
    }


def asgi_app(auth: Authenticator) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def whoami(request: Request) -> Response:
        body = await request.body()
        principal = request.scope[PRINCIPAL_KEY]
        assert request.state.apisig_principal is principal
        if request.url.path == "/zs/strict" and principal.slot == "primary":
            return JSONResponse({"error": "primary key disabled for this product"}, status_code=403)
        return JSONResponse(describe(principal, body, request.url.path))

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", whoami, methods=methods)])
    return ApisigASGIMiddleware(app, auth)


def wsgi_app(auth: Authenticator) -> Any:
    from flask import Flask, jsonify, request

    app = Flask("apisig-tests")
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]

    @app.route("/", defaults={"path": ""}, methods=methods)
    @app.route("/<path:path>", methods=methods)
    def whoami(path: str) -> Any:
        body = request.get_data()
        principal = request.environ[PRINCIPAL_KEY]
        if request.path == "/zs/strict" and principal.slot == "primary":
            return jsonify({"error": "primary key disabled for this product"}), 403
        return jsonify(describe(principal, body, request.path))

    app.wsgi_app = ApisigWSGIMiddleware(app.wsgi_app, auth)  # type: ignore[method-assign]
    return app
