import pytest

from crews.errors import InputError
from crews.fact_check.claim_checks import check_copy
from crews.fact_check.plain_sheet import looks_plain, parse_plain_sheet
from crews.fact_check.schemas import FactSheet
from crews.registry import get_crew

load_input = get_crew("fact_check").load_input

PLAIN = """# Velora City E-bike 5
Range: up to 80 km
Battery: 500 Wh
Charge time: 4 h 30 min
Frame sizes: 48-58 cm
Colours: sage, charcoal or sand
Water resistance: IP54
Price: EUR 2,499
Subscription: €9 per month
Never say: waterproof, clinically proven
"""


def test_a_plain_sheet_becomes_a_validated_fact_sheet():
    sheet = FactSheet.model_validate(parse_plain_sheet(PLAIN))
    facts = {f.id: f for f in sheet.facts}
    assert sheet.product == "Velora City E-bike 5"
    assert (facts["range"].value, facts["range"].unit, facts["range"].qualifier) == (80, "kilometer", "up_to")
    assert facts["charge_time"].value == 270 and facts["charge_time"].unit == "minute"
    assert (facts["frame_sizes"].value.min, facts["frame_sizes"].value.max) == (48, 58)
    assert (facts["colours"].value == ["sage", "charcoal", "sand"]
            and facts["water_resistance"].value == "IP54")
    assert facts["subscription"].unit == "EUR/month"
    assert facts["never_say"].prohibited == ["waterproof", "clinically proven"]


def test_claims_are_checked_against_a_plain_sheet():
    item = load_input({"draft_id": "p", "fact_sheet": PLAIN,
                       "copy_text": "A range of up to 80 km in charcoal or red. Fully waterproof. "
                                    "Only EUR 2,499."})
    assert item.fact_sheet_format == "plain"
    verdicts = [(c.claim, c.verdict) for c in check_copy(item.copy_text, item.fact_sheet)]
    assert verdicts == [("A range of up to 80 km in charcoal", "supported"), ("charcoal", "supported"),
                        ("red", "contradicted"), ("Fully waterproof", "contradicted"),
                        ("Only EUR 2,499", "supported")]


def test_a_plain_sheet_file_is_read_and_converted(tmp_path):
    (tmp_path / "sheet.txt").write_text(PLAIN)
    item = load_input({"draft_id": "p", "copy_text": "Battery: 500 Wh.", "fact_sheet_file": "sheet.txt"},
                      tmp_path)
    assert item.fact_sheet_format == "plain" and len(item.fact_sheet.facts) == 9


@pytest.mark.parametrize(("text", "named"), [
    ("Range: up to 80 km\n", "needs a 'Product: ...' line"),
    ("Product: X\nthis line has no key\n", "line 2 ('this line has no key') is not 'Key: value'"),
    ("Product: X\n" + "Range: 80 km\n" * 301, "at most 300"),
])
def test_a_plain_sheet_that_cannot_be_understood_fails_naming_the_line(text, named):
    with pytest.raises(InputError, match=named.replace("(", r"\(").replace(")", r"\)")):
        load_input({"draft_id": "p", "copy_text": "x y", "fact_sheet": text})


def test_yaml_sheets_are_not_plain():
    assert not looks_plain("product: X\nfacts:\n  - id: a\n")
    assert looks_plain(PLAIN)


@pytest.mark.timeout(60)  # a line of 200,000 spaces once sent the line pattern into quadratic backtracking
def test_an_overlong_line_is_refused_at_once():
    with pytest.raises(InputError, match="line 2 has 200009 characters; a line may have at most 2000"):
        parse_plain_sheet("Product: P\nRange: x" + " " * 200000 + "y\n")
