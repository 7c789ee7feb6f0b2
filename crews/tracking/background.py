"""Finishing MLflow runs off the crew's path: one writer thread per process, the spool as its safety net.

A tracked item's run is created while the crew works (:func:`crews.tracking.mlflow_writer.open_run`);
when the crew ends, the rest of its record is claimed in the spool (a local file) and handed to the
writer thread, and the caller goes on with the run id. A write that fails leaves the record in the
spool, replayed by the next write that reaches MLflow; a process that dies mid-write leaves its
claim, which the next replayer takes back (:func:`crews.tracking.spool.recover_claims`).

Whoever ends a process without running ``atexit`` (Airflow's task runner exits with ``os._exit``)
calls :func:`wait_for_writes` first; a normal interpreter exit waits by itself.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from pathlib import Path
from typing import Any

from crews.tracking import spool

log = logging.getLogger(__name__)

WAIT_S = 120.0
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future] = set()


def submit(record: dict[str, Any], write: Callable[[dict[str, Any]], str],
           replay: Callable[[dict[str, Any]], str] | None = None) -> Future:
    """Claim ``record`` in the spool, then ``write`` it on the writer thread. The future's result is
    None once written, else the spool path the record waits in.

    After a write that succeeds, older spooled records are replayed with ``replay``.
    """
    global _executor
    claimed = spool.claim(record)
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mlflow-finish")
            atexit.register(wait_for_writes)
        future = _executor.submit(_finish, record, write, claimed, replay)
        _pending.add(future)
    future.add_done_callback(_pending.discard)
    return future


def _finish(record: dict[str, Any], write: Callable[[dict[str, Any]], str], claimed: Path,
            replay: Callable[[dict[str, Any]], str] | None) -> str | None:
    try:
        write(record)
    except Exception as exc:  # tracking never fails the crew: the record waits in the spool
        spooled_to = str(spool.release(claimed, written=False))
        log.warning("MLflow write of run %s failed (%s); tracking record spooled to %s",
                    record.get("run_name"), exc, spooled_to)
        return spooled_to
    spool.release(claimed, written=True)
    if replay is not None:
        written, left = spool.replay(replay)
        if written or left:
            log.info("replayed %d spooled tracking records (%d left)", written, left)
    return None


def wait_for_writes(timeout_s: float = WAIT_S) -> int:
    """Wait until every record handed to the writer thread is written or spooled; returns how many
    are still under way after ``timeout_s`` (their claims stay in the spool, so nothing is lost)."""
    with _lock:
        futures = set(_pending)
    if not futures:
        return 0
    _, left = wait_all(futures, timeout=timeout_s)
    if left:
        log.warning("%d MLflow writes still under way after %.0f s; their records stay in the spool",
                    len(left), timeout_s)
    return len(left)
