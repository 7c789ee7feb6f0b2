"""Runs crew_drift with dag.test() over MLflow runs written beforehand: a shifted window and an unchanged
one."""

import json

import numpy as np
import pytest
from mlflow import MlflowClient
from mlflow.entities import Metric

from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration

CONF = {"crews": ["data_qa", "fact_check"], "recent_runs": 20, "baseline_runs": 40}


def _write_runs(tmp, shifted: bool) -> None:
    client = MlflowClient(f"sqlite:///{tmp / 'mlflow.db'}")
    experiment_id = client.create_experiment("crews/data_qa", artifact_location=(tmp / "artifacts").as_uri())
    rng = np.random.default_rng(3)
    for i in range(60):
        recent = i >= 40  # written last, so newest
        changed = recent and shifted
        run = client.create_run(experiment_id, start_time=1_000_000 + i * 1000,
                                tags={"purpose": "production", "crew": "data_qa", "model": "m",
                                      "prompt_version": "2" if changed else "1"})
        metrics = {"total_tokens": rng.normal(1800 if changed else 900, 60), "wall_time_s": rng.normal(20, 2),
                   "passed": float(rng.random() < 0.4), "issues_error": 2.0, "needs_review": 0.0}
        client.log_batch(run.info.run_id, metrics=[Metric(k, float(v), 0, 0) for k, v in metrics.items()])
        client.set_terminated(run.info.run_id)


@pytest.fixture(scope="module")
def shifted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("drift_shifted")
    _write_runs(tmp, shifted=True)
    return run_dag_test("crew_drift", CONF, "tests.support.scripted_crews:respond", tmp)


def test_a_shift_fails_the_named_check_and_raises_the_alert(shifted):
    logs = shifted["stdout"] + shifted["stderr"]
    assert "DAGRUN_STATE=failed" in shifted["stdout"], logs[-4000:]
    assert "drift over threshold: data_qa: total_tokens: PSI" in logs
    assert "prompt_versions changed: baseline {'1': 40} -> recent {'2': 20}" in logs
    alerts = list((shifted["tmp"] / "state" / "alerts").glob("drift-*.json"))
    assert len(alerts) == 1 and "total_tokens" in json.loads(alerts[0].read_text())["message"]


def test_the_drift_run_holds_metrics_report_and_plots(shifted):
    client = MlflowClient(shifted["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/data_qa")
    (run,) = client.search_runs([experiment.experiment_id], "tags.kind = 'drift'")
    assert run.data.metrics["drift.total_tokens.psi"] >= 0.2 and run.data.metrics["drifted_features"] >= 1
    plots = {a.path for a in client.list_artifacts(run.info.run_id, "plots")}
    assert {"plots/total_tokens.png", "plots/pass_rate.png", "plots/issue_severity.png"} <= plots
    local = client.download_artifacts(run.info.run_id, "plots/total_tokens.png", str(shifted["tmp"]))
    assert open(local, "rb").read(4) == b"\x89PNG"


def test_a_crew_without_runs_gets_no_verdict(shifted):
    logs = shifted["stdout"] + shifted["stderr"]
    assert "too few runs: baseline window has 0, recent window has 0, needs 10" in logs


def test_an_unchanged_window_stays_quiet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("drift_quiet")
    _write_runs(tmp, shifted=False)
    result = run_dag_test("crew_drift", CONF, "tests.support.scripted_crews:respond", tmp)
    logs = result["stdout"] + result["stderr"]
    assert "DAGRUN_STATE=success" in result["stdout"], logs[-4000:]
    assert "no drift over threshold in 2 crews" in logs
    assert not (tmp / "state" / "alerts").exists()
