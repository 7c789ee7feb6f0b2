"""Check one dataset: profile in SQL, decide with severity rules, let the agents explain.

:func:`run` takes the steps every crew takes (docs/crews.md): **tool** (``profile_table``:
the profile and the declared rules' findings, then schema drift and severities), **ask** (the
analyst explains, the reviewer summarizes), **verify** (the summary against the findings, asked
once more or templated), **route_to_review** (the share of issues the analyst explained). There
is nothing to **screen**: the agents see the findings, never the data's text.

The verdict is reproducible from the evidence: ``passed`` is false exactly when a
finding's kind has severity ``error`` in ``config/severity.yaml``. The analyst
suggests fixes and the reviewer writes the summary; a fix the analyst leaves out
falls back to a fixed suggestion for that kind of problem. The summary is checked
against the findings (:mod:`crews.data_qa.summary_check`): on a contradiction the
reviewer writes it once more, and if that one contradicts them too, a templated
summary replaces it; the report says so (``summary_by``, ``summary_problems``, the
``summary_templated`` metric). The template states only the findings, so it needs
no human review of its own.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path

import yaml
from crewai.llms.base_llm import BaseLLM

from crews.data_qa.crew import DataQACrew
from crews.data_qa.profiler import schema_drift
from crews.data_qa.schemas import DataQAInput, DataQualityReport, Finding, Issue
from crews.data_qa.summary_check import summary_problems, templated_summary
from crews.data_qa.tools import ProfileTableTool
from crews.review import review_settings

DEFAULT_FIXES = {
    "nulls": "Make the column NOT NULL at the source and backfill the missing values.",
    "pattern": "Validate the format on input and correct or quarantine the malformed values.",
    "out_of_range": "Add a CHECK constraint for the allowed range and correct the outliers.",
    "negative_values": "Add a CHECK (value >= 0) constraint and trace where negative values come from.",
    "future_dates": "Reject dates after the load time on input and fix the clock or parsing that produced "
                    "them.",
    "duplicate_keys": "Declare the key UNIQUE and deduplicate the repeated rows.",
    "orphan_keys": "Add a foreign key constraint and load parent rows before child rows.",
    "dropped_column": "Restore the column or announce the schema change to its consumers.",
    "missing_column": "Add the declared column or update the dataset's declaration.",
    "retyped_column": "Restore the column type or migrate the consumers to the new type.",
    "added_column": "Document the new column for its consumers.",
    "empty_table": "The table has no rows: check that the loading job ran and wrote to this table.",
    "stale": "Check the loading job that feeds this table; it has not delivered new rows in time.",
    "volume_change": "Confirm that the change in row count is expected (backfill, deletion, partial load).",
}


@lru_cache(maxsize=1)
def severity_rules() -> dict[str, str]:
    rules = yaml.safe_load((Path(__file__).parent / "config" / "severity.yaml").read_text())
    return {kind: severity for severity, kinds in rules.items() for kind in kinds}


def classify(found: list[Finding]) -> list[Issue]:
    """Numbered issues with their severity (unknown kinds are errors)."""
    rules = severity_rules()
    return [
        Issue(issue_id=i, table=f.table, column=f.column, kind=f.kind, severity=rules.get(f.kind, "error"),
              count=f.count, evidence=f.evidence,
              suggested_fix=DEFAULT_FIXES.get(f.kind, "Investigate at the source."))
        for i, f in enumerate(found, 1)
    ]


def run(item: DataQAInput, llm: BaseLLM, now: datetime | None = None) -> DataQualityReport:
    """Check one dataset and return the full report."""
    spec = item.spec
    profiler = ProfileTableTool(spec=spec, now=now or datetime.now(UTC))
    checked = profiler.run()
    profile = checked.profile
    issues = classify(checked.findings + schema_drift(item.previous, profile))
    errors = sum(i.severity == "error" for i in issues)
    warnings = sum(i.severity == "warning" for i in issues)
    passed = errors == 0
    listing = "\n".join(f"{i.issue_id}. [{i.severity}] {i.column or '(table)'}: {i.kind} -- {i.evidence}"
                        for i in issues)
    inputs = {
        "dataset_id": spec.dataset_id,
        "table": spec.table,
        "row_count": profile.row_count,
        "findings": listing or "(no problems found)",
        "verdict": "passed" if passed else "failed",
        "error_count": errors,
        "warning_count": warnings,
    }
    crew = DataQACrew(llm, tools={"analyst": [profiler]})
    fixes, review = crew.ask(crew.crew(), inputs)
    by_id = {f.issue_id: f.suggested_fix for f in fixes.fixes} if fixes else {}
    for issue in issues:
        if by_id.get(issue.issue_id, "").strip():
            issue.suggested_fix, issue.fix_by = by_id[issue.issue_id].strip(), "analyst"
    summary = review.summary if review else ""
    report = DataQualityReport(
        dataset_id=spec.dataset_id, table=spec.table, row_count=profile.row_count, passed=passed,
        issues=issues, summary=summary, profile=profile,
    )
    return route_to_review(checked_summary(report, crew, inputs))


def checked_summary(report: DataQualityReport, crew: DataQACrew, inputs: dict) -> DataQualityReport:
    """The report with a summary that agrees with its findings (see :mod:`crews.data_qa.summary_check`)."""
    problems = summary_problems(report.summary, report) if report.summary.strip() else []
    if not problems:
        return report
    report.summary_problems = [f"first summary: {p}" for p in problems]
    (again,) = crew.ask(crew.resummary_crew(), {**inputs, "problems": "; ".join(problems)})
    second = again.summary if again else ""
    problems = summary_problems(second, report) if second.strip() else ["it is empty"]
    if not problems:
        report.summary, report.summary_by = second, "reviewer, second try"
        return report
    report.summary_problems += [f"second summary: {p}" for p in problems]
    # right by construction: no review
    report.summary, report.summary_by = templated_summary(report), "template"
    return report


def route_to_review(report: DataQualityReport) -> DataQualityReport:
    """Score the explanation (share of issues the analyst explained) and route weak reports to a person."""
    min_score = review_settings("data_qa")["min_score"]
    explained = sum(i.fix_by == "analyst" for i in report.issues)
    report.review_score = explained / len(report.issues) if report.issues else 1.0
    if report.review_score < min_score:
        report.review_reasons.append(f"the analyst explained {explained} of {len(report.issues)} issues "
                                     f"(score {report.review_score:.2f} < {min_score}); the rest have "
                                     "rule-based fixes")
    if not report.summary.strip():
        report.review_reasons.append("the reviewer wrote no summary")
    report.needs_review = bool(report.review_reasons)
    return report
