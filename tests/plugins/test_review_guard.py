"""A review's correction that cannot be stored is refused before Airflow stores the decision."""


import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from crews.review import MAX_CORRECTION_CHARS
from tests.conftest import ROOT
from tests.support.plugins import plugin_module

PATH = "/api/v2/dags/fact_check_copy/dagRuns/manual__1/taskInstances/review_copy/0/hitlDetails"



@pytest.fixture
def client():
    """An app standing in for Airflow's API behind the middleware: it echoes what reached it."""
    app = FastAPI()
    app.add_middleware(plugin_module("review_guard").ReviewCorrectionGuard)

    @app.patch("/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/hitlDetails")
    async def respond(request: Request):
        return {"stored": await request.json()}

    return TestClient(app)


@pytest.mark.parametrize(("correction", "reason"), [
    ("x" * (MAX_CORRECTION_CHARS + 1), "at most 20,000"),
    ("fine\u202etext", "U+202E"),
    ("nul\x00", "U+0000"),
    (["a list"], "must be text"),
])
def test_a_correction_that_cannot_be_stored_is_refused_with_the_reason(client, correction, reason):
    response = client.patch(PATH, json={"chosen_options": ["Reject copy"],
                                        "params_input": {"correction": correction}})
    assert response.status_code == 400 and reason in response.json()["detail"]


@pytest.mark.parametrize("params", [{"correction": "Up to 30 hours. 🎧 Café"}, {"correction": None}, {}])
def test_a_good_response_reaches_airflow_unchanged(client, params):
    payload = {"chosen_options": ["Accept copy"], "params_input": params}
    response = client.patch(PATH, json=payload)
    assert response.status_code == 200 and response.json() == {"stored": payload}


def test_other_routes_and_huge_bodies(client):
    assert client.patch(PATH.replace("hitlDetails", "other"), json={}).status_code == 404  # passed through
    huge = client.patch(PATH, content=b"{" + b" " * 1_000_001 + b"}",
                        headers={"content-type": "application/json"})
    assert huge.status_code == 413


def test_airflow_loads_the_guard_as_a_root_middleware(monkeypatch):
    from airflow import plugins_manager

    monkeypatch.setattr(plugins_manager.settings, "PLUGINS_FOLDER", str(ROOT / "plugins"))
    plugins_manager._get_plugins.cache_clear()
    try:
        _, middlewares = plugins_manager.get_fastapi_plugins()
    finally:
        plugins_manager._get_plugins.cache_clear()
    assert [m["middleware"].__name__ for m in middlewares] == ["ReviewCorrectionGuard"]


def test_a_response_to_a_review_opened_moments_ago_is_held_back_until_it_settles(client, monkeypatch):
    """Airflow 3.3 loses an answer given before the executor reported the process that parked the review."""
    import time

    module = plugin_module("review_guard")
    asked = []
    monkeypatch.setattr(module, "_open_for_s", lambda ids: asked.append(ids) or 0.2)
    monkeypatch.setattr(module, "SETTLE_S", 1.0)
    began = time.monotonic()
    response = client.patch(PATH, json={"chosen_options": ["Accept copy"],
                                        "params_input": {"correction": None}})
    assert response.status_code == 200 and time.monotonic() - began >= 0.8
    assert asked == [{"dag_id": "fact_check_copy", "run_id": "manual__1", "task_id": "review_copy",
                      "map_index": "0"}]
    monkeypatch.setattr(module, "_open_for_s", lambda ids: 60.0)  # open for a minute: no wait
    began = time.monotonic()
    assert client.patch(PATH, json={"chosen_options": ["Accept copy"]}).status_code == 200
    assert time.monotonic() - began < 0.5
