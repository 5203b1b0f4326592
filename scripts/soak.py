"""A bounded soak of the replay record shared in Redis (``make soak``, not part of ``make test``).

Eight worker processes share one redis-server: three uvicorn ones (the ASGI middleware,
``AsyncRedisReplayStore``) and three werkzeug ones (the WSGI middleware, ``RedisReplayStore``),
both ``python/tests/redis_worker.py``, and two Rust servers (the axum layer, ``apisig-redis``'s
``AsyncRedisReplayStore``; ``http/examples/interop.rs serve-redis``, built once with cargo), all
with the same keys, namespace, window (±2 s) and recovery period (5 s), each on its own port. An asyncio httpx client sends each request to a worker
drawn at random (the copies of a burst and the replays to other workers than the first): new
signed requests (Aevo), bursts of one request fired at once, replays of requests accepted
earlier, tampered and malformed requests and APEX logins, while Redis is killed and restarted
with persistence (AOF, ``appendfsync always``) and without it. It asserts, over the whole run
and across all workers:

* no signed request (and no APEX nonce) is answered 2xx twice — replays, bursts and requests
  accepted before a restart included;
* every replay of an accepted request is refused;
* no 5xx but 503, and 503 only while Redis is down or recovering from a loss of memory (from the
  fault until the recovery period after Redis is back, plus a second of slack);
* every worker stays up, and its resident memory (VmRSS) at the end is within 10 % of where it
  was after the warm-up.

It prints the counts (docs/redis.md keeps the last ones) and exits non-zero on a violation.

    .venv/bin/python scripts/soak.py [SECONDS_PER_PHASE]      (the Makefile's `soak` target)
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "python" / "tests"))
# The workers' keys, namespace and session secret, shared with the Rust worker.
from redis_worker import AEVO_KEY, AEVO_SECRET, APEX_KEY, APEX_SECRET, APEX_USER

WINDOW = 2  # seconds, each way
RECOVERY = 5  # seconds: at least twice the window
ASGI_WORKERS, WSGI_WORKERS, RUST_WORKERS = 3, 3, 2
CONCURRENCY = 16
RSS_TOLERANCE = 0.10


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
    def __init__(self, workers: dict[str, str]) -> None:
        import apisig

        self.apisig = apisig
        self.workers = workers  # name -> URL
        self.aevo = apisig.Signer(apisig.AEVO, api_key=AEVO_KEY, secret=AEVO_SECRET)
        self.apex = apisig.Signer(
            apisig.APEX, api_key=APEX_KEY, secret=APEX_SECRET, user_id=APEX_USER
        )
        self.accepted: dict[
            str, tuple[str, dict[str, str], bytes]
        ] = {}  # identity -> request
        self.counts: collections.Counter[str] = collections.Counter()
        self.per_worker: collections.Counter[str] = (
            collections.Counter()
        )  # "name status"
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
        worker = random.choice(list(self.workers))
        sent = time.monotonic()
        try:
            r = await client.post(
                self.workers[worker] + path, content=body, headers=headers
            )
            status = int(r.status_code)
        except Exception as e:  # noqa: BLE001  (a worker that drops the connection is a violation)
            self.violations.append(f"{kind} to {worker}: {type(e).__name__}: {e!r}")
            return 0
        done = time.monotonic()
        self.per_worker[f"{worker} {status}"] += 1
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
                self.violations.append(f"accepted twice ({kind}, {worker}): {ident}")
            else:
                self.accepted[ident] = req
        elif status == 503:
            if not self.may_be_unavailable(sent, done):
                self.violations.append(
                    f"503 outside a fault ({kind}, {worker}) at {done:.1f}"
                )
        elif status >= 500:
            self.violations.append(f"{status} ({kind}, {worker}): {r.text[:200]}")
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


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def interop() -> Path:
    """The Rust worker: ``http/examples/interop.rs``, built once (cargo skips the work when it is
    up to date)."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    subprocess.run(
        [cargo, "build", "-q", "-p", "apisig-http", "--example", "interop"],
        cwd=ROOT,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "examples" / "interop"


