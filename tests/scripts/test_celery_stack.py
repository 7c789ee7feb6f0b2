"""The Celery stack's pieces: settings, what each server is started with, and the checks before start.

``test_postgres_and_redis_start_for_real`` starts Debian's servers on free ports in a temporary
folder: the CI machine has them (scripts/install.sh installs them as root).
"""

import os
import shutil
import socket
import stat
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import airflow_hostname  # noqa: E402
import celery_stack  # noqa: E402
import stack  # noqa: E402


@pytest.fixture
def celery(monkeypatch, tmp_path):
    """The stack on Celery, state in tmp_path."""
    monkeypatch.setenv("CREWS_EXECUTOR", "celery")
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack, "AIRFLOW_HOME", tmp_path / "airflow")
    yield tmp_path
    celery_stack.drop_outside_cluster(tmp_path)  # a cluster a test made with initdb


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize(("name", "value", "message"), [
    ("CREWS_EXECUTOR", "kubernetes", "CREWS_EXECUTOR='kubernetes': choose one of local, celery"),
    ("CREWS_WORKERS", "0", "CREWS_WORKERS='0': a whole number from 1 to 8"),
    ("CREWS_WORKERS", "two", "CREWS_WORKERS='two': a whole number from 1 to 8"),
    ("CREWS_POSTGRES_PORT", "54x", "CREWS_POSTGRES_PORT='54x': a TCP port number from 1 to 65535"),
    ("CREWS_REDIS_PORT", "70000", "CREWS_REDIS_PORT='70000': a TCP port number from 1 to 65535"),
])
def test_bad_settings_are_refused_naming_the_variable(monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    read = {"CREWS_EXECUTOR": celery_stack.executor, "CREWS_WORKERS": celery_stack.worker_count,
            "CREWS_POSTGRES_PORT": celery_stack.postgres_port, "CREWS_REDIS_PORT": celery_stack.redis_port}
    with pytest.raises(SystemExit, match=message.replace("(", r"\(")):
        read[name]()


def test_local_stays_the_default(monkeypatch):
    monkeypatch.delenv("CREWS_EXECUTOR", raising=False)
    assert celery_stack.executor() == "local"
    assert stack.airflow_env()["AIRFLOW__CORE__EXECUTOR"] == "crew_workers.WarmLocalExecutor"


def test_airflow_on_celery_uses_postgres_and_redis_and_names_its_workers(celery, monkeypatch):
    monkeypatch.setenv("CREWS_WORKERS", "3")
    env = stack.airflow_env()
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://crews:")
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://:")
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://crews:")
    assert env["CREWS_RESULTS_URL"].endswith("@127.0.0.1:5432/crews")
    assert "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS" not in env  # SQLite's busy timeout only
    workers = stack.worker_services()
    assert [w.name for w in workers] == ["worker-1", "worker-2", "worker-3"]
    assert workers[1].env["CREWS_WORKER_NAME"] == "worker-2"
    assert "--skip-serve-logs" in workers[0].command  # no log server on every interface
    module, _, function = env["AIRFLOW__CORE__HOSTNAME_CALLABLE"].rpartition(".")
    assert (module, function) == ("scripts.airflow_hostname", "hostname")
    monkeypatch.setenv("CREWS_WORKER_NAME", "worker-2")
    assert airflow_hostname.hostname() == f"worker-2@{socket.getfqdn()}"


def test_passwords_stay_off_command_lines_and_in_owner_only_files(celery):
    services = [stack.postgres_service(), stack.redis_service(), stack.mlflow_service(),
                stack.airflow_service(), *stack.worker_services()] if shutil.which("redis-server") else []
    if not services:
        pytest.skip("redis-server is not installed")
    secrets = [(celery / "postgres" / "password").read_text(), (celery / "redis" / "password").read_text()]
    for service in services:
        assert not any(secret in " ".join(service.command) for secret in secrets), service.name
    for path in (celery / "postgres/password", celery / "redis/password", celery / "redis/redis.conf"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    config = (celery / "redis" / "redis.conf").read_text()
    assert "bind 127.0.0.1\n" in config and f"requirepass {secrets[1]}\n" in config
    postgres = stack.postgres_service().command
    assert postgres[postgres.index("-h") + 1] == "127.0.0.1"
    assert stack.mlflow_service().env["MLFLOW_BACKEND_STORE_URI"].startswith("postgresql://crews:")


def test_a_port_taken_by_another_server_is_refused_naming_service_and_port(celery, monkeypatch):
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        monkeypatch.setenv("CREWS_REDIS_PORT", str(port))
        monkeypatch.setenv("CREWS_POSTGRES_PORT", str(_free_port()))
        message = (f"redis: 127.0.0.1:{port} is taken by a server this stack did not start "
                   r"\(stop it, or choose another port with CREWS_REDIS_PORT")
        with pytest.raises(SystemExit, match=message):
            celery_stack.preflight(celery, lambda name: False)


def test_a_service_that_fails_to_start_stops_the_ones_started_with_it(monkeypatch, tmp_path):
    """No half-started stack: Redis that cannot start takes the Postgres started with it down again."""
    monkeypatch.setattr(stack, "STATE", tmp_path)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    failing = [sys.executable, "-c", "print('Could not create server TCP listening socket'); exit(1)"]
    message = r"redis \(127.0.0.1:\d+\) exited during start-up(.|\n)*listening socket"
    with pytest.raises(SystemExit, match=message):
        stack.start([stack.Service("postgres", lambda: False, sleeper, dict(os.environ), 30),
                     stack.Service("redis", lambda: False, failing, dict(os.environ), 30)])
    assert not stack._alive("postgres") and not (tmp_path / "pids" / "postgres.pid").exists()


def _installed() -> bool:
    try:
        celery_stack.postgres_tool("initdb")
    except SystemExit:
        return False
    return bool(shutil.which("redis-server"))


@pytest.mark.skipif(not _installed(), reason="Debian's postgresql and redis-server are not installed")
def test_postgres_and_redis_start_for_real(celery, monkeypatch):
    monkeypatch.setenv("CREWS_POSTGRES_PORT", str(_free_port()))
    monkeypatch.setenv("CREWS_REDIS_PORT", str(_free_port()))
    try:
        assert stack.start([stack.postgres_service(), stack.redis_service()]) == ["postgres", "redis"]
        celery_stack.create_databases(celery)
        celery_stack.create_databases(celery)  # made once
        import psycopg2
        import redis

        with psycopg2.connect(celery_stack.postgres_url(celery, "crews", "postgresql")) as connection:
            with connection.cursor() as cursor:
                cursor.execute("SELECT datname FROM pg_database ORDER BY datname")
                assert {"airflow", "mlflow", "crews"} <= {row[0] for row in cursor.fetchall()}
        with pytest.raises(redis.AuthenticationError):  # the broker wants the stack's password
            redis.Redis(host="127.0.0.1", port=celery_stack.redis_port()).ping()
        password = celery_stack.postgres_password(celery)
        bad = celery_stack.postgres_url(celery, "crews", "postgresql").replace(f":{password}@", ":wrong@")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(bad)
    finally:
        stack.stop("redis")
        stack.stop("postgres")
    assert not celery_stack.port_open(celery_stack.postgres_port())
    assert not celery_stack.port_open(celery_stack.redis_port())


def test_trigger_names_the_service_that_is_down(celery, monkeypatch):
    """A DAG run on the Celery stack needs its broker and database: refused up front, naming which."""
    monkeypatch.setenv("CREWS_REDIS_PORT", "6390")
    monkeypatch.setattr(stack, "_answers", lambda check: True)  # Airflow answers
    monkeypatch.setattr(stack, "running_executor", lambda: "celery")
    monkeypatch.setattr(celery_stack, "postgres_ready", lambda state: lambda: True)
    monkeypatch.setattr(celery_stack, "redis_ready", lambda state: lambda: False)
    with pytest.raises(SystemExit, match=r"redis does not answer on 127.0.0.1:6390; the Celery stack"):
        stack.main(["trigger", "fact_check_copy"])


def test_up_refuses_to_switch_executor_under_a_running_stack(celery, monkeypatch):
    monkeypatch.setattr(stack, "running_executor", lambda: "local")
    with pytest.raises(SystemExit, match=r"runs Airflow on the local executor; `make stop` before "
                                         r"`make up EXECUTOR=celery`"):
        stack.main(["up"])
