"""A worker of a server that shares its replay record in Redis: run as its own process by
tests/test_redis.py, the way gunicorn or uvicorn runs several.

    python redis_worker.py asgi|wsgi HTTP_PORT REDIS_PORT [RECOVERY WINDOW]    serve until killed

RECOVERY (seconds to refuse after Redis lost its memory) is 0 unless given: the tests not about
losing memory trust a fresh Redis at once; their nonces are above any floor (:data:`N`).

and :func:`race`, run in several processes at once, verifying the same requests.
"""

from __future__ import annotations

import sys
from typing import Any

import redis
import redis.asyncio
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

import apisig
from apisig.replay import AsyncRedisReplayStore, AsyncReplayStore, RedisReplayStore, ReplayStore
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware, ApisigWSGIMiddleware

AEVO_KEY, AEVO_SECRET = "aevo-worker-key", b"aevo-worker-secret"
APEX_KEY, APEX_SECRET, APEX_USER = "apex-worker-key", b"apex-worker-secret", "42"
SESSION_SECRET = b"session-secret-shared-by-the-workers"
NAMESPACE = "apisig-test"
WINDOW = 30
N = 10**13
"""Added to the nonces of the tests not about losing memory: above the floor a fresh store
sets (the present in ms), as APEX clients' millisecond nonces are."""


def redis_options(port: int) -> dict[str, Any]:
    """Fail fast when Redis is down: a short timeout (and, below, no retries; see docs/redis.md)."""
    return {"host": "127.0.0.1", "port": port, "socket_timeout": 1.0, "socket_connect_timeout": 1.0}


def verifier(store: ReplayStore | AsyncReplayStore, window: int = WINDOW) -> apisig.Verifier:
    v = apisig.Verifier(replay_store=store, window=window, sessions=apisig.SessionKeys(SESSION_SECRET))
    v.add(AEVO_KEY, AEVO_SECRET)
    v.add(APEX_KEY, APEX_SECRET, user_id=APEX_USER)
    return v


def sync_verifier(
    redis_port: int, *, fail_open: bool = False, recovery: float = 0, window: int = WINDOW
) -> apisig.Verifier:
    client = redis.Redis(**redis_options(redis_port), retry=Retry(NoBackoff(), 0))
    store = RedisReplayStore(client, namespace=NAMESPACE, fail_open=fail_open, recovery=recovery)
    return verifier(store, window)


def async_verifier(redis_port: int, *, recovery: float = 0, window: int = WINDOW) -> apisig.Verifier:
    client = redis.asyncio.Redis(**redis_options(redis_port), retry=AsyncRetry(NoBackoff(), 0))
    return verifier(AsyncRedisReplayStore(client, namespace=NAMESPACE, recovery=recovery), window)


SCHEMES = [apisig.AEVO, apisig.APEX_SESSION]


async def asgi_hello(scope: Any, receive: Any, send: Any) -> None:
    who = scope[PRINCIPAL_KEY].client_id.encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": who})


def wsgi_hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [environ[PRINCIPAL_KEY].client_id.encode()]


def serve(kind: str, http_port: int, redis_port: int, recovery: float = 0, window: int = WINDOW) -> None:
    login = {"apex_authenticate": "/AuthenticateUser"}
    if kind == "asgi":
        import uvicorn

        v = async_verifier(redis_port, recovery=recovery, window=window)
        app = ApisigASGIMiddleware(asgi_hello, verifier=v, schemes=SCHEMES, **login)
        uvicorn.run(app, host="127.0.0.1", port=http_port, log_level="warning", lifespan="off")
    else:
        from werkzeug.serving import run_simple

        v = sync_verifier(redis_port, recovery=recovery, window=window)
        wsgi = ApisigWSGIMiddleware(wsgi_hello, verifier=v, schemes=SCHEMES, **login)
        run_simple("127.0.0.1", http_port, wsgi, threaded=True)


def race(redis_port: int, requests: list[tuple[str, dict[str, str]]], barrier: Any, out: Any) -> None:
    """Verifies each request right after every racing process reached the barrier; puts the
    outcome of each (the error's name, or "ok") on ``out`` in order."""
    v = sync_verifier(redis_port)
    outcomes = []
    for scheme_name, headers in requests:
        scheme = apisig.PRESETS[scheme_name]
        barrier.wait()
        try:
            v.verify(
                scheme, "POST", "/orders" if scheme_name == "aevo" else "/AuthenticateUser", headers, b"{}"
            )
            outcomes.append("ok")
        except apisig.ApisigError as e:
            outcomes.append(e.name)
    out.put(outcomes)


if __name__ == "__main__":
    recovery, window = (float(sys.argv[4]), int(sys.argv[5])) if len(sys.argv) > 5 else (0.0, WINDOW)
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), recovery, window)
