"""The fact-checking crew: fact checker, copywriter and editor, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM
from crewai.project import CrewBase, agent, task

from crews.fact_check.schemas import EditorReview, ExtractedClaims, RevisedCopy
from crews.prompt_source import use_served_prompts
from crews.runtime.agents import build_agent, forget_memoized


@CrewBase
class FactCheckCrew:
    """Two crews over one set of agents, with the deterministic checks in between.

    ``extraction_crew`` finds the claims; the pipeline verifies them with tools;
    ``revision_crew`` rewrites the copy and decides whether it can be published.
    """

    agents_config = "config/agents.yaml"
    tasks_config = "config/tasks.yaml"

    def __init__(self, llm: BaseLLM) -> None:
        self.llm = llm
        forget_memoized(self)
        use_served_prompts(self)  # agents/tasks config from the prompts served to this run

    @agent
    def fact_checker(self) -> Agent:
        return build_agent(self.agents_config["fact_checker"], self.llm)

    @agent
    def copywriter(self) -> Agent:
        return build_agent(self.agents_config["copywriter"], self.llm)

    @agent
    def editor(self) -> Agent:
        return build_agent(self.agents_config["editor"], self.llm)

    # response_model hands the schema to the LLM layer (grammar / json_schema / system
    # message per provider) instead of CrewAI pasting it into every task prompt.
    @task
    def extract_claims(self) -> Task:
        return Task(config=self.tasks_config["extract_claims"], output_pydantic=ExtractedClaims, response_model=ExtractedClaims)

    @task
    def revise_copy(self) -> Task:
        return Task(config=self.tasks_config["revise_copy"], output_pydantic=RevisedCopy, response_model=RevisedCopy)

    @task
    def review_copy(self) -> Task:
        return Task(config=self.tasks_config["review_copy"], output_pydantic=EditorReview, response_model=EditorReview)

    def extraction_crew(self) -> Crew:
        return Crew(
            name="fact_check.extract",
            agents=[self.fact_checker()],
            tasks=[self.extract_claims()],
            process=Process.sequential,
            verbose=False,
        )

    def revision_crew(self) -> Crew:
        return Crew(
            name="fact_check.revise",
            agents=[self.copywriter(), self.editor()],
            tasks=[self.revise_copy(), self.review_copy()],
            process=Process.sequential,
            verbose=False,
        )
