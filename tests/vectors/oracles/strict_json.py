"""A small strict RFC 8259 parser that keeps every string as its raw JSON text (escape
sequences not decoded), cross-checked against ``json.loads`` on every input."""

from __future__ import annotations

import json
import re

from .common import OracleError

#
# A value is ("object", [(raw_name, value), ...]), ("array", [value, ...]),
# ("string", raw_text), ("number", raw_text), ("true",), ("false",) or ("null",).


class JsonError(Exception):
    pass


_STRING = re.compile(r'"((?:[^"\\\x00-\x1f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*)"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WS = " \t\n\r"


class _Parser:
    def __init__(self, text: str) -> None:
        self.s, self.i = text, 0

    def ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in _WS:
            self.i += 1

    def take(self, ch: str) -> None:
        self.ws()
        if not self.s.startswith(ch, self.i):
            raise JsonError(f"expected {ch!r} at {self.i}")
        self.i += 1

    def string(self) -> str:
        self.ws()
        m = _STRING.match(self.s, self.i)
        if m is None:
            raise JsonError(f"bad string at {self.i}")
        self.i = m.end()
        return m.group(1)

    def value(self, depth: int = 0):
        if depth > 64:
            raise JsonError("nested too deeply")
        self.ws()
        rest = self.s[self.i:]
        if rest.startswith("{"):
            return self.container("object", "}", depth)
        if rest.startswith("["):
            return self.container("array", "]", depth)
        if rest.startswith('"'):
            return ("string", self.string())
        m = _NUMBER.match(self.s, self.i)
        if m is not None:
            self.i = m.end()
            return ("number", m.group(0))
        for word in ("true", "false", "null"):
            if rest.startswith(word):
                self.i += len(word)
                return (word,)
        raise JsonError(f"no value at {self.i}")

    def container(self, kind: str, close: str, depth: int):
        self.i += 1
        items: list = []
        self.ws()
        if self.s.startswith(close, self.i):
            self.i += 1
            return (kind, items)
        while True:
            if kind == "object":
                name = self.string()
                self.take(":")
                items.append((name, self.value(depth + 1)))
            else:
                items.append(self.value(depth + 1))
            self.ws()
            if self.s.startswith(close, self.i):
                self.i += 1
                return (kind, items)
            self.take(",")


def _decoded(value):
    """The value as json.loads gives it (objects as ("object", pairs))."""
    kind = value[0]
    if kind == "object":
        return ("object", [(json.loads(f'"{k}"'), _decoded(v)) for k, v in value[1]])
    if kind == "array":
        return [_decoded(v) for v in value[1]]
    if kind in ("string", "number"):
        return json.loads(f'"{value[1]}"' if kind == "string" else value[1])
    return {"true": True, "false": False, "null": None}[kind]


def _refuse_constant(name: str):
    raise ValueError(f"not JSON: {name}")


def parse_json(raw: bytes):
    """Parses one JSON text (UTF-8, surrounding whitespace allowed); raises JsonError."""
    mine: object = None
    try:
        text = raw.decode("utf-8")
        parser = _Parser(text)
        mine = parser.value()
        parser.ws()
        if parser.i != len(text):
            raise JsonError("trailing characters")
    except (JsonError, UnicodeDecodeError) as err:
        mine = err
    try:
        theirs = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant,
                            object_pairs_hook=lambda pairs: ("object", pairs))
    except (ValueError, UnicodeDecodeError) as err:
        theirs = err
    mine_failed, theirs_failed = isinstance(mine, Exception), isinstance(theirs, Exception)
    if mine_failed != theirs_failed or (not mine_failed and _decoded(mine) != theirs):
        raise OracleError(f"JSON parsers disagree on {raw!r}: {mine!r} / {theirs!r}")
    if mine_failed:
        raise JsonError(str(mine))
    return mine


def members(obj) -> list:
    """(name, value) pairs of a top-level object. Member names with escape sequences are
    kept out of the vectors: JSON says "\\u0061lg" names "alg", a raw comparison does not."""
    pairs = obj[1]
    if len(pairs) > 32:
        raise OracleError("vectors keep objects to at most 32 members")
    for name, _ in pairs:
        if "\\" in name:
            raise OracleError(f"vectors keep member names free of escapes: {name!r}")
    return pairs


def has_duplicates(pairs: list) -> bool:
    names = [n for n, _ in pairs]
    return len(set(names)) != len(names)
