"""The human-review glue: what a reviewer sees and how the decision is stored."""

import json
from types import SimpleNamespace

import pytest
from crew_airflow import review as review_steps

from crews import service
from crews.results import fetch_results, upsert_results
from tests.support.markdown import html

SUMMARY = {"item_id": "northwind_msa.fee", "question": "What is the fee?", "answer": "EUR 99,000",
           "citations": [], "confidence": 0.4, "grounded": False, "needs_review": True,
           "status": "needs review", "review_reasons": ["numbers not in the cited text: 99000"],
           "mlflow_run_id": "abc"}


RESULT = {"question_id": "fee", "contract_id": "northwind_msa", "question": "What is the fee?",
          "answer": "EUR 99,000", "found": True, "confidence": 0.4, "grounded": False,
          "citations": [{"clause_id": "4.2", "quote": "The fee is EUR 25,000."}],
          "evidence": [{"clause_id": "4.2", "text": "4.2 Fees. The fee is EUR 25,000 per year.",
                        "score": 1.0}]}


def context_of(run_id: str, responses: dict | None = None) -> dict:
    ti = SimpleNamespace(xcom_pull=lambda task_ids, map_indexes: (responses or {})[map_indexes])
    return {"ti": ti, "dag": SimpleNamespace(dag_id="contract_qa"), "run_id": run_id}


def test_review_pages_are_built_from_the_stored_result(monkeypatch):
    upsert_results([{"crew": "contract_qa", "item_id": "northwind_msa.fee", "summary": SUMMARY,
                     "result": RESULT}], "contract_qa", "run_7")
    upsert_results([{"crew": "contract_qa", "item_id": "northwind_msa.fee", "summary": SUMMARY,
                     "result": RESULT | {"answer": "another DAG's answer"}}], "other_dag", "run_7")
    monkeypatch.setattr("airflow.sdk.get_current_context", lambda: context_of("run_7"))
    monkeypatch.setenv("CREWS_MLFLOW_UI_URL", "http://127.0.0.1:5000")
    (request,) = review_steps.requests_for_review("contract_qa", [SUMMARY])
    assert (request["subject"] == "Review answer northwind_msa.fee"
            and request["item_id"] == "northwind_msa.fee")
    body = html(request["body"])
    for text in ("What is the fee?", "EUR 99,000", "Clause 4.2", "The fee is EUR 25,000 per year",
                 "numbers not in the cited text: 99000", "href=\"http://127.0.0.1:5000/#/runs/abc\""):
        assert text in body, text
    assert "another DAG" not in body


def test_review_tasks_are_named_by_item_id():
    import jinja2

    operator = review_steps.review_operator("fact_check", "review_copy").expand_kwargs([{"subject": "s",
                                                                                         "body": "b"}])
    template = operator.partial_kwargs["map_index_template"]
    (request,) = service.review_requests("fact_check", "fact_check_copy", "run_9",
                                         [{"item_id": "spa.v2-final", "needs_review": True}])
    task = SimpleNamespace(subject=request["subject"])
    assert jinja2.Template(template).render(task=task) == "spa.v2-final"


@pytest.mark.parametrize(("chosen", "status"), [(["Accept answer"], "accepted"),
                                                (["Reject answer"], "rejected")])
def test_decisions_are_stored_with_the_answer(monkeypatch, chosen, status):
    upsert_results([{"crew": "contract_qa", "item_id": "northwind_msa.fee", "summary": SUMMARY,
                     "result": {}}], "contract_qa", "run_1")
    responses = {0: {"chosen_options": chosen, "params_input": {"correction": "EUR 25,000"},
                     "responded_by_user": {"id": "1", "name": "admin"}}, 1: None}
    monkeypatch.setattr("airflow.sdk.get_current_context", lambda: context_of("run_1", responses))
    requests = [{"item_id": "northwind_msa.fee"}, {"item_id": "northwind_msa.other"}]
    # the second review never answered
    assert review_steps.record_review_decisions("contract_qa", requests, "review_answer") == 1
    (row,) = fetch_results("contract_qa")
    review = json.loads(row.summary_json)["review"]
    assert row.status == status and review == {"chosen": chosen, "correction": "EUR 25,000",
                                               "responded_by": "admin"}


def test_a_correction_that_cannot_be_stored_is_dropped_with_the_reason(monkeypatch):
    upsert_results([{"crew": "contract_qa", "item_id": "northwind_msa.fee", "summary": SUMMARY,
                     "result": {}}], "contract_qa", "run_2")
    responses = {0: {"chosen_options": ["Reject answer"], "params_input": {"correction": "EUR\u202e 52"}}}
    monkeypatch.setattr("airflow.sdk.get_current_context", lambda: context_of("run_2", responses))
    assert review_steps.record_review_decisions("contract_qa", [{"item_id": "northwind_msa.fee"}],
                                                "review_answer") == 1
    review = json.loads(fetch_results("contract_qa", "run_2")[0].summary_json)["review"]
    assert review["chosen"] == ["Reject answer"] and review["correction"] is None
    assert "U+202E" in review["correction_refused"]


def test_only_outputs_routed_to_review_get_a_request(monkeypatch):
    summaries = [{"item_id": "a", "needs_review": False},
                 {"item_id": "b", "needs_review": True, "status": "failed",
                  "review_reasons": ["the reviewer wrote no summary"], "rows": 12}]
    monkeypatch.setattr("airflow.sdk.get_current_context", lambda: context_of("run_3"))
    (request,) = review_steps.requests_for_review("data_qa", summaries)
    assert request["subject"] == "Review report b"
    # no stored result: the summary is shown and "- the reviewer wrote no summary" in
    # request["body"]
    assert "**Rows**: 12" in request["body"]
    assert "**Status**" not in request["body"]


@pytest.mark.parametrize(("status", "correction", "published"), [
    ("accepted", "Reviewed copy.", "Reviewed copy."), ("accepted", None, "Crew copy."),
    ("rejected", "Reviewed copy.", "Crew copy."), ("approved", None, "Crew copy."),
])
def test_an_accepted_correction_is_what_gets_published(status, correction, published):
    review = {"chosen": ["Accept copy"], "correction": correction} if status != "approved" else {}
    text = service.get_crew("fact_check").text_to_publish({"revised_copy": "Crew copy."}, review, status)
    assert text == published
