"""The Python side of the end-to-end benchmark (scripts/bench-asgi.sh, run by `make bench`): what
the ASGI middleware costs a real Starlette app under uvicorn, measured by wrk.

* ``asgi_app.py presign N FILE`` writes N Aevo requests signed ahead (the 200-byte body of
  e2e_bench, distinct timestamps) in the format of bench/http/aevo.lua: the body on the first
  line, then ``timestamp signature`` per line.
* ``asgi_app.py serve auth|plain`` serves ``POST /orders`` (reads the body, answers ``ok``) with
  uvicorn, one worker, as a new user would write it: a Starlette hello-world, with
  ``Middleware(ApisigASGIMiddleware, ...)`` verifying Aevo (``auth``) or with no authentication
  (``plain``); prints the port and its pid and stops when its standard input closes.
* ``asgi_app.py profile [N] [-v]``: the same two apps driven in-process (no sockets, no server) with
  N requests each, an ASGI scope as uvicorn builds it: the time per request of each, their
  difference, and the Python-level function calls per request (cProfile; with ``-v`` the
  busiest functions of the authenticated app). Steadier than wall time over HTTP on a shared machine.
"""

from __future__ import annotations

import asyncio
import cProfile
import os
import pstats
import socket
import sys
import threading
import time
from typing import Any

import apisig
from apisig.server import ApisigASGIMiddleware
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

KEY = "bench-aevo-key"
SECRET = b"bench-aevo-secret-0123456789abcdef"
# The freshness window: each round's requests are signed just before it is sent.
WINDOW_S = 30
# Room for every request of a whole benchmark run inside the window (a full record refuses).
REPLAY_SLOTS = 1 << 20
_ORDER = '{"instrument":"ETH-PERP","side":"buy","amount":"1.5","limit_price":"2000.00","post_only":true,"pad":"'
BODY = (_ORDER + "x" * (200 - len(_ORDER) - 2) + '"}').encode()
assert len(BODY) == 200


async def orders(request: Request) -> PlainTextResponse:
    body = await request.body()
    return PlainTextResponse("ok" if body else "empty")


def app(auth: bool) -> Starlette:
    middleware = []
    if auth:
        verifier = apisig.Verifier(window=WINDOW_S, replay_capacity=REPLAY_SLOTS)
        verifier.add(KEY, SECRET)
        middleware.append(
            Middleware(ApisigASGIMiddleware, verifier=verifier, schemes=[apisig.AEVO])
        )
    return Starlette(
        routes=[Route("/orders", orders, methods=["POST"])], middleware=middleware
    )


def presign(n: int, path: str, start: int | None = None) -> list[dict[str, str]]:
    signer = apisig.Signer(apisig.AEVO, api_key=KEY, secret=SECRET)
    start = time.time_ns() if start is None else start
    signed = [
        signer.sign("POST", "/orders", BODY, now=start + 1000 * i) for i in range(n)
    ]
    if path:
        with open(path, "w") as out:
            out.write(BODY.decode() + "\n")
            out.writelines(
                f"{h['AEVO-TIMESTAMP']} {h['AEVO-SIGNATURE']}\n" for h in signed
            )
    return signed


def serve(auth: bool) -> None:
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app(auth), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)

    def stop() -> None:
        sys.stdin.buffer.read()
        server.should_exit = True

    threading.Thread(target=stop, daemon=True).start()
    print(
        sock.getsockname()[1], os.getpid(), sep="\n", flush=True
    )  # the pid: for its CPU time
    server.run(sockets=[sock])


def scope(headers: dict[str, str]) -> dict[str, Any]:
    """The scope uvicorn (h11 or httptools) hands an app for one of wrk's requests."""
    raw = [(b"host", b"127.0.0.1:8080")] + [
        (k.lower().encode(), v.encode()) for k, v in headers.items()
    ]
    raw += [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
    ]
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "server": ("127.0.0.1", 8080), "client": ("127.0.0.1", 50000), "scheme": "http",
        "method": "POST", "root_path": "", "path": "/orders", "raw_path": b"/orders", "query_string": b"",
        "headers": raw, "state": {},
    }  # fmt: skip


async def drive(application: Any, requests: list[dict[str, str]]) -> None:
    async def send(message: Any) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"refused: {message}")

    for headers in requests:

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": BODY, "more_body": False}

        await application(scope(headers), receive, send)


def profile(n: int, verbose: bool = False, rounds: int = 10) -> None:
    loop = asyncio.new_event_loop()
    apps = {mode: app(mode == "auth") for mode in ("plain", "auth")}
    best: dict[str, float] = {}
    for _ in range(
        rounds
    ):  # interleaved; the best batch of each (CPU time: waits not counted)
        for mode, application in apps.items():
            signed = presign(n // rounds, "")
            t0 = time.process_time()
            loop.run_until_complete(drive(application, signed))
            took = (time.process_time() - t0) / len(signed) * 1e6
            best[mode] = min(best.get(mode, took), took)
    print(
        f"in process, {rounds} interleaved batches of {n // rounds} requests (CPU time, best batch): "
        f"plain {best['plain']:.1f} us, auth {best['auth']:.1f} us a request: "
        f"the middleware {best['auth'] - best['plain']:.1f} us"
    )
    for mode, application in apps.items():
        signed = presign(n, "")
        prof = cProfile.Profile()
        prof.enable()
        loop.run_until_complete(drive(application, signed))
        prof.disable()
        stats = pstats.Stats(prof)
        calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
        print(f"{mode}: {calls / n:.1f} Python-level calls a request")
        if mode == "auth" and verbose:
            stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["presign", n, path]:
            presign(int(n), path)
        case ["serve", "auth" | "plain" as mode]:
            serve(mode == "auth")
        case ["profile", *rest]:
            verbose = "-v" in rest
            numbers = [int(a) for a in rest if a != "-v"]
            profile(numbers[0] if numbers else 50000, verbose)
        case _:
            sys.exit(
                "usage: asgi_app.py presign N FILE | serve auth|plain | profile [N]"
            )
