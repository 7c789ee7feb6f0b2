"""The local stack: llama.cpp LLM server, MLflow server and Airflow (api-server, scheduler,
dag-processor, triggerer); with ``CREWS_EXECUTOR=celery`` also Postgres, Redis and
``CREWS_WORKERS`` Celery workers (scripts/celery_stack.py).

    python scripts/stack.py up                       start what is not running yet
    python scripts/stack.py trigger DAG [--conf JSON] trigger over the REST API and wait
    python scripts/stack.py down                     stop everything
    python scripts/stack.py status

All servers bind to 127.0.0.1 (Airflow's log servers, which would bind to every
address, are not started: the API server reads the local task log files); state
(Airflow home, MLflow DB and artifacts, model file, logs, pids) lives in the
git-ignored ``.stack/`` folder.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("CREWS_STATE_DIR", ROOT / ".stack"))
VENV_BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
LLM_PORT = int(os.environ.get("CREWS_LLM_PORT", "8001"))
MLFLOW_PORT = int(os.environ.get("CREWS_MLFLOW_PORT", "5000"))
AIRFLOW_PORT = int(os.environ.get("CREWS_AIRFLOW_PORT", "8080"))
AIRFLOW_URL = f"http://{HOST}:{AIRFLOW_PORT}"
MLFLOW_URL = f"http://{HOST}:{MLFLOW_PORT}"
LLM_URL = f"http://{HOST}:{LLM_PORT}/v1"
AIRFLOW_HOME = STATE / "airflow"
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]  # the project; trigger_dag.py also under `-m scripts.stack`

import celery_stack  # noqa: E402  (Postgres, Redis and Celery workers)
import trigger_dag  # noqa: E402  (the Airflow REST client)

from crews import QUIET_CREWAI  # noqa: E402  (telemetry switches for every process)

# Seconds a client of the Airflow API waits for an answer: longer than the SQLite busy timeout
# (scripts/airflow_sqlite.py), so a busy database delays an answer instead of losing it.
API_TIMEOUT_S = trigger_dag.API_TIMEOUT_S


def log(message: str) -> None:
    print(f"[stack {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes -------------------------------------------------------------------


def _pid_file(name: str) -> Path:
    return STATE / "pids" / f"{name}.pid"


def _alive(name: str) -> bool:
    path = _pid_file(name)
    if not path.exists():
        return False
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (ProcessLookupError, ValueError):
        return False
    try:  # a server this process started and that has exited: reap it (a zombie still takes signals)
        return os.waitpid(pid, os.WNOHANG) == (0, 0)
    except ChildProcessError:  # not our child
        return True


Check = str | Callable[[], bool]  # a health URL that answers 200, or a function


class Service(NamedTuple):
    """A server of the stack: its own process group, pid file and log (``.stack/logs/<name>.log``)."""

    name: str
    check: Check
    command: list[str]
    env: dict[str, str]
    timeout_s: float
    user: str | None = None  # run as this user (Postgres refuses root)


def _log_file(name: str) -> str:
    """A service's log file, as a path relative to the project when it is inside it."""
    path = STATE / "logs" / f"{name}.log"
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _spawn(name: str, args: list[str], env: dict[str, str], user: str | None = None) -> None:
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    _pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with (STATE / "logs" / f"{name}.log").open("ab") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True, user=user
        )
    _pid_file(name).write_text(str(process.pid))
    log(f"started {name} (pid {process.pid}, log {_log_file(name)})")


def _ready(service: Service, began: float) -> bool:
    """Whether ``service`` answers; an error naming it (and its port) when it exited or ran out of time."""
    if _answers(service.check):
        return True
    where = _where(service)
    if not _alive(service.name):
        tail = (STATE / "logs" / f"{service.name}.log").read_text(errors="replace")[-3000:]
        raise SystemExit(f"{service.name}{where} exited during start-up; last log lines:\n{tail}")
    if time.monotonic() - began > service.timeout_s:
        target = service.check if isinstance(service.check, str) else where.strip(" ()") or "its check"
        raise SystemExit(f"{service.name} did not answer {target} within {service.timeout_s:.0f}s; "
                         f"see {_log_file(service.name)}")
    return False


