"""Tracking overhead per crew run, side by side in one process.

Runs the fact-check crew on one draft with the zero-latency scripted LLM,
alternating (a) no tracking and (b) this project's tracking (event recorder +
MLflow run and trace written to ``MLFLOW_TRACKING_URI``), and prints medians.

    PYTHONPATH=. MLFLOW_TRACKING_URI=http://127.0.0.1:5000 .venv/bin/python benchmarks/tracking_overhead.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import crews  # noqa: E402,F401
from crews.fact_check.pipeline import check_draft  # noqa: E402
from crews.fact_check.spec import load_input  # noqa: E402
from crews.runtime.llm_factory import build_llm  # noqa: E402
from crews.runtime.settings import LLMSettings  # noqa: E402
from crews.tracking.context import RunContext  # noqa: E402
from crews.tracking.tracker import CrewRunTracker  # noqa: E402

REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 7


def main() -> None:
    item = load_input({"draft_id": "bench", "copy_file": "drafts/aurora_launch.md", "fact_sheet_file": "fact_sheets/aurora_x2.yaml"})
    llm = build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_fact_check:respond"))
    check_draft(item, llm)  # warm-up: imports, first crew build
    with CrewRunTracker(RunContext(crew="bench", item_id="warmup"), {"provider": "scripted"}, "bench"):
        check_draft(item, llm)
    plain, tracked, writes, calls = [], [], [], []
    for i in range(REPEATS):
        began = time.perf_counter()
        check_draft(item, llm)
        plain.append(time.perf_counter() - began)
        before = llm.calls
        began = time.perf_counter()
        with CrewRunTracker(RunContext(crew="bench", item_id=f"run{i}"), {"provider": "scripted"}, "bench") as tracker:
            tracker.set_output(check_draft(item, llm).model_dump(mode="json"))
        tracked.append(time.perf_counter() - began)
        writes.append(tracker.tracking_seconds)
        calls.append(llm.calls - before)
        assert tracker.mlflow_run_id, "tracking did not reach MLflow"
    result = {
        "repeats": REPEATS,
        "llm_calls_per_run": statistics.median(calls),
        "untracked_run_s": statistics.median(plain),
        "tracked_run_s": statistics.median(tracked),
        "overhead_per_run_s": statistics.median(tracked) - statistics.median(plain),
        "mlflow_write_s": statistics.median(writes),
    }
    result["overhead_per_llm_call_ms"] = 1000 * result["overhead_per_run_s"] / result["llm_calls_per_run"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
