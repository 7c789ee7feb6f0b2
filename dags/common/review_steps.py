"""The human review steps every crew DAG shares (standard provider's HITLOperator).

Outputs routed to review (``needs_review``, see ``include/review.yaml``) wait for a
person in the Airflow UI (*Required actions*); decisions are stored with the result.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

log = logging.getLogger(__name__)

REVIEW_TIMEOUT = timedelta(days=3)
REVIEW_NOUNS = {"fact_check": "copy", "data_qa": "report", "contract_qa": "answer"}


def review_operator(crew: str, task_id: str) -> Any:
    """The mapped human review step every crew DAG shares: accept or reject, with an optional correction.

    Each review task is named by its item id in the grid (the subject ends with it).
    """
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk import Param

    from crews.review import MAX_CORRECTION_CHARS

    noun = REVIEW_NOUNS[crew]
    correction = Param(None, type=["null", "string"], maxLength=MAX_CORRECTION_CHARS, format="multiline",
                       title=f"Corrected {noun} (optional)",
                       description=f"Leave empty to decide on the {noun} as shown. At most "
                                   f"{MAX_CORRECTION_CHARS:,} characters, no control characters.")
    return HITLOperator.partial(
        task_id=task_id,
        options=[f"Accept {noun}", f"Reject {noun}"],
        defaults=[f"Reject {noun}"],
        params={"correction": correction},
        response_timeout=REVIEW_TIMEOUT,
        # One retry asks again: Airflow 3.3 can fail a review answered within seconds of being parked (the
        # parking process's late executor event finds the resumed task queued), and the answer is then lost.
        retries=1,
        retry_delay=timedelta(seconds=5),
        map_index_template="{{ task.subject.rsplit(' ', 1)[-1] }}",
    )


def review_request(crew: str, summary: dict[str, Any], result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Subject and Markdown body of the human review of one output (see :mod:`crews.review_pages`)."""
    from crews.review_pages import review_body
    from crews.tracking.run_links import run_page_by_id

    body = review_body(crew, summary, result, run_page_by_id(summary.get("mlflow_run_id")))
    noun = REVIEW_NOUNS[crew]
    return {"item_id": summary["item_id"], "subject": f"Review {noun} {summary['item_id']}", "body": body}


def human_review(crew: str, task_id: str, summaries: Any) -> Any:
    """The review steps every crew DAG shares; returns the last one (``record_reviews``).

    ``review_requests`` picks the outputs routed to review, ``task_id`` (a mapped
    ``HITLOperator``) waits for a person per output, ``record_reviews`` stores the decisions.
    """
    from airflow.sdk import task

    @task
    def review_requests(summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """One human review request per output below the thresholds in include/review.yaml."""
        return requests_for_review(crew, summaries)

    @task(trigger_rule="all_done")
    def record_reviews(requests: list[dict[str, Any]]) -> int:
        """Store each reviewer's decision with the output in the results table."""
        return record_review_decisions(crew, requests, task_id)

    requests = review_requests(summaries)
    reviewed = review_operator(crew, task_id).expand_kwargs(
        requests.map(lambda r: {"subject": r["subject"], "body": r["body"]})
    )
    return reviewed >> record_reviews(requests)


def requests_for_review(crew: str, summaries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One review request per output routed to review, its page built from the stored result."""
    import json

    from airflow.sdk import get_current_context

    from crews.results import fetch_results

    ctx = get_current_context()
    stored = {row.item_id: json.loads(row.result_json) for row in fetch_results(crew, dag_run_id=ctx["run_id"])
              if row.dag_id == ctx["dag"].dag_id}
    requests = [review_request(crew, s, stored.get(s["item_id"])) for s in summaries or [] if s.get("needs_review")]
    log.info("%d of %d outputs routed to human review", len(requests), len(summaries or []))
    return requests


def record_review_decisions(crew: str, requests: list[dict[str, Any]] | None, task_id: str) -> int:
    """Store each human decision (the mapped review tasks' XCom) with its answer; returns how many."""
    from airflow.sdk import get_current_context

    from crews.results import record_review
    from crews.review import correction_problem

    ctx = get_current_context()
    recorded = 0
    for index, request in enumerate(requests or []):
        response = ctx["ti"].xcom_pull(task_ids=task_id, map_indexes=index)
        if not response:
            log.warning("no review recorded for %s (task skipped or failed)", request["item_id"])
            continue
        correction = (response.get("params_input") or {}).get("correction") or None
        decision = {
            "chosen": list(response.get("chosen_options") or []),
            "correction": correction,
            "responded_by": (response.get("responded_by_user") or response.get("responded_by") or {}).get("name"),
        }
        if problem := correction_problem(correction):  # the API plugin refuses these; a guard for other paths
            log.warning("review of %s: correction not stored: %s", request["item_id"], problem)
            decision |= {"correction": None, "correction_refused": problem}
        record_review(crew, ctx["dag"].dag_id, ctx["run_id"], request["item_id"], decision)
        log.info("review of %s: %s", request["item_id"], decision)
        recorded += 1
    return recorded
