"""Collects CrewAI events into plain span records (no MLflow here).

A :class:`EventRecorder` subscribes to CrewAI's event bus for the duration of
one tracked run and turns start/end event pairs of crews, tasks, agents and LLM
calls into :class:`SpanRecord` objects with nanosecond timestamps taken when
the events were emitted. Handlers run on CrewAI's handler threads, so they only
append under a lock; all assembly happens after :meth:`EventRecorder.stop`.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from crewai.events import crewai_event_bus
from crewai.events.types.agent_events import (
    AgentExecutionCompletedEvent,
    AgentExecutionErrorEvent,
    AgentExecutionStartedEvent,
)
from crewai.events.types.crew_events import (
    CrewKickoffCompletedEvent,
    CrewKickoffFailedEvent,
    CrewKickoffStartedEvent,
)
from crewai.events.types.llm_events import (
    LLMCallCompletedEvent,
    LLMCallFailedEvent,
    LLMCallStartedEvent,
)
from crewai.events.types.task_events import TaskCompletedEvent, TaskFailedEvent, TaskStartedEvent
from crewai.events.types.tool_usage_events import (
    ToolUsageErrorEvent,
    ToolUsageFinishedEvent,
    ToolUsageStartedEvent,
)

from crews.tracking.steps import StepLog, activate

_STARTS = {
    CrewKickoffStartedEvent: "crew",
    TaskStartedEvent: "task",
    AgentExecutionStartedEvent: "agent",
    LLMCallStartedEvent: "llm",
    ToolUsageStartedEvent: "tool",  # a tool an agent called itself (native tool calling)
}
_ENDS = {
    CrewKickoffCompletedEvent: ("crew", True),
    CrewKickoffFailedEvent: ("crew", False),
    TaskCompletedEvent: ("task", True),
    TaskFailedEvent: ("task", False),
    AgentExecutionCompletedEvent: ("agent", True),
    AgentExecutionErrorEvent: ("agent", False),
    LLMCallCompletedEvent: ("llm", True),
    LLMCallFailedEvent: ("llm", False),
    ToolUsageFinishedEvent: ("tool", True),
    ToolUsageErrorEvent: ("tool", False),
}


@dataclass
class SpanRecord:
    """One crew, task, agent, LLM-call or deterministic-step (tool, retriever) span, JSON-serialisable."""

    span_id: str
    parent_id: str | None
    kind: str
    name: str
    start_ns: int
    end_ns: int | None = None
    ok: bool | None = None
    error: str | None = None
    inputs: Any = None
    outputs: Any = None
    attributes: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _ns(timestamp: datetime) -> int:
    return int(timestamp.timestamp() * 1_000_000_000)


def _start_span(kind: str, event: Any) -> SpanRecord:
    span = SpanRecord(
        span_id=event.event_id,
        parent_id=event.parent_event_id,
        kind=kind,
        name=kind,
        start_ns=_ns(event.timestamp),
    )
    if kind == "crew":
        span.name = event.crew_name or "crew"
        span.inputs = event.inputs
    elif kind == "task":
        span.name = event.task_name or "task"
        span.attributes["task_id"] = event.task_id
    elif kind == "agent":
        span.name = (event.agent_role or getattr(event.agent, "role", "agent")).strip()
        span.inputs = event.task_prompt
    elif kind == "tool":
        span.name = event.tool_name
        span.inputs = event.tool_args
        span.attributes.update(agent_role=(event.agent_role or "").strip() or None, called_by="agent")
    else:
        span.name = f"llm {event.model}"
        span.inputs = event.messages
        span.attributes.update(
            call_id=event.call_id,
            model=event.model,
            agent_role=(event.agent_role or "").strip() or None,
            task_name=event.task_name,
            temperature=event.temperature,
            max_tokens=event.max_tokens,
        )
    return span


def _finish_span(span: SpanRecord, event: Any, ok: bool) -> None:
    span.end_ns = _ns(event.timestamp)
    span.ok = ok
    if not ok:
        span.error = str(getattr(event, "error", "failed"))
        return
    if span.kind == "crew":
        span.outputs = str(event.output)
    elif span.kind == "task":
        output = event.output
        span.outputs = output.pydantic.model_dump() if output.pydantic else output.raw
    elif span.kind == "agent":
        span.outputs = event.output
    elif span.kind == "tool":
        span.outputs = str(event.output)
    else:
        span.outputs = event.response
        span.attributes.update(usage=dict(event.usage or {}), finish_reason=event.finish_reason)


class EventRecorder:
    """Records the spans of every crew kicked off while it is active."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: list[Any] = []
        self._stack: ExitStack | None = None
        self._steps = StepLog()

    def start(self) -> EventRecorder:
        self._stack = ExitStack()
        self._stack.enter_context(crewai_event_bus.scoped_handlers())
        for event_type in (*_STARTS, *_ENDS):
            crewai_event_bus.on(event_type)(self._on_event)
        self._stack.callback(activate(self._steps))
        return self

    def stop(self) -> list[SpanRecord]:
        """Wait for pending handlers, unsubscribe and return the spans in start order."""
        crewai_event_bus.flush(timeout=10.0)
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        return self.spans()

    def _on_event(self, source: Any, event: Any) -> None:
        with self._lock:
            self._events.append(event)

    def spans(self) -> list[SpanRecord]:
        with self._lock:
            events = sorted(self._events, key=lambda e: (e.timestamp, e.emission_sequence or 0))
        spans: dict[str, SpanRecord] = {}
        open_llm: dict[str, SpanRecord] = {}
        for event in events:
            kind = _STARTS.get(type(event))
            if kind:
                span = _start_span(kind, event)
                spans[span.span_id] = span
                if kind == "llm":
                    open_llm[event.call_id] = span
                continue
            kind, ok = _ENDS[type(event)]
            span = spans.get(event.started_event_id or "")
            if span is None and kind == "llm":
                span = open_llm.get(event.call_id)
            if span is not None:
                _finish_span(span, event, ok)
        with self._steps.lock:
            steps = list(self._steps.spans)
        ordered = sorted([*spans.values(), *steps], key=lambda s: s.start_ns)
        _resolve_parents(ordered)
        return ordered


_DEPTH = {"crew": 0, "task": 1, "agent": 2, "llm": 3, "tool": 3, "retriever": 3}


def _resolve_parents(spans: list[SpanRecord]) -> None:
    """Point every span at a recorded parent.

    CrewAI's ``parent_event_id`` sometimes names an event we do not record (the
    agent executor's internal steps); such spans get the innermost shallower
    span whose time interval contains their start.
    """
    known = {s.span_id for s in spans}
    for span in spans:
        if span.parent_id in known:
            continue
        enclosing = [
            other
            for other in spans
            if _DEPTH[other.kind] < _DEPTH[span.kind]
            and other.start_ns <= span.start_ns
            and (other.end_ns is None or other.end_ns >= span.start_ns)
        ]
        span.parent_id = (max(enclosing, key=lambda o: (_DEPTH[o.kind], o.start_ns)).span_id
                          if enclosing else None)
