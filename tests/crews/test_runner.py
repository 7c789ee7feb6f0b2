"""Faults injected around one crew item: the LLM server and MLflow misbehave, a worker is killed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from crews.results import fetch_results, upsert_results
from crews.runner import run_item
from crews.runtime.settings import LLMSettings
from crews.runtime.tracked_llm import StructuredOutputError
from crews.tracking import spool
from tests.support.fake_openai import FAKE_MODEL_PRICING, FakeOpenAI
from tests.support.scripted_crews import respond

ROOT = Path(__file__).resolve().parents[2]
DRAFT = {"draft_id": "aurora", "fact_sheet_file": "fact_sheets/aurora_x2.yaml",
         "copy_text": "Enjoy up to 40 hours of battery life. Backed by a 2-year warranty. It weighs 250 g."}
TI = {"source": "airflow", "dag_id": "fact_check_copy", "run_id": "manual__1", "task_id": "check_draft",
      "map_index": 0}
OK = ("pass",)  # a fault-list entry that lets the request through


@pytest.fixture(autouse=True)
def _mlflow_down(monkeypatch):
    """Tracking goes to a closed port: records are spooled, so the tests can read them. The fake
    model is priced (at 0), so the shipped USD budgets let it run."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    monkeypatch.setenv("CREWS_PRICING_FILE", str(FAKE_MODEL_PRICING))


def _settings(server: FakeOpenAI | None, **overrides) -> LLMSettings:
    fields = {"provider": "openai_compatible", "model": "fake", "structured_output": "json_object_schema",
              "base_url": server.base_url if server else "http://127.0.0.1:9/v1", "timeout_s": 5,
              "max_retries": 2}
    return LLMSettings(**(fields | overrides))


def _spooled() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(spool.spool_dir().glob("*.json"), key=os.path.getmtime)]


def test_llm_server_down_fails_fast_with_a_clear_error_and_is_tracked():
    began = time.monotonic()
    with pytest.raises(openai.APIConnectionError):
        run_item("fact_check", DRAFT, _settings(None, max_retries=1), context={**TI, "try_number": 1})
    assert time.monotonic() - began < 15
    (record,) = _spooled()
    assert record["status"] == "FAILED" and "APIConnectionError" in record["tags"]["error"]


@pytest.mark.parametrize("status", [500, 429])
def test_http_errors_are_retried_by_the_client_and_paid_once(status):
    with FakeOpenAI(respond, faults=[("status", status), ("status", status)]) as server:
        result = run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 1})
    assert result["summary"]["claims"] == 3
    assert len(server.requests) == result["usage"]["llm_calls"] + 2
    assert result["usage"]["llm_calls"] == server.answered


def test_slow_response_times_out_within_the_client_timeout():
    with FakeOpenAI(respond, faults=[("sleep", 10)]) as server:
        began = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            run_item("fact_check", DRAFT, _settings(server, timeout_s=1, max_retries=0),
                     context={**TI, "try_number": 1})
        assert time.monotonic() - began < 8  # far below the task's 20-minute execution_timeout


def test_schema_violating_output_is_re_asked_once_then_refused_clearly():
    garbage = ("text", "I think the copy is fine!")
    with FakeOpenAI(respond, faults=[garbage, garbage]) as server:
        with pytest.raises(StructuredOutputError,
                           match="fake gave no valid ExtractedClaims after 2 attempts"):
            run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 1})
    assert len(server.requests) == 2
    assert "did not match the required JSON schema" in server.requests[1]["body"]["messages"][-1]["content"]


def test_repairable_output_costs_no_extra_call():
    with FakeOpenAI(respond,
                    faults=[("text", '{"claims": ["Enjoy up to 40 hours of battery life.",]')]) as server:
        result = run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 1})
    assert result["usage"]["llm_calls"] == len(server.requests)


