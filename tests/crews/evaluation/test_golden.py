import importlib.util

import pytest

from crews.errors import InputError
from crews.evaluation.golden import load_golden, sample_items
from crews.paths import INCLUDE_DIR
from crews.registry import CREWS, get_spec


@pytest.mark.parametrize("crew", sorted(CREWS))
def test_every_golden_input_is_a_valid_crew_item(crew):
    spec = get_spec(crew)
    records = load_golden(crew)
    assert len(records) >= 3
    ids = [spec.item_id(spec.load_input(r["inputs"])) for r in records]
    assert len(set(ids)) == len(ids)


def test_data_qa_expectations_are_exactly_the_planted_problems():
    module_spec = importlib.util.spec_from_file_location("build_samples", INCLUDE_DIR / "data_qa/build_samples.py")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    expected = [tuple(issue) for r in load_golden("data_qa") for issue in r["expectations"]["issues"]]
    assert sorted(expected) == sorted(module.PLANTED)
    assert all(r["expectations"]["passed"] == (not r["expectations"]["issues"]) for r in load_golden("data_qa"))


def test_sample_items_are_the_golden_inputs():
    assert [i["draft_id"] for i in sample_items("fact_check")][:1] == ["aurora_launch"]


@pytest.mark.parametrize(("text", "problem"), [("records: []\n", "no 'records'"), ("records: [{inputs: {}}]\n",
                                                                                     "expectations")])
def test_a_broken_golden_set_is_refused_by_name(tmp_path, text, problem):
    path = tmp_path / "golden.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=problem):
        load_golden("fact_check", path)
