"""What a reviewer sees on a review page: the output, its evidence and why it needs a person, as Markdown.

The Airflow UI renders the body of a human review (HITL) as Markdown (:mod:`crews.markdown`: every
value escaped); each crew's contract gives the sections that show its output
(:meth:`~crews.contract.CrewContract.review_sections`).
"""

from __future__ import annotations

from typing import Any

from crews.markdown import escape
from crews.registry import get_crew

MAX_BODY_CHARS = 40_000
_SUMMARY_HIDDEN = {"item_id", "status", "passed", "needs_review", "review_reasons", "mlflow_run_id",
                   "mlflow_experiment", "review"}


def _reasons(summary: dict[str, Any], result: dict[str, Any]) -> str:
    reasons = summary.get("review_reasons") or result.get("review_reasons") or []
    return "\n".join(f"- {escape(r, 600)}" for r in reasons) or "- (none given)"


def _other(summary: dict[str, Any]) -> list[str]:
    return [f"**{escape(k.replace('_', ' ').capitalize())}**: {escape(v)}"
            for k, v in summary.items() if k not in _SUMMARY_HIDDEN]


def review_body(crew: str, summary: dict[str, Any], result: dict[str, Any] | None,
                mlflow_url: str | None) -> str:
    """The Markdown body of one review page: why it is here, what to decide, the output and its evidence."""
    run_id = summary.get("mlflow_run_id")
    if run_id and mlflow_url:
        link = f"[Open the MLflow run {escape(run_id)}]({mlflow_url}) for the agent trace and every artifact."
    else:
        link = (f"MLflow run {escape(run_id or 'not written (spooled)')} holds the agent trace and every "
                "artifact.")
    contract = get_crew(crew)
    sections = [
        f"**Why it needs review**\n{_reasons(summary, result or {})}",
        "**Your decision**: " + contract.decision_help,
        *((contract.review_sections(result) if result else None) or _other(summary)),
        link,
    ]
    body = "\n\n".join(sections)
    if len(body) > MAX_BODY_CHARS:
        body = (body[:MAX_BODY_CHARS]
                + "\n\n*… the page is cut here; the MLflow run holds the whole output.*\n\n" + link)
    return body
