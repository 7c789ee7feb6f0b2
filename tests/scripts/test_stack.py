import importlib
import os
import sys
import time
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import stack  # noqa: E402


@pytest.mark.parametrize(("states", "waiting"), [
    (["success", "awaiting_input", None], True),             # only the review (and what follows it) is left
    (["success", "awaiting_input", "running"], False),       # another item is still being checked
    (["success", "awaiting_input", "up_for_retry"], False),  # a retry will still run
    (["success", "success"], False),                         # nothing waits for a person
])
def test_waiting_only_for_review(states, waiting):
    assert stack.waiting_only_for_review([{"state": s} for s in states]) is waiting


@pytest.fixture
def commands(monkeypatch, tmp_path):
    """Every command stack.py starts, by name (state folders redirected to tmp_path)."""
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack, "AIRFLOW_HOME", tmp_path / "airflow")
    services = [stack.llm_service(), stack.mlflow_service(), stack.airflow_service()]
    return ({name: command for name, _, command, _, _ in services}
            | {"db migrate": stack.airflow_migrate_command()} | stack.airflow_components())


def test_every_server_binds_to_loopback(commands):
    for name, command in commands.items():
        assert not {"0.0.0.0", "::", "[::]", ""} & set(command), name
        hosts = [command[i + 1] for i, arg in enumerate(command) if arg in {"--host", "-H"}]
        assert all(host == "127.0.0.1" for host in hosts), (name, hosts)
    for server in ("llm", "mlflow", "api-server"):
        assert "--host" in commands[server], server
    hosts = {k: v for k, v in stack.airflow_env().items() if k.startswith("AIRFLOW__") and k.endswith("_HOST")}
    assert hosts and set(hosts.values()) == {"127.0.0.1"}, hosts


def test_airflow_runs_no_log_servers(commands):
    """Scheduler and triggerer would serve logs on [::]:8793/8794; the API server reads the files itself."""
    assert "--skip-serve-logs" in commands["scheduler"] and "--skip-serve-logs" in commands["triggerer"]
    assert not any("standalone" in command for command in commands.values())
    assert stack.airflow_env()["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "False"


def test_supervisor_stops_every_component_when_one_dies(monkeypatch, capsys):
    monkeypatch.setattr(stack.signal, "signal", lambda *_: None)  # keep pytest's own handlers
    began = time.monotonic()
    code = stack.supervise({
        "sleeper": [sys.executable, "-c", "import time; time.sleep(60)"],
        "crasher": [sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
    })
    assert code == 1 and time.monotonic() - began < 30  # the sleeper was stopped, not waited for
    out = capsys.readouterr().out
    assert "crasher       | boom" in out and "crasher exited with code 3" in out


def test_start_waits_for_a_running_service_instead_of_starting_it_twice(monkeypatch):
    spawned = []
    monkeypatch.setattr(stack, "_answers", lambda url: False)  # busy: the health check times out
    monkeypatch.setattr(stack, "_alive", lambda name: name == "llm")
    monkeypatch.setattr(stack, "_spawn", lambda name, command, env: spawned.append(name))
    monkeypatch.setattr(stack, "_wait", lambda name, url, timeout_s: 0.0)
    stack.start([("llm", "http://x/models", ["llm"], {}, 180), ("mlflow", "http://x/health", ["mlflow"], {}, 240)])
    assert spawned == ["mlflow"]


def test_progress_line_counts_crew_items_and_tokens_spent_so_far():
    from crews.runtime.budget import SpendLedger

    ledger = SpendLedger()  # the test's isolated state folder, as CREWS_STATE_DIR points the stack's
    ledger.add("fact_check_copy/run_1", "check_draft/0", 1200, 0.0)
    ledger.add("fact_check_copy/run_1", "check_draft/1", 34, 0.0)
    ledger.add("fact_check_copy/other_run", "check_draft/0", 999, 0.0)
    tis = [{"state": "success", "pool": "default_pool", "map_index": -1},
           {"state": "success", "pool": "llm_pool", "map_index": 0},
           {"state": "running", "pool": "llm_pool", "map_index": 1},
           {"state": "awaiting_input", "pool": "default_pool", "map_index": 0},
           {"state": None, "pool": "default_pool", "map_index": -1}]
    line = stack.describe_progress("fact_check_copy", "run_1", "running", tis)
    assert line == "run running: 2/5 task instances finished, crew items 1/2; 1,234 LLM tokens so far"


def test_rest_calls_are_sent_again_while_the_airflow_database_is_locked(monkeypatch):
    monkeypatch.setattr(stack.time, "sleep", lambda s: None)
    answers = iter([httpx.Response(500, json={"detail": {"reason": "Database error"}})] * 2
                   + [httpx.Response(201, json={"name": "llm_pool"})])
    sent = []

    def handler(request):
        sent.append(request.content)
        return next(answers)

    client = httpx.Client(base_url="http://airflow", transport=stack.RetryDatabaseErrors(httpx.MockTransport(handler)))
    response = client.post("/api/v2/pools", json={"name": "llm_pool", "slots": 1})
    assert response.status_code == 201
    assert len(sent) == 3 and len(set(sent)) == 1  # the same body each time


@pytest.mark.parametrize(("status", "body"), [
    (500, {"detail": "Internal Server Error"}),  # a real server fault: no retry
    (400, {"detail": "Database error"}),          # a refusal, whatever it says
])
def test_other_errors_are_not_retried(monkeypatch, status, body):
    monkeypatch.setattr(stack.time, "sleep", lambda s: None)
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(status, json=body)

    client = httpx.Client(base_url="http://airflow", transport=stack.RetryDatabaseErrors(httpx.MockTransport(handler)))
    assert client.post("/api/v2/pools", json={}).status_code == status
    assert len(sent) == 1


def test_a_database_that_stays_locked_returns_the_error_after_the_last_attempt(monkeypatch):
    monkeypatch.setattr(stack.time, "sleep", lambda s: None)
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(500, json={"detail": {"reason": "Database error"}})

    client = httpx.Client(transport=stack.RetryDatabaseErrors(httpx.MockTransport(handler), attempts=3))
    assert client.get("http://airflow/api/v2/pools").status_code == 500
    assert len(sent) == 3


def test_airflow_waits_for_a_locked_sqlite_database_instead_of_failing(commands):
    env = stack.airflow_env()
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
        module, _, name = env[key].rpartition(".")
        args = getattr(importlib.import_module(module), name)
        assert args["timeout"] >= 30, key
        assert float(env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"]) > args["timeout"]  # answer, not client timeout
        assert stack.API_TIMEOUT_S > args["timeout"]
    assert str(stack.ROOT) in env["PYTHONPATH"].split(os.pathsep)  # where Airflow imports it from


def test_the_admin_password_file_is_owner_only_and_kept(monkeypatch, tmp_path):
    import json
    import stat

    monkeypatch.setattr(stack, "AIRFLOW_HOME", tmp_path)
    path = stack.admin_password_file()
    first = json.loads(path.read_text())["admin"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(first) >= 20
    path.chmod(0o644)  # a file Airflow made before: tightened, password kept
    assert stack.admin_password_file() == path and json.loads(path.read_text())["admin"] == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
