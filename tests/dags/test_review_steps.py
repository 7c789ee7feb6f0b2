"""The human-review glue: what a reviewer sees and how the decision is stored."""

from types import SimpleNamespace

import pytest
from common import review_steps

from crews.results import fetch_results, upsert_results

SUMMARY = {"item_id": "northwind_msa.fee", "question": "What is the fee?", "answer": "EUR 99,000",
           "citations": [], "confidence": 0.4, "grounded": False, "needs_review": True, "status": "needs review",
           "review_reasons": ["numbers not in the cited text: 99000"], "mlflow_run_id": "abc"}


def test_review_request_shows_the_answer_and_why():
    request = review_steps.review_request("contract_qa", SUMMARY)
    assert request["subject"] == "Review answer northwind_msa.fee" and request["item_id"] == "northwind_msa.fee"
    for text in ("What is the fee?", "EUR 99,000", "**Citations**: none", "numbers not in the cited text: 99000",
                 "abc"):
        assert text in request["body"]


@pytest.mark.parametrize(("chosen", "status"), [(["Accept answer"], "accepted"), (["Reject answer"], "rejected")])
def test_decisions_are_stored_with_the_answer(monkeypatch, chosen, status):
    upsert_results([{"crew": "contract_qa", "item_id": "northwind_msa.fee", "summary": SUMMARY, "result": {}}],
                   "contract_qa", "run_1")
    responses = {0: {"chosen_options": chosen, "params_input": {"correction": "EUR 25,000"},
                     "responded_by": {"id": "1", "name": "admin"}}, 1: None}
    ti = SimpleNamespace(xcom_pull=lambda task_ids, map_indexes: responses[map_indexes])
    context = {"ti": ti, "dag": SimpleNamespace(dag_id="contract_qa"), "run_id": "run_1"}
    monkeypatch.setattr("airflow.sdk.get_current_context", lambda: context)
    requests = [{"item_id": "northwind_msa.fee"}, {"item_id": "northwind_msa.other"}]
    assert review_steps.record_review_decisions("contract_qa", requests, "review_answer") == 1  # the second review never answered
    (row,) = fetch_results("contract_qa")
    assert row.status == status and '"correction": "EUR 25,000"' in row.summary_json


def test_only_outputs_routed_to_review_get_a_request():
    summaries = [{"item_id": "a", "needs_review": False}, {"item_id": "b", "needs_review": True, "status": "failed",
                                                           "review_reasons": ["the reviewer wrote no summary"],
                                                           "rows": 12}]
    (request,) = review_steps.requests_for_review("data_qa", summaries)
    assert request["subject"] == "Review report b"
    assert "**Rows**: 12" in request["body"] and "- the reviewer wrote no summary" in request["body"]
    assert "**Status**" not in request["body"]
