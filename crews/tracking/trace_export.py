"""Writes a run record's spans to MLflow as one trace in two requests, in MLflow's own span conventions.

MLflow's live tracing API exports every span as it ends (one request per span when
export is synchronous). The record's spans are already complete, so they are built
as finished spans and sent together: one ``log_spans`` request (MLflow's OTLP
ingestion, which also fills the trace's token usage, cost and session from the
spans) and one ``start_trace`` request with the trace's metadata.

Conventions (``mlflow.tracing.constant``): LLM calls are ``CHAT_MODEL`` spans with
``mlflow.chat.tokenUsage``, ``mlflow.llm.cost``, ``mlflow.llm.model`` and
``mlflow.llm.provider``; agents ``AGENT``; CrewAI tasks ``TASK``; crews ``CHAIN``;
deterministic checks ``TOOL``; clause search ``RETRIEVER``. The trace's session is
the DAG run (``<dag_id>/<run_id>``), so MLflow's Sessions view groups its items.
"""

from __future__ import annotations

import json
import random
from typing import Any

SPAN_TYPES = {"root": "CHAIN", "crew": "CHAIN", "task": "TASK", "agent": "AGENT", "llm": "CHAT_MODEL",
              "tool": "TOOL", "retriever": "RETRIEVER"}
CHAT_USAGE, LLM_COST = "mlflow.chat.tokenUsage", "mlflow.llm.cost"
MODEL, PROVIDER = "mlflow.llm.model", "mlflow.llm.provider"
SESSION_METADATA, SESSION_ATTRIBUTE = "mlflow.trace.session", "session.id"
PREVIEW_CHARS = 1000
TRACE_TAGS = ("crew", "dag_id", "run_id", "item_id", "model", "provider", "prompt_version")


def session_id(tags: dict[str, str]) -> str | None:
    """The MLflow session of an Airflow item: its DAG run."""
    return f"{tags['dag_id']}/{tags['run_id']}" if tags.get("dag_id") and tags.get("run_id") else None


def span_attributes(span: dict[str, Any]) -> dict[str, Any]:
    """A recorded span's attributes, with an LLM call's usage, cost and model under MLflow's own keys."""
    attributes = {k: v for k, v in span["attributes"].items() if v is not None}
    if span["kind"] == "llm":
        if usage := attributes.pop("token_usage", None):
            attributes[CHAT_USAGE] = usage
        if cost := attributes.pop("cost", None):
            attributes[LLM_COST] = cost
        if attributes.get("model"):
            attributes[MODEL] = attributes["model"]
        if provider := attributes.pop("provider", None):
            attributes[PROVIDER] = provider
    return attributes


def totals(spans: list[dict[str, Any]]) -> tuple[dict[str, int] | None, dict[str, float] | None]:
    """The trace's token usage and cost: sums over its LLM calls (cost only when every call's price is
    known)."""
    calls = [span_attributes(s) for s in spans if s["kind"] == "llm"]
    usages = [c[CHAT_USAGE] for c in calls if CHAT_USAGE in c]
    usage = {k: sum(int(u.get(k, 0)) for u in usages)
             for k in ("input_tokens", "output_tokens", "total_tokens")}
    costs = [c[LLM_COST] for c in calls if LLM_COST in c]
    cost = ({k: sum(float(c.get(k, 0.0)) for c in costs) for k in ("input_cost", "output_cost", "total_cost")}
            if costs and len(costs) == len(calls) else None)
    return (usage if usages else None), cost


def _preview(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text[:PREVIEW_CHARS]


def new_trace_id() -> str:
    """A fresh MLflow trace id (``tr-`` and the 128-bit OpenTelemetry trace id in hex)."""
    return f"tr-{random.getrandbits(128) or 1:032x}"


def write_trace(tracking_uri: str, record: dict[str, Any], experiment_id: str, run_id: str,
                trace_id: str | None = None) -> str | None:
    """Write the record's spans as one trace linked to ``run_id``; returns the trace id (None without
    spans)."""
    from mlflow.entities import Span, TraceInfo, TraceLocation, TraceState
    from mlflow.tracing.client import TracingClient
    from mlflow.tracing.utils import build_otel_context
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import Status, StatusCode

    spans = record["spans"]
    if not spans:
        return None
    tags = record["tags"]
    trace_id = trace_id or new_trace_id()
    otel_trace_id = int(trace_id.removeprefix("tr-"), 16)
    ids = {span["span_id"]: random.getrandbits(64) or 1 for span in spans}
    root_id = random.getrandbits(64) or 1
    start = min(s["start_ns"] for s in spans)
    end = max(s["end_ns"] or s["start_ns"] for s in spans)
    ok = record["status"] == "FINISHED"
    session = session_id(tags)

    def build(name: str, kind: str, span_id: int, parent: int | None, began: int, ended: int, inputs: Any,
              outputs: Any, attributes: dict[str, Any], good: bool, error: str | None = None) -> Any:
        values = {"mlflow.traceRequestId": trace_id, "mlflow.spanType": SPAN_TYPES.get(kind, "UNKNOWN"),
                  "mlflow.spanInputs": inputs, "mlflow.spanOutputs": outputs, **attributes}
        dumped = {k: json.dumps(v, default=str, ensure_ascii=False) for k, v in values.items()}
        status = Status(StatusCode.OK) if good else Status(StatusCode.ERROR, error or "failed")
        return Span(ReadableSpan(
            name=name, context=build_otel_context(otel_trace_id, span_id),
            parent=build_otel_context(otel_trace_id, parent) if parent else None,
            start_time=began, end_time=ended, attributes=dumped, status=status, resource=Resource.get_empty(),
        ))

    root_attributes = dict(tags) | ({SESSION_ATTRIBUTE: session} if session else {})
    built = [build(tags.get("crew", "crew"), "root", root_id, None, start, end, record.get("trace_inputs"),
                   record.get("trace_outputs"), root_attributes, ok)]
    for span in spans:
        good = span["ok"] is not False
        built.append(build(
            span["name"], span["kind"], ids[span["span_id"]], ids.get(span["parent_id"], root_id),
            span["start_ns"], span["end_ns"] or end, span["inputs"],
            span["outputs"] if good else {"error": span["error"]},
            span_attributes(span), good, span["error"],
        ))
    usage, cost = totals(spans)
    metadata = {"mlflow.sourceRun": run_id, "mlflow.trace_schema.version": "3"}
    if session:
        metadata[SESSION_METADATA] = session
    if usage:
        metadata["mlflow.trace.tokenUsage"] = json.dumps(usage)
    if cost:
        metadata["mlflow.trace.cost"] = json.dumps(cost)
    trace_tags = ({"mlflow.traceName": tags.get("crew", "crew")}
                  | {k: str(tags[k]) for k in TRACE_TAGS if tags.get(k)})
    client = TracingClient(tracking_uri)
    client.log_spans(experiment_id, built)
    client.start_trace(TraceInfo(
        trace_id=trace_id, trace_location=TraceLocation.from_experiment_id(experiment_id),
        request_time=start // 1_000_000, execution_duration=(end - start) // 1_000_000,
        state=TraceState.OK if ok else TraceState.ERROR,
        request_preview=_preview(record.get("trace_inputs")),
        response_preview=_preview(record.get("trace_outputs")),
        trace_metadata=metadata, tags=trace_tags,
    ))
    return trace_id
