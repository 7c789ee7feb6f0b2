import pytest

from crews.data_qa.pipeline import route_to_review as route_report
from crews.data_qa.schemas import DataQualityReport, Issue, TableProfile
from crews.fact_check.pipeline import route_to_review as route_copy
from crews.fact_check.schemas import ClaimCheck, FactCheckReport
from crews.review import review_settings


def _copy(verdicts, approved=True):
    claims = [ClaimCheck(claim_id=i, claim=f"c{i}", verdict=v, reason="r") for i, v in enumerate(verdicts)]
    return FactCheckReport(draft_id="d", product="p", claims=claims, revised_copy="x", fact_checked_copy="x",
                           draft_ok=False, revision_approved=approved,
                           approval_reason="the editor did not approve the revised copy")


def test_copy_with_unverifiable_claims_or_not_approved_goes_to_review():
    # 3 of 4 verified = 0.75
    ok = route_copy(_copy(["supported", "supported", "contradicted", "unverifiable"]))
    assert (ok.review_score, ok.needs_review) == (0.75, False)
    weak = route_copy(_copy(["supported", "unverifiable"]))
    assert weak.needs_review and weak.review_reasons == [
        "only 1 of 2 claims could be verified against the fact sheet (score 0.50 < 0.75)"]
    unapproved = route_copy(_copy(["supported"], approved=False))
    assert unapproved.review_reasons == ["not approved: the editor did not approve the revised copy"]
    assert route_copy(_copy([])).review_reasons == ["no claims were found in the copy"]


def _report(fix_by, summary="Fine."):
    issues = [Issue(issue_id=i, table="t", column="c", kind="nulls", severity="error", count=1, evidence="",
                    suggested_fix="f", fix_by=by) for i, by in enumerate(fix_by)]
    return DataQualityReport(dataset_id="d", table="t", row_count=1, passed=not issues, issues=issues,
                             summary=summary,
                             profile=TableProfile(dataset_id="d", table="t", row_count=1, columns={}))


def test_reports_the_analyst_barely_explained_go_to_review():
    assert route_report(_report(["analyst", "rules"])).needs_review is False  # 0.5 is the threshold
    weak = route_report(_report(["analyst", "rules", "rules"]))
    assert weak.needs_review and weak.review_reasons[0].startswith("the analyst explained 1 of 3 issues")
    assert route_report(_report([], summary=" ")).review_reasons == ["the reviewer wrote no summary"]
    assert route_report(_report([])).review_score == 1.0


def test_review_settings_come_from_the_configured_file(tmp_path, monkeypatch):
    assert review_settings("contract_qa")["min_score"] == 0.6
    path = tmp_path / "review.yaml"
    path.write_text("data_qa: {min_score: 0.9}\n")
    monkeypatch.setenv("CREWS_REVIEW_CONFIG", str(path))
    assert review_settings("data_qa") == {"min_score": 0.9}
    assert review_settings("fact_check") == {"min_score": 0.0}
    path2 = tmp_path / "typo.yaml"
    path2.write_text("data_qa: {min_scor: 0.9}\n")
    with pytest.raises(ValueError, match="min_scor"):
        review_settings("data_qa", path2)