def test_a_retry_after_a_late_failure_re_spends_zero_tokens():
    with FakeOpenAI(respond, faults=[OK, OK, ("status", 500)]) as server:
        with pytest.raises(openai.InternalServerError):
            run_item("fact_check", DRAFT, _settings(server, max_retries=0), context={**TI, "try_number": 1})
        paid_first = server.answered
        retry = run_item("fact_check", DRAFT, _settings(server, max_retries=0),
                         context={**TI, "try_number": 2})
    assert paid_first == 2
    assert retry["usage"]["cache_hits"] == 2  # both answers of try 1 replayed
    assert server.answered == paid_first + retry["usage"]["llm_calls"] == 3
    replayed = [r for r in _spooled() if r["tags"]["try_number"] == "2"][0]
    assert replayed["metrics"]["cache_hits"] == 2 and replayed["metrics"]["cached_tokens"] > 0


def test_a_new_dag_run_does_not_reuse_answers():
    with FakeOpenAI(respond) as server:
        first = run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 1})
        other = run_item("fact_check", DRAFT, _settings(server),
                         context={**TI, "run_id": "manual__2", "try_number": 1})
    assert other["usage"]["cache_hits"] == 0 and server.answered == 2 * first["usage"]["llm_calls"]


def test_budget_spent_by_the_fan_out_skips_the_next_item(tmp_path, monkeypatch):
    from crews.runtime.budget import BudgetExceeded

    limits = tmp_path / "limits.yaml"
    limits.write_text("budgets:\n  default:\n    per_run: {tokens: 400}\n")
    monkeypatch.setenv("CREWS_LIMITS_FILE", str(limits))
    with FakeOpenAI(respond) as server:
        with pytest.raises(BudgetExceeded) as stopped:
            for index in range(5):
                run_item("fact_check", {**DRAFT, "draft_id": f"d{index}"}, _settings(server),
                         context={**TI, "map_index": index, "try_number": 1})
    assert "budget of DAG run fact_check_copy/manual__1 spent" in str(stopped.value)
    assert index < 4  # stopped early, not after the whole fan-out
    tracked = _spooled()
    assert tracked[-1]["metrics"]["budget.run_limit_tokens"] == 400


def test_usd_budget_refuses_a_model_without_a_price_before_any_call(monkeypatch):
    from crews.errors import InputError
    from crews.runtime.budget import PriceUnknown

    monkeypatch.delenv("CREWS_PRICING_FILE")  # the shipped overrides: none; "fake" has no list price
    with FakeOpenAI(respond) as server:
        with pytest.raises(PriceUnknown, match="no price is known for model 'fake'") as refused:
            run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 1})
    assert isinstance(refused.value, InputError)  # the Airflow task fails at once, without retries
    assert server.requests == [] and _spooled() == []  # no LLM call, no tracked run


_CHILD = """
import sys; sys.path[:0] = [{root!r}]
import crews
from crews.runner import run_item
from crews.runtime.settings import LLMSettings
run_item("fact_check", {draft!r}, LLMSettings(**{settings!r}), context={context!r})
"""


def test_worker_killed_mid_task_retry_replays_the_cache_and_results_stay_unique(_isolated_state):
    """SIGKILL while the third LLM call is in flight; try 2 pays only for that call."""
    with FakeOpenAI(respond, faults=[OK, OK, ("sleep", 60)]) as server:
        settings = _settings(server).model_dump(mode="json")
        code = _CHILD.format(root=str(ROOT), draft=DRAFT, settings=settings, context={**TI, "try_number": 1})
        env = {**os.environ, "CREWS_STATE_DIR": str(_isolated_state)}
        child = subprocess.Popen([sys.executable, "-c", code], env=env)
        deadline = time.monotonic() + 120
        while len(server.requests) < 3 and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(server.requests) == 3, "the child never reached its third LLM call"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        retry = run_item("fact_check", DRAFT, _settings(server), context={**TI, "try_number": 2})
    assert retry["usage"]["cache_hits"] == 2 and retry["usage"]["llm_calls"] == 1
    assert server.answered == 3  # two paid by the killed try, one by the retry
    for _ in range(2):  # the collecting task may run twice (its own retry): upserts, no duplicates
        upsert_results([retry], dag_id=TI["dag_id"], dag_run_id=TI["run_id"])
    assert [r.item_id for r in fetch_results("fact_check", dag_run_id=TI["run_id"])] == ["aurora"]
