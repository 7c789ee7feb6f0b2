"""Bad REST `conf` is refused by the DAGs' Params (HTTP 400) with the field named; bad items that pass
the Params fail alone in a real dag.test() run while the good items' results are stored."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from airflow.configuration import conf as airflow_conf
from airflow.dag_processing.dagbag import DagBag
from airflow.exceptions import ParamValidationError
from airflow.serialization.serialized_objects import DagSerialization

from crews.contract_qa.contract import MAX_PAIRS
from crews.results import fetch_results
from tests.dags.dagtest_support import run_dag_test
from tests.support.bad_inputs import INJECTED_CLAUSE, INJECTED_CONTRACT, INJECTED_COPY, LATIN1

ROOT = Path(__file__).resolve().parents[2]
DRAFT = {"draft_id": "d1", "copy_text": "Up to 30 hours.", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
DATASET = {"dataset_id": "ds1", "url": "sqlite:///shop.db", "table": "products"}
QUESTION = {"question_id": "q1", "question": "What is the fee?", "contract_id": "northwind_msa"}
CONN_PASSWORD = "pw-SENTINEL-7f3a9c"  # a dataset connection's password


@pytest.fixture(scope="module")
def dags():
    """The DAGs as the API server holds them (serialized), keyed by dag_id."""
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert not bag.import_errors, bag.import_errors
    return {dag_id: DagSerialization.from_dict(DagSerialization.to_dict(dag))
            for dag_id, dag in bag.dags.items()}


def validate_conf(dag, conf: dict) -> dict:
    """What POST /api/v2/dags/{dag_id}/dagRuns does with `conf` (a ParamValidationError becomes HTTP 400)."""
    return dag.params.deep_merge(conf).validate()


BAD_CONF = [
    # (case id, dag_id, conf, substrings the 400 message must contain: the param, the field and the problem)
    ("fc_drafts_not_a_list", "fact_check_copy", {"drafts": "aurora"},
     ["param drafts", "is not of type 'null', 'array'"]),
    ("fc_draft_id_wrong_type", "fact_check_copy", {"drafts": [DRAFT | {"draft_id": 42}]},
     ["param drafts", "42 is not of type 'string'", "instance[0]['draft_id']"]),
    ("fc_missing_draft_id", "fact_check_copy", {"drafts": [{"copy_text": "x"}]},
     ["'draft_id' is a required property"]),
    ("fc_missing_copy", "fact_check_copy", {"drafts": [{"draft_id": "a"}]},
     ["is not valid under any of the given schemas", "'copy_text'", "'copy_file'"]),
    ("fc_copy_and_file", "fact_check_copy", {"drafts": [DRAFT | {"copy_file": "drafts/aurora_launch.md"}]},
     ["is valid under each of"]),
    ("fc_unknown_key", "fact_check_copy", {"drafts": [DRAFT | {"priority": "high"}]},
     ["Additional properties are not allowed ('priority' was unexpected)"]),
    ("fc_empty_copy", "fact_check_copy", {"drafts": [DRAFT | {"copy_text": ""}]},
     ["should be non-empty", "copy_text"]),
    ("fc_huge_copy", "fact_check_copy", {"drafts": [DRAFT | {"copy_text": "x" * 20_001}]},
     ["is too long", "copy_text"]),
    ("fc_fact_sheet_wrong_type", "fact_check_copy", {"drafts": [DRAFT | {"fact_sheet": ["aurora"]}]},
     ["['aurora'] is not of type 'object', 'string', 'null'", "fact_sheet"]),
    ("fc_fan_out", "fact_check_copy", {"drafts": [DRAFT] * 501}, ["param drafts", "is too long", "maxItems"]),
    ("fc_items_per_task_zero", "fact_check_copy", {"drafts": [DRAFT], "items_per_task": 0},
     ["items_per_task", "0 is less than the minimum of 1"]),
    ("fc_items_per_task_huge", "fact_check_copy", {"drafts": [DRAFT], "items_per_task": 10**9},
     ["items_per_task", "1000000000 is greater than the maximum of 50"]),
    ("dq_missing_table", "data_quality_qa", {"datasets": [{"dataset_id": "x", "url": "sqlite:///shop.db"}]},
     ["'table' is a required property"]),
    ("dq_no_source", "data_quality_qa", {"datasets": [{"dataset_id": "x", "table": "t"}]},
     ["is not valid under any of the given schemas", "'url'", "'files'"]),
    ("dq_file_wrong_type", "data_quality_qa",
     {"datasets": [{"dataset_id": "x", "files": {"t": 5}, "table": "t"}]},
     ["is not of type 'string'", "instance[0]"]),
    ("dq_sample_limit_too_big", "data_quality_qa", {"datasets": [DATASET | {"sample_limit": 10**9}]},
     ["is greater than the maximum of 1000000", "sample_limit"]),
    ("dq_password_in_url", "data_quality_qa", {"datasets": [DATASET | {"url": "postgresql://qa:hunter2@db/shop"}]},
     ["param datasets", "Failed validating 'not'", "no password in a URL: use conn_id"]),
    ("dq_url_and_conn_id", "data_quality_qa", {"datasets": [DATASET | {"conn_id": "shop_db"}]},
     ["param datasets", "is valid under each of"]),
    ("dq_unknown_key", "data_quality_qa", {"datasets": [DATASET | {"schedule": "daily"}]},
     ["'schedule' was unexpected"]),
    ("dq_fan_out", "data_quality_qa", {"datasets": [DATASET] * 201},
     ["param datasets", "is too long", "maxItems"]),
    ("cq_missing_question", "contract_qa", {"questions": [{"question_id": "q1"}]},
     ["'question' is a required property"]),
    ("cq_question_too_short", "contract_qa", {"questions": [QUESTION | {"question": "?"}]},
     ["is too short", "question"]),
    ("cq_question_id_pattern", "contract_qa", {"questions": [QUESTION | {"question_id": "a b"}]},
     ["does not match", "question_id"]),
    ("cq_contracts_wrong_type", "contract_qa", {"contracts": "northwind_msa"},
     ["param contracts", "is not of type 'null', 'array'"]),
    ("cq_contract_ids_fan_out", "contract_qa", {"questions": [QUESTION | {"contract_ids": ["c"] * 101}]},
     ["is too long", "contract_ids"]),
    ("cq_questions_fan_out", "contract_qa", {"questions": [QUESTION] * 501},
     ["param questions", "is too long"]),
    ("cq_unknown_key", "contract_qa", {"questions": [QUESTION | {"expected_answer": "EUR 10"}]},
     ["'expected_answer' was unexpected"]),
    ("cq_register_url_as_conn_id", "contract_qa", {"register_conn_id": "postgresql://u:pw@db/contracts"},
     ["param register_conn_id", "does not match"]),
]


@pytest.mark.parametrize(("dag_id", "conf", "expected"), [c[1:] for c in BAD_CONF],
                         ids=[c[0] for c in BAD_CONF])
def test_bad_conf_is_refused_naming_the_field(dags, dag_id, conf, expected):
    with pytest.raises(ParamValidationError) as raised:
        validate_conf(dags[dag_id], conf)
    message = str(raised.value)
    missing = [text for text in expected if text not in message]
    assert not missing, f"{missing} not in: {message[:2000]}"


@pytest.mark.parametrize(("dag_id", "conf"), [
    ("fact_check_copy", {"drafts": [DRAFT, DRAFT | {"draft_id": "d2"}]}),
    ("data_quality_qa", {"datasets": [DATASET]}),
    ("contract_qa", {"questions": [QUESTION], "contracts": ["helios_nda"]}),
])
def test_good_conf_passes(dags, dag_id, conf):
    assert validate_conf(dags[dag_id], conf)


def _max_length(schema: dict) -> float:
    """The longest list a schema admits: maxItems, or the enum's size when items are unique enum values."""
    bounds = [schema.get("maxItems", float("inf"))]
    if schema.get("uniqueItems") and "enum" in schema.get("items", {}):
        bounds.append(len(schema["items"]["enum"]))
    return min(bounds)


