
from mlflow import MlflowClient

from tests.conftest import ROOT
from tests.support.plugins import plugin_module

DAG, RUN = "data_quality_qa", "manual__2026-11-22T02:00:00+00:00"



def test_airflow_loads_the_link_as_a_global_extra_link(monkeypatch):
    from airflow import plugins_manager

    monkeypatch.setattr(plugins_manager.settings, "PLUGINS_FOLDER", str(ROOT / "plugins"))
    for cached in (plugins_manager._get_plugins, plugins_manager._get_extra_operators_links_plugins):
        cached.cache_clear()
    try:
        names = [link.name for link in plugins_manager.get_global_operator_extra_links()]
    finally:
        for cached in (plugins_manager._get_plugins, plugins_manager._get_extra_operators_links_plugins):
            cached.cache_clear()
    assert names == ["MLflow run"]


def test_link_opens_the_task_instances_run_in_the_mlflow_ui(mlflow_http, monkeypatch):
    from airflow.models.taskinstancekey import TaskInstanceKey

    client = MlflowClient(mlflow_http)
    experiment = client.create_experiment("crews/data_qa_link")
    run = client.create_run(experiment, tags={"dag_id": DAG, "run_id": RUN, "task_id": "check_dataset",
                                              "map_index": "2", "try_number": "1"}).info.run_id
    monkeypatch.setenv("MLFLOW_TRACKING_URI", mlflow_http)
    monkeypatch.setenv("CREWS_MLFLOW_UI_URL", "http://127.0.0.1:5000")
    module = plugin_module("mlflow_run_link")
    monkeypatch.setattr(module, "_finder", None)
    link = module.MLflowRunLink()
    key = TaskInstanceKey(dag_id=DAG, task_id="check_dataset", run_id=RUN, try_number=1, map_index=2)
    assert link.get_link(None, ti_key=key) == f"http://127.0.0.1:5000/#/experiments/{experiment}/runs/{run}"
    other = TaskInstanceKey(dag_id=DAG, task_id="list_datasets", run_id=RUN, try_number=1, map_index=-1)
    assert link.get_link(None, ti_key=other) == ""  # Airflow shows the button disabled
