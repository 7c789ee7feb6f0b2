"""The data-QA crew: analyst and reviewer, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Process, Task
from crewai.llms.base_llm import BaseLLM
from crewai.project import CrewBase, agent, crew, task

from crews.data_qa.schemas import AnalystFixes, ReviewSummary
from crews.prompt_source import use_served_prompts
from crews.runtime.agents import build_agent, forget_memoized


@CrewBase
class DataQACrew:
    """Explains a verdict that the profiler and the severity rules already reached."""

    agents_config = "config/agents.yaml"
    tasks_config = "config/tasks.yaml"

    def __init__(self, llm: BaseLLM) -> None:
        self.llm = llm
        forget_memoized(self)
        use_served_prompts(self)  # agents/tasks config from the prompts served to this run

    @agent
    def analyst(self) -> Agent:
        return build_agent(self.agents_config["analyst"], self.llm)

    @agent
    def reviewer(self) -> Agent:
        return build_agent(self.agents_config["reviewer"], self.llm)

    @task
    def explain_issues(self) -> Task:
        return Task(config=self.tasks_config["explain_issues"], output_pydantic=AnalystFixes, response_model=AnalystFixes)

    @task
    def summarize(self) -> Task:
        return Task(config=self.tasks_config["summarize"], output_pydantic=ReviewSummary, response_model=ReviewSummary)

    def resummarize(self) -> Task:
        return Task(config=self.tasks_config["resummarize"], output_pydantic=ReviewSummary,
                    response_model=ReviewSummary)

    @crew
    def crew(self) -> Crew:
        return Crew(name="data_qa", agents=[self.analyst(), self.reviewer()],
                    tasks=[self.explain_issues(), self.summarize()], process=Process.sequential, verbose=False)

    def resummary_crew(self) -> Crew:
        """The reviewer alone, asked once more for a summary that the first one's problems are named to."""
        return Crew(name="data_qa.resummarize", agents=[self.reviewer()], tasks=[self.resummarize()],
                    process=Process.sequential, verbose=False)
