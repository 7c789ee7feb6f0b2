"""Traces against a real MLflow server: token usage and cost where MLflow's own UI and search read them."""

import mlflow
import pytest
from mlflow import MlflowClient

from crews.fact_check.pipeline import run as check_draft
from crews.runtime.pricing import PricingTable, genai_price
from crews.tracking.context import RunContext
from crews.tracking.mlflow_writer import write_run
from crews.tracking.trace_export import span_attributes, totals
from crews.tracking.tracker import CrewRunTracker


def _priced_like_gpt_4o_mini() -> PricingTable:
    """The scripted model priced at gpt-4o-mini's list price, so cost is not zero."""
    price = genai_price("openai", "gpt-4o-mini")
    assert price is not None and price.known
    return PricingTable({"scripted": price}, free_providers=set())


def _tracked_item(url, draft, llm, item_id, run_id="manual__1"):
    context = RunContext(crew="fact_check", item_id=item_id, source="airflow", dag_id="fact_check_copy",
                         run_id=run_id, task_id="check_draft", map_index=0, try_number=1)
    with CrewRunTracker(context, {"provider": "openai", "model": "scripted"}, "h1",
                        writer=lambda r: write_run(r, url, new=True),
                        pricing=_priced_like_gpt_4o_mini()) as tracker:
        tracker.set_output(check_draft(draft, llm).model_dump(mode="json"))
    assert tracker.mlflow_run_id, f"not written: spooled to {tracker.spooled_to}"
    return tracker


def test_trace_search_reports_the_items_tokens_and_cost(mlflow_http, draft, scripted_llm):
    first = _tracked_item(mlflow_http, draft, scripted_llm, "tokens_a")
    second = _tracked_item(mlflow_http, draft, scripted_llm, "tokens_b")
    client = MlflowClient(mlflow_http)
    run = client.get_run(first.mlflow_run_id)
    experiment_id = run.info.experiment_id
    mlflow.set_tracking_uri(mlflow_http)
    try:
        traces = mlflow.search_traces(locations=[experiment_id], return_type="list",
                                      filter_string="metadata.`mlflow.trace.session` = "
                                                    "'fact_check_copy/manual__1'")
    finally:
        mlflow.set_tracking_uri(None)
    by_run = {t.info.trace_metadata["mlflow.sourceRun"]: t for t in traces}
    assert set(by_run) >= {first.mlflow_run_id, second.mlflow_run_id}
    trace = by_run[first.mlflow_run_id]
    assert run.data.tags["trace_id"] == trace.info.trace_id
    # tokens: the sum over the LLM calls, equal to the run's metrics
    calls = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(calls) == run.data.metrics["llm_calls"] == 3
    assert trace.info.token_usage["total_tokens"] == sum(
        s.get_attribute("mlflow.chat.tokenUsage")["total_tokens"] for s in calls)
    assert trace.info.token_usage["total_tokens"] == run.data.metrics["total_tokens"] > 0
    assert trace.info.token_usage["output_tokens"] == run.data.metrics["completion_tokens"]
    # cost: per call and for the trace, at the list price
    assert (trace.info.cost["total_cost"] == pytest.approx(run.data.metrics["cost_usd"])
            and trace.info.cost["total_cost"] > 0)
    assert (sum(s.get_attribute("mlflow.llm.cost")["total_cost"] for s in calls)
            == pytest.approx(trace.info.cost["total_cost"]))
    # the session is the DAG run; the TOOL spans carry the checks' verdicts
    assert trace.info.trace_metadata["mlflow.trace.session"] == "fact_check_copy/manual__1"
    verify = next(s for s in trace.data.spans if s.name == "verify_claims")
    assert (verify.span_type == "TOOL"
            and sum(verify.get_attribute("verdicts").values()) == len(verify.outputs))


def test_a_replayed_llm_call_counts_no_tokens_and_no_cost():
    spans = [
        {"kind": "llm", "attributes": {"model": "m", "token_usage": {"input_tokens": 10, "output_tokens": 5,
                                                                    "total_tokens": 15},
                                       "cost": {"input_cost": 0.1, "output_cost": 0.2, "total_cost": 0.3}}},
        {"kind": "llm", "attributes": {"model": "m", "token_usage": {"input_tokens": 0, "output_tokens": 0,
                                                                    "total_tokens": 0},
                                       "cost": {"input_cost": 0.0, "output_cost": 0.0, "total_cost": 0.0}}},
        {"kind": "tool", "attributes": {"verdicts": {"supported": 1}}},
    ]
    usage, cost = totals(spans)
    assert usage == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
    assert cost == pytest.approx({"input_cost": 0.1, "output_cost": 0.2, "total_cost": 0.3})
    assert "mlflow.llm.cost" in span_attributes(spans[0]) and "cost" not in span_attributes(spans[0])
    # an unknown price: no cost on the call, so the trace claims none
    del spans[1]["attributes"]["cost"]
    assert totals(spans)[1] is None


def test_contract_search_is_a_retriever_span_with_documents(mlflow_http):
    from crews.contract_qa.pipeline import run as answer_question
    from crews.registry import get_crew

    load_input = get_crew("contract_qa").load_input
    from crews.runtime.llm_factory import build_llm
    from crews.runtime.settings import LLMSettings
    from tests.crews.contract_qa.test_pipeline import QUESTIONS

    llm = build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_contract_qa:respond"))
    question = next(iter(QUESTIONS.values()))
    item = load_input({k: question[k] for k in ("question_id", "contract_id", "question")})
    with CrewRunTracker(RunContext(crew="contract_qa", item_id="retrieval"), {"provider": "local"}, "h1",
                        writer=lambda r: write_run(r, mlflow_http, new=True)) as tracker:
        tracker.set_output(answer_question(item, llm).model_dump(mode="json"))
    run = MlflowClient(mlflow_http).get_run(tracker.mlflow_run_id)
    mlflow.set_tracking_uri(mlflow_http)
    try:
        trace = mlflow.get_trace(run.data.tags["trace_id"])
    finally:
        mlflow.set_tracking_uri(None)
    (search,) = [s for s in trace.data.spans if s.span_type == "RETRIEVER"]
    assert search.inputs["search_terms"] is not None and search.outputs
    clause_ids = {c.clause_id for c in item.contract.clauses}
    assert all(d["id"] in clause_ids and d["page_content"] for d in search.outputs)
    assert {"verify_citations", "answer_problems"} <= {s.name for s in trace.data.spans
                                                       if s.span_type == "TOOL"}
