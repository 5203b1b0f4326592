#!/usr/bin/env python3
"""The fenced code blocks of Markdown files, for the tests that run every example in the README
and in docs/ as written.

A block runs when its info string is one of the languages below; `illustrative` after the
language (```` ```sh illustrative ````) marks one that is shown, not run (it needs a cross
compiler, an install prefix, or is `make test` itself). Who runs what:

    rust    compiled and run as doctests (redis/src/lib.rs includes README.md); README only
    python  executed by python/tests/test_readme.py
    sh      run by python/tests/test_readme.py with bash, credentials in the environment
    c       compiled against the static library and run by scripts/c-test.sh
    text    not code (docs/layout.md's tree, checked against the tree by test_readme.py)

    scripts/md_blocks.py c OUTDIR FILE...   writes each runnable c block to OUTDIR/<file>-<line>.c
                                            and prints the paths
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNABLE = ("rust", "python", "sh", "c")
KNOWN = (*RUNNABLE, "text")
FENCE = re.compile(r"^(`{3,})(.*)$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    illustrative: bool
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.lang in RUNNABLE and not self.illustrative


def blocks(path: Path) -> list[Block]:
    """Every fenced block of `path`, in order; an unclosed fence is an error."""
    out: list[Block] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if m is None:
            i += 1
            continue
        fence, info = m.group(1), m.group(2).split()
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == fence), None)
        if end is None:
            raise ValueError(f"{path.name}:{i + 1}: unclosed code block")
        lang = info[0] if info else ""
        out.append(Block(path, i + 1, lang, "illustrative" in info[1:], "\n".join(lines[i + 1 : end]) + "\n"))
        i = end + 1
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[1] != "c":
        print(__doc__, file=sys.stderr)
        return 2
    outdir = Path(argv[2])
    outdir.mkdir(parents=True, exist_ok=True)
    for name in argv[3:]:
        for b in blocks(Path(name)):
            if b.lang == "c" and b.runs:
                dest = outdir / f"{Path(name).stem.lower()}-{b.line}.c"
                dest.write_text(f"/* {name}, line {b.line} */\n{b.text}", encoding="utf-8")
                print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
