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
Needs only apache-airflow-client and httpx; the token and password are never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import airflow_client.client as af
import httpx
from airflow_client.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error

RESULT_TASKS = {"crew_evaluation": "log_evaluation", "crew_drift": "measure_drift"}  # default: collect_results
ACTIVE = {"running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "deferred", "restarting"}
DONE = {"success", "failed", "skipped", "upstream_failed", "removed"}
PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
LOCAL_AIRFLOW_HOME = Path(__file__).resolve().parent.parent / ".stack" / "airflow"  # scripts/stack.py's


class Usage(Exception):
    """Bad usage or a refused request: exit status 2."""


MAX_CONF_DEPTH = 32  # levels of objects and arrays in a conf; a draft with a fact sheet inline uses 7


def say(message: str) -> None:
    print(f"[trigger {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_conf(text: str | None, file: str | None) -> dict[str, Any]:
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
        raise Usage(f"{source} is nested {depth} levels deep; at most {MAX_CONF_DEPTH} (the Airflow API answers a "
                    "conf nested some hundreds of levels deep with HTTP 500 and no detail)")
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


def local_password(username: str) -> str | None:
    """The password `airflow standalone` / scripts/stack.py generated, if this is that machine."""
    for home in filter(None, [os.environ.get("AIRFLOW_HOME"), LOCAL_AIRFLOW_HOME]):
        path = Path(home) / PASSWORD_FILE
        if path.is_file():
            return json.loads(path.read_text()).get(username)
    return None


def get_token(url: str, username: str, password: str | None) -> str:
    """A JWT: --password logs in, else env AIRFLOW_TOKEN is used as is, else AIRFLOW_PASSWORD or the local file."""
    if not password and os.environ.get("AIRFLOW_TOKEN"):
        return os.environ["AIRFLOW_TOKEN"]
    password = password or os.environ.get("AIRFLOW_PASSWORD") or local_password(username)
    if not password:
        raise Usage(f"no credentials: set AIRFLOW_TOKEN or AIRFLOW_PASSWORD, give --password, or put "
                    f"{PASSWORD_FILE} in $AIRFLOW_HOME")
    try:
        response = httpx.post(f"{url}/auth/token", json={"username": username, "password": password}, timeout=30)
    except httpx.HTTPError as exc:
        raise Usage(f"cannot reach Airflow at {url}: {exc}") from exc
    if response.status_code >= 400:
        raise Usage(f"login as {username} refused: HTTP {response.status_code} {api_message(response.text)}")
    return response.json()["access_token"]


def api_message(body: str | None) -> str:
    try:
        detail = json.loads(body or "")["detail"]
    except (ValueError, KeyError, TypeError):
        return (body or "").strip()
    return detail if isinstance(detail, str) else json.dumps(detail)


def database_busy(exc: ApiException) -> bool:
    """Airflow's HTTP 500 for a write that found its database locked: rolled back, so safe to send again."""
    return exc.status == 500 and "Database error" in (exc.body or "")


def trigger(api: af.ApiClient, dag_id: str, conf: dict[str, Any], allow_unknown: bool,
            attempts: int = 4, pause_s: float = 2.0) -> str:
    """Unpause and trigger; sent again (up to ``attempts`` times) while Airflow answers "Database error"."""
    attempt = 1
    while True:
        try:
            return trigger_once(api, dag_id, conf, allow_unknown)
        except ApiException as exc:
            if not database_busy(exc) or attempt == attempts:
                raise Usage(f"trigger of {dag_id} refused: HTTP {exc.status} {api_message(exc.body)}") from exc
        say(f"Airflow database busy; retrying the trigger in {pause_s * attempt:.0f}s ({attempt}/{attempts - 1})")
        time.sleep(pause_s * attempt)
        attempt += 1


def trigger_once(api: af.ApiClient, dag_id: str, conf: dict[str, Any], allow_unknown: bool) -> str:
    try:
        details = af.DAGApi(api).get_dag_details(dag_id)
        unknown = sorted(set(conf) - set(details.params or {}))
        if details.params and unknown and not allow_unknown:
            raise Usage(f"conf key(s) {unknown} are not params of {dag_id} (it accepts {sorted(details.params)}); "
                        "use --allow-unknown-conf to send them anyway")
        if details.is_paused:
            af.DAGApi(api).patch_dag(dag_id, af.DAGPatchBody(is_paused=False), update_mask=["is_paused"])
            say(f"unpaused {dag_id}" + (f"; its schedule ({details.timetable_summary}) starts the latest scheduled run "
                                         "too" if details.timetable_periodic else ""))
        run = af.DagRunApi(api).trigger_dag_run(dag_id, af.TriggerDAGRunPostBody(logical_date=None, conf=conf))
    except Urllib3Error as exc:
        raise Usage(f"cannot reach Airflow: {exc}") from exc
    return run.dag_run_id


def task_instances(api: af.ApiClient, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    tis, offset = [], 0
    while True:
        page = af.TaskInstanceApi(api).get_task_instances(dag_id, run_id, limit=100, offset=offset)
        tis += [{"task_id": t.task_id, "map_index": t.map_index, "rendered_map_index": t.rendered_map_index,
                 "state": t.state.value if t.state else None} for t in page.task_instances]
        offset += len(page.task_instances)
        if not page.task_instances or offset >= (page.total_entries or 0):
            return tis


def queue_reason(api: af.ApiClient, dag_id: str, run_id: str) -> str:
    """Why a run is still queued: the DAG's running runs take all of its max_active_runs (reviews waiting?)."""
    limit = af.DAGApi(api).get_dag_details(dag_id).max_active_runs
    running = [r.dag_run_id for r in af.DagRunApi(api).get_dag_runs(dag_id, state=["running"], limit=100).dag_runs]
    if not limit or len(running) < limit:
        return "waiting for the scheduler"
    waits = {r: af.TaskInstanceApi(api).get_task_instances(dag_id, r, state=["awaiting_input"], limit=1).total_entries
             for r in running}
    return f"max_active_runs={limit} taken by " + ", ".join(r + (" (awaits review)" if waits[r] else "") for r in running)


def follow(api: af.ApiClient, dag_id: str, run_id: str, timeout: float, poll: float) -> tuple[str, str, list]:
    """Poll until the run ends, only human reviews are left, or ``timeout``.

    Returns the outcome (success, failed, awaiting_review or timeout), the run's Airflow state and its task instances.
    """
    began, last, errors = time.monotonic(), "", 0
    while True:
        try:
            state = af.DagRunApi(api).get_dag_run(dag_id, run_id).state.value
            tis = task_instances(api, dag_id, run_id)
            errors = 0
        except (ApiException, Urllib3Error) as exc:  # a restarting API server: try again a few times
            errors += 1
            if errors > 5 or getattr(exc, "status", 500) in (401, 403, 404):
                raise
            say(f"polling failed ({exc.__class__.__name__}); retrying")
            time.sleep(poll)
            continue
        mapped = [t for t in tis if t["map_index"] >= 0]
        progress = (f"run {state}: {sum(t['state'] in DONE for t in tis)}/{len(tis)} task instances done, "
                    f"mapped {sum(t['state'] in DONE for t in mapped)}/{len(mapped)}")
        waiting = [t for t in tis if t["state"] == "awaiting_input"]
        if state == "queued":
            progress = f"run queued: {queue_reason(api, dag_id, run_id)}"
        if waiting:
            progress += f", {len(waiting)} awaiting review"
        if progress != last:
            say(progress)
            last = progress
        if state in {"success", "failed"}:
            return state, state, tis
        if waiting and not any(t["state"] in ACTIVE for t in tis):
            return "awaiting_review", state, tis
        if time.monotonic() - began > timeout:
            return "timeout", state, tis
        time.sleep(poll)


def mlflow_url(mlflow: str, run_id: str | None) -> str | None:
    if not run_id:
        return None
    try:
        response = httpx.get(f"{mlflow}/api/2.0/mlflow/runs/get", params={"run_id": run_id}, timeout=10)
        return f"{mlflow}/#/experiments/{response.json()['run']['info']['experiment_id']}/runs/{run_id}"
    except (httpx.HTTPError, ValueError, KeyError):
        return None


def results(api: af.ApiClient, dag_id: str, run_id: str, task_id: str, tis: list, mlflow: str) -> list[dict]:
    """The result task's return values (one per map index), each row with its MLflow UI URL."""
    rows = []
    for ti in sorted((t for t in tis if t["task_id"] == task_id and t["state"] == "success"),
                     key=lambda t: t["map_index"]):
        try:
            entry = af.XComApi(api).get_xcom_entry(dag_id, task_id, run_id, "return_value", map_index=ti["map_index"])
        except ApiException:
            continue
        value = entry.actual_instance.value
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dag_id")
    parser.add_argument("--conf", help="the run's conf, a JSON object")
    parser.add_argument("--conf-file", help="a file with the conf as JSON ('-': stdin)")
    parser.add_argument("--url", default=os.environ.get("AIRFLOW_URL", "http://127.0.0.1:8080"),
                        help="Airflow API server (env AIRFLOW_URL, default http://127.0.0.1:8080)")
    parser.add_argument("--username", default=os.environ.get("AIRFLOW_USERNAME", "admin"))
    parser.add_argument("--password", help="else env AIRFLOW_TOKEN, AIRFLOW_PASSWORD or the generated password file")
    parser.add_argument("--mlflow-url", default=os.environ.get("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000"),
                        help="MLflow server for the run links (env MLFLOW_TRACKING_URI, default http://127.0.0.1:5000)")
    parser.add_argument("--result-task", help="task whose XCom holds the results (default: per DAG)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the run (default 1800)")
    parser.add_argument("--poll", type=float, default=5, help="seconds between polls (default 5)")
    parser.add_argument("--no-wait", action="store_true", help="trigger and return at once")
    parser.add_argument("--allow-unknown-conf", action="store_true", help="send conf keys the DAG has no param for")
    args = parser.parse_args(argv)
    url, mlflow = args.url.rstrip("/"), args.mlflow_url.rstrip("/")
    try:
        conf = parse_conf(args.conf, args.conf_file)
        config = af.Configuration(host=url, access_token=get_token(url, args.username, args.password))
        with af.ApiClient(config) as api:
            began = time.monotonic()
            run_id = trigger(api, args.dag_id, conf, args.allow_unknown_conf)
            say(f"triggered {args.dag_id} run {run_id}")
            state, airflow_state, tis = (("queued", "queued", []) if args.no_wait
                                         else follow(api, args.dag_id, run_id, args.timeout, args.poll))
            task = args.result_task or RESULT_TASKS.get(args.dag_id, "collect_results")
            summary = {
                "dag_id": args.dag_id, "dag_run_id": run_id, "state": state, "airflow_state": airflow_state,
                "duration_s": round(time.monotonic() - began, 1),
                "ui_url": f"{url}/dags/{quote(args.dag_id)}/runs/{quote(run_id, safe=':+')}",
                "failed_task_instances": [{k: t[k] for k in ("task_id", "map_index", "rendered_map_index", "state")}
                                          for t in tis if t["state"] in {"failed", "upstream_failed"}],
                "awaiting_review": [{k: t[k] for k in ("task_id", "map_index", "rendered_map_index")}
                                    for t in tis if t["state"] == "awaiting_input"],
                "result_task": task,
                "results": results(api, args.dag_id, run_id, task, tis, mlflow) if tis else [],
            }
            if summary["awaiting_review"]:
                summary["required_actions_url"] = f"{url}/required_actions?response_received=false"
    except Usage as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ApiException, Urllib3Error) as exc:
        print(f"error: lost the Airflow API while following the run: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2, default=str))
    return {"success": 0, "queued": 0, "awaiting_review": 3}.get(state, 1)


if __name__ == "__main__":
    sys.exit(main())
