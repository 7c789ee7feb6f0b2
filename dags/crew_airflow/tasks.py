"""The glue between Airflow task instances and the crews, which it reaches through :mod:`crews.service`.

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


def _connection_fields(conn_id: str) -> dict[str, Any] | None:
    """The fields of an Airflow connection the crews read, or None if it does not exist."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return {"conn_type": conn.conn_type, "host": conn.host, "schema": conn.schema, "port": conn.port,
            "password": conn.password, "extra": conn.extra_dejson}


def llm_settings() -> Any:
    """Settings from the ``llm_default`` connection, or ``CREWS_LLM_*`` if it does not exist."""
    from crews import service

    return service.llm_settings(_connection_fields(LLM_CONN_ID))


def judge_settings() -> Any:
    """The evaluation judge: the ``llm_judge`` connection, else ``CREWS_JUDGE_*``, else None (no judge)."""
    from crews import service

    return service.judge_settings(_connection_fields(JUDGE_CONN_ID))


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
    accepts them, and a typo ("crewz") would otherwise run with the defaults. Every DAG's first task calls
    it."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException

    ctx = get_current_context()
    declared = set(ctx["dag"].params)
    unknown = sorted(set(run_conf(ctx)) - declared)
    if unknown:
        raise AirflowFailException(f"unknown conf key(s) {unknown}; this DAG accepts {sorted(declared)}")
    return ctx


def conf_items(crew: str) -> list[dict[str, Any]]:
    """The crew's items in ``conf`` (its contract's ``items_param``), or its samples when that is empty.

    Refuses (without retries) ``conf`` keys the DAG has no Param for, so a typo does
    not silently run the samples, and items that share an id.
    """
    from collections import Counter

    from airflow.sdk.exceptions import AirflowFailException

    from crews import service

    contract = service.get_crew(crew)
    param, id_key = contract.items_param, contract.id_field
    ctx = refuse_unknown_conf()
    items = ctx["params"][param]
    if not items:
        items = service.sample_items(crew)
        log.warning("%s is empty: running the %d samples of include/%s/golden.yaml (%s)", param, len(items),
                    crew, "given as [] in conf" if param in run_conf(ctx) else "not given in conf")
    repeated = sorted(str(k) for k, n in Counter(i.get(id_key) for i in items).items() if n > 1)
    if repeated:
        raise AirflowFailException(f"{param}: {id_key} {repeated} used more than once; "
                                   "give each item its own id")
    log.info("%d %s: %s", len(items), param, [i.get(id_key) for i in items])
    return items


def screen_items(crew: str, items: list[dict[str, Any]],
                 prepare: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
                 **options: Any) -> dict[str, Any]:
    """Load every item as its crew task would, here in the list step, outside ``llm_pool``: an item the crew
    refuses (a path outside the data roots, a pattern RE2 cannot run, an unreadable file, a missing
    connection) then fails in a task of its own and never waits for, nor holds, the LLM slot. ``prepare``
    turns an item into what the crew task loads (a connection resolved). Returns ``accepted`` items,
    ``refused`` ones (``item_id``, ``error``) and the ``ids`` of all, in order (:func:`crews.service.screen`);
    requests that are invalid as a whole fail the task without retries."""
    from airflow.sdk.exceptions import AirflowFailException

    from crews import service

    def prepared(item: dict[str, Any]) -> dict[str, Any]:
        try:
            return prepare(item) if prepare else item
        except AirflowFailException as exc:
            raise service.InputError(str(exc)) from exc

    try:
        return service.screen(crew, items, prepared, **options)
    except service.InputError as exc:
        raise AirflowFailException(str(exc)) from exc


def refuse(refusal: dict[str, Any]) -> None:
    """Fail one refused item's task, without retries, with the crew's reason."""
    from airflow.sdk.exceptions import AirflowFailException

    raise AirflowFailException(refusal["error"])


