"""The only module that talks to MLflow: writes one run record as a run plus a trace.

A *run record* is a JSON-serialisable dict built by :mod:`crews.tracking.tracker`
(experiment, run name, tags, params, metrics, text artifacts, spans). Writing
it afterwards, in one go, keeps MLflow off the crew's hot path and lets a record
that could not be written be spooled and replayed unchanged.
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import httpx

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

_SPAN_TYPES = {"root": "CHAIN", "crew": "CHAIN", "task": "CHAIN", "agent": "AGENT", "llm": "CHAT_MODEL"}


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


def connect(uri: str | None = None) -> Any:
    """An ``MlflowClient`` for ``uri`` (default: :func:`tracking_uri`), after a fast health check."""
    uri = uri or tracking_uri()
    check_server(uri)  # before importing MLflow: a dead server costs the timeout and nothing more
    from mlflow.tracking import MlflowClient

    route_mlflow_logs()
    return MlflowClient(uri)


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
- Traces (tab *Traces*): one per item run, with a span per agent and per LLM call (prompt, answer, tokens).
- Other runs: `kind=batch` (one per DAG run), `kind=evaluation` (golden set scores), `kind=drift`.
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
    _experiments[key] = client.create_experiment(name, tags={"mlflow.note.content": EXPERIMENT_NOTE.format(crew=crew)})
    return _experiments[key]


def write_run(record: dict[str, Any], uri: str | None = None, *, new: bool = False, replace: bool = False) -> str:
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
        if not cached:
            raise
        # The experiment id may be stale (deleted, or a new store behind the same URI): look it
        # up again, replacing any partial run the first attempt left.
        log.info("MLflow write failed with a cached experiment id (%s); retrying with a fresh lookup", exc)
        return _write(client, record, False, replace)


def _write(client: Any, record: dict[str, Any], new: bool, replace: bool = False) -> str:
    import mlflow
    from mlflow.entities import Metric, Param, RunTag

    mlflow.set_tracking_uri(client.tracking_uri)
    experiment_id = ensure_experiment(client, record["experiment"])
    done = None if new else _existing_run(client, experiment_id, record["record_id"], keep_finished=not replace)
    if done:
        return done
    version = _prompt_version(client, record) if record.get("prompt_template") else None
    tags = {**record["tags"], "mlflow.runName": record["run_name"], "record_id": record["record_id"]}
    if record.get("prompt_template"):
        tags["prompt_version"] = str(version.version) if version else "unregistered"
    run_id = client.create_run(experiment_id, start_time=record["start_ms"], tags=tags).info.run_id
    if version:
        _link_prompt(client, run_id, version)
    trace_id = _write_trace(record, experiment_id, run_id)
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(k, float(v), now, 0) for k, v in sorted(record["metrics"].items())],
        params=[Param(k, str(v)[:6000]) for k, v in sorted(record["params"].items())],
        tags=[RunTag("trace_id", trace_id)] if trace_id else [],
    )
    for name, text in record["artifacts"].items():
        client.log_text(run_id, text, name)
    client.set_terminated(run_id, status=record["status"], end_time=record["end_ms"])
    return run_id


def _existing_run(client: Any, experiment_id: str, record_id: str, keep_finished: bool = True) -> str | None:
    """The id of a finished run already written for ``record_id``; a partial one is deleted (and, with
    ``keep_finished=False``, a finished one too, so the record is written afresh)."""
    for run in client.search_runs([experiment_id], f"tags.record_id = '{record_id}'", max_results=50):
        if keep_finished and run.info.status != "RUNNING" and run.info.end_time:
            return run.info.run_id
        client.delete_run(run.info.run_id)
    return None


def _prompt_version(client: Any, record: dict[str, Any]) -> Any | None:
    """The prompt registry version of the record's prompts (registered if the hash is new), or None."""
    from crews.tracking.prompts import ensure_prompt_version

    crew, prompt_hash = record["tags"].get("crew", ""), record["tags"].get("prompt_hash", "")
    try:
        return ensure_prompt_version(client, crew, record["prompt_template"], prompt_hash)
    except Exception as exc:  # the hash tag still identifies the prompts; the run is not lost
        log.warning("prompt registry unavailable (%s); the run keeps only the prompt hash", exc)
        return None


def _link_prompt(client: Any, run_id: str, version: Any) -> None:
    try:
        client.link_prompt_version_to_run(run_id, version)
    except Exception as exc:
        log.warning("prompt version not linked (%s); run %s keeps only the prompt hash", exc, run_id)
        client.set_tag(run_id, "prompt_version", "unregistered")


def _write_trace(record: dict[str, Any], experiment_id: str, run_id: str) -> str | None:
    import mlflow

    spans = record["spans"]
    if not spans:
        return None
    root_start = min(s["start_ns"] for s in spans)
    root_end = max((s["end_ns"] or s["start_ns"]) for s in spans)
    root = mlflow.start_span_no_context(
        name=record["tags"].get("crew", "crew"),
        span_type=_SPAN_TYPES["root"],
        inputs=record.get("trace_inputs"),
        attributes=dict(record["tags"]),
        tags={k: v for k, v in record["tags"].items() if k in {"crew", "dag_id", "item_id", "model"}},
        metadata={"mlflow.sourceRun": run_id},
        experiment_id=experiment_id,
        start_time_ns=root_start,
    )
    live = {}
    for span in spans:
        parent = live.get(span["parent_id"], root)
        live[span["span_id"]] = mlflow.start_span_no_context(
            name=span["name"],
            span_type=_SPAN_TYPES.get(span["kind"], "UNKNOWN"),
            parent_span=parent,
            inputs=span["inputs"],
            attributes={k: v for k, v in span["attributes"].items() if v is not None},
            start_time_ns=span["start_ns"],
        )
    for span in reversed(spans):
        status = "OK" if span["ok"] is not False else "ERROR"
        live[span["span_id"]].end(
            outputs=span["outputs"] if span["ok"] is not False else {"error": span["error"]},
            status=status,
            end_time_ns=span["end_ns"] or root_end,
        )
    root.end(
        outputs=record.get("trace_outputs"),
        status="OK" if record["status"] == "FINISHED" else "ERROR",
        end_time_ns=root_end,
    )
    if root.trace_id.startswith("MLFLOW_NO_OP"):
        raise RuntimeError("MLflow tracing is disabled in this process; the trace was not recorded")
    return root.trace_id
