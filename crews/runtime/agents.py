"""How every crew builds its agents from YAML config."""

from __future__ import annotations

import weakref
from typing import Any

from crewai import Agent
from crewai.llms.base_llm import BaseLLM
from crewai.project.utils import cache as _memo


def build_agent(config: dict[str, Any], llm: BaseLLM) -> Agent:
    """An agent that never delegates and does not retry on its own.

    Retries belong to the LLM client (transport) and to Airflow (task); CrewAI's
    agent retry would multiply them.
    """
    return Agent(config=config, llm=llm, allow_delegation=False, max_retry_limit=0)


def forget_memoized(crew: object) -> None:
    """Keep CrewAI's ``@agent``/``@task`` memo from handing a new crew an old crew's agents.

    CrewAI memoizes those methods in one process-wide cache keyed on ``id(self)``
    and never evicts. Once a crew object is freed, a new one can get the same id
    and would receive the old agents, bound to the old LLM and its tracker (seen
    in the test suite; an evaluation loop would hit it too). Entries for this id
    are dropped now and again when the crew is freed.
    """
    marker = str(("__instance__", id(crew)))

    def evict() -> None:
        with _memo._lock.w_locked():
            for key in [k for k in _memo._cache if marker in k]:
                del _memo._cache[key]

    evict()
    weakref.finalize(crew, evict)
