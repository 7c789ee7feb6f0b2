import json
import re

import pytest

from crews.errors import InputError
from crews.registry import get_crew

CREW = get_crew("fact_check")
load_input = CREW.load_input


SHEET = {"product": "P", "facts": [{"id": "w", "subject": "weight", "value": 1, "unit": "kg",
                                    "statement": "1 kg"}]}


def test_loads_sample_files_from_include():
    item = load_input({"draft_id": "a", "copy_file": "drafts/aurora_launch.md",
                       "fact_sheet_file": "fact_sheets/aurora_x2.yaml"})
    assert item.fact_sheet.product.startswith("Aurora") and "40 hours" in item.copy_text


def test_relative_files_resolve_against_base_dir(tmp_path):
    (tmp_path / "copy.md").write_text("It weighs 1 kg.")
    item = load_input({"draft_id": "a", "copy_file": "copy.md", "fact_sheet": SHEET}, base_dir=tmp_path)
    assert item.copy_text == "It weighs 1 kg."


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not an object", "must be a JSON object"),
        ({"copy_text": "x", "fact_sheet": SHEET}, "draft_id: Field required"),
        ({"draft_id": "a", "fact_sheet": SHEET}, "give either copy_text or copy_file"),
        ({"draft_id": "a", "copy_text": "   ", "fact_sheet": SHEET}, "copy_text is blank"),
        ({"draft_id": "a", "copy_text": "x" * 20_001, "fact_sheet": SHEET}, "at most 20000 characters"),
        ({"draft_id": "a b", "copy_text": "x", "fact_sheet": SHEET}, "draft_id: String should match pattern"),
        ({"draft_id": "a", "copy_text": "x", "fact_sheet": {"product": "P", "facts": []}},
         "fact_sheet.facts"),
        ({"draft_id": "a", "copy_text": "x", "copy_file": "drafts/aurora_launch.md", "fact_sheet": SHEET},
         "not both"),
        ({"draft_id": "a", "copy_file": "drafts/missing.md", "fact_sheet": SHEET}, "not found"),
        ({"draft_id": "a", "copy_file": "../../../etc/passwd", "fact_sheet": SHEET},
         "outside the allowed folders"),
        ({"draft_id": "a", "copy_file": "/etc/passwd", "fact_sheet": SHEET}, "outside the allowed folders"),
        ({"draft_id": "a", "copy_text": "x", "fact_sheet": {**SHEET, "facts": SHEET["facts"] * 2}},
         "duplicate fact ids: w"),
    ],
)
def test_bad_input_is_refused_with_a_named_problem(payload, message):
    with pytest.raises(InputError, match=message):
        load_input(payload)


def test_non_utf8_and_bad_yaml_files(tmp_path):
    (tmp_path / "bin.md").write_bytes(b"\xff\xfe\x00binary")
    (tmp_path / "bad.yaml").write_text("facts: [unclosed")
    with pytest.raises(InputError, match="not UTF-8"):
        load_input({"draft_id": "a", "copy_file": "bin.md", "fact_sheet": SHEET}, base_dir=tmp_path)
    with pytest.raises(InputError, match="not valid YAML"):
        load_input({"draft_id": "a", "copy_text": "x", "fact_sheet_file": "bad.yaml"}, base_dir=tmp_path)


def test_a_pattern_re2_cannot_run_is_refused_at_load_naming_the_fact():
    sheet = {"product": "P", "facts": [{"id": "rating", "subject": "water rating", "value": "IPX4",
                                        "pattern": "(", "statement": "IPX4."}]}
    with pytest.raises(InputError,
                       match=r"fact 'rating': pattern '\(' is not a regular expression RE2 can run"):
        load_input({"draft_id": "a", "copy_text": "IPX4 rated.", "fact_sheet": sheet})


def test_a_json_fact_sheet_file_loads_as_json(tmp_path):
    sheet = {"product": "Kettle", "facts": [{"id": "volume", "subject": "capacity", "value": 1.7, "unit": "l",
                                             "statement": "Holds 1.7 litres."}]}
    (tmp_path / "kettle.json").write_text(json.dumps(sheet, indent=2))
    item = load_input({"draft_id": "a", "copy_text": "Holds 1.7 l.", "fact_sheet_file": "kettle.json"},
                      base_dir=tmp_path)
    assert item.fact_sheet_format == "structured"
    assert [f.id for f in item.fact_sheet.facts] == ["volume"]


def test_spec_summary_and_metrics(scripted_llm):
    item = load_input({"draft_id": "a", "copy_file": "drafts/brewmaster_promo.md",
                       "fact_sheet_file": "fact_sheets/brewmaster_pro.yaml"})
    report = CREW.run(item, scripted_llm)
    summary, metrics = CREW.summary(report), CREW.metrics(report)
    assert summary["contradicted"] == metrics["claims_contradicted"] == 1
    assert summary["claims"] == metrics["claims"] == len(report.claims)


def _sheet_item(**fact):
    return {"draft_id": "d", "copy_text": "A range of 80 km.",
            "fact_sheet": {"product": "Velo", "facts": [{"id": "range", "subject": "range",
                                                         "statement": "80 km", "value": 80, **fact}]}}


@pytest.mark.parametrize(("fact", "named"), [
    ({"unit": "kmz"}, "fact 'range': unit 'kmz' is not a unit pint knows"),
    ({"unit": "EU"}, "fact 'range': unit 'EU'"),  # pint reads it as exa-enzyme-units: refused, not guessed
    ({"value": {"min": 46, "max": 38}, "unit": "count"}, "range min 46 is larger than max 38"),
    ({"value": "IPX4", "unit": "km"}, "fact 'range': has a unit ('km') but its value is text"),
    ({"value": [], "unit": None}, "a list value needs at least one option"),
    ({"qualifier": "roughly"}, "qualifier"),
])
def test_a_bad_fact_is_refused_naming_the_fact_and_field(fact, named):
    with pytest.raises(InputError, match=re.escape(named)):
        load_input(_sheet_item(**fact))


def test_ranges_lists_and_currencies_load():
    item = load_input(_sheet_item(value={"min": 38, "max": 46}, unit="count"))
    assert item.fact_sheet.facts[0].display_value() == "38-46 count"
    item = load_input(_sheet_item(value=[128, 256, 512], unit="GB"))
    assert [q.low for q in item.fact_sheet.facts[0].quantities()] == [128, 256, 512]
    assert load_input(_sheet_item(value=12, unit="EUR/month")).fact_sheet.facts[0].fact_unit.kind == \
        "currency:EUR/month"


def test_the_fact_sheet_schema_is_published():
    schema = CREW.schemas["fact_sheet"].model_json_schema()
    fact = schema["$defs"]["Fact"]["properties"]
    assert {"subject", "aliases", "value", "unit", "qualifier", "prohibited"} <= set(fact)
    assert "never use" in fact["prohibited"]["description"]