def item_by_id(crew: str, item_id: str) -> dict[str, Any]:
    """The item ``item_id`` of the run's conf (or of the crew's samples when it names none), for mapped tasks
    that get only ids from the list step."""
    from airflow.sdk import get_current_context

    from crews import service

    contract = service.get_crew(crew)
    items = get_current_context()["params"][contract.items_param] or service.sample_items(crew)
    return next(item for item in items if contract.request_id(item) == item_id)


FINISHED_STATES = ("success", "failed", "skipped", "upstream_failed", "removed")


def fan_out_progress() -> str | None:
    """Where the running mapped task's fan-out stands, e.g.
    ``item 3 of 10; finished 4 (3 success, 1 failed)``.

    None for an unmapped task or when Airflow cannot tell.
    """
    from collections import Counter

    from airflow.sdk import get_current_context

    ti = get_current_context()["ti"]
    if ti.map_index is None or ti.map_index < 0:
        return None
    try:
        states = ti.get_task_states(dag_id=ti.dag_id, task_ids=[ti.task_id],
                                    run_ids=[ti.run_id]).get(ti.run_id, {})
    except Exception as exc:  # progress is informative only
        log.debug("no fan-out progress: %s", exc)
        return None
    counts = Counter(str(state or "waiting") for state in states.values())
    finished = sum(counts[s] for s in FINISHED_STATES)
    detail = ", ".join(f"{counts[s]} {s}" for s in FINISHED_STATES if counts[s])
    return (f"item {ti.map_index + 1} of {len(states)}; finished {finished}"
            + (f" ({detail})" if detail else "") + f", running {counts['running']}")


def run_crew_item(crew: str, item: dict[str, Any], context: dict[str, Any] | None = None,
                  wait_for_tracking: bool = True) -> dict[str, Any]:
    """Run one mapped item.

    Invalid input fails the task at once, without retries. A spent budget skips an
    item that has not started, and fails (without retries) one that has. ``context``
    adds to the task's identity (:func:`task_identity`); ``wait_for_tracking`` as in
    :func:`crews.service.run`.
    """
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from crew_airflow.params import prompt_selector
    from crews import service

    try:
        return service.run(crew, item, llm_settings(), task_identity() | (context or {}), prompt_selector(),
                           wait_for_tracking)
    except service.InputError as exc:
        raise AirflowFailException(str(exc)) from exc
    except service.BudgetExceeded as exc:
        if not exc.started:
            raise AirflowSkipException(f"skipped: {exc}") from exc
        raise AirflowFailException(f"stopped: {exc}") from exc


MAP_LABEL_MAX = 250  # Airflow's rendered map index column