def _types(schema: dict) -> list:
    """A schema's type as a list (``"array"`` or ``["null", "array"]``)."""
    kind = schema.get("type")
    return kind if isinstance(kind, list) else [kind]


def test_every_list_param_stays_below_max_map_length(dags):
    """Airflow fails a mapped task whose input is longer than [core] max_map_length: cap every list."""
    limit = airflow_conf.getint("core", "max_map_length")
    arrays = {(dag_id, name): dag.params.get_param(name).schema for dag_id, dag in dags.items()
              for name in dag.params if "array" in _types(dag.params.get_param(name).schema)}
    assert {("fact_check_copy", "drafts"), ("data_quality_qa", "datasets"),
            ("contract_qa", "questions")} <= set(arrays)
    too_long = {key: _max_length(schema) for key, schema in arrays.items() if not _max_length(schema) < limit}
    assert not too_long, f"list params without maxItems below max_map_length={limit}: {too_long}"
    # contract_qa maps questions x contracts: the product is capped where the pairs are built
    assert MAX_PAIRS < limit


# --- bad items that pass the Params: each fails its own task; the rest of the run completes ----------------


def pools(run: dict, task_id: str) -> set[str]:
    """The pools a task's instances ran in."""
    with sqlite3.connect(run["tmp"] / "airflow" / "airflow.db") as db:
        return {row[0] for row in db.execute("SELECT pool FROM task_instance WHERE task_id = ?", (task_id,))}


