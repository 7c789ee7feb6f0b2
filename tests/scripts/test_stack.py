import importlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

from tests.scripts.fake_airflow import PASSWORD, Fake

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import stack  # noqa: E402
import trigger_dag  # noqa: E402


@pytest.fixture
def commands(monkeypatch, tmp_path):
    """Every command stack.py starts, by name (state folders redirected to tmp_path)."""
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack, "AIRFLOW_HOME", tmp_path / "airflow")
    services = [stack.llm_service(), stack.mlflow_service(), stack.airflow_service()]
    return ({service.name: service.command for service in services}
            | {"db migrate": stack.airflow_migrate_command()} | stack.airflow_components())


def test_every_server_binds_to_loopback(commands):
    for name, command in commands.items():
        assert not {"0.0.0.0", "::", "[::]", ""} & set(command), name
        hosts = [command[i + 1] for i, arg in enumerate(command) if arg in {"--host", "-H"}]
        assert all(host == "127.0.0.1" for host in hosts), (name, hosts)
    for server in ("llm", "mlflow", "api-server"):
        assert "--host" in commands[server], server
    hosts = {k: v for k, v in stack.airflow_env().items()
             if k.startswith("AIRFLOW__") and k.endswith("_HOST")}
    assert hosts and set(hosts.values()) == {"127.0.0.1"}, hosts


