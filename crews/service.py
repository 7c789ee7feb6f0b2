"""The one door between Airflow and the crews: every Airflow task reaches the crews through these functions.

Plain values in, plain values out, and no Airflow import (crews never import Airflow): the tasks in
``dags/crew_airflow`` pass what Airflow knows (the DAG run's ids, a connection's fields, the reviews' XCom)
and turn :class:`InputError` and :class:`BudgetExceeded` into Airflow's fail and skip.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from crews.contract import ID_PATTERN
from crews.errors import BudgetExceeded, InputError
from crews.registry import crew_names, get_crew
from crews.review import MAX_CORRECTION_CHARS

log = logging.getLogger(__name__)

__all__ = [
    "ID_PATTERN", "MAX_CORRECTION_CHARS", "BudgetExceeded", "InputError", "collect", "crew_names",
    "evaluate_record", "get_crew", "golden_records", "judge_settings", "keep_alert", "llm_settings",
    "log_evaluation", "measure_drift", "missing_items", "publish", "quarantine", "record_reviews",
    "review_requests", "run", "sample_items", "screen",
]


def llm_settings(connection: dict[str, Any] | None) -> Any:
    """The crews' LLM settings from an Airflow connection's fields, or ``CREWS_LLM_*`` when there is none."""
    from crews.runtime.settings import LLMSettings

    if connection is None:
        log.info("no LLM connection; using CREWS_LLM_* environment variables")
        return LLMSettings.from_env()
    return LLMSettings.from_connection(connection)


def judge_settings(connection: dict[str, Any] | None) -> Any:
    """The evaluation judge: the connection's settings, else ``CREWS_JUDGE_*``, else None (no judge)."""
    from crews.evaluation.judge import judge_settings_from_env
    from crews.runtime.settings import LLMSettings

    return LLMSettings.from_connection(connection) if connection else judge_settings_from_env()


def sample_items(crew: str) -> list[dict[str, Any]]:
    """The crew's sample items (``include/<crew>/golden.yaml``), run when a DAG run names none."""
    from crews.evaluation.golden import sample_items as samples

    return samples(crew)


def screen(crew: str, requests: list[dict[str, Any]], prepare: Callable[[dict], dict] | None = None,
           **options: Any) -> dict[str, Any]:
    """Expand a run's requests into crew items and load each as its crew task will, before any LLM call.

    ``options`` go to the contract's :meth:`~crews.contract.CrewContract.expand` (contract Q&A: the run's
    ``contracts``); ``prepare`` turns an item into what the crew task loads (a connection resolved) and
    raises :class:`InputError` for one it cannot. Returns the ``accepted`` items, the ``refused`` ones
    (``item_id``, ``error``) and the ``ids`` of all, in order. Raises :class:`InputError` when the requests
    as a whole are invalid (a pair asked twice, too many pairs).
    """
    contract = get_crew(crew)
    items = contract.expand(requests, **options)
    accepted, refused = [], []
    for item in items:
        try:
            contract.load_input(prepare(item) if prepare else item)
        except InputError as exc:
            refused.append({"item_id": contract.request_id(item), "error": str(exc)})
        else:
            accepted.append(item)
    if refused:
        log.warning("%d of %d items refused before any LLM call: %s", len(refused), len(items),
                    ", ".join(r["item_id"] for r in refused))
    return {"accepted": accepted, "refused": refused, "ids": [contract.request_id(item) for item in items]}


def run(crew: str, item: dict[str, Any], settings: Any, context: dict[str, Any],
        prompt_version: str | None, wait_for_tracking: bool = True) -> dict[str, Any]:
    """Run one item with tracking (:func:`crews.runner.run_item`); the task's JSON-safe result.

    ``wait_for_tracking=False`` returns while its MLflow run is still being finished on the writer thread
    (a task running several items overlaps that with the next item; it calls :func:`finish_tracking`)."""
    import crews  # noqa: F401  (CrewAI telemetry off before crewai loads)
    from crews.runner import run_item

    result = run_item(crew, item, settings, context=context, prompt_version=prompt_version,
                      wait_for_tracking=wait_for_tracking)
    usage = result["usage"]
    log.info(
        "item %s: %s | %d LLM calls (+%d replayed from cache), %d tokens, $%.6f | MLflow run %s "
        "(experiment %s)",
        result["item_id"], result["summary"].get("status"), usage["llm_calls"], usage["cache_hits"],
        usage["total_tokens"], usage["cost_usd"], result["mlflow_run_id"] or "spooled",
        result["mlflow_experiment"],
    )
    return result


def finish_tracking() -> None:
    """Wait for the MLflow writes of the items run with ``wait_for_tracking=False`` (a write that cannot
    finish stays in the spool and is replayed later)."""
    from crews.tracking.background import wait_for_writes

    wait_for_writes()


