"""The glue between Airflow task instances and the crews runtime.

Everything heavy (crewai, mlflow) is imported inside these functions, so a DAG
file that imports this module stays fast to parse.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, timedelta
from typing import Any

LLM_CONN_ID = os.environ.get("CREWS_LLM_CONN_ID", "llm_default")
JUDGE_CONN_ID = "llm_judge"
LLM_POOL = "llm_pool"
REVIEW_TIMEOUT = timedelta(days=3)

# Retry and timeout policy shared by every crew DAG.
CREW_DEFAULT_ARGS = {
    "owner": "crews",
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=20),
}

log = logging.getLogger(__name__)


def _settings_from_connection(conn_id: str) -> Any:
    """LLMSettings from an Airflow connection, or None if it does not exist."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from crews.runtime.settings import LLMSettings

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return LLMSettings.from_connection(
        {
            "conn_type": conn.conn_type,
            "host": conn.host,
            "schema": conn.schema,
            "port": conn.port,
            "password": conn.password,
            "extra": conn.extra_dejson,
        }
    )


def llm_settings() -> Any:
    """Settings from the ``llm_default`` connection, or ``CREWS_LLM_*`` if it does not exist."""
    from crews.runtime.settings import LLMSettings

    settings = _settings_from_connection(LLM_CONN_ID)
    if settings is None:
        log.info("no Airflow connection %r; using CREWS_LLM_* environment variables", LLM_CONN_ID)
        return LLMSettings.from_env()
    return settings


def judge_settings() -> Any:
    """The evaluation judge: the ``llm_judge`` connection, else ``CREWS_JUDGE_*``, else None (no judge)."""
    from crews.evaluation.judge import judge_settings_from_env

    return _settings_from_connection(JUDGE_CONN_ID) or judge_settings_from_env()


def task_identity() -> dict[str, Any]:
    """dag_id, run_id, task_id, map_index and try_number of the running task."""
    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    return {
        "source": "airflow",
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": ti.map_index,
        "try_number": ti.try_number,
    }


def run_crew_item(crew: str, item: dict[str, Any]) -> dict[str, Any]:
    """Run one mapped item; invalid input fails the task at once, without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    import crews  # noqa: F401  (CrewAI telemetry off before crewai loads)
    from crews.errors import InputError
    from crews.runner import run_item

    try:
        result = run_item(crew, item, llm_settings(), context=task_identity())
    except InputError as exc:
        raise AirflowFailException(str(exc)) from exc
    usage = result["usage"]
    log.info(
        "item %s: %s | %d LLM calls, %d tokens, $%.6f | MLflow run %s (experiment %s)",
        result["item_id"], result["summary"].get("status"), usage["llm_calls"], usage["total_tokens"],
        usage["cost_usd"], result["mlflow_run_id"] or "spooled", result["mlflow_experiment"],
    )
    return result


def collect_results(results: list[dict[str, Any]], items: list[Any]) -> list[dict[str, Any]]:
    """Upsert this run's finished items into the results table; return their summaries.

    ``items`` are the run's input items (failed ones left no result).
    """
    from airflow.sdk import get_current_context

    from crews.results import upsert_results

    ctx = get_current_context()
    rows = [r for r in results if r]
    written = upsert_results(rows, dag_id=ctx["dag"].dag_id, dag_run_id=ctx["run_id"])
    log.info("upserted %d result rows for run %s", written, ctx["run_id"])
    if rows:
        log_batch(rows, expected=len(items), dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"])
    return [
        r["summary"] | {"mlflow_run_id": r["mlflow_run_id"], "mlflow_experiment": r["mlflow_experiment"]}
        for r in rows
    ]


def log_batch(rows: list[dict[str, Any]], expected: int, dag_id: str, run_id: str) -> None:
    """One MLflow run per DAG run (tag ``kind=batch``): items, failures, share routed to review, tokens, cost."""
    from crews.tracking.tracker import publish_batch_summary

    routed = sum(bool(r["summary"].get("needs_review")) for r in rows)
    metrics = {
        "items": float(expected), "items_failed": float(expected - len(rows)),
        "routed_to_review": float(routed), "review_share": routed / len(rows),
        "total_tokens": float(sum(r["usage"]["total_tokens"] for r in rows)),
        "cost_usd": float(sum(r["usage"]["cost_usd"] for r in rows)),
    }
    crew = rows[0]["crew"]
    where = publish_batch_summary(crew, f"{dag_id} {run_id} (batch)", {"dag_id": dag_id, "run_id": run_id}, metrics)
    log.info("%s batch: %d items, %d routed to review (share %.2f); %s", crew, expected, routed,
             metrics["review_share"], where)


def require_all_items(summaries: list[dict[str, Any]], items: list[dict[str, Any]], key: str) -> None:
    """Raise naming every input item that produced no result (its task failed)."""
    from airflow.sdk.exceptions import AirflowFailException

    done = {s["item_id"] for s in summaries or []}
    missing = [str(item.get(key, f"#{i}")) for i, item in enumerate(items) if item.get(key) not in done]
    if missing:
        raise AirflowFailException(
            f"{len(missing)} of {len(items)} items failed: {', '.join(missing)}; "
            "see their mapped task logs. Results of the other items were stored."
        )
    log.info("all %d items produced results", len(items))


def publish_copy(crew: str, asset: Any) -> list[str]:
    """Write this run's approved copy to the published folder and emit an asset event.

    Skips (no asset event) when nothing in the run was approved.
    """
    import json

    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    from crews.paths import state_dir
    from crews.results import fetch_results

    ctx = get_current_context()
    approved = [r for r in fetch_results(crew, dag_run_id=ctx["run_id"]) if r.passed]
    if not approved:
        raise AirflowSkipException("no draft was approved in this run; nothing to publish")
    folder = state_dir() / "published" / crew
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for row in approved:
        path = folder / f"{row.item_id}.md"
        path.write_text(json.loads(row.result_json)["revised_copy"] + "\n", encoding="utf-8")
        paths.append(str(path))
    ctx["outlet_events"][asset].extra = {"dag_run_id": ctx["run_id"], "items": [r.item_id for r in approved]}
    log.info("published %d approved drafts to %s", len(paths), folder)
    return paths


def publish_dataset(summary: dict[str, Any], alias: Any) -> str:
    """Emit the asset event of one passing dataset through ``alias``."""
    from airflow.sdk import Asset, get_current_context

    ctx = get_current_context()
    dataset_id = summary["item_id"]
    asset = Asset(f"data_qa_passed/{dataset_id}")
    ctx["outlet_events"][alias].add(
        asset, extra={"dag_run_id": ctx["run_id"], "mlflow_run_id": summary.get("mlflow_run_id")}
    )
    log.info("dataset %s passed the gate; published asset %s", dataset_id, asset.name)
    return asset.name


def quarantine_item(crew: str, summary: dict[str, Any]) -> str:
    """Write a failing item's full report to the quarantine folder; returns its path."""
    import json

    from airflow.sdk import get_current_context

    from crews.paths import state_dir
    from crews.results import fetch_results

    ctx = get_current_context()
    item_id = summary["item_id"]
    rows = [r for r in fetch_results(crew, dag_run_id=ctx["run_id"]) if r.item_id == item_id]
    folder = state_dir() / "quarantine" / crew
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{item_id}.json"
    report = json.loads(rows[0].result_json) if rows else None
    path.write_text(json.dumps({"dag_run_id": ctx["run_id"], "summary": summary, "report": report}, indent=2))
    log.warning("dataset %s failed the gate; quarantined with its report at %s", item_id, path)
    return str(path)


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
        params={"correction": Param("", type="string", title=f"Corrected {noun} (optional)")},
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


