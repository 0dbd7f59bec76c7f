"""``python -m benchmarks.run [--quick] [--repeat N] [--workers]``: every measurement beside its
bare-tool baseline, several times each, each run in its own process (so peak memory is its
own), and the results written to benchmarks/RESULTS.md. ``--quick`` shrinks every size (CI
smoke run). ``--workers`` adds the PostgreSQL measurements (benchmarks/workers.py): several
workers on one batch, and the write-ahead cost per row against SQLite; they need a PostgreSQL
server (``BATCHPAY_BENCH_PG``, or a throwaway cluster from the server binaries here)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from benchmarks.cases import Spec, Timed

# one measurement's figures: seconds and peak_mib
Figures = dict[str, float]
# a measured spec: the spec, its size, its runs and its baseline's runs
Measured = tuple["Spec", int, list[Figures], list[Figures]]

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"

FULL = {
    "csv": 1_000_000,
    "xlsx": 100_000,
    "send": 10_000,
    "rate": 60,
    "resume": 100_000,
    "startup": 1,
    "workers": 600,
    "writeahead": 5_000,
}
QUICK = {
    "csv": 2_000,
    "xlsx": 500,
    "send": 200,
    "rate": 12,
    "resume": 500,
    "startup": 1,
    "workers": 60,
    "writeahead": 500,
}


# -- one measurement, in a child process ---------------------------------------------------


def _timed(work: Callable[[], object]) -> dict[str, float]:
    start = time.perf_counter()
    work()
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB (Linux: KiB)
    return {"seconds": seconds, "peak_mib": peak}


def measure(name: str, size: int) -> dict[str, float]:
    from benchmarks import cases, workers

    case: Callable[[int, Timed], Figures] = getattr(cases, name, None) or getattr(workers, name)
    return case(size, _timed)


def specs() -> list[Spec]:
    """Every measurement, in the order of the table: the default ones, then --workers'."""
    from benchmarks import cases, workers

    return [*cases.SPECS, *workers.SPECS]


# -- the parent: repeat, collect, write ------------------------------------------------------


def child(name: str, size: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--one", name, str(size)],
        capture_output=True,
        text=True,
        check=False,
        cwd=HERE.parent,
        timeout=3600,
    )
    if out.returncode != 0:
        raise SystemExit(f"{name} failed:\n{out.stderr[-3000:]}")
    figures: Figures = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s (min {min(values):.3f}, max {max(values):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--one", nargs=2, metavar=("NAME", "SIZE"))
    parser.add_argument("--only", default="")
    parser.add_argument("--workers", action="store_true", help="add the PostgreSQL measurements")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.one[0], int(args.one[1]))))
        return
    sizes = QUICK if args.quick else FULL
    from benchmarks import workers

    # measured figures are kept, so --only can refresh some without losing the others
    store = DATA / ("results.quick.json" if args.quick else "results.json")
    kept = json.loads(store.read_text()) if store.exists() else {}
    for spec in specs():
        if args.only and spec.key not in args.only.split(","):
            continue
        if spec in workers.SPECS and not args.workers:
            continue
        size = sizes[spec.size]
        repeat = 1 if spec.once else spec.runs or args.repeat
        runs = [child(spec.name, size) for _ in range(repeat)]
        base = [child(spec.baseline, size) for _ in range(repeat)] if spec.baseline else []
        kept[spec.key] = {"size": size, "runs": runs, "base": base}
        store.parent.mkdir(parents=True, exist_ok=True)
        store.write_text(json.dumps(kept))
        print(f"{spec.title}: done", file=sys.stderr)
    results: list[Measured] = [
        (spec, kept[spec.key]["size"], kept[spec.key]["runs"], kept[spec.key]["base"])
        for spec in specs()
        if spec.key in kept
    ]
    write_results(results, quick=args.quick, earlier=_earlier_rows(quick=args.quick))


def _target(quick: bool) -> Path:
    return HERE / ("RESULTS.quick.md" if quick else "RESULTS.md")


def _earlier_rows(quick: bool) -> dict[str, str]:
    """The table rows already in RESULTS.md, by title: `--only startup` on a checkout whose
    measured figures (.data, not committed) are gone keeps the other rows as they were."""
    target = _target(quick)
    if not target.exists():
        return {}
    rows = [line for line in target.read_text().splitlines() if line.startswith("| ")]
    return {line.split("|")[1].strip(): line for line in rows}


def floor_table(quick: bool) -> list[str]:
    """benchmarks.floor, run fresh beside the table: the least per-row work validating a
    sheet can cost on this machine, against read_csv on the same run."""
    rows = 2_000 if quick else 200_000
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.floor", str(rows)],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent,
        timeout=600,
    )
    return [
        f"### The floor: per-row work validation cannot skip ({rows:,} rows)",
        "",
        *out.stdout.strip().splitlines(),
    ]


def write_results(
    results: list[Measured], quick: bool, earlier: dict[str, str] | None = None
) -> None:
    lines = [
        "# batchpay benchmarks",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform()}.",
        f"Generated by `python -m benchmarks.run{' --quick' if quick else ''}`; each figure "
        "is the median of its runs with min and max, each run in a fresh process.",
        "",
        "| measurement | size | batchpay | baseline | ratio | target | met | peak MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rows = dict(earlier or {})  # rows not measured now stay as they were, in SPECS order
    for spec, size, runs, base in results:
        ours = [r["seconds"] for r in runs]
        theirs = [r["seconds"] for r in base]
        ratio = statistics.median(ours) / statistics.median(theirs) if theirs else None
        verdict, figure = spec.judge(runs, ratio)
        rows[spec.title] = (
            f"| {spec.title} | {size:,} | {summary(ours)} | "
            f"{summary(theirs) if theirs else '-'} | {figure} | {spec.target} | "
            f"{'yes' if verdict else 'NO'} | {max(r['peak_mib'] for r in runs):.0f} |"
        )
    lines += [rows[spec.title] for spec in specs() if spec.title in rows]
    lines += ["", *floor_table(quick), ""]
    lines += [(HERE / "NOTES.md").read_text() if (HERE / "NOTES.md").exists() else ""]
    target = _target(quick)
    target.write_text("\n".join(lines).rstrip() + "\n")
    print(target)


if __name__ == "__main__":
    main()
