"""``apisig keys``, driven as a user would in a subprocess: the lifecycle against an SQLite
store, ``--json`` on every command, the master key and store from the environment, and
refusals that exit 1 with the reason and leave the store as it was. The keys it prints are
checked with Python's ``zlib.crc32`` (the documented checksum) and verified by an
``apisig.Store`` opened by the test itself."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Any

import pytest

import apisig

APISIG = str(Path(sys.executable).with_name("apisig"))
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def checksum_ok(key: str) -> bool:
    body, text = key[:-6], key[-6:]
    return sum(BASE62.index(c) * 62 ** (5 - i) for i, c in enumerate(text)) == zlib.crc32(body.encode())


class Cli:
    def __init__(self, env: dict[str, str]) -> None:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("APISIG_")}
        self.env = {**clean, **env}

    def run(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [APISIG, "keys", *args],
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def ok(self, *args: str) -> str:
        out = self.run(*args)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def json(self, *args: str) -> Any:
        return json.loads(self.ok(*args, "--json"))


@pytest.fixture
def master() -> str:
    return secrets.token_hex(32)


@pytest.fixture
def cli(tmp_path: Path, master: str) -> Cli:
    return Cli({"APISIG_STORE": f"sqlite:{tmp_path / 'keys.db'}", "APISIG_MASTER_KEY": master})


def test_lifecycle_through_the_command_line(cli: Cli, tmp_path: Path, master: str) -> None:
    made = cli.json("init", "--product", "acme")
    assert made["product"] == "acme" and made["clients"] == 0 and len(made["master_key_id"]) == 16
    issued = cli.json(
        "create", "client-7", "--issue", "static", "--role", "KeyOperator", "--scope", "orders:read"
    )
    key = issued["key"]
    assert issued["id"] == "client-7" and issued["slot"] == "primary" and issued["kind"] == "static"
    assert key.startswith("acme_sk_") and checksum_ok(key)
    # Without --json the key alone is on stdout (KEY=$(apisig keys issue ...)), a note on stderr.
    out = cli.run("issue", "client-7", "--slot", "secondary", "--kind", "hmac")
    assert out.returncode == 0 and "shown once" in out.stderr
    hmac_key = out.stdout.strip()
    assert hmac_key.startswith("acme_hs_") and checksum_ok(hmac_key)
    store = apisig.Store.open(f"sqlite:{tmp_path / 'keys.db'}", master_key=master)
    assert store.client("client-7") == store.client("client-7")
    listed = cli.json("list")
    assert listed == [c.to_dict() for c in store.list()]
    assert key not in json.dumps(listed) and hmac_key not in json.dumps(listed)
    (client,) = listed
    assert (client["role"], client["scopes"]) == ("KeyOperator", ["orders:read"])
    assert [(k["slot"], k["kind"]) for k in client["keys"]] == [("primary", "static"), ("secondary", "hmac")]
    text = cli.ok("list")
    assert "client-7 active role=KeyOperator scopes=orders:read" in text and key not in text

    cli.ok("delete", "client-7", "--slot", "secondary")
    before = int(time.time())
    rotated = cli.json("rotate", "client-7", "--grace", "600")
    assert rotated["kind"] == "static" and rotated["key"] != key and checksum_ok(rotated["key"])
    keys = cli.json("list", "client-7")[0]["keys"]
    assert keys[0]["expires"] is None and before + 600 <= keys[1]["expires"] <= int(time.time()) + 600
    cli.ok("retire", "client-7")
    assert [k["slot"] for k in cli.json("list", "client-7")[0]["keys"]] == ["primary"]

    assert cli.json("expire", "client-7", "--at", "1900000000")["keys"][0]["expires"] == 1_900_000_000
    assert cli.json("expire", "client-7", "--never")["keys"][0]["expires"] is None
    after = cli.json("expire", "client-7", "--in", "60")["keys"][0]["expires"]
    assert before + 60 <= after <= int(time.time()) + 60
    assert cli.json("allow", "client-7", "192.0.2.0/24", "2001:db8::/32")["allowed"] == [
        "192.0.2.0/24",
        "2001:db8::/32",
    ]
    assert cli.json("allow", "client-7", "--any")["allowed"] == []
    assert cli.json("scopes", "client-7", "a:b", "c")["scopes"] == ["a:b", "c"]
    assert cli.json("role", "client-7", "--none")["role"] is None
    assert cli.json("disable", "client-7")["status"] == "disabled"
    assert cli.json("enable", "client-7")["status"] == "active"
    assert cli.json("revoke", "client-7", "--slot", "primary")["keys"][0]["revoked"] is not None
    assert cli.json("revoke", "client-7")["status"] == "revoked"
    assert cli.json("delete", "client-7") == {"id": "client-7", "deleted": True}
    assert cli.json("list") == [] and store.list() == []


def test_refusals_exit_1_and_write_nothing(cli: Cli, tmp_path: Path) -> None:
    out = cli.run("create", "c1")
    assert out.returncode == 1 and "apisig keys init" in out.stderr
    assert not (tmp_path / "keys.db").exists()  # a mistyped path is not a new store
    cli.ok("init")
    cli.ok("create", "c1")
    before = cli.json("list")
    cases = [
        (["create", "c1"], "StoreError", "already exists"),
        (["create", "c2", "--allow", "10.0.0.1/8", "--issue", "static"], "StoreError", "10.0.0.1/8"),
        (["issue", "nobody"], "StoreError", "no client"),
        (["rotate", "c1"], "StoreError", "no primary key"),
        (["allow", "c1", "300.0.0.0/8"], "StoreError", "300.0.0.0/8"),
        (["scopes", "c1", "no spaces allowed"], "StoreError", "scope"),
        (["expire", "c1"], "_Refused", "exactly one of"),
        (["allow", "c1"], "_Refused", "--any"),
    ]
    for args, kind, message in cases:
        out = cli.run(*args, "--json")
        assert out.returncode == 1, (args, out.stderr)
        assert message in out.stderr and out.stderr.startswith("apisig: ")
        error = json.loads(out.stdout)
        assert error["error"] == kind and message in error["message"]
        assert cli.json("list") == before, args  # nothing half-written (c2 not left behind)


def test_store_and_master_key_errors(cli: Cli, tmp_path: Path) -> None:
    cli.ok("init")
    out = cli.run("list", env={"APISIG_MASTER_KEY": secrets.token_hex(32)})
    assert out.returncode == 1 and "wrong master key" in out.stderr
    out = cli.run("list", "--json", env={"APISIG_MASTER_KEY": ""})
    assert out.returncode == 1 and json.loads(out.stdout)["error"] == "MasterKeyError"
    no_store = {k: v for k, v in cli.env.items() if k != "APISIG_STORE"}
    out = subprocess.run(
        [APISIG, "keys", "list"], env=no_store, capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 1 and "APISIG_STORE" in out.stderr
    # A master key from a file; --store wins over APISIG_STORE.
    key = cli.ok("init", "--generate-master-key").strip()
    assert len(bytes.fromhex(key)) == 32
    (tmp_path / "mk").write_text(key + "\n")
    other = f"sqlite:{tmp_path / 'other.db'}"
    from_file = Cli({"APISIG_STORE": cli.env["APISIG_STORE"], "APISIG_MASTER_KEY_FILE": str(tmp_path / "mk")})
    assert from_file.json("init", "--store", other)["master_key_id"] != cli.json("init")["master_key_id"]
    from_file.ok("create", "x", "--store", other)
    assert [c["id"] for c in from_file.json("list", "--store", other)] == ["x"]
    assert apisig.Store.open(other, master_key=key).client("x") is not None
    # Unreachable PostgreSQL: store_unavailable, code 120.
    out = cli.run("list", "--json", "--store", "postgres://a@127.0.0.1:1/a?connect_timeout=2")
    assert out.returncode == 1
    assert json.loads(out.stdout)["error"] == "store_unavailable" and json.loads(out.stdout)["code"] == 120
