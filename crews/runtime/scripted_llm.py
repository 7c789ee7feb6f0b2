"""An offline, deterministic LLM for tests and benchmarks (never the product's default).

A *responder* callable gets the chat messages and the requested Pydantic model
and returns the answer (a model instance, a dict or text). Token counts are the
whitespace-split word counts, so tracking is exercised exactly as with a real
server.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, PrivateAttr

from crews.runtime.tracked_llm import Completion, TrackedLLM

Responder = Callable[[list[dict[str, Any]], "type[BaseModel] | None"], Any]


def load_responder(spec: str) -> Responder:
    """Import ``module:function``."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"script must look like 'module:function', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)


def _words(messages: list[dict[str, Any]]) -> int:
    return sum(len(str(m.get("content", "")).split()) for m in messages)


class ScriptedLLM(TrackedLLM):
    """Answers from a Python function instead of a model server."""

    llm_type: str = "scripted"
    _responder: Responder | None = PrivateAttr(default=None)
    calls: int = 0

    def with_responder(self, responder: Responder) -> ScriptedLLM:
        self._responder = responder
        return self

    def _complete(
        self, messages: list[dict[str, Any]], response_model: type[BaseModel] | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        """The responder's answer; with ``tools`` offered, a list of OpenAI-shaped tool calls it returns
        is answered as tool calls."""
        if self._responder is None:
            raise RuntimeError("ScriptedLLM has no responder")
        self.calls += 1
        answer = self._responder(messages, response_model)
        if tools and isinstance(answer, list) and answer and all("function" in c for c in answer):
            prompt, completion = _words(messages), len(json.dumps(answer).split())
            return Completion(text="", tool_calls=answer, finish_reason="tool_calls",
                              usage={"prompt_tokens": prompt, "completion_tokens": completion,
                                     "total_tokens": prompt + completion})
        if isinstance(answer, BaseModel):
            text = answer.model_dump_json()
        elif isinstance(answer, (dict, list)):
            text = json.dumps(answer)
        else:
            text = str(answer)
        prompt, completion = _words(messages), len(text.split())
        return Completion(
            text=text,
            usage={"prompt_tokens": prompt, "completion_tokens": completion,
                   "total_tokens": prompt + completion},
            finish_reason="stop",
        )
