"""The reviewer's summary, checked against the findings in code.

A summary may only say what the profile found. It contradicts the findings when

* it states the wrong verdict ("passed" for a failed gate, or the other way round);
* it states a number that no finding, count or the row count gives;
* it calls a column clean ("no problems in email", "email is complete") that has a finding,
  or names a problem kind for a column that has no finding at all;
* it repeats the prompt (:mod:`crews.prompt_echo`), such as "the analyst's fixes from the previous
  step have been applied", which also claims a change nobody made.

The pipeline asks for the summary once more with the problems named; if that one
contradicts the findings too, a templated summary replaces it and the report is flagged.
"""

from __future__ import annotations

import re
from pathlib import Path

from crews.data_qa.schemas import DataQualityReport, Issue
from crews.prompt_echo import prompt_echo
from crews.tracking.steps import traced_step

CONFIG_DIR = Path(__file__).parent / "config"

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?(?![\w])")
_CLEAN = re.compile(
    r"\b(no|without|zero|free of|clean|complete|valid|fine|healthy|passes|passed|correct|consistent|ok)\b",
    re.IGNORECASE)
_PASSED = re.compile(r"\b(passed|passes|pass(?:es)? the (?:data quality )?gate|no (?:blocking )?problems|"
                     r"ready for use|safe to use)\b", re.IGNORECASE)
_FAILED = re.compile(r"\b(failed|fails|did not pass|blocking problems?|must not be used|not ready)\b",
                     re.IGNORECASE)
_KIND_WORDS = {
    "nulls": ("null", "missing", "empty value", "blank"),
    "pattern": ("malformed", "invalid format", "pattern", "format"),
    "out_of_range": ("out of range", "outlier", "range"),
    "negative_values": ("negative",),
    "future_dates": ("future",),
    "duplicate_keys": ("duplicate",),
    "orphan_keys": ("orphan", "foreign key", "dangling"),
}


def _numbers(text: str) -> set[str]:
    return {n.replace(",", "").removesuffix(".0") for n in _NUMBER.findall(text)}


def allowed_numbers(report: DataQualityReport) -> set[str]:
    """Every number the findings give: counts, row count, evidence figures, severity totals."""
    counts = report.counts_by_severity()
    allowed = {str(report.row_count), str(len(report.issues)), *(str(n) for n in counts.values())}
    for issue in report.issues:
        allowed |= {str(issue.count), str(issue.issue_id)} | _numbers(issue.evidence)
    allowed |= _numbers(report.dataset_id) | _numbers(report.table)
    return allowed


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]


@traced_step("tool")
def summary_problems(summary: str, report: DataQualityReport) -> list[str]:
    """How ``summary`` contradicts the findings of ``report`` (empty when it agrees)."""
    problems = []
    if report.passed and _FAILED.search(summary) and not _PASSED.search(summary):
        problems.append("it says the dataset failed, but it passed the gate")
    if not report.passed and _PASSED.search(summary) and not _FAILED.search(summary):
        problems.append("it says the dataset passed, but it failed the gate")
    echo = prompt_echo(summary, CONFIG_DIR, *(i.evidence for i in report.issues))
    if echo:
        problems.append(f"it repeats the prompt ({echo!r})")
    stray = sorted(_numbers(summary) - allowed_numbers(report), key=lambda n: float(n))
    if stray:
        problems.append(f"it states numbers no finding gives: {', '.join(stray)}")
    columns = sorted(report.profile.columns, key=len, reverse=True)
    by_column: dict[str, list[Issue]] = {}
    for issue in report.issues:
        by_column.setdefault(issue.column or "", []).append(issue)
    for sentence in _sentences(summary):
        named = [c for c in columns if re.search(rf"(?<!\w){re.escape(c)}(?!\w)", sentence, re.IGNORECASE)]
        for column in named:
            issues = by_column.get(column, [])
            if issues and _CLEAN.search(sentence) and not _mentions_kind(sentence, issues):
                problems.append(f"it calls column {column!r} free of problems, but the profile found "
                                + ", ".join(f"{i.kind} ({i.count})" for i in issues))
            elif len(named) == 1 and not issues:  # a column with findings may be discussed freely
                for kind, words in _KIND_WORDS.items():
                    said = any(re.search(rf"\b{re.escape(w)}", sentence, re.IGNORECASE) for w in words)
                    if said and not any(i.kind == kind for i in issues) and not _CLEAN.search(sentence):
                        problems.append(f"it reports {kind.replace('_', ' ')} in column {column!r}, "
                                        "which the profile did not find")
    return problems


def _mentions_kind(sentence: str, issues: list[Issue]) -> bool:
    return any(re.search(rf"\b{re.escape(w)}", sentence, re.IGNORECASE)
               for issue in issues for w in _KIND_WORDS.get(issue.kind, (issue.kind.replace("_", " "),)))


def templated_summary(report: DataQualityReport) -> str:
    """A summary written from the findings alone."""
    counts = report.counts_by_severity()
    verdict = "passed" if report.passed else "failed"
    head = (f"Dataset {report.dataset_id} ({report.table}, {report.row_count} rows) {verdict} the data "
            f"quality gate with {counts['error']} blocking problem(s) and {counts['warning']} warning(s).")
    if not report.issues:
        return head + " The profile found no problems."
    listed = "; ".join(f"{i.column or 'the table'}: {i.kind.replace('_', ' ')} ({i.count})"
                       for i in report.issues)
    return f"{head} Findings: {listed}."
