from crews.data_qa.schemas import DataQualityReport, Issue, TableProfile
from crews.data_qa.scoring import score


def _report(passed, *issues, fix="Fix it."):
    found = [Issue(issue_id=i, table=t, column=c, kind=k, severity="error", count=1, evidence="",
                   suggested_fix=fix)
             for i, (t, c, k) in enumerate(issues)]
    profile = TableProfile(dataset_id="d", table="t", row_count=3, columns={})
    return DataQualityReport(dataset_id="d", table="t", row_count=3, passed=passed, issues=found, summary="",
                             profile=profile)


def test_recall_precision_and_verdict():
    expected = {"passed": False, "issues": [["t", "email", "nulls"], ["t", "age", "out_of_range"]]}
    report = _report(False, ("t", "email", "nulls"), ("t", "email", "pattern"), ("t", "id", "duplicate_keys"))
    assert score(report, expected) == {"verdict_correct": 1.0, "issue_precision": 1 / 3, "issue_recall": 0.5,
                                       "summary_contradicts": 0.0, "fixes_suggested": 1.0}


def test_clean_dataset_passed_is_perfect_and_a_false_alarm_is_not():
    clean = {"passed": True, "issues": []}
    assert score(_report(True), clean) == {"verdict_correct": 1.0, "issue_precision": 1.0,
                                           "summary_contradicts": 0.0}
    assert score(_report(False, ("t", "x", "nulls"), fix=" "), clean) == {
        "verdict_correct": 0.0, "issue_precision": 0.0, "summary_contradicts": 0.0, "fixes_suggested": 0.0}
