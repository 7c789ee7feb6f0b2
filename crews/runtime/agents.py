"""How every crew builds its agents from YAML config."""

from __future__ import annotations

from typing import Any

from crewai import Agent
from crewai.llms.base_llm import BaseLLM


def build_agent(config: dict[str, Any], llm: BaseLLM) -> Agent:
    """An agent that never delegates and does not retry on its own.

    Retries belong to the LLM client (transport) and to Airflow (task); CrewAI's
    agent retry would multiply them.
    """
    return Agent(config=config, llm=llm, allow_delegation=False, max_retry_limit=0)
