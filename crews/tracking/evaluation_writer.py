"""Writes one evaluation run per crew with ``mlflow.genai.evaluate`` (the tracking layer's only evaluation code).

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
) -> tuple[str, dict[str, float]]:
    """Log the evaluation of ``rows`` as one run in experiment ``crews/<crew>``; return (run id, mean scores)."""
    import mlflow

    from crews.tracking.prompts import ensure_prompt_version

    client = connect()
    mlflow.set_tracking_uri(client.tracking_uri)
    mlflow.set_experiment(experiment_id=ensure_experiment(client, f"crews/{crew}"))
    version = ensure_prompt_version(client, crew, prompt_template, tags["prompt_hash"])
    scorers = [_code_scorer(name, score) for name in names]
    if judge is not None:
        scorers.append(_judge_scorer(*judge))
    with mlflow.start_run(run_name=run_name, tags={**tags, "prompt_version": str(version.version)}) as run:
        client.link_prompt_version_to_run(run.info.run_id, version)
        mlflow.log_params(params)
        with contextlib.redirect_stdout(sys.stderr):  # MLflow prints a banner; stdout may carry JSON
            result = mlflow.genai.evaluate(data=rows, scorers=scorers)
        mlflow.log_text("\n".join(json.dumps(r, default=str, ensure_ascii=False) for r in rows) + "\n", "rows.jsonl")
    metrics = {k: float(v) for k, v in result.metrics.items() if v == v}  # drop NaN (no row had the score)
    return run.info.run_id, metrics
