"""Reads past crew runs back from MLflow (for drift checks): tags and metrics, newest first."""

from __future__ import annotations

from typing import Any, Literal

from crews.tracking.mlflow_writer import connect

KEPT_TAGS = ("prompt_hash", "prompt_version", "prompt_source", "prompt_fallback", "model", "provider",
             "item_id", "dag_id", "run_id")
FILTERS = {
    "production": "tags.purpose = 'production' and attributes.status = 'FINISHED'",
    "evaluation": "tags.kind = 'evaluation' and attributes.status = 'FINISHED'",
}


def crew_runs(crew: str, kind: Literal["production", "evaluation"], limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` finished runs of ``crew``: ``{"run_id", "start_ms", "tags", "metrics"}``, newest
    first."""
    client = connect()
    experiment = client.get_experiment_by_name(f"crews/{crew}")
    if experiment is None or limit <= 0:
        return []
    runs, token = [], None
    while len(runs) < limit:
        page = client.search_runs([experiment.experiment_id], FILTERS[kind],
                                  max_results=min(limit - len(runs), 1000),
                                  order_by=["attributes.start_time DESC"], page_token=token)
        runs += [{"run_id": r.info.run_id, "start_ms": r.info.start_time,
                  "tags": {k: r.data.tags[k] for k in KEPT_TAGS if k in r.data.tags},
                  "metrics": dict(r.data.metrics)} for r in page]
        token = page.token
        if not token:
            break
    return runs
