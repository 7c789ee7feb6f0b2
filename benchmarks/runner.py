"""Run the benchmark rows and write the table (Markdown and JSON).

    .venv/bin/python -m benchmarks [--only ROW[,ROW]] [--quick] [--keep]

A full run (no ``--only``, no ``--quick``) writes ``benchmarks/results/latest.{md,json}``;
other runs write ``benchmarks/results/dev.{md,json}`` (not committed). A row that fails
is reported as ``error`` with the reason and the command exits 1; a goal that is missed
is a result, not an error (exit 0).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.common import Context, RowResult, log, machine

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = {  # number -> (module, short names accepted by --only)
    1: ("dag_parse", ("parse", "dag_parse")),
    2: ("tracking", ("tracking",)),
    3: ("retry_cost", ("retry", "retry_cost")),
    4: ("llm_calls", ("calls", "llm_calls")),
    5: ("throughput", ("throughput",)),
    6: ("fan_out", ("fanout", "fan_out")),
    7: ("startup", ("startup",)),
    8: ("large_fan_out", ("large", "large_fan_out")),
}
ON_REQUEST = {8}  # rows run only when --only names them (row 8: an hour of 500-item runs)


def select(only: str | None) -> list[int]:
    if not only:
        return [n for n in ROWS if n not in ON_REQUEST]
    chosen = []
    for token in (t.strip().lower() for t in only.split(",") if t.strip()):
        match = [n for n, (module, names) in ROWS.items() if token == str(n) or token in names]
        if not match:
            raise SystemExit(f"--only: unknown row {token!r}; rows: "
                             + ", ".join(f"{n} ({'/'.join(names)})" for n, (_, names) in ROWS.items()))
        chosen += [n for n in match if n not in chosen]
    return sorted(chosen)


def run_row(number: int, ctx: Context) -> RowResult:
    module = importlib.import_module(f"benchmarks.{ROWS[number][0]}")
    log(f"row {number}: {module.NAME}")
    began = time.monotonic()
    try:
        row = module.run(ctx)
    except Exception as exc:
        traceback.print_exc()
        row = RowResult(number, module.NAME, module.GOAL, result="error",
                        notes=f"not measured: {type(exc).__name__}: {str(exc)[:600]}")
    row.seconds = time.monotonic() - began
    log(f"row {number}: {row.result} ({row.seconds:.0f}s) {row.measured}")
    return row


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# Benchmarks",
        "",
        f"Run {report['date']} on {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['cpu_model']} ({m['os']}, "
        f"Python {m['python']}), commit {m['git_commit']}; `{report['command']}` took "
        f"{report['total_seconds'] / 60:.1f} min. Medians over repeated runs; every comparison ran side by "
        "side in the same run on this machine.",
        "",
        "| # | benchmark | measured | comparison | ratio | goal | result | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in report["rows"]:
        lines.append("| " + " | ".join(_cell(x) for x in (
            r["row"], r["name"], r["measured"] or "-", r["comparison"] or "-", r["ratio"] or "-", r["goal"],
            f"**{r['result']}**", r["notes"])) + " |")
    lines += ["", "## Details", ""]
    for r in report["rows"]:
        lines += [f"### {r['row']}. {r['name']} ({r['seconds']:.0f} s)", ""]
        lines += (r["details"] or ["(no details)"]) + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="rows to run, by number or name: 1-8, parse, tracking, retry, calls, "
                                       "throughput, fanout, startup, large (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="few repeats and small subsets (development)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (logs, stack state)")
    parser.add_argument("--out", help="file stem for the results (default: results/latest, or results/dev "
                                      "with --only/--quick)")
    args = parser.parse_args(argv)
    rows = select(args.only)
    stem = Path(args.out) if args.out else RESULTS / ("dev" if args.only or args.quick else "latest")
    command = " ".join(["python -m benchmarks", *(argv if argv is not None else sys.argv[1:])]).strip()
    began = time.monotonic()
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    ctx = Context(quick=args.quick, keep=args.keep)
    ctx.selected = rows
    log(f"scratch folder {ctx.root}; rows {rows}{' (quick)' if args.quick else ''}")
    results = []
    try:
        for number in rows:
            results.append(run_row(number, ctx))
            if number == 5 or (number == 4 and 5 not in rows):
                ctx.release_llm()  # the local model pass is over: free its server before the stacks start
    finally:
        ctx.close()
    report = {"date": date, "command": command, "machine": machine(), "quick": args.quick,
              "total_seconds": time.monotonic() - began, "rows": [asdict(r) for r in results]}
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = markdown(report)
    stem.with_suffix(".md").write_text(text + "\n")
    print()
    print(text.split("\n## Details")[0])
    print(f"\nwritten: {stem.with_suffix('.md')} and {stem.with_suffix('.json')}")
    return 1 if any(r.result == "error" for r in results) else 0
