"""The glue between Airflow task instances and the crews runtime.

Everything heavy (crewai, mlflow) is imported inside these functions, so a DAG
file that imports this module stays fast to parse.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import timedelta
from typing import Any

LLM_CONN_ID = os.environ.get("CREWS_LLM_CONN_ID", "llm_default")
JUDGE_CONN_ID = "llm_judge"
LLM_POOL = "llm_pool"

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


def run_conf(ctx: Any) -> dict[str, Any]:
    """The ``conf`` the DAG run was triggered with (empty when none)."""
    return getattr(ctx.get("dag_run"), "conf", None) or {}


def refuse_unknown_conf() -> Any:
    """The task context, after refusing (without retries) ``conf`` keys the DAG has no Param for: Airflow
    accepts them, and a typo ("crewz") would otherwise run with the defaults. Every DAG's first task calls it."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    ctx = get_current_context()
    declared = set(ctx["dag"].params)
    unknown = sorted(set(run_conf(ctx)) - declared)
    if unknown:
        raise AirflowFailException(f"unknown conf key(s) {unknown}; this DAG accepts {sorted(declared)}")
    return ctx


def conf_items(param: str, id_key: str, crew: str) -> list[dict[str, Any]]:
    """The items in ``conf[param]``, or the crew's samples when it is empty.

    Refuses (without retries) ``conf`` keys the DAG has no Param for, so a typo does
    not silently run the samples, and items that share an id.
    """
    from collections import Counter

    from airflow.sdk.exceptions import AirflowFailException

    from crews.evaluation.golden import sample_items

    ctx = refuse_unknown_conf()
    items = ctx["params"][param]
    if not items:
        items = sample_items(crew)
        log.warning("%s is empty: running the %d samples of include/%s/golden.yaml (%s)", param, len(items), crew,
                    "given as [] in conf" if param in run_conf(ctx) else "not given in conf")
    repeated = sorted(str(k) for k, n in Counter(i.get(id_key) for i in items).items() if n > 1)
    if repeated:
        raise AirflowFailException(f"{param}: {id_key} {repeated} used more than once; give each item its own id")
    log.info("%d %s: %s", len(items), param, [i.get(id_key) for i in items])
    return items


def screen_items(crew: str, items: list[dict[str, Any]], name: Callable[[dict[str, Any]], str],
                 prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Load every item as its crew task would, here in the list step, outside ``llm_pool``: an item the crew
    refuses (a path outside the data roots, a pattern RE2 cannot run, an unreadable file, a missing
    connection) then fails in a task of its own and never waits for, nor holds, the LLM slot. ``prepare``
    turns an item into what the crew task loads (a connection resolved). Returns ``accepted`` items,
    ``refused`` ones (``item_id``, ``error``) and the ``ids`` of all, in order."""
    from airflow.sdk.exceptions import AirflowFailException

    from crews.errors import InputError
    from crews.registry import get_spec

    load = get_spec(crew).load_input
    accepted, refused = [], []
    for item in items:
        try:
            load(prepare(item) if prepare else item)
        except (InputError, AirflowFailException) as exc:
            refused.append({"item_id": name(item), "error": str(exc)})
        else:
            accepted.append(item)
    if refused:
        log.warning("%d of %d items refused before any LLM call: %s", len(refused), len(items),
                    ", ".join(r["item_id"] for r in refused))
    return {"accepted": accepted, "refused": refused, "ids": [name(item) for item in items]}


def refuse(refusal: dict[str, Any]) -> None:
    """Fail one refused item's task, without retries, with the crew's reason."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(refusal["error"])


def item_by_id(param: str, id_key: str, crew: str, item_id: str) -> dict[str, Any]:
    """The item ``item_id`` of ``conf[param]`` (or of the crew's samples when it is empty), for mapped tasks
    that get only ids from the list step."""
    from airflow.sdk import get_current_context

    from crews.evaluation.golden import sample_items

    items = get_current_context()["params"][param] or sample_items(crew)
    return next(item for item in items if item.get(id_key) == item_id)


FINISHED_STATES = ("success", "failed", "skipped", "upstream_failed", "removed")


def fan_out_progress() -> str | None:
    """Where the running mapped task's fan-out stands, e.g. ``item 3 of 10; finished 4 (3 success, 1 failed)``.

    None for an unmapped task or when Airflow cannot tell.
    """
    from collections import Counter

    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    if ti.map_index is None or ti.map_index < 0:
        return None
    try:
        states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id]).get(ti.run_id, {})
    except Exception as exc:  # progress is informative only
        log.debug("no fan-out progress: %s", exc)
        return None
    counts = Counter(str(state or "waiting") for state in states.values())
    finished = sum(counts[s] for s in FINISHED_STATES)
    detail = ", ".join(f"{counts[s]} {s}" for s in FINISHED_STATES if counts[s])
    return (f"item {ti.map_index + 1} of {len(states)}; finished {finished}" + (f" ({detail})" if detail else "")
            + f", running {counts['running']}")


