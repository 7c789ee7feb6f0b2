"""Chat client for OpenAI and every OpenAI-compatible server (llama.cpp, Ollama, vLLM).

Structured output is requested the way each server understands it:

* ``json_schema``: OpenAI's ``{"type": "json_schema", "json_schema": {...}}``;
* ``json_object_schema``: llama-cpp-python's grammar-constrained
  ``{"type": "json_object", "schema": {...}}`` (it rejects ``json_schema``);
* ``json_object``: plain JSON mode, with the schema in a system message.

Every request carries the configured client timeout and bounded retries.
"""

from __future__ import annotations

from typing import Any

from openai import OpenAI
from pydantic import BaseModel, PrivateAttr

from crews.runtime.settings import StructuredMode
from crews.runtime.tracked_llm import Completion, TrackedLLM, schema_for, schema_instruction


def response_format_for(mode: StructuredMode, response_model: type[BaseModel]) -> dict[str, Any]:
    """The ``response_format`` request field for ``mode``."""
    if mode == "json_schema":
        return {
            "type": "json_schema",
            "json_schema": {"name": response_model.__name__, "schema": schema_for(response_model)},
        }
    if mode == "json_object_schema":
        return {"type": "json_object", "schema": schema_for(response_model)}
    return {"type": "json_object"}


class OpenAICompatibleLLM(TrackedLLM):
    """A CrewAI LLM backed by the ``openai`` SDK against any compatible base URL."""

    llm_type: str = "openai_compatible"
    structured_mode: StructuredMode = "json_schema"
    timeout_s: float = 120.0
    max_retries: int = 2
    _client: OpenAI | None = PrivateAttr(default=None)
    _secret: str | None = PrivateAttr(default=None)

    def with_api_key(self, api_key: str | None) -> OpenAICompatibleLLM:
        """Attach the API key privately: it stays out of dumps, reprs and events."""
        self._secret = api_key
        self._client = None
        return self

    def _get_client(self) -> OpenAI:
        if self._client is None:
            self._client = OpenAI(
                base_url=self.base_url,
                api_key=self._secret or "not-needed",
                timeout=self.timeout_s,
                max_retries=self.max_retries,
            )
        return self._client

    def request_body(
        self, messages: list[dict[str, Any]], response_model: type[BaseModel] | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for ``chat.completions.create`` (inspectable in tests)."""
        body: dict[str, Any] = {"model": self.model, "messages": messages}
        if tools:
            body["tools"] = tools
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens:
            body["max_tokens"] = int(self.max_tokens)
        if self.stop_sequences and response_model is None:
            body["stop"] = self.stop_sequences
        if response_model is not None:
            body["response_format"] = response_format_for(self.structured_mode, response_model)
            if self.structured_mode == "json_object":
                body["messages"] = [
                    {"role": "system", "content": schema_instruction(response_model)},
                    *messages,
                ]
        return body

    def _complete(
        self, messages: list[dict[str, Any]], response_model: type[BaseModel] | None,
        tools: list[dict[str, Any]] | None = None,
    ) -> Completion:
        response = self._get_client().chat.completions.create(
            **self.request_body(messages, response_model, tools)
        )
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            tool_calls=[{"id": call.id, "type": "function",
                         "function": {"name": call.function.name, "arguments": call.function.arguments}}
                        for call in choice.message.tool_calls or []],
            text=choice.message.content or "",
            usage={
                "prompt_tokens": getattr(usage, "prompt_tokens", 0) or 0,
                "completion_tokens": getattr(usage, "completion_tokens", 0) or 0,
                "total_tokens": getattr(usage, "total_tokens", 0) or 0,
            },
            finish_reason=choice.finish_reason,
            response_id=response.id,
        )
