import pytest

from crews.contract_qa.contract import question_pairs
from crews.errors import InputError
from crews.registry import get_crew

CREW = get_crew("contract_qa")
load_input = CREW.load_input

Q = {"question_id": "q1", "contract_id": "northwind_msa", "question": "What is the termination fee?"}


def test_contract_comes_from_the_register_listing():
    item = load_input(Q)
    assert (item.contract.source == "northwind_msa.md"
            and item.register_row["counterparty"].startswith("Northwind"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"question_id": "a b"}, "question_id"),
        ({"question": ""}, "question"),
        ({"contract_id": "nobody"}, "no document given, none listed in the register"),
        ({"document": "missing.pdf"}, "not found"),
        ({"document": "../../README.md"}, "outside the allowed folders"),
        ({"document": "/etc/passwd"}, "outside the allowed folders"),
    ],
)
def test_bad_pairs_are_refused_by_name(change, message):
    with pytest.raises(InputError, match=message):
        load_input(Q | change)


def test_pairs_fan_out_over_contracts():
    questions = [{"question_id": "fee", "question": "Fee?"}, {"question_id": "law", "question": "Law?",
                                                              "contract_id": "helios_nda"}]
    pairs = question_pairs(questions, ["northwind_msa", "vega_lease"])
    assert [(p["contract_id"], p["question_id"]) for p in pairs] == [
        ("northwind_msa", "fee"), ("vega_lease", "fee"), ("helios_nda", "law")]
    with pytest.raises(InputError, match="names no contract"):
        question_pairs(questions, [])
    with pytest.raises(InputError, match="asked twice"):
        question_pairs([questions[1], questions[1]], [])


def test_item_id_and_evidence_artifact():
    item = load_input(Q)
    assert CREW.item_id(item) == "northwind_msa.q1"
