"""A real OAuth2 authorization server for the loopback tests: Authlib's Flask integration with
the client-credentials grant, issuing RFC 9068 JWT access tokens signed HS256 with the secret
the resource server shares; and the resource server, apisig's middleware for ZIGNSEC_OAUTH."""

from __future__ import annotations

import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware, Authenticator

ISSUER = "https://auth.apisig.test"
AUDIENCE = "zignsec-api"
SHARED_SECRET = b"oauth-shared-hs256-secret-for-loopback-tests!"
CLIENT_ID, CLIENT_SECRET = "zs-oauth-client", "s3cret: with / odd & chars"
PRODUCT_KEY = "zs-product-key-7c1e"
LIFETIME = 1200  # ZignSec's 20 minutes


@dataclass
class AuthServerState:
    """What the tests steer and observe."""

    issued: int = 0
    delay: float = 0.0  # seconds the token endpoint takes
    expired_tokens: int = 0  # how many of the next tokens carry an exp in the past
    lifetime: int = LIFETIME
    lock: threading.Lock = field(default_factory=threading.Lock)


class Client:
    """The one registered OAuth2 client (Authlib's ClientMixin interface)."""

    def __init__(self, client_id: str, secret: str) -> None:
        self.client_id, self.secret = client_id, secret

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"


def authorization_server(state: AuthServerState) -> Any:
    """The Flask app: ``POST /oauth/token``."""
    from authlib.integrations.flask_oauth2 import AuthorizationServer
    from authlib.oauth2.rfc6749 import grants
    from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
    from flask import Flask
    from joserfc.jwk import OctKey

    class ClientCredentialsGrant(grants.ClientCredentialsGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    class HS256Tokens(JWTBearerTokenGenerator):
        def get_jwks(self) -> Any:
            return OctKey.import_key(SHARED_SECRET)

        def get_audiences(self, client: Any, user: Any, scope: Any) -> str:
            return AUDIENCE

        def get_extra_claims(self, client: Any, grant_type: str, user: Any, scope: Any) -> dict[str, Any]:
            with state.lock:
                state.issued += 1
                if state.expired_tokens > 0:
                    state.expired_tokens -= 1
                    return {"exp": int(time.time()) - 60}
            return {}

    app = Flask("apisig-oauth-server")
    clients = {CLIENT_ID: Client(CLIENT_ID, CLIENT_SECRET)}
    server = AuthorizationServer(app, query_client=clients.get, save_token=lambda token, request: None)
    server.register_grant(ClientCredentialsGrant)
    server.register_token_generator(
        "default", HS256Tokens(ISSUER, alg="HS256", expires_generator=lambda client, grant: state.lifetime)
    )

    @app.post("/oauth/token")
    def token() -> Any:
        if state.delay:
            time.sleep(state.delay)
        return server.create_token_response()

    return app


def verifier() -> apisig.Verifier:
    v = apisig.Verifier(jwt=apisig.JwtPolicy(SHARED_SECRET, issuer=ISSUER, audience=AUDIENCE))
    v.add("zs-customer", PRODUCT_KEY.encode())
    return v


@dataclass
class Hits:
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self) -> None:
        with self.lock:
            self.count += 1


def resource_asgi(hits: Hits) -> Callable[..., Any]:
    """Starlette behind apisig's ASGI middleware; ``hits`` counts every request that arrives."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def whoami(request: Request) -> JSONResponse:
        p = request.scope[PRINCIPAL_KEY]
        return JSONResponse({"client_id": p.client_id, "scheme": p.scheme})

    app = ApisigASGIMiddleware(
        Starlette(routes=[Route("/{path:path}", whoami, methods=["GET", "POST"])]),
        Authenticator(verifier(), [apisig.ZIGNSEC_OAUTH]),
    )

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            hits.add()
        await app(scope, receive, send)

    return counted


def resource_wsgi(hits: Hits) -> Callable[..., Any]:
    """Flask behind apisig's WSGI middleware."""
    from flask import Flask, jsonify, request

    flask = Flask("apisig-oauth-resource")

    @flask.route("/<path:path>", methods=["GET", "POST"])
    def whoami(path: str) -> Any:
        p = request.environ[PRINCIPAL_KEY]
        return jsonify({"client_id": p.client_id, "scheme": p.scheme})

    app = ApisigWSGIMiddleware(flask.wsgi_app, Authenticator(verifier(), [apisig.ZIGNSEC_OAUTH]))

    def counted(environ: dict[str, Any], start_response: Any) -> Any:
        hits.add()
        return app(environ, start_response)

    return counted
