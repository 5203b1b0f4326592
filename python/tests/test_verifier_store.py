"""The ``Verifier`` over client stores: in memory without a ceiling (10^5 clients), through the
read-through cache in front of an SQLite or PostgreSQL ``Store``, and through a Python
``lookup`` callable. Signatures are made with Python's ``hmac`` (Aevo's documented message), not
by apisig; keys are issued by the store or the ``apisig keys`` command line. A key revoked
with the command line is refused by a worker in another process within the cache's TTL;
PostgreSQL stopped under the ASGI middleware gives 503, started again it recovers; a table
locked by another session holds up only the requests that wait for it (verification over a
store runs in a worker thread), while the in-memory store is verified on the event loop."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import free_port, postgres_server, uvicorn_server, wait_for_port
from store_worker import app as worker_app

import apisig
from apisig.server import PRINCIPAL_KEY, ApisigASGIMiddleware

APISIG = str(Path(sys.executable).with_name("apisig"))
HERE = Path(__file__).resolve().parent


def aevo_headers(
    key: str, secret: bytes, method: str = "GET", path: str = "/x", body: bytes = b""
) -> dict[str, str]:
    """Aevo's headers made with Python's hmac: HMAC-SHA256 over key,timestamp,method,path,body."""
    ts = str(time.time_ns())
    message = b",".join([key.encode(), ts.encode(), method.encode(), path.encode(), body])
    signature = hmac.new(secret, message, hashlib.sha256).hexdigest()
    return {"AEVO-KEY": key, "AEVO-TIMESTAMP": ts, "AEVO-SIGNATURE": signature}


def test_memory_verifier_has_no_ceiling() -> None:
    n = 100_000
    v = apisig.Verifier()
    assert v.capacity is None
    started = time.perf_counter()
    for i in range(n):
        v.add(f"c{i}", f"static-{i}".encode() if i % 2 else f"secret-{i}".encode())
    added = time.perf_counter() - started
    assert len(v) == n and f"c{n - 1}" in v
    started = time.perf_counter()
    for i in range(1, n, 2):
        assert v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": f"static-{i}"}).client_id == f"c{i}"
    for i in range(0, n, 98):
        p = v.verify(apisig.AEVO, "GET", "/x", aevo_headers(f"c{i}", f"secret-{i}".encode()))
        assert (p.client_id, p.slot) == (f"c{i}", "primary")
    verified = time.perf_counter() - started
    with pytest.raises(apisig.UnknownKey):
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "static-0"})  # c0's is an HMAC secret
    with pytest.raises(apisig.SignatureMismatch):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("c8", b"secret-9"))
    print(f"\n{n} clients: added in {added:.2f} s, {n // 2 + n // 98 + 1} verified in {verified:.2f} s")
    v.revoke(f"c{n - 1}")
    with pytest.raises(apisig.ClientRevoked):
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": f"static-{n - 1}"})


def test_capacity_still_limits_when_given() -> None:
    v = apisig.Verifier(capacity=1)
    v.add("a", b"k")
    with pytest.raises(apisig.KeyringFull):
        v.add("b", b"l")


@pytest.fixture
def master() -> str:
    return secrets.token_hex(32)


def test_verifier_reads_a_sqlite_store(tmp_path: Path, master: str) -> None:
    store = apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=master)
    for id in ("portal", "trader"):
        store.create_client(id)
    static = store.issue("portal", "primary", "static")
    secret = store.issue("trader", "primary", "hmac").encode()
    v = apisig.Verifier(store=store, cache_ttl=60)
    assert v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static}).client_id == "portal"
    assert v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", secret)).client_id == "trader"
    assert "trader" in v and "nobody" not in v
    with pytest.raises(apisig.InvalidKeyFormat):  # the checksum is checked before any lookup
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static[:-1] + ("A" if static[-1] != "A" else "B")})
    with pytest.raises(apisig.SignatureMismatch):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", b"not-the-secret"))
    with pytest.raises(TypeError, match="change them there"):
        v.add("x", b"k")
    with pytest.raises(TypeError, match="change them there"):
        v.revoke("portal")
    # A change in the store is seen once the cache's entry is older than the TTL.
    fresh = apisig.Verifier(store=store, cache_ttl=0)
    store.set_allowed("portal", ["192.0.2.0/24"])
    with pytest.raises(apisig.AddressNotAllowed):
        fresh.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static}, peer="198.51.100.1")
    assert (
        fresh.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static}, peer="192.0.2.9").client_id
        == "portal"
    )
    store.revoke_key("trader", "primary")
    with pytest.raises(apisig.KeyRevoked):
        fresh.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", secret))
    store.set_status("portal", "disabled")
    with pytest.raises(apisig.ClientDisabled):
        fresh.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static}, peer="192.0.2.9")
    # The first verifier still serves its cached entry (TTL 60 s).
    assert v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": static}).client_id == "portal"


@pytest.fixture
def worker_store(tmp_path: Path, master: str) -> Iterator[tuple[str, dict[str, str]]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APISIG_")}
    env = {**clean, "APISIG_MASTER_KEY": master, "APISIG_STORE": f"sqlite:{tmp_path / 'keys.db'}"}
    yield env["APISIG_STORE"], env


def keys_cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [APISIG, "keys", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_key_revoked_with_the_command_line_is_refused_by_another_worker(
    worker_store: tuple[str, dict[str, str]],
) -> None:
    url, env = worker_store
    keys_cli(env, "init")
    key = keys_cli(env, "create", "client-7", "--issue", "static")
    ttl = 1.0
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, str(HERE / "store_worker.py"), url, str(port), str(ttl)], env=env, cwd=HERE
    )
    try:
        wait_for_port(port, timeout=30)
        base = f"http://127.0.0.1:{port}"
        ok = httpx.get(f"{base}/whoami", headers={"X-Api-Key": key})
        assert (ok.status_code, ok.text) == (200, "client-7")
        keys_cli(env, "revoke", "client-7")
        revoked_at = time.monotonic()
        while True:
            r = httpx.get(f"{base}/whoami", headers={"X-Api-Key": key})
            if r.status_code != 200:
                break
            assert time.monotonic() - revoked_at < ttl + 0.5, "still accepted after the TTL"
            time.sleep(0.05)
        assert r.status_code == 401 and "client_revoked" in r.text
    finally:
        worker.terminate()
        worker.wait(timeout=10)


def test_postgres_down_is_503_and_a_restart_recovers(master: str) -> None:
    with postgres_server() as pg:
        store = apisig.Store.open(pg.url, master_key=master)
        store.create_client("portal")
        key = store.issue("portal")
        os.environ["APISIG_MASTER_KEY"] = master
        try:
            app = worker_app(pg.url, 0.2)
        finally:
            del os.environ["APISIG_MASTER_KEY"]
        with uvicorn_server(app) as base:
            assert httpx.get(f"{base}/", headers={"X-Api-Key": key}).text == "portal"
            pg.stop()
            time.sleep(0.3)  # the cached entry is stale: the store is asked
            down = httpx.get(f"{base}/", headers={"X-Api-Key": key}, timeout=30)
            assert down.status_code == 503 and "store_unavailable" in down.text
            pg.start()
            up = httpx.get(f"{base}/", headers={"X-Api-Key": key}, timeout=30)
            assert (up.status_code, up.text) == (200, "portal")


def test_a_locked_postgres_table_holds_up_only_the_requests_that_wait_for_it(master: str) -> None:
    """The ASGI middleware over a PostgreSQL store verifies in a worker thread: while another
    session holds the keys table locked, an authenticated request waits and ``/health`` (no
    auth) is still answered by the event loop (uvicorn's one loop, in this process)."""
    psql = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
    with postgres_server() as pg:
        store = apisig.Store.open(pg.url, master_key=master)
        store.create_client("portal")
        key = store.issue("portal")
        verifier = apisig.Verifier(store=apisig.Store.open(pg.url, master_key=master), cache_ttl=0)
        assert verifier.may_block

        async def app(scope: Any, receive: Any, send: Any) -> None:
            principal = scope.get(PRINCIPAL_KEY)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send(
                {"type": "http.response.body", "body": principal.client_id.encode() if principal else b"ok"}
            )

        server = ApisigASGIMiddleware(app, verifier=verifier, schemes=[apisig.SIGNIUS], exempt=["/health"])
        with uvicorn_server(server) as base:
            assert httpx.get(f"{base}/", headers={"X-Api-Key": key}).text == "portal"
            # Another session locks the keys table: the next lookup (TTL 0) waits for it.
            locker = subprocess.Popen(
                [psql[-1], "-X", "-q", "-v", "ON_ERROR_STOP=1", pg.url.split("?")[0]],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert locker.stdin is not None and locker.stdout is not None
            try:
                locker.stdin.write(
                    "BEGIN;\nLOCK TABLE apisig_keys IN ACCESS EXCLUSIVE MODE;\n\\echo locked\n"
                )
                locker.stdin.flush()
                assert locker.stdout.readline().strip() == "locked"
                answers: list[httpx.Response] = []
                waiting = threading.Thread(
                    target=lambda: answers.append(
                        httpx.get(f"{base}/", headers={"X-Api-Key": key}, timeout=30)
                    )
                )
                waiting.start()
                time.sleep(0.5)
                assert waiting.is_alive() and not answers, "the lookup waits for the lock"
                started = time.monotonic()
                health = httpx.get(f"{base}/health", timeout=10)
                assert (health.status_code, health.text) == (200, "ok")
                assert time.monotonic() - started < 2, "the event loop was held up"
                assert waiting.is_alive() and not answers, "still waiting for the lock"
            finally:
                locker.communicate("ROLLBACK;\n", timeout=30)
            waiting.join(timeout=30)
            assert [(a.status_code, a.text) for a in answers] == [(200, "portal")]


def test_only_a_verifier_that_may_block_leaves_the_event_loop(tmp_path: Path, master: str) -> None:
    """In process (no server): over the in-memory store the ASGI middleware verifies on the
    loop (no executor call: the fast path's cost is unchanged); over a store, in the executor."""
    store = apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=master)
    store.create_client("portal")
    key = store.issue("portal")
    memory = apisig.Verifier()
    memory.add("trader", b"t" * 32)
    over_store = apisig.Verifier(store=store)
    assert not memory.may_block and over_store.may_block

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope[PRINCIPAL_KEY].client_id.encode()})

    async def call(verifier: apisig.Verifier, headers: dict[str, str]) -> tuple[int, bytes, int]:
        loop = asyncio.get_running_loop()
        executor_calls = 0
        run_in_executor = loop.run_in_executor

        def counted(*args: Any) -> Any:
            nonlocal executor_calls
            executor_calls += 1
            return run_in_executor(*args)

        loop.run_in_executor = counted  # type: ignore[method-assign]
        sent: list[dict[str, Any]] = []
        scope = {"type": "http", "method": "GET", "path": "/x", "raw_path": b"/x", "query_string": b"",
                 "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "client": ("127.0.0.1", 1)}  # fmt: skip

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        mw = ApisigASGIMiddleware(app, verifier=verifier, schemes=[apisig.SIGNIUS, apisig.AEVO])
        await mw(scope, receive, send)
        return sent[0]["status"], sent[1]["body"], executor_calls

    assert asyncio.run(call(memory, aevo_headers("trader", b"t" * 32))) == (200, b"trader", 0)
    assert asyncio.run(call(over_store, {"X-Api-Key": key})) == (200, b"portal", 1)


def test_sqlite_file_holds_no_secret_after_verification(tmp_path: Path, master: str) -> None:
    path = tmp_path / "keys.db"
    store = apisig.Store.open(f"sqlite:{path}", master_key=master)
    issued = []
    for i in range(50):
        store.create_client(f"c{i}")
        issued.append(store.issue(f"c{i}", "primary", "hmac" if i % 2 else "static"))
    v = apisig.Verifier(store=store)
    for i, key in enumerate(issued):
        if i % 2:
            assert (
                v.verify(apisig.AEVO, "GET", "/x", aevo_headers(f"c{i}", key.encode())).client_id == f"c{i}"
            )
        else:
            assert v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": key}).client_id == f"c{i}"
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("keys.db*"))
    assert not [k for k in issued if k.encode() in raw or k[-49:-6].encode() in raw]


