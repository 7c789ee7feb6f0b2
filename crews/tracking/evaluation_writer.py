"""Writes one evaluation run per crew with ``mlflow.genai.evaluate`` (the tracking layer's only evaluation
code).

The rows are golden records with the crew's outputs already filled in
(``{"inputs", "outputs", "expectations"}``); scores come from plain functions
wrapped as MLflow scorers, so the MLflow UI shows them per row and as means.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable
from typing import Any

from crews.tracking.mlflow_writer import connect, ensure_experiment

log = logging.getLogger(__name__)

ScoreFn = Callable[[str, dict[str, Any], dict[str, Any]], "float | None"]
JudgeFn = Callable[[Any, Any, Any], Any]  # (inputs, outputs, expectations) -> JudgeVerdict


def _code_scorer(name: str, score: ScoreFn) -> Any:
    from mlflow.genai.scorers import scorer

    @scorer(name=name)
    def code_score(outputs: dict[str, Any], expectations: dict[str, Any]) -> float | None:
        return score(name, outputs, expectations)

    return code_score


def _judge_scorer(judge: JudgeFn, model: str) -> Any:
    from mlflow.entities import AssessmentSource, Feedback
    from mlflow.genai.scorers import scorer

    @scorer(name="llm_judge")
    def llm_judge(inputs: Any, outputs: Any, expectations: Any) -> Any:
        verdict = judge(inputs, outputs, expectations)
        return Feedback(value=verdict.score / 5, rationale=verdict.rationale,
                        source=AssessmentSource(source_type="LLM_JUDGE", source_id=model))

    return llm_judge


def log_evaluation(
    crew: str,
    run_name: str,
    rows: list[dict[str, Any]],
    names: list[str],
    score: ScoreFn,
    tags: dict[str, str],
    params: dict[str, Any],
    prompt_template: str,
    judge: tuple[JudgeFn, str] | None = None,
) -> tuple[str, dict[str, float], dict[str, Any] | None]:
    """Log the evaluation of ``rows`` as one run in experiment ``crews/<crew>``, linked to the prompt version
    the rows were served (``tags``: ``prompt_source``, ``prompt_version``; else the version of
    ``prompt_template``, the YAML's). Returns (run id, mean scores, the previous evaluation of another
    prompt version, see :func:`previous_evaluation`)."""
    import mlflow

    from crews.tracking.prompts import version_for_run

    client = connect()
    mlflow.set_tracking_uri(client.tracking_uri)
    experiment_id = ensure_experiment(client, f"crews/{crew}")
    mlflow.set_experiment(experiment_id=experiment_id)
    version = version_for_run(client, crew, tags, prompt_template)
    tags = {**tags, "prompt_version": str(version.version)}
    previous = previous_evaluation(client, experiment_id, tags)
    if previous:
        tags |= {"previous_evaluation_run": previous["mlflow_run_id"],
                 "previous_prompt_version": previous["prompt_version"]}
    scorers = [_code_scorer(name, score) for name in names]
    if judge is not None:
        scorers.append(_judge_scorer(*judge))
    with mlflow.start_run(run_name=run_name, tags=tags) as run:
        client.link_prompt_version_to_run(run.info.run_id, version)
        mlflow.log_params(params)
        with contextlib.redirect_stdout(sys.stderr):  # MLflow prints a banner; stdout may carry JSON
            result = mlflow.genai.evaluate(data=rows, scorers=scorers)
        mlflow.log_text("\n".join(json.dumps(r, default=str, ensure_ascii=False) for r in rows) + "\n",
                        "rows.jsonl")
    metrics = {k: float(v) for k, v in result.metrics.items() if v == v}  # drop NaN (no row had the score)
    return run.info.run_id, metrics, previous


def previous_evaluation(client: Any, experiment_id: str, tags: dict[str, str]) -> dict[str, Any] | None:
    """The newest finished evaluation run in ``experiment_id`` of the same golden set and model as ``tags``
    but another prompt version: ``{"mlflow_run_id", "prompt_version", "prompt_hash", "start_ms", "scores"}``,
    or None. So promoting a version and evaluating again shows whether the scores moved."""
    same = {key: str(tags.get(key, "")) for key in ("golden_set", "model", "prompt_version")}
    # not expressible in a search filter; skip the comparison
    if any("'" in value for value in same.values()):
        return None
    query = (f"tags.kind = 'evaluation' and attributes.status = 'FINISHED' and tags.golden_set = "
             f"'{same['golden_set']}' and tags.model = '{same['model']}' "
             f"and tags.prompt_version != '{same['prompt_version']}'")
    try:
        runs = client.search_runs([experiment_id], query, max_results=1,
                                  order_by=["attributes.start_time DESC"])
    except Exception as exc:  # the comparison is informative only
        log.warning("previous evaluation not found: %s", exc)
        return None
    if not runs:
        return None
    run = runs[0]
    return {"mlflow_run_id": run.info.run_id, "prompt_version": run.data.tags.get("prompt_version"),
            "prompt_hash": run.data.tags.get("prompt_hash"), "start_ms": run.info.start_time,
            "scores": {k: float(v) for k, v in sorted(run.data.metrics.items())}}
