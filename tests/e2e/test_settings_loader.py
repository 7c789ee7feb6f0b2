"""The local runner loads airflow_settings.yaml (Astro CLI format) into the running Airflow over REST."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e


def _settings(path: Path, slots: int) -> Path:
    path.write_text(yaml.safe_dump({"airflow": {
        "connections": [{"conn_id": "e2e_settings_conn", "conn_type": "generic",
                         "conn_host": "http://127.0.0.1:9/v1",
                         "conn_extra": {"provider": "openai_compatible", "timeout_s": 5}}],
        "pools": [{"pool_name": "e2e_settings_pool", "pool_slot": slots,
                   "pool_description": "from the e2e test"}],
        "variables": [{"variable_name": "e2e_settings_var", "variable_value": {"threshold": 0.6}}],
    }}))
    return path


def test_settings_file_is_loaded_and_reloaded_in_place(api, tmp_path):
    try:
        stack.load_settings(api, _settings(tmp_path / "a.yaml", slots=2))
        # a second load updates, never duplicates
        stack.load_settings(api, _settings(tmp_path / "b.yaml", slots=3))
        conn = api.get("/api/v2/connections/e2e_settings_conn").json()
        assert (conn["host"] == "http://127.0.0.1:9/v1"
                and json.loads(conn["extra"])["provider"] == "openai_compatible")
        pool = api.get("/api/v2/pools/e2e_settings_pool").json()
        assert (pool["slots"], pool["description"]) == (3, "from the e2e test")
        assert json.loads(api.get("/api/v2/variables/e2e_settings_var").json()["value"]) == {"threshold": 0.6}
        # the project's own file, loaded by `up`
        assert api.get("/api/v2/pools/llm_pool").json()["slots"] == 1
    finally:
        for path in ("connections/e2e_settings_conn", "pools/e2e_settings_pool",
                     "variables/e2e_settings_var"):
            api.delete(f"/api/v2/{path}")


def test_a_malformed_settings_file_stops_with_the_entry_named(api, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("airflow:\n  pools:\n    - pool_name: p\n      pool_slots: 2\n")
    with pytest.raises(SystemExit, match=r"airflow.pools\[0\]: unknown field\(s\) \['pool_slots'\]"):
        stack.load_settings(api, bad)
