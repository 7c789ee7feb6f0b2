"""One tracked crew run: records events while the crew works, then writes one MLflow run.

Usage::

    with CrewRunTracker(context, llm_params, prompt_hash, inputs) as tracker:
        result = run_the_crew(...)
        tracker.set_output(result_dict, {"claims": 5})

Nothing here can fail the crew: if MLflow cannot be reached the run record is
spooled to disk (see :mod:`crews.tracking.spool`) and replayed by the next run
that reaches the server.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any

from crews.runtime.pricing import PricingTable, pricing_table
from crews.tracking import background, spool
from crews.tracking.context import RunContext
from crews.tracking.recorder import EventRecorder
from crews.tracking.summary import llm_call_rows, metrics_from_calls

log = logging.getLogger(__name__)

Writer = Callable[[dict[str, Any]], str]


def _open_in_background(tracker: CrewRunTracker) -> None:
    """While the crew waits on the LLM: import MLflow and create the item's run (status RUNNING)."""
    try:
        from crews.tracking.mlflow_writer import open_run
        from crews.tracking.redaction import redact_record

        tracker.opened = open_run(redact_record(tracker.head()))
    except Exception as exc:  # the write after the crew tries again, or spools the record
        log.debug("MLflow run not opened during the crew: %s", exc)


def _default_writer(record: dict[str, Any]) -> str:
    from crews.tracking.mlflow_writer import write_run

    return write_run(record, new=True)  # a fresh record (new uuid): no earlier partial run to look for


def _default_writer_replay(record: dict[str, Any]) -> str:
    from crews.tracking.mlflow_writer import write_run

    return write_run(record)  # a spooled record: a partial run written for it before is replaced


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, default=str, ensure_ascii=False)


class CrewRunTracker:
    """Context manager around one crew run; see the module docstring."""

    def __init__(
        self,
        context: RunContext,
        llm_params: dict[str, Any],
        prompt_hash: str,
        inputs: dict[str, Any] | None = None,
        writer: Writer | None = None,
        pricing: PricingTable | None = None,
        prompt_template: str | None = None,
        prompt_tags: dict[str, str] | None = None,
    ) -> None:
        self.context = context
        self.llm_params = llm_params
        self.prompt_hash = prompt_hash
        self.prompt_template = prompt_template
        # Where the prompts came from (crews.prompt_source.ServedPrompts.tags): prompt_source, prompt_version
        # (when served from the registry), prompt_alias, prompt_requested, prompt_fallback.
        self.prompt_tags = dict(prompt_tags or {})
        self.inputs = inputs
        self.writer = writer or _default_writer
        self.pricing = pricing or pricing_table()
        self.output: Any = None
        self.output_metrics: dict[str, float] = {}
        self.extra_artifacts: dict[str, Any] = {}
        self.record: dict[str, Any] | None = None
        self.mlflow_run_id: str | None = None
        self.spooled_to: str | None = None
        self.tracking_seconds = 0.0
        self._recorder = EventRecorder()
        self._opening: threading.Thread | None = None
        self.opened: dict[str, str] | None = None  # the run created during the crew (open_run)
        self._finishing: Any = None  # the writer thread's future (background.submit)
        self._start = 0.0
        self._record_id = uuid.uuid4().hex
        self._trace_id = ""

    def __enter__(self) -> CrewRunTracker:
        self._start = time.time()
        self._recorder.start()
        if self.writer is _default_writer:
            from crews.tracking.trace_export import new_trace_id

            self._trace_id = new_trace_id()
            self._opening = threading.Thread(target=_open_in_background, args=(self,), name="mlflow-open",
                                             daemon=True)
            self._opening.start()
        return self

    def head(self) -> dict[str, Any]:
        """What the run is created with before the crew ends (see :func:`mlflow_writer.open_run`)."""
        return {"record_id": self._record_id, "experiment": self.context.experiment,
                "run_name": self.context.run_name, "start_ms": int(self._start * 1000),
                "tags": {**self._tags(), "status": "running"}, "prompt_template": self.prompt_template,
                "trace_id": self._trace_id}

    def _tags(self) -> dict[str, str]:
        return {
            **self.context.tags(),
            "provider": str(self.llm_params.get("provider", "")),
            "model": str(self.llm_params.get("model", "")),
            **self.prompt_tags,
            "prompt_hash": self.prompt_hash,
        }

    def set_output(
        self, output: Any, metrics: dict[str, float] | None = None, artifacts: dict[str, Any] | None = None
    ) -> None:
        """The crew's result, its metrics and extra JSON artifacts (name -> value)."""
        self.output = output
        self.output_metrics = dict(metrics or {})
        self.extra_artifacts = dict(artifacts or {})

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        end = time.time()
        spans = self._recorder.stop()
        began = time.perf_counter()
        if self._opening is not None:  # two threads importing mlflow at once break its partial import
            self._opening.join(timeout=120)
        self.record = self.build_record(spans, end, exc)
        self.publish(self.record)
        self.tracking_seconds = time.perf_counter() - began
        return False

    def build_record(self, spans: list, end: float, exc: BaseException | None) -> dict[str, Any]:
        provider = str(self.llm_params.get("provider", ""))
        rows = llm_call_rows(spans, self.pricing, provider)
        metrics = metrics_from_calls(rows)
        metrics.update(self.output_metrics)
        metrics["wall_time_s"] = end - self._start
        if self.inputs is not None:
            metrics["input_chars"] = len(json.dumps(self.inputs, default=str, ensure_ascii=False))
        if self.output is not None:
            metrics["output_chars"] = len(json.dumps(self.output, default=str, ensure_ascii=False))
        tags = {
            **self._tags(),
            "status": "failed" if exc else "succeeded",
            "price_known": str(all(r["price_known"] for r in rows)).lower(),
        }
        artifacts = {
            "llm_calls.jsonl": "\n".join(json.dumps(r, default=str, ensure_ascii=False) for r in rows) + "\n",
        }
        if self.inputs is not None:
            artifacts["inputs.json"] = _dumps(self.inputs)
        if self.output is not None:
            artifacts["output.json"] = _dumps(self.output)
        artifacts.update({name: _dumps(value) for name, value in self.extra_artifacts.items()})
        if exc is not None:
            artifacts["error.txt"] = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            tags["error"] = f"{type(exc).__name__}: {exc}"[:500]
        return {
            "record_id": self._record_id,
            "experiment": self.context.experiment,
            "run_name": self.context.run_name,
            "tags": tags,
            "params": {"crew": self.context.crew, **{f"llm.{k}": v for k, v in self.llm_params.items()}},
            "metrics": metrics,
            "artifacts": artifacts,
            "spans": _with_usage(spans, rows, provider),
            "trace_inputs": self.inputs,
            "trace_outputs": self.output if exc is None else {"error": str(exc)},
            "status": "FAILED" if exc else "FINISHED",
            "prompt_template": self.prompt_template,
            "start_ms": int(self._start * 1000),
            "end_ms": int(end * 1000),
            **({"trace_id": self._trace_id} if self._trace_id and spans else {}),
        }

    def publish(self, record: dict[str, Any]) -> None:
        if self.opened is None:
            self.mlflow_run_id, self.spooled_to = publish_record(record, self.writer)
            return
        from crews.tracking.mlflow_writer import finish_run
        from crews.tracking.redaction import redact_record

        opened = self.opened
        self._finishing = background.submit(redact_record(record), lambda rec: finish_run(rec, opened),
                                            replay=lambda old: _default_writer_replay(redact_record(old)))
        self.mlflow_run_id = opened["run_id"]

    def settle(self) -> None:
        """After :func:`background.wait_for_writes`: a run whose finish failed is reported as spooled."""
        if self._finishing is not None and self._finishing.done() and self._finishing.result():
            self.mlflow_run_id, self.spooled_to = None, self._finishing.result()


