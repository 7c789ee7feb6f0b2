"""The contract Q&A crew: coordinator, retriever, analyst and reviewer, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM
from crewai.project import CrewBase, agent, task

from crews.contract_qa.schemas import (
    AnalystAnswer,
    EvidenceSelection,
    GroundednessReview,
    Routing,
    answer_model,
)
from crews.prompt_source import use_served_prompts
from crews.runtime.agents import build_agent, forget_memoized


@CrewBase
class ContractQACrew:
    """One single-task crew per step; the pipeline dispatches between them.

    The coordinator's routing decision picks which specialists work on a
    question (the hierarchy), and code runs the tools in between (clause
    search, register lookup, quote verification), so a small model never has
    to drive tool calls itself.
    """

    agents_config = "config/agents.yaml"
    tasks_config = "config/tasks.yaml"

    def __init__(self, llm: BaseLLM) -> None:
        self.llm = llm
        forget_memoized(self)
        use_served_prompts(self)  # agents/tasks config from the prompts served to this run

    @agent
    def coordinator(self) -> Agent:
        return build_agent(self.agents_config["coordinator"], self.llm)

    @agent
    def retriever(self) -> Agent:
        return build_agent(self.agents_config["retriever"], self.llm)

    @agent
    def analyst(self) -> Agent:
        return build_agent(self.agents_config["analyst"], self.llm)

    @agent
    def reviewer(self) -> Agent:
        return build_agent(self.agents_config["reviewer"], self.llm)

    @task
    def route_question(self) -> Task:
        return Task(config=self.tasks_config["route_question"], output_pydantic=Routing, response_model=Routing)

    @task
    def select_evidence(self) -> Task:
        return Task(config=self.tasks_config["select_evidence"], output_pydantic=EvidenceSelection,
                    response_model=EvidenceSelection)

    @task
    def answer_question(self) -> Task:
        return Task(config=self.tasks_config["answer_question"], output_pydantic=AnalystAnswer,
                    response_model=AnalystAnswer)

    @task
    def check_grounding(self) -> Task:
        return Task(config=self.tasks_config["check_grounding"], output_pydantic=GroundednessReview,
                    response_model=GroundednessReview)

    def step(self, name: str) -> Crew:
        """A crew of one task (``route_question``, ``select_evidence``, ...) and its agent."""
        return self._crew(name, getattr(self, name)())

    def answer_step(self, labels: tuple[str, ...]) -> Crew:
        """The analyst's task with an answer schema whose citations can only name ``labels``."""
        model = answer_model(labels)
        task_ = Task(config=self.tasks_config["answer_question"], output_pydantic=model, response_model=model)
        return self._crew("answer_question", task_)

    @staticmethod
    def _crew(name: str, task_: Task) -> Crew:
        return Crew(name=f"contract_qa.{name}", agents=[task_.agent], tasks=[task_], process=Process.sequential,
                    verbose=False)
