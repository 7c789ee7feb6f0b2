import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from crews.results import record_review, upsert_results
from tests.conftest import ROOT
from tests.support.plugins import plugin_module

FC_RUN, QA_RUN, CQ_RUN = ("manual__2026-11-22T02:00:00+00:00", "scheduled__2026-11-23T00:00:00+00:00",
                          "manual__3")
HOSTILE_ITEM = "<script>alert('item')</script>"
HOSTILE_CORRECTION = "<script>alert('fix')</script> The launch moved to May."
READABLE = {"fact_check_copy", "data_quality_qa", "contract_qa"}
MLFLOW_UI = "http://mlflow.example:5000"



def _row(crew, item_id, summary, mlflow_run_id=None):
    return {"crew": crew, "item_id": item_id, "summary": summary, "result": {},
            "mlflow_run_id": mlflow_run_id}


@pytest.fixture
def results_db(tmp_path, monkeypatch):
    """Four stored results (written oldest first); one in a DAG the test user may not read."""
    monkeypatch.setenv("CREWS_RESULTS_URL", f"sqlite:///{tmp_path / 'results.db'}")
    monkeypatch.setenv("CREWS_MLFLOW_UI_URL", MLFLOW_UI)
    upsert_results([_row("fact_check", "hidden_item", {"status": "draft ok", "passed": True})],
                   "secret_dag", "r0")
    upsert_results([_row("contract_qa", "c1__q1", {"status": "answered", "passed": True, "confidence": 0.9,
                                                   "citations": ["c1:2"], "grounded": True}, "run-cq")],
                   "contract_qa", CQ_RUN)
    upsert_results([_row("data_qa", "customers", {"status": "failed", "passed": False, "rows": 120,
                                                  "errors": 2, "warnings": 1, "needs_review": False})
                    | {"task": {"task_id": "check_dataset", "map_index": 3},
                       "usage": {"llm_calls": 2, "total_tokens": 1234, "cost_usd": 0.0}}],
                   "data_quality_qa", QA_RUN)
    upsert_results([_row("fact_check", HOSTILE_ITEM, {"status": "needs changes", "passed": False, "claims": 7,
                                                      "supported": 2, "contradicted": 4, "unverifiable": 1,
                                                      "draft_ok": False}, "run-fc")],
                   "fact_check_copy", FC_RUN)
    record_review("fact_check", "fact_check_copy", FC_RUN, HOSTILE_ITEM,
                  {"chosen": ["Accept"], "correction": HOSTILE_CORRECTION, "responded_by": "alice"})


@pytest.fixture
def module():
    module = plugin_module("crew_results_page")
    yield module
    module.app.dependency_overrides.clear()


@pytest.fixture
def client(module, results_db):
    """Signed in (auth overridden) as a user who may read the three crew DAGs."""
    module.app.dependency_overrides[module.airflow_user] = lambda: "alice"
    module.app.dependency_overrides[module.readable_dag_ids] = lambda: set(READABLE)
    return TestClient(module.app)


def _items(client, **params):
    response = client.get("/api/results", params=params)
    assert response.status_code == 200, response.text
    return [row["item_id"] for row in response.json()["rows"]]


def test_rows_newest_first_with_counts_review_and_links(client):
    rows = client.get("/api/results").json()["rows"]
    assert [r["item_id"] for r in rows] == [HOSTILE_ITEM, "customers", "c1__q1"]
    fc, qa, cq = rows
    assert fc["status"] == "accepted" and fc["passed"] is True  # the review decided
    assert fc["counts"] == {"claims": 7, "supported": 2, "contradicted": 4, "unverifiable": 1}
    assert fc["review"]["chosen"] == ["Accept"] and fc["review"]["responded_by"] == "alice"
    assert fc["review"]["correction"] == HOSTILE_CORRECTION
    assert fc["mlflow_url"] == f"{MLFLOW_UI}/#/runs/run-fc"
    run = "manual__2026-11-22T02%3A00%3A00%2B00%3A00"
    assert fc["task_url"] == f"/dags/fact_check_copy/runs/{run}/tasks/check_draft/mapped"
    assert qa["counts"] == {"rows": 120, "errors": 2, "warnings": 1} and qa["review"] is None
    assert qa["mlflow_url"] is None and qa["task_url"].endswith("/tasks/check_dataset/mapped/3")  # as stored
    assert qa["total_tokens"] == 1234 and qa["cost_usd"] == 0
    assert cq["counts"] == {"confidence": 0.9} and cq["task_url"].endswith("/tasks/answer_question/mapped")
    assert fc["total_tokens"] is None and fc["cost_usd"] is None  # a row stored without its usage


