import pytest

from crews.contract_qa.citations import best_sentence, is_verbatim, numbers, unsupported_numbers

CLAUSE = ("If the Customer terminates for convenience, it shall pay a termination fee of EUR 25,000. "
          "The fee is due within 30 days.")


@pytest.mark.parametrize(
    ("quote", "ok"),
    [
        ("it shall pay a termination fee of EUR 25,000", True),
        ("IT SHALL PAY  a termination\nfee of EUR 25,000.", True),  # case, whitespace, final dot
        ("\u201cThe fee is due within 30 days.\u201d", True),  # typographic quotes
        ("it shall pay a termination fee of EUR 50,000", False),
        ("the customer pays EUR 25,000 when terminating", False),
        ("", False),
    ],
)
def test_verbatim(quote, ok):
    assert is_verbatim(quote, CLAUSE) is ok


def test_best_sentence_finds_the_near_miss():
    sentence, share = best_sentence("the Customer shall pay a termination fee of EUR 25,000", CLAUSE)
    assert sentence.startswith("If the Customer terminates") and share >= 0.9


def test_numbers_and_dates_are_normalised():
    assert numbers("EUR 25,000. within 30 days on 31 March 2027 or March 31, 2027 (2027-03-31), 1.5%") == {
        "25000", "30", "2027-03-31", "1.5"}
    assert unsupported_numbers("The fee is EUR 25,000, due in 45 days.", [CLAUSE]) == {"45"}
    assert unsupported_numbers("It ends on 2027-03-31.", ["ending on 31 March 2027"]) == set()
