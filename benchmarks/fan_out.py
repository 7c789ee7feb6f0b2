"""Row 6: fan-out: what one more mapped item costs, ours against Airflow's own floor, per executor.

For each configuration, the benchmark's own local stack (scripts/stack.py, parallelism 4, the
``llm_default`` connection on the scripted provider ``tests.support.scripted_crews``: zero-latency
answers, review routing off, no cron runs, ``llm_pool`` 16 slots so the executor is the only limit)
runs two DAGs over 1, 10 and 50 items, alternating:

- ``fact_check_copy``: one mapped ``check_draft`` per draft (the crew, 1 LLM call, MLflow run);
- ``fan_out_floor``: the same shape with tasks that do nothing: Airflow's floor.

Per-item overhead is the slope ``(t(50) - t(1)) / 49`` of each DAG's run time (Airflow's
``start_date`` to ``end_date``); the goal is ours <= 1.5x the floor's on the same executor.
Configurations: LocalExecutor with warm workers (the default of ``make run``), the Celery stack
(2 workers x 2 slots, warm), and LocalExecutor with cold workers (``CREWS_WARM_WORKERS=0``: every task
imports CrewAI and MLflow itself, as before warm workers), side by side in one run.
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks.bench_stack import BenchStack, seconds_between
from benchmarks.common import ROOT, Context, RowResult, log, median

ROW, NAME = 6, "Fan-out"
GOAL = "per-item overhead of a crew item <= 1.5x Airflow's floor (a trivial mapped task), same executor"
SIZES, QUICK_SIZES = (1, 10, 50), (1, 5, 10)
POOL_SLOTS = 16
FLOOR_FACTOR = 1.5
GROWTH_TOLERANCE = 1.2  # "linear": the slope from the middle to the largest size <= 1.2x the slope before it
DRAFT_TEXT = "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year warranty."
CONFIGS = {  # name -> environment of the stack
    "local": {"CREWS_EXECUTOR": "local"},
    "celery": {"CREWS_EXECUTOR": "celery", "CREWS_WORKERS": "2", "CREWS_WORKER_CONCURRENCY": "2"},
    "local-cold": {"CREWS_EXECUTOR": "local", "CREWS_WARM_WORKERS": "0"},
}
DAGS = {"crew": ("fact_check_copy", "check_draft"), "floor": ("fan_out_floor", "handle")}


def drafts(size: int, tag: str) -> list[dict[str, Any]]:
    return [{"draft_id": f"{tag}_{i}", "copy_text": DRAFT_TEXT,
             "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
            for i in range(size)]


def conf(kind: str, size: int, tag: str, items_per_task: int = 1) -> dict[str, Any]:
    if kind == "floor":
        return {"items": size}
    return {"drafts": drafts(size, tag)} | ({"items_per_task": items_per_task} if items_per_task > 1 else {})


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    sizes = QUICK_SIZES if ctx.quick else SIZES
    repeats = ctx.repeats(2, 1)
    wanted = os.environ.get("CREWS_BENCH_FANOUT", ",".join(CONFIGS)).split(",")  # a subset, for a dev run
    configs = [c for c in CONFIGS if c in wanted]
    measured = {name: measure(ctx, name, sizes, repeats) for name in configs}
    small, large = sizes[0], sizes[-1]
    per_item = {name: {kind: slope(m["t"][kind], small, large) for kind in DAGS}
                for name, m in measured.items()}
    ratios = {name: p["crew"] / p["floor"] for name, p in per_item.items()}
    warm = [name for name in configs if name != "local-cold"]
    row.measured = "; ".join(f"{name}: {p['crew']:.2f} s per crew item" for name, p in per_item.items())
    row.comparison = "; ".join(f"{name}: floor {p['floor']:.2f} s per trivial item"
                               for name, p in per_item.items())
    row.ratio = ", ".join(f"{name} {ratios[name]:.2f}x" for name in configs)
    row.verdict(all(ratios[name] <= FLOOR_FACTOR for name in warm))
    row.notes = (f"per-item overhead = (t{large}-t{small})/{large - small} of the DAG run (start to end), "
                 f"median of {repeats} run(s) per size, parallelism 4 on {os.cpu_count()} cores, llm_pool "
                 f"{POOL_SLOTS} slots, scripted LLM (1 call per item); crew/floor goal <= {FLOOR_FACTOR} for "
                 f"the warm configurations ({', '.join(warm)})")
    if "local-cold" in per_item and "local" in per_item:
        row.notes += (f"; warm workers cut the crew item from {per_item['local-cold']['crew']:.2f} s to "
                      f"{per_item['local']['crew']:.2f} s on LocalExecutor")
    row.details = ["| executor | DAG | " + " | ".join(f"t({n})" for n in sizes)
                   + " | per item | mapped task, median | linear |",
                   "| --- | --- | " + " | ".join("---" for _ in sizes) + " | --- | --- | --- |"]
    for name, m in measured.items():
        for kind in DAGS:
            t = m["t"][kind]
            row.details.append(f"| {name} | {DAGS[kind][0]} | " + " | ".join(f"{t[n]:.1f} s" for n in sizes)
                               + f" | {per_item[name][kind]:.2f} s | {m['task_s'][kind]:.1f} s | "
                               f"{'yes' if growth(t)['linear'] else 'no'} |")
    row.data = {"sizes": sizes, "repeats": repeats, "measured": measured, "per_item_s": per_item,
                "ratios": ratios, "pool_slots": POOL_SLOTS}
    return row


def bench_stack(ctx: Context, name: str, prefix: str = "fanout") -> BenchStack:
    """The benchmark's stack of configuration ``name``: scripted LLM, review routing off, no cron runs."""
    from tests.support.servers import free_port

    connection = {"conn_type": "generic",
                  "extra": {"provider": "scripted", "script": "tests.support.scripted_crews:respond"}}
    return BenchStack(ctx.root / f"{prefix}_{name}", connection, {
        "CREWS_REVIEW_CONFIG": str(ROOT / "tests" / "support" / "no_review.yaml"),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "CREWS_POSTGRES_PORT": str(free_port()), "CREWS_REDIS_PORT": str(free_port()),
        **CONFIGS[name],
    })


