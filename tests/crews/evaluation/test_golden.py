import importlib.util

import pytest

from crews.errors import InputError
from crews.evaluation.golden import GOLDEN_SETS, golden_path, load_golden, sample_items
from crews.paths import INCLUDE_DIR
from crews.registry import CREWS, get_crew

EXISTING_SETS = [(crew, golden_set) for crew in sorted(CREWS) for golden_set in GOLDEN_SETS
                 if golden_path(crew, golden_set).is_file()]


def test_every_crew_has_samples_and_an_extended_set():
    assert {(crew, s) for crew in CREWS for s in ("samples", "extended")} <= set(EXISTING_SETS)


@pytest.mark.parametrize(("crew", "golden_set"), EXISTING_SETS)
def test_every_golden_input_is_a_valid_crew_item(crew, golden_set):
    spec = get_crew(crew)
    records = load_golden(crew, golden_set=golden_set)
    assert len(records) >= 3
    base = golden_path(crew, golden_set).parent
    ids = [spec.item_id(spec.load_input(r["inputs"], base)) for r in records]
    assert len(set(ids)) == len(ids)


def test_the_extended_sets_are_the_size_the_evaluation_needs():
    fact_check = load_golden("fact_check", golden_set="extended")
    assert len(fact_check) >= 12 and sum(len(r["expectations"]["claims"]) for r in fact_check) >= 50
    contracts = load_golden("contract_qa", golden_set="extended")
    assert len({r["inputs"]["contract_id"] for r in contracts}) >= 4 and len(contracts) >= 40
    assert sum(not r["expectations"]["answerable"] for r in contracts) >= 8
    assert sum(r["expectations"]["injected"] for r in contracts) >= 3
    assert len(load_golden("data_qa", golden_set="extended")) >= 8


@pytest.mark.parametrize("golden_set", list(GOLDEN_SETS))
def test_every_expected_claim_names_one_place_in_its_draft(golden_set):  # every fact_check set exists
    for record in load_golden("fact_check", golden_set=golden_set):
        copy = (golden_path("fact_check", golden_set).parent / record["inputs"]["copy_file"]).read_text()
        for claim in record["expectations"]["claims"]:
            assert copy.count(claim["contains"]) == 1, (record["inputs"]["draft_id"], claim["contains"])


def test_data_qa_expectations_are_exactly_the_planted_problems():
    module_spec = importlib.util.spec_from_file_location("build_samples",
                                                         INCLUDE_DIR / "data_qa/build_samples.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    expected = [tuple(issue) for r in load_golden("data_qa") for issue in r["expectations"]["issues"]]
    assert sorted(expected) == sorted(module.PLANTED)
    assert all(r["expectations"]["passed"] == (not r["expectations"]["issues"])
               for r in load_golden("data_qa"))


def test_sample_items_are_the_golden_inputs():
    assert [i["draft_id"] for i in sample_items("fact_check")][:1] == ["aurora_launch"]


@pytest.mark.parametrize(("text", "problem"), [("records: []\n", "no 'records'"),
                                               ("records: [{inputs: {}}]\n", "expectations")])
def test_a_broken_golden_set_is_refused_by_name(tmp_path, text, problem):
    path = tmp_path / "golden.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem):
        load_golden("fact_check", path)
