"""The ``apisig`` console script: its curl output, run by the real curl, is accepted by the
loopback server; a request captured off the wire verifies with ``apisig verify``."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from apps import (
    AEVO_KEY,
    AEVO_SECRET,
    APEX_KEY,
    APEX_SECRET,
    APEX_USER,
    CB_KEY,
    CB_SECRET,
    COINBASE,
    SIGNIUS_KEY,
    asgi_app,
    gateway,
)
from conftest import uvicorn_server

APISIG = str(Path(sys.executable).with_name("apisig"))
CURL = shutil.which("curl")


def run(
    args: list[str], env: dict[str, str], stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APISIG_")}
    return subprocess.run(
        args, env={**clean, **env}, input=stdin, capture_output=True, timeout=60, check=False
    )


@pytest.fixture(scope="module")
def base() -> Iterator[str]:
    assert CURL, "curl is needed (scripts/py-env.sh installs it)"
    with uvicorn_server(asgi_app(gateway())) as url:
        yield url


def curl_through_cli(args: list[str], env: dict[str, str]) -> dict[str, object]:
    signed = run([APISIG, "sign", *args, "--curl"], env)
    assert signed.returncode == 0, signed.stderr.decode()
    command = shlex.split(signed.stdout.decode())
    assert command[0] == "curl"
    out = run(command, {})
    assert out.returncode == 0, out.stderr.decode()
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_console_script_lists_presets() -> None:
    out = run([APISIG, "presets"], {})
    assert out.returncode == 0 and b"aevo" in out.stdout and b"apex-session" in out.stdout


def test_secrets_are_not_arguments() -> None:
    out = run([APISIG, "sign", "aevo", "GET", "/x", "--secret", "s"], {})
    assert out.returncode != 0 and b"unrecognized arguments" in out.stderr
    missing = run([APISIG, "sign", "aevo", "GET", "/x"], {"APISIG_API_KEY": "k"})
    assert missing.returncode == 2 and b"empty_secret" in missing.stderr


def test_curl_aevo_with_env_secret_and_body_file(base: str, tmp_path: Path) -> None:
    body = ('{"name": "My API key", "note": "a,b,c — ✓"}' + " " * 3000).encode()
    (tmp_path / "body.json").write_bytes(body)
    env = {"APISIG_API_KEY": AEVO_KEY, "APISIG_SECRET": AEVO_SECRET.decode()}
    got = curl_through_cli(
        ["aevo", "POST", "/api-key?x=1", "--body", f"@{tmp_path / 'body.json'}", "--url", base], env
    )
    assert got["client_id"] == AEVO_KEY and got["scheme"] == "aevo"
    assert got["sha256"] == hashlib.sha256(body).hexdigest()


def test_curl_from_a_full_url(base: str, tmp_path: Path) -> None:
    """A full URL signs its path and query; curl fetches it as given."""
    (tmp_path / "order.json").write_bytes(b'{"qty":1}')
    env = {"APISIG_API_KEY": AEVO_KEY, "APISIG_SECRET": AEVO_SECRET.decode()}
    got = curl_through_cli(
        ["aevo", "POST", f"{base}/orders?x=1", "--body", f"@{tmp_path / 'order.json'}"], env
    )
    assert got["client_id"] == AEVO_KEY and got["sha256"] == hashlib.sha256(b'{"qty":1}').hexdigest()
    headers = run([APISIG, "sign", "aevo", "GET", f"{base}/orders?x=1"], env)
    by_path = run([APISIG, "sign", "aevo", "GET", "/orders?x=1", "--now", "1"], env)
    by_url = run([APISIG, "sign", "aevo", "GET", f"{base}/orders?x=1", "--now", "1"], env)
    assert headers.returncode == 0 and by_url.stdout == by_path.stdout != b""
    for args, says in [
        (["aevo", "GET", "/orders", "--curl"], b"needs the full URL"),
        (["aevo", "GET", f"{base}/orders", "--curl", "--url", base], b"not both"),
        (["aevo", "GET", f"{base}/orders#top", "--curl"], b"not a URL curl can fetch"),
        (["aevo", "GET", "https:///orders", "--curl"], b"not a URL curl can fetch"),
    ]:
        refused = run([APISIG, "sign", *args], env)
        assert refused.returncode != 0 and says in refused.stderr, refused.stderr


def test_curl_static_key_from_file_and_custom_scheme(base: str, tmp_path: Path) -> None:
    (tmp_path / "key").write_text(SIGNIUS_KEY + "\n")
    got = curl_through_cli(
        ["signius", "GET", "/api/v1/envelopes", "--url", base], {"APISIG_API_KEY_FILE": str(tmp_path / "key")}
    )
    assert got["client_id"] == "signius-portal"
    (tmp_path / "scheme.json").write_text(json.dumps({**COINBASE.to_dict(), "separator": ""}))
    (tmp_path / "secret").write_bytes(CB_SECRET)
    args = [f"@{tmp_path / 'scheme.json'}", "post", "/orders", "--body", '{"size":"0.01"}', "--url", base]
    args += ["--secret-file", str(tmp_path / "secret")]
    got = curl_through_cli(args, {"APISIG_API_KEY": CB_KEY})
    assert got["client_id"] == CB_KEY and got["scheme"] == "coinbase-style"


def test_curl_apex_authenticate_user(base: str) -> None:
    env = {"APISIG_API_KEY": APEX_KEY, "APISIG_SECRET": APEX_SECRET.decode(), "APISIG_USER_ID": APEX_USER}
    got = curl_through_cli(["apex", "POST", "/AuthenticateUser", "--url", base], env)
    assert got["Authenticated"] is True
    token = got["SessionToken"]
    assert isinstance(token, str)
    who = curl_through_cli(["apex-session", "GET", "/GetOpenOrders", "--url", base], {"APISIG_TOKEN": token})
    assert who["user_id"] == APEX_USER and who["scheme"] == "apex-session"


def capture_one_request() -> tuple[str, dict[str, bytes], threading.Thread]:
    """A loopback listener that records the raw bytes of one request and answers 204."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(30)
    store: dict[str, bytes] = {}

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            with conn:
                conn.settimeout(30)
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
                length = next(
                    (int(h.split(":")[1]) for h in head.split("\r\n") if h.startswith("content-length:")), 0
                )
                while len(data.split(b"\r\n\r\n", 1)[1]) < length:
                    data += conn.recv(65536)
                store["raw"] = data
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{server.getsockname()[1]}", store, thread


