"""The Rust HTTP face (crate ``apisig-http``) against the Python one, over real HTTP on loopback.

* The Python clients drive the Rust server: the ``interop`` example serves the same two apps as
  :mod:`apps` (same clients, keys and schemes) with axum behind the apisig tower layer, and the
  client tests of :mod:`test_integration` (httpx sync and async, requests, the APEX flows,
  rotation, refusals) and the curl tests of :mod:`test_cli` run against it unchanged.
* The Rust client drives the Python server: ``interop client`` signs with the reqwest middleware
  against the ASGI middleware under uvicorn, and its report is checked here.
* A Rust worker and a Python worker share one replay record in Redis: a request accepted by one
  is a replay at the other (the claims are keyed alike in both faces).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_cli as cli_side
import test_integration as python_side
import test_redis as redis_side
from apps import APEX_KEY, APEX_USER, asgi_app, gateway, tsb
from conftest import uvicorn_server

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def interop() -> Path:
    """The ``interop`` example, built (cargo skips the work when it is up to date)."""
    cargo = shutil.which("cargo") or str(Path.home() / ".cargo" / "bin" / "cargo")
    if not Path(cargo).exists():
        assert "CI" not in os.environ, "cargo is needed for the Rust HTTP interop tests"
        pytest.skip("cargo is not installed")
    subprocess.run(
        [cargo, "build", "-q", "-p", "apisig-http", "--example", "interop"],
        cwd=ROOT,
        check=True,
        timeout=1800,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / "debug" / "examples" / "interop"


@pytest.fixture(scope="module")
def servers(interop: Path) -> Iterator[dict[str, str]]:
    """The Rust gateway and TSB; they stop when their standard input closes."""
    proc = subprocess.Popen([interop, "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None
        urls: dict[str, str] = json.loads(proc.stdout.readline())
        yield {**urls, "kind": "rust"}
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        assert proc.wait(timeout=10) == 0


@pytest.fixture(scope="module")
def base(servers: dict[str, str]) -> str:
    """The Rust gateway, for the curl tests."""
    assert shutil.which("curl"), "curl is needed (scripts/py-env.sh installs it)"
    return servers["gateway"]


@pytest.fixture
def workers(interop: Path) -> Iterator[dict[str, str]]:
    """A Python ASGI worker and a Rust worker on one Redis. The names are those the reused
    test expects ("asgi" and "wsgi"): "wsgi" is the Rust worker here."""
    if redis_side.REDIS_SERVER is None:
        assert "CI" not in os.environ, "redis-server is needed (scripts/py-env.sh installs it)"
        pytest.skip("redis-server is not installed")
    redis_server = redis_side.RedisServer()
    redis_server.start()
    python_url, python_proc = redis_side.worker("asgi", redis_server.port)
    rust = subprocess.Popen(
        [interop, "serve-redis", str(redis_server.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert rust.stdout is not None
        yield {"asgi": python_url, "wsgi": rust.stdout.readline().decode().strip()}
    finally:
        assert rust.stdin is not None
        rust.stdin.close()
        rust.wait(timeout=10)
        python_proc.kill()
        python_proc.wait(timeout=10)
        redis_server.kill()


# The Python clients' tests, run here against the Rust server (the fixtures above).
test_httpx_sync_every_dialect = python_side.test_httpx_sync_every_dialect
test_httpx_async_every_dialect = python_side.test_httpx_async_every_dialect
test_requests_every_dialect = python_side.test_requests_every_dialect
test_apex_flow_httpx = python_side.test_apex_flow_httpx
test_apex_flow_requests = python_side.test_apex_flow_requests
test_apex_authenticate_user_body_variant = python_side.test_apex_authenticate_user_body_variant
test_zignsec_other_key_retry = python_side.test_zignsec_other_key_retry
test_securosys_roll_over_on_401_not_403 = python_side.test_securosys_roll_over_on_401_not_403
test_server_refusals = python_side.test_server_refusals
test_curl_aevo_with_env_secret_and_body_file = cli_side.test_curl_aevo_with_env_secret_and_body_file
test_curl_static_key_from_file_and_custom_scheme = cli_side.test_curl_static_key_from_file_and_custom_scheme
test_curl_apex_authenticate_user = cli_side.test_curl_apex_authenticate_user
test_a_request_replayed_to_another_worker_is_refused = (
    redis_side.test_a_request_replayed_to_another_worker_is_refused
)


def test_rust_client_against_the_asgi_middleware(interop: Path) -> None:
    with uvicorn_server(asgi_app(gateway())) as gw, uvicorn_server(asgi_app(tsb())) as ts:
        out = subprocess.run([interop, "client", gw, ts], capture_output=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr.decode()
    results: dict[str, dict[str, Any]] = {r["case"]: r for r in map(json.loads, out.stdout.splitlines())}
    empty = hashlib.sha256(b"").hexdigest()

    dialects = python_side.all_dialects()
    assert {c for c in results if c in dialects} == set(dialects), "every dialect was tried"
    for case, (_server, _args, want) in dialects.items():
        for name in (case, f"{case} GET"):
            got = results[name]
            assert got["status"] == 200, got
            for k, v in want.items():
                assert got["answer"][k] == v, (name, k, got)
            # What the Python server hashed (hashlib) is what the Rust client hashed (sha2).
            assert got["answer"]["sha256"] == got["sent_sha256"], got
        assert results[case]["answer"]["length"] > 3000
        assert results[f"{case} GET"]["answer"]["sha256"] == empty

    for case in ("apex", "apex again"):
        got = results[case]
        assert got["status"] == 200, got
        assert got["answer"]["scheme"] == "apex-session"
        assert (got["answer"]["client_id"], got["answer"]["user_id"]) == (APEX_KEY, APEX_USER)

    rotation = results["zignsec rotation"]
    assert (rotation["status"], rotation["answer"]["slot"], rotation["current_key"]) == (200, "secondary", 1)
    strict = results["zignsec 403 rotation"]
    assert (strict["status"], strict["answer"]["slot"], strict["current_key"]) == (200, "secondary", 1)
    assert strict["answer"]["sha256"] == strict["sent_sha256"], "the retry sent the same body"
    roll = results["securosys rotation"]
    assert (roll["status"], roll["answer"]["client_id"], roll["current_key"]) == (200, "tsb-ops-2", 1)
    assert refusal(results["securosys forbidden"]) == (403, "forbidden")
    assert results["securosys forbidden"]["current_key"] == 1, "403 is no reason to roll over"

    assert refusal(results["tampered"]) == (401, "signature_mismatch")
    assert results["signed"]["status"] == 200
    assert refusal(results["replayed"]) == (401, "replayed_request")


def refusal(result: dict[str, Any]) -> tuple[int, str]:
    return result["status"], result["answer"]["error"]
