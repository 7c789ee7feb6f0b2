"""Writes one drift check as an MLflow run: drift metrics, the report and one PNG plot per feature."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from crews.tracking.mlflow_writer import connect, ensure_experiment


def log_drift(crew: str, run_name: str, report: dict[str, Any], plots: list[Path],
              tags: dict[str, str]) -> str:
    """Log ``report`` (see :meth:`crews.evaluation.drift.DriftReport.to_dict`) in experiment
    ``crews/<crew>``."""
    from mlflow.entities import Metric

    client = connect()
    tags = {**tags, "kind": "drift", "purpose": "monitoring", "crew": crew, "mlflow.runName": run_name}
    run = client.create_run(ensure_experiment(client, f"crews/{crew}"), tags=tags)
    run_id, now = run.info.run_id, int(time.time() * 1000)
    metrics = [Metric("drifted_features", float(len(report["drifted"])), now, 0)]
    for feature in report["features"]:
        for key in ("psi", "p_value", "statistic"):
            if feature[key] is not None:
                metrics.append(Metric(f"drift.{feature['name']}.{key}", float(feature[key]), now, 0))
    for score in report["scores"]:
        if score["drop"] is not None:
            metrics.append(Metric(f"drift.score.{score['name'].replace('/', '.')}.drop", float(score["drop"]),
                                  now, 0))
    for window in ("recent", "baseline"):
        metrics.append(Metric(f"window.{window}.runs", float(report["windows"][window]["runs"]), now, 0))
    client.log_batch(run_id, metrics=metrics)
    client.log_text(run_id, json.dumps(report, indent=2, default=str), "drift_report.json")
    for path in plots:
        client.log_artifact(run_id, str(path), "plots")
    client.set_terminated(run_id)
    return run_id
