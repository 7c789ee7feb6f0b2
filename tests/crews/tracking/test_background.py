"""The run created during the crew and finished on the writer thread, against a real MLflow server."""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow import MlflowClient

from crews.fact_check.pipeline import run as check_draft
from crews.tracking import background, mlflow_writer, spool
from crews.tracking.context import RunContext
from crews.tracking.tracker import CrewRunTracker, _default_writer_replay


@pytest.fixture
def server(mlflow_http, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_http)
    return MlflowClient(mlflow_http)


def _context(item_id: str) -> RunContext:
    return RunContext(crew="fact_check", item_id=item_id, source="airflow", dag_id="fact_check_copy",
                      run_id="manual__bg", task_id="check_draft", map_index=0, try_number=1)


def _runs(client: MlflowClient, record_id: str) -> list:
    experiment = client.get_experiment_by_name("crews/fact_check")
    return client.search_runs([experiment.experiment_id], f"tags.record_id = '{record_id}'")


def test_the_run_is_opened_during_the_crew_and_finished_after_it(server, draft, scripted_llm):
    with CrewRunTracker(_context("bg_ok"), {"provider": "scripted", "model": "s"}, "h1",
                        inputs={"draft_id": "bg_ok"}) as tracker:
        report = check_draft(draft, scripted_llm)
        tracker._opening.join(timeout=120)
        assert tracker.opened, "the run was not created while the crew worked"
        assert server.get_run(tracker.opened["run_id"]).info.status == "RUNNING"
        tracker.set_output(report.model_dump(mode="json"), {"claims": len(report.claims)})
    assert tracker.mlflow_run_id == tracker.opened["run_id"]
    assert background.wait_for_writes() == 0
    tracker.settle()
    run = server.get_run(tracker.mlflow_run_id)
    assert run.info.status == "FINISHED" and run.info.end_time
    assert run.data.tags["status"] == "succeeded" and run.data.tags["item_id"] == "bg_ok"
    assert run.data.metrics["total_tokens"] == tracker.record["metrics"]["total_tokens"] > 0
    assert run.data.metrics["claims"] == len(report.claims)
    assert {a.path for a in server.list_artifacts(run.info.run_id)} >= {"inputs.json", "output.json",
                                                                          "llm_calls.jsonl"}
    mlflow.set_tracking_uri(server.tracking_uri)
    trace = mlflow.get_trace(run.data.tags["trace_id"])
    assert trace.info.token_usage["total_tokens"] == run.data.metrics["total_tokens"]
    assert [r.info.run_id for r in _runs(server, tracker.record["record_id"])] == [run.info.run_id]
    assert not list(spool.spool_dir().glob("*"))  # the claim is gone once written


def test_a_failed_finish_waits_in_the_spool_and_its_replay_replaces_the_partial_run(
        server, draft, scripted_llm, monkeypatch):
    def down(record, opened, uri=None):
        raise ConnectionError("mlflow went away")

    finish_run = mlflow_writer.finish_run
    monkeypatch.setattr(mlflow_writer, "finish_run", down)
    with CrewRunTracker(_context("bg_down"), {"provider": "scripted", "model": "s"}, "h1") as tracker:
        tracker.set_output(check_draft(draft, scripted_llm).model_dump(mode="json"))
    partial = tracker.mlflow_run_id
    background.wait_for_writes()
    tracker.settle()
    assert tracker.mlflow_run_id is None and tracker.spooled_to.endswith(".json")
    assert json.loads(open(tracker.spooled_to).read())["record_id"] == tracker.record["record_id"]
    assert server.get_run(partial).info.status == "RUNNING"
    monkeypatch.setattr(mlflow_writer, "finish_run", finish_run)  # MLflow is back
    assert spool.replay(_default_writer_replay) == (1, 0)
    runs = _runs(server, tracker.record["record_id"])
    assert [r.info.status for r in runs] == ["FINISHED"] and runs[0].info.run_id != partial
    assert runs[0].data.metrics["total_tokens"] == tracker.record["metrics"]["total_tokens"]


def test_a_claim_is_left_alone_while_its_process_lives(tmp_path):
    record = {"record_id": "r1", "value": 1}
    claimed = spool.claim(record, tmp_path)
    written = []
    assert spool.replay(lambda r: written.append(r) or "ok", tmp_path) == (0, 0) and not written
    dead = claimed.with_suffix(".claimed-999999999")
    claimed.rename(dead)  # the writing process died mid-write
    assert spool.replay(lambda r: written.append(r) or "ok", tmp_path) == (1, 0) and written == [record]


def test_release_drops_a_written_record_and_keeps_a_failed_one(tmp_path):
    assert spool.release(spool.claim({"record_id": "a"}, tmp_path), written=True) is None
    kept = spool.release(spool.claim({"record_id": "b"}, tmp_path), written=False)
    assert kept == tmp_path / "b.json" and sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]
