"""End to end: scripts/trigger_dag.py as a subprocess against the real local stack, one DAG per test.

Each DAG gets the smallest conf that succeeds on the local 0.5B model without human review
(about 20-90 s per DAG on an idle stack). A run queues behind the DAG's other active runs
(``max_active_runs``), such as the scheduled run Airflow starts when a scheduled DAG is unpaused;
the script's progress lines (in the failure message) name them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
SCRIPT = ROOT / "scripts" / "trigger_dag.py"
WAIT_S = 1500  # room for a scheduled run of the same DAG ahead of ours

CLEAN_DRAFT = {"draft_id": "rest_clean_promo", "fact_sheet_file": "fact_sheets/aurora_x2.yaml",
               "copy_text": "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year warranty."}
PASSING_DATASET = {"dataset_id": "shop_products", "url": "sqlite:///shop.db", "table": "products",
                   "key_columns": ["product_id"],
                   "columns": {"price": {"min": 0, "max": 10000, "not_null": True, "not_negative": True},
                               "added_on": {"pattern": "date", "not_future": True, "not_null": True}}}
ANSWERABLE_QUESTION = {"question_id": "or_warranty_period", "contract_id": "orbital_supply",
                       "question": "How long is the warranty on the supplied products?"}


def trigger(dag_id: str, conf: dict, *extra: str, timeout_s: float = WAIT_S) -> tuple[int, dict | None, str]:
    """Run the script like a user would (password from the local runner's file); returns (exit code,
    summary, stderr)."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"AIRFLOW_TOKEN", "AIRFLOW_PASSWORD", "AIRFLOW_URL"}}
    env["AIRFLOW_HOME"] = str(stack.AIRFLOW_HOME)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), dag_id, "--conf", json.dumps(conf), "--url", stack.AIRFLOW_URL,
         "--mlflow-url", stack.MLFLOW_URL, "--timeout", str(timeout_s), "--poll", "3", *extra],
        capture_output=True, text=True, env=env, timeout=timeout_s + 120,
    )
    print(done.stderr)  # progress lines, shown when a test fails
    password = json.loads((stack.AIRFLOW_HOME
                           / "simple_auth_manager_passwords.json.generated").read_text())["admin"]
    assert password not in done.stdout + done.stderr
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else None, done.stderr


def check_run(api, dag_id: str, code: int, summary: dict | None, stderr: str, task_id: str) -> list[dict]:
    """Exit 0, state success in the summary and over REST, a UI URL that loads, results whose MLflow URLs
    resolve."""
    assert code == 0 and summary is not None, stderr
    run_id = summary["dag_run_id"]
    assert summary["state"] == "success", (summary, stderr)
    assert summary["failed_task_instances"] == [] and summary["awaiting_review"] == []
    assert api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json()["state"] == "success"
    assert summary["ui_url"] == f"{stack.AIRFLOW_URL}/dags/{dag_id}/runs/{run_id}"
    assert httpx.get(summary["ui_url"], timeout=30).status_code == 200
    assert f"triggered {dag_id} run {run_id}" in stderr and "run success:" in stderr
    assert summary["result_task"] == task_id and summary["results"], summary
    for row in summary["results"]:
        match = re.fullmatch(rf"{re.escape(stack.MLFLOW_URL)}/#/experiments/(\d+)/runs/(\w+)",
                             row["mlflow_url"] or "")
        assert match and match[2] == row["mlflow_run_id"], row
        mlflow_run = httpx.get(f"{stack.MLFLOW_URL}/api/2.0/mlflow/runs/get", params={"run_id": match[2]},
                               timeout=30).json()["run"]
        assert mlflow_run["info"]["experiment_id"] == match[1]
        assert {t["key"]: t["value"] for t in mlflow_run["data"]["tags"]}["run_id"] == run_id
    return summary["results"]


@pytest.mark.timeout(120)
def test_refused_conf_exits_2_with_the_api_message(api):
    code, summary, stderr = trigger("fact_check_copy", {"drafts": [{"draft_id": "x"}]})
    assert code == 2 and summary is None
    assert "trigger of fact_check_copy refused: HTTP 400 Invalid input for param drafts" in stderr


