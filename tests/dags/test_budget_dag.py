"""A DAG run whose token budget runs out mid fan-out: later items stop with the reason, spend is in MLflow."""

import pytest
from mlflow import MlflowClient

from crews.results import fetch_results
from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration

DRAFT = {"copy_file": "drafts/aurora_launch.md", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("budget")
    limits = tmp / "limits.yaml"
    limits.write_text("budgets:\n  default:\n    per_run: {tokens: 1500}\n    per_task: {tokens: 100000}\n")
    conf = {"drafts": [{"draft_id": f"draft_{i}", **DRAFT} for i in range(5)]}
    return run_dag_test("fact_check_copy", conf, "tests.support.scripted_fact_check:respond", tmp,
                        extra_env={"CREWS_LIMITS_FILE": str(limits)})


def test_items_after_the_budget_is_spent_stop_with_the_reason(dag_run):
    output = dag_run["stdout"] + dag_run["stderr"]
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], dag_run["stderr"][-3000:]
    assert ("budget of DAG run fact_check_copy/" in output
            and "(budgets.per_run in include/limits.yaml)" in output)
    assert "skipped when the run's budget was spent" in output


def test_results_of_items_that_ran_are_kept_and_spend_is_in_mlflow(dag_run, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", str(dag_run["tmp"] / "state"))
    done = [r.item_id for r in fetch_results("fact_check")]
    assert 1 <= len(done) < 5
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/fact_check")
    (batch,) = client.search_runs([experiment.experiment_id], "tags.kind = 'batch'")
    metrics = batch.data.metrics
    assert metrics["budget_tokens"] == 1500 and metrics["spent_tokens"] >= 1500
    assert metrics["items"] == 5 and metrics["items_failed"] == 5 - len(done)
    crew_runs = [r for r in client.search_runs([experiment.experiment_id])
                 if r.data.tags.get("kind") != "batch"]
    assert len(crew_runs) >= len(done)
    assert all(r.data.metrics["budget.run_limit_tokens"] == 1500 for r in crew_runs)
