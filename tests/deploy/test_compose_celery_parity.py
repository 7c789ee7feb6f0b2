"""docker-compose.yaml and the local Celery stack (``make up EXECUTOR=celery``) run one topology.

The local stack is what the end-to-end tests run (tests/e2e/test_celery_stack.py); the compose file
is what a team deploys with Docker. These tests keep the two in line: the same Airflow components
with the same commands, the same executor, broker and databases, the same places for MLflow's backend
store and the crews' results.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.deploy.project_files import compose

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import celery_stack  # noqa: E402
import stack  # noqa: E402

NOT_SERVERS = {"airflow-init", "airflow-cli", "flower"}  # one-shot, debug and optional services
SHARED_KEYS = ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
               "AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND",
               "AIRFLOW__CELERY__WORKER_CONCURRENCY", "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS",
               "CREWS_RESULTS_URL")


@pytest.fixture
def local(monkeypatch, tmp_path):
    """The local stack's Airflow commands and environment on Celery (state in tmp_path)."""
    monkeypatch.setenv("CREWS_EXECUTOR", "celery")
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack, "AIRFLOW_HOME", tmp_path / "airflow")
    airflow = stack.VENV_BIN / "airflow"
    commands = {name: command for name, command in stack.airflow_components().items()}
    commands["worker"] = celery_stack.worker_command(str(airflow), "worker-1")
    return commands, stack.airflow_env()


def _subcommand(argv: list[str]) -> str:
    """``celery worker`` from ``[airflow, celery, worker, --flag, ...]``: the words before the flags."""
    words = []
    for word in argv[1:]:
        if word.startswith("-"):
            break
        words.append(word)
    return " ".join(words)


def _compose_servers() -> dict[str, dict]:
    services = compose()["services"]
    return {name: service for name, service in services.items()
            if name.startswith("airflow-") and name not in NOT_SERVERS}


def test_the_same_airflow_components_run_in_both(local):
    commands, _ = local
    in_compose = sorted(service["command"] for service in _compose_servers().values())
    in_local = sorted(_subcommand(argv) for argv in commands.values())
    expected = ["api-server", "celery worker", "dag-processor", "scheduler", "triggerer"]
    assert in_local == in_compose == expected


def test_the_same_executor_broker_and_databases(local):
    _, env = local
    in_compose = compose()["x-airflow-common"]["environment"]
    for key in SHARED_KEYS:
        assert key in in_compose and key in env, key
    assert env["AIRFLOW__CORE__EXECUTOR"] == in_compose["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    config = "AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS"
    assert env[config] == in_compose[config] == "crew_workers.CELERY_CONFIG"  # warm workers in both
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "CREWS_RESULTS_URL"):
        assert env[key].split("://")[0] == in_compose[key].split("://")[0] == "postgresql+psycopg2", key
        assert env[key].rsplit("/", 1)[1] == in_compose[key].rsplit("/", 1)[1], key  # database name
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert in_compose["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and \
        in_compose["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")


def test_mlflow_keeps_its_backend_store_on_the_same_postgres(local):
    local_env = stack.mlflow_service().env
    compose_env = compose()["services"]["mlflow"]["environment"]
    for uri in (local_env["MLFLOW_BACKEND_STORE_URI"], compose_env["MLFLOW_BACKEND_STORE_URI"]):
        assert uri.startswith("postgresql://") and uri.endswith("/mlflow"), uri


def test_both_run_postgres_and_redis():
    services = compose()["services"]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    assert set(celery_stack.DATABASES) == {"airflow", "mlflow", "crews"}
