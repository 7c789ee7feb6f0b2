"""The only module that talks to MLflow: writes one run record as a run plus a trace.

A *run record* is a JSON-serialisable dict built by :mod:`crews.tracking.tracker`
(experiment, run name, tags, params, metrics, text artifacts, spans). Writing
it afterwards, in one go, keeps MLflow off the crew's hot path and lets a record
that could not be written be spooled and replayed unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import httpx

from crews.tracking.trace_export import new_trace_id, write_trace

log = logging.getLogger(__name__)

# Fail fast when the server is gone; the record is spooled instead.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
os.environ.setdefault("MLFLOW_ENABLE_ASYNC_TRACE_LOGGING", "false")
# MLflow traces are OpenTelemetry spans: OTEL_SDK_DISABLED=true would silently turn
# them into no-ops. CrewAI's telemetry is kept off by its own CREWAI_* switches.
if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
    os.environ["OTEL_SDK_DISABLED"] = "false"
# The CLI prints JSON on stdout; keep MLflow's "View run at" banner off it.
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")


class TrackingUnavailable(RuntimeError):
    """The MLflow server did not answer its health check."""


def tracking_uri() -> str:
    return os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")


def check_server(uri: str, timeout_s: float = 2.0) -> None:
    """Raise :class:`TrackingUnavailable` quickly if an HTTP tracking server is down."""
    if not uri.startswith(("http://", "https://")):
        return
    try:
        response = httpx.get(uri.rstrip("/") + "/health", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise TrackingUnavailable(f"MLflow server {uri} unreachable: {type(exc).__name__}") from exc
    if response.status_code != 200:
        raise TrackingUnavailable(f"MLflow server {uri} health check answered {response.status_code}")


HEALTHY_FOR_S = 30.0  # a server that answered recently is not asked again for each write
_healthy: dict[str, float] = {}
_clients: dict[str, Any] = {}  # one client per tracking URI and process: a task running many items reuses it


def connect(uri: str | None = None) -> Any:
    """The process's ``MlflowClient`` for ``uri`` (default: :func:`tracking_uri`), after a fast health
    check."""
    uri = uri or tracking_uri()
    if time.monotonic() - _healthy.get(uri, -HEALTHY_FOR_S) >= HEALTHY_FOR_S:
        check_server(uri)  # before importing MLflow: a dead server costs the timeout and nothing more
    _healthy[uri] = time.monotonic()
    if uri not in _clients:
        from mlflow.tracking import MlflowClient

        route_mlflow_logs()
        _clients[uri] = MlflowClient(uri)
    return _clients[uri]


def route_mlflow_logs() -> None:
    """Send MLflow's own log lines through the host's logging instead of MLflow's stderr handler.

    Airflow records a task's stderr as errors, so MLflow's INFO lines (such as "Waiting up to
    300 seconds for prompt version...") showed as red ERROR lines in successful task logs.
    Through logging they keep their level. Left alone when nothing configured logging.
    """
    root = logging.getLogger()
    mlflow_logger = logging.getLogger("mlflow")
    if not root.handlers or mlflow_logger.propagate and not mlflow_logger.handlers:
        return
    for handler in list(mlflow_logger.handlers):
        mlflow_logger.removeHandler(handler)
    mlflow_logger.propagate = True


EXPERIMENT_NOTE = """Runs of the **{crew}** crew.

- One run per crew item, named `<item> · <dag_id> (<DAG run>, try <n>)` (CLI: `<item> · cli`),
  tagged with the Airflow task instance (`dag_id`, `run_id`, `task_id`, `map_index`, `try_number`).
- Columns worth adding (*Columns* menu): `llm_calls`, `total_tokens`, `cost_usd`, `cache_hits`,
  and per agent `agent.<role>.total_tokens` / `agent.<role>.cost_usd`.
- Item runs nest under their DAG run's batch run (`kind=batch`: items, failures, review share, tokens, cost).
- Traces (tab *Traces*): one per item run: agents, LLM calls (tokens, cost), and the deterministic checks as
  TOOL / RETRIEVER spans; the items of one DAG run share a session (`<dag_id>/<run_id>`).
- Other runs: `kind=evaluation` (golden set scores), `kind=drift`. Every tag: docs/mlflow.md.
"""


_experiments: dict[tuple[str, str], str] = {}  # (tracking URI, name) -> experiment id, per process


def ensure_experiment(client: Any, name: str) -> str:
    """The id of experiment ``name``, created (with a description for the UI) if it does not exist yet."""
    key = (client.tracking_uri, name)
    if key in _experiments:
        return _experiments[key]
    experiment = client.get_experiment_by_name(name)
    if experiment:
        _experiments[key] = experiment.experiment_id
        return experiment.experiment_id
    crew = name.removeprefix("crews/")
    _experiments[key] = client.create_experiment(
        name, tags={"mlflow.note.content": EXPERIMENT_NOTE.format(crew=crew)})
    return _experiments[key]


def write_run(record: dict[str, Any], uri: str | None = None, *, new: bool = False,
              replace: bool = False) -> str:
    """Write ``record`` to MLflow and return the new run id.

    Idempotent on ``record_id``: a record already written completely is not written
    again, and a partial run left by a writer that died is replaced. ``new=True``
    says the record was just built and never written, which skips that lookup;
    ``replace=True`` deletes any run written before for the ``record_id`` and writes
    this one (a DAG run's batch summary, written again when its task is re-run).
    """
    client = connect(uri)
    cached = (client.tracking_uri, record["experiment"]) in _experiments
    try:
        return _write(client, record, new, replace)
    except Exception as exc:
        _experiments.clear()
        _healthy.clear()  # the next write checks the server first again
        if not cached:
            raise
        # The experiment id may be stale (deleted, or a new store behind the same URI): look it
        # up again, replacing any partial run the first attempt left.
        log.info("MLflow write failed with a cached experiment id (%s); retrying with a fresh lookup", exc)
        return _write(client, record, False, replace)


def _write(client: Any, record: dict[str, Any], new: bool, replace: bool = False) -> str:
    import mlflow

    mlflow.set_tracking_uri(client.tracking_uri)
    experiment_id = ensure_experiment(client, record["experiment"])
    done = None if new else _existing_run(client, experiment_id, record["record_id"],
                                          keep_finished=not replace)
    if done:
        return done
    children = (_item_runs(client, experiment_id, record["tags"])
                if record["tags"].get("kind") == "batch" else None)
    if children:
        record = _batch_over(record, children)
    # A fresh trace id: a record replayed from the spool may have left part of a trace under its old one.
    tags = _creation_tags(client, record, new_trace_id() if record["spans"] else None)
    if not new and children is None and (parent := _batch_run(client, experiment_id, record["tags"])):
        tags["mlflow.parentRunId"] = parent  # an item replayed from the spool after its DAG run's summary
    run = client.create_run(experiment_id, start_time=record["start_ms"], tags=tags).info
    _complete(client, record, run.run_id, run.artifact_uri, tags.get("trace_id"), experiment_id)
    for child in children or []:
        client.set_tag(child.info.run_id, "mlflow.parentRunId", run.run_id)
    return run.run_id


def _creation_tags(client: Any, record: dict[str, Any], trace_id: str | None) -> dict[str, str]:
    """The tags a run is created with: the record's, its name and id, the trace id and the prompt link."""
    tags = {**record["tags"], "mlflow.runName": record["run_name"], "record_id": record["record_id"]}
    if record.get("prompt_template"):
        version = _prompt_version(client, record)
        tags["prompt_version"] = str(version.version) if version else "unregistered"
        if version:  # the tag MLflow's link_prompt_version_to_run sets, given at creation: no extra requests
            tags["mlflow.linkedPrompts"] = _linked_prompts(version)
    if trace_id:
        tags["trace_id"] = trace_id
    return tags


def _complete(client: Any, record: dict[str, Any], run_id: str, artifact_uri: str, trace_id: str | None,
              experiment_id: str, tags: dict[str, str] | None = None) -> None:
    """Everything after ``create_run``: trace, params and metrics (and ``tags``), artifacts, then the end."""
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    # Independent requests: sent side by side, all done (or the first error raised) before the run is
    # marked finished, so a run that is FINISHED is complete.
    jobs = [
        lambda: client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), now, 0) for k, v in sorted(record["metrics"].items())],
            params=[Param(k, str(v)[:6000]) for k, v in sorted(record["params"].items())],
            tags=[RunTag(k, str(v)[:8000]) for k, v in sorted((tags or {}).items())],
        ),
        *(lambda name=name, text=text: _upload_text(artifact_uri, name, text)
          for name, text in record["artifacts"].items()),
    ]
    if trace_id and record["spans"]:
        jobs.append(lambda: write_trace(client.tracking_uri, record, experiment_id, run_id, trace_id))
    _run_all(jobs)
    client.set_terminated(run_id, status=record["status"], end_time=record["end_ms"])


