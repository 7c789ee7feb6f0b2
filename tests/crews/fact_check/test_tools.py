from pathlib import Path

import pytest
import yaml

from crews.fact_check.schemas import Fact, FactSheet
from crews.fact_check.tools import (
    apply_fixes,
    check_claim,
    corrected_value,
    extract_quantities,
    find_facts,
    ground_claims,
    looks_like_claim,
    missed_claims,
    split_sentences,
)

SHEETS = Path(__file__).resolve().parents[3] / "include" / "fact_check" / "fact_sheets"


@pytest.fixture(scope="module")
def aurora() -> FactSheet:
    return FactSheet.model_validate(yaml.safe_load((SHEETS / "aurora_x2.yaml").read_text()))


@pytest.fixture(scope="module")
def brewmaster() -> FactSheet:
    return FactSheet.model_validate(yaml.safe_load((SHEETS / "brewmaster_pro.yaml").read_text()))


def test_split_sentences_keeps_decimals():
    assert split_sentences("A 1.8 l tank. It has Bluetooth 5.3! Really?  Yes.") == [
        "A 1.8 l tank.", "It has Bluetooth 5.3!", "Really?", "Yes.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up to 40 hours", [(40.0, "hours")]),
        ("a 19-bar pump", [(19.0, "bar")]),
        ("only $199", [(199.0, "usd")]),
        ("1,350 W heater", [(1350.0, "w")]),
        ("a 0.3 kg frame", [(300.0, "g")]),
        ("a 1800 ml tank", [(1.8, "l")]),
        ("two devices", [(2.0, None)]),
        ("Aurora X2 with IPX7", []),
    ],
)
def test_extract_quantities(text, expected):
    assert [(q.value, q.unit) for q in extract_quantities(text)] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("claim", "verdict", "fact_id"),
    [
        ("Enjoy up to 40 hours of battery life on a single charge.", "contradicted", "battery_life"),
        ("Up to 30 hours of playback with noise cancelling on.", "supported", "battery_life"),
        ("They are fully waterproof with an IPX7 rating.", "contradicted", "water_resistance"),
        ("Rated IPX4 against splashes.", "supported", "water_resistance"),
        ("At just 250 g they are made for all-day comfort.", "supported", "weight"),
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


def test_prohibited_phrase_contradicts_and_removes_the_sentence(aurora):
    check = check_claim(1, "Rated IPX4, so you can swim with them.", aurora)
    assert check.verdict == "contradicted" and check.evidence[0].claimed_value == "swim"
    assert check.corrected_claim is None
    copy = "Rated IPX4, so you can swim with them. Weighs 250 g."
    assert apply_fixes(copy, [check]) == "Weighs 250 g."


def test_corrected_value_converts_units_only_when_needed():
    fact = Fact(id="w", subject="weight", value=250, unit="g", statement="250 g")
    assert corrected_value("300 grams", fact) == "250 grams"
    assert corrected_value("0.3 kg", fact) == "250 g"


def test_fact_named_without_value_is_unverifiable(aurora):
    check = check_claim(1, "Incredible battery life.", aurora)
    assert check.verdict == "unverifiable"
    assert "states no value" in check.reason


def test_find_facts_by_unit_alone(brewmaster):
    assert [f.id for f in find_facts("Brews with 15 bar.", brewmaster)] == ["pump_pressure"]


def test_ground_claims_drops_inventions_and_splits_sentences():
    copy = "Up to 30 hours of playback. Weighs 250 g. Loved by all."
    grounded = ground_claims(["Up to 30 hours of playback. Weighs 250 g.", "Made on the moon.", "weighs 250 g"], copy)
    assert grounded == ["Up to 30 hours of playback.", "Weighs 250 g."]


def test_missed_claims_recovers_checkable_sentences(aurora):
    copy = "Meet the Aurora X2. Enjoy up to 40 hours of battery life. Backed by a 2-year warranty."
    assert missed_claims(["Backed by a 2-year warranty."], copy, aurora) == ["Enjoy up to 40 hours of battery life."]


@pytest.mark.parametrize(
    ("sentence", "claim_like"),
    [
        ("Aurora X2 is the most loved headphone brand.", True),
        ("Recommended by baristas.", True),
        ("Enjoy up to 40 hours.", True),
        ("Incredible battery life.", True),
        ("Meet the Aurora X2 wireless headphones.", False),
        ("Your music, your way.", False),
    ],
)
def test_looks_like_claim(aurora, sentence, claim_like):
    assert looks_like_claim(sentence, aurora) is claim_like


def test_apply_fixes(aurora):
    copy = "Enjoy up to 40 hours of battery life. The most loved brand ever. Weighs 250 g."
    checks = [check_claim(i, s, aurora) for i, s in enumerate(split_sentences(copy), 1)]
    assert apply_fixes(copy, checks) == "Enjoy up to 30 hours of battery life. Weighs 250 g."
