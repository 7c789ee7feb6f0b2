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


def review_operator(crew: str, task_id: str) -> Any:
    """The mapped human review step every crew DAG shares: accept or reject, with an optional correction.

    Each review task is named by its item id in the grid (the subject ends with it).
    """
    from airflow.providers.standard.operators.hitl import HITLOperator
    from airflow.sdk import Param

    from crews.service import MAX_CORRECTION_CHARS, get_crew

    noun = get_crew(crew).noun
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
    from airflow.sdk import get_current_context

    from crews import service

    ctx = get_current_context()
    return service.review_requests(crew, ctx["dag"].dag_id, ctx["run_id"], summaries)


def record_review_decisions(crew: str, requests: list[dict[str, Any]] | None, task_id: str) -> int:
    """Store each human decision (the mapped review tasks' XCom) with its output; returns how many."""
    from airflow.sdk import get_current_context

    from crews import service

    ctx = get_current_context()
    responses = [ctx["ti"].xcom_pull(task_ids=task_id, map_indexes=index)
                 for index in range(len(requests or []))]
    return service.record_reviews(crew, ctx["dag"].dag_id, ctx["run_id"], requests, responses)
