"""scripts/airflow_settings.py: airflow_settings.yaml into the compose stack's Airflow."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.deploy.compose_checks import ROOT

SPEC = importlib.util.spec_from_file_location("airflow_settings", ROOT / "scripts/airflow_settings.py")
loader = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(loader)

SETTINGS = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())


def test_project_settings_become_a_pool_and_a_connection():
    loads = loader.plan(SETTINGS, environ={})
    pool = SETTINGS["airflow"]["pools"][0]
    assert loads["pools"] == {"llm_pool": {"slots": 1, "description": pool["pool_description"],
                                           "include_deferred": False}}
    conn = loads["connections"]["llm_default"]
    assert conn["conn_type"] == "generic" and conn["host"] == "http://127.0.0.1:8001/v1"
    assert json.loads(conn["extra"])["provider"] == "local"
    assert conn["password"] is None
    assert "variables" not in loads


def test_a_connection_set_by_environment_variable_is_left_to_it():
    loads = loader.plan(SETTINGS, environ={"AIRFLOW_CONN_LLM_DEFAULT": '{"conn_type": "generic"}'})
    assert "connections" not in loads and "pools" in loads


def test_astro_template_placeholders_are_skipped():
    template = {"airflow": {
        "connections": [{"conn_id": None, "conn_type": None,
                         "conn_extra": {"example_extra_field": "example-value"}}],
        "pools": [{"pool_name": None, "pool_slot": None, "pool_description": None}],
        "variables": [{"variable_name": None, "variable_value": None}],
    }}
    assert loader.plan(template, environ={}) == {}


@pytest.mark.parametrize(("document", "message"), [
    ({"connections": []}, "top-level 'airflow'"),
    ({"airflow": {"pools": {"pool_name": "x"}}}, "airflow.pools must be a list"),
    ({"airflow": {"pools": [{"pool_name": "p", "pool_slots": 1}]}}, "unknown field(s) ['pool_slots']"),
    ({"airflow": {"pools": [{"pool_name": "p", "pool_slot": "one"}]}}, "pool_slot must be a whole number"),
    ({"airflow": {"connections": [{"conn_id": "c", "conn_port": "http"}]}}, "conn_port must be a number"),
    ({"airflow": {"connections": [{"conn_id": "c", "conn_uri": "http://x"}]}}, "conn_uri is not supported"),
    ({"airflow": {"variables": [{"variable_name": "v", "value": 1}]}}, "unknown field(s) ['value']"),
])
def test_settings_in_another_format_are_refused_naming_the_field(document: dict, message: str):
    with pytest.raises(loader.SettingsError) as error:
        loader.plan(document, environ={})
    assert message in str(error.value)


def test_main_reports_a_bad_file_without_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture):
    (tmp_path / "s.yaml").write_text("airflow:\n  pools: [{pool_name: p, pool_slot: -1}]\n")
    assert loader.main([str(tmp_path / "s.yaml"), "--dry-run"]) == 2
    assert "pool_slot must be a whole number >= 0, not -1" in capsys.readouterr().err


def test_loads_the_project_settings_into_a_real_airflow(tmp_path: Path):
    """Airflow 3.3.2's own CLI takes the commands (SQLite metadata DB in tmp_path)."""
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "_AIRFLOW"))},
           "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
    run = dict(env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    migrated = subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], **run)
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    loaded = subprocess.run([sys.executable, str(ROOT / "scripts/airflow_settings.py"),
                             str(ROOT / "airflow_settings.yaml")], **run)
    assert loaded.returncode == 0, loaded.stdout + loaded.stderr[-2000:]
    check = ("from airflow.models import Connection, Pool\n"
             "from airflow.utils.session import create_session\n"
             "with create_session() as s:\n"
             "    pool = s.query(Pool).filter_by(pool='llm_pool').one()\n"
             "    conn = s.query(Connection).filter_by(conn_id='llm_default').one()\n"
             "    print('RESULT', pool.slots, conn.host, conn.extra_dejson['provider'])\n")
    shown = subprocess.run([sys.executable, "-c", check], **run)
    assert "RESULT 1 http://127.0.0.1:8001/v1 local" in shown.stdout, shown.stderr[-2000:]