def _with_usage(spans: list, rows: list[dict[str, Any]], provider: str) -> list[dict[str, Any]]:
    """The spans as dicts; each LLM call's carries its paid token usage and, when the price is known, its
    cost (a reply replayed from the response cache spent nothing: zero tokens, ``cached_tokens`` kept)."""
    by_call = {row["call_id"]: row for row in rows}
    out = []
    for span in spans:
        data = span.to_dict()
        row = by_call.get(data["attributes"].get("call_id")) if data["kind"] == "llm" else None
        if row is not None:
            paid = not row["cached"]
            data["attributes"]["provider"] = provider
            data["attributes"]["token_usage"] = {
                "input_tokens": row["prompt_tokens"] if paid else 0,
                "output_tokens": row["completion_tokens"] if paid else 0,
                "total_tokens": row["total_tokens"] if paid else 0,
            }
            if row["price_known"]:
                data["attributes"]["cost"] = {
                    "input_cost": row["input_cost_usd"] if paid else 0.0,
                    "output_cost": row["output_cost_usd"] if paid else 0.0,
                    "total_cost": row["cost_usd"] if paid else 0.0,
                }
        out.append(data)
    return out


def publish_record(record: dict[str, Any], writer: Writer) -> tuple[str | None, str | None]:
    """Redact PII, write the record or spool it; then replay older spooled records. Returns (run id, spool
    path)."""
    from crews.tracking.redaction import redact_record

    record = redact_record(record)
    try:
        run_id = writer(record)
    except Exception as exc:  # tracking must never fail the crew or the DAG
        spooled_to = str(spool.spool(record))
        log.warning("MLflow unavailable (%s); tracking record spooled to %s", exc, spooled_to)
        return None, spooled_to
    replayer = _default_writer_replay if writer is _default_writer else writer
    written, left = spool.replay(lambda old: replayer(redact_record(old)))  # spooled before redaction existed
    if written or left:
        log.info("replayed %d spooled tracking records (%d left)", written, left)
    return run_id, None


def publish_batch_summary(crew: str, run_name: str, tags: dict[str, str], metrics: dict[str, float],
                          writer: Writer | None = None) -> str:
    """One run summarising a batch (a DAG run) of ``crew``; spooled like any run record if MLflow is down.

    One per DAG run: its ``record_id`` is derived from the crew, ``run_name`` and the DAG run's tags, and
    writing it again (the task re-run) replaces the earlier run, so totals are never counted twice.
    Returns where it went: ``MLflow run <id>`` or ``spooled to <path>``.
    """
    now = int(time.time() * 1000)
    batch = "/".join([crew, run_name, tags.get("dag_id", ""), tags.get("run_id", "")])
    record = {
        "record_id": uuid.uuid5(uuid.NAMESPACE_URL, f"crews-batch/{batch}").hex,
        "experiment": f"crews/{crew}",
        "run_name": run_name,
        "tags": {**tags, "crew": crew, "kind": "batch", "purpose": "monitoring"}, "params": {},
        "metrics": metrics, "artifacts": {}, "spans": [], "trace_inputs": None, "trace_outputs": None,
        "status": "FINISHED", "start_ms": now, "end_ms": now,
    }
    run_id, spooled_to = publish_record(record, writer or _replacing_writer)
    return f"MLflow run {run_id}" if run_id else f"spooled to {spooled_to}"


def _replacing_writer(record: dict[str, Any]) -> str:
    from crews.tracking.mlflow_writer import write_run

    return write_run(record, replace=True)
