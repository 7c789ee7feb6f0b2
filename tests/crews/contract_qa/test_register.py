import sqlite3

import pytest

from crews.contract_qa import register as register_module
from crews.contract_qa.register import FIELDS, ContractRegister, RegisterError, format_fact
from crews.paths import INCLUDE_DIR
from crews.readonly_db import readonly_engine

REGISTER = f"sqlite:///{INCLUDE_DIR / 'contract_qa' / 'register.db'}"


def test_lookup_returns_only_the_requested_fields():
    register = ContractRegister(REGISTER)
    row = register.lookup("northwind_msa", ["counterparty", "governing_law"])
    assert set(row) == {"counterparty", "governing_law"} and "Northwind" in row["counterparty"]
    assert set(register.lookup("northwind_msa")) == set(FIELDS)
    assert register.document("northwind_msa") == "northwind_msa.md"
    assert register.lookup("no_such_contract") is None


@pytest.mark.parametrize("field", ["password", "contract_id; DROP TABLE contracts", "*", "1=1"])
def test_unknown_fields_are_refused(field):
    with pytest.raises(RegisterError, match="unknown register field"):
        ContractRegister(REGISTER).lookup("northwind_msa", [field])


def test_sql_in_a_value_is_only_a_value(tmp_path):
    db = tmp_path / "r.db"
    con = sqlite3.connect(db)
    con.execute(f"CREATE TABLE contracts (contract_id TEXT, document TEXT, {', '.join(FIELDS)})")
    con.execute("INSERT INTO contracts (contract_id, counterparty) VALUES ('a', 'A Ltd')")
    con.commit()
    con.close()
    register = ContractRegister(f"sqlite:///{db}")
    assert register.lookup("a' OR '1'='1") is None
    assert register.lookup("x'; DELETE FROM contracts; --") is None
    assert register.lookup("a", ["counterparty"]) == {"counterparty": "A Ltd"}


def test_the_register_offers_no_way_to_run_sql():
    public = {name for name in dir(ContractRegister) if not name.startswith("_")}
    assert public == {"lookup", "document"}


def test_unreadable_register_is_a_clear_error(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(RegisterError, match="cannot be read"):
        ContractRegister(f"sqlite:///{empty}").lookup("a")


def test_facts_read_like_contract_text():
    assert format_fact("value_eur", 1200000.0) == "EUR 1,200,000"
    assert format_fact("auto_renewal", 1) == "yes" and format_fact("notice_days", 90) == "90"


def test_a_register_that_cannot_be_read_is_named_without_its_password(tmp_path, monkeypatch):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    monkeypatch.setattr(register_module, "readonly_engine", lambda url: readonly_engine(f"sqlite:///{empty}"))
    register = ContractRegister("postgresql://reader:s3cret-pw@127.0.0.1:9/contracts")
    with pytest.raises(RegisterError, match="cannot be read") as failure:
        register.lookup("a")
    assert "s3cret-pw" not in str(failure.value) and "reader:***@127.0.0.1:9" in str(failure.value)


def test_every_field_has_a_label_for_answers():
    from crews.contract_qa.register import FIELD_LABELS

    assert set(FIELD_LABELS) == set(FIELDS)


def test_a_question_about_the_register_names_fields_more_loosely():
    from crews.contract_qa.register import fields_named_in

    question = "What euro value does the register give the supply contract?"
    assert fields_named_in(question, about_register=True) == ["value_eur"]
    assert fields_named_in("What euro value do the goods have?") == []