def checkpoint(result: dict[str, Any], dag_id: str, run_id: str) -> None:
    """Store one finished item's result row now (a task running several items): a later failure in the
    task does not lose it, and a retry does not run it again (:func:`stored_results`)."""
    from crews.results import upsert_results

    upsert_results([result], dag_id=dag_id, dag_run_id=run_id)


def stored_results(crew: str, dag_id: str, run_id: str, item_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The items of ``item_ids`` that have a result row in this DAG run, as :func:`run` returned them."""
    import json

    from crews.results import fetch_results
    from crews.tracking.context import RunContext

    wanted, found = set(item_ids), {}
    if not wanted:
        return found
    for row in fetch_results(crew, run_id):
        if row.dag_id != dag_id or row.item_id not in wanted:
            continue
        summary = json.loads(row.summary_json)
        usage, task = summary.pop("usage", {}), summary.pop("task", {})
        found[row.item_id] = {
            "crew": crew, "item_id": row.item_id, "summary": summary, "result": json.loads(row.result_json),
            "mlflow_run_id": row.mlflow_run_id,
            "mlflow_experiment": RunContext(crew=crew, item_id=row.item_id).experiment,
            "usage": usage, "task": task,
        }
    return found


def collect(results: list[dict[str, Any]], expected: int, dag_id: str, run_id: str,
            task_id: str) -> list[dict[str, Any]]:
    """Upsert a DAG run's finished items into the results table, log the batch to MLflow; their summaries."""
    from crews.results import upsert_results

    rows = [r for r in results if r]
    written = upsert_results(rows, dag_id=dag_id, dag_run_id=run_id)
    log.info("upserted %d result rows for run %s", written, run_id)
    if rows:
        _log_batch(rows, expected, dag_id, run_id, task_id)
    return [r["summary"] | {"mlflow_run_id": r["mlflow_run_id"], "mlflow_experiment": r["mlflow_experiment"]}
            for r in rows]


def _log_batch(rows: list[dict[str, Any]], expected: int, dag_id: str, run_id: str, task_id: str) -> None:
    """One MLflow run per DAG run (tag ``kind=batch``): items, failures, share routed to review, tokens,
    cost."""
    from crews.runtime.budget import SpendLedger
    from crews.runtime.limits import load_limits
    from crews.tracking.tracker import publish_batch_summary

    routed = sum(bool(r["summary"].get("needs_review")) for r in rows)
    spent = SpendLedger().spent(f"{dag_id}/{run_id}")
    metrics = {
        "items": float(expected), "items_failed": float(expected - len(rows)),
        "routed_to_review": float(routed), "review_share": routed / len(rows),
        "total_tokens": float(sum(r["usage"]["total_tokens"] for r in rows)),
        "cost_usd": float(sum(r["usage"]["cost_usd"] for r in rows)),
        "cache_hits": float(sum(r["usage"].get("cache_hits", 0) for r in rows)),
        "spent_tokens": float(spent.tokens), "spent_usd": spent.usd,
    }
    budget = load_limits().budget_for(dag_id).per_run
    metrics.update({f"budget_{k}": float(v) for k, v in budget.model_dump().items() if v is not None})
    crew = rows[0]["crew"]
    where = publish_batch_summary(crew, f"{dag_id} {run_id} (batch)",
                                  {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}, metrics)
    log.info("%s batch: %d items, %d routed to review (share %.2f); %s", crew, expected, routed,
             metrics["review_share"], where)


def missing_items(summaries: list[dict[str, Any]] | None, item_ids: list[str]) -> list[str]:
    """The input items that produced no result (refused, failed or skipped), in order."""
    done = {s["item_id"] for s in summaries or []}
    return [item_id for item_id in item_ids if item_id not in done]


def review_requests(crew: str, dag_id: str, run_id: str,
                    summaries: list[dict[str, Any]] | None) -> list[dict]:
    """One human review request (``item_id``, ``subject``, Markdown ``body``) per output routed to review."""
    from crews.results import fetch_results
    from crews.review_pages import review_body
    from crews.tracking.run_links import run_page_by_id

    stored = {row.item_id: json.loads(row.result_json) for row in fetch_results(crew, dag_run_id=run_id)
              if row.dag_id == dag_id}
    noun = get_crew(crew).noun
    requests = [{"item_id": s["item_id"], "subject": f"Review {noun} {s['item_id']}",
                 "body": review_body(crew, s, stored.get(s["item_id"]),
                                     run_page_by_id(s.get("mlflow_run_id")))}
                for s in summaries or [] if s.get("needs_review")]
    log.info("%d of %d outputs routed to human review", len(requests), len(summaries or []))
    return requests


def record_reviews(crew: str, dag_id: str, run_id: str, requests: list[dict[str, Any]] | None,
                   responses: list[dict[str, Any] | None]) -> int:
    """Store each person's decision (a review task's response, None when it gave none) with its output."""
    from crews.results import record_review
    from crews.review import correction_problem

    recorded = 0
    for request, response in zip(requests or [], responses, strict=False):
        if not response:
            log.warning("no review recorded for %s (task skipped or failed)", request["item_id"])
            continue
        correction = (response.get("params_input") or {}).get("correction") or None
        decision = {
            "chosen": list(response.get("chosen_options") or []),
            "correction": correction,
            "responded_by": (response.get("responded_by_user") or response.get("responded_by")
                             or {}).get("name"),
        }
        if problem := correction_problem(correction):  # the API plugin refuses these; a guard for other paths
            log.warning("review of %s: correction not stored: %s", request["item_id"], problem)
            decision |= {"correction": None, "correction_refused": problem}
        record_review(crew, dag_id, run_id, request["item_id"], decision)
        log.info("review of %s: %s", request["item_id"], decision)
        recorded += 1
    return recorded


def publish(crew: str, run_id: str) -> dict[str, list[str]]:
    """Write the run's approved (and reviewer-accepted) outputs to ``published/<crew>``
    (``runs/<run>/<item>.md``, ``<item>.md`` pointing at the newest); the ``paths`` and ``items`` written,
    both empty when none passed."""
    from crews.paths import state_dir
    from crews.publishing import publish_text
    from crews.results import fetch_results

    contract = get_crew(crew)
    approved = [r for r in fetch_results(crew, dag_run_id=run_id) if r.passed]
    folder = state_dir() / "published" / crew
    paths = []
    for row in approved:
        review = json.loads(row.summary_json).get("review") or {}
        text = contract.text_to_publish(json.loads(row.result_json), review, row.status)
        if text is not None:
            paths.append(str(publish_text(folder, run_id, row.item_id, text + "\n")))
    if paths:
        log.info("published %d approved outputs to %s", len(paths), folder)
    return {"paths": paths, "items": [r.item_id for r in approved] if paths else []}


def quarantine(crew: str, run_id: str, summary: dict[str, Any]) -> str:
    """Write a failing item's full report to ``quarantine/<crew>/<item>.json``; returns its path."""
    from crews.paths import state_dir
    from crews.results import fetch_results

    item_id = summary["item_id"]
    rows = [r for r in fetch_results(crew, dag_run_id=run_id) if r.item_id == item_id]
    folder = state_dir() / "quarantine" / crew
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item_id}.json"
    report = json.loads(rows[0].result_json) if rows else None
    path.write_text(json.dumps({"dag_run_id": run_id, "summary": summary, "report": report}, indent=2))
    log.warning("%s %s failed the gate; quarantined with its report at %s", crew, item_id, path)
    return str(path)


