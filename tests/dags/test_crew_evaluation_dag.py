"""Runs crew_evaluation with dag.test(), the scripted crews and a scripted judge."""

import json

import pytest
from mlflow import MlflowClient

from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration

JUDGE = {"conn_type": "generic",
         "extra": {"provider": "scripted", "script": "tests.support.scripted_judge:respond"}}


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    return run_dag_test("crew_evaluation", {"limit": 2}, "tests.support.scripted_crews:respond",
                        tmp_path_factory.mktemp("evaltest"), {"AIRFLOW_CONN_LLM_JUDGE": json.dumps(JUDGE)})


def test_the_run_succeeds_and_prints_scores(dag_run):
    assert "DAGRUN_STATE=success" in dag_run["stdout"], dag_run["stderr"][-4000:]
    logs = dag_run["stdout"] + dag_run["stderr"]
    for crew in ("fact_check", "data_qa", "contract_qa"):
        assert f"{crew}: 2 records (0 failed), MLflow evaluation run" in logs


def test_one_evaluation_run_per_crew_linked_to_prompt_and_model(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    for crew, score in (("fact_check", "verdict_accuracy/mean"), ("data_qa", "issue_recall/mean"),
                        ("contract_qa", "abstention_correct/mean")):
        experiment = client.get_experiment_by_name(f"crews/{crew}")
        runs = client.search_runs([experiment.experiment_id], "tags.kind = 'evaluation'")
        assert len(runs) == 1
        run = runs[0]
        assert run.data.tags["model"] == "scripted" and run.data.tags["dag_id"] == "crew_evaluation"
        assert run.data.tags["prompt_version"] == "1" and run.data.tags["llm_judge"].startswith("on ")
        assert run.data.metrics["schema_valid/mean"] == 1.0 and run.data.metrics["llm_judge/mean"] == 0.8
        assert score in run.data.metrics
        items = client.search_runs([experiment.experiment_id], "tags.purpose = 'evaluation'")
        assert len(items) == 3  # two golden records and the evaluation run
