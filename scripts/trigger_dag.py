"""Trigger an Airflow 3 DAG over the REST API with a ``conf`` and follow the run to its end.

    python scripts/trigger_dag.py DAG_ID [--conf JSON | --conf-file FILE] [--url URL] [--username U]
        [--password P] [--timeout S] [--no-wait] [--mlflow-url URL] [--result-task TASK]

Auth: POST {url}/auth/token with --username (env AIRFLOW_USERNAME, default admin) and --password; without
--password the JWT in env AIRFLOW_TOKEN, else env AIRFLOW_PASSWORD, else the generated password file of the
simple auth manager ($AIRFLOW_HOME, or .stack/airflow of scripts/stack.py next to this script).
Progress goes to stderr, a JSON summary to stdout: run id and state, duration, the run's Airflow UI URL,
failed task instances, reviews waiting for a person, and the results (the XCom of the result task) with
the MLflow UI URL of each row's MLflow run. Exit status: 0 success, 1 run failed or timed out,
2 bad usage or refused trigger (the API's message is printed), 3 waiting for human review (HITL).
Needs only httpx; the token and password are never printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

# This file is also the Airflow REST client of scripts/stack.py (`make run`) and the tests; it must stay
# usable alone, copied to another machine with only httpx installed.
RESULT_TASKS = {"crew_evaluation": "log_evaluation", "crew_drift": "measure_drift"}  # else collect_results
ACTIVE = {"running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "deferred", "restarting"}
DONE = {"success", "failed", "skipped", "upstream_failed", "removed"}
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
LOCAL_AIRFLOW_HOME = Path(__file__).resolve().parent.parent / ".stack" / "airflow"  # scripts/stack.py's
API_TIMEOUT_S = 60  # seconds to wait for an answer: a busy Airflow database delays one
MAX_CONF_DEPTH = 32  # levels of objects and arrays in a conf; a draft with a fact sheet inline uses 7
LOG = logging.getLogger("trigger_dag")  # progress lines, printed once show_progress() was called


class Usage(Exception):
    """Bad usage or a refused request: exit status 2."""


class Progress(logging.Handler):
    """Prints ``[label HH:MM:SS] message`` to sys.stderr or sys.stdout (the one in place when it prints)."""

    def __init__(self, label: str, stream: str) -> None:
        super().__init__()
        self.label, self.stream = label, stream

    def emit(self, record: logging.LogRecord) -> None:
        line = f"[{self.label} {time.strftime('%H:%M:%S')}] {record.getMessage()}"
        print(line, file=getattr(sys, self.stream), flush=True)


def show_progress(label: str, stream: str = "stderr") -> None:
    """Print the progress lines logged to ``LOG`` as ``[label HH:MM:SS] message`` on ``stream``."""
    LOG.handlers[:] = [Progress(label, stream)]
    LOG.setLevel(logging.INFO)
    LOG.propagate = False


def parse_conf(text: str | None, file: str | None) -> dict[str, Any]:
    """The conf of --conf or --conf-file (``-``: stdin): a JSON object at most MAX_CONF_DEPTH levels deep."""
    if text is not None and file is not None:
        raise Usage("give --conf or --conf-file, not both")
    source = "--conf"
    if file is not None:
        source = file
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
        except OSError as exc:
            raise Usage(f"cannot read --conf-file {file}: {exc.strerror}") from exc
    try:
        conf = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise Usage(f"{source} is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise Usage(f"{source} is nested too deeply to read; at most {MAX_CONF_DEPTH} levels") from exc
    if not isinstance(conf, dict):
        raise Usage(f"{source} must be a JSON object, got {type(conf).__name__}")
    if (depth := nesting(conf)) > MAX_CONF_DEPTH:
        raise Usage(f"{source} is nested {depth} levels deep; at most {MAX_CONF_DEPTH} (the Airflow API "
                    "answers a conf nested some hundreds of levels deep with HTTP 500 and no detail)")
    return conf


def nesting(value: Any) -> int:
    """How many levels of objects and arrays ``value`` has (a scalar: 0); iterative, for any depth."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


# --- the REST client -----------------------------------------------------------------


