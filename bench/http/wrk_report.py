"""The report of the end-to-end benchmarks (scripts/bench-http.sh, scripts/bench-asgi.sh): reads
wrk's output of each round (WORK/plain.N.txt, WORK/auth.N.txt), checks that every request was
accepted and none was sent twice, and prints (with --smoke: only checks) the median requests per
second, p50/p99 latency and the ratio auth / no auth against the target, and writes them as JSON.

  wrk_report.py NAME WORK ROUNDS PRESIGNED SMOKE(0|1) OUT TARGET TITLE AUTH_LABEL
"""

import json
import re
import statistics
import sys
from pathlib import Path

UNITS = {"us": 1.0, "ms": 1e3, "s": 1e6}


def parse(text: str) -> dict:
    def latency(pct: str) -> float:
        value, unit = re.search(
            rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", text, re.MULTILINE
        ).groups()
        return float(value) * UNITS[unit]

    requests = int(re.search(r"(\d+) requests in", text).group(1))
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50_us": latency("50"), "p99_us": latency("99"),
        "requests": requests, "refused": int(refused.group(1)) if refused else 0,
        "socket_errors": errors.group(1) if errors else None,
    }  # fmt: skip


def cpu_us(path: Path, requests: int) -> float | None:
    """The server's CPU time per request in a round, in microseconds, if it was recorded."""
    if not path.exists() or requests == 0:
        return None
    ticks, per_second = (int(x) for x in path.read_text().split())
    return ticks / per_second / requests * 1e6


def main() -> None:
    name, work, rounds, presigned, smoke, out, target, title, auth_label = sys.argv[
        1:10
    ]
    work_dir, n_rounds, n_signed = Path(work), int(rounds), int(presigned)
    runs = {
        m: [
            parse((work_dir / f"{m}.{r}.txt").read_text())
            for r in range(1, n_rounds + 1)
        ]
        for m in ("plain", "auth")
    }
    for m, results in runs.items():
        for r, result in enumerate(results, 1):
            result["cpu_us"] = cpu_us(work_dir / f"{m}.{r}.cpu", result["requests"])
    problems = []
    for mode, results in runs.items():
        for i, r in enumerate(results, 1):
            if r["refused"] or r["socket_errors"] or r["requests"] == 0:
                problems.append(
                    f"{mode} round {i}: {r['refused']} refused, socket errors {r['socket_errors']}"
                )
            if r["requests"] > n_signed:
                problems.append(
                    f"{mode} round {i}: {r['requests']} requests, more than the {n_signed} signed"
                )
    if problems:
        sys.exit(f"{name}: invalid run: " + "; ".join(problems))
    if smoke == "1":
        print(
            f"{name} smoke: {runs['auth'][0]['requests']} signed requests accepted, {runs['plain'][0]['requests']} plain"
        )
        return

    keys = ("rps", "p50_us", "p99_us")
    median = {
        m: {k: statistics.median(r[k] for r in rs) for k in keys}
        for m, rs in runs.items()
    }
    ratios = [
        a["rps"] / p["rps"] for p, a in zip(runs["plain"], runs["auth"], strict=True)
    ]
    report = {
        "runs": runs,
        "median": median,
        "ratio_per_round": ratios,
        "ratio": statistics.median(ratios),
    }
    Path(out).write_text(json.dumps(report, indent=1))
    print(title)
    print(f"{'':14}{'req/s (median)':>16}{'p50':>10}{'p99':>10}")
    for mode, label in (("plain", "no auth"), ("auth", auth_label)):
        m = median[mode]
        print(f"{label:14}{m['rps']:>16,.0f}{m['p50_us']:>8.0f}us{m['p99_us']:>8.0f}us")
    per_round = ", ".join(f"{r:.3f}" for r in ratios)
    print(
        f"auth / no auth: {report['ratio']:.3f} (median of the rounds: {per_round}; target >= {target})"
    )
    if all(r["cpu_us"] is not None for rs in runs.values() for r in rs):
        cpu = {m: statistics.median(r["cpu_us"] for r in rs) for m, rs in runs.items()}
        cpu_ratios = [
            p["cpu_us"] / a["cpu_us"]
            for p, a in zip(runs["plain"], runs["auth"], strict=True)
        ]
        report["cpu_us_per_request"] = cpu
        report["cpu_ratio"] = statistics.median(cpu_ratios)
        Path(out).write_text(json.dumps(report, indent=1))
        print(
            f"server CPU time a request: no auth {cpu['plain']:.1f} us, auth {cpu['auth']:.1f} us "
            f"(+{cpu['auth'] - cpu['plain']:.1f} us); no auth / auth: {report['cpu_ratio']:.3f} "
            f"(per round: {', '.join(f'{r:.3f}' for r in cpu_ratios)})"
        )


if __name__ == "__main__":
    main()
