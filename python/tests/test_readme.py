"""Every example in README.md and docs/*.md runs as written, and docs/layout.md lists every
module. The blocks are found by scripts/md_blocks.py: Python blocks are executed here, shell
blocks run with bash (the `apisig` command on PATH, credentials in the environment as the
command wants them), Rust blocks are doctests of apisig-redis, C blocks are built and run by
scripts/c-test.sh. A block that cannot run where the tests run is marked `illustrative`."""

from __future__ import annotations

import hashlib
import hmac
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from md_blocks import KNOWN, Block, blocks  # noqa: E402

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCKS = [b for path in DOCS for b in blocks(path)]


def runnable(lang: str) -> list[Block]:
    return [b for b in BLOCKS if b.lang == lang and b.runs]


def test_every_block_is_run_or_marked() -> None:
    for b in BLOCKS:
        assert b.lang in KNOWN, f"{b.where}: give the block a language ({', '.join(KNOWN)})"
        if b.lang == "rust" and b.path.name != "README.md":
            assert b.illustrative, f"{b.where}: only README.md's Rust blocks are doctests"
    assert {b.lang for b in BLOCKS if b.runs} == {"rust", "python", "sh", "c"}
    doctests = (ROOT / "redis" / "src" / "lib.rs").read_text(encoding="utf-8")
    assert '#[doc = include_str!("../../README.md")]' in doctests, "README's Rust blocks must stay doctests"


@pytest.mark.parametrize("block", runnable("python"), ids=lambda b: b.where)
def test_python_example(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(block.text, block.where, "exec"), {"__name__": "__example__"})


def run_shell(block: Block, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = str(Path(sys.executable).parent)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("APISIG_")}
    env = {**clean, "PATH": f"{bin_dir}:{clean['PATH']}", "APISIG_API_KEY": KEY, "APISIG_SECRET": SECRET}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block.text],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"{block.where}:\n{done.stderr}"
    return done


KEY, SECRET = "API_KEY", "API_SECRET"


@pytest.mark.parametrize("block", runnable("sh"), ids=lambda b: b.where)
def test_shell_example(block: Block, tmp_path: Path) -> None:
    assert run_shell(block, tmp_path).stdout, f"{block.where} printed nothing"


def test_readme_cli_lines_sign_as_aevo_documents(tmp_path: Path) -> None:
    """The README's command lines print Aevo headers whose signature Python's hmac recomputes,
    and a curl command for the same request."""
    (cli,) = [b for b in runnable("sh") if b.path.name == "README.md" and "apisig sign" in b.text]
    lines = run_shell(cli, tmp_path).stdout.splitlines()
    body = (tmp_path / "order.json").read_bytes()
    headers = dict(line.split(": ", 1) for line in lines if line.startswith("AEVO-"))
    message = b",".join([KEY.encode(), headers["AEVO-TIMESTAMP"].encode(), b"POST", b"/orders", body])
    assert headers["AEVO-KEY"] == KEY
    assert headers["AEVO-SIGNATURE"] == hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    (curl,) = [shlex.split(line) for line in lines if line.startswith("curl ")]
    assert curl[curl.index("-X") + 1] == "POST" and "https://api.example.com/orders" in curl
    assert curl[curl.index("--data-binary") + 1] == "@order.json"
    sent = {curl[i + 1].split(": ")[0] for i, arg in enumerate(curl) if arg == "-H"}
    assert sent == {"AEVO-KEY", "AEVO-TIMESTAMP", "AEVO-SIGNATURE"}


def layout() -> dict[str, str]:
    """The layout block of docs/layout.md: path (directories end in '/') -> description. A line's path
    is relative to the nearest less-indented directory line above it."""
    (text,) = [b.text for b in BLOCKS if b.path.name == "layout.md" and b.lang == "text"]
    entries: dict[str, str] = {}
    parents: list[tuple[int, str]] = []
    for line in text.splitlines():
        indent = len(line) - len(line.lstrip(" "))
        name, _, description = line.strip().partition(" ")
        while parents and parents[-1][0] >= indent:
            parents.pop()
        path = (parents[-1][1] if parents else "") + name
        assert path not in entries, f"layout lists {path} twice"
        entries[path] = description.strip()
        if path.endswith("/"):
            parents.append((indent, path))
    return entries


def required() -> set[str]:
    """Every module (each file of the crates' src/ and of the Python package), every crate and
    every test directory."""

    def ours(p: Path) -> bool:  # not built, cached or hidden
        rel = p.relative_to(ROOT).parts
        return not any(part.startswith((".", "__")) or part == "target" for part in rel) and p.suffix != ".so"

    want: set[str] = set()
    for pattern in (
        "core/src/*.rs",
        "ffi/src/*.rs",
        "python/src/*.rs",
        "redis/src/*.rs",
        "store/src/*.rs",
        "python/apisig/*",
    ):
        want |= {str(p.relative_to(ROOT)) for p in ROOT.glob(pattern) if p.is_file() and ours(p)}
    for manifest in [*ROOT.glob("*/Cargo.toml"), *ROOT.glob("*/*/Cargo.toml")]:
        if ours(manifest):
            want.add(f"{manifest.parent.relative_to(ROOT)}/")
    for tests in [*ROOT.glob("*/tests"), *(ROOT / "tests").rglob("*")]:
        if tests.is_dir() and ours(tests):
            want.add(f"{tests.relative_to(ROOT)}/")
    return want


def test_layout_lists_every_module() -> None:
    listed = layout()
    missing = sorted(required() - set(listed))
    assert not missing, f"add to docs/layout.md: {missing}"
    stale = sorted(p for p in listed if not (ROOT / p).exists())
    assert not stale, f"docs/layout.md names what does not exist: {stale}"
    assert all(listed.values()), "every layout entry says what it is"
