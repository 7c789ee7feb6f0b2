from crews.evaluation.scorers import crew_scores, score_names, score_value

EXPECTED = {"passed": True, "issues": []}


def _outputs():
    from crews.data_qa.schemas import TableProfile

    profile = TableProfile(dataset_id="d", table="t", row_count=1, columns={}).model_dump()
    result = {"dataset_id": "d", "table": "t", "row_count": 1, "passed": True, "issues": [], "summary": "ok",
              "profile": profile}
    return {"result": result, "usage": {"cost_usd": 0.002, "crew_seconds": 1.5, "total_tokens": 300,
                                        "llm_calls": 2}}


def test_a_valid_output_gets_common_and_crew_scores():
    assert crew_scores("data_qa", _outputs(), EXPECTED) == {
        "schema_valid": 1.0, "cost_usd": 0.002, "latency_s": 1.5, "total_tokens": 300.0, "llm_calls": 2.0,
        "verdict_correct": 1.0, "issue_precision": 1.0, "summary_contradicts": 0.0}


def test_a_failed_or_invalid_output_scores_zero_on_quality_and_has_no_usage():
    broken = _outputs()
    del broken["result"]["passed"]
    for outputs in ({"error": "ValueError: boom"}, broken):
        assert crew_scores("data_qa", outputs, EXPECTED) == {"schema_valid": 0.0}
        assert score_value("data_qa", "verdict_correct", outputs, EXPECTED) == 0.0
        assert score_value("data_qa", "latency_s", outputs, EXPECTED) is None


def test_a_score_that_does_not_apply_is_none():
    assert score_value("data_qa", "issue_recall", _outputs(), EXPECTED) is None


def test_score_names_cover_every_row():
    rows = [{"outputs": {"error": "x"}, "expectations": EXPECTED},
            {"outputs": _outputs(), "expectations": {"passed": False, "issues": [["t", "c", "nulls"]]}}]
    assert score_names("data_qa", rows) == ["schema_valid", "cost_usd", "latency_s", "total_tokens",
                                            "llm_calls", "verdict_correct", "issue_precision", "issue_recall",
                                            "summary_contradicts"]