def run_crew_item(crew: str, item: dict[str, Any]) -> dict[str, Any]:
    """Run one mapped item.

    Invalid input fails the task at once, without retries. A spent budget skips an
    item that has not started, and fails (without retries) one that has.
    """
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    import crews  # noqa: F401  (CrewAI telemetry off before crewai loads)
    from common.prompt_params import prompt_selector
    from crews.errors import InputError
    from crews.runner import run_item
    from crews.runtime.budget import BudgetExceeded

    progress = fan_out_progress()
    if progress:
        log.info("fan-out progress: %s", progress)
    try:
        result = run_item(crew, item, llm_settings(), context=task_identity(), prompt_version=prompt_selector())
    except InputError as exc:
        raise AirflowFailException(str(exc)) from exc
    except BudgetExceeded as exc:
        if not exc.started:
            raise AirflowSkipException(f"skipped: {exc}") from exc
        raise AirflowFailException(f"stopped: {exc}") from exc
    usage = result["usage"]
    log.info(
        "item %s: %s | %d LLM calls (+%d replayed from cache), %d tokens, $%.6f | MLflow run %s (experiment %s)",
        result["item_id"], result["summary"].get("status"), usage["llm_calls"], usage["cache_hits"],
        usage["total_tokens"], usage["cost_usd"], result["mlflow_run_id"] or "spooled", result["mlflow_experiment"],
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
        log_batch(rows, expected=len(items), dag_id=ctx["dag"].dag_id, run_id=ctx["run_id"], task_id=ctx["ti"].task_id)
    return [
        r["summary"] | {"mlflow_run_id": r["mlflow_run_id"], "mlflow_experiment": r["mlflow_experiment"]}
        for r in rows
    ]


def log_batch(rows: list[dict[str, Any]], expected: int, dag_id: str, run_id: str, task_id: str) -> None:
    """One MLflow run per DAG run (tag ``kind=batch``): items, failures, share routed to review, tokens, cost."""
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


def require_all_items(summaries: list[dict[str, Any]] | None, item_ids: list[str] | None) -> None:
    """Raise naming every input item that produced no result (refused, or its task failed). Fails at once,
    without retries, when the list step refused the run."""
    from airflow.sdk.exceptions import AirflowFailException

    if item_ids is None:
        raise AirflowFailException("no item was run: the run's first task refused its conf or its items "
                                   "(see that task's log)")
    done = {s["item_id"] for s in summaries or []}
    missing = [item_id for item_id in item_ids if item_id not in done]
    if missing:
        raise AirflowFailException(
            f"{len(missing)} of {len(item_ids)} items produced no result: {', '.join(missing)}; "
            "see their mapped task logs (refused, failed, or skipped when the run's budget was spent). "
            "Results of the other items were stored."
        )
    log.info("all %d items produced results", len(item_ids))


def publish_copy(crew: str, asset: Any) -> list[str]:
    """Write this run's approved copy (see :func:`copy_to_publish`) to the published folder
    (``runs/<run>/<item>.md``, with ``<item>.md`` pointing at the newest run's copy) and emit an asset event.

    Skips (no asset event) when nothing in the run was approved.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    from crews.paths import state_dir
    from crews.publishing import publish_text
    from crews.results import fetch_results

    ctx = get_current_context()
    approved = [r for r in fetch_results(crew, dag_run_id=ctx["run_id"]) if r.passed]
    if not approved:
        raise AirflowSkipException("no draft was approved in this run; nothing to publish")
    folder = state_dir() / "published" / crew
    paths = [str(publish_text(folder, ctx["run_id"], row.item_id, copy_to_publish(row) + "\n")) for row in approved]
    ctx["outlet_events"][asset].extra = {"dag_run_id": ctx["run_id"], "items": [r.item_id for r in approved]}
    log.info("published %d approved drafts to %s", len(paths), folder)
    return paths


def copy_to_publish(row: Any) -> str:
    """The approved copy of a result row: the reviewer's correction when they accepted with one, else the
    crew's revised copy."""
    import json

    review = json.loads(row.summary_json).get("review") or {}
    if row.status == "accepted" and review.get("correction"):
        return review["correction"]
    return json.loads(row.result_json)["revised_copy"]


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
