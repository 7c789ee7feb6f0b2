from pathlib import Path

import pytest
import yaml

from crews.fact_check.claim_checks import apply_fixes, check_claim, check_copy, corrected_value
from crews.fact_check.claims import claim_spans, split_sentences
from crews.fact_check.facts import find_facts, phrase_in
from crews.fact_check.schemas import Fact, FactSheet

SHEETS = Path(__file__).resolve().parents[3] / "include" / "fact_check" / "fact_sheets"


@pytest.fixture(scope="module")
def aurora() -> FactSheet:
    return FactSheet.model_validate(yaml.safe_load((SHEETS / "aurora_x2.yaml").read_text()))


@pytest.fixture(scope="module")
def brewmaster() -> FactSheet:
    return FactSheet.model_validate(yaml.safe_load((SHEETS / "brewmaster_pro.yaml").read_text()))


def sheet(*facts: dict, product: str = "Velo 5 e-bike") -> FactSheet:
    return FactSheet.model_validate({"product": product,
                                     "facts": [{"statement": "approved", **f} for f in facts]})


BIKE = sheet(
    {"id": "battery", "subject": "battery", "value": 500, "unit": "Wh"},
    {"id": "range", "subject": "range", "value": 80, "unit": "km", "qualifier": "up_to"},
    {"id": "charge", "subject": "charge", "aliases": ["charging"], "value": 4, "unit": "h"},
    {"id": "speed", "subject": "assisted speed", "value": 25, "unit": "km/h"},
    {"id": "warranty", "subject": "warranty", "value": 2, "unit": "years"},
    {"id": "setup", "subject": "setup", "value": 10, "unit": "min"},
    {"id": "price", "subject": "price", "value": 2499, "unit": "EUR"},
    {"id": "colours", "subject": "colours", "aliases": ["colour"], "value": ["sage", "charcoal", "sand"]},
    {"id": "rating", "subject": "water rating", "value": "IPX4", "prohibited": ["waterproof"]},
)


def test_split_sentences_keeps_decimals():
    assert split_sentences("A 1.8 l tank. It has Bluetooth 5.3! Really?  Yes.") == [
        "A 1.8 l tank.", "It has Bluetooth 5.3!", "Really?", "Yes.",
    ]


def test_phrase_in_compares_word_stems():
    assert phrase_in("charge", "It charges in four hours")
    assert phrase_in("battery life", "the Battery's life")
    assert not phrase_in("range", "arrange")


def test_a_sentence_of_three_facts_is_three_claims_with_spans():
    copy = "Meet Velo. A 500 Wh battery, an 80 km range and a 4-hour charge."
    checks = check_copy(copy, BIKE)
    assert [c.claim for c in checks] == ["A 500 Wh battery", "an 80 km range", "a 4-hour charge"]
    assert all(copy[c.start:c.end] == c.claim for c in checks)
    assert [c.verdict for c in checks] == ["supported", "supported", "supported"]


def test_each_fact_in_a_sentence_gets_its_own_verdict():
    checks = check_copy("A 500 Wh battery, a 120 km range and a 4-hour charge.", BIKE)
    assert [c.verdict for c in checks] == ["supported", "contradicted", "supported"]
    assert checks[1].evidence[0].fact_id == "range"
    assert checks[1].corrected_claim == "a up to 80 km range"


@pytest.mark.parametrize(
    ("claim", "verdict"),
    [
        ("a range of up to 80 km", "supported"),
        ("a range of 80 km", "supported"),
        ("a range of at least 80 km", "contradicted"),  # overstates a maximum
        ("a range of up to 80 miles", "contradicted"),  # 80 miles is 129 km
        ("a range of about 78 km", "supported"),
        ("a range of more than 100 km", "contradicted"),
        ("a 0.5 kWh battery", "supported"),  # another unit, same energy
        ("a 1 h 30 min setup", "contradicted"),
        ("setup takes under 15 minutes", "supported"),
        ("a price of €2,499", "supported"),
        ("a price of €2,599", "contradicted"),
        ("a price of £2,499", "unverifiable"),  # another currency is never converted
        ("a price of $2,499", "unverifiable"),
    ],
)
def test_quantities_are_compared_by_meaning(claim, verdict):
    check = check_claim(1, claim, BIKE)
    assert check.verdict == verdict, check.reason


def test_a_shared_unit_is_never_enough():
    # 10 minutes is the setup time's unit, but this claim is about something else
    assert check_claim(1, "Ready to brew in 10 minutes", BIKE).verdict == "unverifiable"
    assert find_facts("Ready to brew in 10 minutes", BIKE) == []


def test_other_currency_reason_names_both_currencies():
    check = check_claim(1, "Yours for £2,499", BIKE)
    assert check.verdict == "unverifiable" and "GBP" in check.reason and "not converted" in check.reason


def test_list_options_are_claims_of_their_own():
    checks = check_copy("Choose from charcoal or terracotta.", BIKE)
    assert [(c.claim, c.verdict) for c in checks] == [("charcoal", "supported"),
                                                      ("terracotta", "contradicted")]


def test_prohibited_phrase_and_code_values(aurora):
    assert check_claim(1, "fully waterproof", BIKE).verdict == "contradicted"
    assert check_claim(1, "rated IPX7", BIKE).verdict == "contradicted"
    assert check_claim(1, "rated IPX4", BIKE).verdict == "supported"


def test_model_number_of_the_product_is_no_quantity():
    assert claim_spans("The Velo 5 is here.", BIKE) == []


def test_quantity_without_subject_joins_the_piece_that_names_it():
    checks = check_copy("The range, on a single charge, is up to 80 km.", BIKE)
    assert [(c.claim, c.verdict) for c in checks] == [("The range, on a single charge, is up to 80 km",
                                                       "supported")]


