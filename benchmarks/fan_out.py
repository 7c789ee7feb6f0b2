"""Row 6: fan-out: wall time of a fact_check_copy DAG run over 1, 10 and 50 mapped items.

The benchmark's own local stack (scripts/stack.py: Airflow 3 LocalExecutor, parallelism 4,
SQLite; MLflow) runs with the ``llm_default`` connection pointed at the scripted provider
(``tests.support.scripted_crews``: zero-latency answers), review routing off
(``tests/support/no_review.yaml``) and no cron runs. ``llm_pool`` gets 16 slots, so the
executor's parallelism (4) is the only limit. Every draft makes one LLM call (all its
claims are supported). The run's duration is Airflow's own (``start_date`` to
``end_date``); the client-side wall time (REST trigger to the poll that saw it finish,
1 s polls) is kept in the JSON.
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.bench_stack import BenchStack, seconds_between
from benchmarks.common import ROOT, Context, RowResult, log, median

ROW, NAME = 6, "Fan-out"
GOAL = "DAG run time linear in the number of items or better; per-item overhead reported"
SIZES, QUICK_SIZES = (1, 10, 50), (1, 5, 10)
POOL_SLOTS = 16
GROWTH_TOLERANCE = 1.2  # "linear": the slope from the middle to the largest size <= 1.2x the slope before it
DRAFT_TEXT = "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year warranty."


def drafts(size: int, tag: str) -> list[dict[str, Any]]:
    return [{"draft_id": f"{tag}_{i}", "copy_text": DRAFT_TEXT,
             "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
            for i in range(size)]


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    sizes = QUICK_SIZES if ctx.quick else SIZES
    repeats = ctx.repeats(2, 1)
    connection = {"conn_type": "generic",
                  "extra": {"provider": "scripted", "script": "tests.support.scripted_crews:respond"}}
    stack = BenchStack(ctx.root / "fanout_state", connection, {
        "CREWS_REVIEW_CONFIG": str(ROOT / "tests" / "support" / "no_review.yaml"),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    })
    parallelism = int(stack.env.get("AIRFLOW__CORE__PARALLELISM", "4"))
    durations: dict[int, list[float]] = {n: [] for n in sizes}
    task_s: dict[int, list[float]] = {n: [] for n in sizes}
    client_s: dict[int, list[float]] = {n: [] for n in sizes}
    try:
        log(f"fan-out: starting the benchmark stack (Airflow on :{stack.ports['airflow']})")
        up_s = stack.up()
        log(f"fan-out: stack up in {up_s:.0f}s")
        with stack.client() as client:
            stack.wait_for_dag(client, "fact_check_copy")
            _ok(client.patch("/api/v2/pools/llm_pool", params={"update_mask": "slots"},
                             json={"pool": "llm_pool", "slots": POOL_SLOTS, "include_deferred": False}))
            _ok(client.patch("/api/v2/dags/fact_check_copy", json={"is_paused": False}))
            # not counted
            _check(stack.run_dag(client, "fact_check_copy", {"drafts": drafts(2, "warmup")}), 2)
            for rep in range(repeats):
                for size in (sizes if rep % 2 == 0 else sizes[::-1]):
                    run = _check(stack.run_dag(client, "fact_check_copy",
                                               {"drafts": drafts(size, f"r{rep}n{size}")}),
                                 size)
                    durations[size].append(seconds_between(run["start_date"], run["end_date"]))
                    client_s[size].append(run["client_s"])
                    items = [t for t in run["task_instances"] if t["task_id"] == "check_draft"]
                    task_s[size].append(median([seconds_between(t["start_date"], t["end_date"])
                                                for t in items]))
                    log(f"fan-out: {size} items in {durations[size][-1]:.1f}s (repeat {rep + 1}/{repeats})")
    finally:
        stack.down()
    t = {n: median(v) for n, v in durations.items()}
    small, mid, large = sizes
    g = growth(t)
    per_item_mid, slope_upper = g["slopes"]
    per_item_large, linear = g["per_item_s"], g["linear"]
    row.measured = (f"t({small}) {t[small]:.1f} s, t({mid}) {t[mid]:.1f} s, t({large}) {t[large]:.1f} s; "
                    f"per-item overhead {per_item_large:.2f} s ((t{large}-t{small})/{large - small})")
    row.comparison = (f"(t{mid}-t{small})/{mid - small} = {per_item_mid:.2f} s/item vs "
                      f"(t{large}-t{mid})/{large - mid} = {slope_upper:.2f} s/item")
    row.ratio = f"slope {mid}->{large} / slope {small}->{mid} = {slope_upper / per_item_mid:.2f}"
    row.verdict(linear)
    alone, crowded = median(task_s[small]), median(task_s[large])
    row.notes = (f"{'linear or better' if linear else 'worse than linear'} "
                 f"(criterion: ratio <= {GROWTH_TOLERANCE}); "
                 f"median of {repeats} runs per size; LocalExecutor parallelism {parallelism}, llm_pool "
                 f"{POOL_SLOTS} slots, scripted LLM (1 call per item). A check_draft task takes "
                 f"{alone:.1f} s alone and {crowded:.1f} s with {parallelism} running on {os.cpu_count()} "
                 "cores: the per-item cost is the CPU of each task process (start, DAG parse, crew and "
                 "MLflow imports, tracking write)")
    row.details = ["| items | DAG run (Airflow start->end), median | runs | "
                   "client wall (trigger->seen done) | check_draft task, median |",
                   "| --- | --- | --- | --- | --- |"]
    for n in sizes:
        row.details.append(f"| {n} | {t[n]:.1f} s | {', '.join(f'{x:.1f}' for x in durations[n])} | "
                           f"{median(client_s[n]):.1f} s | {median(task_s[n]):.1f} s |")
    row.data = {"sizes": sizes, "durations_s": durations, "client_s": client_s, "task_s": task_s,
                "per_item_overhead_s": per_item_large, "slopes": [per_item_mid, slope_upper],
                "parallelism": parallelism, "pool_slots": POOL_SLOTS, "stack_up_s": up_s}
    return row


def growth(t: dict[int, float]) -> dict[str, Any]:
    """From median run times at three sizes: per-item overhead (largest vs smallest), the two slopes,
    and whether the upper slope stays within GROWTH_TOLERANCE of the lower one (linear or better)."""
    small, mid, large = sorted(t)
    lower, upper = (t[mid] - t[small]) / (mid - small), (t[large] - t[mid]) / (large - mid)
    return {"per_item_s": (t[large] - t[small]) / (large - small), "slopes": [lower, upper],
            "linear": upper <= GROWTH_TOLERANCE * lower}


def _ok(response: Any) -> None:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: {response.status_code} "
                           f"{response.text[:500]}")


def _check(run: dict[str, Any], size: int) -> dict[str, Any]:
    items = [t for t in run["task_instances"] if t["task_id"] == "check_draft"]
    ok = [t for t in items if t["state"] == "success"]
    if run["state"] != "success" or len(ok) != size:
        states = sorted({(t["task_id"], t["state"]) for t in run["task_instances"]})
        raise RuntimeError(f"fan-out run {run['dag_run_id']} ended {run['state']} with {len(ok)}/{size} "
                           f"items: {states}")
    return run
