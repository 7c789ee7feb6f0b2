import pytest

from crews.contract_qa.schemas import Citation, ContractAnswer, EvidenceItem, QuotedCitation
from crews.contract_qa.scoring import answer_matches, score


@pytest.mark.parametrize(
    ("answer", "expected", "ok"),
    [
        ("A fee of EUR 25000 applies.", ["25,000"], True),
        ("It ends on 30 September 2027.", ["2027-09-30"], True),
        ("Within 30 days, with 1.5% interest.", ["30 days", "1.5%"], True),
        ("Within 30 days.", ["30 days", "1.5%"], False),
        ("English law governs it.", ["England"], False),
        ("The laws of England govern it.", ["England"], True),
    ],
)
def test_answer_matches(answer, expected, ok):
    assert answer_matches(answer, expected) is ok


def _answer(found=True, text="EUR 25,000", cited=("n:9.3",), rejected=0):
    return ContractAnswer(
        question_id="q", contract_id="n", question="?", answer=text, found=found, route="documents",
        citations=[Citation(contract_id="n", clause_id=c, quote="x") for c in cited],
        rejected_citations=[QuotedCitation(clause_id="9.9", quote="y")] * rejected,
        source_used="documents", confidence=0.9, grounded=True, needs_review=False,
        evidence=[EvidenceItem(clause_id="n:9.3", score=1.0, text="x", selected=True)],
    )


def test_scores_of_a_right_answer_and_an_abstention():
    expectation = {"expected_answer": ["25,000"], "expected_clauses": ["n:9.3"], "answerable": True}
    assert score(_answer(rejected=1), expectation) == {
        "correct": 1.0, "correct_cited": 1.0, "wrong_unreviewed": 0.0, "abstained": 0.0,
        "abstention_correct": 1.0, "grounded": 1.0, "needs_review": 0.0, "citations_valid": 0.5,
        "retrieval_hit": 1.0, "cited_expected_clause": 1.0}
    unanswerable = {"expected_answer": [], "expected_clauses": [], "answerable": False}
    assert score(_answer(found=False, text="Not found in the contract.", cited=()),
                 unanswerable)["correct"] == 1.0
    assert score(_answer(found=False, cited=()), unanswerable)["abstention_correct"] == 1.0
    assert (score(_answer(), unanswerable)["correct"] == score(_answer(), unanswerable)["abstention_correct"]
            == 0.0)
    assert score(_answer(found=False, cited=()), expectation)["abstention_correct"] == 0.0


def test_a_right_figure_from_the_wrong_clause_is_not_correct_cited_and_wrong_answers_count_unless_reviewed():
    expectation = {"expected_answer": ["25,000"], "expected_clauses": ["n:9.3"], "answerable": True}
    assert score(_answer(cited=("n:4.1",)), expectation)["correct_cited"] == 0.0
    wrong = score(_answer(text="EUR 10,000"), expectation)
    assert wrong["wrong_unreviewed"] == 1.0
    reviewed = _answer(text="EUR 10,000").model_copy(update={"needs_review": True})
    assert score(reviewed, expectation)["wrong_unreviewed"] == 0.0


def test_expected_words_match_whole_words_only():
    from crews.contract_qa.scoring import answer_matches

    assert not answer_matches("Notice must be given in writing.", ["No"])
    assert answer_matches("No, not without the Lessor's consent.", ["No", "consent"])
    assert (answer_matches("The courts of Lyon, France.", ["Lyon"])
            and not answer_matches("Lyonnaise courts", ["Lyon"]))
