"""Counting hooks around the project's LLM layer, for rows 4 and 5 (benchmark process only).

* every request ``OpenAICompatibleLLM._complete`` sends: its exact keyword arguments
  for ``chat.completions.create`` (what went over HTTP), usage and duration;
* every LLM *step* (``TrackedLLM.call``: one agent turn; its re-asks happen inside it)
  and, for steps with a response model, whether the first answer parsed straight into
  the schema (``parse_structured``), needed a local JSON repair, or a re-ask.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    schema: str | None
    parses: list[bool] = field(default_factory=list)  # outcome of parse_structured per answer
    repaired: bool = False
    error: str | None = None

    @property
    def first_try_valid(self) -> bool:
        return bool(self.parses) and self.parses[0]


@dataclass
class Capture:
    requests: list[dict[str, Any]] = field(default_factory=list)  # {"body", "seconds", "usage", "ok"}
    steps: list[Step] = field(default_factory=list)


@contextmanager
def capture_llm() -> Iterator[Capture]:
    """Patch the LLM classes for the duration; yields what they saw."""
    from crews.runtime import tracked_llm
    from crews.runtime.openai_compatible import OpenAICompatibleLLM

    capture = Capture()
    current: list[Step] = []
    original_complete = OpenAICompatibleLLM._complete
    original_call = tracked_llm.TrackedLLM.call
    original_parse = tracked_llm.parse_structured
    original_repair = tracked_llm.repair_structured

    def complete(self: Any, messages: list[dict[str, Any]], response_model: Any) -> Any:
        entry = {"body": self.request_body(messages, response_model), "ok": False}
        capture.requests.append(entry)
        began = time.perf_counter()
        try:
            result = original_complete(self, messages, response_model)
        finally:
            entry["seconds"] = time.perf_counter() - began
        entry.update(ok=True, usage=dict(result.usage))
        return result

    def call(self: Any, messages: Any, *args: Any, **kwargs: Any) -> Any:
        response_model = kwargs.get("response_model")
        step = Step(schema=getattr(response_model, "__name__", None))
        capture.steps.append(step)
        current.append(step)
        try:
            return original_call(self, messages, *args, **kwargs)
        except Exception as exc:
            step.error = f"{type(exc).__name__}: {exc}"[:300]
            raise
        finally:
            current.pop()

    def parse(text: str, response_model: Any) -> Any:
        try:
            value = original_parse(text, response_model)
        except Exception:
            if current:
                current[-1].parses.append(False)
            raise
        if current:
            current[-1].parses.append(True)
        return value

    def repair(text: str, response_model: Any) -> Any:
        value = original_repair(text, response_model)
        if current and value is not None:
            current[-1].repaired = True
        return value

    OpenAICompatibleLLM._complete = complete
    tracked_llm.TrackedLLM.call = call
    tracked_llm.parse_structured = parse
    tracked_llm.repair_structured = repair
    try:
        yield capture
    finally:
        OpenAICompatibleLLM._complete = original_complete
        tracked_llm.TrackedLLM.call = original_call
        tracked_llm.parse_structured = original_parse
        tracked_llm.repair_structured = original_repair