class Workers:
    """The server processes; their stderr goes to a log in ``logs`` (werkzeug logs every request),
    whose tail is printed when one of them died."""

    def __init__(self, redis_port: int, logs: Path) -> None:
        self.redis_port = redis_port
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.urls: dict[str, str] = {}

    def popen(self, name: str, cmd: list[str], **kw: Any) -> subprocess.Popen[bytes]:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115  (closed with the directory)
        proc = subprocess.Popen(cmd, stderr=log, **kw)
        self.procs[name] = proc
        return proc

    def start(self, rust: Path) -> None:
        worker = ROOT / "python" / "tests" / "redis_worker.py"
        ports = {}
        for kind, count in (("asgi", ASGI_WORKERS), ("wsgi", WSGI_WORKERS)):
            for n in range(count):
                name, ports[f"{kind}-{n + 1}"] = f"{kind}-{n + 1}", free_port()
                self.popen(
                    name,
                    [sys.executable, str(worker), kind, str(ports[name]), str(self.redis_port),
                     str(RECOVERY), str(WINDOW)],
                )  # fmt: skip
        for n in range(RUST_WORKERS):
            name = f"rust-{n + 1}"
            proc = self.popen(
                name,
                [
                    str(rust),
                    "serve-redis",
                    str(self.redis_port),
                    str(RECOVERY),
                    str(WINDOW),
                ],
                stdin=subprocess.PIPE,  # it serves until its stdin closes
                stdout=subprocess.PIPE,
            )
            assert proc.stdout is not None
            self.urls[name] = proc.stdout.readline().decode().strip()
        for name, port in ports.items():
            wait_port(port)
            self.urls[name] = f"http://127.0.0.1:{port}"

    def dead(self) -> list[str]:
        return sorted(
            name for name, proc in self.procs.items() if proc.poll() is not None
        )

    def rss(self) -> dict[str, int]:
        return {name: rss_kb(proc.pid) for name, proc in sorted(self.procs.items())}

    def tail(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.stdin is not None:
                proc.stdin.close()
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


def main() -> int:
    phase = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
    wall = time.monotonic()
    rust = interop()
    with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as logs:
        redis = Redis(Path(data))
        redis.start(persistent=True)
        workers = Workers(redis.port, Path(logs))
        timeline: list[str] = []
        try:
            workers.start(rust)
            soak = Soak(workers.urls)
            started = time.monotonic()

            def mark(what: str) -> None:
                timeline.append(f"{time.monotonic() - started:6.1f} s  {what}")

            # A fresh Redis is a store that cannot prove it remembers: a fault from the start.
            soak.fault_begins()
            soak.fault_ends()
            mark(
                f"start, {len(workers.procs)} workers, Redis with AOF (appendfsync always); warm-up"
            )
            asyncio.run(soak.load(phase))
            rss_warm = workers.rss()
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
            dead = workers.dead()
            for name in dead:
                soak.violations.append(f"{name} died: {workers.tail(name)}")
            rss_end = {n: kb for n, kb in workers.rss().items() if n not in dead}
            for name, kb in rss_end.items():
                if abs(kb - rss_warm[name]) > RSS_TOLERANCE * rss_warm[name]:
                    soak.violations.append(
                        f"{name}: resident memory {rss_warm[name]} kB after warm-up, {kb} kB at the end"
                    )
        finally:
            workers.stop()
            redis.kill()
    total = sum(v for k, v in soak.counts.items() if k != "bursts")
    per_worker: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for key, n in sorted(soak.per_worker.items()):
        name, status = key.split()
        per_worker[name][status] = n
    report = {
        "seconds": round(time.monotonic() - started, 1),
        "wall_seconds": round(time.monotonic() - wall, 1),
        "requests": total,
        "accepted": len(soak.accepted),
        "counts": dict(sorted(soak.counts.items())),
        "per_worker": per_worker,
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
