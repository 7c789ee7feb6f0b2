"""A small fake Airflow + MLflow HTTP server for the REST client of scripts/trigger_dag.py (used by
scripts/stack.py too): real httpx on the wire, only the server is fake."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PASSWORD, TOKEN = "s3cret-pw", "jwt-token-value"
NOW = "2026-11-22T00:00:00Z"


def dag_details(dag_id: str, params: dict, is_paused: bool) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "catchup": False, "concurrency": 16,
            "file_token": "t", "fileloc": f"/dags/{dag_id}.py", "has_import_errors": False,
            "has_task_concurrency_limits": False, "is_backfillable": False, "is_paused": is_paused,
            "is_stale": False, "max_active_tasks": 16, "max_consecutive_failed_dag_runs": 0,
            "owners": ["crews"],
            "render_template_as_native_obj": False, "tags": [], "timetable_partitioned": False,
            "timetable_periodic": False,
            "params": {name: {"value": [], "schema": {}, "description": None} for name in params}}


def dag_run(dag_id: str, state: str) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "dag_run_id": "manual__1", "dag_versions": [],
            "run_after": NOW, "run_type": "manual", "state": state, "conf": {}}


def task_instance(dag_id: str, task_id: str, map_index: int, state: str | None, n: int) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "dag_run_id": "manual__1", "executor_config": "{}",
            "id": f"00000000-0000-0000-0000-{n:012d}", "map_index": map_index, "max_tries": 2,
            "pool": "default_pool", "pool_slots": 1, "run_after": NOW, "task_display_name": task_id,
            "task_id": task_id, "try_number": 1, "state": state,
            "rendered_map_index": f"item{map_index}" if map_index >= 0 else None}


class Fake:
    """What the fake server answers; ``polls``: (run state, [(task_id, map_index, state)]) played in order."""

    def __init__(self, dag_id: str = "fact_check_copy", params=("drafts",), is_paused: bool = True,
                 polls=None, xcoms=None, mlflow_runs=None, trigger_error: tuple[int, dict] | None = None,
                 max_active_runs: int = 2, other_runs: dict[str, list] | None = None,
                 schedule: str | None = None, busy_triggers: int = 0) -> None:
        self.schedule = schedule
        self.busy_triggers = busy_triggers  # the first N trigger POSTs find the database locked
        self.dag_id, self.params, self.is_paused = dag_id, params, is_paused
        self.max_active_runs = max_active_runs
        self.other_runs = other_runs or {}  # running runs (besides manual__1) -> their task instances
        self.polls = list(polls or [("success", [("collect_results", -1, "success")])])
        self.xcoms = xcoms or {}
        self.mlflow_runs = mlflow_runs or {}
        self.trigger_error = trigger_error
        self.requests: list[dict[str, Any]] = []
        self.poll = 0

    def answer(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        dag = self.dag_id
        if (method, path) == ("POST", "/auth/token"):
            if body != {"username": "admin", "password": PASSWORD}:
                return 401, {"detail": "Invalid credentials"}
            return 201, {"access_token": TOKEN}
        if path == "/api/2.0/mlflow/runs/get":
            run_id = query["run_id"]
            if run_id not in self.mlflow_runs:
                return 404, {"error_code": "RESOURCE_DOES_NOT_EXIST"}
            return 200, {"run": {"info": {"run_id": run_id, "experiment_id": self.mlflow_runs[run_id]}}}
        if not re.fullmatch(rf"/api/v2/dags/{dag}(/.*)?", path):
            return 404, {"detail": f"The Dag with ID: `{path.split('/')[4]}` was not found"}
        tail = path.removeprefix(f"/api/v2/dags/{dag}")
        if (method, tail) == ("GET", "/details"):
            return 200, dag_details(dag, self.params, self.is_paused) | {
                "max_active_runs": self.max_active_runs, "timetable_summary": self.schedule,
                "timetable_periodic": self.schedule is not None}
        if (method, tail) == ("GET", "/dagRuns"):
            assert query.get("state") == "running"
            return 200, {"dag_runs": [dag_run(dag, "running") | {"dag_run_id": r} for r in self.other_runs],
                         "total_entries": len(self.other_runs)}
        match = re.fullmatch(r"/dagRuns/(\w+)/taskInstances", tail)
        if method == "GET" and match and match[1] in self.other_runs:
            tis = [task_instance(dag, t, m, s, n) for n, (t, m, s) in enumerate(self.other_runs[match[1]])]
            tis = [t for t in tis if t["state"] == query.get("state", t["state"])]
            return 200, {"task_instances": tis[:1], "total_entries": len(tis)}
        if (method, tail) == ("GET", ""):
            return 200, dag_details(dag, self.params, self.is_paused)
        if (method, tail) == ("PATCH", ""):
            self.is_paused = body["is_paused"]
            return 200, dag_details(dag, self.params, self.is_paused)
        if (method, tail) == ("POST", "/dagRuns"):
            if self.busy_triggers:
                self.busy_triggers -= 1
                return 500, {"detail": {"reason": "Database error", "statement": "INSERT INTO dag_run ..."}}
            return self.trigger_error or (200, dag_run(dag, "queued"))
        if (method, tail) == ("GET", "/dagRuns/manual__1"):
            self.poll = min(self.poll + 1, len(self.polls))
            return 200, dag_run(dag, self.polls[self.poll - 1][0])
        if (method, tail) == ("GET", "/dagRuns/manual__1/taskInstances"):
            tis = [task_instance(dag, t, m, s, n) for n, (t, m, s) in enumerate(self.polls[self.poll - 1][1])]
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 50))
            return 200, {"task_instances": tis[offset: offset + limit], "total_entries": len(tis)}
        match = re.fullmatch(r"/dagRuns/manual__1/taskInstances/(\w+)/xcomEntries/return_value", tail)
        if method == "GET" and match:
            key = (match[1], int(query.get("map_index", -1)))
            if key not in self.xcoms:
                return 404, {"detail": "XCom entry not found"}
            return 200, {"dag_id": dag, "dag_display_name": dag, "key": "return_value", "map_index": key[1],
                         "run_after": NOW, "run_id": "manual__1", "task_display_name": key[0],
                         "task_id": key[0], "timestamp": NOW, "value": self.xcoms[key]}
        return 404, {"detail": f"no fake route for {method} {path}"}


@contextmanager
def serving() -> Iterator[Callable[[Fake], str]]:
    """``start(fake)`` serves a ``Fake`` and returns its base URL; every server stops on exit."""
    servers = []

    def start(fake: Fake) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self) -> None:
                path, _, qs = self.path.partition("?")
                query = dict(p.split("=", 1) for p in qs.split("&") if "=" in p)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length)) if length else None
                fake.requests.append({"method": self.command, "path": path, "query": query, "body": body,
                                      "auth": self.headers.get("Authorization")})
                status, answer = fake.answer(self.command, path, query, body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = handle_one

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    try:
        yield start
    finally:
        for httpd in servers:
            httpd.shutdown()
