"""A typed tour of the public API, checked by ``mypy --strict`` (strict_bytes) in ``make py-test``."""

from __future__ import annotations

import dataclasses

import apisig
from apisig.client import HttpxAuth, KeyChain, RequestsAuth
from apisig.server import ApisigASGIMiddleware, Authenticator


@dataclasses.dataclass
class Webhook:
    name: str = "webhook-style"
    headers: tuple[tuple[str, str], ...] = (
        ("Webhook-Timestamp", "timestamp"),
        ("Webhook-Signature", "signature"),
    )
    parts: tuple[str, ...] = ("timestamp", "body")
    separator: str = "."
    encoding: str = "base64"


def client_side() -> dict[str, str]:
    signer = apisig.Signer(
        apisig.AEVO, api_key="API_KEY", secret=b"API_SECRET", clock=lambda: 1673425955575713842
    )
    headers: dict[str, str] = signer.sign("GET", "/account")
    message: bytes = signer.message("GET", "/account")
    assert message.endswith(b",")
    hook = apisig.scheme(Webhook())
    webhook_headers = apisig.Signer(hook, secret=b"whsec").sign("POST", "/hook", b"{}")
    return {**headers, **webhook_headers}


def server_side(headers: dict[str, str]) -> str | None:
    verifier = apisig.Verifier(capacity=8, replay_capacity=1024, policy=apisig.SECUROSYS_ROLES)
    verifier.add("API_KEY", b"API_SECRET")
    try:
        who: apisig.Principal = verifier.verify(
            apisig.AEVO, "GET", "/account", headers, now=1673425955575713842
        )
    except apisig.ReplayedRequest:
        return None
    except apisig.AuthenticationFailed as e:
        code: int = e.code
        return f"refused {e.name} ({code})"
    return who.client_id


def rotation() -> int:
    r = apisig.Rotation.zignsec()
    attempt = r.begin()
    while r.on_response(attempt, 401) is apisig.Next.RETRY:
        pass
    return r.current


def integrations() -> None:
    chain = KeyChain(apisig.ZIGNSEC, keys=["primary", "secondary"])
    HttpxAuth(chain=chain)
    RequestsAuth(apisig.SIGNIUS, api_key="key")
    verifier = apisig.Verifier()

    async def app(scope: object, receive: object, send: object) -> None:
        return None

    ApisigASGIMiddleware(app, Authenticator(verifier, [apisig.SIGNIUS]))


if __name__ == "__main__":
    print(server_side(client_side()), rotation())