@pytest.mark.parametrize(
    ("claim", "verdict", "fact_id"),
    [
        ("Enjoy up to 40 hours of battery life on a single charge.", "contradicted", "battery_life"),
        ("Up to 30 hours of playback with noise cancelling on.", "supported", "battery_life"),
        ("They are fully waterproof with an IPX7 rating.", "contradicted", "water_resistance"),
        ("Rated IPX4 against splashes.", "supported", "water_resistance"),
        ("At just 250 g they are made for all-day comfort.", "supported", "weight"),  # a mass is a weight
        ("Weighing only 0.3 kg.", "contradicted", "weight"),
        ("Bluetooth 5.3 connects two devices at once.", "supported", "bluetooth"),
        ("Backed by a 2-year warranty.", "supported", "warranty"),
        ("Aurora X2 is the most loved headphone brand among audiophiles.", "unverifiable", None),
    ],
)
def test_check_claim_verdicts(aurora, claim, verdict, fact_id):
    check = check_claim(1, claim, aurora)
    assert check.verdict == verdict, check.reason
    assert [e.fact_id for e in check.evidence][:1] == ([fact_id] if fact_id else [])


def test_contradicted_claim_carries_correction(brewmaster):
    check = check_claim(1, "The BrewMaster Pro brings espresso home with a 19-bar pump.", brewmaster)
    assert check.verdict == "contradicted"
    assert check.evidence[0].claimed_value == "19-bar"
    assert check.corrected_claim == "The BrewMaster Pro brings espresso home with a 15-bar pump."


def test_prohibited_phrase_contradicts_and_removes_the_claim(aurora):
    copy = "Rated IPX4, so you can swim with them. Weighs 250 g."
    checks = check_copy(copy, aurora)
    assert [(c.claim, c.verdict) for c in checks] == [
        ("Rated IPX4", "supported"), ("you can swim", "contradicted"), ("Weighs 250 g", "supported")]
    assert checks[1].corrected_claim is None
    assert apply_fixes(copy, checks) == "Rated IPX4. Weighs 250 g."


def test_corrected_value_keeps_the_claims_unit_when_they_share_one():
    fact = Fact(id="w", subject="weight", value=250, unit="g", statement="250 g")
    assert corrected_value("300 g", fact) == "250 g"
    assert corrected_value("0.3 kg", fact) == "250 g"


def test_apply_fixes_keeps_the_rest_of_the_sentence():
    copy = "A 500 Wh battery, the best frame ever and a 5-hour charge. Loved by all riders."
    assert apply_fixes(copy, check_copy(copy, BIKE)) == "A 500 Wh battery and a 4-hour charge."


def test_fact_named_without_value_is_no_claim(aurora):
    assert check_copy("Incredible battery life.", aurora) == []
    assert check_claim(1, "Incredible battery life.", aurora).verdict == "unverifiable"


@pytest.mark.parametrize(
    ("sentence", "claim_like"),
    [
        ("Aurora X2 is the most loved headphone brand.", True),
        ("Recommended by baristas.", True),
        ("Enjoy up to 40 hours.", True),
        ("The thinnest body in its class.", True),
        ("Meet the Aurora X2 wireless headphones.", False),
        ("Your music, your way.", False),
    ],
)
def test_what_reads_as_a_claim(aurora, sentence, claim_like):
    assert bool(claim_spans(sentence, aurora)) is claim_like


def test_apply_fixes_by_span(aurora):
    copy = "Enjoy up to 40 hours of battery life. The most loved brand ever. Weighs 250 g."
    assert apply_fixes(copy, check_copy(copy, aurora)) == ("Enjoy up to 30 hours of battery life. "
                                                           "Weighs 250 g.")


def test_fact_checker_quotes_mark_extra_claims(aurora):
    copy = "Made by a family business, with 250 g of comfort. Enjoy the silence."
    assert [c.found_by for c in check_copy(copy, aurora, ["Made by a family business"])] == ["model", "tools"]
    assert len(check_copy(copy, aurora)) == 1
    assert len(check_copy(copy, aurora, ["Enjoy the silence."])) == 1  # a whole sentence singles out nothing


# a guard against blow-ups on hostile copy (quadratic scans took minutes), not a benchmark
@pytest.mark.timeout(60)
def test_hostile_copy_at_the_size_limits_is_checked_in_bounded_work():
    colours = sheet({"id": "c", "subject": "colours", "value": ["sage", "charcoal", "sand"]})
    checks = check_copy("Colours: " + "sage, " * 1600 + "red.", colours)
    assert [(c.claim, c.verdict) for c in checks if c.verdict != "supported"] == [("red", "contradicted")]
    many = FactSheet.model_validate({"product": "P", "facts": [
        {"id": f"f{i}", "subject": f"feature number {i}", "aliases": [f"alias {i} {j}" for j in range(10)],
         "value": i, "unit": "km", "statement": "x"} for i in range(500)]})
    copy = ("The feature number 7 gives 80 km, alias 3 2 at 12 km and more. " * 300)[:20000]
    checks = check_copy(copy, many)
    assert len(checks) == 1200 and all(copy[c.start:c.end] == c.claim for c in checks)


# guards against the quadratic look-back before a quantity (10 s at 18,000 characters)
@pytest.mark.timeout(60)
def test_a_long_run_of_words_between_two_quantities_is_cut_in_bounded_work():
    range_sheet = sheet({"id": "r", "subject": "range", "value": 80, "unit": "km"})
    checks = check_copy("The range is 80 km " + "a " * 9000 + "x 5 kg", range_sheet)
    assert checks[0].verdict == "supported" and checks[0].claim.startswith("The range is 80 km")