def open_run(head: dict[str, Any], uri: str | None = None) -> dict[str, str]:
    """Create the run of a record still being recorded (status RUNNING), from its ``head``: the record's
    experiment, run name, record id, start, start tags, prompt template and trace id. Returns the run's
    ``run_id``, ``artifact_uri`` and ``experiment_id``, for :func:`finish_run`.

    Sent while the crew works, so only the rest of the record is left for after it.
    """
    import mlflow

    client = connect(uri)
    mlflow.set_tracking_uri(client.tracking_uri)
    experiment_id = ensure_experiment(client, head["experiment"])
    tags = _creation_tags(client, head, head.get("trace_id"))
    run = client.create_run(experiment_id, start_time=head["start_ms"], tags=tags).info
    return {"run_id": run.run_id, "artifact_uri": run.artifact_uri, "experiment_id": experiment_id,
            "prompt_version": tags.get("prompt_version", "")}


def finish_run(record: dict[str, Any], opened: dict[str, str], uri: str | None = None) -> str:
    """Write the rest of ``record`` into the run :func:`open_run` created; its tags as they are at the end."""
    client = connect(uri)
    tags = dict(record["tags"])
    if opened.get("prompt_version"):
        tags["prompt_version"] = opened["prompt_version"]
    _complete(client, record, opened["run_id"], opened["artifact_uri"], record.get("trace_id"),
              opened["experiment_id"], tags)
    return opened["run_id"]