def test_verify_a_captured_request(tmp_path: Path) -> None:
    url, store, thread = capture_one_request()
    env = {"APISIG_API_KEY": AEVO_KEY, "APISIG_SECRET": AEVO_SECRET.decode()}
    signed = run(
        [APISIG, "sign", "aevo", "PUT", "/orders/7?force=1", "--body", '{"qty": 2}', "--curl", "--url", url],
        env,
    )
    assert signed.returncode == 0
    assert run(shlex.split(signed.stdout.decode()), {}).returncode == 0
    thread.join(timeout=30)
    captured = tmp_path / "request.http"
    captured.write_bytes(store["raw"])
    (tmp_path / "secret").write_bytes(AEVO_SECRET)
    ring = tmp_path / "keyring.json"
    ring.write_text(json.dumps([{"id": AEVO_KEY, "secret_file": str(tmp_path / "secret")}]))

    ok = run([APISIG, "verify", "aevo", "--request", str(captured), "--keyring", str(ring)], {})
    assert ok.returncode == 0, ok.stdout
    assert json.loads(ok.stdout) == {
        "result": "valid", "scheme": "aevo", "client_id": AEVO_KEY, "slot": "primary", "role": None, "user_id": None,
        "scopes": [],
    }  # fmt: skip
    tampered = tmp_path / "tampered.http"
    tampered.write_bytes(store["raw"].replace(b'"qty": 2', b'"qty": 9'))
    bad = run([APISIG, "verify", "signius", "aevo", "--request", str(tampered), "--keyring", str(ring)], {})
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["error"] in {"signature_mismatch", "missing_credential"}
    late = run(
        [APISIG, "verify", "aevo", "--request", str(captured), "--keyring", str(ring), "--now", "1"], {}
    )
    assert late.returncode == 1 and json.loads(late.stdout)["error"] == "timestamp_outside_window"


def test_verify_needs_the_scopes_asked_for(tmp_path: Path) -> None:
    """``--scope`` refuses a client without the scope as ``forbidden`` (exit 1), whatever other
    dialect is tried; the principal lists the client's scopes."""
    ring = tmp_path / "keyring.json"
    ring.write_text(
        json.dumps(
            [
                {"id": "trader", "key": "trader-static-key", "scopes": ["read", "trade"]},
                {"id": "reader", "key": "reader-static-key", "scopes": ["read"]},
                {"id": "nobody", "key": "nobody-static-key"},
            ]
        )
    )

    def verify(key: str, *scopes: str) -> tuple[int, dict[str, object]]:
        request = tmp_path / f"{key}.http"
        request.write_bytes(f"POST /orders HTTP/1.1\r\nHost: x\r\nX-Api-Key: {key}\r\n\r\n".encode())
        args = [APISIG, "verify", "signius", "aevo", "--request", str(request), "--keyring", str(ring)]
        out = run([*args, *(a for s in scopes for a in ("--scope", s))], {})
        return out.returncode, json.loads(out.stdout)

    code, ok = verify("trader-static-key", "trade", "read")
    assert code == 0 and ok["client_id"] == "trader" and ok["scopes"] == ["read", "trade"]
    code, refused = verify("reader-static-key", "trade")
    assert code == 1 and refused["error"] == "forbidden" and refused["code"] == 41
    assert verify("reader-static-key", "read")[0] == 0
    code, refused = verify("nobody-static-key", "read")
    assert code == 1 and refused["error"] == "forbidden"
    code, ok = verify("nobody-static-key")
    assert code == 0 and ok["scopes"] == []
    # A scope no keyring entry names: nobody holds it.
    assert verify("trader-static-key", "admin")[1]["error"] == "forbidden"
