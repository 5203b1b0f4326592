"""What every vector file shares: tcIds, declared outcomes checked against the
references, the file header and the JSON text."""

from __future__ import annotations

import hashlib
import json

from oracles.common import ERRORS, VALID, VectorError


class TcIds:
    """Hands out tcIds 1, 2, 3, ... for one file."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def outcome(expect: str) -> dict:
    """The result/error fields for an expectation ("valid" or an error name)."""
    if expect == VALID:
        return {"result": "valid"}
    if expect not in ERRORS:
        raise VectorError(f"unknown error name {expect!r}")
    return {"result": "invalid", "error": expect}


def check_faults(faults: set, expect: str, where: str) -> None:
    """An invalid case must trip exactly the declared check; a valid one none."""
    wanted = set() if expect == VALID else {expect}
    if faults != wanted:
        raise VectorError(f"{where}: declared {expect!r}, reference found {sorted(faults)}")


def derived_hex(label: str, n: int) -> str:
    """A fixed pseudo-random byte string (n <= 64), reproducible from its label."""
    return hashlib.sha512(label.encode()).digest()[:n].hex()


GENERATOR = "tests/vectors/generate.py"

def write_json(obj: dict) -> str:
    return json.dumps(obj, indent=1, ensure_ascii=False) + "\n"


def file_header(description: str, notes: list) -> dict:
    return {"description": description, "generator": GENERATOR, "notes": notes}
