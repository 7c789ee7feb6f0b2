"""How every crew builds its agents and tasks from YAML config: the base of each crew's ``@CrewBase``
class."""

from __future__ import annotations

import weakref
from typing import Any

from crewai import Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM
from crewai.project.utils import cache as _memo
from crewai.tools import BaseTool
from pydantic import BaseModel

from crews.prompt_source import use_served_prompts
from crews.runtime.tools import agent_tools


class YamlCrew:
    """What every crew's ``@CrewBase`` class shares: prompts in ``config/agents.yaml`` and
    ``config/tasks.yaml`` (or the registry version served to the run), one LLM for all agents, structured
    task outputs, and the workaround for CrewAI's memo cache (:func:`forget_memoized`)."""

    agents_config = "config/agents.yaml"
    tasks_config = "config/tasks.yaml"

    def __init__(self, llm: BaseLLM, tools: dict[str, list[BaseTool]] | None = None) -> None:
        self.llm = llm
        self.tools = tools or {}  # agent name -> the crew's tools that agent may call itself
        forget_memoized(self)
        use_served_prompts(self)  # agents/tasks config from the prompts served to this run

    def agent_named(self, name: str) -> Agent:
        """The agent configured under ``name`` in agents.yaml, holding its tools when the LLM calls tools
        natively (:func:`~crews.runtime.tools.agent_tools`)."""
        return build_agent(self.agents_config[name], self.llm,  # type: ignore[index]
                           agent_tools(self.llm, self.tools.get(name, [])))

    def task_named(self, name: str, output: type[BaseModel]) -> Task:
        """The task configured under ``name`` in tasks.yaml, answering with ``output``.

        ``response_model`` hands the schema to the LLM layer (grammar / json_schema / system message per
        provider) instead of CrewAI pasting it into every task prompt.
        """
        return Task(config=self.tasks_config[name], output_pydantic=output, response_model=output)  # type: ignore[index]

    @staticmethod
    def ask(crew: Crew, inputs: dict[str, Any]) -> list[Any]:
        """Kick off ``crew``: each task's structured output in task order, ``None`` where the model gave
        none that fits the task's schema."""
        output = crew.kickoff(inputs=inputs)
        return [out.pydantic if isinstance(out.pydantic, task.output_pydantic) else None
                for task, out in zip(crew.tasks, output.tasks_output, strict=True)]

    @staticmethod
    def sequential(name: str, agents: list[Agent], tasks: list[Task]) -> Crew:
        """A crew that runs ``tasks`` in order, quietly."""
        return Crew(name=name, agents=agents, tasks=tasks, process=Process.sequential, verbose=False)


def build_agent(config: dict[str, Any], llm: BaseLLM, tools: list[BaseTool] | None = None) -> Agent:
    """An agent that never delegates and does not retry on its own.

    Retries belong to the LLM client (transport) and to Airflow (task); CrewAI's
    agent retry would multiply them.
    """
    return Agent(config=config, llm=llm, allow_delegation=False, max_retry_limit=0, tools=tools or [])


def forget_memoized(crew: object) -> None:
    """Keep CrewAI's ``@agent``/``@task`` memo from handing a new crew an old crew's agents.

    CrewAI memoizes those methods in one process-wide cache keyed on ``id(self)``
    and never evicts. Once a crew object is freed, a new one can get the same id
    and would receive the old agents, bound to the old LLM and its tracker (seen
    in the test suite; an evaluation loop would hit it too). Entries for this id
    are dropped now and again when the crew is freed.
    """
    marker = str(("__instance__", id(crew)))
    with _memo._lock.w_locked():  # normal code: waiting for the lock is safe here
        _evict([marker, *_take_deferred()])
    weakref.finalize(crew, _on_freed, marker)


# Markers of crews freed while the memo's lock was taken. The garbage collector runs finalizers at any
# allocation, also inside a section that holds the (non-reentrant) lock in this very thread, crewai's
# or our own eviction; waiting there deadlocked the test suite. A finalizer therefore never waits:
# it evicts when the lock is free and otherwise leaves the marker for the next forget_memoized.
_deferred: list[str] = []


def _evict(markers: list[str]) -> None:
    for key in [k for k in _memo._cache if any(m in k for m in markers)]:
        del _memo._cache[key]


def _take_deferred() -> list[str]:
    taken = _deferred[:]
    del _deferred[: len(taken)]  # a marker appended meanwhile (by a finalizer) stays
    return taken


def _on_freed(marker: str) -> None:
    lock = _memo._lock  # crewai's RWLock; its Condition holds an RLock, so a finalizer run inside it gets in
    with lock._cond:
        if lock._writer or lock._readers:
            _deferred.append(marker)
            return
        lock._writer = True
    try:
        _evict([marker])
    finally:
        lock.w_release()
