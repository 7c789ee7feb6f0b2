"""Find the MLflow run an Airflow task instance wrote, and its address in the MLflow UI.

Every tracked run is tagged with the task instance that produced it (``dag_id``,
``run_id``, ``task_id``, ``map_index``, ``try_number``; see RunContext), so the
lookup is one search over the crews' experiments through MLflow's REST API. It
uses plain HTTP with a short timeout: the Airflow API server calls it while it
renders a task's extra links, and must neither import mlflow nor hang when the
tracking server is down.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from typing import Any

import httpx

log = logging.getLogger(__name__)

EXPERIMENT_PREFIX = "crews/"
TIMEOUT_S = 3.0
_EXPERIMENTS_TTL_S = 60.0
_FOUND_MAX = 2048


def tracking_url() -> str | None:
    """The MLflow server the crews write to, when it is an HTTP server."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    return uri.rstrip("/") if uri.startswith(("http://", "https://")) else None


def ui_url() -> str | None:
    """Where a browser reaches the MLflow UI: ``CREWS_MLFLOW_UI_URL``, else the tracking server.

    They differ when Airflow reaches MLflow by a service name (``http://mlflow:5000``
    under docker compose) that the user's browser cannot resolve.
    """
    url = os.environ.get("CREWS_MLFLOW_UI_URL") or tracking_url()
    return url.rstrip("/") if url else None


def run_page(ui: str, experiment_id: str, run_id: str) -> str:
    """The MLflow UI page of one run."""
    return f"{ui}/#/experiments/{experiment_id}/runs/{run_id}"


def run_page_by_id(run_id: str | None, ui: str | None = None) -> str | None:
    """The MLflow UI page of a run known by id alone (the UI's ``/runs/<id>`` route finds its experiment);
    None without a run or a UI address."""
    ui = ui or ui_url()
    return f"{ui}/#/runs/{run_id}" if run_id and ui else None


class RunFinder:
    """Looks up runs by task instance; remembers what it found (runs do not move)."""

    def __init__(self, tracking: str | None = None, ui: str | None = None, timeout_s: float = TIMEOUT_S):
        self.tracking = tracking if tracking is not None else tracking_url()
        self.ui = ui if ui is not None else (ui_url() or self.tracking)
        self.timeout_s = timeout_s
        self._found: OrderedDict[tuple, str] = OrderedDict()
        self._experiments: tuple[float, list[str]] = (0.0, [])
        self._lock = threading.Lock()

    def url_for(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1,
                try_number: int | None = None) -> str | None:
        """The UI address of the run for this task instance and try, or None if there is none (yet).

        When the requested try wrote no run (a killed try), the task instance's latest run is used.
        """
        if not self.tracking or not self.ui:
            return None
        key = (dag_id, run_id, task_id, map_index, try_number)
        with self._lock:
            if key in self._found:
                self._found.move_to_end(key)
                return self._found[key]
        values = (dag_id, run_id, task_id)
        if any("'" in v for v in values):
            return None  # MLflow's filter syntax has no escape for quotes; Airflow ids never hold one
        try:
            run = self._search(dag_id, run_id, task_id, map_index, try_number)
        except (httpx.HTTPError, ValueError, KeyError) as exc:
            log.warning("MLflow run lookup for %s/%s/%s[%s] failed: %s", dag_id, run_id, task_id, map_index,
                        exc)
            return None
        if run is None:
            return None
        url = run_page(self.ui, run["info"]["experiment_id"], run["info"]["run_id"])
        with self._lock:
            self._found[key] = url
            while len(self._found) > _FOUND_MAX:
                self._found.popitem(last=False)
        return url

    def _search(self, dag_id: str, run_id: str, task_id: str, map_index: int,
                try_number: int | None) -> dict[str, Any] | None:
        experiments = self._experiment_ids()
        if not experiments:
            return None
        conditions = [f"tags.dag_id = '{dag_id}'", f"tags.run_id = '{run_id}'", f"tags.task_id = '{task_id}'"]
        if map_index >= 0:
            conditions.append(f"tags.map_index = '{map_index}'")
        body = {"experiment_ids": experiments, "filter": " and ".join(conditions),
                "order_by": ["attributes.start_time DESC"], "max_results": 50}
        runs = self._post("/api/2.0/mlflow/runs/search", body).get("runs", [])
        if map_index < 0:  # an unmapped task: its runs carry no map index, or -1
            runs = [r for r in runs if _tags(r).get("map_index", "-1") == "-1"]
        same_try = [r for r in runs
                    if try_number is not None and _tags(r).get("try_number") == str(try_number)]
        return (same_try or runs or [None])[0]

    def _experiment_ids(self) -> list[str]:
        fetched_at, ids = self._experiments
        if ids and time.monotonic() - fetched_at < _EXPERIMENTS_TTL_S:
            return ids
        body = {"filter": f"name LIKE '{EXPERIMENT_PREFIX}%'", "max_results": 1000}
        ids = [e["experiment_id"]
               for e in self._post("/api/2.0/mlflow/experiments/search", body).get("experiments", [])]
        self._experiments = (time.monotonic(), ids)
        return ids

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(f"{self.tracking}{path}", json=body, timeout=self.timeout_s)
        response.raise_for_status()
        return response.json()


def _tags(run: dict[str, Any]) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run.get("data", {}).get("tags", [])}
