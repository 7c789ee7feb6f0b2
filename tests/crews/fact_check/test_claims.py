from crews.fact_check.claims import claim_spans, sentence_spans
from crews.fact_check.schemas import FactSheet

SHEET = FactSheet.model_validate({"product": "Velo 5", "facts": [
    {"id": "range", "subject": "range", "value": 80, "unit": "km", "statement": "Up to 80 km."},
    {"id": "colours", "subject": "colours", "value": ["sage", "sand"], "statement": "Sage or sand."},
]})


def test_sentence_spans_drop_markdown_and_keep_offsets():
    text = "# Velo 5\n- **Range:** 80 km.\nBuilt to last. Yours today."
    spans = sentence_spans(text)
    assert [s.text for s in spans] == ["Velo 5", "**Range:** 80 km.", "Built to last.", "Yours today."]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_pieces_without_a_fact_a_quantity_or_a_claim_word_are_no_claims():
    assert [c.text for c in claim_spans("Made for lazy Sundays, and long film nights.", SHEET)] == []


def test_a_piece_naming_a_fact_leads_into_the_quantity_after_it():
    assert [c.text for c in claim_spans("The range, on one charge, reaches 80 km.", SHEET)] == [
        "The range, on one charge, reaches 80 km"]


def test_cuts_fall_between_quantities_of_different_kinds_and_never_inside_one():
    assert [c.text for c in claim_spans("A 750 g frame for €2,499 with a 1 h 30 min charge.", SHEET)] == [
        "A 750 g frame", "for €2,499", "a 1 h 30 min charge"]


def test_each_listed_option_is_its_own_claim():
    claims = claim_spans("In sage, sand or rose.", SHEET)
    assert [(c.text, c.option_of is not None) for c in claims] == [("sage", True), ("sand", True),
                                                                   ("rose", True)]


def test_a_prohibited_word_before_a_quantity_is_a_claim_of_its_own():
    sheet = FactSheet.model_validate({"product": "Pure Matt", "facts": [
        {"id": "sheen", "subject": "sheen", "value": 5, "unit": "%", "statement": "5% sheen."},
        {"id": "voc", "subject": "VOC content", "value": "low", "prohibited": ["zero-VOC"],
         "statement": "Low VOC."}]})
    claims = [c.text for c in claim_spans("The zero-VOC formula dries to a soft 5% sheen.", sheet)]
    assert claims == ["The zero-VOC formula dries to a soft", "5% sheen"]