def run_crew_items(crew: str, items: list[Any],
                   prepare: Callable[[Any], dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Run one mapped task's chunk of items (``items_per_task``, one by default) in turn; their results.

    ``prepare`` turns a mapped value into the item the crew runs (an id looked up, a
    connection resolved). The task's map index reads as its item ids (``item_ids`` in
    the context). One item behaves as :func:`run_crew_item`. Of several, each has its
    own MLflow run, response cache and budget scope; each finished item's result row is
    stored at once, so an item that fails fails alone: the others run, the task then
    fails naming it (retried when the error may pass), and a retry reruns only the
    items without a result row in this DAG run.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from crews import service

    contract = service.get_crew(crew)
    ids = [value if isinstance(value, str) else contract.request_id(value) for value in items]
    ctx = get_current_context()
    ctx["item_ids"] = map_label(ids)
    if progress := fan_out_progress():
        log.info("fan-out progress: %s", progress)
    prepare = prepare or (lambda value: value)
    if len(items) == 1:
        return [run_crew_item(crew, prepare(items[0]))]
    ti = ctx["ti"]
    stored = service.stored_results(crew, ti.dag_id, ti.run_id, ids) if ti.try_number > 1 else {}
    if stored:
        log.info("%d of %d items already have a result in this run (an earlier try): %s", len(stored),
                 len(ids), ", ".join(stored))
    results, failed, retry = [], {}, False
    try:
        for n, (item_id, value) in enumerate(zip(ids, items, strict=True), start=1):
            if item_id in stored:
                results.append(stored[item_id])
                continue
            log.info("item %d of %d in this task: %s", n, len(ids), item_id)
            try:  # its MLflow run is finished on the writer thread while the next item runs
                result = run_crew_item(crew, prepare(value), {"items_in_task": len(ids)},
                                       wait_for_tracking=False)
            except (AirflowFailException, AirflowSkipException) as exc:
                failed[item_id] = exc
            except Exception as exc:  # may pass: the task is retried for this item
                log.exception("item %s failed", item_id)
                failed[item_id], retry = exc, True
            else:
                service.checkpoint(result, ti.dag_id, ti.run_id)
                results.append(result)
    finally:
        service.finish_tracking()
    if not failed:
        return results
    reasons = "; ".join(f"{item_id}: {exc}" for item_id, exc in failed.items())
    message = (f"{len(failed)} of {len(ids)} items of this task failed ({reasons}); the results of the other "
               f"{len(results)} are stored and collected")
    if retry:
        raise RuntimeError(message + "; a retry reruns only the failed items")
    if not results and all(isinstance(exc, AirflowSkipException) for exc in failed.values()):
        raise AirflowSkipException(message)
    raise AirflowFailException(message)


def map_label(ids: list[str]) -> str:
    """A mapped task's name in the UI: its item's id, or the first and last of several."""
    label = ids[0] if len(ids) == 1 else f"{ids[0]} … {ids[-1]} ({len(ids)} items)"
    return label if len(label) <= MAP_LABEL_MAX else label[:MAP_LABEL_MAX - 1] + "…"


def collect_results(crew: str, results: list[list[dict[str, Any]]] | None,
                    items: list[Any] | None) -> list[dict[str, Any]]:
    """Upsert this run's finished items into the results table and log the batch; return their summaries.

    ``results`` are the mapped crew tasks' returns (a list of results each); ``items``
    the ids of the run's input items (failed ones left no result). With
    ``items_per_task`` above 1, items finished by a task that failed later are taken
    from their stored rows.
    """
    from airflow.sdk import get_current_context

    from crews import service

    ctx = get_current_context()
    dag_id, run_id = ctx["dag"].dag_id, ctx["run_id"]
    finished = [result for returned in results or [] for result in (returned or []) if result]
    if (ctx["params"].get("items_per_task") or 1) > 1:
        have = {result["item_id"] for result in finished}
        finished += service.stored_results(crew, dag_id, run_id,
                                           [i for i in items or [] if i not in have]).values()
    return service.collect(finished, len(items or []), dag_id, run_id, ctx["ti"].task_id)


def require_all_items(summaries: list[dict[str, Any]] | None, item_ids: list[str] | None) -> None:
    """Raise naming every input item that produced no result (refused, or its task failed). Fails at once,
    without retries, when the list step refused the run."""
    from airflow.sdk.exceptions import AirflowFailException

    from crews import service

    if item_ids is None:
        raise AirflowFailException("no item was run: the run's first task refused its conf or its items "
                                   "(see that task's log)")
    missing = service.missing_items(summaries, item_ids)
    if missing:
        raise AirflowFailException(
            f"{len(missing)} of {len(item_ids)} items produced no result: {', '.join(missing)}; "
            "see their mapped task logs (refused, failed, or skipped when the run's budget was spent). "
            "Results of the other items were stored."
        )
    log.info("all %d items produced results", len(item_ids))


def publish_approved(crew: str, asset: Any) -> list[str]:
    """Publish this run's approved output (:func:`crews.service.publish`) and emit an asset event; skips (no
    asset event) when nothing in the run was approved."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowSkipException

    from crews import service

    ctx = get_current_context()
    published = service.publish(crew, ctx["run_id"])
    if not published["paths"]:
        raise AirflowSkipException("nothing was approved in this run; nothing to publish")
    ctx["outlet_events"][asset].extra = {"dag_run_id": ctx["run_id"], "items": published["items"]}
    return published["paths"]


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
    from airflow.sdk import get_current_context

    from crews import service

    return service.quarantine(crew, get_current_context()["run_id"], summary)
