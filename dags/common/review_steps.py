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
_REVIEW_HIDDEN = {"item_id", "status", "passed", "needs_review", "review_reasons", "mlflow_run_id", "mlflow_experiment"}


def review_operator(crew: str, task_id: str) -> Any:
    """The mapped human review step every crew DAG shares: accept or reject, with an optional correction."""
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk import Param

    noun = REVIEW_NOUNS[crew]
    return HITLOperator.partial(
        task_id=task_id,
        options=[f"Accept {noun}", f"Reject {noun}"],
        defaults=[f"Reject {noun}"],
        params={"correction": Param(None, type=["null", "string"], title=f"Corrected {noun} (optional)")},
        response_timeout=REVIEW_TIMEOUT,
        retries=0,
    )


def review_request(crew: str, summary: dict[str, Any]) -> dict[str, Any]:
    """Subject and Markdown body of the human review of one output: what it says and why it needs a person."""
    noun = REVIEW_NOUNS[crew]
    reasons = "\n".join(f"- {r}" for r in summary.get("review_reasons") or []) or "- (none given)"
    shown = []
    for key, value in summary.items():
        if key in _REVIEW_HIDDEN:
            continue
        if isinstance(value, list):
            value = ", ".join(map(str, value)) or "none"
        shown.append(f"**{key.replace('_', ' ').capitalize()}**: {value}")
    body = (
        f"**{crew} item** `{summary['item_id']}`\n\n" + "\n\n".join(shown)
        + f"\n\n**Why it needs review**:\n{reasons}\n\n"
        f"MLflow run `{summary.get('mlflow_run_id')}` (experiment `{summary.get('mlflow_experiment')}`) holds "
        f"the full output, its evidence and the agent trace. Accept the {noun}, or reject it and optionally "
        "give the correction."
    )
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
    """One review request per output routed to review."""
    requests = [review_request(crew, s) for s in summaries or [] if s.get("needs_review")]
    log.info("%d of %d outputs routed to human review", len(requests), len(summaries or []))
    return requests


def record_review_decisions(crew: str, requests: list[dict[str, Any]] | None, task_id: str) -> int:
    """Store each human decision (the mapped review tasks' XCom) with its answer; returns how many."""
    from airflow.sdk import get_current_context

    from crews.results import record_review

    ctx = get_current_context()
    recorded = 0
    for index, request in enumerate(requests or []):
        response = ctx["ti"].xcom_pull(task_ids=task_id, map_indexes=index)
        if not response:
            log.warning("no review recorded for %s (task skipped or failed)", request["item_id"])
            continue
        decision = {
            "chosen": list(response.get("chosen_options") or []),
            "correction": (response.get("params_input") or {}).get("correction") or None,
            "responded_by": (response.get("responded_by") or {}).get("name"),
        }
        record_review(crew, ctx["dag"].dag_id, ctx["run_id"], request["item_id"], decision)
        log.info("review of %s: %s", request["item_id"], decision)
        recorded += 1
    return recorded
