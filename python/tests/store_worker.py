"""A worker of a server that reads its clients from a key store (SQLite or PostgreSQL) through
the verifier's cache: run as its own process by tests/test_verifier_store.py, the way uvicorn
runs several.

    python store_worker.py STORE_URL HTTP_PORT CACHE_TTL    serve until killed

The master key comes from ``APISIG_MASTER_KEY``, as the command line's does. ``GET /whoami``
with SIGNIUS's ``X-Api-Key`` answers the principal's client id (or the middleware's refusal).
"""

from __future__ import annotations

import sys
from typing import Any

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware


def app(store_url: str, cache_ttl: float) -> Any:
    verifier = apisig.Verifier(store=apisig.Store.open(store_url), cache_ttl=cache_ttl)

    async def whoami(scope: Any, receive: Any, send: Any) -> None:
        body = scope[PRINCIPAL_KEY].client_id.encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return ApisigASGIMiddleware(whoami, verifier=verifier, schemes=[apisig.SIGNIUS, apisig.AEVO])


if __name__ == "__main__":
    import uvicorn

    url, port, ttl = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    uvicorn.run(app(url, ttl), host="127.0.0.1", port=port, log_level="warning")
