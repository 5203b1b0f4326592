"""``apisig.Store``, the Rust store crate's Python face: issued keys checked against the
documented format (Python's ``zlib.crc32`` as the checksum's oracle), the key lifecycle, listings
that never hold a secret, SQLite files searched for the keys (and read with Python's own
``sqlite3`` for the static keys' SHA-256 digests), master key errors at open, and a database that
cannot be reached raising ``StoreUnavailable`` (HTTP 503)."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import socket
import sqlite3
import time
import zlib
from pathlib import Path
from typing import get_args

import pytest
from conftest import postgres_server

import apisig

# docs/stores.md: what secret scanners match.
SCANNER = re.compile(r"\b[a-z][a-z0-9]{0,15}_(?:sk|hs)_[0-9A-Za-z]{49}\b")
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def checksum_ok(key: str) -> bool:
    """The documented checksum: CRC32 (IEEE) of everything before it, 6 base62 digits."""
    body, text = key[:-6], key[-6:]
    value = sum(BASE62.index(c) * 62 ** (5 - i) for i, c in enumerate(text))
    return value == zlib.crc32(body.encode())


@pytest.fixture
def master() -> str:
    return secrets.token_hex(32)


def db_bytes(path: Path) -> bytes:
    """The SQLite file and its write-ahead log, as stored on disk."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))


def test_issued_keys_have_the_documented_format(master: str) -> None:
    store = apisig.Store.open("sqlite::memory:", master_key=master, product="acme")
    assert store.product == "acme"
    store.create_client("c1")
    pairs = zip(get_args(apisig.Slot), get_args(apisig.KeyKind), strict=True)
    keys = {kind: store.issue("c1", slot, kind) for slot, kind in pairs}
    assert keys["static"].startswith("acme_sk_") and keys["hmac"].startswith("acme_hs_")
    for key in keys.values():
        assert SCANNER.fullmatch(key) and re.fullmatch(store.key_regex, key)
        assert checksum_ok(key)
    listed = store.client("c1")
    assert listed is not None
    assert [(k.slot, k.kind) for k in listed.keys] == [("primary", "static"), ("secondary", "hmac")]


def test_sqlite_file_holds_no_key_in_clear(tmp_path: Path, master: str) -> None:
    path = tmp_path / "keys.db"
    store = apisig.Store.open(f"sqlite:{path}", master_key=bytes.fromhex(master))
    issued: dict[str, str] = {}
    for i in range(20):
        store.create_client(f"c{i}")
        issued[f"c{i}"] = store.issue(f"c{i}", "primary", "static" if i % 2 else "hmac")
    issued["c0-rotated"] = store.rotate("c0", grace=60)
    del store
    raw = db_bytes(path)
    for key in issued.values():
        assert key.encode() not in raw
        assert key[8:51].encode() not in raw  # not even the random part
    # The static keys are there as their SHA-256 digests (read with Python's sqlite3).
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT client_id, kind, digest, sealed FROM apisig_keys WHERE slot = 0").fetchall()
    by_id = {r[0]: r for r in rows}
    for i in range(1, 20, 2):
        _, kind, digest, sealed = by_id[f"c{i}"]
        assert kind == "sk" and digest == hashlib.sha256(issued[f"c{i}"].encode()).digest() and sealed is None
    for i in range(2, 20, 2):
        _, kind, digest, sealed = by_id[f"c{i}"]
        assert kind == "hs" and digest is None and len(sealed) > len(issued[f"c{i}"])


