"""Test set-up: project on sys.path, isolated state folder, CrewAI kept quiet."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "dags"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

import crews  # noqa: E402,F401  (telemetry switches before crewai is imported)

SCRIPT = "tests.support.scripted_fact_check:respond"


@pytest.fixture(autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own state folder (spool, results DB, published copy)."""
    state = tmp_path_factory.mktemp("state")
    monkeypatch.setenv("CREWS_STATE_DIR", str(state))
    monkeypatch.delenv("CREWS_RESULTS_URL", raising=False)
    monkeypatch.delenv("CREWS_SPOOL_DIR", raising=False)
    return state


@pytest.fixture
def scripted_llm():
    from crews.runtime.llm_factory import build_llm
    from crews.runtime.settings import LLMSettings

    return build_llm(LLMSettings(provider="scripted", script=SCRIPT))


@pytest.fixture(scope="session")
def mlflow_http(tmp_path_factory: pytest.TempPathFactory):
    """A real MLflow tracking server (SQLite store) shared by the tests that speak its REST API."""
    from tests.support.mlflow_server import mlflow_server

    with mlflow_server(tmp_path_factory.mktemp("mlflow_server")) as url:
        yield url
