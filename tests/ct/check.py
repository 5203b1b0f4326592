#!/usr/bin/env python3
"""Reads a valgrind memcheck XML report of tests/ct/ct.c and fails on any secret-dependent
branch or memory index that is not a listed declassification point.

    check.py REPORT.xml DECLASSIFY.txt [--list]

Each error is attributed to its *site*: the innermost stack frame in apisig's own code
(core/src, ffi/src) or in this harness. A site is allowed when DECLASSIFY.txt lists its file (path suffix) and the exact text
of its source line (whitespace-trimmed) — by text, not line number, so an edit to the line
or to what it calls makes the check fail until someone looks again.
"""
import collections
import pathlib
import sys
import xml.etree.ElementTree as ET

KINDS = {"UninitCondition", "UninitValue", "SyscallParam", "ClientCheck"}


def frames(err):
    stack = err.find("stack")
    return [] if stack is None else stack.findall("frame")


ROOT = pathlib.Path(__file__).resolve().parents[2]
OURS = tuple(str(ROOT / d) + "/" for d in ("core/src", "ffi/src", "tests/ct"))


def site(err):
    """The innermost frame in our own code (core, ffi, this harness): errors inside std,
    subtle, sha2 or base16ct count against the line of ours that called them."""
    first = None
    for f in frames(err):
        file, line = f.findtext("file"), f.findtext("line")
        if not (file and line):
            continue
        path = str(pathlib.Path(f.findtext("dir") or "") / file)
        here = (path, int(line), f.findtext("fn") or "?")
        first = first or here
        if path.startswith(OURS):
            return here
    return first or ("?", 0, "?")


def source(path, line):
    try:
        return pathlib.Path(path).read_text().splitlines()[line - 1].strip()
    except (OSError, IndexError):
        return ""


def main():
    report, allow_file = sys.argv[1], sys.argv[2]
    allowed = []
    for raw in pathlib.Path(allow_file).read_text().splitlines():
        if raw.strip() and not raw.startswith("#"):
            suffix, rest = raw.split(" | ", 1)
            text = rest.rsplit(" -- why: ", 1)[0]
            allowed.append((suffix.strip(), text.strip()))
    root = ET.parse(report).getroot()
    counts = {e.findtext("unique"): int(e.findtext("count")) for e in root.iter("pair")}
    sites = collections.defaultdict(lambda: [0, set()])
    for err in root.findall("error"):
        kind = err.findtext("kind")
        if kind not in KINDS:
            continue
        path, line, fn = site(err)
        text = source(path, line)
        key = (path, text)
        sites[key][0] += counts.get(err.findtext("unique"), 1)
        sites[key][1].add(f"{kind} in {fn} at line {line}")
    bad = 0
    for (path, text), (n, what) in sorted(sites.items()):
        ok = any(path.endswith("/" + suffix) and text == t for suffix, t in allowed)
        bad += not ok
        mark = "declassify" if ok else "SECRET-DEPENDENT"
        print(f"  {mark:16} {n:5}x {path}: {text!r}  ({'; '.join(sorted(what))})")
    print(f"ct: {len(sites)} sites, {bad} not declassification points")
    return 1 if bad else 0


sys.exit(main())
