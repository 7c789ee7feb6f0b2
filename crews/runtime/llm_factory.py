"""The one place that turns :class:`LLMSettings` into a CrewAI LLM."""

from __future__ import annotations

from crewai.llms.base_llm import BaseLLM

from crews.runtime.settings import LLMSettings


def build_llm(settings: LLMSettings) -> BaseLLM:
    """Build the LLM every agent of a crew shares.

    ``local``, ``openai``, ``ollama`` and ``openai_compatible`` go through one
    OpenAI-compatible client with the provider's structured-output mode;
    ``anthropic`` through Anthropic's SDK; ``scripted`` is the offline test
    double. All are :class:`TrackedLLM` s, so every provider gets the response
    cache and the budget guard.
    """
    common = {
        "model": settings.model,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "provider": settings.provider,
        "native_tools": settings.native_tools,
    }
    key = settings.api_key.get_secret_value() if settings.api_key else None
    if settings.provider == "scripted":
        from crews.runtime.scripted_llm import ScriptedLLM, load_responder

        return ScriptedLLM(**common).with_responder(load_responder(settings.script or ""))
    if settings.provider == "anthropic":
        if not key:
            raise ValueError("provider 'anthropic' needs an API key "
                             "(ANTHROPIC_API_KEY or the connection password)")
        from crews.runtime.anthropic_llm import AnthropicLLM

        return AnthropicLLM(
            **common, base_url=settings.base_url, timeout_s=settings.timeout_s,
            max_retries=settings.max_retries,
        ).with_api_key(key)
    if settings.provider == "openai" and not key:
        raise ValueError("provider 'openai' needs an API key (OPENAI_API_KEY or the connection password)")
    from crews.runtime.openai_compatible import OpenAICompatibleLLM

    return OpenAICompatibleLLM(
        **common,
        base_url=settings.base_url,
        structured_mode=settings.structured_mode,
        timeout_s=settings.timeout_s,
        max_retries=settings.max_retries,
    ).with_api_key(key)
