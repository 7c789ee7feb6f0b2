"""Row 8: a 500-item fan-out per executor: wall time, per-item overhead, peak memory, XCom size, and
every item stored exactly once.

On each configuration's stack (the stacks of row 6: LocalExecutor and Celery 2 x 2, parallelism 4,
warm workers, scripted LLM), three runs of 500 items, one each:

- ``fan_out_floor``: Airflow's floor (a mapped task that does nothing);
- ``fact_check_copy``, one draft per mapped task (the default);
- ``fact_check_copy`` with ``items_per_task`` = 10 (50 mapped tasks).

While a run goes, memory is sampled every two seconds: the scheduler's RSS, the largest worker
process's RSS (LocalExecutor: the scheduler's children; Celery: each worker's process tree) and the
workers' total PSS (shared pages of forked processes counted once). After a crew
run, the results table must hold one row per draft and MLflow one finished production run per draft
(nothing lost, nothing duplicated), and the run's XCom values are measured in Airflow's metadata DB.
The goal: chunked crew items within 1.5x the floor's per-item time on the same executor.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from typing import Any

from benchmarks.bench_stack import BenchStack, seconds_between
from benchmarks.common import Context, RowResult, log
from benchmarks.fan_out import CONFIGS, DAGS, FLOOR_FACTOR, bench_stack, conf, open_dags, stop

ROW, NAME = 8, "Large fan-out"
GOAL = (f"500 items per executor, nothing lost or duplicated; chunked crew items (items_per_task=10) "
        f"<= {FLOOR_FACTOR}x Airflow's floor per item")
ITEMS, QUICK_ITEMS = 500, 40
CHUNK = 10
RUNS = {  # name -> (DAG kind, items_per_task)
    "floor": ("floor", 1),
    "crew": ("crew", 1),
    f"crew x{CHUNK}": ("crew", CHUNK),
}
MB = 1024 * 1024


def run(ctx: Context) -> RowResult:
    row = RowResult(ROW, NAME, GOAL)
    items = QUICK_ITEMS if ctx.quick else ITEMS
    wanted = os.environ.get("CREWS_BENCH_LARGE", "local,celery").split(",")
    configs = [name for name in ("local", "celery") if name in wanted]
    measured = {name: measure(ctx, name, items) for name in configs}
    chunked = f"crew x{CHUNK}"
    ratios = {name: m[chunked]["per_item_s"] / m["floor"]["per_item_s"] for name, m in measured.items()}
    intact = all(m[kind]["intact"] for m in measured.values() for kind in RUNS if kind != "floor")
    row.measured = "; ".join(f"{name}: {m[chunked]['per_item_s']:.2f} s per chunked crew item, "
                             f"{m['crew']['per_item_s']:.2f} s unchunked" for name, m in measured.items())
    row.comparison = "; ".join(f"{name}: floor {m['floor']['per_item_s']:.2f} s per trivial item"
                               for name, m in measured.items())
    row.ratio = ", ".join(f"{name} {ratio:.2f}x" for name, ratio in ratios.items())
    row.verdict(intact and all(ratio <= FLOOR_FACTOR for ratio in ratios.values()))
    row.notes = (f"one run of {items} items each (start to end of the DAG run), parallelism 4 on "
                 f"{os.cpu_count()} cores, scripted LLM (1 call per item); memory sampled every 2 s (peak "
                 f"RSS of the scheduler and of one worker process, peak PSS of all workers); nothing lost or "
                 f"duplicated: "
                 f"{'yes' if intact else 'NO'}")
    row.details = ["| executor | run | mapped tasks | wall | per item | scheduler peak | worker process "
                   "peak | all workers peak (PSS) | XCom total | XCom largest | rows / MLflow runs |",
                   "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, m in measured.items():
        for kind, r in m.items():
            if kind not in RUNS:
                continue
            row.details.append(
                f"| {name} | {kind} | {r['tasks']} | {r['wall_s']:.0f} s | {r['per_item_s']:.2f} s | "
                f"{r['rss']['scheduler_mb']:.0f} MB | {r['rss']['worker_max_mb']:.0f} MB | "
                f"{r['rss']['workers_total_mb']:.0f} MB | {r['xcom']['total_kb']:.1f} kB | "
                f"{r['xcom']['largest_kb']:.1f} kB | "
                + (f"{r['rows']} / {r['mlflow_runs']}" if kind != "floor" else "n/a") + " |")
    row.data = {"items": items, "chunk": CHUNK, "measured": measured, "ratios": ratios, "intact": intact}
    return row


def measure(ctx: Context, name: str, items: int) -> dict[str, Any]:
    """The three runs on one configuration's stack."""
    stack = bench_stack(ctx, name, prefix="large")
    results: dict[str, Any] = {}
    try:
        log(f"large fan-out [{name}]: starting the benchmark stack (Airflow on :{stack.ports['airflow']})")
        results["stack_up_s"] = stack.up()
        with stack.client() as client:
            open_dags(stack, client)
            for label, (kind, per_task) in RUNS.items():
                dag_id, task_id = DAGS[kind]
                with MemorySampler(stack) as memory:
                    done = stack.run_dag(client, dag_id, conf(kind, items, f"big{per_task}", per_task),
                                         timeout_s=7200, poll_s=5)
                mapped = [t for t in done["task_instances"] if t["task_id"] == task_id]
                if done["state"] != "success" or any(t["state"] != "success" for t in mapped):
                    raise RuntimeError(f"{label} run {done['dag_run_id']} ended {done['state']}: "
                                       f"{Counter(t['state'] for t in mapped)}")
                wall = seconds_between(done["start_date"], done["end_date"])
                results[label] = {"wall_s": wall, "per_item_s": wall / items, "tasks": len(mapped),
                                  "rss": memory.peaks(), "xcom": xcom_sizes(stack, name, dag_id,
                                                                            done["dag_run_id"])}
                if kind == "crew":
                    results[label] |= stored_once(stack, name, done["dag_run_id"], items)
                else:
                    results[label]["intact"] = True
                log(f"large fan-out [{name}]: {label}: {items} items in {wall:.0f}s "
                    f"({wall / items:.2f} s per item), {len(mapped)} mapped tasks")
    finally:
        stop(stack, name)
    return results


