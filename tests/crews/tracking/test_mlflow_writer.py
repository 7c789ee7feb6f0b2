import json

import mlflow
import pytest
from mlflow import MlflowClient

from crews.fact_check.pipeline import run as check_draft
from crews.tracking.context import RunContext
from crews.tracking.mlflow_writer import TrackingUnavailable, check_server, write_run
from crews.tracking.tracker import CrewRunTracker


@pytest.fixture
def tracking_uri(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # MLflow puts a SQLite store's artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    yield uri
    mlflow.set_tracking_uri(None)


def test_run_and_trace_written_to_mlflow(draft, scripted_llm, tracking_uri):
    context = RunContext(crew="fact_check", item_id="track_me")
    with CrewRunTracker(context, {"provider": "local", "model": "qwen"}, "h1", inputs={"x": 1},
                        writer=lambda r: write_run(r, tracking_uri)) as tracker:
        tracker.set_output(check_draft(draft, scripted_llm).model_dump(mode="json"))
    client = MlflowClient(tracking_uri)
    run = client.get_run(tracker.mlflow_run_id)
    assert run.info.status == "FINISHED" and run.info.run_name == "track_me · cli"
    assert run.data.tags["mlflow.source.type"] == "LOCAL"  # the runs table's Source column
    note = client.get_experiment(run.info.experiment_id).tags["mlflow.note.content"]
    assert "Runs of the **fact_check** crew" in note and "`total_tokens`" in note
    assert run.data.tags["prompt_hash"] == "h1" and run.data.tags["model"] == "qwen"
    assert run.data.metrics["llm_calls"] == 3 and run.data.metrics["cost_usd"] == 0
    assert run.data.metrics["agent.managing_editor.total_tokens"] > 0
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {"llm_calls.jsonl", "output.json",
                                                                        "inputs.json"}
    trace = mlflow.get_trace(run.data.tags["trace_id"])
    assert trace.info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    chat = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(chat) == 3
    output = chat[0].outputs if isinstance(chat[0].outputs, dict) else json.loads(chat[0].outputs)
    assert chat[0].inputs[0]["role"] == "system" and output["claims"]
    assert {s.span_type for s in trace.data.spans} == {"CHAIN", "TASK", "AGENT", "CHAT_MODEL", "TOOL"}
    # MLflow's own token usage: the trace's total is the sum over the LLM calls, as in the run's metrics
    usage = [s.get_attribute("mlflow.chat.tokenUsage") for s in chat]
    assert trace.info.token_usage["total_tokens"] == sum(u["total_tokens"] for u in usage)
    assert trace.info.token_usage["total_tokens"] == run.data.metrics["total_tokens"] > 0
    assert trace.info.token_usage["input_tokens"] == run.data.metrics["prompt_tokens"]
    assert (chat[0].get_attribute("mlflow.llm.model") == "scripted"
            and chat[0].get_attribute("mlflow.llm.provider") == "local")
    # the deterministic checks are TOOL spans with their inputs, result and verdicts
    tools = {s.name: s for s in trace.data.spans if s.span_type == "TOOL"}
    assert {"verify_claims", "apply_fixes", "check_revision"} <= set(tools)
    verify = tools["verify_claims"]
    assert (verify.inputs["copy_text"]
            and sum(verify.get_attribute("verdicts").values()) == len(verify.outputs))
    assert verify.parent_id == trace.data.spans[0].span_id  # between the two crews: under the root


def test_check_server_fails_fast_for_dead_http_server():
    with pytest.raises(TrackingUnavailable, match="unreachable"):
        check_server("http://127.0.0.1:9", timeout_s=1)


def test_runs_are_linked_to_one_prompt_version_per_hash(draft, scripted_llm, tracking_uri):
    def run(prompt_hash, template):
        with CrewRunTracker(RunContext(crew="fact_check", item_id="p"), {"provider": "local"}, prompt_hash,
                            writer=lambda r: write_run(r, tracking_uri), prompt_template=template) as tracker:
            tracker.set_output(check_draft(draft, scripted_llm).model_dump(mode="json"))
        return MlflowClient(tracking_uri).get_run(tracker.mlflow_run_id).data.tags["prompt_version"]

    assert [run("h1", "prompt A"), run("h1", "prompt A"), run("h2", "prompt B")] == ["1", "1", "2"]
    client = MlflowClient(tracking_uri)
    assert client.get_prompt_version("crews.fact_check", 2).template == "prompt B"
    assert client.get_prompt_version("crews.fact_check", 1).tags["prompt_hash"] == "h1"


def test_writing_a_record_twice_keeps_one_run(draft, scripted_llm, tracking_uri):
    """A replayer that dies after writing cannot duplicate the run on the next replay."""
    context = RunContext(crew="fact_check", item_id="twice")
    with CrewRunTracker(context, {"provider": "local", "model": "qwen"}, "h1",
                        writer=lambda r: write_run(r, tracking_uri)) as tracker:
        tracker.set_output({"ok": True})
    assert write_run(tracker.record, tracking_uri) == tracker.mlflow_run_id
    client = MlflowClient(tracking_uri)
    runs = client.search_runs([client.get_experiment_by_name("crews/fact_check").experiment_id])
    assert [r.info.run_id for r in runs] == [tracker.mlflow_run_id]


def test_a_new_record_skips_the_partial_run_lookup(tracking_uri, monkeypatch):
    """The tracker's fresh records are written without searching for an earlier partial run."""
    calls = []
    monkeypatch.setattr(MlflowClient, "search_runs", lambda self, *a, **k: calls.append(a) or [])
    with CrewRunTracker(RunContext(crew="fact_check", item_id="fresh"), {"provider": "local"}, "h1",
                        writer=lambda r: write_run(r, tracking_uri, new=True)) as tracker:
        tracker.set_output({"ok": True})
    assert tracker.mlflow_run_id and calls == []
    write_run({**tracker.record, "record_id": "replayed"}, tracking_uri)
    assert len(calls) == 1


def test_a_stale_cached_experiment_is_looked_up_again(tracking_uri):
    """A write after the experiment was deleted and recreated lands in the new experiment."""
    def write(item):
        with CrewRunTracker(RunContext(crew="fact_check", item_id=item), {"provider": "local"}, "h1",
                            writer=lambda r: write_run(r, tracking_uri, new=True)) as tracker:
            tracker.set_output({"ok": True})
        return tracker.mlflow_run_id

    client = MlflowClient(tracking_uri)
    write("first")
    old = client.get_experiment_by_name("crews/fact_check")
    client.rename_experiment(old.experiment_id, "crews/fact_check-old")
    client.delete_experiment(old.experiment_id)
    second = write("second")
    assert second and client.get_run(second).info.experiment_id != old.experiment_id
    assert client.get_experiment(client.get_run(second).info.experiment_id).name == "crews/fact_check"


def test_a_dag_runs_batch_summary_written_again_replaces_the_first(tracking_uri, monkeypatch):
    """Re-running collect_results must not add a second batch run: totals would count twice."""
    from crews.tracking import tracker

    monkeypatch.setattr(tracker, "_replacing_writer", lambda r: write_run(r, tracking_uri, replace=True))
    tags = {"dag_id": "fact_check_copy", "run_id": "manual__1", "task_id": "collect_results"}
    tracker.publish_batch_summary("fact_check", "fact_check_copy manual__1 (batch)", tags, {"items": 2.0})
    tracker.publish_batch_summary("fact_check", "fact_check_copy manual__1 (batch)", tags, {"items": 3.0})
    tracker.publish_batch_summary("fact_check", "fact_check_copy manual__2 (batch)",
                                  tags | {"run_id": "manual__2"}, {"items": 5.0})
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("crews/fact_check")
    runs = client.search_runs([experiment.experiment_id], "tags.kind = 'batch'")
    by_run = {r.data.tags["run_id"]: r.data.metrics["items"] for r in runs}
    assert len(runs) == 2 and by_run == {"manual__1": 3.0, "manual__2": 5.0}


REGISTER_LIKE_A_TASK = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="LOG %(levelname)s %(name)s: %(message)s")
from crews.tracking.mlflow_writer import connect
from crews.tracking.prompts import ensure_prompt_version
ensure_prompt_version(connect(sys.argv[1]), sys.argv[2], "Check {{ copy }}", "hash-" + sys.argv[2])
"""


def test_mlflow_info_lines_keep_their_level_instead_of_going_to_stderr(mlflow_http):
    """Airflow logs a task's stderr as ERROR: registering a prompt version with the server printed MLflow's
    INFO "Waiting up to 300 seconds..." there. In a process whose logging is configured (as a task's is),
    the line goes through logging at INFO and stderr stays empty of it."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    done = subprocess.run([sys.executable, "-c", REGISTER_LIKE_A_TASK, mlflow_http, "stderr_probe"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "LOG INFO mlflow.store.model_registry.abstract_store: Waiting up to" in done.stdout
    assert "Waiting up to" not in done.stderr


def test_airflow_runs_lead_with_the_item_and_name_their_task_as_source():
    context = RunContext(crew="fact_check", item_id="spa_v2", source="airflow", dag_id="fact_check_copy",
                         run_id="manual__1", task_id="check_draft", map_index=3, try_number=2)
    assert context.run_name == "spa_v2 · fact_check_copy (manual__1, try 2)"
    tags = context.tags()
    assert (tags["mlflow.source.type"] == "JOB"
            and tags["mlflow.source.name"] == "airflow:fact_check_copy.check_draft")
    assert tags["map_index"] == "3" and tags["item_id"] == "spa_v2"


def test_a_dag_runs_item_runs_nest_under_its_batch_run(tracking_uri, monkeypatch):
    """The batch run is the parent of every item run of its DAG run and spans them; an item written later
    (replayed from the spool) finds its parent too; re-writing the batch run re-points the items."""
    from crews.tracking import tracker

    monkeypatch.setattr(tracker, "_replacing_writer", lambda r: write_run(r, tracking_uri, replace=True))

    def item(item_id, run_id="manual__1", new=True):
        context = RunContext(crew="fact_check", item_id=item_id, source="airflow", dag_id="fact_check_copy",
                             run_id=run_id, task_id="check_draft", map_index=0, try_number=1)
        with CrewRunTracker(context, {"provider": "local"}, "h1",
                            writer=lambda r: write_run(r, tracking_uri, new=new)) as t:
            t.set_output({"ok": True})
        return t.mlflow_run_id

    first, second, other = item("a"), item("b"), item("c", run_id="manual__2")
    tags = {"dag_id": "fact_check_copy", "run_id": "manual__1", "task_id": "collect_results"}
    tracker.publish_batch_summary("fact_check", "fact_check_copy manual__1 (batch)", tags, {"items": 2.0})
    client = MlflowClient(tracking_uri)
    experiment = client.get_experiment_by_name("crews/fact_check").experiment_id
    (batch,) = client.search_runs([experiment], "tags.kind = 'batch'")
    parents = {r: client.get_run(r).data.tags.get("mlflow.parentRunId") for r in (first, second, other)}
    assert parents == {first: batch.info.run_id, second: batch.info.run_id, other: None}
    assert batch.info.start_time <= client.get_run(first).info.start_time
    assert batch.data.metrics["item_runs"] == 2 and batch.data.metrics["duration_s"] > 0
    listed = json.loads(open(client.download_artifacts(batch.info.run_id, "items.json", ".")).read())
    assert sorted(i["item_id"] for i in listed) == ["a", "b"]

    late = item("d", new=False)  # the spool's replay path
    assert client.get_run(late).data.tags["mlflow.parentRunId"] == batch.info.run_id
    tracker.publish_batch_summary("fact_check", "fact_check_copy manual__1 (batch)", tags, {"items": 3.0})
    (again,) = client.search_runs([experiment], "tags.kind = 'batch'")
    assert again.info.run_id != batch.info.run_id
    assert {client.get_run(r).data.tags["mlflow.parentRunId"]
            for r in (first, second, late)} == {again.info.run_id}


def test_a_tool_an_agent_calls_itself_is_a_tool_span_under_the_agent_in_mlflow(tracking_uri):
    """Read back the way an MLflow user would: the run's trace, its TOOL spans and their parents."""
    from crews.fact_check.schemas import DraftInput
    from tests.crews.fact_check.test_tools import BIKE, COPY, tool_calling_llm

    draft = DraftInput(draft_id="agent_tools", copy_text=COPY, fact_sheet=BIKE)
    with CrewRunTracker(RunContext(crew="fact_check", item_id="agent_tools"), {"provider": "openai"}, "h1",
                        writer=lambda r: write_run(r, tracking_uri)) as tracker:
        tracker.set_output(check_draft(draft, tool_calling_llm([])).model_dump(mode="json"))
    run = MlflowClient(tracking_uri).get_run(tracker.mlflow_run_id)
    (trace,) = mlflow.search_traces(locations=[run.info.experiment_id], run_id=run.info.run_id,
                                    return_type="list")
    spans = {s.span_id: s for s in trace.data.spans}
    (called,) = [s for s in spans.values() if s.span_type == "TOOL" and s.name == "check_claims"]
    assert spans[called.parent_id].span_type == "AGENT"
    assert called.inputs == {"copy_text": COPY} and "contradicted" in str(called.outputs)
    assert "verify_claims" in {s.name for s in spans.values() if s.span_type == "TOOL"}  # the pipeline's


def test_a_process_keeps_one_client_per_tracking_uri(tmp_path):
    from crews.tracking.mlflow_writer import connect

    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    assert connect(first) is connect(first)
    assert connect(second) is not connect(first) and connect(second).tracking_uri == second
