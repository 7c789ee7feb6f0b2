"""The crew_drift DAG's glue: measure one crew, fail on drift, raise the alert."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def measure_crew_drift(crew: str) -> dict[str, Any]:
    """Run the drift check of one crew with the DAG run's window overrides; log the verdict per feature."""
    from airflow.sdk import get_current_context

    from crews import service

    ctx = get_current_context()
    overrides = {k: ctx["params"].get(k) for k in ("recent_runs", "baseline_runs", "min_runs")}
    report = service.measure_drift(crew, overrides,
                                   context={"dag_id": ctx["dag"].dag_id, "run_id": ctx["run_id"]})
    windows = report["windows"]
    log.info("%s: recent %s vs baseline %s; MLflow drift run %s with %d plots", crew, windows["recent"],
             windows["baseline"], report["mlflow_run_id"], len(report["plots"]))
    for feature in report["features"]:
        verdict = {True: "DRIFT", False: "ok", None: "no verdict"}[feature["drifted"]]
        log.info("  %-18s %-10s psi=%s p=%s %s", feature["name"], verdict, feature["psi"], feature["p_value"],
                 feature["note"])
    for score in report["scores"]:
        log.info("  score %-25s %s", score["name"], score["note"] or f"drop {score['drop']}")
    for change in report["changes"]:
        log.info("  %s", change)
    return {k: report[k] for k in ("crew", "drifted", "reasons", "changes", "windows", "mlflow_run_id")}


def require_no_drift(reports: list[dict[str, Any]]) -> None:
    """Raise naming every crew and feature that drifted, with the reasons and window changes."""
    from airflow.sdk.exceptions import AirflowFailException

    drifted = [r for r in reports if r and r["drifted"]]
    if drifted:
        lines = [f"{r['crew']}: {'; '.join(r['reasons'])}"
                 + (f" [{'; '.join(r['changes'])}]" if r["changes"] else "")
                 + f" (MLflow run {r['mlflow_run_id']})" for r in drifted]
        raise AirflowFailException("drift over threshold: " + " | ".join(lines))
    log.info("no drift over threshold in %d crews", len([r for r in reports if r]))


def drift_alert(context: dict[str, Any]) -> None:
    """Failure callback of the drift check: log the alert and keep it in ``$CREWS_STATE_DIR/alerts``."""
    from datetime import UTC, datetime

    from crews import service

    message = str(context.get("exception") or "drift check failed")
    ti = context.get("ti")
    alert = {"at": datetime.now(UTC).isoformat(), "dag_id": getattr(ti, "dag_id", None),
             "run_id": getattr(ti, "run_id", None), "message": message}
    name = str(alert["run_id"] or "unknown").replace(":", "_").replace("/", "_")
    service.keep_alert(f"drift-{name}", alert)
    log.error("DRIFT ALERT %s: %s", alert["run_id"], message)
