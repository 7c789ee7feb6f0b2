import sqlite3
from datetime import UTC, datetime

import pytest

from crews.data_qa.crew import DataQACrew
from crews.data_qa.request import DatasetSpec
from crews.data_qa.tools import ProfileTableTool
from crews.errors import InputError
from crews.runtime.scripted_llm import ScriptedLLM

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def clinic(tmp_path) -> DatasetSpec:
    db = tmp_path / "clinic.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table visits (visit_id integer, patient_id integer, fee real)")
        conn.executemany("insert into visits values (?, ?, ?)",
                         [(1, 10, 40.0), (2, 11, -5.0), (2, 12, 60.0), (3, None, 55.0)])
        conn.execute("create table patients (patient_id integer, name text)")
        conn.executemany("insert into patients values (?, ?)", [(10, "Ada"), (11, None)])
    return DatasetSpec.model_validate({
        "dataset_id": "clinic_visits", "url": f"sqlite:///{db}", "table": "visits",
        "key_columns": ["visit_id"],
        "columns": {"fee": {"not_negative": True}, "patient_id": {"not_null": True}}})


def test_the_dataset_table_is_profiled_and_checked_against_its_rules(clinic):
    checked = ProfileTableTool(spec=clinic, now=NOW).run()
    assert checked.profile.table == "visits" and checked.profile.row_count == 4
    kinds = {(f.column, f.kind) for f in checked.findings}
    expected = {("fee", "negative_values"), ("patient_id", "nulls"), ("visit_id", "duplicate_keys")}
    assert expected <= kinds, kinds


def test_another_table_of_the_source_is_profiled_without_the_rules(clinic):
    checked = ProfileTableTool(spec=clinic, now=NOW).run(table="patients")
    assert checked.profile.table == "patients" and checked.profile.row_count == 2
    assert checked.profile.columns["name"].nulls == 1
    assert checked.findings == []


def test_an_unknown_table_is_an_input_error_listing_the_tables(clinic):
    with pytest.raises(InputError, match="no table 'invoices'.*patients, visits"):
        ProfileTableTool(spec=clinic, now=NOW).run(table="invoices")


class NativeTools(ScriptedLLM):
    def supports_function_calling(self) -> bool:
        return True


def test_the_analyst_holds_the_tool_on_a_model_that_calls_tools(clinic):
    tools = {"analyst": [ProfileTableTool(spec=clinic, now=NOW)]}
    assert [t.name for t in DataQACrew(NativeTools(model="scripted"), tools=tools).analyst().tools] == [
        "profile_table"]
    assert DataQACrew(ScriptedLLM(model="scripted"), tools=tools).analyst().tools == []