def task_states(run: dict, task_id: str) -> dict[str, str]:
    """Rendered map index -> state of a mapped task's instances in the run's Airflow DB."""
    with sqlite3.connect(run["tmp"] / "airflow" / "airflow.db") as db:
        rows = db.execute("SELECT rendered_map_index, state FROM task_instance WHERE task_id = ?",
                          (task_id,)).fetchall()
    return dict(rows)


def _mixed_run(tmp_path_factory, dag_id: str, param: str, items_for, files: dict[str, bytes], crew: str,
               env: dict[str, str] | None = None) -> dict:
    """Run ``dag_id`` on ``items_for(uploads)`` with ``files`` written to an allowed uploads folder."""
    tmp = tmp_path_factory.mktemp(dag_id)
    uploads = tmp / "uploads"
    uploads.mkdir()
    for name, data in files.items():
        (uploads / name).write_bytes(data)
    return run_dag_test(dag_id, {param: items_for(uploads)}, f"tests.support.scripted_{crew}:respond", tmp,
                        extra_env={"CREWS_DATA_ROOTS": str(uploads), **(env or {})})


@pytest.fixture(scope="module")
def fact_check_run(tmp_path_factory):
    sheet = "fact_sheets/aurora_x2.yaml"
    def drafts(uploads):
        return [
            {"draft_id": "good", "copy_text": "Backed by a 2-year warranty.", "fact_sheet_file": sheet},
            {"draft_id": "injected", "copy_text": f"Backed by a 2-year warranty. {INJECTED_COPY}",
             "fact_sheet_file": sheet},
            {"draft_id": "latin1", "copy_file": str(uploads / "latin1.md"), "fact_sheet_file": sheet},
            {"draft_id": "escape", "copy_file": "../../../etc/passwd", "fact_sheet_file": sheet},
            {"draft_id": "no_sheet", "copy_text": "Backed by a 2-year warranty."},
        ]
    return _mixed_run(tmp_path_factory, "fact_check_copy", "drafts", drafts, {"latin1.md": LATIN1},
                      "fact_check")


@pytest.mark.integration
def test_fact_check_run_keeps_good_drafts_and_names_the_bad(fact_check_run, monkeypatch):
    output = fact_check_run["stdout"] + fact_check_run["stderr"]
    assert "DAGRUN_STATE=failed" in fact_check_run["stdout"], fact_check_run["stderr"][-4000:]
    uploads = fact_check_run["tmp"] / "uploads"
    assert f"draft 'latin1': copy_file: '{uploads / 'latin1.md'}' is not UTF-8 text" in output
    assert "copy_file: '../../../etc/passwd' is outside the allowed folders" in output
    assert "draft 'no_sheet' is invalid: fact_sheet: Field required" in output
    assert re.search(r"3 of 5 items [^:]*: latin1, escape, no_sheet", output)
    assert task_states(fact_check_run, "check_draft") == {"good": "success", "injected": "success"}
    # refused before any LLM call, each in a task of its own outside the LLM pool
    assert task_states(fact_check_run, "refuse_drafts") == {"latin1": "failed", "escape": "failed",
                                                            "no_sheet": "failed"}
    assert pools(fact_check_run, "refuse_drafts") == {"default_pool"}
    monkeypatch.setenv("CREWS_STATE_DIR", fact_check_run["env"]["CREWS_STATE_DIR"])
    rows = {r.item_id: r for r in fetch_results("fact_check")}
    assert set(rows) == {"good", "injected"}
    assert rows["good"].passed and not rows["injected"].passed
    published = sorted(p.name for p in (fact_check_run["tmp"] / "state/published/fact_check").glob("*.md"))
    assert published == ["good.md"]


