"""The replay record shared by several worker processes in a real Redis (apisig.replay).

A ``redis-server`` from Debian (installed by scripts/py-env.sh) is started on a free loopback
port for these tests and stopped afterwards; the server processes are real uvicorn (ASGI,
asyncio Redis client) and werkzeug (WSGI, blocking client) workers started as subprocesses.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import redis_worker as w
from conftest import free_port, wait_for_port
from redis.backoff import NoBackoff
from redis.retry import Retry

import apisig
from apisig.replay import AsyncRedisReplayStore, RedisReplayStore, ReplayStore

HERE = Path(__file__).resolve().parent
REDIS_SERVER = shutil.which("redis-server")
pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is installed by scripts/py-env.sh")


NO_PERSISTENCE = ("--save", "", "--appendonly", "no")


class RedisServer:
    """A redis-server on loopback that a test can stop and start again on the same port;
    without persistence unless told otherwise (``args``)."""

    def __init__(self, args: tuple[str, ...] = NO_PERSISTENCE) -> None:
        self.port = free_port()
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert REDIS_SERVER is not None
        self.proc = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--protected-mode",
                "yes",
                *self.args,
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.BusyLoadingError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None

    def client(self) -> redis.Redis:
        return redis.Redis(**w.redis_options(self.port), retry=Retry(NoBackoff(), 0))


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()


def worker(kind: str, redis_port: int, *extra: str) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "redis_worker.py"), kind, str(port), str(redis_port), *extra]
    )
    try:
        wait_for_port(port, timeout=20)
    except TimeoutError:
        proc.kill()
        raise
    return f"http://127.0.0.1:{port}", proc


@pytest.fixture
def workers(redis_server: RedisServer) -> Iterator[dict[str, str]]:
    """Two server processes sharing the Redis: an ASGI one and a WSGI one."""
    started = [worker(kind, redis_server.port) for kind in ("asgi", "wsgi")]
    try:
        yield {"asgi": started[0][0], "wsgi": started[1][0]}
    finally:
        for _, proc in started:
            proc.kill()
            proc.wait(timeout=10)


def aevo_headers(body: bytes = b"{}", now: int | None = None) -> dict[str, str]:
    signer = apisig.Signer(apisig.AEVO, api_key=w.AEVO_KEY, secret=w.AEVO_SECRET)
    return signer.sign("POST", "/orders", body, now=now)


def apex_headers(nonce: int) -> dict[str, str]:
    signer = apisig.Signer(apisig.APEX, api_key=w.APEX_KEY, secret=w.APEX_SECRET, user_id=w.APEX_USER)
    return signer.sign("POST", "/AuthenticateUser", b"{}", nonce=nonce)


def claim_key(key_id: str, signature_hex: str) -> str:
    """The Redis key, computed here from the layout apisig.replay documents (the oracle)."""
    layout = b"apisig replay claim v1\0" + b"o" + len(key_id).to_bytes(8, "big") + key_id.encode()
    return f"{w.NAMESPACE}:r:" + hashlib.sha256(layout + bytes.fromhex(signature_hex)[:16]).hexdigest()


# ---- the store itself -------------------------------------------------------------------------


def test_keys_are_namespaced_hashed_and_expire_with_the_window(redis_server: RedisServer) -> None:
    v = w.sync_verifier(redis_server.port)
    now = time.time_ns()
    headers = aevo_headers(now=now - 5_000_000_000)
    assert v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}", now=now).client_id == w.AEVO_KEY
    r = redis_server.client()
    keys = [k.decode() for k in r.keys(f"{w.NAMESPACE}:r:*")]
    assert keys == [claim_key(w.AEVO_KEY, headers["AEVO-SIGNATURE"])]
    # Neither the signature nor any part of it is stored.
    assert headers["AEVO-SIGNATURE"][:16] not in keys[0].split(":")[-1]
    assert r.get(keys[0]) == b"1"
    # Kept until the request's timestamp plus the tolerance: 30 s - 5 s.
    assert 24_000 < r.pttl(keys[0]) <= 25_000
    with pytest.raises(apisig.ReplayedRequest, match="shared replay record"):
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}", now=now)


def test_entries_expire_with_the_window(redis_server: RedisServer) -> None:
    store = RedisReplayStore(redis_server.client(), namespace=w.NAMESPACE, recovery=0)
    v = apisig.Verifier(replay_store=store, window=1)
    v.add(w.AEVO_KEY, w.AEVO_SECRET)
    headers = aevo_headers()
    v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")
    key = claim_key(w.AEVO_KEY, headers["AEVO-SIGNATURE"])
    r = redis_server.client()
    assert 0 < r.pttl(key) <= 1000
    time.sleep(1.3)
    assert r.exists(key) == 0, "the record outlived the window"
    # The window, not the record, refuses the request now.
    with pytest.raises(apisig.TimestampOutsideWindow):
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")


def test_apex_nonces_advance_a_shared_high_water_mark(redis_server: RedisServer) -> None:
    one, two = w.sync_verifier(redis_server.port), w.sync_verifier(redis_server.port)
    assert (
        one.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(w.N + 10), b"{}").user_id
        == w.APEX_USER
    )
    # The second process never saw nonce 10, but the shared mark did (and after that refusal,
    # the second process's own mark refuses lower ones too).
    for stale in (10, 9, 1):
        with pytest.raises(apisig.ReplayedRequest, match="nonce" if stale == 10 else None):
            two.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(w.N + stale), b"{}")
    two.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(w.N + 11), b"{}")
    with pytest.raises(apisig.ReplayedRequest):
        one.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(w.N + 11), b"{}")
    # Nonces compare as numbers across digit counts, up to u64::MAX.
    one.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(w.N + 100), b"{}")
    two.verify(apisig.APEX, "POST", "/AuthenticateUser", apex_headers(2**64 - 1), b"{}")
    keys = redis_server.client().keys(f"{w.NAMESPACE}:n:*")
    assert len(keys) == 1 and keys[0].startswith(f"{w.NAMESPACE}:n:".encode())
    assert redis_server.client().get(keys[0]) == b"18446744073709551615"


def test_namespaces_keep_two_services_apart(redis_server: RedisServer) -> None:
    headers = aevo_headers()
    for ns in ("service-a", "service-b"):
        v = apisig.Verifier(replay_store=RedisReplayStore(redis_server.client(), namespace=ns, recovery=0))
        v.add(w.AEVO_KEY, w.AEVO_SECRET)
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")
    with pytest.raises(ValueError, match="namespace"):
        RedisReplayStore(redis_server.client(), namespace="two words")


def test_a_store_of_your_own_is_a_claim_method() -> None:
    class SetStore:
        def __init__(self) -> None:
            self.seen: set[str] = set()

        def claim(self, claim: apisig.ReplayClaim) -> None:
            if claim.key in self.seen:
                raise apisig.ReplayedRequest("seen")
            self.seen.add(claim.key)

    store = SetStore()
    assert isinstance(store, ReplayStore)
    v = apisig.Verifier(replay_store=store)
    v.add(w.AEVO_KEY, w.AEVO_SECRET)
    headers = aevo_headers()
    _, claim = v.verify_deferred(apisig.AEVO, "POST", "/orders", headers, b"{}")
    assert claim is not None and claim.client_id == w.AEVO_KEY and claim.nonce is None
    assert claim.key == claim_key(w.AEVO_KEY, headers["AEVO-SIGNATURE"]).split(":")[-1]
    assert store.seen == set(), "verify_deferred leaves the claim to the caller"
    v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")
    with pytest.raises(apisig.ReplayedRequest):
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")
    # Schemes that record nothing make no claim.
    v.add("static", b"sg-key-of-a-static-client")
    assert (
        v.verify_deferred(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "sg-key-of-a-static-client"})[1] is None
    )


def test_asyncio_store_needs_verify_async(redis_server: RedisServer) -> None:
    v = w.async_verifier(redis_server.port)
    headers = aevo_headers()
    with pytest.raises(TypeError, match="verify_async"):
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")

    async def main() -> None:
        p = await apisig.verify_async(v, apisig.AEVO, "POST", "/orders", headers, b"{}")
        assert p.client_id == w.AEVO_KEY
        with pytest.raises(apisig.ReplayedRequest):
            await apisig.verify_async(v, apisig.AEVO, "POST", "/orders", headers, b"{}")
        await v.replay_store.client.aclose()

    asyncio.run(main())


# ---- several processes ------------------------------------------------------------------------


def test_a_request_replayed_to_another_worker_is_refused(workers: dict[str, str]) -> None:
    for first, second in (("asgi", "wsgi"), ("wsgi", "asgi")):
        headers = aevo_headers()
        r = httpx.post(workers[first] + "/orders", content=b"{}", headers=headers, timeout=10)
        assert r.status_code == 200 and r.text == w.AEVO_KEY
        again = httpx.post(workers[second] + "/orders", content=b"{}", headers=headers, timeout=10)
        assert again.status_code == 401 and again.json()["error"] == "replayed_request"
    # APEX AuthenticateUser: the nonce high-water mark is shared too, and the session token
    # one worker issued is good at the other.
    login = httpx.post(workers["asgi"] + "/AuthenticateUser", headers=apex_headers(w.N + 7), timeout=10)
    assert login.status_code == 200, login.text
    replayed = httpx.post(workers["wsgi"] + "/AuthenticateUser", headers=apex_headers(w.N + 7), timeout=10)
    assert replayed.status_code == 401 and replayed.json()["error"] == "replayed_request"
    token = login.json()["SessionToken"]
    r = httpx.get(workers["wsgi"] + "/x", headers={"aptoken": token}, timeout=10)
    assert r.status_code == 200 and r.text == w.APEX_KEY


def test_processes_racing_the_same_request_accept_it_exactly_once(redis_server: RedisServer) -> None:
    rounds = 40
    requests = []
    for i in range(rounds):
        requests.append(
            ("aevo", aevo_headers(body=b"{}")) if i % 2 else ("apex", apex_headers(w.N + 1000 + i))
        )
    ctx = multiprocessing.get_context("spawn")
    racers = 3
    barrier, out = ctx.Barrier(racers), ctx.Queue()
    procs = [
        ctx.Process(target=w.race, args=(redis_server.port, requests, barrier, out)) for _ in range(racers)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    for i in range(rounds):
        outcomes = sorted(r[i] for r in results)
        assert outcomes == ["ok"] + ["replayed_request"] * (racers - 1), (i, requests[i][0], outcomes)


def race_threads(v: apisig.Verifier, scheme: apisig.Scheme, path: str, headers: dict[str, str]) -> list[str]:
    """Verifies the same request on 16 threads released at once by a barrier."""
    n = 16
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def one() -> None:
        barrier.wait()
        try:
            v.verify(scheme, "POST", path, headers, b"{}")
            outcomes.append("ok")
        except apisig.ApisigError as e:
            outcomes.append(e.name)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_threads_sharing_one_verifier_accept_a_request_exactly_once(redis_server: RedisServer) -> None:
    """Issue 7's concurrency check, for the in-memory record and for Redis."""
    for store in (None, RedisReplayStore(redis_server.client(), namespace="threads", recovery=0)):
        v = apisig.Verifier(replay_store=store)
        v.add(w.AEVO_KEY, w.AEVO_SECRET)
        v.add(w.APEX_KEY, w.APEX_SECRET, user_id=w.APEX_USER)
        for scheme, path, headers in (
            (apisig.AEVO, "/orders", aevo_headers()),
            (apisig.APEX, "/AuthenticateUser", apex_headers(w.N + 5)),
        ):
            outcomes = race_threads(v, scheme, path, headers)
            assert outcomes == ["ok"] + ["replayed_request"] * 15, (store, scheme.name)