def test_lifecycle(master: str) -> None:
    store = apisig.Store.open("sqlite::memory:", master_key=master)
    store.create_client("c7")
    first = store.issue("c7")
    with pytest.raises(apisig.StoreError, match="already has a primary key"):
        store.issue("c7")
    with pytest.raises(apisig.StoreError, match="already exists"):
        store.create_client("c7")
    store.set_role("c7", "KeyOperator")
    store.bind_user_id("c7", "42")
    store.set_allowed("c7", ["192.0.2.0/24", "2001:db8::/32"])
    store.set_scopes("c7", ["orders:read", "orders:write"])
    before = int(time.time())
    second = store.rotate("c7", grace=3600)
    assert second != first and checksum_ok(second)
    info = store.client("c7")
    assert info is not None
    assert (info.id, info.status, info.role, info.user_id) == ("c7", "active", "KeyOperator", "42")
    assert info.allowed == ["192.0.2.0/24", "2001:db8::/32"] and info.scopes == [
        "orders:read",
        "orders:write",
    ]
    primary, secondary = info.keys
    assert (primary.slot, primary.expires, secondary.slot) == ("primary", None, "secondary")
    assert secondary.expires is not None and before + 3600 <= secondary.expires <= int(time.time()) + 3600
    store.promote("c7")
    assert [k.expires is None for k in store.client("c7").keys] == [False, True]  # type: ignore[union-attr]
    store.promote("c7")
    store.retire("c7")
    assert [k.slot for k in store.client("c7").keys] == ["primary"]  # type: ignore[union-attr]
    with pytest.raises(apisig.StoreError, match="no secondary key"):
        store.retire("c7")
    store.set_expiry("c7", "primary", 1_900_000_000)
    store.revoke_key("c7", "primary")
    (key,) = store.client("c7").keys  # type: ignore[union-attr]
    assert key.expires == 1_900_000_000 and key.revoked is not None
    store.set_status("c7", "disabled")
    assert store.client("c7").status == "disabled"  # type: ignore[union-attr]
    store.set_status("c7", "active")
    store.revoke_client("c7")
    with pytest.raises(apisig.StoreError, match="revoked for good"):
        store.set_status("c7", "active")
    store.delete_client("c7")
    assert store.client("c7") is None and store.list() == []


def test_listing_never_holds_a_secret(master: str) -> None:
    store = apisig.Store.open("sqlite::memory:", master_key=master)
    keys = []
    for id in ("b", "a", "c"):
        store.create_client(id)
        keys.append(store.issue(id, "primary", "hmac"))
        keys.append(store.issue(id, "secondary", "static"))
    listed = store.list()
    assert [c.id for c in listed] == ["a", "b", "c"]
    assert listed[0] == store.client("a") and listed[0] != listed[1]
    text = json.dumps([c.to_dict() for c in listed]) + repr(listed) + repr(store)
    for key in keys:
        assert key not in text and key[8:20] not in text
    assert set(listed[0].to_dict()) == {
        "id", "status", "role", "user_id", "allowed", "scopes", "keys", "pins", "created", "updated"
    }  # fmt: skip


def test_refused_input_names_the_problem(master: str) -> None:
    store = apisig.Store.open("sqlite::memory:", master_key=master)
    with pytest.raises(apisig.StoreError, match="no client"):
        store.issue("nobody")
    store.create_client("c")
    with pytest.raises(apisig.StoreError, match=r"CIDR|address"):
        store.set_allowed("c", ["192.0.2.1/24"])  # host bits set
    with pytest.raises(apisig.StoreError, match="scope"):
        store.set_scopes("c", ["has space"])
    with pytest.raises(ValueError, match="slot"):
        store.issue("c", "tertiary")
    with pytest.raises(ValueError, match="key kind"):
        store.issue("c", "primary", "rsa")
    with pytest.raises(ValueError, match="status"):
        store.set_status("c", "paused")
    with pytest.raises(apisig.StoreError, match="URL"):
        apisig.Store.open("mysql://localhost/x", master_key=master)
    assert store.client("c").keys == [] and store.client("c").allowed == []  # type: ignore[union-attr]


