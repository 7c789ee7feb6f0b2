"""End to end on the real stack: a crew task SIGKILLed mid-run is retried by Airflow and re-pays nothing."""

from __future__ import annotations

import os
import signal

import pytest
from mlflow import MlflowClient
from sqlalchemy import create_engine, text

from crews.evaluation.golden import sample_items
from crews.runtime.response_cache import ResponseCache
from tests.e2e.conftest import stack

pytestmark = pytest.mark.e2e
DAG = "fact_check_copy"


def test_worker_killed_mid_task_is_retried_replays_the_cache_and_stores_one_result(api):
    draft = next(d for d in sample_items("fact_check") if d["draft_id"] == "aurora_launch")
    killed: list[int] = []

    def kill_after_first_answer(run_id: str, tis: list[dict]) -> None:
        for ti in tis:
            if ti["task_id"] != "check_draft" or ti["state"] != "running" or ti["try_number"] != 1 or killed:
                continue
            scope = f"{DAG}/{run_id}/check_draft/0"
            if ti.get("pid") and ResponseCache(scope, stack.STATE / "llm_cache").entries() >= 1:
                os.kill(ti["pid"], signal.SIGKILL)
                killed.append(ti["pid"])

    run = stack.trigger_and_wait(api, DAG, {"drafts": [draft]}, timeout_s=900,
                                 on_poll=kill_after_first_answer, stop_at_review=True)
    assert killed, "the task finished before its first LLM answer was cached"
    assert run["state"] in {"success", "awaiting_review"}, run
    run_id = run["dag_run_id"]
    ti = api.get(f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/check_draft/0").json()
    assert ti["state"] == "success" and ti["try_number"] == 2

    client = MlflowClient(stack.MLFLOW_URL)
    experiment = client.get_experiment_by_name("crews/fact_check")
    (tracked,) = client.search_runs([experiment.experiment_id],
                                    f"tags.run_id = '{run_id}' and tags.try_number = '2'")
    metrics = tracked.data.metrics
    assert metrics["cache_hits"] >= 1
    engine = create_engine(f"sqlite:///{stack.STATE / 'results.db'}")
    with engine.connect() as conn:
        paid = conn.execute(text("select coalesce(sum(tokens), 0) from llm_spend where run_key = :k"),
                            {"k": f"{DAG}/{run_id}"}).scalar()
        rows = conn.execute(text("select count(*) from crew_results where dag_run_id = :r"),
                            {"r": run_id}).scalar()
    # Every call of the crew was paid exactly once across both tries: zero tokens re-spent.
    assert paid == metrics["total_tokens"] + metrics["cached_tokens"]
    assert rows == 1
    print(f"forced retry: {int(metrics['cache_hits'])} calls / {int(metrics['cached_tokens'])} tokens "
          f"replayed, {int(metrics['total_tokens'])} tokens paid by try 2, {paid} paid in total; tokens "
          f"re-spent: 0")
