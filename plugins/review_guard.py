"""Airflow plugin: a review's correction is checked before Airflow stores the decision.

Airflow's API checks the chosen option of a human review (HITL) but stores the form's
fields as sent, and the review task only validates them when it resumes: a correction
that is too long, or carries control characters, would be stored and then fail the
task, losing the decision. This middleware answers such a response with HTTP 400 and
the reason, which the Airflow UI shows on the review page; nothing is stored, and the
reviewer can correct the text and decide again. The rule is ``crews.review.correction_problem``.

It also holds back a response that comes within ``SETTLE_S`` seconds of the review being opened,
until then: Airflow 3.3 fails a review answered while the executor has not yet reported the
process that parked it (the late report finds the resumed task queued), and the answer is lost.
A person never waits; a script answering at once waits a few seconds.
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from airflow.plugins_manager import AirflowPlugin

HITL_RESPONSE = re.compile(r"^/api/v2/dags/(?P<dag_id>[^/]+)/dagRuns/(?P<run_id>[^/]+)/taskInstances/"
                           r"(?P<task_id>[^/]+)/(?P<map_index>-?\d+)/hitlDetails/?$")
SETTLE_S = 15.0
MAX_BODY_BYTES = 1_000_000


class ReviewCorrectionGuard:
    """ASGI middleware: refuses a HITL response whose ``correction`` field cannot be stored, and holds back
    one that comes within ``SETTLE_S`` seconds of the review opening."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        review = (HITL_RESPONSE.match(scope["path"])
                  if scope["type"] == "http" and scope["method"] == "PATCH" else None)
        if review is None:
            await self.app(scope, receive, send)
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > MAX_BODY_BYTES:
                await _refuse(send, 413, f"a review response may be at most {MAX_BODY_BYTES:,} bytes")
                return
        problem = _problem(body)
        if problem:
            await _refuse(send, 400, problem)
            return
        wait = SETTLE_S - await asyncio.to_thread(_open_for_s, review.groupdict())
        if wait > 0:
            await asyncio.sleep(wait)
        replayed = False

        async def replay():
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


def _open_for_s(ids: dict[str, str]) -> float:
    """How long the review has been open (large when Airflow's database cannot tell)."""
    from airflow.models.hitl import HITLDetail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    try:
        with create_session() as session:
            created = session.scalar(select(HITLDetail.created_at)
                                     .join(TaskInstance, TaskInstance.id == HITLDetail.ti_id)
                                     .where(TaskInstance.dag_id == ids["dag_id"],
                                            TaskInstance.run_id == ids["run_id"],
                                            TaskInstance.task_id == ids["task_id"],
                                            TaskInstance.map_index == int(ids["map_index"])))
    except Exception:  # no database here (tests) or a transient error: never hold a response back for it
        return float("inf")
    return float("inf") if created is None else time.time() - created.timestamp()


def _problem(body: bytes) -> str | None:
    from crews.review import correction_problem

    try:
        payload = json.loads(body or b"{}")
    except ValueError:
        return None  # Airflow's own validation answers malformed JSON
    params = payload.get("params_input") if isinstance(payload, dict) else None
    if not isinstance(params, dict) or "correction" not in params:
        return None
    return correction_problem(params["correction"])


async def _refuse(send, status: int, detail: str) -> None:
    content = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(content)).encode())]})
    await send({"type": "http.response.body", "body": content})


class CrewsReviewGuardPlugin(AirflowPlugin):
    name = "crews_review_guard"
    fastapi_root_middlewares = [{"middleware": ReviewCorrectionGuard, "args": [], "kwargs": {},
                                 "name": "Refuse review corrections that cannot be stored"}]
