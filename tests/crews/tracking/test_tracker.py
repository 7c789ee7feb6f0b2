import json

import pytest

from crews.fact_check.pipeline import run as check_draft
from crews.tracking import spool
from crews.tracking.context import RunContext
from crews.tracking.tracker import CrewRunTracker

CONTEXT = RunContext(crew="fact_check", item_id="track_me", source="airflow", dag_id="d", run_id="r1",
                     task_id="check_draft", map_index=0, try_number=1)
LLM = {"provider": "openai", "model": "gpt-4o-mini", "temperature": 0.0}


def _run(draft, llm, writer):
    with CrewRunTracker(CONTEXT, LLM, "abc123", inputs={"draft_id": draft.draft_id},
                        writer=writer) as tracker:
        report = check_draft(draft, llm)
        tracker.set_output(report.model_dump(mode="json"), {"claims": len(report.claims)})
    return tracker


def test_record_carries_prompts_outputs_tokens_and_cost(draft):
    from crews.runtime.scripted_llm import ScriptedLLM
    from tests.support.scripted_fact_check import respond

    priced = ScriptedLLM(model="gpt-4o-mini", provider="scripted").with_responder(respond)
    written = []
    tracker = _run(draft, priced, lambda r: written.append(r) or "run-1")
    record = written[0]
    assert tracker.mlflow_run_id == "run-1"
    assert record["tags"]["map_index"] == "0" and record["tags"]["prompt_hash"] == "abc123"
    metrics = record["metrics"]
    assert metrics["llm_calls"] == 3 and metrics["claims"] == 2
    assert metrics["total_tokens"] == metrics["prompt_tokens"] + metrics["completion_tokens"] > 0
    expected_cost = (metrics["prompt_tokens"] * 0.15 + metrics["completion_tokens"] * 0.60) / 1e6
    assert metrics["cost_usd"] == pytest.approx(expected_cost)
    assert metrics["agent.senior_copywriter.llm_calls"] == 1
    assert (sum(metrics[f"agent.{a}.total_tokens"]
                for a in ("marketing_claims_fact_checker", "senior_copywriter", "managing_editor"))
            == metrics["total_tokens"])
    calls = [json.loads(line) for line in record["artifacts"]["llm_calls.jsonl"].splitlines()]
    assert [c["agent"] for c in calls] == ["Marketing claims fact checker", "Senior copywriter",
                                           "Managing editor"]
    assert calls[0]["messages"][0]["role"] == "system" and calls[0]["output"]
    assert json.loads(record["artifacts"]["output.json"])["draft_id"] == "track_me"
    assert metrics["input_chars"] == len('{"draft_id": "track_me"}')
    assert metrics["output_chars"] == len(json.dumps(json.loads(record["artifacts"]["output.json"]),
                                                     ensure_ascii=False))


def test_unreachable_tracking_spools_and_replays(draft, scripted_llm):
    def down(record):
        raise ConnectionError("mlflow down")

    tracker = _run(draft, scripted_llm, down)
    assert tracker.mlflow_run_id is None and tracker.spooled_to
    assert len(list(spool.spool_dir().glob("*.json"))) == 1

    replayed = []
    _run(draft, scripted_llm, lambda r: replayed.append(r["record_id"]) or "ok")
    assert len(replayed) == 2  # the new record, then the spooled one
    assert not list(spool.spool_dir().glob("*.json"))


def test_crew_failure_is_tracked_and_re_raised(draft):
    from crews.runtime.scripted_llm import ScriptedLLM

    def broken(messages, model):
        raise RuntimeError("model crashed")

    written = []
    with pytest.raises(RuntimeError, match="model crashed"):
        _run(draft, ScriptedLLM(model="s", provider="scripted").with_responder(broken),
             lambda r: written.append(r) or "x")
    record = written[0]
    assert record["status"] == "FAILED" and "model crashed" in record["artifacts"]["error.txt"]
    assert record["metrics"]["llm_failed_calls"] == 1  # agents do not retry; Airflow does


def test_batch_summary_is_spooled_when_mlflow_is_down_and_replayed_later():
    from crews.tracking.tracker import publish_batch_summary

    def down(record):
        raise ConnectionError("mlflow down")

    where = publish_batch_summary("data_qa", "d r1 (batch)", {"dag_id": "d"}, {"review_share": 0.25},
                                  writer=down)
    assert where.startswith("spooled to ") and len(list(spool.spool_dir().glob("*.json"))) == 1
    written = []
    where = publish_batch_summary("data_qa", "d r2 (batch)", {"dag_id": "d"}, {"review_share": 0.5},
                                  writer=lambda r: written.append(r) or f"run-{len(written)}")
    assert where == "MLflow run run-1"
    assert [r["metrics"]["review_share"] for r in written] == [0.5, 0.25]
    assert written[0]["tags"]["kind"] == "batch" and written[0]["experiment"] == "crews/data_qa"
