import pytest

from crews.fact_check.quantities import Quantity, Unit, find_quantities, is_basis, judge, parse_unit


def described(text: str) -> list[str]:
    return [q.describe() for q in find_quantities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("up to 80 km, a 1 h 30 min charge and €2,499", ["up to 80 kilometer", "90 min", "2499 EUR"]),
        ("a 5,000 mAh battery and a 30-minute charge", ["5000 milliampere_h", "30 min"]),
        ("sizes 38–46", ["38-46"]),
        ("between 38 and 46 cm", ["38-46 centimeter"]),
        ("-20 °C to 40 °C", ["-20-40 degree_Celsius"]),
        ("EUR 49, 49 euros, CHF 49, ¥12,000", ["49 EUR", "49 EUR", "49 CHF", "12000 JPY"]),
        ("€12 per user per month, £9/month", ["12 EUR/month", "9 GBP/month"]),
        ("an hour and a half, half an hour", ["1.5 h", "0.5 h"]),
        ("45 m², 12 sq ft, 1 Gbit/s, 400 Mbps, 2 TB", ["45 meter ** 2", "12 foot ** 2", "1 gigabit / second",
                                                     "400 megabit / second", "2 terabyte"]),
        ("80+ km, just over 12 kg, at least 3 years", ["at least 80 kilometer", "over 12 kilogram",
                                                       "at least 3 year"]),
        ("three colours", ["3"]),
        ("IPX4, 5G, 4K, Wi-Fi 6", ["6"]),  # codes are not quantities; "Wi-Fi 6" is a bare number
        ("a half-hour quick wash, a half day", ["0.5 h", "0.5 day"]),
        # "in" by a dimension
        ("23.6 in wide, a 7 in display, sold in 12 in stores", ["23.6 inch", "7 inch", "12"]),
    ],
)
def test_find_quantities(text, expected):
    assert described(text) == expected


def test_spans_point_into_the_text():
    text = "It has a 500 Wh battery."
    (quantity,) = find_quantities(text)
    assert text[quantity.start:quantity.end] == "500 Wh"


def test_ordinary_words_are_units_only_when_allowed():
    assert described("10 in pneumatic tyres") == ["10"]
    assert described_with("10 in pneumatic tyres", {"in"}) == ["10 inch"]


def described_with(text: str, allow: set[str]) -> list[str]:
    return [q.describe() for q in find_quantities(text, frozenset(allow))]


@pytest.mark.parametrize("unit", ["kmz", "EU", "MP5x", "points"])
def test_unknown_or_ambiguous_units_in_copy_are_none(unit):
    assert parse_unit(unit) is None


def test_fact_sheet_units_are_lenient_about_case():
    assert parse_unit("w", in_copy=False).name == "watt"
    assert parse_unit("in", in_copy=False).name == "inch"
    assert parse_unit("EUR/month", in_copy=False).kind == "currency:EUR/month"


def test_basis_amounts_are_not_claims():
    text = "9.5 g of sugars per 100 g"
    assert [is_basis(q, text) for q in find_quantities(text)] == [False, True]


KM = Unit("kilometer", "meter")


def q(low, qualifier="exact", high=None, precision=0.0):
    return Quantity(low, low if high is None else high, KM, qualifier, precision=precision)


@pytest.mark.parametrize(
    ("claim", "fact", "outcome"),
    [
        (q(80), q(80, "up_to"), "supports"),
        (q(80, "up_to"), q(80, "up_to"), "supports"),
        (q(90, "up_to"), q(80, "up_to"), "contradicts"),
        (q(80, "at_least"), q(80, "up_to"), "contradicts"),
        (q(60, "over"), q(80, "up_to"), "unknown"),
        (q(25, "at_least"), q(30), "supports"),
        (q(35, "at_least"), q(30), "contradicts"),
        (q(78, "about"), q(80), "supports"),
        (q(70, "about"), q(80), "contradicts"),
        (q(40), q(38, high=46), "supports"),
        (q(36, high=46), q(38, high=46), "contradicts"),
        (q(9, "from"), q(9, "from"), "supports"),
        (q(7, "from"), q(9, "from"), "contradicts"),
        (q(12, "under"), q(10), "supports"),
    ],
)
def test_judge_compares_qualifiers_by_meaning(claim, fact, outcome):
    assert judge(claim, fact) == outcome


def test_working_days_and_nights():
    assert described("delivered in 3–5 working days, a 100-night trial") == ["3-5 business_day", "100 night"]
    # never converted to calendar days
    assert parse_unit("working days", in_copy=False).kind == "business_day"
    assert parse_unit("nights", in_copy=False).kind == parse_unit("days", in_copy=False).kind


def test_min_after_a_number_is_minutes_not_minimum():
    assert described("30 min 1 h, min. 30 kg") == ["30 min", "1 h", "at least 30 kilogram"]
    assert described("1 h 30 min") == ["90 min"]  # larger to smaller units join
