"""The ``apisig`` command line.

``apisig sign <dialect> METHOD URL|PATH [--body @file | --body TEXT] [--curl [--url BASE]]``
    prints the headers a request needs (``Name: value`` lines), or with ``--curl`` a
    ready-to-run curl command line. The request target signed is PATH (path and query, as
    sent), or the path and query of a full URL (``https://api.example.com/orders?x=1``); a curl
    line needs the full URL, or PATH and ``--url BASE``. Credentials come from the environment or from files,
    never from the command line: ``APISIG_API_KEY``, ``APISIG_SECRET``, ``APISIG_USER_ID``,
    ``APISIG_TOKEN``, or the files named by ``APISIG_API_KEY_FILE``, ``APISIG_SECRET_FILE``,
    ``APISIG_USER_ID_FILE``, ``APISIG_TOKEN_FILE`` (or ``--api-key-file`` and the like).

``apisig verify <dialect> [<dialect> ...] --request FILE --keyring FILE``
    checks a captured HTTP/1.1 request (request line, headers, blank line, body, as it went
    over the wire) against a keyring file, and prints the principal as JSON (exit 0) or the
    refusal (exit 1). The keyring file is JSON: a list of
    ``{"id", "key" | "secret" | "key_file" | "secret_file", "secondary", "role", "user_id"}``.

A dialect is a preset name (``apisig presets`` lists them) or ``@scheme.json``, a user-defined
scheme as :meth:`apisig.Scheme.from_dict` reads it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import PRESETS, SECUROSYS_ROLES, Scheme, Signer, Verifier
from .exceptions import ApisigError

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
    v = Verifier(capacity=max(16, len(entries)), window=args.window, policy=SECUROSYS_ROLES)
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
        principal = {"client_id": p.client_id, "slot": p.slot, "role": p.role, "user_id": p.user_id}
        print(json.dumps({"result": "valid", "scheme": p.scheme, **principal}))
        return 0
    assert first is not None
    print(json.dumps({"result": "invalid", "error": first.name, "code": first.code, "message": str(first)}))
    return 1


def cmd_presets(_args: argparse.Namespace) -> int:
    for name, scheme in PRESETS.items():
        print(f"{name:16} {scheme.kind:15} {', '.join(h[0] for h in scheme.headers)}")
    return 0


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
    v.set_defaults(run=cmd_verify)

    sub.add_parser("presets", help="list the preset dialects").set_defaults(run=cmd_presets)
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
