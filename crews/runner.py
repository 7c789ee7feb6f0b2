"""Run one crew item with tracking: the single entry point for the CLI and the DAGs."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from crews.prompt_source import serving
from crews.registry import get_crew
from crews.runtime.settings import LLMSettings
from crews.tracking.context import RunContext

log = logging.getLogger(__name__)


def run_item(
    crew: str,
    payload: dict[str, Any],
    settings: LLMSettings,
    context: dict[str, Any] | None = None,
    base_dir: Path | None = None,
    prompt_version: str | int | None = None,
    wait_for_tracking: bool = True,
) -> dict[str, Any]:
    """Validate ``payload``, run the crew on it inside one tracked MLflow run.

    ``context`` carries the Airflow identifiers (dag_id, run_id, task_id,
    map_index, try_number) or is empty for the CLI. ``prompt_version`` selects the
    prompts (an alias or a version number of prompt ``crews.<crew>``, or ``yaml``;
    default ``CREWS_PROMPT_VERSION``, ``CREWS_PROMPT_ALIAS``, ``production``): see
    :func:`crews.tracking.prompts.load_served`, which falls back to the YAML files.
    The MLflow run is created while the crew works and finished on a writer thread;
    ``wait_for_tracking=False`` returns without waiting for that (a caller running many
    items calls :func:`crews.tracking.background.wait_for_writes` at the end; a normal
    interpreter exit waits by itself). Returns a JSON-safe dict: the item id, a
    one-line summary, the full result, the prompts served and where it was tracked.
    Raises :class:`crews.errors.InputError` for invalid input before any LLM call,
    and :class:`crews.runtime.budget.BudgetExceeded` when the run's budget is spent.
    """
    from crews.runtime.guards import attach_guards
    from crews.runtime.llm_factory import build_llm
    from crews.tracking.background import wait_for_writes
    from crews.tracking.prompts import load_served
    from crews.tracking.tracker import CrewRunTracker

    contract = get_crew(crew)
    item = contract.load_input(payload, base_dir=base_dir)
    item_id = contract.item_id(item)
    run_context = RunContext(crew=crew, item_id=item_id, **(context or {}))
    llm = build_llm(settings)
    budget = attach_guards(llm, settings, context or {}, item_id)
    budget.check(started=False)
    # Two GETs to an HTTP server, no MLflow import (the slot's model would wait for it). Before the
    # tracker: a non-HTTP store imports MLflow here, and two threads importing it at once (the tracker
    # opens its run on a background thread) break its partial import.
    served = load_served(crew, prompt_version, contract.config_dir)
    started = time.perf_counter()
    tracker = CrewRunTracker(
        run_context,
        settings.public_dict(),
        served.prompt_hash,
        inputs=item.model_dump(mode="json"),
        prompt_template=served.template,
        prompt_tags=served.tags(),
    )
    try:
        with tracker:
            try:
                with serving(served):
                    result = contract.run(item, llm)
                tracker.set_output(result.model_dump(mode="json"), contract.metrics(result),
                                   contract.artifacts(result))
            finally:
                tracker.output_metrics.update(budget.metrics())
    finally:
        if wait_for_tracking:  # the run is finished on a writer thread (crews.tracking.background)
            waited = time.perf_counter()
            wait_for_writes()
            tracker.settle()
            tracker.tracking_seconds += time.perf_counter() - waited
    crew_seconds = time.perf_counter() - started - tracker.tracking_seconds
    metrics = tracker.record["metrics"] if tracker.record else {}
    log.info(
        "crew %s item %s: %.1fs, %d LLM calls (+%d replayed from cache), %d tokens, tracking %.3fs, "
        "mlflow run %s",
        crew, item_id, crew_seconds, metrics.get("llm_calls", 0), metrics.get("cache_hits", 0),
        metrics.get("total_tokens", 0),
        tracker.tracking_seconds, tracker.mlflow_run_id or f"spooled to {tracker.spooled_to}",
    )
    return {
        "crew": crew,
        "item_id": item_id,
        "summary": contract.summary(result),
        "result": result.model_dump(mode="json"),
        "mlflow_run_id": tracker.mlflow_run_id,
        "mlflow_experiment": run_context.experiment,
        "prompt": served.info(),
        "tracking_spooled_to": tracker.spooled_to,
        "task": {k: context[k] for k in ("task_id", "map_index") if k in (context or {})},
        "usage": {
            "llm_calls": int(metrics.get("llm_calls", 0)),
            "cache_hits": int(metrics.get("cache_hits", 0)),
            "total_tokens": int(metrics.get("total_tokens", 0)),
            "cost_usd": float(metrics.get("cost_usd", 0.0)),
            "crew_seconds": round(crew_seconds, 3),
            "tracking_seconds": round(tracker.tracking_seconds, 3),
        },
    }