def _answers(check: Check) -> bool:
    if callable(check):
        return check()
    try:
        return httpx.get(check, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def base_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        CREWS_STATE_DIR=str(STATE),
        MLFLOW_TRACKING_URI=MLFLOW_URL,
    )
    env.update(QUIET_CREWAI)
    if celery_stack.executor() == "celery":  # crew results and budgets on the stack's Postgres
        env["CREWS_RESULTS_URL"] = celery_stack.postgres_url(STATE, "crews")
    return env


def llm_service() -> Service:
    command = [
        str(VENV_BIN / "python"), "-m", "crews.runtime.local_server",
        "--host", HOST, "--port", str(LLM_PORT), "--model-dir", str(STATE / "models"),
    ]
    return Service("llm", f"{LLM_URL}/models", command, base_env(), 180)


def mlflow_service() -> Service:
    """MLflow's server; its backend store is SQLite, or the stack's Postgres on Celery (the URL, with its
    password, goes in the environment, not on the command line)."""
    (STATE / "mlflow").mkdir(parents=True, exist_ok=True)
    env = base_env()
    if celery_stack.executor() == "celery":
        env["MLFLOW_BACKEND_STORE_URI"] = celery_stack.postgres_url(STATE, "mlflow", "postgresql")
    else:
        env["MLFLOW_BACKEND_STORE_URI"] = f"sqlite:///{STATE / 'mlflow' / 'mlflow.db'}"
    command = [
        str(VENV_BIN / "mlflow"), "server",
        "--artifacts-destination", str(STATE / "mlflow" / "artifacts"),
        "--host", HOST, "--port", str(MLFLOW_PORT), "--workers", "1",
    ]
    return Service("mlflow", f"{MLFLOW_URL}/health", command, env, 240)


def postgres_service() -> Service:
    command = celery_stack.postgres_command(STATE)
    return Service("postgres", celery_stack.postgres_ready(STATE), command, base_env(), 120,
                   celery_stack.postgres_user())


def redis_service() -> Service:
    command = celery_stack.redis_command(STATE)
    return Service("redis", celery_stack.redis_ready(STATE), command, base_env(), 60)


def worker_services() -> list[Service]:
    """The Celery workers, each ready once it answers a ping through the broker."""
    return [Service(name, celery_stack.worker_ready(STATE, name),
                    celery_stack.worker_command(str(VENV_BIN / "airflow"), name),
                    airflow_env() | {"CREWS_WORKER_NAME": name}, 300)
            for name in celery_stack.worker_names()]


SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
PASSWORDS_FILE = trigger_dag.PASSWORD_FILE  # in AIRFLOW_HOME


