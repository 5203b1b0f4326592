"""A bounded soak of the replay record shared in Redis (``make soak``, not part of ``make test``).

Three uvicorn workers (one ASGI app, ``uvicorn --workers 3``) share one redis-server; an asyncio
httpx client sends a mix of new signed requests (Aevo), bursts of one request fired at once,
replays of requests accepted earlier, tampered and malformed requests and APEX logins, while
Redis is killed and restarted with persistence (AOF, ``appendfsync always``) and without it.
It asserts, over the whole run:

* no signed request (and no APEX nonce) is answered 2xx twice — replays, bursts and requests
  accepted before a restart included;
* every replay of an accepted request is refused;
* no 5xx but 503, and 503 only while Redis is down or recovering from a loss of memory (from the
  fault until the recovery period after Redis is back, plus a second of slack);
* the workers stay up.

It prints the counts (docs/redis.md keeps the last ones) and exits non-zero on a violation.

    .venv/bin/python scripts/soak.py [SECONDS_PER_PHASE]      (the Makefile's `soak` target)
    uvicorn --factory soak:app ...                            (the worker app; env below)
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

AEVO_KEY, AEVO_SECRET = "soak-aevo-key", b"soak-aevo-secret"
APEX_KEY, APEX_SECRET, APEX_USER = "soak-apex-key", b"soak-apex-secret", "7"
NAMESPACE = "apisig-soak"
WINDOW = 2  # seconds, each way
RECOVERY = 5.0  # seconds: at least twice the window
WORKERS = 3
CONCURRENCY = 16


def app() -> Any:
    """The worker: ASGI middleware over a hello app, the replay record in Redis (env
    SOAK_REDIS_PORT)."""
    import apisig
    import redis.asyncio
    from apisig.replay import AsyncRedisReplayStore
    from apisig.server import ApisigASGIMiddleware
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    port = int(os.environ["SOAK_REDIS_PORT"])
    client = redis.asyncio.Redis(
        host="127.0.0.1",
        port=port,
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    store = AsyncRedisReplayStore(client, namespace=NAMESPACE, recovery=RECOVERY)
    v = apisig.Verifier(
        replay_store=store,
        window=WINDOW,
        sessions=apisig.SessionKeys(b"soak-session-secret"),
    )
    v.add(AEVO_KEY, AEVO_SECRET)
    v.add(APEX_KEY, APEX_SECRET, user_id=APEX_USER)

    async def hello(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    schemes = [apisig.AEVO, apisig.APEX_SESSION]
    return ApisigASGIMiddleware(
        hello, verifier=v, schemes=schemes, apex_authenticate="/AuthenticateUser"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class Redis:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.data = data
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, persistent: bool) -> None:
        args = (
            ["--appendonly", "yes", "--appendfsync", "always"]
            if persistent
            else ["--appendonly", "no"]
        )
        exe = shutil.which("redis-server") or "redis-server"
        cmd = [
            exe,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--dir",
            str(self.data),
            *args,
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL)
        wait_port(self.port)
        time.sleep(0.2)  # loading the AOF

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None


class Soak:
    def __init__(self, url: str) -> None:
        import apisig

        self.apisig = apisig
        self.url = url
        self.aevo = apisig.Signer(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET)
        self.apex = apisig.Signer(
            apisig.APEX, api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER
        )
        self.accepted: dict[
            str, tuple[str, dict[str, str], bytes]
        ] = {}  # identity -> request
        self.counts: collections.Counter[str] = collections.Counter()
        self.violations: list[str] = []
        self.faults: list[tuple[float, float]] = []  # intervals in which 503 is allowed
        self.fault_open: float | None = None
        self.seq = 0
        self.last_nonce = 0

    def fault_begins(self) -> None:
        self.fault_open = time.monotonic()

    def fault_ends(self) -> None:
        """Redis is back: 503s stay allowed for the recovery period (and a second of slack)."""
        assert self.fault_open is not None
        self.faults.append((self.fault_open, time.monotonic() + RECOVERY + 1.0))
        self.fault_open = None

    def may_be_unavailable(self, sent: float, done: float) -> bool:
        if self.fault_open is not None and done >= self.fault_open:
            return True
        return any(start <= done and sent <= end for start, end in self.faults)

    def new_aevo(self) -> tuple[str, dict[str, str], bytes]:
        self.seq += 1
        body = json.dumps({"n": self.seq}).encode()
        return "/orders", self.aevo.sign("POST", "/orders", body), body

    def new_login(self) -> tuple[str, dict[str, str], bytes]:
        self.last_nonce = max(self.last_nonce + 1, time.time_ns() // 1_000_000)
        return (
            "/AuthenticateUser",
            self.apex.sign("POST", "/AuthenticateUser", b"", nonce=self.last_nonce),
            b"",
        )

    @staticmethod
    def identity(path: str, headers: dict[str, str]) -> str:
        return (
            path + ":" + (headers.get("AEVO-SIGNATURE") or headers.get("Nonce") or "")
        )

    async def send(
        self, client: Any, kind: str, req: tuple[str, dict[str, str], bytes]
    ) -> int:
        path, headers, body = req
        sent = time.monotonic()
        try:
            r = await client.post(self.url + path, content=body, headers=headers)
            status = int(r.status_code)
        except Exception as e:  # noqa: BLE001  (a worker that drops the connection is a violation)
            self.violations.append(f"{kind}: {type(e).__name__}: {e}")
            return 0
        done = time.monotonic()
        error = ""
        if status >= 400:
            try:
                error = " " + str(r.json().get("error", "apex"))
            except ValueError:
                error = " ?"
        self.counts[f"{kind} {status}{error}"] += 1
        ident = self.identity(path, headers)
        if 200 <= status < 300:
            if kind in ("tampered", "malformed"):
                self.violations.append(f"{kind} accepted: {ident}")
            elif ident in self.accepted:
                self.violations.append(f"accepted twice ({kind}): {ident}")
            else:
                self.accepted[ident] = req
        elif status == 503:
            if not self.may_be_unavailable(sent, done):
                self.violations.append(f"503 outside a fault ({kind}) at {done:.1f}")
        elif status >= 500:
            self.violations.append(f"{status} ({kind}): {r.text[:200]}")
        return status

    async def burst(self, client: Any) -> None:
        req = self.new_aevo() if random.random() < 0.7 else self.new_login()
        statuses = await asyncio.gather(
            *(self.send(client, "burst", req) for _ in range(5))
        )
        self.counts["bursts"] += 1
        if sum(200 <= s < 300 for s in statuses) > 1:
            self.violations.append(f"burst accepted more than once: {statuses}")

    async def one(self, client: Any) -> None:
        roll = random.random()
        if roll < 0.45:
            await self.send(client, "new", self.new_aevo())
        elif roll < 0.55:
            await self.send(client, "login", self.new_login())
        elif roll < 0.75 and self.accepted:
            req = random.choice(list(self.accepted.values()))
            status = await self.send(client, "replay", req)
            if status and status not in (401, 503):
                self.violations.append(f"replay answered {status}")
        elif roll < 0.85:
            path, headers, body = self.new_aevo()
            await self.send(client, "tampered", (path, headers, body + b" "))
        elif roll < 0.92:
            path, headers, body = self.new_aevo()
            headers = {**headers, "AEVO-TIMESTAMP": "not-a-number"}
            await self.send(client, "malformed", (path, headers, body))
        else:
            await self.burst(client)

    async def load(self, seconds: float) -> None:
        import httpx

        deadline = time.monotonic() + seconds
        limits = httpx.Limits(max_connections=CONCURRENCY * 5)
        async with httpx.AsyncClient(timeout=10, limits=limits) as client:

            async def loop() -> None:
                while time.monotonic() < deadline:
                    await self.one(client)

            await asyncio.gather(*(loop() for _ in range(CONCURRENCY)))


def rss_kb(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


def children(pid: int) -> list[int]:
    out = subprocess.run(
        ["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False
    ).stdout
    return [int(p) for p in out.split()]


def main() -> int:
    phase = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    here = Path(__file__).resolve().parent
    with tempfile.TemporaryDirectory() as data:
        redis = Redis(Path(data))
        redis.start(persistent=True)
        http_port = free_port()
        env = {**os.environ, "SOAK_REDIS_PORT": str(redis.port)}
        uvicorn = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "soak:app", "--app-dir", str(here), "--host",
             "127.0.0.1", "--port", str(http_port), "--workers", str(WORKERS), "--log-level", "warning"],
            env=env,
        )  # fmt: skip
        soak = Soak(f"http://127.0.0.1:{http_port}")
        timeline: list[str] = []
        try:
            wait_port(http_port)
            started = time.monotonic()

            def mark(what: str) -> None:
                timeline.append(f"{time.monotonic() - started:6.1f} s  {what}")

            # A fresh Redis is a store that cannot prove it remembers: a fault from the start.
            soak.fault_begins()
            soak.fault_ends()
            mark("start, Redis with AOF (appendfsync always); warm-up")
            asyncio.run(soak.load(phase))
            workers = children(uvicorn.pid)
            rss_warm = rss_kb(workers)
            for persistent, down in ((True, 3.0), (False, 3.0), (False, 0.0)):
                asyncio.run(soak.load(phase))
                soak.fault_begins()
                redis.kill()
                if not persistent:
                    for f in Path(data).iterdir():
                        if f.is_dir():
                            shutil.rmtree(f)
                        else:
                            f.unlink()
                how = "with AOF" if persistent else "without persistence"
                mark(f"Redis killed, down {down:.0f} s, restarted {how}")

                async def down_load(seconds: float) -> None:
                    if seconds:
                        await soak.load(seconds)

                asyncio.run(down_load(down))
                redis.start(persistent=persistent)
                soak.fault_ends()
            asyncio.run(soak.load(phase))
            mark("end")
            rss_end = rss_kb(workers)
            alive = uvicorn.poll() is None and all(
                Path(f"/proc/{p}").exists() for p in workers
            )
            if not alive:
                soak.violations.append("a worker died")
        finally:
            uvicorn.terminate()
            try:
                uvicorn.wait(timeout=15)
            except subprocess.TimeoutExpired:
                uvicorn.kill()
            redis.kill()
    total = sum(v for k, v in soak.counts.items() if k != "bursts")
    report = {
        "seconds": round(time.monotonic() - started, 1),
        "requests": total,
        "accepted": len(soak.accepted),
        "counts": dict(sorted(soak.counts.items())),
        "rss_kb_after_warm_up": rss_warm,
        "rss_kb_at_end": rss_end,
        "violations": soak.violations[:20],
        "violation_count": len(soak.violations),
    }
    print("\n".join(timeline))
    print(json.dumps(report, indent=1))
    return 1 if soak.violations else 0


if __name__ == "__main__":
    sys.exit(main())
