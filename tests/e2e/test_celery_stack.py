"""End to end on the Celery stack (``make up EXECUTOR=celery WORKERS=2``): Postgres, Redis, Airflow's
CeleryExecutor and two workers, started by scripts/stack.py in a folder and on ports of their own.

The crews answer through the scripted provider, slowed down (tests/support/scripted_slow.py) so that
an item is still running on its worker when the test takes that worker away.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from mlflow import MlflowClient

from crews.evaluation.golden import sample_items
from crews.results import fetch_results
from crews.runtime.budget import SpendLedger
from crews.runtime.response_cache import ResponseCache
from tests.support.servers import free_port

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import celery_stack  # noqa: E402
import trigger_dag  # noqa: E402

DAG = "fact_check_copy"
ITEMS = 24
POOL_SLOTS = 4


class CeleryStack:
    """scripts/stack.py on Celery with its own state folder and ports."""

    def __init__(self, state: Path) -> None:
        self.state = state
        ports = {name: free_port() for name in ("AIRFLOW", "MLFLOW", "LLM", "POSTGRES", "REDIS")}
        self.airflow_url = f"http://127.0.0.1:{ports['AIRFLOW']}"
        self.mlflow_url = f"http://127.0.0.1:{ports['MLFLOW']}"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "CREWS"))},
            **{f"CREWS_{name}_PORT": str(port) for name, port in ports.items()},
            "CREWS_EXECUTOR": "celery", "CREWS_WORKERS": "2", "CREWS_STATE_DIR": str(state),
            "AIRFLOW_CONN_LLM_DEFAULT": json.dumps({"conn_type": "generic", "extra": {
                "provider": "scripted", "script": "tests.support.scripted_slow:respond"}}),
            "CREWS_SCRIPTED_DELAY_S": "2",
            "CREWS_REVIEW_CONFIG": str(ROOT / "tests" / "support" / "no_review.yaml"),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            # a lost worker's task instance stops heartbeating; it is retried after this long
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
        }

    def command(self, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(ROOT / "scripts" / "stack.py"), *args], env=self.env,
                              cwd=ROOT, capture_output=True, text=True, timeout=timeout)

    def up(self) -> None:
        done = self.command("up")
        assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]

    def client(self) -> httpx.Client:
        password = json.loads((self.state / "airflow" / trigger_dag.PASSWORD_FILE).read_text())["admin"]
        return trigger_dag.connect(self.airflow_url, "admin", password)

    def pid(self, name: str) -> int:
        return int((self.state / "pids" / f"{name}.pid").read_text())

    @property
    def results_url(self) -> str:
        return celery_stack.postgres_url(self.state, "crews", port=int(self.env["CREWS_POSTGRES_PORT"]))


def missing_servers() -> str | None:
    """Why the Celery stack cannot start here (Debian's postgresql or redis-server missing), or None."""
    try:
        celery_stack.postgres_tool("initdb")
    except SystemExit as exc:
        return str(exc)
    return None if shutil.which("redis-server") else "redis-server is not installed"


@pytest.fixture(scope="module")
def celery(tmp_path_factory):
    missing = missing_servers()
    if missing:  # CI installs them (scripts/install.sh as root) and sets CREWS_REQUIRE_CELERY=1
        (pytest.fail if os.environ.get("CREWS_REQUIRE_CELERY") == "1" else pytest.skip)(missing)
    stack = CeleryStack(tmp_path_factory.mktemp("celery_stack"))
    try:
        stack.up()
        with stack.client() as client:
            for _ in range(150):
                if client.get(f"/api/v2/dags/{DAG}").status_code == 200:
                    break
                time.sleep(2)
            client.patch("/api/v2/pools/llm_pool", params={"update_mask": "slots"},
                         json={"pool": "llm_pool", "slots": POOL_SLOTS, "include_deferred": False}
                         ).raise_for_status()
        yield stack
    finally:
        stack.command("down", timeout=300)
        celery_stack.drop_outside_cluster(stack.state)


def drafts(tag: str, count: int) -> list[dict[str, Any]]:
    """The sample launch copy (contradicted claims: fact check, rewrite and re-check, several LLM calls)."""
    draft = next(d for d in sample_items("fact_check") if d["draft_id"] == "aurora_launch")
    return [{**draft, "draft_id": f"{tag}_{i:02d}"} for i in range(count)]


def follow(client: httpx.Client, conf: dict, on_poll=None, timeout_s: float = 1200) -> dict:
    run_id = trigger_dag.trigger(client, DAG, conf, allow_unknown=True)
    return trigger_dag.follow(client, DAG, run_id, timeout_s, poll=2, on_poll=on_poll)


def tries(client: httpx.Client, run_id: str, map_index: int) -> list[dict]:
    path = f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/check_draft/{map_index}/tries"
    return client.get(path).raise_for_status().json()["task_instances"]


def test_fan_out_lands_on_both_workers_and_survives_losing_one_mid_item(celery):
    killed: list[dict] = []

    def kill_worker_1_mid_item(run_id: str, tis: list[dict]) -> None:
        for ti in tis:
            if (killed or ti["task_id"] != "check_draft" or ti["state"] != "running" or ti["try_number"] != 1
                    or not str(ti.get("hostname")).startswith("worker-1@")):
                continue
            cache = ResponseCache(f"{DAG}/{run_id}/check_draft/{ti['map_index']}", celery.state / "llm_cache")
            done_on_1 = sum(t["state"] == "success" and str(t.get("hostname")).startswith("worker-1@")
                            for t in tis if t["task_id"] == "check_draft")
            if done_on_1 >= 2 and cache.entries() >= 1:  # worker-1 has done items, and is mid-item
                os.killpg(celery.pid("worker-1"), signal.SIGKILL)
                killed.append(ti)

    with celery.client() as client:
        run = follow(client, {"drafts": drafts("lost", ITEMS)}, on_poll=kill_worker_1_mid_item)
        assert killed, "no item was caught mid-way on worker-1"
        assert run["state"] == "success", run["state"]
        run_id, lost = run["dag_run_id"], killed[0]["map_index"]
        items = [t for t in run["task_instances"] if t["task_id"] == "check_draft"]
        assert len(items) == ITEMS and {t["state"] for t in items} == {"success"}
        hosts = {t["hostname"].split("@")[0] for i in range(ITEMS) for t in tries(client, run_id, i)}
        assert hosts == {"worker-1", "worker-2"}
        lost_tries = tries(client, run_id, lost)
        assert [t["hostname"].split("@")[0] for t in lost_tries] == ["worker-1", "worker-2"]
        assert lost_tries[-1]["state"] == "success"

    # one result row per item
    rows = fetch_results("fact_check", run_id, url=celery.results_url)
    assert sorted(r.item_id for r in rows) == [f"lost_{i:02d}" for i in range(ITEMS)]

    # every item's MLflow run is there; the lost item's second try replayed what the first had paid for
    mlflow = MlflowClient(celery.mlflow_url)
    experiment = mlflow.get_experiment_by_name("crews/fact_check")
    tracked = mlflow.search_runs([experiment.experiment_id], f"tags.run_id = '{run_id}'", max_results=500)
    last = {}  # item id -> the MLflow run of its last try (the DAG run's own run has no item id)
    item_runs = [r for r in tracked if "item_id" in r.data.tags]
    for r in sorted(item_runs, key=lambda r: int(r.data.tags["try_number"])):
        last[r.data.tags["item_id"]] = r
    assert sorted(last) == [f"lost_{i:02d}" for i in range(ITEMS)]
    replayed = last[f"lost_{lost:02d}"].data.metrics
    assert replayed["cache_hits"] >= 1 and int(last[f"lost_{lost:02d}"].data.tags["try_number"]) == 2
    paid = SpendLedger(celery.results_url).spent(f"{DAG}/{run_id}").tokens
    # every LLM call was paid exactly once across both tries: zero tokens re-spent
    assert paid == sum(r.data.metrics["total_tokens"] + r.data.metrics.get("cached_tokens", 0)
                       for r in last.values())
    print(f"celery: {ITEMS} items on {sorted(hosts)}; worker-1 killed mid-item {lost}, retried on worker-2 "
          f"with {int(replayed['cache_hits'])} calls replayed; {paid} tokens paid, 0 re-spent")

    # the generated Postgres and Redis passwords reach no log (servers', workers' and task logs)
    secrets = [(celery.state / name / "password").read_text().strip() for name in ("postgres", "redis")]
    logs = [p for folder in (celery.state / "logs", celery.state / "airflow" / "logs")
            for p in folder.rglob("*") if p.is_file()]
    assert logs and not [p for p in logs if any(s.encode() in p.read_bytes() for s in secrets)]

    # worker-1 comes back with `up`, which starts only what is not running
    celery.up()
    os.kill(celery.pid("worker-1"), 0)


def test_a_scheduler_restart_mid_run_loses_no_item(celery):
    restarted: list[int] = []

    def kill_scheduler_once_items_run(run_id: str, tis: list[dict]) -> None:
        items = [t for t in tis if t["task_id"] == "check_draft"]
        if not restarted and sum(t["state"] == "success" for t in items) >= 3:
            pid = celery.pid("airflow-scheduler")
            os.kill(pid, signal.SIGKILL)
            restarted.append(pid)

    with celery.client() as client:
        run = follow(client, {"drafts": drafts("restart", 20)}, on_poll=kill_scheduler_once_items_run)
    assert restarted and celery.pid("airflow-scheduler") != restarted[0]  # the supervisor started a new one
    assert run["state"] == "success", run["state"]
    items = [t for t in run["task_instances"] if t["task_id"] == "check_draft"]
    assert len(items) == 20 and {t["state"] for t in items} == {"success"}
    rows = fetch_results("fact_check", run["dag_run_id"], url=celery.results_url)
    assert Counter(r.item_id for r in rows) == Counter(f"restart_{i:02d}" for i in range(20))
