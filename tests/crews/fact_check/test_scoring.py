from crews.fact_check.schemas import ClaimCheck, FactCheckReport
from crews.fact_check.scoring import score


def _report(*claims):
    checks = [ClaimCheck(claim_id=i, claim=text, verdict=verdict, reason="r") for i, (text, verdict) in enumerate(claims)]
    return FactCheckReport(draft_id="d", product="p", claims=checks, revised_copy="", fact_checked_copy="",
                           approved=False, approval_reason="")


EXPECTED = {"claims": [{"contains": "40 hours", "verdict": "contradicted"},
                       {"contains": "250 g", "verdict": "supported"},
                       {"contains": "IPX7", "verdict": "contradicted"},
                       {"contains": "most  LOVED", "verdict": "unverifiable"}]}


def test_perfect_report_scores_one():
    report = _report(("Up to 40 hours of battery.", "contradicted"), ("Just 250 g.", "supported"),
                     ("Waterproof, IPX7.", "contradicted"), ("The most loved brand.", "unverifiable"))
    assert score(report, EXPECTED) == {"claim_recall": 1.0, "verdict_accuracy": 1.0, "contradicted_recall": 1.0,
                                       "claim_precision": 1.0}


def test_missed_and_wrong_claims_are_counted():
    # IPX7 called supported (wrong, and a missed false claim), "most loved" never extracted, one invented claim
    report = _report(("Up to 40 hours of battery.", "contradicted"), ("Just 250 g.", "supported"),
                     ("Waterproof, IPX7.", "supported"), ("Comes in five colours.", "unverifiable"))
    assert score(report, EXPECTED) == {"claim_recall": 0.75, "verdict_accuracy": 0.5, "contradicted_recall": 0.5,
                                       "claim_precision": 0.75}


def test_no_claims_extracted():
    assert score(_report(), EXPECTED) == {"claim_recall": 0.0, "verdict_accuracy": 0.0, "contradicted_recall": 0.0}