# --- evaluation and drift (the crew_evaluation and crew_drift DAGs) ---------------------------------------


def golden_records(crew: str, golden_set: str) -> list[dict[str, Any]]:
    """The crew's golden records of ``golden_set`` (:mod:`crews.evaluation.golden`)."""
    from crews.evaluation.golden import load_golden

    return load_golden(crew, golden_set=golden_set)


def evaluate_record(crew: str, record: dict[str, Any], settings: Any, context: dict[str, Any],
                    golden_set: str, prompt_version: str | None) -> dict[str, Any]:
    """Run one golden record as a tracked crew run (purpose ``evaluation``); its outputs and scores'
    inputs."""
    from crews.evaluation.evaluate import run_record

    return run_record(crew, record, settings, context=context, catch=False, golden_set=golden_set,
                      prompt_version=prompt_version)


def log_evaluation(crew: str, records: list[dict[str, Any]], rows: list[dict[str, Any] | None], settings: Any,
                   judge: Any, context: dict[str, Any], golden_set: str, prompt_version: str | None) -> dict:
    """Score a crew's records (a record without a row failed) and log its MLflow evaluation run; the report
    with its ``lines`` (comparison with the previous evaluation, then notes) to print."""
    from crews.evaluation.evaluate import comparison_lines, failed_output, log_crew_evaluation

    done = {_record_key(r["inputs"]): r for r in rows if r}
    crew_rows = [done.get(_record_key(r["inputs"]))
                 or {**r, "outputs": failed_output("evaluation task failed")}
                 for r in records]
    report = log_crew_evaluation(crew, crew_rows, settings, judge, context=context, golden_set=golden_set,
                                 prompt_version=prompt_version)
    return report | {"lines": [*comparison_lines(report), *(f"note: {note}" for note in report["notes"])]}


def _record_key(inputs: dict[str, Any]) -> str:
    return json.dumps(inputs, sort_keys=True)


def measure_drift(crew: str, overrides: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """One crew's drift check, logged to MLflow (:func:`crews.evaluation.drift.check_crew_drift`)."""
    from crews.evaluation.drift import check_crew_drift

    return check_crew_drift(crew, overrides, context=context)


def keep_alert(name: str, alert: dict[str, Any]) -> str:
    """Keep an alert as ``$CREWS_STATE_DIR/alerts/<name>.json``; returns its path."""
    from crews.paths import state_dir

    folder = state_dir() / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(alert, indent=2))
    return str(path)
