"""LLM configuration: one validated model, read from the environment or a connection dict.

In Airflow the DAG turns the ``llm_default`` connection into a plain dict
(:func:`LLMSettings.from_connection`); everywhere else the ``CREWS_LLM_*``
environment variables apply (:func:`LLMSettings.from_env`). The API key is a
``SecretStr`` so it never shows up in reprs, logs or tracking params.
"""

from __future__ import annotations

import json
import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

Provider = Literal["local", "openai", "anthropic", "ollama", "openai_compatible", "scripted"]
StructuredMode = Literal["json_schema", "json_object_schema", "json_object"]

LOCAL_BASE_URL = "http://127.0.0.1:8001/v1"
LOCAL_MODEL = "qwen2.5-coder-0.5b-instruct-q4_k_m"

_DEFAULT_MODELS: dict[str, str] = {
    "local": LOCAL_MODEL,
    "openai": "gpt-4o-mini",
    "anthropic": "claude-haiku-4-5",
    "ollama": "qwen2.5:0.5b",
    "scripted": "scripted",
}
_DEFAULT_BASE_URLS: dict[str, str] = {
    "local": LOCAL_BASE_URL,
    "ollama": "http://127.0.0.1:11434/v1",
}
# How each provider is asked for JSON that matches a schema. llama.cpp's server
# answers HTTP 500 to "json_schema" but constrains "json_object" with a schema.
_DEFAULT_STRUCTURED: dict[str, StructuredMode] = {
    "local": "json_object_schema",
    "openai": "json_schema",
    "ollama": "json_schema",
    "openai_compatible": "json_object",
}
_KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}


class LLMSettings(BaseModel):
    """Everything needed to build the crews' LLM."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: Provider = "local"
    model: str = ""
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(default=120.0, gt=0, le=3600)
    max_retries: int = Field(default=2, ge=0, le=10)
    temperature: float = Field(default=0.0, ge=0, le=2)
    max_tokens: int = Field(default=768, gt=0)
    structured_output: StructuredMode | None = None
    script: str | None = None
    native_tools: bool = Field(default=False, description="the model calls tools itself: agents are handed "
                                                          "their crew's tools (see docs/crews.md)")

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value

    def model_post_init(self, __context: Any) -> None:
        if not self.model:
            if self.provider not in _DEFAULT_MODELS:
                raise ValueError(f"provider {self.provider!r} needs an explicit model name")
            object.__setattr__(self, "model", _DEFAULT_MODELS[self.provider])
        if self.base_url is None and self.provider in _DEFAULT_BASE_URLS:
            object.__setattr__(self, "base_url", _DEFAULT_BASE_URLS[self.provider])
        if self.provider == "openai_compatible" and not self.base_url:
            raise ValueError("provider 'openai_compatible' needs base_url")
        if self.native_tools and self.provider in ("local", "anthropic"):
            raise ValueError(f"native_tools is not available for provider {self.provider!r}: the local "
                             "model cannot drive tool calls reliably and Anthropic's tool calls are not "
                             "translated; the pipeline calls the tools itself")
        if self.provider == "scripted" and not self.script:
            raise ValueError("provider 'scripted' needs script='module:function'")
        if self.api_key is None and self.provider in _KEY_ENV:
            key = os.environ.get(_KEY_ENV[self.provider])
            if key:
                object.__setattr__(self, "api_key", SecretStr(key))

    @property
    def structured_mode(self) -> StructuredMode:
        """How to request schema-shaped JSON from this provider."""
        return self.structured_output or _DEFAULT_STRUCTURED.get(self.provider, "json_schema")

    def public_dict(self) -> dict[str, Any]:
        """Settings safe to log: the API key is reduced to whether it is set."""
        data = self.model_dump(exclude={"api_key"})
        data["api_key_set"] = self.api_key is not None
        return data

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, prefix: str = "CREWS_LLM_") -> LLMSettings:
        """Read ``CREWS_LLM_PROVIDER``, ``_MODEL``, ``_BASE_URL``, ``_API_KEY``, ``_TIMEOUT_S`` ...

        ``prefix`` reads another model's variables (the evaluation judge: ``CREWS_JUDGE_``).
        """
        env = os.environ if environ is None else environ
        names = ("provider", "model", "base_url", "api_key", "timeout_s", "max_retries", "temperature",
                 "max_tokens", "structured_output", "script", "native_tools")
        fields = {name: env.get(prefix + name.upper()) for name in names}
        return cls(**{k: v for k, v in fields.items() if v not in (None, "")})

    @classmethod
    def from_connection(cls, conn: dict[str, Any]) -> LLMSettings:
        """Build settings from an Airflow connection exported as a dict.

        ``conn_type`` or ``extra.provider`` picks the provider; ``host`` (with
        ``schema``/``port`` if given) is the base URL, ``password`` the API key,
        and ``extra`` may carry any other field (model, timeout_s, ...).
        """
        extra = conn.get("extra") or {}
        if isinstance(extra, str):
            extra = json.loads(extra) if extra.strip() else {}
        fields: dict[str, Any] = dict(extra)
        provider = fields.pop("provider", None) or conn.get("conn_type") or "local"
        fields["provider"] = {"http": "openai_compatible", "generic": "openai_compatible"}.get(
            provider, provider
        )
        host = conn.get("host")
        if host and "base_url" not in fields:
            if "://" not in host:
                scheme = conn.get("schema") or "http"
                port = f":{conn['port']}" if conn.get("port") else ""
                host = f"{scheme}://{host}{port}/v1"
            fields["base_url"] = host
        if conn.get("password"):
            fields["api_key"] = conn["password"]
        return cls(**fields)
