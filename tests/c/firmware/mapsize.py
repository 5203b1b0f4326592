#!/usr/bin/env python3
"""Sums what one archive contributes to a GNU ld map file, by output section.

usage: mapsize.py MAP ARCHIVE_NAME             -> prints "text=N rodata=N data=N bss=N"
       mapsize.py --symbols MAP ARCHIVE_NAME   -> each input section of the archive, largest
                                                  last, demangled (where the bytes go)
"""
import re
import subprocess
import sys

SECTIONS = ("text", "rodata", "data", "bss")


def main():
    symbols = sys.argv[1] == "--symbols"
    path, archive = sys.argv[1 + symbols], sys.argv[2 + symbols]
    totals = dict.fromkeys(SECTIONS, 0)
    rows = []
    out = None
    pending = None  # an input-section name whose address/size is on the next line
    in_map = False
    entry = re.compile(r"^\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$")
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("Linker script and memory map"):
                in_map = True
                continue
            if not in_map:
                continue
            m = re.match(r"^\.(\w+)\b", line)
            if m:
                out = m.group(1) if m.group(1) in SECTIONS else None
                continue
            if line.startswith(" *(") or line.startswith(" *"):
                continue
            m = re.match(r"^ (\.\S+)\s*$", line)
            if m:
                pending = m.group(1)
                continue
            m = re.match(r"^ (\.\S+)\s+(0x[0-9a-f]+)\s+(0x[0-9a-f]+)\s+(\S.*)$", line)
            if m:
                size, obj = int(m.group(3), 16), m.group(4)
            else:
                m = entry.match(line) if pending else None
                if not m:
                    pending = None
                    continue
                size, obj = int(m.group(2), 16), m.group(3)
            section = m.group(1) if m.re is not entry else pending
            pending = None
            if out and archive in obj:
                totals[out] += size
                if size:
                    rows.append((size, out, section))
    if symbols:
        print_symbols(sorted(rows))
    else:
        print(" ".join("%s=%d" % (k, totals[k]) for k in SECTIONS))


def print_symbols(rows):
    """One line per input section: size, output section, demangled name (c++filt)."""
    # ".text.<mangled>" -> "<mangled>"; literal pools and the like keep their names.
    names = [n.split(".", 2)[2] if n.count(".") >= 2 else n for _, _, n in rows]
    try:
        names = subprocess.run(["c++filt"], input="\n".join(names), capture_output=True, text=True,
                               check=True).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        pass
    for (size, out, _), name in zip(rows, names):
        print("%6d %-6s %s" % (size, out, name))
    print("%6d total" % sum(r[0] for r in rows))


if __name__ == "__main__":
    main()
