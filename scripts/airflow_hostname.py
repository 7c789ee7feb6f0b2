"""Airflow's ``[core] hostname_callable`` on the local Celery stack: ``worker-1@host`` in a worker.

Every worker of the local stack runs on one machine, so the host name alone would not tell them
apart in a task instance; each worker's environment names it (``CREWS_WORKER_NAME``).
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    host = socket.getfqdn()
    worker = os.environ.get("CREWS_WORKER_NAME")
    return f"{worker}@{host}" if worker else host