class RetryDatabaseErrors(httpx.BaseTransport):
    """Sends a request again when Airflow answers HTTP 500 "Database error".

    That is a write that found the database locked (SQLite); the transaction was rolled back, so
    sending it again is safe. Other errors pass through; after the last attempt its answer is returned.
    """

    def __init__(self, inner: httpx.BaseTransport | None = None, attempts: int = 4, pause_s: float = 2.0):
        self.inner = inner or httpx.HTTPTransport()
        self.attempts, self.pause_s = attempts, pause_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for attempt in range(1, self.attempts):
            response = self.inner.handle_request(request)
            if response.status_code != 500 or b"Database error" not in response.read():
                return response
            response.close()
            LOG.info(f"Airflow database busy ({request.method} {request.url.path}); "
                     f"retrying in {self.pause_s * attempt:.0f}s ({attempt}/{self.attempts - 1})")
            time.sleep(self.pause_s * attempt)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def connect(url: str, username: str, password: str | None) -> httpx.Client:
    """A client for the Airflow REST API at ``url``: logged in (see get_token), retrying "Database error"."""
    headers = {"Authorization": f"Bearer {get_token(url, username, password)}"}
    return httpx.Client(base_url=url, headers=headers, timeout=API_TIMEOUT_S, transport=RetryDatabaseErrors())


def local_password(username: str) -> str | None:
    """The password `airflow standalone` / scripts/stack.py generated, if this is that machine."""
    for home in filter(None, [os.environ.get("AIRFLOW_HOME"), LOCAL_AIRFLOW_HOME]):
        path = Path(home) / PASSWORD_FILE
        if path.is_file():
            return json.loads(path.read_text()).get(username)
    return None


def get_token(url: str, username: str, password: str | None) -> str:
    """A JWT: ``password`` logs in, else env AIRFLOW_TOKEN is used as is, else AIRFLOW_PASSWORD or the
    local password file logs in."""
    if not password and os.environ.get("AIRFLOW_TOKEN"):
        return os.environ["AIRFLOW_TOKEN"]
    password = password or os.environ.get("AIRFLOW_PASSWORD") or local_password(username)
    if not password:
        raise Usage(f"no credentials: set AIRFLOW_TOKEN or AIRFLOW_PASSWORD, give --password, or put "
                    f"{PASSWORD_FILE} in $AIRFLOW_HOME")
    try:
        response = httpx.post(f"{url}/auth/token", json={"username": username, "password": password},
                              timeout=30)
    except httpx.HTTPError as exc:
        raise Usage(f"cannot reach Airflow at {url}: {exc}") from exc
    return answer(response, f"login as {username}")["access_token"]


def answer(response: httpx.Response, what: str) -> Any:
    """The JSON of a successful ``response``; else Usage ``{what} refused: HTTP 400 <the API's message>``."""
    if response.status_code >= 400:
        raise Usage(f"{what} refused: HTTP {response.status_code} {api_message(response.text)}")
    return response.json()


def api_message(body: str | None) -> str:
    """The ``detail`` of an error answer (as JSON when it is not a string), else the body."""
    try:
        detail = json.loads(body or "")["detail"]
    except (ValueError, KeyError, TypeError):
        return (body or "").strip()
    return detail if isinstance(detail, str) else json.dumps(detail)


def get(api: httpx.Client, path: str, **params: Any) -> Any:
    """The JSON answer of GET ``path``; an error answer raises httpx.HTTPStatusError."""
    return api.get(path, params=params).raise_for_status().json()


def trigger(api: httpx.Client, dag_id: str, conf: dict[str, Any], allow_unknown: bool = False) -> str:
    """Unpause ``dag_id`` and trigger a run with ``conf``; its run id. A refusal raises Usage with the API's
    message; so do conf keys the DAG has no param for, unless ``allow_unknown``."""
    what, path = f"trigger of {dag_id}", f"/api/v2/dags/{dag_id}"
    try:
        dag = answer(api.get(f"{path}/details"), what)
        if not allow_unknown:
            refuse_unknown_keys(dag, conf)
        if dag["is_paused"]:
            answer(api.patch(path, params={"update_mask": "is_paused"}, json={"is_paused": False}), what)
            LOG.info(f"unpaused {dag_id}" + (f"; its schedule ({dag['timetable_summary']}) starts the latest "
                                               "scheduled run too" if dag.get("timetable_periodic") else ""))
        run = answer(api.post(f"{path}/dagRuns", json={"logical_date": None, "conf": conf}), what)
    except httpx.TransportError as exc:
        raise Usage(f"cannot reach Airflow: {exc}") from exc
    LOG.info(f"triggered {dag_id} run {run['dag_run_id']}")
    return run["dag_run_id"]


