"""Runs fact_check_copy with dag.test() and the scripted LLM, then reads MLflow and the results table."""

import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from crews.results import fetch_results

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration

RUN_DAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
dag = DagBag(dag_folder=sys.argv[1]).dags["fact_check_copy"]
run = dag.test(run_conf=json.loads(sys.argv[2]))
print("DAGRUN_STATE=" + str(run.state))
"""


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dagtest")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "MLFLOW", "CREWS"))},
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_LLM_DEFAULT": json.dumps(
            {"conn_type": "generic", "extra": {"provider": "scripted", "script": "tests.support.scripted_fact_check:respond"}}
        ),
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp / 'mlflow.db'}",
        "CREWS_STATE_DIR": str(tmp / "state"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "dags")]),
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    conf = {"drafts": [
        {"draft_id": "aurora_launch", "copy_file": "drafts/aurora_launch.md", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
        {"draft_id": "clean", "copy_text": "Backed by a 2-year warranty.", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
        {"draft_id": "broken", "copy_file": "drafts/does_not_exist.md", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
    ]}
    out = subprocess.run(
        [sys.executable, "-c", RUN_DAG, str(ROOT / "dags"), json.dumps(conf)],
        env=env, capture_output=True, text=True, timeout=900, cwd=tmp,
    )
    return {"tmp": tmp, "env": env, "stdout": out.stdout, "stderr": out.stderr}


def test_bad_draft_fails_alone(dag_run):
    # The broken item fails its own task (so the run fails) while the others complete.
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], dag_run["stderr"][-4000:]
    assert "file 'drafts/does_not_exist.md' not found" in dag_run["stdout"] + dag_run["stderr"]


def test_results_upserted_for_finished_drafts(dag_run, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", str(dag_run["tmp"] / "state"))
    rows = fetch_results("fact_check")
    assert sorted(r.item_id for r in rows) == ["aurora_launch", "clean"]
    assert all(r.passed and r.mlflow_run_id for r in rows)
    published = sorted(p.name for p in (dag_run["tmp"] / "state/published/fact_check").iterdir())
    assert published == ["aurora_launch.md", "clean.md"]


def test_mlflow_runs_carry_prompts_outputs_tokens_and_cost(dag_run):
    uri = dag_run["env"]["MLFLOW_TRACKING_URI"]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("crews/fact_check")
    runs = {r.data.tags["item_id"]: r for r in client.search_runs([experiment.experiment_id])}
    assert set(runs) == {"aurora_launch", "clean"}
    launch = runs["aurora_launch"]
    tags = launch.data.tags
    assert (tags["dag_id"], tags["task_id"], tags["map_index"], tags["try_number"]) == ("fact_check_copy", "check_draft", "0", "1")
    assert tags["provider"] == "scripted" and len(tags["prompt_hash"]) == 16
    metrics = launch.data.metrics
    assert metrics["llm_calls"] == 3 and metrics["total_tokens"] > 0 and "cost_usd" in metrics
    assert metrics["agent.senior_copywriter.prompt_tokens"] > 0
    calls = [json.loads(line) for line in Path(client.download_artifacts(launch.info.run_id, "llm_calls.jsonl")).read_text().splitlines()]
    assert len(calls) == 3 and all(c["messages"] and c["output"] for c in calls)
    mlflow.set_tracking_uri(uri)
    try:
        trace = mlflow.get_trace(tags["trace_id"])
    finally:
        mlflow.set_tracking_uri(None)
    assert sum(s.span_type == "CHAT_MODEL" for s in trace.data.spans) == 3