def measure_crew_drift(crew: str) -> dict[str, Any]:
    """Run the drift check of one crew with the DAG run's window overrides; log the verdict per feature."""
    from airflow.sdk import get_current_context

    from crews.evaluation.drift import check_crew_drift

    ctx = get_current_context()
    overrides = {k: ctx["params"].get(k) for k in ("recent_runs", "baseline_runs", "min_runs")}
    report = check_crew_drift(crew, overrides, context={"dag_id": ctx["dag"].dag_id, "run_id": ctx["run_id"]})
    windows = report["windows"]
    log.info("%s: recent %s vs baseline %s; MLflow drift run %s with %d plots", crew, windows["recent"],
             windows["baseline"], report["mlflow_run_id"], len(report["plots"]))
    for feature in report["features"]:
        verdict = {True: "DRIFT", False: "ok", None: "no verdict"}[feature["drifted"]]
        log.info("  %-18s %-10s psi=%s p=%s %s", feature["name"], verdict, feature["psi"], feature["p_value"],
                 feature["note"])
    for score in report["scores"]:
        log.info("  score %-25s %s", score["name"], score["note"] or f"drop {score['drop']}")
    for change in report["changes"]:
        log.info("  %s", change)
    return {k: report[k] for k in ("crew", "drifted", "reasons", "changes", "windows", "mlflow_run_id")}


def require_no_drift(reports: list[dict[str, Any]]) -> None:
    """Raise naming every crew and feature that drifted, with the reasons and window changes."""
    from airflow.sdk.exceptions import AirflowFailException

    drifted = [r for r in reports if r and r["drifted"]]
    if drifted:
        lines = [f"{r['crew']}: {'; '.join(r['reasons'])}"
                 + (f" [{'; '.join(r['changes'])}]" if r["changes"] else "")
                 + f" (MLflow run {r['mlflow_run_id']})" for r in drifted]
        raise AirflowFailException("drift over threshold: " + " | ".join(lines))
    log.info("no drift over threshold in %d crews", len([r for r in reports if r]))


def drift_alert(context: dict[str, Any]) -> None:
    """Failure callback of the drift check: log the alert and keep it in ``$CREWS_STATE_DIR/alerts``."""
    import json
    from datetime import datetime

    from crews.paths import state_dir

    message = str(context.get("exception") or "drift check failed")
    ti = context.get("ti")
    alert = {"at": datetime.now(UTC).isoformat(), "dag_id": getattr(ti, "dag_id", None),
             "run_id": getattr(ti, "run_id", None), "message": message}
    folder = state_dir() / "alerts"
    folder.mkdir(parents=True, exist_ok=True)
    name = str(alert["run_id"] or "unknown").replace(":", "_").replace("/", "_")
    (folder / f"drift-{name}.json").write_text(json.dumps(alert, indent=2))
    log.error("DRIFT ALERT %s: %s", alert["run_id"], message)