@pytest.fixture(scope="module")
def data_qa_run(tmp_path_factory):
    def datasets(uploads):
        return [
            {"dataset_id": "good", "files": {"skus": "files/sku_catalog.csv"}, "table": "skus"},
            {"dataset_id": "binary", "files": {"t": str(uploads / "blob.csv")}, "table": "t"},
            {"dataset_id": "escape", "url": "sqlite:///../../../etc/x.db", "table": "t"},
            {"dataset_id": "no_table", "url": "sqlite:///shop.db", "table": "no_such_table"},
            {"dataset_id": "bad_scheme", "url": "nosuchdb://warehouse/sales", "table": "t"},
            {"dataset_id": "via_conn", "conn_id": "shop_db", "table": "products"},
            {"dataset_id": "no_conn", "conn_id": "nobody", "table": "products"},
            {"dataset_id": "pg_conn", "conn_id": "warehouse_pg", "table": "products"},
        ]
    connections = {  # credentials travel as Airflow connections; the password must show up nowhere
        "AIRFLOW_CONN_SHOP_DB": json.dumps({"conn_type": "sqlite",
                                            "schema": str(ROOT / "include/data_qa/shop.db")}),
        "AIRFLOW_CONN_WAREHOUSE_PG": json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "port": 1,
                                                 "login": "qa", "password": CONN_PASSWORD, "schema": "shop"}),
    }
    return _mixed_run(tmp_path_factory, "data_quality_qa", "datasets", datasets,
                      {"blob.csv": b"\x00\x01binary\x00"}, "data_qa", env=connections)


@pytest.mark.integration
def test_data_qa_run_keeps_good_datasets_and_names_the_bad(data_qa_run, monkeypatch):
    output = data_qa_run["stdout"] + data_qa_run["stderr"]
    assert "DAGRUN_STATE=failed" in data_qa_run["stdout"], data_qa_run["stderr"][-4000:]
    assert "dataset 'binary': files.t: blob.csv is a binary file" in output
    assert "dataset 'escape': url: '../../../etc/x.db' is outside the allowed folders" in output
    assert "dataset 'no_table': no table 'no_such_table'" in output
    assert "dataset 'bad_scheme': url: unknown database type 'nosuchdb'" in output
    assert "dataset 'no_conn': conn_id: there is no Airflow connection 'nobody'" in output
    assert re.search(r"6 of 8 items [^:]*: binary, escape, no_table, bad_scheme, no_conn, pg_conn", output)
    # what loading refuses fails outside the LLM pool; what needs the database fails in the crew task
    # (pg_conn: the Postgres driver is installed, the server on port 1 is not there)
    assert task_states(data_qa_run, "refuse_datasets") == {
        "binary": "failed", "escape": "failed", "bad_scheme": "failed", "no_conn": "failed"}
    assert task_states(data_qa_run, "check_dataset") == {"good": "success", "no_table": "failed",
                                                         "via_conn": "success", "pg_conn": "failed"}
    assert task_states(data_qa_run, "publish_passed")["good"] == "success"
    monkeypatch.setenv("CREWS_STATE_DIR", data_qa_run["env"]["CREWS_STATE_DIR"])
    assert sorted(r.item_id for r in fetch_results("data_qa")) == ["good", "via_conn"]
    # the connection's password: not in the output, nor anywhere in the run's Airflow DB, logs, MLflow or
    # state
    stored = [p for p in data_qa_run["tmp"].rglob("*")
              if p.is_file() and CONN_PASSWORD.encode() in p.read_bytes()]
    assert CONN_PASSWORD not in output and stored == []


@pytest.fixture(scope="module")
def contract_qa_run(tmp_path_factory):
    def questions(uploads):
        return [
            {"question_id": "fee", "contract_id": "northwind_msa",
             "question": "What does Northwind have to pay if it terminates the agreement for convenience?"},
            {"question_id": "scan", "contract_id": "scanned", "document": str(uploads / "fake.pdf"),
             "question": "What is the fee?"},
            {"question_id": "escape", "contract_id": "northwind_msa", "document": "../../README.md",
             "question": "What is the fee?"},
            {"question_id": "injected", "contract_id": "injected", "document": str(uploads / "injected.md"),
             "question": "What annual fee does the customer pay?"},
        ]
    return _mixed_run(tmp_path_factory, "contract_qa", "questions", questions,
                      {"fake.pdf": b"%PDF- not really", "injected.md": INJECTED_CONTRACT.encode()},
                      "contract_qa")