class MemorySampler:
    """Peak memory of the stack's scheduler and worker processes, sampled on a thread."""

    def __init__(self, stack: BenchStack, every_s: float = 2.0) -> None:
        self.pids = stack.state / "pids"
        self.every_s = every_s
        self.scheduler = self.worker_max = self.workers_total = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.every_s)

    def sample(self) -> None:
        import psutil

        scheduler = _process(self.pids / "airflow-scheduler.pid")
        if scheduler is None:
            return
        workers = []
        if celery := [p for p in map(_process, sorted(self.pids.glob("worker-*.pid"))) if p]:
            for worker in celery:
                workers += [worker, *_children(worker)]
        else:  # LocalExecutor: the executor's worker processes and their task processes
            workers = _children(scheduler)
        rss, pss = [], []
        for process in workers:
            try:
                memory = process.memory_full_info()
            except psutil.Error:
                continue
            rss.append(memory.rss)
            pss.append(memory.pss)
        try:
            self.scheduler = max(self.scheduler, scheduler.memory_info().rss)
        except psutil.Error:
            pass
        self.worker_max = max(self.worker_max, max(rss, default=0))
        self.workers_total = max(self.workers_total, sum(pss))

    def peaks(self) -> dict[str, float]:
        return {"scheduler_mb": self.scheduler / MB, "worker_max_mb": self.worker_max / MB,
                "workers_total_mb": self.workers_total / MB}


def _process(pid_file: Any) -> Any:
    import psutil

    try:
        return psutil.Process(int(pid_file.read_text()))
    except (OSError, ValueError, psutil.Error):
        return None


def _children(process: Any) -> list[Any]:
    import psutil

    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


SQLITE_FILES = {"airflow": "airflow/airflow.db", "crews": "results.db"}  # database -> file on the local stack


def database_url(stack: BenchStack, name: str, database: str) -> str:
    """The SQLAlchemy URL of one of the stack's databases: ``airflow`` (metadata) or ``crews`` (results)."""
    if CONFIGS[name]["CREWS_EXECUTOR"] == "celery":
        from scripts.celery_stack import postgres_url

        return postgres_url(stack.state, database, "postgresql+psycopg2",
                            int(stack.env["CREWS_POSTGRES_PORT"]))
    return f"sqlite:///{stack.state / SQLITE_FILES[database]}"


def xcom_sizes(stack: BenchStack, name: str, dag_id: str, run_id: str) -> dict[str, float]:
    """Total and largest XCom value of one DAG run, in kB of stored JSON."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url(stack, name, "airflow"))
    try:
        with engine.connect() as db:
            sizes = [n or 0 for (n,) in db.execute(
                text("SELECT length(CAST(value AS TEXT)) FROM xcom WHERE dag_id = :d AND run_id = :r"),
                {"d": dag_id, "r": run_id})]
    finally:
        engine.dispose()
    return {"values": len(sizes), "total_kb": sum(sizes) / 1024, "largest_kb": max(sizes, default=0) / 1024}


def stored_once(stack: BenchStack, name: str, run_id: str, items: int) -> dict[str, Any]:
    """Result rows and finished MLflow production runs of a crew run, per draft: each exactly once."""
    from mlflow import MlflowClient
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url(stack, name, "crews"))
    try:
        with engine.connect() as db:
            rows = Counter(item for (item,) in db.execute(
                text("SELECT item_id FROM crew_results WHERE dag_run_id = :r"), {"r": run_id}))
    finally:
        engine.dispose()
    client = MlflowClient(f"http://127.0.0.1:{stack.ports['mlflow']}")
    experiment = client.get_experiment_by_name("crews/fact_check")
    runs: Counter = Counter()
    token = None
    while True:
        page = client.search_runs([experiment.experiment_id],
                                  f"tags.run_id = '{run_id}' and tags.purpose = 'production' "
                                  "and attributes.status = 'FINISHED'", max_results=1000, page_token=token)
        runs.update(r.data.tags["item_id"] for r in page)
        token = page.token
        if not token:
            break
    intact = (len(rows) == len(runs) == items and set(rows.values()) == {1} and set(runs.values()) == {1}
              and set(rows) == set(runs))
    return {"rows": sum(rows.values()), "mlflow_runs": sum(runs.values()), "intact": intact,
            "duplicated": sorted(k for k, n in (rows + runs).items() if n > 2)[:10]}
