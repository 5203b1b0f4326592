"""The ``apisig`` command line.

``apisig sign <dialect> METHOD URL|PATH [--body @file | --body TEXT] [--curl [--url BASE]]``
    prints the headers a request needs (``Name: value`` lines), or with ``--curl`` a
    ready-to-run curl command line. The request target signed is PATH (path and query, as
    sent), or the path and query of a full URL (``https://api.example.com/orders?x=1``); a curl
    line needs the full URL, or PATH and ``--url BASE``. Credentials come from the environment or from files,
    never from the command line: ``APISIG_API_KEY``, ``APISIG_SECRET``, ``APISIG_USER_ID``,
    ``APISIG_TOKEN``, or the files named by ``APISIG_API_KEY_FILE``, ``APISIG_SECRET_FILE``,
    ``APISIG_USER_ID_FILE``, ``APISIG_TOKEN_FILE`` (or ``--api-key-file`` and the like).

``apisig verify <dialect> [<dialect> ...] --request FILE --keyring FILE [--scope NAME ...]``
    checks a captured HTTP/1.1 request (request line, headers, blank line, body, as it went
    over the wire) against a keyring file, and prints the principal as JSON (exit 0) or the
    refusal (exit 1). The keyring file is JSON: a list of
    ``{"id", "key" | "secret" | "key_file" | "secret_file", "secondary", "role", "user_id",
    "scopes"}``. Each ``--scope`` names a permission the request needs: a client without it is
    refused as ``forbidden``, as the middlewares' ``require_scopes`` refuse it.

``apisig keys init|create|issue|list|rotate|promote|retire|expire|revoke|disable|enable|delete|allow|scopes|role|rekey ...``
    manages the keys a server verifies against, in a store (docs/stores.md): ``--store
    sqlite:PATH`` or ``--store postgres://USER:PASSWORD@HOST:PORT/DB``, by default
    ``$APISIG_STORE``; the master key from ``APISIG_MASTER_KEY`` (64 hex digits) or the file
    ``APISIG_MASTER_KEY_FILE`` names (``apisig keys init --generate-master-key`` makes one). An
    issued key is printed once, on stdout. ``--json`` prints every result (and error) as JSON.
    A refused change exits 1 with the reason on stderr, and writes nothing. ``apisig keys
    rekey`` re-seals every HMAC secret under ``APISIG_MASTER_KEY`` while
    ``APISIG_MASTER_KEY_PREVIOUS`` (or ``_FILE``) holds the old key; resumable.

A dialect is a preset name (``apisig presets`` lists them) or ``@scheme.json``, a user-defined
scheme as :meth:`apisig.Scheme.from_dict` reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from . import PRESETS, SECUROSYS_ROLES, KeyInfo, Scheme, Signer, Store, StoreError, Verifier
from .exceptions import ApisigError
from .types import ClientStatus

__all__ = ["main", "parse_http_request"]

CREDENTIALS = ("api_key", "secret", "user_id", "token")


def load_scheme(name: str) -> Scheme:
    if name.startswith("@"):
        spec = json.loads(Path(name[1:]).read_text(encoding="utf-8"))
        return Scheme.from_dict(spec)
    try:
        return PRESETS[name]
    except KeyError:
        raise SystemExit(f"apisig: unknown dialect {name!r}; known: {', '.join(PRESETS)}") from None


def read_secret_file(path: str) -> bytes:
    data = Path(path).read_bytes()
    return data[:-1] if data.endswith(b"\n") else data


def credential(args: argparse.Namespace, name: str) -> bytes:
    """From --NAME-file, else $APISIG_NAME_FILE, else $APISIG_NAME; empty when none is set."""
    upper = f"APISIG_{name.upper()}"
    path = getattr(args, f"{name}_file") or os.environ.get(f"{upper}_FILE")
    if path:
        return read_secret_file(path)
    return os.environ.get(upper, "").encode()


def read_body(spec: str | None) -> tuple[bytes, str | None]:
    """The body, and the file it came from (for curl's --data-binary @file)."""
    if spec is None:
        return b"", None
    if spec.startswith("@"):
        if spec == "@-":
            return sys.stdin.buffer.read(), None
        return Path(spec[1:]).read_bytes(), spec[1:]
    return spec.encode(), None


def _split_target(target: str, base: str | None) -> tuple[str, str | None]:
    """The request target to sign (path and query) and the URL curl is to fetch, if known:
    from a full URL, or from a path and ``--url BASE``."""
    if not target.startswith(("http://", "https://")):
        return target, base.rstrip("/") + target if base else None
    if base:
        raise SystemExit("apisig: give either a full URL or a path with --url, not both")
    parts = urlsplit(target)
    if not parts.netloc or parts.fragment:
        raise SystemExit(f"apisig: {target!r} is not a URL curl can fetch (https://host/path?query)")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return path, target


def cmd_sign(args: argparse.Namespace) -> int:
    scheme = load_scheme(args.dialect)
    path, url = _split_target(args.path, args.url)
    creds = {name: credential(args, name) for name in CREDENTIALS}
    signer = Signer(
        scheme,
        api_key=creds["api_key"].decode(),
        secret=creds["secret"],
        user_id=creds["user_id"].decode(),
        token=creds["token"].decode(),
    )
    body, body_file = read_body(args.body)
    extra = [tuple(h.split(":", 1)) for h in args.header]
    extra_headers = [(n.strip(), v.strip()) for n, v in extra]
    headers = signer.sign(args.method, path, body, extra_headers, now=args.now, nonce=args.nonce)
    all_headers = [*extra_headers, *headers.items()]
    if not args.curl:
        for name, value in all_headers:
            print(f"{name}: {value}")
        return 0
    if url is None:
        raise SystemExit(
            "apisig: --curl needs the full URL (https://api.example.com/orders) or --url BASE with a path"
        )
    argv = ["curl", "-sS", "-X", args.method.upper(), url]
    for name, value in all_headers:
        argv += ["-H", f"{name}: {value}"]
    if body:
        argv += ["--data-binary", f"@{body_file}" if body_file else body.decode("utf-8", "surrogateescape")]
    print(shlex.join(argv))
    return 0


def parse_http_request(raw: bytes) -> tuple[str, str, list[tuple[str, bytes]], bytes]:
    """Method, request target, headers and body of a captured HTTP/1.1 request."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = raw.partition(b"\n\n")
    lines = head.replace(b"\r\n", b"\n").split(b"\n")
    method, target, _version = lines[0].decode("latin-1").split(" ", 2)
    headers: list[tuple[str, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, _, value = line.partition(b":")
        headers.append((name.decode("latin-1"), value.strip(b" \t")))
    length = next((int(v) for n, v in headers if n.lower() == "content-length"), None)
    if length is not None:
        body = body[:length]
    return method, target, headers, body


def build_verifier(path: str, args: argparse.Namespace) -> Verifier:
    entries: list[dict[str, Any]] = json.loads(Path(path).read_text(encoding="utf-8"))
    # The server's scope names: every one the keyring gives or the request needs.
    names = sorted({str(n) for e in entries for n in e.get("scopes") or ()} | set(args.scope))
    v = Verifier(window=args.window, policy=SECUROSYS_ROLES, scopes=names or None)
    for e in entries:

        def secret_of(kind: str, e: dict[str, Any] = e) -> bytes | None:
            if e.get(f"{kind}_file"):
                return read_secret_file(e[f"{kind}_file"])
            value = e.get(kind)
            return None if value is None else str(value).encode()

        primary = secret_of("key") or secret_of("secret")
        if primary is None:
            raise SystemExit(f"apisig: keyring entry {e.get('id')!r} has no key or secret")
        v.add(
            e["id"], primary, secondary=secret_of("secondary"), role=e.get("role"), user_id=e.get("user_id")
        )
        if e.get("scopes"):
            v.set_scopes(e["id"], [str(n) for n in e["scopes"]])
    return v


def cmd_verify(args: argparse.Namespace) -> int:
    schemes = [load_scheme(d) for d in args.dialect]
    raw = sys.stdin.buffer.read() if args.request == "-" else Path(args.request).read_bytes()
    method, target, headers, body = parse_http_request(raw)
    verifier = build_verifier(args.keyring, args)
    first: ApisigError | None = None
    for scheme in schemes:
        try:
            p = verifier.verify(scheme, method, target, headers, body, now=args.now, authorize=args.authorize)
        except ApisigError as e:
            first = first or e
            continue
        try:
            verifier.require_scopes(p, args.scope)
        except ApisigError as e:
            # Authenticated, not authorized: no other dialect changes that.
            first = e
            break
        principal = {"client_id": p.client_id, "slot": p.slot, "role": p.role, "user_id": p.user_id}
        print(json.dumps({"result": "valid", "scheme": p.scheme, **principal, "scopes": sorted(p.scopes)}))
        return 0
    assert first is not None
    print(json.dumps({"result": "invalid", "error": first.name, "code": first.code, "message": str(first)}))
    return 1


def cmd_presets(_args: argparse.Namespace) -> int:
    for name, scheme in PRESETS.items():
        print(f"{name:16} {scheme.kind:15} {', '.join(h[0] for h in scheme.headers)}")
    return 0


# ---- apisig keys: the key store's lifecycle ------------------------------------------------

STORE_ENV = "APISIG_STORE"
"""The environment variable naming the store ``apisig keys`` uses without ``--store``."""


class _Refused(Exception):
    """A ``keys`` command refused before the store was changed (bad arguments, no store)."""


def _open_store(args: argparse.Namespace, create: bool = False) -> Store:
    url = args.store or os.environ.get(STORE_ENV)
    if not url:
        raise _Refused(f"no store: pass --store sqlite:PATH (or postgres://...) or set {STORE_ENV}")
    if url.startswith("sqlite:") and not create:
        # The crate's forms: sqlite:PATH, sqlite://PATH, sqlite:///ABSOLUTE/PATH, sqlite::memory:.
        rest = url.removeprefix("sqlite:")
        path = rest.removeprefix("//")
        if path != ":memory:" and not Path(path).exists():
            # A mistyped path would otherwise become a new, empty store.
            raise _Refused(f"no store at {path}: create it with `apisig keys init --store {url}`")
    return Store.open(url, product=getattr(args, "product", None))


def _emit(args: argparse.Namespace, value: object, text: str | None) -> None:
    if args.json:
        print(json.dumps(value))
    elif text is not None:
        print(text)


def _keys_init(args: argparse.Namespace) -> int:
    if args.generate_master_key:
        key = Store.generate_master_key()
        _emit(args, {"master_key": key}, key)
        return 0
    store = _open_store(args, create=True)
    result = {"master_key_id": store.master_key_id, "product": store.product, "clients": len(store.list())}
    _emit(args, result, f"store ready: master key {store.master_key_id}, keys issued as {store.product}_…")
    return 0


def _issued(args: argparse.Namespace, store: Store, id: str, slot: str, key: str) -> None:
    info = store.client(id)
    kind = next((k.kind for k in info.keys if k.slot == slot), None) if info else None
    _emit(args, {"id": id, "slot": slot, "kind": kind, "key": key}, key)
    if not args.json:
        print(f"apisig: the {slot} key of {id!r}: shown once, hand it over now", file=sys.stderr)


def _keys_create(args: argparse.Namespace) -> int:
    store = _open_store(args)
    store.create_client(args.id)
    key = None
    try:
        if args.role is not None:
            store.set_role(args.id, args.role)
        if args.user_id is not None:
            store.bind_user_id(args.id, args.user_id)
        if args.allow:
            store.set_allowed(args.id, args.allow)
        if args.scope:
            store.set_scopes(args.id, args.scope)
        if args.issue:
            key = store.issue(args.id, "primary", args.issue)
    except BaseException as refused:
        # One client, created by this command: nothing of it stays when a setting is refused.
        try:
            store.delete_client(args.id)
        except (StoreError, ApisigError) as e:
            raise refused from e
        raise
    if key is not None:
        _issued(args, store, args.id, "primary", key)
    else:
        info = store.client(args.id)
        _emit(args, info.to_dict() if info else None, f"created {args.id!r}")
    return 0


def _keys_issue(args: argparse.Namespace) -> int:
    store = _open_store(args)
    key = store.issue(args.id, args.slot, args.kind)
    _issued(args, store, args.id, args.slot, key)
    return 0


def _key_line(k: KeyInfo) -> str:
    def when(t: int | None) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t is not None else "-"

    state = "revoked" if k.revoked is not None else "expires " + when(k.expires) if k.expires else "active"
    return f"    {k.slot:9} {k.kind:6} issued {when(k.created)}  {state}"


def _keys_list(args: argparse.Namespace) -> int:
    store = _open_store(args)
    if args.id:
        info = store.client(args.id)
        if info is None:
            raise StoreError(f"no client {args.id!r}")
        clients = [info]
    else:
        clients = store.list()
    if args.json:
        print(json.dumps([c.to_dict() for c in clients]))
        return 0
    for c in clients:
        extra = [f"role={c.role}"] if c.role else []
        extra += [f"user_id={c.user_id}"] if c.user_id else []
        extra += [f"allow={','.join(c.allowed)}"] if c.allowed else []
        extra += [f"scopes={','.join(c.scopes)}"] if c.scopes else []
        print(" ".join([c.id, c.status, *extra]))
        for k in c.keys:
            print(_key_line(k))
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    store = _open_store(args)
    key = store.rotate(args.id, grace=None if args.no_grace else args.grace)
    _issued(args, store, args.id, "primary", key)
    return 0


def _changed(args: argparse.Namespace, store: Store, what: str) -> int:
    info = store.client(args.id)
    _emit(args, info.to_dict() if info else {"id": args.id, "deleted": True}, what)
    return 0


def _keys_promote(args: argparse.Namespace) -> int:
    store = _open_store(args)
    store.promote(args.id)
    return _changed(args, store, f"{args.id!r}: the secondary key is now the primary")


def _keys_retire(args: argparse.Namespace) -> int:
    store = _open_store(args)
    store.retire(args.id)
    return _changed(args, store, f"{args.id!r}: the secondary key is deleted")


def _keys_expire(args: argparse.Namespace) -> int:
    if (args.at is not None) + (args.after is not None) + args.never != 1:
        raise _Refused("give exactly one of --at UNIX_SECONDS, --in SECONDS, --never")
    at = None if args.never else args.at if args.at is not None else int(time.time()) + args.after
    store = _open_store(args)
    store.set_expiry(args.id, args.slot, at)
    return _changed(
        args, store, f"{args.id!r}: the {args.slot} key " + (f"expires at {at}" if at else "never expires")
    )


def _keys_revoke(args: argparse.Namespace) -> int:
    store = _open_store(args)
    if args.slot:
        store.revoke_key(args.id, args.slot)
        return _changed(args, store, f"{args.id!r}: the {args.slot} key is revoked")
    store.revoke_client(args.id)
    return _changed(args, store, f"{args.id!r} is revoked: every credential of it is refused")


def _keys_status(status: ClientStatus) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        store = _open_store(args)
        store.set_status(args.id, status)
        return _changed(args, store, f"{args.id!r} is {status}")

    return run


def _keys_delete(args: argparse.Namespace) -> int:
    store = _open_store(args)
    if args.slot:
        store.delete_key(args.id, args.slot)
        return _changed(args, store, f"{args.id!r}: the {args.slot} key is deleted")
    store.delete_client(args.id)
    return _changed(args, store, f"{args.id!r} is deleted, with its keys")


def _keys_allow(args: argparse.Namespace) -> int:
    if bool(args.cidr) == args.any:
        raise _Refused("give the CIDRs the client may connect from, or --any")
    store = _open_store(args)
    store.set_allowed(args.id, args.cidr)
    return _changed(args, store, f"{args.id!r} may connect from " + (", ".join(args.cidr) or "any address"))


def _keys_scopes(args: argparse.Namespace) -> int:
    if bool(args.scope) == args.none:
        raise _Refused("give the client's scopes, or --none")
    store = _open_store(args)
    store.set_scopes(args.id, args.scope)
    return _changed(args, store, f"{args.id!r} has scopes: " + (", ".join(args.scope) or "none"))


def _keys_role(args: argparse.Namespace) -> int:
    if (args.role is None) != args.none:
        raise _Refused("give the client's role, or --none")
    store = _open_store(args)
    store.set_role(args.id, args.role)
    return _changed(args, store, f"{args.id!r} has role: {args.role or 'none'}")


def _rekey_text(status: dict[str, Any], newest: str) -> str:
    line = f"{status['sealed']} secrets sealed under master key {status['master_key_id']}"
    if not status["complete"]:
        older = ", ".join(f"{n} under {k}" for k, n in status["remaining"].items())
        return line + f"; {older}: run `apisig keys rekey` (with that key as APISIG_MASTER_KEY_PREVIOUS)"
    if status["master_key_id"] != newest:
        return line + f"; `apisig keys rekey` re-seals them under {newest} (APISIG_MASTER_KEY)"
    return line + "; complete: no older master key is needed"


def _keys_rekey(args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise _Refused("--batch is at least 1")
    store = _open_store(args)
    if args.status:
        status = store.rekey_status()
        _emit(args, status, _rekey_text(status, store.master_key_ids[0]))
        return 0

    def progress(n: int) -> None:
        print(f"apisig: re-sealed {n}", file=sys.stderr, flush=True)

    status = store.rekey(batch=args.batch, progress=progress)
    _emit(args, status, f"re-sealed {status['resealed']}; " + _rekey_text(status, store.master_key_ids[0]))
    return 0


def _keys(args: argparse.Namespace) -> int:
    """Runs a ``keys`` command; a refusal is reported (as JSON too with --json), exit 1."""
    run = cast(Callable[[argparse.Namespace], int], args.keys_run)
    try:
        return run(args)
    except (StoreError, ApisigError, _Refused) as e:
        kind = e.name if isinstance(e, ApisigError) else type(e).__name__
        code = e.code if isinstance(e, ApisigError) else None
        if args.json:
            print(json.dumps({"error": kind, "code": code, "message": str(e)}))
        print(f"apisig: {e}", file=sys.stderr)
        return 1


def _keys_parser(sub: Any) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--store", help=f"sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DB (default: ${STORE_ENV})"
    )
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    k = sub.add_parser(
        "keys",
        help="issue, list, rotate, expire, revoke and delete the keys in a store",
        description="The key lifecycle in a store (docs/stores.md). The master key comes from "
        "APISIG_MASTER_KEY or the file APISIG_MASTER_KEY_FILE names.",
        allow_abbrev=False,
    )
    k.set_defaults(run=_keys)
    ks = k.add_subparsers(dest="keys_command", required=True)

    def add(name: str, run: Callable[[argparse.Namespace], int], help: str, id: bool = True) -> Any:
        p = ks.add_parser(name, parents=[common], help=help, allow_abbrev=False)
        if id:
            p.add_argument("id", help="the client's id")
        p.set_defaults(keys_run=run)
        return p

    def slot(p: Any, default: str | None, help: str) -> None:
        p.add_argument("--slot", choices=["primary", "secondary"], default=default, help=help)

    p = add("init", _keys_init, "create (or migrate) the store; or make a master key", id=False)
    p.add_argument("--product", help="the product issued keys are named by (acme -> acme_sk_...)")
    p.add_argument(
        "--generate-master-key", action="store_true", help="print a new master key (the store is not touched)"
    )
    p = add("create", _keys_create, "create a client (and issue its first key)")
    p.add_argument(
        "--issue", choices=["static", "hmac"], help="issue a primary key of this kind, printed once"
    )
    p.add_argument("--role")
    p.add_argument("--user-id")
    p.add_argument("--allow", action="append", default=[], metavar="CIDR", help="an allowed address range")
    p.add_argument("--scope", action="append", default=[], help="a scope (permission)")
    p = add("issue", _keys_issue, "issue a key into an empty slot, printed once")
    slot(p, "primary", "the slot (default: primary)")
    p.add_argument("--kind", choices=["static", "hmac"], default="static", help="default: static")
    p = add("list", _keys_list, "list the clients and their keys (never a secret)", id=False)
    p.add_argument("id", nargs="?", help="only this client")
    p = add("rotate", _keys_rotate, "issue a new primary; the old key stays the secondary for --grace")
    p.add_argument(
        "--grace", type=int, default=86400, help="seconds the old key keeps working (default: 86400)"
    )
    p.add_argument("--no-grace", action="store_true", help="delete the old key at once")
    add("promote", _keys_promote, "swap the primary and secondary keys")
    add("retire", _keys_retire, "delete the secondary key (the old primary)")
    p = add("expire", _keys_expire, "set when a key stops working")
    slot(p, "primary", "the key's slot (default: primary)")
    p.add_argument("--at", type=int, help="UNIX seconds")
    p.add_argument("--in", dest="after", type=int, metavar="SECONDS", help="seconds from now")
    p.add_argument("--never", action="store_true", help="no expiry")
    p = add("revoke", _keys_revoke, "revoke the client (every credential), or one key with --slot")
    slot(p, None, "revoke only this key")
    add("disable", _keys_status("disabled"), "refuse the client until enabled again")
    add("enable", _keys_status("active"), "make a disabled client active again")
    p = add("delete", _keys_delete, "delete the client with its keys, or one key with --slot")
    slot(p, None, "delete only this key")
    p = add("allow", _keys_allow, "set the address ranges the client may connect from")
    p.add_argument("cidr", nargs="*", help="IPv4/IPv6 CIDRs (at most 8)")
    p.add_argument("--any", action="store_true", help="any address")
    p = add("scopes", _keys_scopes, "set the client's scopes")
    p.add_argument("scope", nargs="*")
    p.add_argument("--none", action="store_true", help="no scopes")
    p = add(
        "rekey",
        _keys_rekey,
        "re-seal every HMAC secret under APISIG_MASTER_KEY (the old key in APISIG_MASTER_KEY_PREVIOUS)",
        id=False,
    )
    p.add_argument("--batch", type=int, default=1000, help="secrets per transaction (default: 1000)")
    p.add_argument("--status", action="store_true", help="only show where a re-seal stands")
    p = add("role", _keys_role, "set the client's role")
    p.add_argument("role", nargs="?")
    p.add_argument("--none", action="store_true", help="no role")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="apisig",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "sign", help="print the headers (or a curl command) for one request", allow_abbrev=False
    )
    s.add_argument("dialect")
    s.add_argument("method")
    s.add_argument("path", help="request target as sent (path and query), or the full URL")
    s.add_argument("--body", help="@file (exact bytes), @- (stdin) or the body text")
    s.add_argument("--header", action="append", default=[], help="'Name: value', sent (and signable) as is")
    s.add_argument("--curl", action="store_true", help="print a curl command line instead of headers")
    s.add_argument("--url", help="base URL for --curl when PATH is not a full URL")
    s.add_argument("--now", type=int, help="time in ns since the epoch (default: now)")
    s.add_argument("--nonce", type=int, help="nonce (default: a counter from the time in ms)")
    for name in CREDENTIALS:
        s.add_argument(
            f"--{name.replace('_', '-')}-file", dest=f"{name}_file", help=f"file holding the {name}"
        )
    s.set_defaults(run=cmd_sign)

    v = sub.add_parser("verify", help="check a captured HTTP request", allow_abbrev=False)
    v.add_argument("dialect", nargs="+")
    v.add_argument("--request", required=True, help="file with the raw request, or - for stdin")
    v.add_argument("--keyring", required=True, help="JSON keyring file")
    v.add_argument("--now", type=int, help="time in ns since the epoch (default: now)")
    v.add_argument("--window", type=int, default=300, help="freshness window in seconds")
    v.add_argument("--authorize", action="store_true", help="also check the Securosys role table")
    v.add_argument(
        "--scope", action="append", default=[], metavar="NAME", help="a scope the request needs (repeatable)"
    )
    v.set_defaults(run=cmd_verify)

    sub.add_parser("presets", help="list the preset dialects").set_defaults(run=cmd_presets)
    _keys_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except ApisigError as e:
        print(f"apisig: {e} ({e.name}, code {e.code})", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
