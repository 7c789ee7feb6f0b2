"""The local stack: llama.cpp LLM server, MLflow server and Airflow (api-server, scheduler,
dag-processor, triggerer).

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
from typing import Any

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
        os.kill(int(path.read_text()), 0)
    except (ProcessLookupError, ValueError):
        return False
    return True


def _spawn(name: str, args: list[str], env: dict[str, str]) -> None:
    (STATE / "logs").mkdir(parents=True, exist_ok=True)
    _pid_file(name).parent.mkdir(parents=True, exist_ok=True)
    with (STATE / "logs" / f"{name}.log").open("ab") as out:
        process = subprocess.Popen(
            args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True
        )
    _pid_file(name).write_text(str(process.pid))
    log(f"started {name} (pid {process.pid}, log .stack/logs/{name}.log)")


def _wait(name: str, url: str, timeout_s: float, ok: Any = lambda r: r.status_code == 200) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout_s:
        try:
            if ok(httpx.get(url, timeout=3)):
                return time.monotonic() - began
        except httpx.HTTPError:
            pass
        if not _alive(name):
            tail = (STATE / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
            raise SystemExit(f"{name} exited during start-up; last log lines:\n{tail}")
        time.sleep(1)
    raise SystemExit(f"{name} did not answer {url} within {timeout_s:.0f}s; see .stack/logs/{name}.log")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
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
    return env


def llm_service() -> tuple[str, str, list[str], dict[str, str], float]:
    command = [
        str(VENV_BIN / "python"), "-m", "crews.runtime.local_server",
        "--host", HOST, "--port", str(LLM_PORT), "--model-dir", str(STATE / "models"),
    ]
    return "llm", f"{LLM_URL}/models", command, base_env(), 180


def mlflow_service() -> tuple[str, str, list[str], dict[str, str], float]:
    (STATE / "mlflow").mkdir(parents=True, exist_ok=True)
    command = [
        str(VENV_BIN / "mlflow"), "server",
        "--backend-store-uri", f"sqlite:///{STATE / 'mlflow' / 'mlflow.db'}",
        "--artifacts-destination", str(STATE / "mlflow" / "artifacts"),
        "--host", HOST, "--port", str(MLFLOW_PORT), "--workers", "1",
    ]
    return "mlflow", f"{MLFLOW_URL}/health", command, base_env(), 240


SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
PASSWORDS_FILE = trigger_dag.PASSWORD_FILE  # in AIRFLOW_HOME


def airflow_env() -> dict[str, str]:
    """What ``airflow standalone`` set up: LocalExecutor, simple auth manager (admin password in
    ``$AIRFLOW_HOME/simple_auth_manager_passwords.json.generated``), SQLite in ``$AIRFLOW_HOME``."""
    env = base_env()
    env.update(
        AIRFLOW_HOME=str(AIRFLOW_HOME),
        AIRFLOW__CORE__DAGS_FOLDER=str(ROOT / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(ROOT / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__EXECUTOR="LocalExecutor",
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
    return env


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


def airflow_service() -> tuple[str, str, list[str], dict[str, str], float]:
    """One service: this script's ``airflow-supervisor`` command runs every Airflow component."""
    AIRFLOW_HOME.mkdir(parents=True, exist_ok=True)
    admin_password_file()
    command = [str(VENV_BIN / "python"), str(Path(__file__).resolve()), "airflow-supervisor"]
    return "airflow", f"{AIRFLOW_URL}/api/v2/monitor/health", command, airflow_env(), 600


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


def start(services: list[tuple[str, str, list[str], dict[str, str], float]]) -> None:
    """Start every service that does not answer yet, all at once, then wait for each.

    A service whose process is alive but does not answer (the LLM server busy with a long
    request, say) is waited for, not started twice: a second one could not bind its port
    and would overwrite the pid file that ``down`` needs.
    """
    began = time.monotonic()
    pending = []
    for name, health_url, command, env, timeout_s in services:
        if _answers(health_url):
            log(f"{name} already up ({health_url})")
            continue
        if _alive(name):
            log(f"{name} is running but not answering yet; waiting for it")
        else:
            _spawn(name, command, env)
        pending.append((name, health_url, timeout_s))
    for name, health_url, timeout_s in pending:
        _wait(name, health_url, timeout_s - (time.monotonic() - began))
        log(f"{name} ready after {time.monotonic() - began:.1f}s")


def stop(name: str) -> None:
    path = _pid_file(name)
    if not _alive(name):
        path.unlink(missing_ok=True)
        return
    pid = int(path.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
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


def supervise(components: dict[str, list[str]]) -> int:
    """Run the components until one exits (error: stop the others, return 1) or SIGTERM/SIGINT (return 0)."""
    stopping: list[int] = []
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, _: stopping.append(signum))
    started = {name: _start_component(name, command) for name, command in components.items()}
    processes = {name: process for name, (process, _) in started.items()}
    code = 0
    while not stopping:
        exited = [(name, p.returncode) for name, p in processes.items() if p.poll() is not None]
        if exited and not stopping:
            _say("supervisor", f"{exited[0][0]} exited with code {exited[0][1]}; "
                               "stopping the other components")
            code = 1
            break
        time.sleep(0.5)
    _terminate(processes)
    for _, reader in started.values():
        reader.join(timeout=2)  # their last lines (a traceback, say) before ours
    _say("supervisor", "all Airflow components stopped")
    return code


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
    print(f"Results DB:  {STATE / 'results.db'} (table crew_results)")
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


def cmd_up(_: argparse.Namespace) -> None:
    began = time.monotonic()
    start([llm_service(), mlflow_service(), airflow_service()])
    push_prompts()
    with api_client() as client:
        load_settings(client)
    log(f"stack up in {time.monotonic() - began:.1f}s")


def cmd_trigger(args: argparse.Namespace) -> None:
    if not _answers(f"{AIRFLOW_URL}/api/v2/monitor/health"):
        raise SystemExit(f"Airflow is not running at {AIRFLOW_URL}; start the stack with `make up`")
    with api_client() as client:
        wait_for_dag(client, args.dag_id)
        began = time.monotonic()
        run = trigger_and_wait(client, args.dag_id, json.loads(args.conf), args.timeout, stop_at_review=True)
        print_results(client, args.dag_id, run, time.monotonic() - began)
    if run["state"] not in {"success", "awaiting_review"}:
        raise SystemExit(1)


def cmd_down(_: argparse.Namespace) -> None:
    for name in ("airflow", "mlflow", "llm"):
        stop(name)


def cmd_status(_: argparse.Namespace) -> None:
    for name, url in (
        ("llm", f"{LLM_URL}/models"),
        ("mlflow", f"{MLFLOW_URL}/health"),
        ("airflow", f"{AIRFLOW_URL}/api/v2/monitor/health"),
    ):
        print(f"{name:8} {'up' if _answers(url) else 'down':5} {url}")


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
