"""One definition per crew: the JSON Schema Airflow validates conf with and the crew's pydantic model
agree."""

import json

import jsonschema
import pytest
from pydantic import ValidationError

from crews.contract import CrewContract
from crews.registry import crew_names, get_crew
from crews.service import sample_items

BAD = {
    "fact_check": [{"draft_id": "a b", "copy_text": "x"}, {"draft_id": "a"},
                   {"draft_id": "a", "copy_text": ""},
                   {"draft_id": "a", "copy_text": "x", "copy_file": "d.md"},
                   {"draft_id": "a", "copy_text": "x", "p": 1},
                   {"draft_id": "a", "copy_text": "x", "fact_sheet": ["w"]}],
    "data_qa": [{"dataset_id": "x", "table": "t"}, {"dataset_id": "x", "url": "sqlite:///a.db"},
                {"dataset_id": "x", "url": "sqlite:///a.db", "conn_id": "c", "table": "t"},
                {"dataset_id": "x", "files": {"t": 5}, "table": "t"},
                {"dataset_id": "x", "url": "sqlite:///a.db", "table": "t", "sample_limit": 0},
                {"dataset_id": "x", "url": "sqlite:///a.db", "table": "t",
                 "columns": {"a": {"pattern": "ssn"}}}],
    "contract_qa": [{"question_id": "q"}, {"question_id": "q", "question": "?"},
                    {"question_id": "q", "question": "Fee?", "contract_ids": ["a b"]},
                    {"question_id": "q", "question": "Fee?", "register_url": "sqlite:///r.db"}],
}


@pytest.mark.parametrize("crew", crew_names())
def test_the_param_schema_accepts_the_samples_and_has_no_references(crew):
    schema = get_crew(crew).request_schema()
    assert "$ref" not in json.dumps(schema) and "$defs" not in schema
    for item in sample_items(crew):
        jsonschema.validate(item, schema)
        get_crew(crew).request_model.model_validate(item)


@pytest.mark.parametrize(("crew", "item"), [(crew, item) for crew, items in BAD.items() for item in items])
def test_the_param_schema_and_the_model_refuse_the_same_items(crew, item):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(item, get_crew(crew).request_schema())
    if "register_url" not in item:  # set by the DAG, never by conf: the model takes it, the schema does not
        with pytest.raises(ValidationError):
            get_crew(crew).request_model.model_validate(item)


def test_a_validation_error_names_the_field_not_a_branch():
    schema = get_crew("fact_check").request_schema()
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft202012Validator(schema).iter_errors({"draft_id": "a", "copy_text": ""}))
    assert list(error.absolute_path) == ["copy_text"]


def test_every_crew_is_a_contract_with_its_own_config_and_review_wording():
    for crew in crew_names():
        contract = get_crew(crew)
        assert isinstance(contract, CrewContract) and contract.name == crew
        assert (contract.config_dir / "agents.yaml").is_file() and contract.config_dir.parent.name == crew
        assert contract.noun and contract.decision_help and contract.items_param
        assert contract.id_field in contract.request_model.model_fields


def test_a_contract_pair_id_is_built_in_one_place():
    contract = get_crew("contract_qa")
    pairs = contract.expand([{"question_id": "fee", "question": "Fee?"}], contracts=["a", "b"])
    assert [contract.request_id(p) for p in pairs] == ["a.fee", "b.fee"]
