"""Code's checks of an answer against its question and verified quotes."""

import pytest

from crews.contract_qa.answer_checks import (
    answer_problems,
    figures,
    period_mismatch,
    polarity_conflict,
    rates,
)
from crews.contract_qa.schemas import Citation


def _cited(*quotes: str) -> list[Citation]:
    return [Citation(contract_id="c", clause_id=f"c:{i}", quote=q) for i, q in enumerate(quotes, 1)]


@pytest.mark.parametrize(("text", "periods"), [
    ("What is the annual fee?", {"year"}),
    ("EUR 46 per user per month", {"month"}),
    ("the monthly rent of GBP 2,400", {"month"}),
    ("a day rate of EUR 950 per day", {"day"}),
    ("interest at 4% per annum", {"year"}),
    ("within 30 days of the invoice", set()),
])
def test_rates_read_the_period_a_figure_is_per(text, periods):
    assert rates(text) == periods


def test_an_annual_question_answered_with_a_monthly_price_is_caught():
    quotes = ["The subscription fee is EUR 46 per user per month, invoiced quarterly in advance."]
    question = "What is the yearly subscription charge?"
    assert period_mismatch(question, "The subscription charge is EUR 46.", quotes) == (
        "the question asks for a figure per year; the answer's is per month")
    assert period_mismatch(question, "EUR 84,000 per year.", ["The annual fee is EUR 84,000."]) is None
    assert period_mismatch("What is the fee?", "EUR 46 per month.", quotes) is None  # no period asked


@pytest.mark.parametrize(("answer", "quote", "problem"), [
    ("Yes, it may sublicense the platform.", "Customer shall not sublicense the Platform.", "negated"),
    ("No, it may not.", "Customer may sublicense the Platform to its Affiliates.", "negates nothing"),
    ("Yes.", "Lessee shall not move the Equipment without the Lessor's prior written consent.",
     "conditional"),
    ("No.", "Customer shall not sublicense the Platform.", None),
    ("Yes, it is exclusive.", "Supplier appoints Distributor as its exclusive distributor in the Territory.",
     None),
])
def test_a_yes_or_no_must_agree_with_the_clause(answer, quote, problem):
    found = polarity_conflict("May the customer sublicense the platform?", answer, [quote])
    assert (found is None) if problem is None else (problem in found)


def test_a_yes_no_answer_is_not_a_restated_question_but_is_checked_for_polarity():
    cited = _cited("Customer shall not sublicense the Platform.")
    question = "May Customer sublicense the Platform?"
    assert answer_problems(question, "No, Customer may not sublicense the Platform.", cited) == []
    assert answer_problems(question, "Yes, Customer may sublicense the Platform.", cited) == [
        "the answer says yes, but the quoted clause is negated"]


def test_a_clause_reference_is_not_the_figure_asked_for():
    assert figures("under clause 9.2 and Section 4(a)") == set()
    assert figures("EUR 25,000 under clause 9.3") == {"25000"}
    cited = _cited("If the Customer terminates for convenience under clause 9.2, it shall pay a "
                   "termination fee.")
    assert "the question asks for a figure or date and the answer gives none" in answer_problems(
        "How much is the termination fee?", cited[0].quote, cited)


def test_the_period_is_read_next_to_the_figure_not_from_the_repeated_question():
    question = "What is the yearly subscription charge for the platform?"
    answer = "The yearly subscription charge for the platform is EUR 46 per user per month."
    assert period_mismatch(question, answer, [answer]) == (
        "the question asks for a figure per year; the answer's is per month")
    assert period_mismatch(question, "The yearly subscription charge for the platform is EUR 84,000.",
                           ["The annual subscription fee is EUR 84,000, payable in advance."]) is None


def test_a_notice_question_needs_a_period_and_a_percentage_must_be_one_in_the_clause():
    price = _cited("Lumen may increase the Subscription Fee by no more than 5% per year.")
    assert "the question asks for a period and the answer gives none" in answer_problems(
        "How much notice is needed to stop the renewal?", "No more than 5% per year.", price)
    suspension = _cited("Lumen may, after giving ten (10) Business Days' written notice, suspend access.")
    assert answer_problems("What interest rate is charged on overdue invoices?", "The rate is 10%.",
                           suspension)[0] == "numbers not in the cited text as stated: 10%"
    assert answer_problems("How much notice must Lumen give to suspend access?", "Ten (10) Business Days.",
                           suspension) == []


def test_a_yes_needs_quotes_that_state_the_question():
    assets = _cited("The Borrower shall keep its material assets insured against loss or damage for their "
                    "full value.")
    question = "Must the borrower take out key-person life insurance on its directors?"
    assert answer_problems(question, "Yes, the borrower must take out key-person life insurance.",
                           assets) == [
        "a yes or no needs quotes that state what the question asks; these hold 33% of its topic words"]
    covered = _cited("The Borrower shall take out key-person life insurance on each of its directors.")
    assert answer_problems(question, "Yes, it must.", covered) == []


def test_amounts_and_percentages_are_read_with_their_kind():
    from crews.contract_qa.citations import kinds

    assert kinds("a fee of EUR 25,000, GBP 350 plus VAT, 4% above base, 1.5 per cent, 900 euros") == {
        ("25000", "money"), ("350", "money"), ("4", "percent"), ("1.5", "percent"), ("900", "money")}
