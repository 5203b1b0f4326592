#!/usr/bin/env python3
"""Sums what one archive contributes to a GNU ld map file, by output section.

usage: mapsize.py MAP ARCHIVE_NAME   -> prints "text=N rodata=N data=N bss=N"
"""
import re
import sys

SECTIONS = ("text", "rodata", "data", "bss")


def main():
    path, archive = sys.argv[1], sys.argv[2]
    totals = dict.fromkeys(SECTIONS, 0)
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
            pending = None
            if out and archive in obj:
                totals[out] += size
    print(" ".join("%s=%d" % (k, totals[k]) for k in SECTIONS))


if __name__ == "__main__":
    main()
