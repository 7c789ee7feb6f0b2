"""The real stack for every end-to-end module: started once per session if it is not up, stopped after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

FIRST_DAG = "fact_check_copy"


@pytest.fixture(scope="session")
def running_stack():
    """Start the stack (a stack that was already up is left running afterwards)."""
    was_up = stack._answers(f"{stack.AIRFLOW_URL}/api/v2/monitor/health")
    # No cron runs in a stack the tests start: unpausing data_quality_qa, crew_drift or crew_evaluation
    # would otherwise start their latest scheduled run (the whole catalog or golden set, up to 20 min
    # on the local model) ahead of the run a test triggers. Triggered runs are unaffected.
    env = {**os.environ, "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"}
    subprocess.run([sys.executable, str(ROOT / "scripts/stack.py"), "up"], check=True, timeout=1500, env=env)
    with stack.api_client() as client:
        unpaused_before = unpaused_dags(client)  # DAGs not parsed yet will be created paused
    yield
    # Triggering over REST unpauses a DAG; pause again what was paused, so the next `make run`
    # (with the scheduler's cron on) does not start the scheduled runs of the DAGs tested here.
    with stack.api_client() as client:
        for dag_id in unpaused_dags(client) - unpaused_before:
            client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": True}).raise_for_status()
    if not was_up:
        subprocess.run([sys.executable, str(ROOT / "scripts/stack.py"), "down"], check=False, timeout=120)


@pytest.fixture(scope="session")
def api(running_stack):
    """An authenticated REST client (scripts/trigger_dag.py's), once the DAGs are parsed."""
    # the client's progress lines, as `make run` shows them
    stack.trigger_dag.show_progress("stack", "stdout")
    client = stack.api_client()
    stack.wait_for_dag(client, FIRST_DAG)
    yield client
    client.close()


def unpaused_dags(client) -> set[str]:
    dags = client.get("/api/v2/dags", params={"limit": 100}).raise_for_status().json()["dags"]
    return {dag["dag_id"] for dag in dags if not dag["is_paused"]}
