import time

import pytest
from mlflow import MlflowClient

from crews.tracking.run_links import RunFinder, ui_url
from tests.support.mlflow_server import free_port

DAG, RUN = "fact_check_copy", "manual__2026-11-22T01:00:00+00:00"


@pytest.fixture(scope="module")
def server(mlflow_http):
    client = MlflowClient(mlflow_http)
    crew = client.create_experiment("crews/fact_check_links")
    other = client.create_experiment("someone_else")

    def run(experiment, **tags):
        return client.create_run(experiment, tags={k: str(v) for k, v in tags.items()}).info.run_id

    runs = {
        "item_a_try1": run(crew, dag_id=DAG, run_id=RUN, task_id="check_draft", map_index=0, try_number=1),
        "item_a_try2": run(crew, dag_id=DAG, run_id=RUN, task_id="check_draft", map_index=0, try_number=2),
        "item_b_try1": run(crew, dag_id=DAG, run_id=RUN, task_id="check_draft", map_index=1, try_number=1),
        "batch": run(crew, dag_id=DAG, run_id=RUN, task_id="collect_results"),
        "other_experiment": run(other, dag_id=DAG, run_id=RUN, task_id="check_draft", map_index=5,
                                try_number=1),
    }
    return mlflow_http, crew, runs


def test_finds_the_run_of_each_mapped_task_instance_and_try(server):
    url, experiment, runs = server
    finder = RunFinder(tracking=url, ui="http://ui.example:5000")
    assert finder.url_for(DAG, RUN, "check_draft", 0, 1) == \
        f"http://ui.example:5000/#/experiments/{experiment}/runs/{runs['item_a_try1']}"
    assert finder.url_for(DAG, RUN, "check_draft", 0, 2).endswith(runs["item_a_try2"])
    assert finder.url_for(DAG, RUN, "check_draft", 1, 1).endswith(runs["item_b_try1"])


def test_a_try_without_a_run_gets_the_task_instances_latest_run(server):
    url, _, runs = server
    assert RunFinder(tracking=url).url_for(DAG, RUN, "check_draft", 0, 3).endswith(runs["item_a_try2"])


def test_an_unmapped_task_finds_its_batch_run_and_no_mapped_run(server):
    url, _, runs = server
    finder = RunFinder(tracking=url)
    assert finder.url_for(DAG, RUN, "collect_results", -1, 1).endswith(runs["batch"])
    assert finder.url_for(DAG, RUN, "check_draft", -1, 1) is None


def test_no_link_for_tasks_without_runs_or_outside_the_crews_experiments(server):
    url, _, _ = server
    finder = RunFinder(tracking=url)
    assert finder.url_for(DAG, RUN, "list_drafts", -1, 1) is None
    assert finder.url_for(DAG, "scheduled__other", "check_draft", 0, 1) is None
    assert finder.url_for(DAG, RUN, "check_draft", 5, 1) is None  # that run is in another experiment
    assert finder.url_for(DAG, "it's", "check_draft", 0, 1) is None


def test_mlflow_down_gives_no_link_quickly():
    finder = RunFinder(tracking=f"http://127.0.0.1:{free_port()}", timeout_s=1)
    began = time.monotonic()
    assert finder.url_for(DAG, RUN, "check_draft", 0, 1) is None
    assert time.monotonic() - began < 3


def test_ui_address_defaults_to_the_tracking_server_and_can_be_overridden(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow:5000/")
    monkeypatch.delenv("CREWS_MLFLOW_UI_URL", raising=False)
    assert ui_url() == "http://mlflow:5000"
    monkeypatch.setenv("CREWS_MLFLOW_UI_URL", "http://127.0.0.1:5000")
    assert ui_url() == "http://127.0.0.1:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///x.db")
    monkeypatch.delenv("CREWS_MLFLOW_UI_URL")
    assert RunFinder().url_for(DAG, RUN, "check_draft", 0, 1) is None  # no server, no UI to link to
