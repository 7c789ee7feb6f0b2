"""A planted API key is used (the LLM server receives it) but never stored or logged anywhere.

Two runs against :class:`FakeOpenAI`: ``fact_check_copy`` with ``dag.test()``
taking the key from the ``llm_default`` connection password, and one
:func:`crews.runner.run_item` call taking it from ``CREWS_LLM_API_KEY``. Both log
at DEBUG. Afterwards every byte under the run's folders (Airflow home with its
SQLite DB, XCom and task logs; the MLflow store with artifacts and traces; the
crews state: spool, results DB, caches) and all captured log output is searched
for the key. Positive controls show each store was written and read.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.dags.dagtest_support import run_dag_test
from tests.support.fake_openai import FAKE_MODEL_PRICING, FakeOpenAI
from tests.support.scripted_crews import respond

pytestmark = pytest.mark.integration

SENTINEL = f"sk-SENTINEL-{uuid.uuid4().hex}"
NEEDLES = (SENTINEL.encode(), SENTINEL.rsplit("-", 1)[1].encode())  # the key, and its random part alone
DRAFT = {"draft_id": "aurora_launch", "copy_file": "drafts/aurora_launch.md",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
# Airflow 3.3.2's in-process supervisor (dag.test() only) logs each MaskSecret request in full at DEBUG,
# i.e. the very password it asks to mask; the real supervisor logs "body omitted". That one Airflow
# line is set aside; the key anywhere else fails the test.
DAG_TEST_MASK_LINE = re.compile(r"^.*\[debug\s*\] Sending request .*msg=MaskSecret\(value='"
                                + re.escape(SENTINEL) + "'.*$", re.MULTILINE)


def scan(folders: list[Path], texts: dict[str, str]) -> dict[str, Any]:
    """Every file under ``folders`` and every text: where a needle occurs, the files and bytes read."""
    files = {str(path.relative_to(folder.parent)): path.read_bytes()
             for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()}
    everything = {**files, **{name: text.encode() for name, text in texts.items()}}
    leaks = [name for name, data in everything.items() if any(needle in data for needle in NEEDLES)]
    return {"leaks": leaks, "files": files, "bytes": sum(len(data) for data in everything.values())}


def _with(found: dict[str, bytes], suffix: str, needle: str) -> list[str]:
    return [name for name, data in found.items() if name.endswith(suffix) and needle.encode() in data]


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    with FakeOpenAI(respond) as server:
        conn = {"conn_type": "generic", "host": server.base_url, "password": SENTINEL,
                "extra": {"provider": "openai_compatible", "model": "fake",
                          "structured_output": "json_object_schema"}}
        env = {"AIRFLOW_CONN_LLM_DEFAULT": json.dumps(conn), "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
               "CREWS_PRICING_FILE": str(FAKE_MODEL_PRICING)}
        out = run_dag_test("fact_check_copy", {"drafts": [DRAFT]}, "unused:respond",
                           tmp_path_factory.mktemp("sentinel"), extra_env=env)
        return {**out, "requests": list(server.requests)}


def test_dag_run_uses_the_key_and_stores_or_logs_it_nowhere(dag_run):
    assert "DAGRUN_STATE=success" in dag_run["stdout"], dag_run["stderr"][-4000:]
    assert len(dag_run["requests"]) == 3
    assert all(r["headers"]["Authorization"] == f"Bearer {SENTINEL}" for r in dag_run["requests"])

    output = {name: DAG_TEST_MASK_LINE.sub("", dag_run[name]) for name in ("stdout", "stderr")}
    result = scan([dag_run["tmp"]], output)
    assert result["leaks"] == []

    # Not vacuous: each store was written, is in the scan, and holds this run's data.
    files, logs = result["files"], output["stdout"] + output["stderr"]
    assert len(files) >= 8 and result["bytes"] > 1_000_000, sorted(files)
    assert logs.count("[debug") > 100 and "Sending request" in logs and "--- Logging error ---" not in logs
    assert _with(files, "airflow.db", "aurora_launch")  # XCom, task instances
    # tags, trace spans
    assert _with(files, "mlflow.db", "aurora_launch") and _with(files, "mlflow.db", "Aurora X2")
    assert len(_with(files, "inputs.json", "aurora_launch")
               + _with(files, "llm_calls.jsonl", "Aurora X2")) == 2
    assert _with(files, "results.db", "aurora_launch")


@pytest.fixture
def mlflow_sqlite(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.chdir(tmp_path)  # a SQLite store keeps its artifacts in ./mlruns
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    yield tmp_path
    mlflow.set_tracking_uri(None)


def test_cli_style_run_with_the_key_in_the_environment(mlflow_sqlite, _isolated_state, monkeypatch, caplog,
                                                       capfd):
    from crews.runner import run_item
    from crews.runtime.settings import LLMSettings

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("CREWS_PRICING_FILE", str(FAKE_MODEL_PRICING))
    with FakeOpenAI(respond) as server:
        for name, value in {"PROVIDER": "openai_compatible", "MODEL": "fake", "BASE_URL": server.base_url,
                            "API_KEY": SENTINEL, "STRUCTURED_OUTPUT": "json_object_schema"}.items():
            monkeypatch.setenv(f"CREWS_LLM_{name}", value)
        result = run_item("fact_check", {**DRAFT, "draft_id": "env_key"}, LLMSettings.from_env(),
                          context={"source": "cli"})
    assert result["mlflow_run_id"] and not result["tracking_spooled_to"]
    assert [r["headers"]["Authorization"] for r in server.requests] == [f"Bearer {SENTINEL}"] * 3

    captured = capfd.readouterr()
    records = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in caplog.records)
    result_json = json.dumps(result)
    scanned = scan([mlflow_sqlite, _isolated_state], {"caplog": caplog.text, "records": records,
                                                      "stdout": captured.out, "stderr": captured.err,
                                                      "result": result_json})
    assert scanned["leaks"] == []
    files = scanned["files"]
    assert any(r.levelno == logging.DEBUG for r in caplog.records) and len(caplog.records) > 10
    assert _with(files, "mlflow.db", "env_key") and _with(files, "llm_calls.jsonl", "Aurora X2")
