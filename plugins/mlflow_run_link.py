"""Airflow plugin: an "MLflow run" button on every task that wrote an MLflow run.

The link is global (TaskFlow crew tasks share one operator class), and Airflow's
API server resolves it when the UI shows a task instance: the button opens the
run of that task instance's try in the MLflow UI, and stays disabled for tasks
that track nothing. The lookup lives in the crews' tracking layer.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from airflow.sdk import BaseOperatorLink

_finder = None


def _run_finder():
    global _finder
    if _finder is None:
        from crews.tracking.run_links import RunFinder

        _finder = RunFinder()
    return _finder


class MLflowRunLink(BaseOperatorLink):
    """Opens the MLflow run of the task instance's try (or its latest run)."""

    name = "MLflow run"

    def get_link(self, operator, *, ti_key) -> str:
        url = _run_finder().url_for(ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index,
                                    ti_key.try_number)
        return url or ""


class CrewsMLflowPlugin(AirflowPlugin):
    name = "crews_mlflow"
    global_operator_extra_links = [MLflowRunLink()]