def test_wrong_master_key_is_clear_at_open(tmp_path: Path, master: str) -> None:
    apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=master).create_client("c")
    with pytest.raises(apisig.MasterKeyError, match="wrong master key"):
        apisig.Verifier(
            store=apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=secrets.token_hex(32))
        )


def test_lookups_wait_together() -> None:
    """A lookup= callable that takes 0.2 s, asked from two threads at once: the two requests
    take about 0.2 s together, not 0.4 s one after the other. The verifier asks for a request's
    client before it takes its lock (then verifies under the lock with that answer), so a slow
    lookup does not hold other requests up. Each is still asked once per request."""
    keys = {"a": b"static-key-a", "b": b"static-key-b"}
    digests = {hashlib.sha256(k).digest(): name for name, k in keys.items()}
    asked: list[str] = []

    def lookup(by: str, value: Any) -> dict[str, Any] | None:
        asked.append(by)
        time.sleep(0.2)
        name = digests.get(value) if by == "key_digest" else None
        return {"id": name, "key_digest": value} if name else None

    v = apisig.Verifier(lookup=lookup)
    start = threading.Barrier(3)
    found: dict[str, str] = {}

    def request(name: str) -> None:
        start.wait()
        found[name] = v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": keys[name].decode()}).client_id

    threads = [threading.Thread(target=request, args=(n,)) for n in keys]
    for t in threads:
        t.start()
    start.wait()
    began = time.monotonic()
    for t in threads:
        t.join()
    took = time.monotonic() - began
    assert found == {"a": "a", "b": "b"}
    assert asked == ["key_digest", "key_digest"]
    assert took < 0.35, f"two 0.2 s lookups took {took:.2f} s: they waited on each other"
    # A key no client holds: asked once, refused.
    with pytest.raises(apisig.UnknownKey):
        v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "stranger"})
    assert asked == ["key_digest"] * 3