@pytest.mark.integration
def test_contract_qa_run_keeps_good_pairs_and_names_the_bad(contract_qa_run, monkeypatch):
    output = contract_qa_run["stdout"] + contract_qa_run["stderr"]
    assert "DAGRUN_STATE=failed" in contract_qa_run["stdout"], contract_qa_run["stderr"][-4000:]
    assert "question 'scan' about contract 'scanned': fake.pdf: not a readable PDF" in output
    assert ("question 'escape' about contract 'northwind_msa': document: '../../README.md' is outside"
            in output)
    assert re.search(r"2 of 4 items [^:]*: scanned.scan, northwind_msa.escape", output)
    assert task_states(contract_qa_run, "answer_question") == {"northwind_msa.fee": "success",
                                                                "injected.injected": "success"}
    assert task_states(contract_qa_run, "refuse_pairs") == {"scanned.scan": "failed",
                                                            "northwind_msa.escape": "failed"}
    monkeypatch.setenv("CREWS_STATE_DIR", contract_qa_run["env"]["CREWS_STATE_DIR"])
    rows = {r.item_id: r for r in fetch_results("contract_qa")}
    assert set(rows) == {"northwind_msa.fee", "injected.injected"}
    assert ("10,000" in rows["injected.injected"].summary_json
            and INJECTED_CLAUSE not in rows["injected.injected"].summary_json)


REFUSED_CONF = [
    # (dag_id, conf, what the first task says, the scripted LLM); the final task must fail at once saying why
    ("fact_check_copy", {"draftz": [DRAFT]},
     "unknown conf key(s) ['draftz']; this DAG accepts ['drafts', 'items_per_task', 'prompt_version']",
     "tests.support.scripted_fact_check:respond"),
    ("fact_check_copy", {"drafts": [DRAFT, DRAFT]}, "drafts: draft_id ['d1'] used more than once",
     "tests.support.scripted_fact_check:respond"),
    ("data_quality_qa", {"datasets": [DATASET, DATASET]}, "datasets: dataset_id ['ds1'] used more than once",
     "tests.support.scripted_data_qa:respond"),
    ("contract_qa", {"questions": [QUESTION, QUESTION]}, "question_id ['q1'] used more than once",
     "tests.support.scripted_contract_qa:respond"),
]


@pytest.mark.parametrize(("dag_id", "conf", "expected", "script"), REFUSED_CONF,
                         ids=["fc_typo_in_conf_key", "fc_duplicate_ids", "dq_duplicate_ids",
                              "cq_duplicate_ids"])
@pytest.mark.integration
def test_conf_the_params_cannot_catch_fails_the_run_before_any_crew(dag_id, conf, expected, script, tmp_path):
    run = run_dag_test(dag_id, conf, script, tmp_path)
    output = run["stdout"] + run["stderr"]
    assert "DAGRUN_STATE=failed" in run["stdout"], run["stderr"][-3000:]
    assert expected in output
    assert "crew " + dag_id.split("_")[0] not in output  # no crew ran, not even on the samples
    assert "no item was run: the run's first task refused its conf" in output  # the final task says why
    assert "TypeError" not in output


@pytest.mark.parametrize(
    ("dag_id", "conf", "expected"),
    [("crew_evaluation", {"crewz": ["fact_check"]},
      "unknown conf key(s) ['crewz']; this DAG accepts ['crews',"),
     ("crew_drift", {"recent_run": 5},
      "unknown conf key(s) ['recent_run']; this DAG accepts ['baseline_runs',")],
    ids=["evaluation_typo", "drift_typo"],
)
@pytest.mark.integration
def test_a_typo_in_the_conf_of_the_other_dags_fails_the_run_instead_of_running_defaults(dag_id, conf,
                                                                                       expected, tmp_path):
    run = run_dag_test(dag_id, conf, "tests.support.scripted_crews:respond", tmp_path)
    output = run["stdout"] + run["stderr"]
    assert "DAGRUN_STATE=failed" in run["stdout"], run["stderr"][-3000:]
    assert expected in output
    # nothing ran with the defaults
    assert "golden records:" not in output and "MLflow drift run" not in output
