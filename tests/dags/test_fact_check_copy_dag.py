"""Runs fact_check_copy with dag.test() and the scripted LLM, then reads MLflow and the results table."""

import json
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from crews.results import fetch_results
from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    conf = {"drafts": [
        {"draft_id": "aurora_launch", "copy_file": "drafts/aurora_launch.md",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
        {"draft_id": "clean", "copy_text": "Backed by a 2-year warranty.",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
        {"draft_id": "broken", "copy_file": "drafts/does_not_exist.md",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
    ]}
    return run_dag_test("fact_check_copy", conf, "tests.support.scripted_fact_check:respond",
                        tmp_path_factory.mktemp("dagtest"))


def test_bad_draft_fails_alone(dag_run):
    # The broken item fails its own task (so the run fails) while the others complete.
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], dag_run["stderr"][-4000:]
    assert "file 'drafts/does_not_exist.md' not found" in dag_run["stdout"] + dag_run["stderr"]


def test_results_upserted_for_finished_drafts(dag_run, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", str(dag_run["tmp"] / "state"))
    rows = fetch_results("fact_check")
    assert sorted(r.item_id for r in rows) == ["aurora_launch", "clean"]
    assert all(r.passed and r.mlflow_run_id for r in rows)
    folder = dag_run["tmp"] / "state/published/fact_check"
    published = sorted(p.name for p in folder.glob("*.md"))
    assert published == ["aurora_launch.md", "clean.md"]
    # each DAG run keeps its own copy; the item's file points at the newest run's
    assert all(p.is_symlink() and p.resolve().parent.parent == folder / "runs" for p in folder.glob("*.md"))
    assert len(list((folder / "runs").iterdir())) == 1


def test_mlflow_runs_carry_prompts_outputs_tokens_and_cost(dag_run):
    uri = dag_run["env"]["MLFLOW_TRACKING_URI"]
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("crews/fact_check")
    runs = {r.data.tags["item_id"]: r
            for r in client.search_runs([experiment.experiment_id], "tags.purpose = 'production'")}
    assert set(runs) == {"aurora_launch", "clean"}
    launch = runs["aurora_launch"]
    tags = launch.data.tags
    assert (tags["dag_id"], tags["task_id"], tags["map_index"], tags["try_number"]) == (
        "fact_check_copy", "check_draft", "0", "1")
    assert tags["provider"] == "scripted" and len(tags["prompt_hash"]) == 16
    metrics = launch.data.metrics
    assert metrics["llm_calls"] == 3 and metrics["total_tokens"] > 0 and "cost_usd" in metrics
    assert metrics["agent.senior_copywriter.prompt_tokens"] > 0
    calls = [json.loads(line) for line in
             Path(client.download_artifacts(launch.info.run_id, "llm_calls.jsonl")).read_text().splitlines()]
    assert len(calls) == 3 and all(c["messages"] and c["output"] for c in calls)
    mlflow.set_tracking_uri(uri)
    try:
        trace = mlflow.get_trace(tags["trace_id"])
    finally:
        mlflow.set_tracking_uri(None)
    assert sum(s.span_type == "CHAT_MODEL" for s in trace.data.spans) == 3


def test_the_batch_summary_tracks_the_share_routed_to_review(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/fact_check")
    (batch,) = client.search_runs([experiment.experiment_id], "tags.kind = 'batch'")
    assert (batch.data.tags["dag_id"], batch.data.tags["task_id"]) == ("fact_check_copy", "collect_results")
    assert {k: batch.data.metrics[k] for k in ("items", "items_failed", "routed_to_review",
                                               "review_share")} == {
        "items": 3.0, "items_failed": 1.0, "routed_to_review": 0.0, "review_share": 0.0}
    # the batch run is the parent of the DAG run's item runs, spans them, and lists them
    items = client.search_runs([experiment.experiment_id], "tags.purpose = 'production'")
    assert len(items) == 2 and {r.data.tags["mlflow.parentRunId"] for r in items} == {batch.info.run_id}
    assert batch.info.start_time <= min(r.info.start_time for r in items)
    assert batch.info.end_time >= max(r.info.end_time for r in items) and batch.data.metrics["duration_s"] > 0
    traces = [r.data.tags["trace_id"] for r in items]
    mlflow.set_tracking_uri(client.tracking_uri)
    try:  # one session per DAG run
        sessions = {mlflow.get_trace(t).info.trace_metadata["mlflow.trace.session"] for t in traces}
    finally:
        mlflow.set_tracking_uri(None)
    assert sessions == {f"fact_check_copy/{batch.data.tags['run_id']}"}


def test_task_logs_show_fan_out_and_token_progress(dag_run):
    import re

    output = dag_run["stdout"] + dag_run["stderr"]
    # the broken draft was refused by the list step: two drafts reach the crew tasks
    assert re.search(r"fan-out progress: item [12] of 2; finished \d", output), output[-3000:]
    calls = re.findall(r"progress aurora_launch: LLM call (\d) \(([^)]+)\) ([\d,]+) tokens; item so far: "
                       r"(\d) paid, ([\d,]+) tokens; DAG run so far ([\d,]+) tokens", output)
    assert [c[0] for c in calls] == ["1", "2", "3"] and [c[3] for c in calls] == ["1", "2", "3"]
    assert calls[-1][1] != "no agent"
    item_total, run_total = int(calls[-1][4].replace(",", "")), int(calls[-1][5].replace(",", ""))
    assert 0 < item_total <= run_total
