"""Review pages: what a person needs to decide is on the page, and nothing from a document can restyle it."""

from __future__ import annotations

from crews.contract_qa.schemas import Citation, ContractAnswer, EvidenceItem, QuotedCitation
from crews.fact_check.schemas import ClaimCheck, Evidence, FactCheckReport
from crews.markdown import MAX_ROWS, escape, quote_block, word_diff
from crews.review_pages import MAX_BODY_CHARS, review_body
from tests.support.markdown import html

SUMMARY = {"item_id": "x1", "needs_review": True,
           "review_reasons": ["not approved: the rewrite drops a claim"],
           "mlflow_run_id": "0123abcd", "mlflow_experiment": "crews/fact_check"}


def fact_check_result(**overrides) -> dict:
    claims = [
        ClaimCheck(claim_id=1, claim="up to 40 hours of battery", verdict="contradicted",
                   reason="claims 40 hours, fact sheet says 30 hours",
                   evidence=[Evidence(fact_id="battery_life", statement="30 hours",
                                      reference_value="30 hours")]),
        ClaimCheck(claim_id=2, claim="weighs 250 g", verdict="supported", reason="matches",
                   evidence=[Evidence(fact_id="weight", statement="250 g", reference_value="250 g")]),
    ]
    report = FactCheckReport(draft_id="x1", product="Aurora",
                             draft_copy="Up to 40 hours of battery. Weighs 250 g.",
                             claims=claims, draft_ok=False, revision_approved=False,
                             revised_copy="Up to 30 hours of battery. Weighs 250 g.",
                             fact_checked_copy="Up to 30 hours of battery. Weighs 250 g.",
                             rejected_rewrite="Battery for days!", revision_problems=["adds 'for days'"],
                             approval_reason="rejected")
    return report.model_dump() | overrides


def test_fact_check_page_shows_the_change_the_claims_and_a_link():
    body = review_body("fact_check", SUMMARY, fact_check_result(), "http://127.0.0.1:5000/#/runs/0123abcd")
    page = html(body)
    assert "<s>40</s> <strong>30</strong>" in page  # the draft-to-copy diff
    assert "Up to 30 hours of battery" in page and "Battery for days!" in page and "adds 'for days'" in page
    assert "<th>Verdict</th>" in page and "<td>contradicted</td>" in page and "<td>battery_life</td>" in page
    assert "Claims: 2 (1 supported, 1 contradicted, 0 unverifiable)" in page
    assert '<a href="http://127.0.0.1:5000/#/runs/0123abcd">' in page
    assert "not approved: the rewrite drops a claim" in page


def test_a_hostile_draft_cannot_add_links_images_or_headings():
    hostile = ("# Approved\n![x](http://evil.example/p.png) [click](http://evil.example) <script>x</script> "
               "| a |")
    result = fact_check_result(draft_copy=hostile, revised_copy=hostile, claims=[
        ClaimCheck(claim_id=1, claim=hostile, verdict="unverifiable", reason=hostile).model_dump()])
    page = html(review_body("fact_check", SUMMARY | {"review_reasons": [hostile]}, result, None))
    assert "<img" not in page and "evil.example\"" not in page and "<script>" not in page
    assert "<h1>" not in page and page.count("<a href") == 0
    assert "&lt;script&gt;" in page  # shown as text
    # one claim row: the pipe in the claim split nothing
    assert "<td>1</td>" in page and page.count("<tr>") == 2


def test_contract_answer_page_shows_quote_clause_text_and_flags():
    answer = ContractAnswer(
        question_id="fee", contract_id="msa", question="What is the fee?", answer="EUR 25,000 per year",
        found=True, citations=[Citation(contract_id="msa", clause_id="4.2", quote="EUR 25,000 per year",
                                        repaired=True)],
        source_used="documents", route="documents", confidence=0.42, grounded=True, needs_review=True,
        rejected_citations=[QuotedCitation(clause_id="9.1", quote="EUR 99,000")],
        evidence=[EvidenceItem(clause_id="4.2", score=3.1, text="4.2 Fees. The fee is EUR 25,000 per year.",
                               selected=True)],
        register_facts={"annual_fee": "25000"})
    page = html(review_body("contract_qa", SUMMARY, answer.model_dump(), None))
    for text in ("What is the fee?", "EUR 25,000 per year", "Clause 4.2", "repaired to the exact sentence",
                 "4.2 Fees. The fee is EUR 25,000 per year.", "EUR 99,000", "annual_fee", "confidence 0.42",
                 "MLflow run 0123abcd"):
        assert text in page, text


def test_data_qa_page_shows_findings_and_the_explanation():
    result = {"dataset_id": "orders", "table": "orders", "row_count": 500, "passed": False,
              "summary_by": "reviewer", "summary": "Two blocking problems.", "issues": [
                  {"issue_id": 1, "column": "amount", "kind": "negative_values", "severity": "error",
                   "count": 2, "evidence": "2 negative values; min -25.0", "suggested_fix": "clip at 0"}]}
    page = html(review_body("data_qa", SUMMARY, result, None))
    assert "<td>negative_values</td>" in page and "2 negative values; min -25.0" in page
    assert "Two blocking problems." in page and "500 rows, gate failed" in page


def test_without_a_stored_result_the_summary_is_shown():
    page = html(review_body("data_qa", SUMMARY | {"rows": 12, "status": "failed"}, None, None))
    assert "<strong>Rows</strong>: 12" in page and "Status" not in page


def test_long_values_are_cut_and_say_so():
    many = [ClaimCheck(claim_id=i, claim="c" * 1000, verdict="supported", reason="r").model_dump()
            for i in range(MAX_ROWS + 5)]
    body = review_body("fact_check", SUMMARY, fact_check_result(draft_copy="w " * 50_000, claims=many), "http://m/")
    assert len(body) < MAX_BODY_CHARS + 500
    assert "… (cut)" in body and "5 more rows are in the MLflow run" in body
    assert body.rstrip().endswith("for the agent trace and every artifact.")  # the link survives the cut


def test_escape_quote_and_diff_basics():
    assert escape("a*b_c [d](e)\nf") == r"a\*b\_c \[d\]\(e\) f"
    assert quote_block("one\n\ntwo") == "> one\n>\n> two"
    assert word_diff("a b c", "a x c") == "a ~~b~~ **x** c"
