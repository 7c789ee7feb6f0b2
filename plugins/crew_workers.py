"""Warm Airflow workers: the crews' heavy imports (CrewAI, MLflow, the crew packages) paid once per
worker process instead of once per task.

Airflow 3 runs every task in a process forked from a worker process (a LocalExecutor worker, a
Celery pool process); what that worker has imported, each task it forks has for free. A crew task
otherwise imports CrewAI and MLflow itself, seconds of CPU on every mapped item.

- CeleryExecutor: ``[celery] celery_config_options = crew_workers.CELERY_CONFIG``, Airflow's own
  Celery configuration plus a ``worker_init`` hook that preloads in each worker's main process,
  before its pool processes fork.
- LocalExecutor: ``[core] executor = crew_workers.WarmLocalExecutor``, the LocalExecutor whose
  worker processes preload before their first task.

scripts/stack.py and docker-compose.yaml set both. Only imports are preloaded: no client, socket
or thread is made before a fork. This module stays light to import (the plugin manager loads it in
every Airflow process): the Celery configuration is built on first use.
"""

from __future__ import annotations

import importlib
import logging
import time
from typing import Any

log = logging.getLogger(__name__)

PRELOAD = (
    "crews.service", "crews.runner", "crews.tracking.tracker",
    "crews.fact_check.pipeline", "crews.data_qa.pipeline", "crews.contract_qa.pipeline",
    "crewai", "mlflow",
)


def preload() -> float:
    """Import what every crew task needs; the seconds it took."""
    began = time.monotonic()
    import crews  # noqa: F401  (CrewAI's telemetry switched off before crewai loads)

    for name in PRELOAD:
        importlib.import_module(name)
    took = time.monotonic() - began
    log.info("crew workers: preloaded %d modules in %.1f s", len(PRELOAD), took)
    return took


def _celery_config() -> dict[str, Any]:
    from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG
    from celery.signals import worker_init

    worker_init.connect(lambda **_: preload(), weak=False)
    return dict(DEFAULT_CELERY_CONFIG)


def _warm_worker(**kwargs: Any) -> None:
    from airflow.executors.local_executor import _run_worker

    preload()
    _run_worker(**kwargs)


def _warm_local_executor() -> type:
    from airflow.executors.local_executor import LocalExecutor

    class WarmLocalExecutor(LocalExecutor):
        """LocalExecutor whose worker processes preload the crews' imports before their first task."""

        def _spawn_worker(self) -> None:
            import multiprocessing

            process = multiprocessing.Process(target=_warm_worker, kwargs={
                "logger_name": self.log.name, "input": self.activity_queue, "output": self.result_queue,
                "unread_messages": self._unread_messages, "team_conf": self.conf,
            })
            process.start()
            self.workers[process.pid] = process

    WarmLocalExecutor.__module__ = __name__
    return WarmLocalExecutor


_LAZY = {"CELERY_CONFIG": _celery_config, "WarmLocalExecutor": _warm_local_executor}


def __getattr__(name: str) -> Any:
    """``CELERY_CONFIG`` and ``WarmLocalExecutor``, built on first use (Airflow imports them by name)."""
    if name not in _LAZY:
        raise AttributeError(name)
    value = globals()[name] = _LAZY[name]()
    return value
