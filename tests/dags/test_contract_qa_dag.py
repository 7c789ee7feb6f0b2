"""Runs contract_qa with dag.test() and the scripted LLM: one task per pair, a bad pair fails alone.

The human review step waits for a person, which dag.test() cannot give; the
end-to-end test answers it over the REST API.
"""

import json
import shutil
import sqlite3

import pytest
from mlflow import MlflowClient

from crews.paths import INCLUDE_DIR
from crews.results import fetch_results
from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration

QUESTIONS = [
    {"question_id": "fee", "contract_id": "northwind_msa",
     "question": "What does Northwind have to pay if it terminates the agreement for convenience?"},
    {"question_id": "cap", "contract_id": "orbital_supply",
     "question": "Up to what amount is each party's liability capped under the supply agreement?"},
    {"question_id": "insurance", "contract_ids": ["northwind_msa"],
     "question": "What insurance cover must the provider maintain under the Northwind agreement?"},
    {"question_id": "law", "question": "Which country's law governs this contract?"},
    {"question_id": "broken", "contract_id": "nobody", "question": "What is the fee?"},
]


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    """The run reads a register of its own, named once by an Airflow connection."""
    tmp = tmp_path_factory.mktemp("cqatest")
    register = tmp / "data" / "register.db"
    register.parent.mkdir()
    shutil.copy(INCLUDE_DIR / "contract_qa" / "register.db", register)
    with sqlite3.connect(register) as db:
        db.execute("UPDATE contracts SET governing_law = 'the Isle of Testing' "
                   "WHERE contract_id = 'helios_nda'")
    env = {"AIRFLOW_CONN_CONTRACT_REGISTER": json.dumps({"conn_type": "sqlite", "schema": str(register)}),
           "CREWS_DATA_ROOTS": str(register.parent)}
    conf = {"questions": QUESTIONS, "contracts": ["helios_nda", "vega_lease"],
            "register_conn_id": "contract_register"}
    return run_dag_test("contract_qa", conf, "tests.support.scripted_contract_qa:respond", tmp, extra_env=env)


def test_only_the_broken_pair_fails(dag_run):
    output = dag_run["stdout"] + dag_run["stderr"]
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], dag_run["stderr"][-4000:]
    assert "1 of 6 items produced no result: nobody.broken" in output
    assert "as SKIPPED since the map has 0 values" in output  # every answer was grounded: no review needed


def test_answers_are_stored_with_citations(dag_run, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", dag_run["env"]["CREWS_STATE_DIR"])
    rows = {r.item_id: r for r in fetch_results("contract_qa")}
    assert set(rows) == {"northwind_msa.fee", "orbital_supply.cap", "northwind_msa.insurance",
                         "helios_nda.law", "vega_lease.law"}
    assert rows["northwind_msa.insurance"].status == "not found"
    assert (rows["orbital_supply.cap"].status == "answered"
            and "500,000" in rows["orbital_supply.cap"].summary_json)
    # from the run's register, not the sample one
    assert "Isle of Testing" in rows["helios_nda.law"].summary_json
    assert "Isle of Testing" not in rows["vega_lease.law"].summary_json


def test_one_mlflow_run_per_pair_with_the_evidence(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/contract_qa")
    runs = {r.data.tags["item_id"]: r
            for r in client.search_runs([experiment.experiment_id], "tags.purpose = 'production'")}
    assert len(runs) == 5 and runs["orbital_supply.cap"].data.metrics["withheld_sentences"] == 1
    # coordinator, retriever, analyst, reviewer
    assert runs["northwind_msa.fee"].data.metrics["llm_calls"] == 4
    assert "evidence.json" in {a.path for a in client.list_artifacts(runs["orbital_supply.cap"].info.run_id)}