def refuse_unknown_keys(dag: dict[str, Any], conf: dict[str, Any]) -> None:
    """Usage when ``conf`` has keys that are no params of the DAG (Airflow would pass them on silently)."""
    params = dag.get("params") or {}
    unknown = sorted(set(conf) - set(params))
    if params and unknown:
        raise Usage(f"conf key(s) {unknown} are not params of {dag['dag_id']} (it accepts {sorted(params)}); "
                    "use --allow-unknown-conf to send them anyway")


def task_instances(api: httpx.Client, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    """Every task instance of a run (the API answers at most 100 a page)."""
    tis: list[dict[str, Any]] = []
    while True:
        page = get(api, f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100, offset=len(tis))
        tis += page["task_instances"]
        if not page["task_instances"] or len(tis) >= page["total_entries"]:
            return tis


def queue_reason(api: httpx.Client, dag_id: str) -> str:
    """Why a run is still queued: the DAG's running runs take its max_active_runs (waiting for reviews?)."""
    dag = f"/api/v2/dags/{dag_id}"
    limit = get(api, f"{dag}/details")["max_active_runs"]
    running = [r["dag_run_id"] for r in get(api, f"{dag}/dagRuns", state="running", limit=100)["dag_runs"]]
    if not limit or len(running) < limit:
        return "waiting for the scheduler"
    waits = {r: get(api, f"{dag}/dagRuns/{r}/taskInstances", state="awaiting_input", limit=1)["total_entries"]
             for r in running}
    return f"max_active_runs={limit} taken by " + ", ".join(
        r + (" (awaits review)" if waits[r] else "") for r in running)


def progress(api: httpx.Client, dag_id: str, run_id: str, state: str, tis: list[dict]) -> str:
    """``run running: 3/7 task instances done, mapped 1/2, 1 awaiting review``; a queued run: why it waits."""
    mapped = [t for t in tis if t["map_index"] >= 0]
    line = (f"run queued: {queue_reason(api, dag_id)}" if state == "queued" else
            f"run {state}: {sum(t['state'] in DONE for t in tis)}/{len(tis)} task instances done, "
            f"mapped {sum(t['state'] in DONE for t in mapped)}/{len(mapped)}")
    waiting = sum(t["state"] == "awaiting_input" for t in tis)
    return line + (f", {waiting} awaiting review" if waiting else "")


def waiting_only_for_review(tis: list[dict]) -> bool:
    """True when human review steps wait for input and nothing else can make progress without them."""
    return any(t["state"] == "awaiting_input" for t in tis) and not any(t["state"] in ACTIVE for t in tis)


def poll_run(api: httpx.Client, dag_id: str, run_id: str, pause_s: float) -> tuple[dict, list[dict]]:
    """The run and its task instances; asked again (5 times at most) while the API server is restarting."""
    failures = 0
    while True:
        try:
            return get(api, f"/api/v2/dags/{dag_id}/dagRuns/{run_id}"), task_instances(api, dag_id, run_id)
        except httpx.HTTPError as exc:
            failures += 1
            status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
            if failures > 5 or status in (401, 403, 404):
                raise
            LOG.info(f"polling failed ({exc.__class__.__name__}); retrying")
            time.sleep(pause_s)


def follow(api: httpx.Client, dag_id: str, run_id: str, timeout: float, poll: float = 5.0,
           stop_at_review: bool = True, on_poll: Callable[[str, list[dict]], None] | None = None,
           describe: Callable[[str, str, str, list[dict]], str] | None = None) -> dict[str, Any]:
    """Poll a run until it ends, ``timeout`` passes or (``stop_at_review``) only human reviews are left.

    Returns the run with ``state`` success, failed, awaiting_review or timeout, its ``airflow_state`` and
    ``task_instances``. Every poll logs ``describe(dag_id, run_id, state, task_instances)`` (default:
    progress) if it changed, then calls ``on_poll(run_id, task_instances)``.
    """
    describe, began, last = describe or partial(progress, api), time.monotonic(), ""
    while True:
        run, tis = poll_run(api, dag_id, run_id, poll)
        if (line := describe(dag_id, run_id, run["state"], tis)) != last:
            LOG.info(line)
            last = line
        if on_poll is not None:
            on_poll(run_id, tis)
        state = (run["state"] if run["state"] in {"success", "failed"}
                 else "awaiting_review" if stop_at_review and waiting_only_for_review(tis)
                 else "timeout" if time.monotonic() - began > timeout else None)
        if state:
            return run | {"state": state, "airflow_state": run["state"], "task_instances": tis}
        time.sleep(poll)


def mlflow_url(mlflow: str, run_id: str | None) -> str | None:
    """The MLflow UI URL of a run, or None (no run id, or MLflow does not know it)."""
    if not run_id:
        return None
    try:
        response = httpx.get(f"{mlflow}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10)
        return f"{mlflow}/#/experiments/{response.json()['run']['info']['experiment_id']}/runs/{run_id}"
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def results(api: httpx.Client, dag_id: str, run_id: str, task_id: str, tis: list, mlflow: str) -> list:
    """The result task's return values (one per map index), each row with its MLflow UI URL."""
    rows = []
    for ti in sorted((t for t in tis if t["task_id"] == task_id and t["state"] == "success"),
                     key=lambda t: t["map_index"]):
        response = api.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/"
                           "return_value", params={"map_index": ti["map_index"]})
        if response.status_code != 200:
            continue
        value = response.json()["value"]
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        rows += value if isinstance(value, list) else [value]
    for row in rows:
        if isinstance(row, dict) and "mlflow_run_id" in row:
            row["mlflow_url"] = mlflow_url(mlflow, row["mlflow_run_id"])
    return rows


# --- the command ---------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dag_id")
    parser.add_argument("--conf", help="the run's conf, a JSON object")
    parser.add_argument("--conf-file", help="a file with the conf as JSON ('-': stdin)")
    parser.add_argument("--url", default=os.environ.get("AIRFLOW_URL", "http://127.0.0.1:8080"),
                        help="Airflow API server (env AIRFLOW_URL, default http://127.0.0.1:8080)")
    parser.add_argument("--username", default=os.environ.get("AIRFLOW_USERNAME", "admin"))
    parser.add_argument("--password",
                        help="else env AIRFLOW_TOKEN, AIRFLOW_PASSWORD or the generated password file")
    parser.add_argument("--mlflow-url",
                        default=os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000"),
                        help="MLflow server for the run links (env MLFLOW_TRACKING_URI, "
                             "default http://127.0.0.1:5000)")
    parser.add_argument("--result-task", help="task whose XCom holds the results (default: per DAG)")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="seconds to wait for the run (default 1800)")
    parser.add_argument("--poll", type=float, default=5, help="seconds between polls (default 5)")
    parser.add_argument("--no-wait", action="store_true", help="trigger and return at once")
    parser.add_argument("--allow-unknown-conf", action="store_true",
                        help="send conf keys the DAG has no param for")
    return parser.parse_args(argv)


