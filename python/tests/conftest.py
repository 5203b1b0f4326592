"""Shared helpers: the vector files, and a real HTTP server on loopback for integration tests."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


def load_vectors(name: str) -> dict[str, Any]:
    with open(VECTORS / name, encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    assert data["tests"], f"{name} has no tests"
    return data


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def uvicorn_server(app: Any, **options: Any) -> Iterator[str]:
    """Runs an ASGI app with uvicorn in a thread on a free loopback port; stops it on exit.
    ``options`` go to ``uvicorn.Config`` (with ``ssl_context_factory`` the URL is https)."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **options)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"{'https' if options.get('ssl_context_factory') else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        assert not thread.is_alive(), "uvicorn did not stop"


@contextmanager
def werkzeug_server(app: Callable[..., Any], ssl_context: Any = None) -> Iterator[str]:
    """Runs a WSGI app with werkzeug in a thread on a free loopback port; stops it on exit."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=ssl_context)
    port = server.server_port
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        wait_for_port(port)
        yield f"{'https' if ssl_context else 'http'}://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        assert not thread.is_alive(), "werkzeug did not stop"


ROOT = Path(__file__).resolve().parents[2]


class PostgresServer:
    """A throwaway PostgreSQL server on a free loopback port, started and stopped by
    scripts/postgres-server.sh (which also installs PostgreSQL); the data outlives a stop."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres?connect_timeout=2"

    def start(self) -> None:
        script = ROOT / "scripts" / "postgres-server.sh"
        subprocess.run([script, "start", self.directory, str(self.port)], check=True, timeout=60)

    def stop(self) -> None:
        script = ROOT / "scripts" / "postgres-server.sh"
        subprocess.run([script, "stop", self.directory], check=True, timeout=60)


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer` in a new temporary directory (directly under the
    system's, which the unprivileged server can reach); stopped and removed on exit."""
    subprocess.run([ROOT / "scripts" / "postgres-server.sh"], check=True, timeout=600)
    with tempfile.TemporaryDirectory(prefix="apisig-pg-") as directory:
        server = PostgresServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            if (server.directory / "data" / "postmaster.pid").exists():
                server.stop()
