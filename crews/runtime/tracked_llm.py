"""Base for our CrewAI LLMs: events, token accounting and schema-checked JSON output.

Subclasses only implement :meth:`TrackedLLM._complete` (one request, one
answer). This class emits CrewAI's ``LLMCall*`` events (which the tracking
layer records), counts tokens for ``CrewOutput.token_usage``, and, when CrewAI
asks for a Pydantic ``response_model``, validates the answer, repairs broken
JSON locally, and re-asks a bounded number of times with the validation error
before failing clearly. With guards attached (:meth:`TrackedLLM.with_guards`)
it replays answers from the task instance's response cache and charges paid
calls to the run's budget.
"""

from __future__ import annotations

import json
import logging
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import json_repair
from crewai.events.types.llm_events import LLMCallType
from crewai.llms.base_llm import BaseLLM, llm_call_context
from crewai.utilities.message_utils import message_content_text
from pydantic import BaseModel, PrivateAttr, ValidationError

if TYPE_CHECKING:
    from crews.runtime.budget import BudgetGuard
    from crews.runtime.progress import CallProgress
    from crews.runtime.response_cache import ResponseCache

log = logging.getLogger(__name__)


@dataclass
class Completion:
    """One raw answer from a model endpoint."""

    text: str
    usage: dict[str, int] = field(default_factory=dict)
    finish_reason: str | None = None
    response_id: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)  # OpenAI shape: id, type, function


class StructuredOutputError(ValueError):
    """The model kept answering with JSON that does not fit the requested schema."""


def parse_structured(text: str, response_model: type[BaseModel]) -> BaseModel:
    """Parse ``text`` as JSON for ``response_model``; tolerate code fences around it."""
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body.split("\n", 1)[1] if "\n" in body else body
    start = min((i for i in (body.find("{"), body.find("[")) if i >= 0), default=-1)
    if start > 0:
        body = body[start:]
    return response_model.model_validate_json(body.strip().rstrip("`").strip())


def repair_structured(text: str, response_model: type[BaseModel]) -> BaseModel | None:
    """``response_model`` from JSON repaired locally (quotes, commas, truncation), or None if still
    invalid."""
    try:
        return response_model.model_validate(json_repair.loads(text))
    except (ValidationError, ValueError, TypeError):
        return None


