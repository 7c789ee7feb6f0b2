"""The base of the crews' CrewAI tools: deterministic checks with typed arguments and typed results.

A crew's pipeline calls its tools directly (``tool.run(**arguments)``): the arguments are
validated against the tool's ``args_schema`` and the typed result comes back as is, so a small
local model never has to drive a tool call. An agent whose LLM calls tools natively is handed the
same tools (:meth:`crews.runtime.agents.YamlCrew.agent_named`) and reads the result as JSON.
"""

from __future__ import annotations

from typing import Any

from crewai.llms.base_llm import BaseLLM
from crewai.tools import BaseTool
from pydantic import BaseModel, ConfigDict


class ToolResult(BaseModel):
    """What a crew tool returns: a pydantic model for the pipeline, JSON text for an agent."""

    model_config = ConfigDict(frozen=True)

    def __str__(self) -> str:
        return self.model_dump_json()


class CrewTool(BaseTool):
    """A crew's deterministic check, bound to one item's data (a fact sheet, a contract, a dataset).

    Subclasses set ``name``, ``description`` and ``args_schema`` and implement ``_run`` with the
    schema's fields as keyword arguments, returning a :class:`ToolResult`.
    """

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The typed result of one call; a call with arguments the schema refuses raises ``ValueError``
        naming them (CrewAI's own check), an exhausted ``max_usage_count`` one too."""
        result = super().run(*args, **kwargs)
        if not isinstance(result, ToolResult):
            raise ValueError(f"tool {self.name!r} returned no result: {result}")
        return result


def agent_tools(llm: BaseLLM, tools: list[BaseTool]) -> list[BaseTool]:
    """``tools`` when ``llm`` calls tools natively, else none: a model that cannot call them gets their
    results in its prompt from the pipeline instead."""
    return list(tools) if llm.supports_function_calling() else []
