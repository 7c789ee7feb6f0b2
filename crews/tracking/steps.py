"""Spans for the deterministic steps of a crew run (fact comparison, clause search, quote checks, profiling).

The crews decide facts with code between their LLM calls; those steps decide the
verdicts, so they belong in the trace beside the agents. Decorate a step::

    @traced_step("tool")
    def verify_claims(claims, copy_text, sheet): ...

While a :class:`~crews.tracking.recorder.EventRecorder` is recording, each call
becomes a ``tool`` (MLflow TOOL) or ``retriever`` (MLflow RETRIEVER) span with
its arguments, result and, where the result has one, its verdict; outside a
recording the decorator only calls the function. Nothing here imports MLflow or
CrewAI, and recording never changes what the step returns or raises.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

MAX_TEXT = 2000  # characters kept of one string value
MAX_ITEMS = 50  # items kept of one list or dict
MAX_DEPTH = 6


@dataclass
class StepLog:
    """The step spans of one recording (appended from the crew's thread, read after it)."""

    spans: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, span: Any) -> None:
        with self.lock:
            self.spans.append(span)


_active: ContextVar[StepLog | None] = ContextVar("crews_step_log", default=None)
_parent: ContextVar[str | None] = ContextVar("crews_step_parent", default=None)


def activate(log: StepLog) -> Callable[[], None]:
    """Record steps into ``log`` in this context; returns the function that stops it."""
    token = _active.set(log)
    return lambda: _active.reset(token)


def traced_step(kind: str = "tool", name: str | None = None) -> Callable[[F], F]:
    """Record each call of the decorated function as a ``kind`` span (``tool`` or ``retriever``)."""
    if kind not in {"tool", "retriever"}:
        raise ValueError(f"unknown step kind {kind!r}: use 'tool' or 'retriever'")

    def wrap(function: F) -> F:
        signature = inspect.signature(function)
        span_name = name or function.__name__

        @functools.wraps(function)
        def traced(*args: Any, **kwargs: Any) -> Any:
            log = _active.get()
            if log is None:
                return function(*args, **kwargs)
            from crews.tracking.recorder import SpanRecord

            span = SpanRecord(span_id=f"step-{uuid.uuid4().hex}", parent_id=_parent.get(), kind=kind,
                              name=span_name, start_ns=time.time_ns(),
                              inputs=_arguments(signature, args, kwargs))
            token = _parent.set(span.span_id)
            try:
                result = function(*args, **kwargs)
            except BaseException as exc:
                span.ok, span.error = False, f"{type(exc).__name__}: {exc}"[:MAX_TEXT]
                raise
            else:
                span.ok = True
                span.outputs = _documents(result) if kind == "retriever" else compact(result)
                verdicts = _verdicts(result)
                if verdicts:
                    span.attributes["verdicts"] = verdicts
                return result
            finally:
                _parent.reset(token)
                span.end_ns = time.time_ns()
                log.add(span)

        return traced  # type: ignore[return-value]

    return wrap


def _arguments(signature: inspect.Signature, args: tuple, kwargs: dict) -> dict[str, Any]:
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return {"args": compact(list(args)), "kwargs": compact(kwargs)}
    return {key: compact(value) for key, value in bound.arguments.items()
            if key not in {"self", "llm", "crew"}}


def compact(value: Any, depth: int = 0) -> Any:
    """A JSON-able, bounded copy of ``value``: models dumped, long strings and lists cut with a note."""
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    elif hasattr(value, "__dataclass_fields__"):
        value = {k: getattr(value, k) for k in value.__dataclass_fields__}
    if isinstance(value, str):
        return (value if len(value) <= MAX_TEXT
                else value[:MAX_TEXT] + f"… [{len(value) - MAX_TEXT} more characters]")
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return repr(value)[:200]
    if isinstance(value, dict):
        items = list(value.items())
        out = {str(k): compact(v, depth + 1) for k, v in items[:MAX_ITEMS]}
        if len(items) > MAX_ITEMS:
            out["…"] = f"{len(items) - MAX_ITEMS} more entries"
        return out
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        out_list = [compact(v, depth + 1) for v in items[:MAX_ITEMS]]
        if len(items) > MAX_ITEMS:
            out_list.append(f"… {len(items) - MAX_ITEMS} more items")
        return out_list
    return repr(value)[:MAX_TEXT]


def _documents(result: Any) -> Any:
    """Retriever output in MLflow's document shape (``page_content``, ``metadata``, ``id``)."""
    if not isinstance(result, list):
        return compact(result)
    documents = []
    for hit in result[:MAX_ITEMS]:
        data = compact(hit)
        if not isinstance(data, dict):
            documents.append({"page_content": str(data), "metadata": {}})
            continue
        text = data.pop("text", None) or data.pop("page_content", "")
        documents.append({"page_content": text, "metadata": data, "id": data.get("clause_id")})
    return documents


def _verdicts(result: Any) -> dict[str, int] | None:
    """How many results carry each verdict (a list of checks), or the one verdict of a single result."""
    items = result if isinstance(result, list | tuple) else [result]
    counts: dict[str, int] = {}
    for item in items:
        verdict = getattr(item, "verdict", None)
        if verdict is None and isinstance(item, dict):
            verdict = item.get("verdict")
        if isinstance(verdict, str):
            counts[verdict] = counts.get(verdict, 0) + 1
    return counts or None
