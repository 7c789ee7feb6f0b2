"""Row 7: start-up: cold and warm wall time of the README's main command, ``make run``.

``make run`` = the install check (scripts/install.sh), ``scripts/stack.py up`` (llama.cpp
server, MLflow, Airflow, settings loaded over REST) and ``scripts/stack.py trigger
fact_check_copy`` (trigger over REST, wait until the run ends or only human reviews are
left, print the results). It runs on the benchmark's own ports and state folder
(:mod:`benchmarks.bench_stack`), with ``llm_default`` pointed at that stack's LLM server.

cold: the benchmark stack is down and its state folder does not exist (model assembled
and verified, MLflow and Airflow databases created from scratch); the OS file cache and
the installed .venv are warm. warm: the same command again with the stack still up.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.bench_stack import BenchStack
from benchmarks.common import PYTHON, ROOT, Context, RowResult, log, median

ROW, NAME = 7, "Start-up (make run)"
GOAL = "report only (no fixed goal)"
UP = re.compile(r"stack up in ([0-9.]+)s")
DONE = re.compile(r"DAG run \S+: (\w+) in ([0-9.]+)s")


def _install_is_noop() -> str | None:
    """Why ``make run``'s install step could change the shared .venv, or None when it would not."""
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "uv"), "pip", "install", "--dry-run", "--python", PYTHON,
         "--find-links", str(Path.home() / ".cache" / "crews" / "wheels"), "-r", "requirements.txt",
         "-r", "requirements-local.txt", "-r", "requirements-dev.txt", "-c", "constraints.txt"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    return (None if out.returncode == 0 and "Would make no changes" in text
            else text[-500:] or "uv dry-run failed")


def make_run(stack: BenchStack, label: str) -> dict:
    began = time.monotonic()
    out = subprocess.run(["make", "run"], cwd=ROOT, env=stack.env, capture_output=True, text=True,
                         timeout=3600)
    wall = time.monotonic() - began
    text = out.stdout + out.stderr
    (stack.state.parent / f"startup-{label}.log").write_text(text)
    if out.returncode != 0:
        raise RuntimeError(f"make run ({label}) exited {out.returncode}: {text[-2000:]}")
    up, done = UP.search(text), DONE.search(text)
    return {"wall_s": wall, "stack_up_s": float(up.group(1)) if up else None,
            "run_state": done.group(1) if done else None, "run_s": float(done.group(2)) if done else None}


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL, result="report")
    why = _install_is_noop()
    if why:
        row.result = "not measured"
        row.notes = f"make run's install step would change the shared .venv here, so it was not run: {why}"
        return row
    warm_repeats = ctx.repeats(2, 1)
    state = ctx.root / "startup_state"
    from crews.runtime.settings import LOCAL_MODEL

    stack = BenchStack(state, {})
    stack.set_connection({"conn_type": "generic", "host": stack.llm_base_url,
                          "extra": {"provider": "local", "model": LOCAL_MODEL, "timeout_s": 180,
                                    "max_retries": 2}})
    runs = {"cold": [], "warm": []}
    try:
        stack.down()
        shutil.rmtree(state, ignore_errors=True)
        log("start-up: cold make run (fresh state folder, stack down)")
        runs["cold"].append(make_run(stack, "cold"))
        log(f"start-up: cold {runs['cold'][-1]['wall_s']:.0f}s")
        for rep in range(warm_repeats):
            runs["warm"].append(make_run(stack, f"warm{rep + 1}"))
            log(f"start-up: warm {runs['warm'][-1]['wall_s']:.0f}s")
    finally:
        stack.down()
    cold, warm = median([r["wall_s"] for r in runs["cold"]]), median([r["wall_s"] for r in runs["warm"]])
    cold_up = median([r["stack_up_s"] for r in runs["cold"] if r["stack_up_s"] is not None])
    warm_up = median([r["stack_up_s"] for r in runs["warm"] if r["stack_up_s"] is not None])
    states = sorted({r["run_state"] for r in runs["cold"] + runs["warm"]})
    row.measured = (f"cold {cold:.0f} s (stack up {cold_up:.0f} s); "
                    f"warm {warm:.0f} s (stack up {warm_up:.1f} s)")
    row.comparison = "warm (stack already up)"
    row.ratio = f"cold/warm = {cold / warm:.2f}"
    row.notes = (f"no fixed goal; whole `make run` to the end of the fact_check_copy run (3 sample drafts on "
                 f"the local 0.5B model; ended {', '.join(map(str, states))}); 1 cold run, {warm_repeats} "
                 "warm (median); cold = fresh state folder (model assembled + sha256, new MLflow and Airflow "
                 "DBs), warm OS file cache")
    row.details = ["| run | make run wall | stack up | DAG run (to end or reviews only) | ended |",
                   "| --- | --- | --- | --- | --- |"]
    for kind, items in runs.items():
        for r in items:
            row.details.append(f"| {kind} | {r['wall_s']:.0f} s | {r['stack_up_s']} s | {r['run_s']} s | "
                               f"{r['run_state']} |")
    row.data = runs
    return row
