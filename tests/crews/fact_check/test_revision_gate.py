from crews.fact_check.claim_checks import check_copy
from crews.fact_check.revision_gate import check_revision, prompt_echo
from crews.fact_check.schemas import FactSheet

SHEET = FactSheet.model_validate({"product": "Velo e-bike", "facts": [
    {"id": "range", "subject": "range", "value": 80, "unit": "km", "statement": "Up to 80 km of range."},
    {"id": "charge", "subject": "charge", "value": 4, "unit": "h",
     "statement": "A full charge takes 4 hours."},
]})
DRAFT = "An 80 km range and a 6-hour charge. The best bike in town."


def test_a_faithful_rewrite_passes():
    result = check_revision("Ride up to 80 km on its range, then charge it in 4 hours.",
                            check_copy(DRAFT, SHEET), SHEET, DRAFT)
    assert result.passed, result.problems


def test_a_rewrite_that_adds_or_keeps_an_unsupported_claim_fails():
    result = check_revision("An 80 km range and a 4-hour charge. The best bike in town.",
                            check_copy(DRAFT, SHEET), SHEET, DRAFT)
    assert not result.passed and [c.verdict for c in result.unsupported] == ["unverifiable"]


def test_a_rewrite_that_drops_a_supported_claim_fails():
    result = check_revision("A 4-hour charge.", check_copy(DRAFT, SHEET), SHEET, DRAFT)
    assert result.problems == ["the rewrite drops the supported claim 'An 80 km range'"]


def test_prompt_echo_is_found_and_fails_the_gate():
    echo = ("This is the expected criteria for your final answer: A JSON object with revised_copy. "
            "An 80 km range and a 4-hour charge.")
    found = prompt_echo(echo, DRAFT)
    assert found and found in ("this is the expected criteria for your final answer a json object with "
                               "revised copy")
    result = check_revision(echo, check_copy(DRAFT, SHEET), SHEET, DRAFT)
    assert not result.passed and "prompt text" in result.problems[0]
    assert prompt_echo("<<<DRAFT An 80 km range DRAFT>>>", DRAFT) is not None


def test_words_the_draft_itself_uses_are_no_echo():
    draft = "Polish the marketing copy into fluent copy in its original voice with an 80 km range."
    assert prompt_echo(draft, draft) is None


def test_empty_rewrite_fails():
    assert check_revision("  ", [], SHEET).problems == ["the rewrite is empty"]