class TrackedLLM(BaseLLM):
    """A CrewAI LLM whose calls are observable on the CrewAI event bus."""

    max_repairs: int = 1
    native_tools: bool = False  # the model answers with tool calls when an agent offers tools
    _cache: ResponseCache | None = PrivateAttr(default=None)
    _budget: BudgetGuard | None = PrivateAttr(default=None)
    _progress: CallProgress | None = PrivateAttr(default=None)

    def with_guards(self, cache: ResponseCache | None = None, budget: BudgetGuard | None = None,
                    progress: CallProgress | None = None) -> TrackedLLM:
        """Replay answers from ``cache``, charge paid calls to ``budget``, report each call to
        ``progress``."""
        self._cache, self._budget, self._progress = cache, budget, progress
        return self

    def request_key(self, chat: list[dict[str, Any]], response_model: type[BaseModel] | None,
                    tools: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """Everything that determines the answer: provider, model, messages, parameters, output schema and
        the tools offered."""
        return {
            **({"tools": tools} if tools else {}),
            "provider": self.provider, "model": self.model, "messages": chat,
            "params": {"temperature": self.temperature, "max_tokens": getattr(self, "max_tokens", None),
                       "stop": self.stop_sequences,
                       "structured_mode": getattr(self, "structured_mode", None)},
            "schema": schema_for(response_model) if response_model is not None else None,
        }

    @abstractmethod
    def _complete(
        self, messages: list[dict[str, Any]], response_model: type[BaseModel] | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        """Send one chat request (offering ``tools``, OpenAI format, when given) and return the raw
        answer."""

    def supports_function_calling(self) -> bool:
        """Whether agents hand this model their tools (CrewAI then calls with ``tools`` and runs the tool
        calls it answers with)."""
        return self.native_tools

    def get_input_tokens_count(
        self,
        messages: str | list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> int:
        """CrewAI's estimate for its context-window check before each call: one token per four characters.

        The same figure as CrewAI's fallback, without the warning it logs on every call
        (none of our endpoints counts tokens natively). Billing uses the server's counts.
        """
        text = messages if isinstance(messages, str) else "".join(message_content_text(m) for m in messages)
        return (len(text) + 3) // 4

    def call(
        self,
        messages: str | list[dict[str, Any]],
        tools: list[dict[str, Any]] | None = None,
        callbacks: list[Any] | None = None,
        available_functions: dict[str, Any] | None = None,
        from_task: Any | None = None,
        from_agent: Any | None = None,
        response_model: type[BaseModel] | None = None,
    ) -> str | BaseModel | list[dict[str, Any]]:
        """The answer: text, the ``response_model`` instance, or the tool calls the model asked for."""
        chat = [{"role": "user", "content": messages}] if isinstance(messages, str) else list(messages)
        offered = tools if tools and self.native_tools else None
        attempts = 1 + (self.max_repairs if response_model is not None else 0)
        last_error: Exception | None = None
        for _ in range(attempts):
            completion = self._tracked_complete(chat, response_model, from_task, from_agent, offered)
            if completion.tool_calls:
                return [dict(call) for call in completion.tool_calls]  # CrewAI runs them and calls again
            if response_model is None:
                return completion.text
            try:
                return parse_structured(completion.text, response_model)
            except (ValidationError, ValueError) as exc:
                last_error = exc
            repaired = repair_structured(completion.text, response_model)
            if repaired is not None:
                log.info("%s: repaired malformed JSON for %s without a new call", self.model,
                         response_model.__name__)
                return repaired
            chat = [
                *chat,
                {"role": "assistant", "content": completion.text},
                {
                    "role": "user",
                    "content": "Your answer did not match the required JSON schema: "
                    f"{_short_error(last_error)}\nReply again with only the corrected JSON object.",
                },
            ]
        raise StructuredOutputError(
            f"{self.model} gave no valid {response_model.__name__} after {attempts} attempts: "
            f"{_short_error(last_error)}"
        )

    def _tracked_complete(
        self,
        chat: list[dict[str, Any]],
        response_model: type[BaseModel] | None,
        from_task: Any | None,
        from_agent: Any | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        with llm_call_context():
            return self._complete_in_context(chat, response_model, from_task, from_agent, tools)

    def _complete_in_context(
        self,
        chat: list[dict[str, Any]],
        response_model: type[BaseModel] | None,
        from_task: Any | None,
        from_agent: Any | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        key = self.request_key(chat, response_model, tools) if self._cache is not None else None
        cached = self._cache.get(key) if key is not None else None
        self._emit_call_started_event(messages=chat, from_task=from_task, from_agent=from_agent)
        if cached is not None:
            usage = self._emit_completed(chat, cached, from_task, from_agent, cached=True)
            self._report(from_agent, usage)
            return cached
        try:
            if self._budget is not None:
                self._budget.check()
            completion = self._complete(chat, response_model, tools)
        except Exception as exc:
            self._emit_call_failed_event(
                error=f"{type(exc).__name__}: {exc}", from_task=from_task, from_agent=from_agent
            )
            raise
        if key is not None:
            self._cache.put(key, completion)
        usage = self._emit_completed(chat, completion, from_task, from_agent, cached=False)
        if self._budget is not None:
            self._budget.charge(usage["prompt_tokens"], usage["completion_tokens"])
        self._report(from_agent, usage)
        return completion

    def _report(self, from_agent: Any | None, usage: dict[str, Any]) -> None:
        if self._progress is not None:
            self._progress.call_done(getattr(from_agent, "role", None), usage)

    def _emit_completed(self, chat: list[dict[str, Any]], completion: Completion, from_task: Any | None,
                        from_agent: Any | None, cached: bool) -> dict[str, int]:
        """Emit the completed event; a cache hit reports zero paid tokens and what it saved."""
        usage = {
            "prompt_tokens": int(completion.usage.get("prompt_tokens", 0)),
            "completion_tokens": int(completion.usage.get("completion_tokens", 0)),
        }
        usage["total_tokens"] = int(completion.usage.get("total_tokens", sum(usage.values())))
        if cached:
            usage = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0,
                     "cached": True, "cached_tokens": usage["total_tokens"]}
        else:
            self._track_token_usage_internal({**usage, "successful_requests": 1})
        self._emit_call_completed_event(
            response=json.dumps(completion.tool_calls) if completion.tool_calls else completion.text,
            call_type=LLMCallType.TOOL_CALL if completion.tool_calls else LLMCallType.LLM_CALL,
            from_task=from_task,
            from_agent=from_agent,
            messages=chat,
            usage=usage,
            finish_reason=completion.finish_reason,
            response_id=completion.response_id,
        )
        return usage


def schema_for(response_model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema sent to the server for ``response_model``."""
    return response_model.model_json_schema()


def schema_instruction(response_model: type[BaseModel]) -> str:
    """A system-prompt line for servers that only honour plain JSON mode."""
    return "Answer with one JSON object that follows this JSON schema:\n" + json.dumps(
        schema_for(response_model)
    )


def _short_error(exc: Exception | None, limit: int = 400) -> str:
    text = str(exc) if exc else "unknown error"
    return text if len(text) <= limit else text[:limit] + "..."
