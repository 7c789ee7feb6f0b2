from crews.fact_check.schemas import ClaimCheck, FactCheckReport
from crews.fact_check.scoring import score


def _report(*claims, **fields):
    checks = [ClaimCheck(claim_id=i, claim=text, verdict=verdict, reason="r")
              for i, (text, verdict) in enumerate(claims)]
    base = {"draft_id": "d", "product": "p", "claims": checks, "revised_copy": "", "fact_checked_copy": "",
            "approval_reason": "", "draft_ok": False}
    return FactCheckReport(**(base | fields))


EXPECTED = {"claims": [{"contains": "40 hours", "verdict": "contradicted"},
                       {"contains": "250 g", "verdict": "supported"},
                       {"contains": "IPX7", "verdict": "contradicted"},
                       {"contains": "most  LOVED", "verdict": "unverifiable"}]}


def test_perfect_report_scores_one():
    report = _report(("Up to 40 hours of battery.", "contradicted"), ("Just 250 g.", "supported"),
                     ("Waterproof, IPX7.", "contradicted"), ("The most loved brand.", "unverifiable"))
    assert score(report, EXPECTED) == {"claim_recall": 1.0, "verdict_accuracy": 1.0,
                                       "contradicted_recall": 1.0, "claim_precision": 1.0}


def test_missed_and_wrong_claims_are_counted():
    # IPX7 called supported (wrong, and a missed false claim), "most loved" never extracted, one invented
    # claim
    report = _report(("Up to 40 hours of battery.", "contradicted"), ("Just 250 g.", "supported"),
                     ("Waterproof, IPX7.", "supported"), ("Comes in five colours.", "unverifiable"))
    assert score(report, EXPECTED) == {"claim_recall": 0.75, "verdict_accuracy": 0.5,
                                       "contradicted_recall": 0.5, "claim_precision": 0.75}


def test_no_claims_extracted():
    assert score(_report(), EXPECTED) == {"claim_recall": 0.0, "verdict_accuracy": 0.0,
                                          "contradicted_recall": 0.0}


def test_atomic_claims_inside_one_expected_phrase_share_its_verdict():
    report = _report(("Amazon Alexa", "supported"), ("Google Home", "supported"))
    assert score(report, {"claims": [{"contains": "Amazon Alexa and Google Home", "verdict": "supported"}]})[
        "verdict_accuracy"] == 1.0
    report = _report(("Amazon Alexa", "supported"), ("Google Home", "contradicted"))
    assert score(report, {"claims": [{"contains": "Amazon Alexa and Google Home", "verdict": "supported"}]})[
        "verdict_accuracy"] == 0.0


def test_draft_verdict_and_bad_approvals_are_scored():
    wrong_pass = score(_report(("Just 250 g.", "supported"), draft_ok=True),
                       {"claims": [], "draft_ok": False})
    assert wrong_pass["false_draft_ok"] == 1.0 and wrong_pass["draft_ok_correct"] == 0.0
    echo = _report(revision_approved=True,
                   revised_copy="This is the expected criteria for your final answer: x")
    assert score(echo, {"claims": []})["bad_rewrite_approved"] == 1.0
    clean = _report(revision_approved=True, revised_copy="Weighs 250 g.", fact_checked_copy="Weighs 250 g.")
    assert score(clean, {"claims": []})["bad_rewrite_approved"] == 0.0
