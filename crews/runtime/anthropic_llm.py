"""Chat client for Anthropic's Messages API, so Claude runs get the same guards as every provider.

Like the other clients it is a :class:`TrackedLLM`: events, token accounting,
schema-checked JSON with local repair and one re-ask, the task instance's
response cache and the budget check before each paid call. The schema goes in
the system prompt; system messages are joined into Anthropic's ``system`` field.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, PrivateAttr

from crews.runtime.tracked_llm import Completion, TrackedLLM, schema_instruction


class AnthropicLLM(TrackedLLM):
    """A CrewAI LLM backed by the ``anthropic`` SDK."""

    llm_type: str = "anthropic"
    timeout_s: float = 120.0
    max_retries: int = 2
    _client: Any = PrivateAttr(default=None)
    _secret: str | None = PrivateAttr(default=None)

    def with_api_key(self, api_key: str) -> AnthropicLLM:
        """Attach the API key privately: it stays out of dumps, reprs and events."""
        self._secret, self._client = api_key, None
        return self

    def _get_client(self) -> Any:
        if self._client is None:
            from anthropic import Anthropic

            self._client = Anthropic(api_key=self._secret, base_url=self.base_url, timeout=self.timeout_s,
                                     max_retries=self.max_retries)
        return self._client

    def request_body(self, messages: list[dict[str, Any]],
                     response_model: type[BaseModel] | None) -> dict[str, Any]:
        """Keyword arguments for ``messages.create`` (inspectable in tests)."""
        system = [str(m["content"]) for m in messages if m["role"] == "system"]
        if response_model is not None:
            system.append(schema_instruction(response_model) + "\nReply with the JSON object only.")
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": int(self.max_tokens or 1024),
            "messages": [{"role": m["role"], "content": str(m["content"])}
                         for m in messages if m["role"] != "system"],
        }
        if system:
            body["system"] = "\n\n".join(system)
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.stop_sequences and response_model is None:
            body["stop_sequences"] = self.stop_sequences
        return body

    def supports_function_calling(self) -> bool:
        return False  # tool calls are not translated to the Messages API yet

    def _complete(self, messages: list[dict[str, Any]], response_model: type[BaseModel] | None,
                  tools: list[dict[str, Any]] | None = None) -> Completion:
        """One Messages API request; ``tools`` are never offered here (settings refuse ``native_tools``)."""
        response = self._get_client().messages.create(**self.request_body(messages, response_model))
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        prompt, completion = response.usage.input_tokens, response.usage.output_tokens
        return Completion(
            text=text,
            usage={"prompt_tokens": prompt, "completion_tokens": completion,
                   "total_tokens": prompt + completion},
            finish_reason=response.stop_reason,
            response_id=response.id,
        )
