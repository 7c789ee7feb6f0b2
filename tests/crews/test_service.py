"""The door Airflow calls: screening, what is missing, publishing, quarantine and review decisions."""

import json

from crews import service
from crews.paths import state_dir
from crews.results import fetch_results, upsert_results

GOOD = {"draft_id": "good", "copy_text": "Backed by a 2-year warranty.",
        "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}


def test_screen_keeps_loadable_items_and_names_each_refusal():
    bad = {"draft_id": "escape", "copy_file": "../../../etc/passwd",
           "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
    screened = service.screen("fact_check", [GOOD, bad])
    assert screened["accepted"] == [GOOD] and screened["ids"] == ["good", "escape"]
    (refusal,) = screened["refused"]
    assert refusal["item_id"] == "escape" and "outside the allowed folders" in refusal["error"]


def test_screen_expands_contract_questions_into_pairs_and_prepares_each():
    prepared = []
    screened = service.screen("contract_qa", [{"question_id": "fee", "question": "What fee is payable?"}],
                              prepare=lambda pair: prepared.append(pair) or pair,
                              contracts=["northwind_msa", "nope"])
    assert screened["ids"] == ["northwind_msa.fee", "nope.fee"] and len(prepared) == 2
    assert [r["item_id"] for r in screened["refused"]] == ["nope.fee"]


def test_a_refusal_raised_by_prepare_fails_that_item_alone():
    def prepare(item):
        raise service.InputError("conn_id: there is no Airflow connection 'x'")

    screened = service.screen("fact_check", [GOOD], prepare=prepare)
    assert screened["accepted"] == [] and "no Airflow connection" in screened["refused"][0]["error"]


def test_missing_items_keeps_the_input_order():
    assert service.missing_items([{"item_id": "b"}], ["a", "b", "c"]) == ["a", "c"]
    assert service.missing_items(None, ["a"]) == ["a"]


def _row(item_id: str, passed: bool, result: dict) -> dict:
    return {"crew": "fact_check", "item_id": item_id, "summary": {"item_id": item_id, "passed": passed},
            "result": result}


def test_publish_writes_the_approved_copy_only():
    upsert_results([_row("ok", True, {"revised_copy": "Right copy."}),
                    _row("no", False, {"revised_copy": "x"})], "fact_check_copy", "run_1")
    published = service.publish("fact_check", "run_1")
    assert published["items"] == ["ok"]
    (path,) = published["paths"]
    assert open(path).read() == "Right copy.\n"
    assert service.publish("fact_check", "run_2") == {"paths": [], "items": []}


def test_quarantine_keeps_the_full_report():
    upsert_results([{"crew": "data_qa", "item_id": "orders",
                     "summary": {"item_id": "orders", "passed": False},
                     "result": {"issues": [{"column": "amount"}]}}], "data_quality_qa", "run_3")
    path = service.quarantine("data_qa", "run_3", {"item_id": "orders", "passed": False})
    assert path == str(state_dir() / "quarantine" / "data_qa" / "orders.json")
    assert json.loads(open(path).read())["report"] == {"issues": [{"column": "amount"}]}


def test_record_reviews_skips_reviews_never_answered():
    upsert_results([_row("a", False, {}), _row("b", False, {})], "fact_check_copy", "run_4")
    responses = [None, {"chosen_options": ["Accept copy"], "params_input": {},
                        "responded_by_user": {"name": "ann"}}]
    assert service.record_reviews("fact_check", "fact_check_copy", "run_4",
                                  [{"item_id": "a"}, {"item_id": "b"}], responses) == 1
    statuses = {row.item_id: row.status for row in fetch_results("fact_check", "run_4")}
    assert statuses["b"] == "accepted" and statuses["a"] != "accepted"


def test_a_checkpointed_item_comes_back_as_the_runner_returned_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", str(tmp_path))
    result = {"crew": "fact_check", "item_id": "a", "summary": {"status": "approved", "passed": True},
              "result": {"draft_id": "a"}, "mlflow_run_id": "r123", "mlflow_experiment": "crews/fact_check",
              "usage": {"llm_calls": 3, "total_tokens": 90, "cost_usd": 0.0}, "task": {"task_id": "t",
                                                                                       "map_index": 1}}
    service.checkpoint(result, "fact_check_copy", "run1")
    assert service.stored_results("fact_check", "fact_check_copy", "run1", ["a", "b"]) == {"a": result}
    assert service.stored_results("fact_check", "fact_check_copy", "run2", ["a"]) == {}  # another run
    assert service.stored_results("fact_check", "other_dag", "run1", ["a"]) == {}
    assert service.stored_results("fact_check", "fact_check_copy", "run1", []) == {}
