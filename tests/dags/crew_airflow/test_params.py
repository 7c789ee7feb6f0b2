"""The `prompt_version` Param of the crew DAGs: validated like the CLI's selector, passed on to run_item."""

import re

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError
from crew_airflow.params import PATTERN, prompt_selector

from crews.prompt_source import SELECTOR_PATTERN
from tests.dags.test_dag_integrity import CREW_DAGS, DAGS


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def test_the_param_accepts_what_the_crews_accept_and_empty():
    assert PATTERN == SELECTOR_PATTERN.removesuffix("$") + "?$"
    for value in ("production", "staging-2", "yaml", "12", "a" * 64):
        assert re.fullmatch(SELECTOR_PATTERN, value) and re.fullmatch(PATTERN, value)
    for value in ("1.5", "-x", "9lives", "a" * 65, "prod ", "v1@x"):
        assert not re.fullmatch(SELECTOR_PATTERN, value) and not re.fullmatch(PATTERN, value)


@pytest.mark.parametrize("dag_id", CREW_DAGS)
def test_every_crew_dag_takes_a_validated_prompt_version(dagbag, dag_id):
    param = dagbag.dags[dag_id].params.get_param("prompt_version")
    assert param.value is None and "alias" in param.description
    for good in (None, "", "production", "3"):
        assert param.resolve(good) == good
    for bad in ("1.5", "prod uction", 3):
        with pytest.raises(ParamValidationError):
            param.resolve(bad)


def test_the_selector_read_from_the_params():
    assert prompt_selector({"prompt_version": "staging"}) == "staging"
    assert (prompt_selector({"prompt_version": ""}) is None
            and prompt_selector({"prompt_version": None}) is None)
    assert prompt_selector({}) is None