def test_lookup_callable(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[tuple[str, Any]] = []
    records: dict[str, dict[str, Any]] = {
        "portal": {"id": "portal", "key_digest": hashlib.sha256(b"static-key").digest()},
        "trader": {"id": "trader", "key": b"trader-secret", "allowed": ["10.0.0.0/8"]},
        "gone": {"id": "gone", "key": b"gone-secret", "status": "revoked"},
        "old": {"id": "old", "key": b"old-secret", "expires": 1_000_000_000},
    }
    by_digest = {r["key_digest"]: r for r in records.values() if "key_digest" in r}

    def lookup(by: str, value: Any) -> dict[str, Any] | None:
        asked.append((by, value))
        if by == "id":
            return records.get(value)
        if by == "key_digest":
            return by_digest.get(value)
        return None

    v = apisig.Verifier(lookup=lookup)
    assert v.verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "static-key"}).client_id == "portal"
    assert asked == [("key_digest", hashlib.sha256(b"static-key").digest())]
    headers = aevo_headers("trader", b"trader-secret")
    assert v.verify(apisig.AEVO, "GET", "/x", headers, peer="10.1.2.3").client_id == "trader"
    assert asked[1:] == [("id", "trader")]  # asked once per request
    with pytest.raises(apisig.AddressNotAllowed):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("trader", b"trader-secret"), peer="192.0.2.1")
    with pytest.raises(apisig.ClientRevoked):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("gone", b"gone-secret"))
    with pytest.raises(apisig.KeyExpired):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("old", b"old-secret"))
    with pytest.raises(apisig.UnknownKey):
        v.verify(apisig.AEVO, "GET", "/x", aevo_headers("nobody", b"x"))
    with pytest.raises(TypeError, match="change them there"):
        v.add("x", b"k")

    def broken(by: str, value: Any) -> dict[str, Any] | None:
        raise ConnectionError("the key service is down")

    reported: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))
    with pytest.raises(apisig.StoreUnavailable):
        apisig.Verifier(lookup=broken).verify(apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "static-key"})
    with pytest.raises(apisig.StoreUnavailable):
        apisig.Verifier(lookup=lambda by, value: {"id": "portal", "key_digest": b"short"}).verify(
            apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "static-key"}
        )
    with pytest.raises(apisig.StoreUnavailable):
        apisig.Verifier(lookup=lambda by, value: ["not", "a", "record"]).verify(
            apisig.SIGNIUS, "GET", "/", {"X-Api-Key": "static-key"}
        )
    assert [type(e) for e in reported] == [ConnectionError, ValueError, TypeError]
    assert "key_digest is 32 bytes" in str(reported[1])
    with pytest.raises(TypeError, match="not both"):
        apisig.Verifier(
            lookup=lookup, store=apisig.Store.open("sqlite::memory:", master_key=secrets.token_hex(32))
        )


