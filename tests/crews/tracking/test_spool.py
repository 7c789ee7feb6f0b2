"""MLflow outages: records are spooled, replayed exactly once, and a dead server costs seconds."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid

from crews.tracking import spool
from crews.tracking.tracker import publish_record


def _record(n: int) -> dict:
    return {"record_id": f"{n:03d}-{uuid.uuid4().hex}", "experiment": "crews/x", "metrics": {"n": n}}


def _down(record: dict) -> str:
    raise ConnectionError("MLflow is down")


def test_zero_records_lost_across_an_outage_even_with_concurrent_replayers():
    for n in range(30):
        run_id, spooled_to = publish_record(_record(n), _down)
        assert run_id is None and spooled_to
    assert len(list(spool.spool_dir().glob("*.json"))) == 30

    written: list[str] = []
    lock = threading.Lock()

    def up(record: dict) -> str:
        time.sleep(0.005)
        with lock:
            written.append(record["record_id"])
        return "run"

    threads = [threading.Thread(target=spool.replay, args=(up,)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(written) == 30 and len(set(written)) == 30  # every record once, none twice
    assert not list(spool.spool_dir().iterdir())


def test_a_failed_replay_keeps_the_record():
    spool.spool(_record(1))
    assert spool.replay(_down) == (0, 1)
    assert spool.replay(lambda r: "run") == (1, 0)


def test_claims_of_a_dead_replayer_are_put_back():
    path = spool.spool(_record(7))
    dead = path.with_suffix(".claimed-999999")  # no such process
    path.rename(dead)
    written = []
    assert spool.replay(lambda r: written.append(r["metrics"]["n"]) or "run") == (1, 0)
    assert written == [7]


def test_a_hanging_mlflow_server_costs_a_few_seconds_then_the_record_is_spooled(monkeypatch):
    """The server accepts connections but never answers (the worst case for a client)."""
    from crews.tracking.mlflow_writer import write_run

    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(16)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{hanging.getsockname()[1]}")
    try:
        began = time.monotonic()
        run_id, spooled_to = publish_record(_record(1), write_run)
        elapsed = time.monotonic() - began
    finally:
        hanging.close()
    assert run_id is None and json.loads(open(spooled_to).read())["metrics"] == {"n": 1}
    assert elapsed < 5, f"a dead MLflow server cost {elapsed:.1f}s"