def airflow_env() -> dict[str, str]:
    """What ``airflow standalone`` set up: LocalExecutor, simple auth manager (admin password in
    ``$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``), SQLite in ``$AIRFLOW_HOME``; on
    Celery, CeleryExecutor with Postgres and Redis instead (celery_stack.airflow_env)."""
    env = base_env()
    env.update(
        AIRFLOW_HOME=str(AIRFLOW_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        # LocalExecutor whose workers preload the crews' imports once (plugins/crew_workers.py);
        # CREWS_WARM_WORKERS=0 runs Airflow's own executors, every task importing for itself
        AIRFLOW__CORE__EXECUTOR="crew_workers.WarmLocalExecutor" if warm_workers() else "LocalExecutor",
        AIRFLOW__CORE__AUTH_MANAGER=SIMPLE_AUTH_MANAGER,
        AIRFLOW__CORE__PARALLELISM=os.environ.get("AIRFLOW__CORE__PARALLELISM", "4"),
        AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        AIRFLOW__API__HOST=HOST,
        AIRFLOW__API__PORT=str(AIRFLOW_PORT),
        AIRFLOW__API__BASE_URL=AIRFLOW_URL,
        AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{AIRFLOW_URL}/execution/",
        AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="30",
        # A longer SQLite busy timeout than Python's 5 s (see airflow_sqlite.py); importable via PYTHONPATH.
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS="scripts.airflow_sqlite.CONNECT_ARGS",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC="scripts.airflow_sqlite.CONNECT_ARGS_ASYNC",
        # Task processes wait for the API server's answer longer than it may wait for the database
        # (5 s default).
        AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT=str(API_TIMEOUT_S),
        AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
        AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST=HOST,  # default 0.0.0.0, should it be enabled
    )
    if celery_stack.executor() == "celery":
        for sqlite_only in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS",
                            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONNECT_ARGS_ASYNC"):
            env.pop(sqlite_only)
        env.update(celery_stack.airflow_env(STATE, env["AIRFLOW__CORE__PARALLELISM"]))
        if not warm_workers():
            env.pop("AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS")
    return env


def warm_workers() -> bool:
    """``CREWS_WARM_WORKERS`` (default 1): workers preload the crews' imports (plugins/crew_workers.py)."""
    return os.environ.get("CREWS_WARM_WORKERS", "1").strip() != "0"


def admin_password_file() -> Path:
    """The simple auth manager's password file, made here (owner-only, mode 600) with a random admin
    password before Airflow starts: Airflow would otherwise create it world-readable and print the
    password to its log."""
    path = AIRFLOW_HOME / PASSWORDS_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(json.dumps({"admin": secrets.token_urlsafe(18)}) + "\n")
    path.chmod(0o600)
    return path


def airflow_service() -> Service:
    """One service: this script's ``airflow-supervisor`` command runs every Airflow component."""
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    admin_password_file()
    command = [str(VENV_BIN / "python"), str(Path(__file__).resolve()), "airflow-supervisor"]
    return Service("airflow", f"{AIRFLOW_URL}/api/v2/monitor/health", command, airflow_env(), 600)


def airflow_migrate_command() -> list[str]:
    return [str(VENV_BIN / "airflow"), "db", "migrate"]


def airflow_components() -> dict[str, list[str]]:
    """The components of ``airflow standalone``, without the log servers of scheduler and triggerer."""
    airflow = str(VENV_BIN / "airflow")
    return {
        "api-server": [airflow, "api-server", "--host", HOST, "--port", str(AIRFLOW_PORT)],
        "scheduler": [airflow, "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow, "dag-processor"],
        "triggerer": [airflow, "triggerer", "--skip-serve-logs"],
    }


def start(services: list[Service]) -> list[str]:
    """Start every service that does not answer yet, all at once, then wait for each; returns the names
    of those this call spawned.

    A service whose process is alive but does not answer (the LLM server busy with a long
    request, say) is waited for, not started twice: a second one could not bind its port
    and would overwrite the pid file that ``down`` needs. When one fails to start, the ones
    this call spawned are stopped again: no half-started stack stays behind.
    """
    began = time.monotonic()
    pending, spawned = [], []
    for service in services:
        if _answers(service.check):
            log(f"{service.name} already up{_where(service)}")
            continue
        if _alive(service.name):
            log(f"{service.name} is running but not answering yet; waiting for it")
        else:
            _spawn(service.name, service.command, service.env, service.user)
            spawned.append(service.name)
        pending.append(service)
    try:
        while pending:  # all at once: the first that fails stops the wait
            for service in [s for s in pending if _ready(s, began)]:
                log(f"{service.name} ready after {time.monotonic() - began:.1f}s")
                pending.remove(service)
            if pending:
                time.sleep(1)
    except SystemExit:
        for name in reversed(spawned):
            stop(name)
        raise
    return spawned


def _where(service: Service) -> str:
    """`` (127.0.0.1:5432)`` for a service with a port, `` (URL)`` for one with a health URL."""
    if isinstance(service.check, str):
        return f" ({service.check})"
    if service.name not in ("postgres", "redis"):
        return ""
    return f" ({HOST}:{celery_stack.server_port(service.name)})"


STOP_SIGNALS = {"postgres": signal.SIGINT}  # Postgres' fast shutdown; SIGTERM would wait for clients


def stop(name: str) -> None:
    path = _pid_file(name)
    if not _alive(name):
        path.unlink(missing_ok=True)
        return
    pid = int(path.read_text())
    try:
        os.killpg(pid, STOP_SIGNALS.get(name, signal.SIGTERM))
    except ProcessLookupError:
        pass
    for _ in range(30):
        if not _alive(name):
            break
        time.sleep(0.5)
    else:
        os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    log(f"stopped {name}")


# --- Airflow supervisor (runs in the "airflow" service's process group) -------------

_print_lock = threading.Lock()


def _say(name: str, line: str) -> None:
    with _print_lock:
        print(f"{name:13} | {line.rstrip()}", flush=True)


def _copy_output(name: str, process: subprocess.Popen) -> None:
    for line in process.stdout:
        _say(name, line.decode(errors="replace"))


def _start_component(name: str, command: list[str]) -> tuple[subprocess.Popen, threading.Thread]:
    """Start one component and a thread that copies its output to ours, each line prefixed with its name."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    reader = threading.Thread(target=_copy_output, args=(name, process), daemon=True)
    reader.start()
    return process, reader


def _terminate(processes: dict[str, subprocess.Popen], grace_s: float = 12) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + grace_s
    for name, process in processes.items():
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say("supervisor", f"{name} ignored SIGTERM; killing it")
            process.kill()
            process.wait()


RESTARTS, RESTART_WINDOW_S = 3, 300  # a component that exits more often than this stops them all


def supervise(components: dict[str, list[str]], restarts: int = RESTARTS,
              stopping: list[int] | None = None) -> int:
    """Run the components until SIGTERM/SIGINT (return 0). A component that exits is started again, as
    a scheduler killed mid-run would be by a process manager; one that exits more than ``restarts`` times
    within RESTART_WINDOW_S stops the others (return 1). Each component's pid is in
    ``.stack/pids/airflow-<name>.pid``."""
    stopping = [] if stopping is None else stopping  # the signals received (a test may append one)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _: stopping.append(signum))
    started = {name: _start_component(name, command) for name, command in components.items()}
    exits: dict[str, list[float]] = {name: [] for name in components}
    code = 0
    _write_component_pids(started)
    while not stopping and not code:
        for name, (process, _) in list(started.items()):
            if process.poll() is None or stopping:
                continue
            now = time.monotonic()
            exits[name] = [t for t in exits[name] if now - t < RESTART_WINDOW_S] + [now]
            if len(exits[name]) > restarts:
                _say("supervisor", f"{name} exited with code {process.returncode} "
                                   f"({len(exits[name])} times in {RESTART_WINDOW_S} s); stopping the other "
                                   "components")
                code = 1
                break
            _say("supervisor", f"{name} exited with code {process.returncode}; starting it again "
                               f"({len(exits[name])}/{restarts})")
            started[name] = _start_component(name, components[name])
            _write_component_pids(started)
        time.sleep(0.5)
    processes = {name: process for name, (process, _) in started.items()}
    _terminate(processes)
    for _, reader in started.values():
        reader.join(timeout=2)  # their last lines (a traceback, say) before ours
    for name in components:
        _pid_file(f"airflow-{name}").unlink(missing_ok=True)
    _say("supervisor", "all Airflow components stopped")
    return code


def _write_component_pids(started: dict[str, tuple[subprocess.Popen, threading.Thread]]) -> None:
    for name, (process, _) in started.items():
        path = _pid_file(f"airflow-{name}")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(process.pid))


def cmd_airflow_supervisor(_: argparse.Namespace) -> None:
    """Migrate the DB, then run the Airflow components as one service (what ``up`` starts)."""
    migrate = subprocess.run(airflow_migrate_command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in migrate.stdout.decode(errors="replace").splitlines():
        _say("db migrate", line)
    if migrate.returncode != 0:
        raise SystemExit(f"airflow db migrate failed with code {migrate.returncode}")
    raise SystemExit(supervise(airflow_components()))


# --- Airflow REST API: the client of scripts/trigger_dag.py ------------------------


def api_client() -> httpx.Client:
    """trigger_dag.py's REST client, logged in as the simple auth manager's admin."""
    passwords = AIRFLOW_HOME / PASSWORDS_FILE
    for _ in range(60):
        if passwords.exists():
            break
        time.sleep(1)
    return trigger_dag.connect(AIRFLOW_URL, "admin", json.loads(passwords.read_text())["admin"])


def _upsert(
    client: httpx.Client, collection: str, key: str, body: dict[str, Any], patch: dict[str, Any] | None = None
) -> None:
    response = client.post(f"/api/v2/{collection}", json=body)
    if response.status_code == 409:
        response = client.patch(f"/api/v2/{collection}/{key}", json=patch or body)
    if response.status_code >= 400:
        raise SystemExit(f"loading {collection}/{key} failed: {response.status_code} {response.text}")


def load_settings(client: httpx.Client, path: Path = ROOT / "airflow_settings.yaml") -> None:
    """Load connections, pools and variables from the Astro CLI's settings file over the REST API.

    The file is read and checked by scripts/airflow_settings.py, the loader the compose
    stack's init runs, so both stacks accept exactly the same file.
    """
    from airflow_settings import SettingsError, plan

    try:
        loads = plan(yaml.safe_load(path.read_text()), os.environ)
    except (OSError, yaml.YAMLError, SettingsError) as exc:
        raise SystemExit(f"{path}: {exc}") from exc
    for conn_id, conn in loads.get("connections", {}).items():
        _upsert(client, "connections", conn_id, {"connection_id": conn_id, **conn})
    for name, pool in loads.get("pools", {}).items():
        _upsert(client, "pools", name, {"name": name, **pool}, {"pool": name, **pool})
    for key, value in loads.get("variables", {}).items():
        text = value if isinstance(value, str) else json.dumps(value)
        _upsert(client, "variables", key, {"key": key, "value": text})
    kinds = ("connections", "pools", "variables")
    log(f"loaded {path.name}: " + ", ".join(f"{len(loads.get(k, {}))} {k}" for k in kinds))


def wait_for_dag(client: httpx.Client, dag_id: str, timeout_s: float = 300) -> None:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        if client.get(f"/api/v2/dags/{dag_id}").status_code == 200:
            return
        errors = client.get("/api/v2/importErrors").json().get("import_errors", [])
        for error in errors:
            if dag_id in error.get("filename", ""):
                raise SystemExit(f"DAG file has an import error:\n{error.get('stack_trace')}")
        time.sleep(2)
    raise SystemExit(f"DAG {dag_id} did not appear within {timeout_s:.0f}s")


def tokens_spent(dag_id: str, run_id: str) -> int | None:
    """LLM tokens the DAG run has paid for so far (the budget ledger in the results DB), or None."""
    os.environ.setdefault("CREWS_STATE_DIR", str(STATE))
    if running_executor() == "celery":
        os.environ.setdefault("CREWS_RESULTS_URL", celery_stack.postgres_url(STATE, "crews"))
    try:
        from crews.runtime.budget import SpendLedger

        return SpendLedger().spent(f"{dag_id}/{run_id}").tokens
    except Exception:  # progress is informative only
        return None


def describe_progress(dag_id: str, run_id: str, state: str, tis: list[dict]) -> str:
    """``run running: 5/12 task instances finished, crew items 3/8; 4,210 LLM tokens so far``."""
    done = sum(t["state"] in trigger_dag.DONE for t in tis)
    line = f"run {state}: {done}/{len(tis)} task instances finished"
    items = [t for t in tis if t.get("pool") == "llm_pool" and t["map_index"] >= 0]
    if items:
        line += f", crew items {sum(t['state'] in trigger_dag.DONE for t in items)}/{len(items)}"
    tokens = tokens_spent(dag_id, run_id)
    if tokens is not None:
        line += f"; {tokens:,} LLM tokens so far"
    return line


def trigger_and_wait(
    client: httpx.Client, dag_id: str, conf: dict[str, Any], timeout_s: float,
    on_poll: Callable[[str, list[dict]], None] | None = None, stop_at_review: bool = False,
) -> dict:
    """Trigger ``dag_id`` with ``conf`` (any keys) and follow the run with :func:`follow_run`."""
    run_id = trigger_dag.trigger(client, dag_id, conf, allow_unknown=True)
    return follow_run(client, dag_id, run_id, timeout_s, on_poll, stop_at_review)


def follow_run(
    client: httpx.Client, dag_id: str, run_id: str, timeout_s: float,
    on_poll: Callable[[str, list[dict]], None] | None = None, stop_at_review: bool = False,
) -> dict:
    """trigger_dag.follow every 3 s with this stack's progress lines; ``on_poll(run_id, task_instances)``
    runs every poll. With ``stop_at_review`` it returns, state ``awaiting_review``, once only human review
    steps are left (a person answers them in the UI; the run then finishes on its own)."""
    return trigger_dag.follow(client, dag_id, run_id, timeout_s, poll=3, stop_at_review=stop_at_review,
                              on_poll=on_poll, describe=describe_progress)


def print_results(client: httpx.Client, dag_id: str, run: dict, elapsed_s: float) -> None:
    """The run's state, failed tasks, results table, UI and MLflow links, and the reviews it waits for."""
    run_id, tis = run["dag_run_id"], run["task_instances"]
    task = trigger_dag.RESULT_TASKS.get(dag_id, "collect_results")
    rows = trigger_dag.results(client, dag_id, run_id, task, tis, MLFLOW_URL)
    print()
    print(f"DAG run {run_id}: {run['state']} in {elapsed_s:.0f}s")
    for ti in (t for t in tis if t["state"] == "failed"):
        print(f"  FAILED {ti['task_id']}[{ti.get('rendered_map_index') or ti['map_index']}]")
    print_table(rows)
    print()
    print(f"Airflow UI:  {AIRFLOW_URL}/dags/{dag_id}/runs/{run_id}")
    print(f"             (user admin, password in .stack/airflow/{PASSWORDS_FILE})")
    experiments = sorted({r["mlflow_experiment"] for r in rows if r.get("mlflow_experiment")})
    print(f"MLflow UI:   {MLFLOW_URL}  (experiments: {', '.join(experiments)})")
    for row in rows:
        print(f"  {row.get('item_id')}: {mlflow_link(row)}")
    print(f"Results DB:  {results_location()} (table crew_results)")
    print_reviews(dag_id, run_id, [t for t in tis if t["state"] == "awaiting_input"])


def print_table(rows: list[dict]) -> None:
    """The result rows as a table, without their mlflow_* columns."""
    if not rows:
        return
    columns = [c for c in rows[0] if not c.startswith("mlflow_")]
    widths = {c: max(len(c), *(len(str(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    for row in rows:
        print("  ".join(str(row.get(c)).ljust(widths[c]) for c in columns))


def results_location() -> str:
    """Where the crew results are: the SQLite file, or the stack's Postgres database (no password)."""
    if running_executor() == "celery":
        return f"postgresql://{celery_stack.DB_USER}@{HOST}:{celery_stack.postgres_port()}/crews"
    return str(STATE / "results.db")


def mlflow_link(row: dict) -> str:
    """A result row's MLflow UI link (or why there is none)."""
    if not row.get("mlflow_run_id"):
        return "not written yet (tracking record spooled)"
    return row.get("mlflow_url") or f"run {row['mlflow_run_id']}"


def print_reviews(dag_id: str, run_id: str, waiting: list[dict]) -> None:
    """The human reviews the run waits for, and where to answer them."""
    if waiting:
        print()
        print(f"{len(waiting)} output(s) wait for human review; the run finishes once they are answered:")
        for ti in waiting:
            print(f"  {ti['task_id']}[{ti.get('rendered_map_index') or ti['map_index']}]")
        print(f"Review them in the Airflow UI: {AIRFLOW_URL}/required_actions?response_received=false")
    print(f"Crew results: {AIRFLOW_URL}/dags/{dag_id}/runs/{run_id}/plugin/crew-results-dag-run")


# --- commands ----------------------------------------------------------------------


def push_prompts() -> None:
    """Register the crews' YAML prompt files in MLflow's prompt registry (a new version only when they
    changed); on a fresh server this also points the ``production`` alias at them, so the crews are served
    from the registry from the first run. An existing ``production`` alias is never moved: promote a pushed
    version with ``python -m crews prompts promote <crew> <version>``."""
    try:
        done = subprocess.run([sys.executable, "-m", "crews", "prompts", "push", "all"], env=base_env(),
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
    except subprocess.TimeoutExpired:
        log("prompts not pushed (timed out); the crews are served their YAML files until `python -m crews "
            "prompts push`")
        return
    for line in done.stderr.splitlines():
        if line.startswith(("crews.", "error:")):
            log(f"prompts: {line}")
    if done.returncode != 0:
        log("prompts not pushed; the crews are served their YAML files until `python -m crews prompts push`")


def _executor_file() -> Path:
    return STATE / "executor"


def running_executor() -> str | None:
    """The executor of the Airflow this stack runs now, or None when Airflow is not running."""
    if not _alive("airflow"):
        return None
    return _executor_file().read_text().strip() if _executor_file().exists() else "local"


def cmd_up(_: argparse.Namespace) -> None:
    began = time.monotonic()
    executor = celery_stack.executor()
    running = running_executor()
    if running and running != executor:
        raise SystemExit(f"the stack runs Airflow on the {running} executor; `make stop` before "
                         f"`make up EXECUTOR={executor}`")
    spawned: list[str] = []
    if executor == "celery":
        celery_stack.preflight(STATE, _alive)
        spawned += start([postgres_service(), redis_service()])
        celery_stack.create_databases(STATE)
    services = [llm_service(), mlflow_service(), airflow_service()]
    if executor == "celery":
        services += worker_services()
    try:
        spawned += start(services)
    except SystemExit:
        for name in reversed(spawned):
            stop(name)
        raise
    _executor_file().write_text(executor + "\n")
    push_prompts()
    with api_client() as client:
        load_settings(client)
    workers = f", {celery_stack.worker_count()} Celery workers" if executor == "celery" else ""
    log(f"stack up in {time.monotonic() - began:.1f}s ({executor} executor{workers})")


def cmd_trigger(args: argparse.Namespace) -> None:
    if not _answers(f"{AIRFLOW_URL}/api/v2/monitor/health"):
        raise SystemExit(f"Airflow is not running at {AIRFLOW_URL}; start the stack with `make up`")
    if running_executor() == "celery":
        for service, check in celery_stack.server_checks(STATE).items():
            if not check():
                raise SystemExit(f"{service} does not answer on {HOST}:{celery_stack.server_port(service)}; "
                                 "the Celery stack cannot run a DAG without it (`make stop`, then "
                                 "`make up EXECUTOR=celery`)")
    with api_client() as client:
        wait_for_dag(client, args.dag_id)
        began = time.monotonic()
        run = trigger_and_wait(client, args.dag_id, json.loads(args.conf), args.timeout, stop_at_review=True)
        print_results(client, args.dag_id, run, time.monotonic() - began)
    if run["state"] not in {"success", "awaiting_review"}:
        raise SystemExit(1)


def _worker_pids() -> list[str]:
    return sorted(path.stem for path in (STATE / "pids").glob("worker-*.pid"))


def cmd_down(_: argparse.Namespace) -> None:
    """Stop every server, whichever executor it was started with: workers and Airflow first, the
    databases last."""
    for name in (*_worker_pids(), "airflow", "mlflow", "llm", "redis", "postgres"):
        stop(name)
    _executor_file().unlink(missing_ok=True)


def cmd_status(_: argparse.Namespace) -> None:
    for name, url in (
        ("llm", f"{LLM_URL}/models"),
        ("mlflow", f"{MLFLOW_URL}/health"),
        ("airflow", f"{AIRFLOW_URL}/api/v2/monitor/health"),
    ):
        print(f"{name:8} {'up' if _answers(url) else 'down':5} {url}")
    if running_executor() == "celery" or _alive("postgres") or _alive("redis"):
        for name, check in celery_stack.server_checks(STATE).items():
            print(f"{name:8} {'up' if check() else 'down':5} {HOST}:{celery_stack.server_port(name)}")
        for name in _worker_pids():
            print(f"{name:8} {'up' if _alive(name) else 'down':5} Celery worker")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up").set_defaults(func=cmd_up)
    trigger = sub.add_parser("trigger")
    trigger.add_argument("dag_id")
    trigger.add_argument("--conf", default="{}")
    trigger.add_argument("--timeout", type=float, default=1800)
    trigger.set_defaults(func=cmd_trigger)
    sub.add_parser("down").set_defaults(func=cmd_down)
    sub.add_parser("status").set_defaults(func=cmd_status)
    supervisor = sub.add_parser("airflow-supervisor", help="run by `up`: the Airflow components")
    supervisor.set_defaults(func=cmd_airflow_supervisor)
    args = parser.parse_args(argv)
    trigger_dag.show_progress("stack", "stdout")  # the REST client's progress lines, like this script's
    try:
        args.func(args)
    except trigger_dag.Usage as exc:  # a refused login or trigger
        raise SystemExit(f"error: {exc}") from exc


if __name__ == "__main__":
    main()