def test_page_shows_verdicts_review_and_links(client):
    response = client.get("/")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    page = response.text
    assert "claims 7, supported 2, contradicted 4, unverifiable 1" in page
    assert "rows 120, errors 2, warnings 1" in page and "confidence 0.9" in page
    assert ("Accept by alice" in page
            and "correction: &lt;script&gt;alert(&#x27;fix&#x27;)&lt;/script&gt;" in page)
    assert (f'<a href="{MLFLOW_UI}/#/runs/run-fc" target="_blank" rel="noopener noreferrer">MLflow run</a>'
            in page)
    assert ('<a href="/dags/data_quality_qa/runs/scheduled__2026-11-23T00%3A00%3A00%2B00%3A00/tasks/'
            'check_dataset/mapped/3" target="_top">task</a>') in page
    assert page.count("<tr>") == 1 + 3  # header and the three readable rows


def test_hostile_item_id_and_correction_are_escaped(client):
    page = client.get("/").text
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;item&#x27;)&lt;/script&gt;" in page
    assert len(re.findall(r"<script>", page)) == 1  # the page's own link handler only


def test_long_correction_is_cut(client, results_db):
    long = "word " * 100
    record_review("fact_check", "fact_check_copy", FC_RUN, HOSTILE_ITEM,
                  {"chosen": ["Reject"], "correction": long, "responded_by": None})
    page = client.get("/", params={"status": "rejected"}).text
    assert "Reject<br>" in page and f"correction: {long[:160]}…</span>" in page
    assert f'title="{long}"' in page  # the whole text on hover


def test_filters(client):
    assert _items(client, crew="data_qa") == ["customers"]
    assert _items(client, status="accepted") == [HOSTILE_ITEM]
    assert _items(client, dag_id="contract_qa") == ["c1__q1"]
    assert _items(client, dag_run_id=QA_RUN) == ["customers"]
    assert _items(client, crew="fact_check", status="failed") == []
    # the empty form
    assert _items(client, crew="", status="", dag_id="", dag_run_id="", limit="") == [HOSTILE_ITEM,
                                                                                        "customers", "c1__q1"]
    assert _items(client, limit=2) == [HOSTILE_ITEM, "customers"]
    page = client.get("/", params={"crew": "data_qa", "limit": 1}).text
    assert '<option value="data_qa" selected>' in page and "customers" in page and "c1__q1" not in page
    assert "the newest 1; raise the limit" in page


def test_rows_of_dags_the_user_may_not_read_are_hidden(client, module):
    assert "hidden_item" not in client.get("/api/results").text
    assert _items(client, dag_id="secret_dag") == []
    module.app.dependency_overrides[module.readable_dag_ids] = lambda: {"data_quality_qa", "secret_dag"}
    assert _items(client) == ["customers", "hidden_item"]


@pytest.mark.parametrize(("params", "message"), [
    ({"crew": "nope"}, "unknown crew 'nope'; known crews: contract_qa, data_qa, fact_check"),
    ({"status": "bogus"}, "unknown status 'bogus'"),
    ({"dag_id": "d" * 251}, "dag_id has 251 characters; at most 250 are allowed"),
    ({"dag_run_id": "r" * 5000}, "dag_run_id has 5,000 characters"),
    ({"limit": 0}, "limit must be a whole number from 1 to 1000"),
    ({"limit": 1001}, "limit must be a whole number from 1 to 1000"),
    ({"limit": "ten"}, "limit must be a whole number"),
    ({"crews": "fact_check"}, "unknown query parameter(s) crews"),
    ([("crew", "fact_check"), ("crew", "data_qa")], "given more than once: crew"),
])
def test_bad_filters_answer_400(client, params, message):
    response = client.get("/api/results", params=params)
    assert response.status_code == 400 and message in response.json()["detail"]
    page = client.get("/", params=params)
    assert page.status_code == 400 and 'class="error"' in page.text and "<tbody>" not in page.text


def test_error_message_is_escaped(client):
    page = client.get("/", params={"crew": "<img src=x onerror=alert(1)>"})
    assert page.status_code == 400 and "<img" not in page.text and "&lt;img src=x" in page.text


def test_a_stored_status_outside_the_known_ones_is_a_valid_filter(client):
    upsert_results([_row("data_qa", "orders", {"status": "partly checked", "passed": False})],
                   "data_quality_qa", "r9")
    assert _items(client, status="partly checked") == ["orders"]
    assert '<option value="partly checked">' in client.get("/").text


