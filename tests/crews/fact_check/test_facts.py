from crews.fact_check.facts import find_facts, phrase_in, quantities_in
from crews.fact_check.schemas import FactSheet

SHEET = FactSheet.model_validate({"product": "Velo", "facts": [
    {"id": "range", "subject": "riding range", "aliases": ["per charge"], "value": 80, "unit": "km",
     "statement": "Up to 80 km."},
    {"id": "setup", "subject": "setup", "value": 10, "unit": "min", "statement": "10 minutes."},
    {"id": "rating", "subject": "water rating", "value": "IP54", "statement": "IP54."},
]})


def test_phrases_match_by_word_stem():
    assert phrase_in("per charge", "80 km per charges")
    assert not phrase_in("riding range", "a range for riding")


def test_facts_are_found_by_name_or_code_shape_never_by_unit():
    assert [f.id for f in find_facts("The riding range is 80 km", SHEET)] == ["range"]
    assert [f.id for f in find_facts("Rated IP67", SHEET)] == ["rating"]
    assert find_facts("Ready to brew in 10 minutes", SHEET) == []


def test_a_unit_word_that_names_a_counted_fact_counts():
    sheet = FactSheet.model_validate({"product": "Spa break", "facts": [
        {"id": "nights", "subject": "nights", "aliases": ["stay"], "value": 2, "unit": "count",
         "statement": "Two nights."}]})
    assert [(q.low, q.unit.kind) for q in quantities_in("Three nights by the sea", sheet)] == [(3, "count")]
    assert [q.unit.kind for q in quantities_in("Three nights by the sea", SHEET)] != ["count"]  # no such fact
