"""``apisig/exceptions.py`` is generated from the core's error table, and checked here.

The core (``core/src/error.rs``) writes each error once: code, name, family, message and doc.
``render()`` below writes the Python classes from ``apisig._native.error_table()``, the way
``ffi/tests/header.rs`` writes the C enum; ``test_exceptions_module_is_current`` fails when
the committed file differs. Regenerate with::

    APISIG_BLESS=1 .venv/bin/pytest python/tests/test_exceptions.py

Only what is Python's own is written here: the class names of the families, the
``InvalidToken`` group, and which errors are also ``ValueError`` (a bad argument value, as
Python's own functions raise).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import apisig
from apisig import _native, exceptions

MODULE = Path(exceptions.__file__)

# The core's families, by name, as Python classes (in this order), with their extra bases.
FAMILIES: dict[str, tuple[str, str]] = {
    "malformed": ("MalformedRequest", "ValueError"),
    "authentication": ("AuthenticationFailed", ""),
    "forbidden": ("AuthorizationFailed", ""),
    "unavailable": ("ServiceUnavailable", ""),
    "configuration": ("ConfigurationError", ""),
}

# Authentication errors about a bearer JWT or session token: also ``InvalidToken``.
TOKEN_ERRORS = frozenset(
    {
        "token_malformed",
        "token_too_long",
        "algorithm_none",
        "algorithm_not_allowed",
        "missing_algorithm",
        "duplicate_field",
        "embedded_key",
        "token_expired",
        "token_not_yet_valid",
        "missing_claim",
        "claim_mismatch",
    }
)

# Errors outside the malformed family that are also ``ValueError``: the value given (a path,
# a pattern, a key, a template, a token, a certificate) is not one that can be used.
VALUE_ERRORS = frozenset(
    {
        "non_canonical_path",
        "invalid_pattern",
        "duplicate_key_id",
        "empty_secret",
        "invalid_template",
        "token_malformed",
        "invalid_certificate",
    }
)

HEADER = '''"""The exceptions apisig raises: one class per core error, each carrying the core's stable
numeric ``code`` (the one the C ABI returns), snake_case ``name``, ``family`` and the
``http_status`` a server answers.

Generated from the core's error table (``apisig._native.error_table()``) by
``python/tests/test_exceptions.py``, which fails when this file is stale. Do not edit: change
``core/src/error.rs``, then run ``APISIG_BLESS=1 pytest python/tests/test_exceptions.py``.

The classes are grouped by the core's families, what a caller does about them::

    ApisigError
{tree}

