"""Code's own reading of the evidence: the sentence that fits a question, the figure next to its words."""

import pytest

from crews.contract_qa.answer_checks import figure_off_topic
from crews.contract_qa.answer_sentence import asked_kinds, better_sentence, nearest_figure, sentence_problems
from crews.contract_qa.schemas import Citation

DEFECTS = ("Buyer shall notify Seller of any visible defect or shortage within 10 Business Days after "
           "arrival of the Products, and of any latent defect within 6 months after delivery.")
PRICE = ("The price of grade BW-5502 shall not be lower than USD 1,150 per MT nor higher than USD 1,780 "
         "per MT in any month.")


def test_the_figure_next_to_the_question_words_is_found():
    question = "How long after delivery can the buyer still complain about hidden defects?"
    assert nearest_figure(question, DEFECTS, "10") == "6"
    assert nearest_figure("What is the highest price per tonne for BW-5502?", PRICE, "1150") == "1780"
    assert nearest_figure("What is the lowest price per tonne for BW-5502?", PRICE, "1780") == "1150"


def test_figures_of_another_kind_or_clause_references_do_not_compete():
    sentence = "Under clause 7.2 the Seller pays 85% of the shortfall value within 30 days of the invoice."
    assert nearest_figure("What share of the shortfall value does the Seller pay?", sentence, "85") is None


def test_a_clearly_better_sentence_elsewhere_is_reported():
    texts = {"c:1.3": "Subscription Year means each period of twelve (12) months from the Service Start "
                      "Date.",
             "c:3.1": "The Subscription Term starts on 1 March 2025 (the Service Start Date) and runs 36 "
                      "months."}
    question = "On what date does the subscription kick off?"
    better = better_sentence(question, texts, {"c:1.3": texts["c:1.3"]})
    assert better is not None and better.clause_id == "c:3.1"
    assert better_sentence(question, texts, {"c:3.1": texts["c:3.1"]}) is None
    assert asked_kinds(question) == {"date"}


def test_sentence_problems_name_the_clause_and_the_figure():
    question = "How long after delivery can the buyer still complain about hidden defects?"
    problems = sentence_problems(question, "Within 10 Business Days.", {"c:6.3": DEFECTS}, {"c:6.3": DEFECTS})
    assert problems == ["the answer gives 10, but its sentence puts 6 next to the question's words"]
    assert sentence_problems(question, "Within 6 months after delivery.", {"c:6.3": DEFECTS},
                             {"c:6.3": DEFECTS}) == []


def test_a_figure_from_a_sentence_off_the_question_is_flagged():
    cited = [Citation(contract_id="c", clause_id="c:3.3",
                      quote="Overdue rent bears interest at 4% above base rate."),
             Citation(contract_id="c", clause_id="c:3.4",
                      quote="A documentation fee of GBP 350 is due on signature.")]
    question = "What interest does the lessee owe on late rent?"
    assert "the sentence stating 350 shares only" in figure_off_topic(question, "GBP 350 plus VAT.", cited)
    assert figure_off_topic(question, "4% above base rate.", cited) is None


def test_a_figure_taken_from_a_weaker_sentence_beside_the_right_one_is_reported():
    texts = {"c:3.3": "If the Lessee fails to pay any sum on its due date, it shall pay interest on the "
                      "overdue sum at 4% per annum above base rate.",
             "c:3.4": "The Lessee shall pay the Lessor a documentation fee of GBP 350 plus VAT on signature."}
    question = "What interest does the lessee owe if it pays the rent late?"
    better = better_sentence(question, texts, texts, "It owes GBP 350 plus VAT.")
    assert better is not None and better.clause_id == "c:3.3"
    assert better_sentence(question, texts, texts, "Interest at 4% per annum above base rate.") is None


@pytest.mark.timeout(30)
@pytest.mark.parametrize("text", ["1" * 20_000, "1," * 10_000, "EUR 1 " * 5_000])
def test_a_hostile_run_of_digits_is_read_in_linear_time(text):
    """A clause of 20,000 digits took 216 s when a number could be any length; numbers are read up to 42
    chars."""
    cited = [Citation(contract_id="c", clause_id="c:1", quote=text)]
    figure_off_topic("How much is the fee per year?", text, cited)
    assert isinstance(sentence_problems("How much is the fee per year?", text, {"c:1": text}, {"c:1": text}),
                      list)