_pool: Any = None


def _run_all(jobs: list[Any]) -> None:
    """Run ``jobs`` on a small per-process thread pool and wait for all; re-raise the first failure."""
    global _pool
    from concurrent.futures import ThreadPoolExecutor

    if _pool is None:
        _pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="mlflow-write")
    futures = [_pool.submit(job) for job in jobs]
    errors = [f.exception() for f in futures]
    first = next((e for e in errors if e is not None), None)
    if first is not None:
        raise first


def _upload_text(artifact_uri: str, name: str, text: str) -> None:
    """One artifact file, straight to the run's artifact store (no run lookup per file, as log_text does)."""
    import tempfile
    from pathlib import Path

    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(text, encoding="utf-8")
        get_artifact_repository(artifact_uri).log_artifact(str(path))


def _quoted(value: str) -> str | None:
    return f"'{value}'" if value and "'" not in value and "\\" not in value else None


def _item_runs(client: Any, experiment_id: str, tags: dict[str, str]) -> list[Any]:
    """The item runs (every try) of the DAG run that ``tags`` name, oldest first."""
    dag_id, run_id = _quoted(tags.get("dag_id", "")), _quoted(tags.get("run_id", ""))
    if not dag_id or not run_id:
        return []
    runs, token = [], None
    while True:
        page = client.search_runs([experiment_id], f"tags.dag_id = {dag_id} and tags.run_id = {run_id}",
                                  max_results=1000, order_by=["attributes.start_time ASC"], page_token=token)
        runs += [r for r in page if r.data.tags.get("kind") != "batch"]
        token = page.token
        if not token:
            return runs


def _batch_run(client: Any, experiment_id: str, tags: dict[str, str]) -> str | None:
    """The id of the batch run of the DAG run that ``tags`` name, if it was written."""
    dag_id, run_id = _quoted(tags.get("dag_id", "")), _quoted(tags.get("run_id", ""))
    if not dag_id or not run_id:
        return None
    found = client.search_runs([experiment_id], f"tags.kind = 'batch' and tags.dag_id = {dag_id} and "
                               f"tags.run_id = {run_id}", max_results=1)
    return found[0].info.run_id if found else None


def _batch_over(record: dict[str, Any], children: list[Any]) -> dict[str, Any]:
    """The batch record spanning its item runs: their start to its end, and an ``items.json`` listing them."""
    start = min(r.info.start_time for r in children)
    end = max([record["end_ms"], *(r.info.end_time or 0 for r in children)])
    items = [{"item_id": r.data.tags.get("item_id"), "try_number": r.data.tags.get("try_number"),
              "status": r.data.tags.get("status", r.info.status), "mlflow_run_id": r.info.run_id,
              "total_tokens": r.data.metrics.get("total_tokens"), "cost_usd": r.data.metrics.get("cost_usd")}
             for r in children]
    return {**record, "start_ms": min(start, record["start_ms"]), "end_ms": end,
            "metrics": {**record["metrics"], "duration_s": (end - min(start, record["start_ms"])) / 1000,
                        "item_runs": float(len(children))},
            "artifacts": {**record["artifacts"],
                          "items.json": json.dumps(items, indent=2, ensure_ascii=False)}}


def _existing_run(client: Any, experiment_id: str, record_id: str, keep_finished: bool = True) -> str | None:
    """The id of a finished run already written for ``record_id``; a partial one is deleted (and, with
    ``keep_finished=False``, a finished one too, so the record is written afresh)."""
    for run in client.search_runs([experiment_id], f"tags.record_id = '{record_id}'", max_results=50):
        if keep_finished and run.info.status != "RUNNING" and run.info.end_time:
            return run.info.run_id
        client.delete_run(run.info.run_id)
    return None


def _prompt_version(client: Any, record: dict[str, Any]) -> Any | None:
    """The prompt registry version the record's run was served (``prompt_source=registry``), else the version
    of the record's prompt text, the YAML's (registered if the hash is new); None if the registry fails."""
    from crews.tracking.prompts import version_for_run

    try:
        return version_for_run(client, record["tags"].get("crew", ""), record["tags"],
                               record["prompt_template"])
    except Exception as exc:  # the hash tag still identifies the prompts; the run is not lost
        log.warning("prompt registry unavailable (%s); the run keeps only the prompt hash", exc)
        return None


def _linked_prompts(version: Any) -> str:
    """The run's ``mlflow.linkedPrompts`` tag naming ``version`` (the run page's *Prompts* and the prompt's
    runs)."""
    from mlflow.tracing.utils.prompt import update_linked_prompts_tag

    return update_linked_prompts_tag(None, [version])
