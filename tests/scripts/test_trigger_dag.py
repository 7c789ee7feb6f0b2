"""scripts/trigger_dag.py against a small fake Airflow + MLflow HTTP server (the real apache-airflow-client
and httpx on the wire; only the server is fake). The e2e tests in tests/e2e/test_trigger_dag_script.py
drive the real stack."""

from __future__ import annotations

import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import trigger_dag  # noqa: E402

PASSWORD, TOKEN = "s3cret-pw", "jwt-token-value"
NOW = "2026-11-22T00:00:00Z"


def dag_details(dag_id: str, params: dict, is_paused: bool) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "catchup": False, "concurrency": 16, "file_token": "t",
            "fileloc": f"/dags/{dag_id}.py", "has_import_errors": False, "has_task_concurrency_limits": False,
            "is_backfillable": False, "is_paused": is_paused, "is_stale": False, "max_active_tasks": 16,
            "max_consecutive_failed_dag_runs": 0, "owners": ["crews"], "render_template_as_native_obj": False,
            "tags": [], "timetable_partitioned": False, "timetable_periodic": False,
            "params": {name: {"value": [], "schema": {}, "description": None} for name in params}}


def dag_run(dag_id: str, state: str) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "dag_run_id": "manual__1", "dag_versions": [],
            "run_after": NOW, "run_type": "manual", "state": state, "conf": {}}


def task_instance(dag_id: str, task_id: str, map_index: int, state: str | None, n: int) -> dict:
    return {"dag_id": dag_id, "dag_display_name": dag_id, "dag_run_id": "manual__1", "executor_config": "{}",
            "id": f"00000000-0000-0000-0000-{n:012d}", "map_index": map_index, "max_tries": 2, "pool": "default_pool",
            "pool_slots": 1, "run_after": NOW, "task_display_name": task_id, "task_id": task_id, "try_number": 1,
            "state": state, "rendered_map_index": f"item{map_index}" if map_index >= 0 else None}


class Fake:
    """What the fake server answers; ``polls`` is a list of (run state, [(task_id, map_index, state)]) played in order."""

    def __init__(self, dag_id: str = "fact_check_copy", params=("drafts",), is_paused: bool = True,
                 polls=None, xcoms=None, mlflow_runs=None, trigger_error: tuple[int, dict] | None = None,
                 max_active_runs: int = 2, other_runs: dict[str, list] | None = None, schedule: str | None = None,
                 busy_triggers: int = 0) -> None:
        self.schedule = schedule
        self.busy_triggers = busy_triggers  # the first N trigger POSTs find the database locked
        self.dag_id, self.params, self.is_paused, self.max_active_runs = dag_id, params, is_paused, max_active_runs
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
                         "run_after": NOW, "run_id": "manual__1", "task_display_name": key[0], "task_id": key[0],
                         "timestamp": NOW, "value": self.xcoms[key]}
        return 404, {"detail": f"no fake route for {method} {path}"}


@pytest.fixture
def server():
    """Start a fake server for a ``Fake``; returns its base URL."""
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

    yield start
    for httpd in servers:
        httpd.shutdown()


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch, tmp_path):
    for name in ("AIRFLOW_TOKEN", "AIRFLOW_PASSWORD", "AIRFLOW_USERNAME", "AIRFLOW_URL", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "no_airflow_home"))
    monkeypatch.setattr(trigger_dag, "LOCAL_AIRFLOW_HOME", tmp_path / "no_stack")


def run(url: str, *args: str, password: str | None = PASSWORD) -> list[str]:
    argv = [*args, "--url", url, "--mlflow-url", url, "--poll", "0.01"]
    return argv + (["--password", password] if password else [])


def summary_of(capsys) -> tuple[dict, str]:
    out, err = capsys.readouterr()
    assert PASSWORD not in out + err and TOKEN not in out + err
    return json.loads(out), err


# --- argument and conf parsing --------------------------------------------------------