def test_airflow_runs_no_log_servers(commands):
    """Scheduler and triggerer would serve logs on [::]:8793/8794; the API server reads the files itself."""
    assert "--skip-serve-logs" in commands["scheduler"] and "--skip-serve-logs" in commands["triggerer"]
    assert not any("standalone" in command for command in commands.values())
    assert stack.airflow_env()["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "False"


def test_supervisor_stops_every_component_when_one_keeps_dying(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack.signal, "signal", lambda *_: None)  # keep pytest's own handlers
    began = time.monotonic()
    code = stack.supervise({
        "sleeper": [sys.executable, "-c", "import time; time.sleep(60)"],
        "crasher": [sys.executable, "-c", "print('boom'); raise SystemExit(3)"],
    }, restarts=2)
    assert code == 1 and time.monotonic() - began < 30  # the sleeper was stopped, not waited for
    out = capsys.readouterr().out
    assert out.count("crasher       | boom") == 3  # started, then started again twice
    assert "crasher exited with code 3; starting it again (1/2)" in out
    assert "crasher exited with code 3 (3 times in 300 s); stopping the other components" in out
    assert not list((tmp_path / "pids").glob("airflow-*.pid"))  # the component pid files are gone


def test_supervisor_starts_a_killed_component_again(monkeypatch, capsys, tmp_path):
    """A scheduler killed mid-run comes back; the other components keep running."""
    import signal as signals
    import threading

    monkeypatch.setattr(stack, "STATE", tmp_path)
    monkeypatch.setattr(stack.signal, "signal", lambda *_: None)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    stopping: list[int] = []
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(
        stack.supervise({"scheduler": sleeper, "api-server": sleeper}, stopping=stopping)))
    thread.start()
    pids = tmp_path / "pids"
    try:
        _wait_until(lambda: (pids / "airflow-api-server.pid").exists())
        first, other = (int((pids / f"airflow-{n}.pid").read_text()) for n in ("scheduler", "api-server"))
        os.kill(first, signals.SIGKILL)
        _wait_until(lambda: int((pids / "airflow-scheduler.pid").read_text()) != first)
        second = int((pids / "airflow-scheduler.pid").read_text())
        os.kill(second, 0)  # the new scheduler runs
        assert int((pids / "airflow-api-server.pid").read_text()) == other  # untouched
    finally:
        stopping.append(signals.SIGTERM)
        thread.join(timeout=30)
    assert codes == [0]
    assert "scheduler exited with code -9; starting it again (1/3)" in capsys.readouterr().out
    for pid in (second, other):
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def _wait_until(condition, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_start_waits_for_a_running_service_instead_of_starting_it_twice(monkeypatch):
    spawned = []
    monkeypatch.setattr(stack, "_answers", lambda url: False)  # busy: the health check times out
    monkeypatch.setattr(stack, "_alive", lambda name: name == "llm")
    monkeypatch.setattr(stack, "_spawn", lambda name, command, env, user=None: spawned.append(name))
    monkeypatch.setattr(stack, "_ready", lambda service, began: True)
    assert stack.start([stack.Service("llm", "http://x/models", ["llm"], {}, 180),
                        stack.Service("mlflow", "http://x/health", ["mlflow"], {}, 240)]) == ["mlflow"]
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


def test_airflow_waits_for_a_locked_sqlite_database_instead_of_failing(commands):
    env = stack.airflow_env()
    for key in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
        module, _, name = env[key].rpartition(".")
        args = getattr(importlib.import_module(module), name)
        assert args["timeout"] >= 30, key
        # an answer, not a client timeout
        assert float(env["AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT"]) > args["timeout"]
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


@pytest.fixture
def fake_stack(server, monkeypatch, tmp_path):
    """``start(fake)`` points stack.py at a fake Airflow + MLflow server (admin password in its file);
    returns the server URL."""
    def start(fake: Fake) -> str:
        url = server(fake)
        (tmp_path / stack.PASSWORDS_FILE).write_text(json.dumps({"admin": PASSWORD}))
        for name, value in {"AIRFLOW_HOME": tmp_path, "AIRFLOW_URL": url, "MLFLOW_URL": url}.items():
            monkeypatch.setattr(stack, name, value)
        monkeypatch.setattr(stack, "_answers", lambda url: True)
        monkeypatch.setattr(stack.time, "sleep", lambda s: None)
        return url

    return start


def test_stack_trigger_runs_on_the_client_of_trigger_dag(fake_stack, monkeypatch, capsys):
    """`make run` logs in, triggers (retrying "Database error"), follows and reads the results with the
    functions of trigger_dag.py."""
    rows = [{"item_id": item, "draft_ok": True, "mlflow_run_id": run, "mlflow_experiment": "crews/fact_check"}
            for item, run in (("promo_1", "r1"), ("promo_2", None))]
    fake = Fake(busy_triggers=1, xcoms={("collect_results", -1): rows}, mlflow_runs={"r1": "7"},
                polls=[("success", [("check_draft", 0, "success"), ("collect_results", -1, "success")])])
    url = fake_stack(fake)
    called = []

    def spy(name):
        real = getattr(trigger_dag, name)

        def call(*args, **kwargs):
            called.append(name)
            return real(*args, **kwargs)
        return call

    for name in ("connect", "trigger", "follow", "results"):
        monkeypatch.setattr(trigger_dag, name, spy(name))
    stack.main(["trigger", "fact_check_copy", "--conf", '{"drafts": []}'])
    assert stack.trigger_dag is trigger_dag and called == ["connect", "trigger", "follow", "results"]
    out = capsys.readouterr().out
    assert "] Airflow database busy (POST /api/v2/dags/fact_check_copy/dagRuns); retrying in" in out
    assert "] triggered fact_check_copy run manual__1" in out and "] unpaused fact_check_copy" in out
    assert "] run success: 2/2 task instances finished" in out  # this stack's progress line
    assert "DAG run manual__1: success in 0s" in out and "experiments: crews/fact_check" in out
    assert f"  promo_1: {url}/#/experiments/7/runs/r1" in out
    assert "  promo_2: not written yet (tracking record spooled)" in out
    assert len([r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/dagRuns")]) == 2


def test_stack_trigger_names_a_refused_trigger(fake_stack):
    fake_stack(Fake(trigger_error=(400, {"detail": "Invalid input for param drafts"})))
    with pytest.raises(SystemExit, match="error: trigger of fact_check_copy refused: HTTP 400 Invalid input"):
        stack.main(["trigger", "fact_check_copy", "--conf", '{"drafts": [{"draft_id": "x"}]}'])
