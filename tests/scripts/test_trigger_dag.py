"""scripts/trigger_dag.py, the one Airflow REST client (scripts/stack.py uses it too), against a small fake
Airflow + MLflow HTTP server (tests/scripts/fake_airflow.py: real httpx on the wire, only the server is fake).
The e2e tests in tests/e2e/test_trigger_dag_script.py drive the real stack."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from tests.scripts.fake_airflow import PASSWORD, TOKEN, Fake

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import trigger_dag  # noqa: E402


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch, tmp_path):
    for name in ("AIRFLOW_TOKEN", "AIRFLOW_PASSWORD", "AIRFLOW_USERNAME", "AIRFLOW_URL",
                 "MLFLOW_TRACKING_URI"):
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
    err = capsys.readouterr().err
    assert "conf key(s) ['draftz'] are not params of fact_check_copy (it accepts ['drafts'])" in err
    assert not [r for r in fake.requests if r["method"] == "POST" and "dagRuns" in r["path"]]


def test_successful_run_unpauses_triggers_follows_and_summarises(server, capsys):
    rows = [{"item_id": "promo_1", "status": "draft ok", "draft_ok": True, "mlflow_run_id": "r1",
             "mlflow_experiment": "crews/fact_check"},
            {"item_id": "promo_2", "status": "draft ok", "draft_ok": True, "mlflow_run_id": None,
             "mlflow_experiment": "crews/fact_check"}]
    fake = Fake(
        polls=[("queued", []),
               ("running", [("list_drafts", -1, "success"), ("check_draft", 0, "running"),
                            ("check_draft", 1, None)]),
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
    assert summary["awaiting_review"] == [
        {"task_id": "review_copy", "map_index": 0, "rendered_map_index": "item0"}]
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
                other_runs={"old_a": [("review_copy", 0, "awaiting_input")],
                            "old_b": [("check_draft", 0, "running")]})
    url = server(fake)
    assert trigger_dag.main(run(url, "fact_check_copy")) == 0
    err = summary_of(capsys)[1]
    assert "run queued: max_active_runs=2 taken by old_a (awaits review), old_b" in err
    assert "unpaused fact_check_copy" in err and "schedule" not in err  # timetable_periodic False: no note


# --- the transport and review helpers (scripts/stack.py's trigger path uses them as well) -----


@pytest.mark.parametrize(("states", "waiting"), [
    (["success", "awaiting_input", None], True),             # only the review (and what follows it) is left
    (["success", "awaiting_input", "running"], False),       # another item is still being checked
    (["success", "awaiting_input", "up_for_retry"], False),  # a retry will still run
    (["success", "success"], False),                         # nothing waits for a person
])
def test_waiting_only_for_review(states, waiting):
    assert trigger_dag.waiting_only_for_review([{"state": s} for s in states]) is waiting


def mock_client(handler, **retry) -> httpx.Client:
    transport = trigger_dag.RetryDatabaseErrors(httpx.MockTransport(handler), **retry)
    return httpx.Client(base_url="http://airflow", transport=transport)


def test_rest_calls_are_sent_again_while_the_airflow_database_is_locked(monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    answers = iter([httpx.Response(500, json={"detail": {"reason": "Database error"}})] * 2
                   + [httpx.Response(201, json={"name": "llm_pool"})])
    sent = []

    def handler(request):
        sent.append(request.content)
        return next(answers)

    response = mock_client(handler).post("/api/v2/pools", json={"name": "llm_pool", "slots": 1})
    assert response.status_code == 201
    assert len(sent) == 3 and len(set(sent)) == 1  # the same body each time


@pytest.mark.parametrize(("status", "body"), [
    (500, {"detail": "Internal Server Error"}),  # a real server fault: no retry
    (400, {"detail": "Database error"}),          # a refusal, whatever it says
])
def test_other_errors_are_not_retried(monkeypatch, status, body):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(status, json=body)

    assert mock_client(handler).post("/api/v2/pools", json={}).status_code == status
    assert len(sent) == 1


def test_a_database_that_stays_locked_returns_the_error_after_the_last_attempt(monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    sent = []

    def handler(request):
        sent.append(request)
        return httpx.Response(500, json={"detail": {"reason": "Database error"}})

    assert mock_client(handler, attempts=3).get("/api/v2/pools").status_code == 500
    assert len(sent) == 3


def test_polling_survives_a_restarting_api_server(monkeypatch):
    monkeypatch.setattr(trigger_dag.time, "sleep", lambda s: None)
    answers = iter([httpx.Response(503), httpx.Response(200, json={"dag_run_id": "r", "state": "success"}),
                    httpx.Response(200, json={"task_instances": [], "total_entries": 0})])
    run, tis = trigger_dag.poll_run(mock_client(lambda request: next(answers)), "d", "r", 0)
    assert run["state"] == "success" and tis == []
    gone = mock_client(lambda request: httpx.Response(404, json={"detail": "not found"}))
    with pytest.raises(httpx.HTTPStatusError):
        trigger_dag.poll_run(gone, "d", "r", 0)
