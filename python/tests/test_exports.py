"""The ``__all__`` lists are checked here rather than kept in step by hand: every entry exists,
every public class and function a module defines is listed, and the package re-exports the
whole native API and every exception."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

import pytest

import apisig
from apisig import _native, exceptions, types

MODULES = sorted(
    m.name for m in pkgutil.iter_modules(apisig.__path__, "apisig.") if not m.name.startswith("apisig._")
)

# Helpers these modules define without listing them, to be made private (``_name``) or
# listed: the entries may only go away (the test fails when one is no longer needed).
NOT_YET_PRIVATE: dict[str, set[str]] = {
    "apisig.cli": {
        "build_verifier",
        "cmd_presets",
        "cmd_sign",
        "cmd_verify",
        "credential",
        "load_scheme",
        "parser",
        "read_body",
        "read_secret_file",
    },
    "apisig.server": {"error_body", "status_for"},
}


def defined_here(module: ModuleType) -> set[str]:
    """The public classes and functions `module` defines (not those it imports)."""
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and value.__module__ == module.__name__
    }


@pytest.mark.parametrize("name", ["apisig", *MODULES])
def test_all_lists_what_the_module_defines(name: str) -> None:
    module = importlib.import_module(name)
    listed = list(module.__all__)
    assert len(listed) == len(set(listed)), f"{name}.__all__ repeats a name"
    missing = [n for n in listed if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names what it does not have: {missing}"
    unlisted = defined_here(module) - set(listed)
    known = NOT_YET_PRIVATE.get(name, set())
    assert unlisted == known, f"{name}: public but not in __all__: {sorted(unlisted - known)}; " + (
        f"no longer to be made private: {sorted(known - unlisted)}"
    )


def test_package_reexports_the_native_api_and_every_exception() -> None:
    # Private classes (`_AsgiGate`, apisig.server's) are the module's own, not re-exported.
    native = {n for n in _native.__all__ if not n.startswith("_") or n == "__version__"}
    assert native == {n for n in vars(_native) if not n.startswith("_")} | {"__version__"}
    for name in native | set(exceptions.__all__):
        assert name in apisig.__all__, f"apisig does not re-export {name}"
        source = _native if name in native else exceptions
        assert getattr(apisig, name) is getattr(source, name)
    own = set(apisig.__all__) - native - set(exceptions.__all__) - set(types.__all__)
    assert own == {"PRESETS", "scheme", "verify_async"}
    for name in types.__all__:
        assert getattr(apisig, name) is getattr(types, name)