def summarize(api: httpx.Client, args: argparse.Namespace, url: str, run_id: str, run: dict,
              began: float) -> dict:
    """The JSON summary of a run (``run`` as follow() returns it)."""
    tis, task = run["task_instances"], args.result_task or RESULT_TASKS.get(args.dag_id, "collect_results")
    summary = {
        "dag_id": args.dag_id, "dag_run_id": run_id,
        "state": run["state"], "airflow_state": run["airflow_state"],
        "duration_s": round(time.monotonic() - began, 1),
        "ui_url": f"{url}/dags/{quote(args.dag_id)}/runs/{quote(run_id, safe=':+')}",
        "failed_task_instances": [{k: t[k] for k in ("task_id", "map_index", "rendered_map_index", "state")}
                                  for t in tis if t["state"] in {"failed", "upstream_failed"}],
        "awaiting_review": [{k: t[k] for k in ("task_id", "map_index", "rendered_map_index")}
                            for t in tis if t["state"] == "awaiting_input"],
        "result_task": task,
        "results": results(api, args.dag_id, run_id, task, tis, args.mlflow_url.rstrip("/")) if tis else [],
    }
    if summary["awaiting_review"]:
        summary["required_actions_url"] = f"{url}/required_actions?response_received=false"
    return summary


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    show_progress("trigger")
    url = args.url.rstrip("/")
    try:
        conf = parse_conf(args.conf, args.conf_file)
        with connect(url, args.username, args.password) as api:
            began = time.monotonic()
            run_id = trigger(api, args.dag_id, conf, args.allow_unknown_conf)
            run = ({"state": "queued", "airflow_state": "queued", "task_instances": []} if args.no_wait
                   else follow(api, args.dag_id, run_id, args.timeout, args.poll))
            summary = summarize(api, args, url, run_id, run, began)
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except httpx.HTTPError as exc:
        print(f"error: lost the Airflow API while following the run: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, default=str))
    return {"success": 0, "queued": 0, "awaiting_review": 3}.get(summary["state"], 1)


if __name__ == "__main__":
    sys.exit(main())
