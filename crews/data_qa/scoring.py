"""Scores of a data-quality report against a golden record's planted problems (code-based, no LLM)."""

from __future__ import annotations

from typing import Any

from crews.data_qa.schemas import DataQualityReport
from crews.data_qa.summary_check import summary_problems


def score(report: DataQualityReport, expectations: dict[str, Any]) -> dict[str, float]:
    """verdict_correct, issue_recall, issue_precision, the share of issues with a suggested fix, and
    summary_contradicts: whether the summary sent out still contradicts the findings.

    An issue is identified by (table, column, kind); expected issues are
    ``[table, column, kind]`` lists.
    """
    found = {(i.table, i.column, i.kind) for i in report.issues}
    expected = {tuple(issue) for issue in expectations.get("issues") or []}
    hits = len(found & expected)
    result = {
        "verdict_correct": float(report.passed == bool(expectations.get("passed"))),
        "issue_precision": hits / len(found) if found else 1.0,
    }
    if expected:
        result["issue_recall"] = hits / len(expected)
    result["summary_contradicts"] = float(bool(summary_problems(report.summary, report)))
    if report.issues:
        result["fixes_suggested"] = (sum(bool(i.suggested_fix.strip()) for i in report.issues)
                                     / len(report.issues))
    return result