def test_master_key_rekey_through_the_command_line_killed_and_resumed(
    worker_store: tuple[str, dict[str, str]], master: str
) -> None:
    """``apisig keys rekey`` killed (SIGKILL) mid-way and run again: at every stage a worker
    holding both keys verifies every client (signatures by Python's hmac); one holding only
    the old key fails closed (503) on re-sealed secrets and is refused at open afterwards;
    the new key alone verifies everyone once the re-seal is complete."""
    url, env = worker_store
    keys_cli(env, "init")
    n = 300
    store = apisig.Store.open(url, master_key=master)
    assert store.import_clients([(f"c-{i}", "hmac", f"secret-{i}".encode()) for i in range(n)]) == n
    new = secrets.token_hex(32)
    both = {**env, "APISIG_MASTER_KEY": new, "APISIG_MASTER_KEY_PREVIOUS": master}

    def verify_all(v: apisig.Verifier) -> None:
        for i in range(n):
            headers = aevo_headers(f"c-{i}", f"secret-{i}".encode())
            assert v.verify(apisig.AEVO, "GET", "/x", headers).client_id == f"c-{i}"

    out = subprocess.run(
        [APISIG, "keys", "rekey"],
        env={**env, "APISIG_MASTER_KEY": new},
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 1 and "wrong master key" in out.stderr
    assert (
        f"re-seals them under {apisig.Store.open(url, master_key=new, previous_master_key=master).master_key_ids[0]}"
        in keys_cli(both, "rekey", "--status")
    )
    proc = subprocess.Popen(
        [APISIG, "keys", "rekey", "--batch", "1"], env=both, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.strip() == "apisig: re-sealed 20":
            break
    proc.kill()
    proc.wait(timeout=10)
    status = apisig.Store.open(url, master_key=new, previous_master_key=master).rekey_status()
    old_id = apisig.Store.open(url, master_key=new, previous_master_key=master).master_key_ids[1]
    assert 20 <= status["sealed"] < n and status["remaining"] == {old_id: n - status["sealed"]}
    assert not status["complete"]

    both_store = apisig.Store.open(url, master_key=new, previous_master_key=master)
    verify_all(apisig.Verifier(store=both_store, cache_ttl=0))
    old_only = apisig.Verifier(store=store, cache_ttl=0)  # opened before: still running
    outcomes = []
    for i in range(n):
        try:
            old_only.verify(apisig.AEVO, "GET", "/x", aevo_headers(f"c-{i}", f"secret-{i}".encode()))
            outcomes.append("ok")
        except apisig.StoreUnavailable:
            outcomes.append("503")
    assert outcomes.count("503") == status["sealed"]
    # The 503 is explained for the server's log: the master key this worker lacks.
    assert old_only.store_failure is not None
    assert "APISIG_MASTER_KEY_PREVIOUS" in old_only.store_failure
    assert apisig.Verifier(store=both_store).store_failure is None

    done = json.loads(keys_cli(both, "rekey", "--batch", "50", "--json"))
    assert done["complete"] and done["resealed"] == n - status["sealed"] and done["sealed"] == n
    assert "complete" in keys_cli(both, "rekey", "--status")
    verify_all(apisig.Verifier(store=apisig.Store.open(url, master_key=new), cache_ttl=0))
    with pytest.raises(apisig.MasterKeyError, match="wrong master key"):
        apisig.Store.open(url, master_key=master)