def open_dags(stack: BenchStack, client: Any) -> None:
    """Both DAGs parsed and unpaused, ``llm_pool`` at POOL_SLOTS, and one small run of each (not counted:
    it warms every worker process)."""
    for dag_id, _ in DAGS.values():
        stack.wait_for_dag(client, dag_id)
        _ok(client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False}))
    _ok(client.patch("/api/v2/pools/llm_pool", params={"update_mask": "slots"},
                     json={"pool": "llm_pool", "slots": POOL_SLOTS, "include_deferred": False}))
    for kind, (dag_id, task_id) in DAGS.items():
        _check(stack.run_dag(client, dag_id, conf(kind, 4, "warmup")), task_id, 4)


def stop(stack: BenchStack, name: str) -> None:
    stack.down()
    if CONFIGS[name]["CREWS_EXECUTOR"] == "celery":
        from scripts.celery_stack import drop_outside_cluster

        drop_outside_cluster(stack.state)


def measure(ctx: Context, name: str, sizes: tuple[int, ...], repeats: int) -> dict[str, Any]:
    """Both DAGs at every size on one configuration's stack: median run times and mapped task times."""
    stack = bench_stack(ctx, name)
    durations = {kind: {n: [] for n in sizes} for kind in DAGS}
    task_s = {kind: [] for kind in DAGS}
    try:
        log(f"fan-out [{name}]: starting the benchmark stack (Airflow on :{stack.ports['airflow']})")
        up_s = stack.up()
        log(f"fan-out [{name}]: stack up in {up_s:.0f}s")
        with stack.client() as client:
            open_dags(stack, client)
            for rep in range(repeats):
                for size in (sizes if rep % 2 == 0 else sizes[::-1]):
                    for kind, (dag_id, task_id) in DAGS.items():
                        done = _check(stack.run_dag(client, dag_id, conf(kind, size, f"r{rep}n{size}")),
                                      task_id, size)
                        durations[kind][size].append(seconds_between(done["start_date"], done["end_date"]))
                        task_s[kind] += [seconds_between(t["start_date"], t["end_date"])
                                         for t in done["task_instances"] if t["task_id"] == task_id]
                        log(f"fan-out [{name}]: {dag_id} {size} items in {durations[kind][size][-1]:.1f}s")
    finally:
        stop(stack, name)
    return {"t": {kind: {n: median(v) for n, v in d.items()} for kind, d in durations.items()},
            "runs_s": durations, "task_s": {kind: median(v) for kind, v in task_s.items()},
            "stack_up_s": up_s}


def slope(t: dict[int, float], small: int, large: int) -> float:
    """Seconds per additional item between the smallest and the largest size."""
    return (t[large] - t[small]) / (large - small)


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


def _check(run: dict[str, Any], task_id: str, size: int) -> dict[str, Any]:
    items = [t for t in run["task_instances"] if t["task_id"] == task_id]
    ok = [t for t in items if t["state"] == "success"]
    if run["state"] != "success" or len(ok) != size:
        states = sorted({(t["task_id"], t["state"]) for t in run["task_instances"]})
        raise RuntimeError(f"fan-out run {run['dag_run_id']} ended {run['state']} with {len(ok)}/{size} "
                           f"items: {states}")
    return run