@pytest.mark.timeout(WAIT_S + 180)
def test_fact_check_copy_one_clean_draft(api):
    stack.wait_for_dag(api, "fact_check_copy")
    code, summary, stderr = trigger("fact_check_copy", {"drafts": [CLEAN_DRAFT]})
    (row,) = check_run(api, "fact_check_copy", code, summary, stderr, "collect_results")
    assert row["item_id"] == "rest_clean_promo" and row["mlflow_experiment"] == "crews/fact_check"
    assert row["draft_ok"] is True and row["supported"] == 2 and row["needs_review"] is False


@pytest.mark.timeout(WAIT_S + 180)
def test_data_quality_qa_one_passing_dataset(api):
    stack.wait_for_dag(api, "data_quality_qa")
    code, summary, stderr = trigger("data_quality_qa", {"datasets": [PASSING_DATASET]})
    (row,) = check_run(api, "data_quality_qa", code, summary, stderr, "collect_results")
    assert row["item_id"] == "shop_products" and row["mlflow_experiment"] == "crews/data_qa"
    assert row["passed"] is True and row["errors"] == 0 and row["needs_review"] is False


@pytest.mark.timeout(WAIT_S + 180)
def test_contract_qa_one_answerable_question(api):
    stack.wait_for_dag(api, "contract_qa")
    code, summary, stderr = trigger("contract_qa", {"questions": [ANSWERABLE_QUESTION]})
    (row,) = check_run(api, "contract_qa", code, summary, stderr, "collect_results")
    assert (row["item_id"] == "orbital_supply.or_warranty_period"
            and row["mlflow_experiment"] == "crews/contract_qa")
    assert row["status"] == "answered" and row["grounded"] is True and row["needs_review"] is False
    assert row["citations"] and all(c.startswith("orbital_supply:") for c in row["citations"])


@pytest.mark.timeout(WAIT_S + 180)
def test_crew_evaluation_first_data_qa_record(api):
    stack.wait_for_dag(api, "crew_evaluation")
    code, summary, stderr = trigger("crew_evaluation", {"crews": ["data_qa"], "limit": 1})
    (row,) = check_run(api, "crew_evaluation", code, summary, stderr, "log_evaluation")
    assert row["crew"] == "data_qa" and row["records"] == 1 and row["failed"] == 0
    assert row["scores"]["schema_valid/mean"] == 1.0


@pytest.mark.timeout(WAIT_S + 180)
def test_crew_drift_data_qa_without_verdicts(api):
    """``min_runs`` above the windows: every feature gets "no verdict", so the check passes whatever the
    history."""
    stack.wait_for_dag(api, "crew_drift")
    conf = {"crews": ["data_qa"], "recent_runs": 5, "baseline_runs": 5, "min_runs": 1000}
    code, summary, stderr = trigger("crew_drift", conf)
    (row,) = check_run(api, "crew_drift", code, summary, stderr, "measure_drift")
    assert row["crew"] == "data_qa" and row["drifted"] == []


@pytest.mark.timeout(WAIT_S + 600)
def test_run_waiting_for_review_exits_3_then_finishes_once_answered(api):
    """The planted false claims of aurora_launch keep it unapproved, so the code gate always routes it to
    review."""
    stack.wait_for_dag(api, "fact_check_copy")
    draft = {"draft_id": "rest_review", "copy_file": "drafts/aurora_launch.md",
             "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
    code, summary, stderr = trigger("fact_check_copy", {"drafts": [draft]})
    assert code == 3 and summary["state"] == "awaiting_review", stderr
    assert summary["airflow_state"] == "running" and summary["failed_task_instances"] == []
    assert summary["required_actions_url"] == f"{stack.AIRFLOW_URL}/required_actions?response_received=false"
    ((review, map_index),) = [(t["task_id"], t["map_index"]) for t in summary["awaiting_review"]]
    assert review == "review_copy" and [r["item_id"] for r in summary["results"]] == ["rest_review"]
    assert summary["results"][0]["needs_review"] is True
    run_id = summary["dag_run_id"]
    answer = api.patch(f"/api/v2/dags/fact_check_copy/dagRuns/{run_id}/taskInstances/review_copy/{map_index}"
                       f"/hitlDetails",
                       json={"chosen_options": ["Reject copy"], "params_input": {"correction": ""}})
    # answered, so the run ends and frees its max_active_runs slot
    assert answer.status_code == 200, answer.text
    deadline = time.monotonic() + 300
    while (state := api.get(f"/api/v2/dags/fact_check_copy/dagRuns/{run_id}").json()["state"]) == "running":
        assert time.monotonic() < deadline, "the run did not finish after its review was answered"
        time.sleep(3)
    assert state == "success"
