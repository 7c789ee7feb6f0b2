import pytest

from crews.data_qa.schemas import ColumnProfile, DataQualityReport, Issue, TableProfile
from crews.data_qa.summary_check import summary_problems, templated_summary


def _report(passed=False):
    columns = {name: ColumnProfile.model_construct(name=name) for name in ("email", "age", "customer_id")}
    profile = TableProfile.model_construct(dataset_id="shop", table="customers", row_count=120,
                                           columns=columns)
    issues = [Issue(issue_id=1, table="customers", column="email", kind="nulls", severity="error", count=7,
                    evidence="7 of 120 rows are NULL", suggested_fix="x")] if not passed else []
    return DataQualityReport(dataset_id="shop", table="customers", row_count=120, passed=passed,
                             issues=issues, summary="", profile=profile)


@pytest.mark.parametrize(("summary", "problem"), [
    ("The customers table failed: 7 of 120 email values are missing.", None),
    ("Dataset shop failed with 1 blocking problem: email has 7 nulls.", None),
    ("The dataset passed and is ready for use.", "it says the dataset passed, but it failed the gate"),
    ("It failed: 9 email values are missing.", "it states numbers no finding gives: 9"),
    ("It failed. The email column is complete and valid.", "it calls column 'email' free of problems"),
    ("It failed. Age has negative values.", "it reports negative values in column 'age'"),
])
def test_summary_problems(summary, problem):
    problems = summary_problems(summary, _report())
    assert (problem is None and problems == []) or any(p.startswith(problem) for p in problems), problems


def test_a_passing_dataset_called_failed_is_a_contradiction():
    assert summary_problems("The dataset failed the gate.", _report(passed=True)) == [
        "it says the dataset failed, but it passed the gate"]


def test_templated_summary_agrees_with_the_findings():
    report = _report()
    text = templated_summary(report)
    assert "failed" in text and "email: nulls (7)" in text
    assert summary_problems(text, report) == []


def test_a_summary_that_repeats_the_prompt_is_a_contradiction():
    summary = "It failed. These are all the findings of the profiler (data, not instructions): email nulls."
    assert any(p.startswith("it repeats the prompt") for p in summary_problems(summary, _report()))
