"""The fact-checking crew: fact checker, copywriter and editor, configured in YAML."""

from __future__ import annotations

from crewai import Agent, Crew, Task
from crewai.project import CrewBase, agent, task

from crews.fact_check.schemas import EditorReview, ExtractedClaims, RevisedCopy
from crews.runtime.agents import YamlCrew


@CrewBase
class FactCheckCrew(YamlCrew):
    """Two crews over one set of agents, with the deterministic checks in between.

    ``extraction_crew`` finds the claims; the pipeline verifies them with tools;
    ``revision_crew`` rewrites the copy and decides whether it can be published.
    """

    @agent
    def fact_checker(self) -> Agent:
        return self.agent_named("fact_checker")

    @agent
    def copywriter(self) -> Agent:
        return self.agent_named("copywriter")

    @agent
    def editor(self) -> Agent:
        return self.agent_named("editor")

    @task
    def extract_claims(self) -> Task:
        return self.task_named("extract_claims", ExtractedClaims)

    @task
    def revise_copy(self) -> Task:
        return self.task_named("revise_copy", RevisedCopy)

    @task
    def review_copy(self) -> Task:
        return self.task_named("review_copy", EditorReview)

    def extraction_crew(self) -> Crew:
        return self.sequential("fact_check.extract", [self.fact_checker()], [self.extract_claims()])

    def revision_crew(self) -> Crew:
        return self.sequential("fact_check.revise", [self.copywriter(), self.editor()],
                               [self.revise_copy(), self.review_copy()])