@pytest.mark.parametrize(("args", "message"), [
    (["--conf", '{"drafts": [}'], "--conf is not valid JSON"),
    (["--conf", '["not", "an", "object"]'], "--conf must be a JSON object, got list"),
    (["--conf", "{}", "--conf-file", "x.json"], "give --conf or --conf-file, not both"),
    (["--conf-file", "/nonexistent/conf.json"], "cannot read --conf-file /nonexistent/conf.json"),
    (["--conf", '{"x": ' + "[" * 300 + "]" * 300 + "}"], "--conf is nested 301 levels deep; at most 32"),
    (["--conf", '{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"], "--conf is nested too deeply to read"),
])
def test_bad_conf_exits_2_before_any_request(args, message, capsys):
    assert trigger_dag.main(["fact_check_copy", *args, "--url", "http://127.0.0.1:9"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err


def test_conf_file_and_stdin(tmp_path, monkeypatch):
    path = tmp_path / "conf.json"
    path.write_text('{"drafts": [{"draft_id": "a", "copy_text": "x"}]}')
    assert trigger_dag.parse_conf(None, str(path)) == {"drafts": [{"draft_id": "a", "copy_text": "x"}]}
    monkeypatch.setattr(sys, "stdin", __import__("io").StringIO('{"limit": 1}'))
    assert trigger_dag.parse_conf(None, "-") == {"limit": 1}
    assert trigger_dag.parse_conf(None, None) == {}


def test_the_deepest_crew_declaration_is_well_within_the_depth_bound():
    sheet = {"product": "P", "facts": [{"id": "w", "value": {"min": 1, "max": 2}, "aliases": ["weight"]}]}
    conf = {"drafts": [{"draft_id": "d", "fact_sheet": sheet}]}
    assert trigger_dag.nesting(conf) == 7 < trigger_dag.MAX_CONF_DEPTH
    assert trigger_dag.nesting({}) == 1 and trigger_dag.nesting(3) == 0


def test_no_credentials_exits_2(capsys):
    assert trigger_dag.main(["fact_check_copy", "--url", "http://127.0.0.1:9"]) == 2
    assert "no credentials" in capsys.readouterr().err


def test_unreachable_airflow_exits_2(capsys):
    assert trigger_dag.main(["fact_check_copy", "--url", "http://127.0.0.1:9", "--password", PASSWORD]) == 2
    assert "cannot reach Airflow at http://127.0.0.1:9" in capsys.readouterr().err


# --- against the fake server -------------------------------------------------------------


def test_wrong_password_exits_2_without_echoing_it(server, capsys):
    url = server(Fake())
    assert trigger_dag.main(run(url, "fact_check_copy", password="wrong-pw")) == 2
    err = capsys.readouterr().err
    assert "login as admin refused: HTTP 401 Invalid credentials" in err and "wrong-pw" not in err


def test_refused_trigger_exits_2_with_the_api_message(server, capsys):
    message = "Invalid input for param drafts: {'draft_id': 'x'} is not valid under any of the given schemas"
    fake = Fake(trigger_error=(400, {"detail": message}))
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy", "--conf", '{"drafts": [{"draft_id": "x"}]}')) == 2
    out, err = capsys.readouterr()
    assert out == "" and f"trigger of fact_check_copy refused: HTTP 400 {message}" in err
    assert TOKEN not in err and PASSWORD not in err
    assert triggers_sent(fake)[0]["body"] == {"logical_date": None, "conf": {"drafts": [{"draft_id": "x"}]}}


def triggers_sent(fake: Fake) -> list[dict]:
    return [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith("/dagRuns")]


def test_trigger_is_sent_again_while_the_airflow_database_is_locked(server, capsys, monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    fake = Fake(busy_triggers=2)
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy", "--conf", '{"drafts": []}')) == 0
    summary, err = summary_of(capsys)
    assert summary["state"] == "success" and err.count("Airflow database busy") == 2
    sent = triggers_sent(fake)
    assert len(sent) == 3 and all(r["body"] == {"logical_date": None, "conf": {"drafts": []}} for r in sent)


def test_a_database_that_stays_locked_exits_2_after_the_last_attempt(server, capsys, monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    fake = Fake(busy_triggers=10)
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 2
    assert "trigger of fact_check_copy refused: HTTP 500" in capsys.readouterr().err
    assert len(triggers_sent(fake)) == 4


def test_other_server_errors_are_not_sent_again(server, capsys, monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    fake = Fake(trigger_error=(500, {"detail": "Internal Server Error"}))
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 2
    assert len(triggers_sent(fake)) == 1


def test_unknown_dag_exits_2(server, capsys):
    url = server(Fake())
    assert trigger_dag.main(run(url, "no_such_dag")) == 2
    assert "HTTP 404 The Dag with ID: `no_such_dag` was not found" in capsys.readouterr().err


def test_conf_key_without_a_param_is_refused_before_triggering(server, capsys):
    fake = Fake()
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy", "--conf", '{"draftz": []}')) == 2
    assert "conf key(s) ['draftz'] are not params of fact_check_copy (it accepts ['drafts'])" in capsys.readouterr().err
    assert not [r for r in fake.requests if r["method"] == "POST" and "dagRuns" in r["path"]]


def test_successful_run_unpauses_triggers_follows_and_summarises(server, capsys):
    rows = [{"item_id": "promo_1", "status": "draft ok", "draft_ok": True, "mlflow_run_id": "r1",
             "mlflow_experiment": "crews/fact_check"},
            {"item_id": "promo_2", "status": "draft ok", "draft_ok": True, "mlflow_run_id": None,
             "mlflow_experiment": "crews/fact_check"}]
    fake = Fake(
        polls=[("queued", []),
               ("running", [("list_drafts", -1, "success"), ("check_draft", 0, "running"), ("check_draft", 1, None)]),
               ("success", [("list_drafts", -1, "success"), ("check_draft", 0, "success"),
                            ("check_draft", 1, "success"), ("collect_results", -1, "success")])],
        xcoms={("collect_results", -1): rows}, mlflow_runs={"r1": "7"})
    url = server(fake)
    conf = '{"drafts": [{"draft_id": "promo_1", "copy_text": "Up to 30 hours."}]}'
    assert trigger_dag.main(run(url, "fact_check_copy", "--conf", conf)) == 0
    summary, err = summary_of(capsys)
    assert summary["state"] == "success" and summary["dag_run_id"] == "manual__1"
    assert summary["ui_url"] == f"{url}/dags/fact_check_copy/runs/manual__1"
    assert summary["failed_task_instances"] == [] and summary["awaiting_review"] == []
    assert [r["item_id"] for r in summary["results"]] == ["promo_1", "promo_2"]
    assert summary["results"][0]["mlflow_url"] == f"{url}/#/experiments/7/runs/r1"
    assert summary["results"][1]["mlflow_url"] is None  # tracking record spooled: no run yet
    assert "unpaused fact_check_copy" in err
    assert "run running: 1/3 task instances done, mapped 0/2" in err
    assert "run success: 4/4 task instances done, mapped 2/2" in err
    assert fake.is_paused is False
    patch = next(r for r in fake.requests if r["method"] == "PATCH")
    assert patch["body"] == {"is_paused": False} and patch["query"] == {"update_mask": "is_paused"}
    assert {r["auth"] for r in fake.requests if r["path"].startswith("/api/v2")} == {f"Bearer {TOKEN}"}


def test_failed_run_exits_1_naming_the_failed_tasks(server, capsys):
    fake = Fake(is_paused=False, polls=[("failed", [
        ("check_draft", 0, "failed"), ("check_draft", 1, "success"), ("collect_results", -1, "success"),
        ("all_drafts_checked", -1, "failed")])], xcoms={("collect_results", -1): [{"item_id": "item1"}]})
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 1
    summary, err = summary_of(capsys)
    assert summary["state"] == "failed" and "unpaused" not in err
    assert [(t["task_id"], t["map_index"]) for t in summary["failed_task_instances"]] == [
        ("check_draft", 0), ("all_drafts_checked", -1)]
    assert summary["results"] == [{"item_id": "item1"}]


def test_run_waiting_for_human_review_exits_3_with_the_required_actions_url(server, capsys):
    fake = Fake(polls=[("running", [("collect_results", -1, "success"), ("review_copy", 0, "awaiting_input"),
                                    ("record_reviews", -1, None)])],
                xcoms={("collect_results", -1): [{"item_id": "item0", "needs_review": True}]})
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 3
    summary, _ = summary_of(capsys)
    assert summary["state"] == "awaiting_review"
    assert summary["awaiting_review"] == [{"task_id": "review_copy", "map_index": 0, "rendered_map_index": "item0"}]
    assert summary["required_actions_url"] == f"{url}/required_actions?response_received=false"


def test_mapped_result_task_of_crew_evaluation_gives_one_row_per_crew(server, capsys):
    fake = Fake(dag_id="crew_evaluation", params=("crews", "limit"), schedule="@weekly", polls=[("success", [
        ("run_record", 0, "success"), ("log_evaluation", 0, "success"), ("log_evaluation", 1, "success")])],
        xcoms={("log_evaluation", 0): {"crew": "data_qa", "mlflow_run_id": "e1"},
               ("log_evaluation", 1): {"crew": "fact_check", "mlflow_run_id": "e2"}},
        mlflow_runs={"e1": "2", "e2": "1"})
    url = server(fake)
    assert trigger_dag.main(run(url, "crew_evaluation", "--conf", '{"crews": ["data_qa"], "limit": 1}')) == 0
    summary, err = summary_of(capsys)
    assert "unpaused crew_evaluation; its schedule (@weekly) starts the latest scheduled run too" in err
    assert summary["result_task"] == "log_evaluation"
    assert [(r["crew"], r["mlflow_url"]) for r in summary["results"]] == [
        ("data_qa", f"{url}/#/experiments/2/runs/e1"), ("fact_check", f"{url}/#/experiments/1/runs/e2")]


def test_task_instances_are_read_page_by_page(server, capsys):
    fake = Fake(polls=[("success", [("check_draft", i, "success") for i in range(130)])])
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 0
    assert "run success: 130/130 task instances done, mapped 130/130" in summary_of(capsys)[1]


def test_no_wait_returns_after_the_trigger(server, capsys):
    fake = Fake(polls=[("running", [])])
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy", "--no-wait")) == 0
    summary, _ = summary_of(capsys)
    assert summary["state"] == "queued" and summary["results"] == []
    assert not [r for r in fake.requests if "taskInstances" in r["path"] or r["path"].endswith("manual__1")]


def test_timeout_exits_1(server, capsys):
    url = server(Fake(polls=[("running", [("check_draft", 0, "running")])]))
    assert trigger_dag.main(run(url, "fact_check_copy", "--timeout", "0.05")) == 1
    assert summary_of(capsys)[0]["state"] == "timeout"


def test_token_from_env_skips_the_login(server, capsys, monkeypatch):
    fake = Fake()
    url = server(fake)
    monkeypatch.setenv("AIRFLOW_TOKEN", TOKEN)
    assert trigger_dag.main(run(url, "fact_check_copy", password=None)) == 0
    summary_of(capsys)
    assert "/auth/token" not in {r["path"] for r in fake.requests}


def test_password_from_the_generated_password_file(server, capsys, monkeypatch, tmp_path):
    home = tmp_path / "airflow_home"
    home.mkdir()
    (home / "simple_auth_manager_passwords.json.generated").write_text(json.dumps({"admin": PASSWORD}))
    monkeypatch.setenv("AIRFLOW_HOME", str(home))
    url = server(Fake())
    assert trigger_dag.main(run(url, "fact_check_copy", password=None)) == 0
    summary_of(capsys)


def test_queued_run_names_the_runs_that_take_the_max_active_runs_slots(server, capsys):
    fake = Fake(polls=[("queued", []), ("queued", []), ("success", [])], max_active_runs=2,
                other_runs={"old_a": [("review_copy", 0, "awaiting_input")], "old_b": [("check_draft", 0, "running")]})
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 0
    err = summary_of(capsys)[1]
    assert "run queued: max_active_runs=2 taken by old_a (awaits review), old_b" in err
    assert "unpaused fact_check_copy" in err and "schedule" not in err  # timetable_periodic False: no note