so ``except apisig.ReplayedRequest:`` catches one case and ``except apisig.AuthenticationFailed:``
a family. Instances pickle and compare by message like any exception.
"""

from __future__ import annotations

from typing import ClassVar

'''

BASE = '''

class ApisigError(Exception):
    """Base class of every apisig error. ``code`` and ``name`` identify the core error,
    ``family`` its family, ``http_status`` what a server answers (500 for an error this
    version does not know)."""

    code: ClassVar[int] = 0
    name: ClassVar[str] = "apisig_error"
    family: ClassVar[str] = ""
    http_status: ClassVar[int] = 500
'''

FOOTER = '''

def _from_code(code: int, name: str, message: str) -> ApisigError:
    """The exception for a core error (called by ``apisig._native``). A code this module does
    not know (a newer core) still raises an ``ApisigError`` carrying the code and name."""
    cls = _BY_CODE.get(code)
    if cls is not None:
        return cls(message)
    err = ApisigError(message)
    err.code = code  # type: ignore[misc]
    err.name = name  # type: ignore[misc]
    return err
'''


def class_name(error_name: str) -> str:
    return "".join(part.capitalize() for part in error_name.split("_"))


def docstring(text: str, indent: str = "    ") -> str:
    """The core's doc comment text as a docstring: one leading space per line dropped,
    Markdown code spans as reST literals."""
    lines = [line.removeprefix(" ").rstrip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    lines = [re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", line) for line in lines]
    body = ("\n" + indent).join(lines).replace(indent + "\n", "\n")
    return f'{indent}"""{body}"""\n'


def render(table: list[_native.ErrorInfo]) -> str:
    """The text of ``apisig/exceptions.py`` for the core's error table."""
    seen = {e.family.name: e.family for e in table}
    assert set(seen) == set(FAMILIES), f"families: core {sorted(seen)}, Python {sorted(FAMILIES)}"
    names = {e.name: e for e in table}
    assert set(names) >= TOKEN_ERRORS | VALUE_ERRORS
    assert all(names[n].family.name == "authentication" for n in TOKEN_ERRORS)

    tree: list[str] = []
    for i, (family, (cls, extra)) in enumerate(FAMILIES.items()):
        last = i == len(FAMILIES) - 1
        also = f" (also {extra})" if extra else ""
        tree.append(f"    {'└' if last else '├'}── {cls}{also}".ljust(48) + f"{seen[family].http_status}")
        if family == "authentication":
            tree.append(
                "    │   └── InvalidToken".ljust(48) + "401  a bearer JWT or session token was refused"
            )
    out = [HEADER.format(tree="\n".join(tree))]

    every = [
        "ApisigError",
        "InvalidToken",
        *(c for c, _ in FAMILIES.values()),
        *(class_name(e.name) for e in table),
    ]
    out.append("__all__ = [\n" + "".join(f'    "{n}",\n' for n in sorted(every)) + "]\n")
    out.append(BASE)

    out.append("\n\n# ---- families: the core's, what a caller does about an error " + "-" * 30 + "\n")
    for family, (cls, extra) in FAMILIES.items():
        f = seen[family]
        bases = f"ApisigError, {extra}" if extra else "ApisigError"
        doc = f.doc.rstrip("\n") + f"\n A server answers {f.http_status}.\n"
        out.append(f"\n\nclass {cls}({bases}):\n{docstring(doc)}\n")
        out.append(f'    family = "{family}"\n    http_status = {f.http_status}\n')
        if family == "authentication":
            out.append(
                '\n\nclass InvalidToken(AuthenticationFailed):\n    """A bearer JWT or session token was refused."""\n'
            )

    out.append("\n\n# ---- one class per core error, in code order " + "-" * 48 + "\n")
    for e in table:
        parent = "InvalidToken" if e.name in TOKEN_ERRORS else FAMILIES[e.family.name][0]
        bases = f"{parent}, ValueError" if e.name in VALUE_ERRORS else parent
        out.append(f"\n\nclass {class_name(e.name)}({bases}):\n{docstring(e.doc)}\n")
        out.append(f'    code = {e.code}\n    name = "{e.name}"\n')

    out.append("\n\n_BY_CODE: dict[int, type[ApisigError]] = {\n")
    out.extend(f"    {e.code}: {class_name(e.name)},\n" for e in table)
    out.append("}\n")
    out.append(FOOTER)
    return "".join(out)


def test_exceptions_module_is_current() -> None:
    fresh = render(_native.error_table())
    if os.environ.get("APISIG_BLESS"):
        MODULE.write_text(fresh, encoding="utf-8")
    assert MODULE.read_text(encoding="utf-8") == fresh, (
        "apisig/exceptions.py is stale: run `APISIG_BLESS=1 .venv/bin/pytest python/tests/test_exceptions.py`"
    )


def test_every_core_error_has_its_class_and_no_other() -> None:
    """Both directions: each native row has a class with its code, name, family and status;
    each class with a code is a native row."""
    table = _native.error_table()
    assert len(table) >= 40
    for row in table:
        cls = exceptions._BY_CODE[row.code]
        assert (cls.code, cls.name, cls.family, cls.http_status) == (
            row.code,
            row.name,
            row.family.name,
            row.family.http_status,
        )
        assert cls.__name__ == class_name(row.name)
        assert getattr(apisig, cls.__name__) is cls
        assert row.message and row.doc
    codes = {row.code for row in table}
    leaves = [
        c for c in vars(exceptions).values() if isinstance(c, type) and issubclass(c, Exception) and c.code
    ]
    assert {c.code for c in leaves} == codes and len(leaves) == len(codes)


def test_families_are_the_core_families() -> None:
    for row in _native.error_table():
        base = getattr(exceptions, FAMILIES[row.family.name][0])
        cls = exceptions._BY_CODE[row.code]
        assert issubclass(cls, base) and base.http_status == row.family.http_status == row.http_status
    # The statuses DESIGN.md promises, written out (not read from the code under test).
    assert apisig.MalformedRequest.http_status == 401
    assert apisig.AuthenticationFailed.http_status == 401
    assert apisig.AuthorizationFailed.http_status == 403
    assert apisig.ServiceUnavailable.http_status == 503
    assert apisig.ConfigurationError.http_status == 500
    assert issubclass(apisig.ReplayCacheFull, apisig.ServiceUnavailable)
    assert issubclass(apisig.ReplayStoreUnavailable, apisig.ServiceUnavailable)
    assert issubclass(apisig.NonCanonicalPath, apisig.AuthorizationFailed)
    assert issubclass(apisig.TokenExpired, apisig.InvalidToken)
    assert issubclass(apisig.InvalidPattern, ValueError) and not issubclass(apisig.UnknownKey, ValueError)