def test_master_key_errors_are_clear_at_open(
    tmp_path: Path, master: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:{tmp_path / 'keys.db'}"
    store = apisig.Store.open(url, master_key=master)
    store.create_client("c")
    store.issue("c", "primary", "hmac")
    other = apisig.Store.generate_master_key()
    with pytest.raises(apisig.MasterKeyError, match=f"wrong master key.*{store.master_key_id}"):
        apisig.Store.open(url, master_key=other)
    with pytest.raises(apisig.MasterKeyError, match="invalid master key"):
        apisig.Store.open(url, master_key="00" * 31)
    with pytest.raises(TypeError, match="master key"):
        apisig.Store.open(url, master_key=42)  # type: ignore[arg-type]
    monkeypatch.delenv("APISIG_MASTER_KEY", raising=False)
    monkeypatch.delenv("APISIG_MASTER_KEY_FILE", raising=False)
    with pytest.raises(apisig.MasterKeyError, match="APISIG_MASTER_KEY"):
        apisig.Store.open(url)
    monkeypatch.setenv("APISIG_MASTER_KEY", master)
    assert apisig.Store.open(url).master_key_id == store.master_key_id
    monkeypatch.delenv("APISIG_MASTER_KEY")
    key_file = tmp_path / "master.key"
    key_file.write_text(master + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("APISIG_MASTER_KEY_FILE", str(key_file))
    assert apisig.Store.open(url).client("c") is not None


def test_a_new_master_key_with_the_old_one_from_the_environment(
    tmp_path: Path, master: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """APISIG_MASTER_KEY the new key, APISIG_MASTER_KEY_PREVIOUS(_FILE) the old one: the store
    opens, re-seals in steps (stopped by the progress callback, and by its error), and the
    SQLite file holds neither master key nor any secret afterwards. Bulk import, all or none."""
    url = f"sqlite:{tmp_path / 'keys.db'}?pool_size=2"
    old = apisig.Store.open(url, master_key=master)
    assert old.pool_size == 2 and (tmp_path / "keys.db").exists()
    carried = [(f"c{i}", "hmac", f"carried-over-secret-{i}".encode()) for i in range(4)]
    assert old.import_clients([*carried, ("d", None, None)]) == 5
    with pytest.raises(apisig.StoreError, match="already exists"):
        old.import_clients([("e", None, None), ("c0", None, None)])
    assert old.client("e") is None
    with pytest.raises(apisig.StoreError, match="not a apisig static key"):
        old.import_clients([("e", "static", b"SIGNIUS_KEY")])
    with pytest.raises(ValueError, match="a kind and a key"):
        old.import_clients([("e", "hmac", None)])
    new = apisig.Store.generate_master_key()
    monkeypatch.setenv("APISIG_MASTER_KEY", new)
    monkeypatch.delenv("APISIG_MASTER_KEY_FILE", raising=False)
    monkeypatch.delenv("APISIG_MASTER_KEY_PREVIOUS", raising=False)
    with pytest.raises(apisig.MasterKeyError, match=f"wrong master key.*{old.master_key_id}"):
        apisig.Store.open(url)
    (tmp_path / "old.key").write_text(master + "\n")
    monkeypatch.setenv("APISIG_MASTER_KEY_PREVIOUS_FILE", str(tmp_path / "old.key"))
    both = apisig.Store.open(url)
    assert both.master_key_ids[1] == old.master_key_id and both.master_key_id == old.master_key_id
    seen: list[int] = []

    def two_batches(n: int) -> bool:
        seen.append(n)
        return n < 2  # False: stop

    status = both.rekey(batch=1, progress=two_batches)
    assert seen == [1, 2] and not status["complete"] and status["resealed"] == 2
    assert status["remaining"] == {old.master_key_id: 2} and status["sealed"] == 2
    assert status["master_key_id"] == both.master_key_ids[0] == both.master_key_id
    with pytest.raises(ZeroDivisionError):
        both.rekey(batch=1, progress=lambda n: 1 / 0)  # the callback's error, after one batch
    assert both.rekey_status()["remaining"] == {old.master_key_id: 1}
    assert both.rekey()["complete"]
    data = db_bytes(tmp_path / "keys.db")
    for _, _, secret in carried:
        assert secret not in data
    for key in (master.encode(), new.encode(), bytes.fromhex(master), bytes.fromhex(new)):
        assert key not in data


def test_unreachable_database_is_store_unavailable(master: str) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    with pytest.raises(apisig.StoreUnavailable) as caught:
        apisig.Store.open(f"postgres://apisig@127.0.0.1:{port}/apisig?connect_timeout=2", master_key=master)
    assert caught.value.code == 120 and caught.value.http_status == 503
    assert "key store unavailable" in str(caught.value)


def test_postgres_lifecycle_stopped_and_restarted(master: str) -> None:
    """The same store against a real PostgreSQL server: stopped, a call raises
    ``StoreUnavailable``; started again, the same ``Store`` object works without reopening."""
    with postgres_server() as pg:
        store = apisig.Store.open(pg.url, master_key=master)
        store.create_client("c1")
        key = store.issue("c1", "primary", "hmac")
        assert checksum_ok(key) and [c.id for c in store.list()] == ["c1"]
        with pytest.raises(apisig.MasterKeyError, match="wrong master key"):
            apisig.Store.open(pg.url, master_key=apisig.Store.generate_master_key())
        pg.stop()
        with pytest.raises(apisig.StoreUnavailable, match="key store unavailable"):
            store.list()
        with pytest.raises(apisig.StoreUnavailable):
            store.revoke_client("c1")
        pg.start()
        store.revoke_client("c1")
        assert store.client("c1").status == "revoked"  # type: ignore[union-attr]