def test_usage_in_a_summary_is_shown(client):
    upsert_results([_row("data_qa", "orders", {"status": "passed", "passed": True, "rows": 3,
                                               "usage": {"total_tokens": 12345, "cost_usd": 0.012}})],
                   "data_quality_qa", "r9")
    row = client.get("/api/results", params={"dag_run_id": "r9"}).json()["rows"][0]
    assert (row["total_tokens"], row["cost_usd"], row["counts"]) == (12345, 0.012, {"rows": 3})
    page = client.get("/", params={"dag_run_id": "r9"}).text
    assert '<span class="num">12,345</span>' in page and '<span class="num">$0.0120</span>' in page


@pytest.mark.parametrize("path", ["/", "/api/results", "/api/results?crew=fact_check"])
def test_unauthenticated_requests_get_no_data(module, results_db, path):
    response = TestClient(module.app).get(path)
    assert response.status_code == 401 and response.json() == {"detail": "Not authenticated"}
    assert "customers" not in response.text


@pytest.fixture
def auth_manager(monkeypatch):
    """Airflow's configured auth manager (SimpleAuthManager), as the API server sets it up."""
    from airflow.api_fastapi import app as airflow_app
    from airflow.api_fastapi.auth.managers import base_auth_manager

    monkeypatch.setattr(airflow_app._AuthManagerState, "instance", None)
    # no Airflow DB
    monkeypatch.setattr(base_auth_manager.RevokedToken, "is_revoked", lambda *args, **kwargs: False)
    return airflow_app.create_auth_manager()


def test_forged_or_expired_ui_cookies_are_refused(module, results_db, auth_manager):
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    client = TestClient(module.app)
    forged = client.get("/api/results", cookies={"_token": "forged"})
    assert forged.status_code == 403 and "customers" not in forged.text
    expired = auth_manager.generate_jwt(SimpleAuthManagerUser(username="alice", role="viewer"),
                                        expiration_time_in_seconds=-60)
    assert client.get("/", cookies={"_token": expired}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer forged"}).status_code == 403


def test_the_signed_in_ui_cookie_shows_the_users_readable_dags(module, results_db, auth_manager, monkeypatch):
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    asked = []

    def authorized(*, user, method):
        asked.append((user.get_name(), method))
        return {"data_quality_qa"}

    monkeypatch.setattr(auth_manager, "get_authorized_dag_ids", authorized)
    token = auth_manager.generate_jwt(SimpleAuthManagerUser(username="alice", role="viewer"))
    response = TestClient(module.app).get("/api/results", cookies={"_token": token})
    assert response.status_code == 200 and [r["item_id"] for r in response.json()["rows"]] == ["customers"]
    assert asked == [("alice", "GET")]


@pytest.fixture
def airflow_plugins(monkeypatch):
    """Airflow's plugins manager loading this project's plugins folder."""
    from airflow import plugins_manager

    caches = (plugins_manager._get_plugins, plugins_manager.get_fastapi_plugins,
              plugins_manager._get_ui_plugins, plugins_manager._get_extra_operators_links_plugins,
              plugins_manager.get_flask_plugins)
    monkeypatch.setattr(plugins_manager.settings, "PLUGINS_FOLDER", str(ROOT / "plugins"))
    for cached in caches:
        cached.cache_clear()
    yield plugins_manager
    for cached in caches:
        cached.cache_clear()


def test_airflow_loads_the_app_and_the_ui_views(airflow_plugins, results_db):
    from airflow.api_fastapi.app import init_plugins
    from airflow.api_fastapi.core_api.datamodels.plugins import PluginResponse

    apps, _ = airflow_plugins.get_fastapi_plugins()
    assert [(a["url_prefix"], a["name"]) for a in apps if a["url_prefix"] == "/crew-results"] == [
        ("/crew-results", "Crew results")]
    views, _ = airflow_plugins._get_ui_plugins()
    ours = {v["url_route"]: (v["destination"], v["href"]) for v in views
            if v["url_route"].startswith("crew-results")}
    assert ours == {"crew-results": ("nav", "/crew-results/"),
                    "crew-results-dag": ("dag", "/crew-results/?dag_id={DAG_ID}"),
                    "crew-results-dag-run": ("dag_run", "/crew-results/?dag_id={DAG_ID}&dag_run_id={RUN_ID}")}
    info = next(p for p in airflow_plugins.get_plugin_info() if p["name"] == "crews_results_page")
    plugin = PluginResponse.model_validate(info)  # what GET /api/v2/plugins serves the UI
    assert [v.name for v in plugin.external_views] == ["Crew results"] * 3
    assert plugin.external_views[0].nav_top_level is True

    server = FastAPI()
    init_plugins(server)  # as the API server mounts plugin apps
    for path in ("/crew-results/", "/crew-results/api/results"):
        response = TestClient(server).get(path)
        assert response.status_code == 401 and "customers" not in response.text
