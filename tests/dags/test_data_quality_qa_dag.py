"""Runs data_quality_qa with dag.test() and the scripted LLM: the gate publishes only passing datasets."""

import json

import pytest
from mlflow import MlflowClient

from crews.evaluation.golden import sample_items
from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    catalog = sample_items("data_qa")
    broken = {"dataset_id": "missing_db", "url": "sqlite:///nowhere.db", "table": "t"}
    return run_dag_test("data_quality_qa", {"datasets": [*catalog, broken]},
                        "tests.support.scripted_data_qa:respond", tmp_path_factory.mktemp("dqtest"))


def test_run_fails_only_because_of_the_unreadable_dataset(dag_run):
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], dag_run["stderr"][-4000:]
    assert "1 of 7 items produced no result: missing_db" in dag_run["stdout"] + dag_run["stderr"]


def test_gate_publishes_passing_and_quarantines_failing(dag_run):
    state = dag_run["tmp"] / "state"
    quarantined = sorted(p.stem for p in (state / "quarantine/data_qa").iterdir())
    assert quarantined == ["shop_customers", "shop_orders", "warehouse_stock", "web_events"]
    report = json.loads((state / "quarantine/data_qa/shop_orders.json").read_text())["report"]
    assert {i["kind"] for i in report["issues"]} == {"orphan_keys", "negative_values"}
    for dataset_id in ("shop_products", "warehouse_skus"):
        assert f"published asset data_qa_passed/{dataset_id}" in dag_run["stdout"] + dag_run["stderr"]
    assert "data_qa_passed/shop_customers" not in dag_run["stdout"] + dag_run["stderr"]


def test_one_mlflow_run_per_checked_dataset(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/data_qa")
    runs = {r.data.tags["item_id"]: r
            for r in client.search_runs([experiment.experiment_id], "tags.purpose = 'production'")}
    assert set(runs) == {"shop_products", "shop_customers", "shop_orders", "warehouse_skus",
                         "warehouse_stock", "web_events"}
    assert runs["shop_products"].data.metrics["passed"] == 1.0
    assert runs["shop_customers"].data.metrics["issues_error"] == 6
    assert runs["shop_customers"].data.metrics["llm_calls"] == 2
    artifacts = {a.path for a in client.list_artifacts(runs["web_events"].info.run_id)}
    assert {"profile.json", "output.json", "inputs.json", "llm_calls.jsonl"} <= artifacts
