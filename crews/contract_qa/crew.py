"""The contract Q&A crew: coordinator, retriever, analyst and reviewer, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Task
from crewai.project import CrewBase, agent, task

from crews.contract_qa.schemas import (
    AnalystAnswer,
    EvidenceSelection,
    GroundednessReview,
    Routing,
    answer_model,
)
from crews.runtime.agents import YamlCrew


@CrewBase
class ContractQACrew(YamlCrew):
    """One single-task crew per step; the pipeline dispatches between them.

    The coordinator's routing decision picks which specialists work on a
    question (the hierarchy), and code runs the tools in between (clause
    search, register lookup, quote verification), so a small model never has
    to drive tool calls itself.
    """

    @agent
    def coordinator(self) -> Agent:
        return self.agent_named("coordinator")

    @agent
    def retriever(self) -> Agent:
        return self.agent_named("retriever")

    @agent
    def analyst(self) -> Agent:
        return self.agent_named("analyst")

    @agent
    def reviewer(self) -> Agent:
        return self.agent_named("reviewer")

    @task
    def route_question(self) -> Task:
        return self.task_named("route_question", Routing)

    @task
    def select_evidence(self) -> Task:
        return self.task_named("select_evidence", EvidenceSelection)

    @task
    def answer_question(self) -> Task:
        return self.task_named("answer_question", AnalystAnswer)

    @task
    def check_grounding(self) -> Task:
        return self.task_named("check_grounding", GroundednessReview)

    def step(self, name: str) -> Crew:
        """A crew of one task (``route_question``, ``select_evidence``, ...) and its agent."""
        return self._crew(name, getattr(self, name)())

    def answer_step(self, labels: tuple[str, ...]) -> Crew:
        """The analyst's task with an answer schema whose citations can only name ``labels``."""
        return self._crew("answer_question", self.task_named("answer_question", answer_model(labels)))

    def _crew(self, name: str, task_: Task) -> Crew:
        return self.sequential(f"contract_qa.{name}", [task_.agent], [task_])