# ---- Redis down ------------------------------------------------------------------------------


def test_redis_down_fails_closed_and_recovers(redis_server: RedisServer, workers: dict[str, str]) -> None:
    redis_server.kill()
    for kind, url in workers.items():
        r = httpx.post(url + "/orders", content=b"{}", headers=aevo_headers(), timeout=10)
        assert r.status_code == 503, (kind, r.text)
        assert r.json()["error"] == "replay_store_unavailable"
        login = httpx.post(url + "/AuthenticateUser", headers=apex_headers(time.time_ns()), timeout=10)
        assert login.status_code == 503 and login.json()["Authenticated"] is False
    redis_server.start()
    for kind, url in workers.items():
        headers = aevo_headers()
        r = httpx.post(url + "/orders", content=b"{}", headers=headers, timeout=10)
        assert r.status_code == 200, (kind, r.text)
        again = httpx.post(url + "/orders", content=b"{}", headers=headers, timeout=10)
        assert again.status_code == 401


def test_fail_open_is_explicit_and_logged(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    closed = w.sync_verifier(redis_server.port)
    opened = w.sync_verifier(redis_server.port, fail_open=True)
    redis_server.kill()
    headers = aevo_headers()
    with pytest.raises(apisig.ReplayStoreUnavailable, match="could not be reached") as e:
        closed.verify(apisig.AEVO, "POST", "/orders", headers, b"{}")
    assert e.value.code == 35
    with caplog.at_level(logging.WARNING, logger="apisig.replay"):
        assert opened.verify(apisig.AEVO, "POST", "/orders", headers, b"{}").client_id == w.AEVO_KEY
    assert "fail_open=True" in caplog.text

    async def main() -> None:
        v = w.async_verifier(redis_server.port)
        with pytest.raises(apisig.ReplayStoreUnavailable):
            await apisig.verify_async(v, apisig.AEVO, "POST", "/orders", headers, b"{}")
        store = v.replay_store
        assert isinstance(store, AsyncRedisReplayStore)
        await store.client.aclose()

    asyncio.run(main())


# ---- Redis that lost its memory ----------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def post(url: str, path: str, headers: dict[str, str]) -> tuple[int, str]:
    r = httpx.post(url + path, content=b"{}", headers=headers, timeout=10)
    error = r.json().get("error", "") if r.status_code != 200 else ""
    return r.status_code, error


RECOVERY = 3.0  # seconds; the windows below are ±1 s: twice the tolerance is within it.


def test_a_restart_without_persistence_is_noticed_not_trusted(redis_server: RedisServer) -> None:
    """Issue 24: Redis restarted without persistence forgets every record; requests accepted
    before the restart must not be accepted after it, by any worker (ASGI and WSGI here)."""
    # A window of ±5 s: the replay below must still be inside it after Redis restarts (a
    # loaded machine took 4 s); the recovery period outlasts it, as it must.
    window, recovery = 5, 10.0
    started = [worker(kind, redis_server.port, str(recovery), str(window)) for kind in ("asgi", "wsgi")]
    (asgi, _), (wsgi, _) = started
    try:
        # A fresh Redis cannot prove it remembers: refused for the recovery period.
        assert post(wsgi, "/orders", aevo_headers()) == (503, "replay_store_unavailable")
        time.sleep(recovery)
        request = aevo_headers()
        assert post(asgi, "/orders", request) == (200, "")
        login = apex_headers(now_ms())
        assert post(asgi, "/AuthenticateUser", login)[0] == 200

        redis_server.kill()
        redis_server.start()
        # The WSGI worker never saw either: only Redis could remember them, and it cannot.
        assert post(wsgi, "/orders", request) == (503, "replay_store_unavailable")
        assert post(wsgi, "/AuthenticateUser", login)[0] == 503
        time.sleep(recovery + 0.1)
        # Recovered: the request is out of its window, the login's nonce below the floor for
        # good; new ones are accepted.
        assert post(wsgi, "/orders", request) == (401, "timestamp_outside_window")
        r = httpx.post(wsgi + "/AuthenticateUser", headers=login, timeout=10)
        assert r.status_code == 401 and r.json()["Authenticated"] is False
        assert post(wsgi, "/AuthenticateUser", apex_headers(now_ms()))[0] == 200
        assert post(asgi, "/orders", aevo_headers()) == (200, "")
    finally:
        for _, proc in started:
            proc.kill()
            proc.wait(timeout=10)


def test_a_restart_with_persistence_is_not_trusted_either(tmp_path: Path) -> None:
    """Even with AOF the records survive but Redis's run id changes: a restart (or a failover
    to a replica, which may lag) may have lost the last writes, so it is not trusted."""
    server = RedisServer(
        ("--dir", str(tmp_path), "--appendonly", "yes", "--appendfsync", "always", "--save", "")
    )
    server.start()
    try:
        v = w.sync_verifier(server.port, recovery=RECOVERY, window=1)
        with pytest.raises(apisig.ReplayStoreUnavailable, match="lost its memory"):
            v.verify(apisig.AEVO, "POST", "/orders", aevo_headers(), b"{}")
        time.sleep(RECOVERY)
        request = aevo_headers()
        v.verify(apisig.AEVO, "POST", "/orders", request, b"{}")
        server.kill()
        server.start()
        raw = server.client()
        assert len(raw.keys(f"{w.NAMESPACE}:r:*")) == 1, "the record was persisted"
        assert raw.exists(f"{w.NAMESPACE}:epoch")
        with pytest.raises(apisig.ReplayStoreUnavailable, match="lost its memory"):
            v.verify(apisig.AEVO, "POST", "/orders", aevo_headers(), b"{}")
        # The record itself is still there: a replay is refused as one.
        with pytest.raises(apisig.ReplayedRequest):
            w.sync_verifier(server.port, recovery=0).verify(apisig.AEVO, "POST", "/orders", request, b"{}")
    finally:
        server.kill()


@pytest.mark.parametrize("policy", ["allkeys-lru", "volatile-lru"])
def test_an_evicting_redis_refuses_rather_than_forgets(policy: str) -> None:
    """A small ``maxmemory`` and an evicting policy: another tenant's writes evict the replay
    record; apisig sees the evictions and refuses the request instead of accepting it again.
    ``volatile-lru`` evicts only keys with a time to live (replay records, never the marker),
    so there the eviction count alone gives the loss away."""
    server = RedisServer((*NO_PERSISTENCE, "--maxmemory", "2mb", "--maxmemory-policy", policy))
    server.start()
    try:
        recovery = 1.0
        v = w.sync_verifier(server.port, recovery=recovery)
        with pytest.raises(apisig.ReplayStoreUnavailable):
            v.verify(apisig.AEVO, "POST", "/orders", aevo_headers(), b"{}")
        time.sleep(recovery)
        request = aevo_headers()
        v.verify(apisig.AEVO, "POST", "/orders", request, b"{}")
        raw = server.client()
        [record] = raw.keys(f"{w.NAMESPACE}:r:*")
        time.sleep(1.1)  # Redis's LRU clock ticks once a second: the record is the oldest.
        for i in range(400):
            raw.set(f"other-app:{i}", b"x" * 10_000, ex=600)
        assert int(raw.info("stats")["evicted_keys"]) > 0
        assert not raw.exists(record), "the record was evicted: Redis forgot the request"
        if policy.startswith("volatile"):
            assert raw.exists(f"{w.NAMESPACE}:epoch"), "the marker has no time to live"
        other = w.sync_verifier(server.port, recovery=recovery)
        with pytest.raises(apisig.ReplayStoreUnavailable, match="lost its memory"):
            other.verify(apisig.AEVO, "POST", "/orders", request, b"{}")
    finally:
        server.kill()


def test_rust_and_python_run_the_core_script() -> None:
    """One rule for every worker: the script and its arguments come from the core."""
    assert apisig.CLAIM_SCRIPT.startswith("local t = redis.call('TIME')")
    assert apisig.CLAIM_RECOVERY_MS == 600_000
    store = RedisReplayStore(redis.Redis(), namespace="svc", recovery=2.5)
    v = apisig.Verifier(replay_store=store, window=30)
    v.add(w.AEVO_KEY, w.AEVO_SECRET)
    headers = aevo_headers()
    _, claim = v.verify_deferred(apisig.AEVO, "POST", "/orders", headers, b"{}")
    assert claim is not None
    keys, args = store.keys_args(claim)
    assert keys == [claim.store_key("svc"), "svc:epoch"]
    # The record expires at the request's timestamp plus the tolerance, in Unix ms rounded up.
    expires_ms = -(-(int(headers["AEVO-TIMESTAMP"]) + 30 * 10**9) // 10**6)
    assert args == ["o", f"{expires_ms:020d}", "00000000000000002500"]
    with pytest.raises(ValueError, match="recovery"):
        RedisReplayStore(redis.Redis(), recovery=-1)


def test_a_claim_arriving_after_its_window_is_refused(redis_server: RedisServer) -> None:
    """A worker that verified a request in time but asks Redis after its window closed (here:
    a verifier whose clock runs 10 s late) is refused, not recorded anew (else a replay asked
    late enough would be accepted again)."""
    v = w.sync_verifier(redis_server.port, window=1)
    late = time.time_ns() - 10 * 10**9
    headers = aevo_headers(now=late)
    with pytest.raises(apisig.TimestampOutsideWindow, match="window closed"):
        v.verify(apisig.AEVO, "POST", "/orders", headers, b"{}", now=late)
    assert redis_server.client().keys(f"{w.NAMESPACE}:r:*") == []
