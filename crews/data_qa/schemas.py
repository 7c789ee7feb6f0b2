"""Agent outputs and the final report of the data-QA crew."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from crews.data_qa.request import DatasetSpec

Severity = Literal["error", "warning", "info"]


class ColumnProfile(BaseModel):
    name: str
    type: str
    nulls: int
    null_rate: float
    distinct: int
    min: Any = None
    max: Any = None
    negatives: int | None = None
    pattern_violations: int | None = None
    pattern_examples: list[str] = Field(default_factory=list)
    out_of_range: int | None = None
    future_values: int | None = None
    age_hours: float | None = None


class TableProfile(BaseModel):
    dataset_id: str
    table: str
    row_count: int
    columns: dict[str, ColumnProfile]
    duplicate_keys: int = 0
    orphans: dict[str, int] = Field(default_factory=dict)
    sampled_rows: int = 0


class Finding(BaseModel):
    table: str
    column: str | None
    kind: str
    count: int
    evidence: str


class DataQAInput(BaseModel):
    """One dataset to check, with the previous profile when there is one."""

    spec: DatasetSpec
    previous: TableProfile | None = None


class IssueFix(BaseModel):
    issue_id: int
    suggested_fix: str


class AnalystFixes(BaseModel):
    """Analyst: one suggested fix per numbered issue."""

    fixes: list[IssueFix] = Field(default_factory=list)


class ReviewSummary(BaseModel):
    """Reviewer: the verdict paragraph."""

    summary: str


class Issue(BaseModel):
    issue_id: int
    table: str
    column: str | None
    kind: str
    severity: Severity
    count: int
    evidence: str
    suggested_fix: str
    fix_by: Literal["analyst", "rules"] = "rules"


class DataQualityReport(BaseModel):
    dataset_id: str
    table: str
    row_count: int
    passed: bool
    issues: list[Issue]
    summary: str
    summary_by: Literal["reviewer", "reviewer, second try", "template"] = Field(
        default="reviewer", description="who wrote the summary that agrees with the findings")
    summary_problems: list[str] = Field(
        default_factory=list, description="how the reviewer's rejected summaries contradicted the findings")
    profile: TableProfile
    review_score: float = Field(default=1.0, description="share of issues the analyst explained")
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)

    def counts_by_severity(self) -> dict[str, int]:
        counts = {"error": 0, "warning": 0, "info": 0}
        for issue in self.issues:
            counts[issue.severity] += 1
        return counts
