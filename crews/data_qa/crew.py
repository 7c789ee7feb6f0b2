"""The data-QA crew: analyst and reviewer, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Task
from crewai.project import CrewBase, agent, crew, task

from crews.data_qa.schemas import AnalystFixes, ReviewSummary
from crews.runtime.agents import YamlCrew


@CrewBase
class DataQACrew(YamlCrew):
    """Explains a verdict that the profiler and the severity rules already reached."""

    @agent
    def analyst(self) -> Agent:
        return self.agent_named("analyst")

    @agent
    def reviewer(self) -> Agent:
        return self.agent_named("reviewer")

    @task
    def explain_issues(self) -> Task:
        return self.task_named("explain_issues", AnalystFixes)

    @task
    def summarize(self) -> Task:
        return self.task_named("summarize", ReviewSummary)

    def resummarize(self) -> Task:
        return self.task_named("resummarize", ReviewSummary)

    @crew
    def crew(self) -> Crew:
        return self.sequential("data_qa", [self.analyst(), self.reviewer()],
                               [self.explain_issues(), self.summarize()])

    def resummary_crew(self) -> Crew:
        """The reviewer alone, asked once more for a summary that the first one's problems are named to."""
        return self.sequential("data_qa.resummarize", [self.reviewer()], [self.resummarize()])
