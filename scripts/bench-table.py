#!/usr/bin/env python3
"""Prints criterion results as ratios against the baselines measured in the same run.

Reads target/criterion/<group>/<bench>/new/{benchmark,estimates}.json (criterion's output) and, for
each group, divides every apisig/* mean by the group's baseline/* means.
"""
import json
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
rows = []
for group in sorted(p for p in root.iterdir() if p.is_dir() and p.name != "report"):
    means = {}
    for est in group.glob("*/new/estimates.json"):
        name = json.loads((est.parent / "benchmark.json").read_text())["function_id"]
        means[name] = json.loads(est.read_text())["mean"]["point_estimate"]
    baselines = {k: v for k, v in means.items() if k.startswith("baseline/")}
    for name, ns in sorted(means.items()):
        ratios = "  ".join(f"{ns / b:5.2f}x {k.split('/', 1)[1]}" for k, b in sorted(baselines.items()))
        rows.append((group.name, name, ns, ratios if not name.startswith("baseline/") else ""))
if not rows:
    sys.exit(f"no criterion results under {root}")
print(f"{'group':<12} {'benchmark':<42} {'mean':>11}   ratio to each baseline (same run)")
for g, n, ns, r in rows:
    t = f"{ns / 1000:8.2f} µs" if ns >= 1000 else f"{ns:8.1f} ns"
    print(f"{g:<12} {n:<42} {t:>11}   {r}")
