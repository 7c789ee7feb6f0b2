"""Code-based scores of one crew output against a golden record (pure functions, no MLflow).

Every crew gets the common scores (schema validity, cost, latency, tokens, LLM
calls) plus its own (``CrewContract.score``: verdict accuracy, issue recall and
precision, citation validity, abstention correctness ...). An item that failed
or returned an invalid result scores 0 on every quality score and has no usage.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from crews.registry import get_crew

USAGE = {"cost_usd": "cost_usd", "latency_s": "crew_seconds", "total_tokens": "total_tokens",
         "llm_calls": "llm_calls"}


def crew_scores(crew: str, outputs: dict[str, Any], expectations: dict[str, Any]) -> dict[str, float]:
    """All scores of one output (a :func:`crews.runner.run_item` result, or ``{"error": ...}``)."""
    contract = get_crew(crew)
    if not isinstance(outputs, dict) or "result" not in outputs:
        return {"schema_valid": 0.0}
    try:
        result = contract.output_model.model_validate(outputs["result"])
    except ValidationError:
        return {"schema_valid": 0.0}
    usage = outputs.get("usage") or {}
    scores = {"schema_valid": 1.0}
    scores |= {name: float(usage[key]) for name, key in USAGE.items() if usage.get(key) is not None}
    return scores | contract.score(result, expectations)


def score_names(crew: str, rows: list[dict[str, Any]]) -> list[str]:
    """Every score name any row has, in first-seen order."""
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(crew_scores(crew, row["outputs"], row["expectations"])))
    return list(names)


def score_value(crew: str, name: str, outputs: dict[str, Any], expectations: dict[str, Any]) -> float | None:
    """One score of one row; ``None`` when it does not apply (e.g. no citations to check)."""
    scores = crew_scores(crew, outputs, expectations)
    if name in scores:
        return scores[name]
    if scores["schema_valid"] == 0.0 and name not in USAGE:
        return 0.0  # a failed item is wrong on every quality score
    return None
