"""Evaluate a crew on its golden set: every record runs as a tracked crew run, then one
evaluation run in MLflow holds the scores, linked to the prompt version and the model.

Used by ``python -m crews eval <crew>`` (all records in one process) and by the
``crew_evaluation`` DAG (one mapped task per record, then :func:`log_crew_evaluation`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any

from crews.evaluation.golden import golden_path, load_golden
from crews.evaluation.scorers import score_names, score_value
from crews.registry import get_crew, prompt_template
from crews.runtime.settings import LLMSettings

log = logging.getLogger(__name__)


def run_record(crew: str, record: dict[str, Any], settings: LLMSettings,
               context: dict[str, Any] | None = None, catch: bool = True,
               golden_set: str = "samples", base_dir: Path | None = None,
               prompt_version: str | None = None) -> dict[str, Any]:
    """Run one golden record (tracked, purpose ``evaluation``) and return its evaluation row.

    With ``catch`` a failure becomes the row's output (it scores zero, the other
    records still run); without it the exception propagates (Airflow retries it).
    ``prompt_version`` selects the prompts served (see :func:`crews.runner.run_item`).
    """
    from crews.runner import run_item

    try:
        outputs = run_item(crew, record["inputs"], settings,
                           context={**(context or {}), "purpose": "evaluation"},
                           base_dir=base_dir or golden_path(crew, golden_set).parent,
                           prompt_version=prompt_version)
    except Exception as exc:
        if not catch:
            raise
        log.warning("golden record of %s failed: %s: %s", crew, type(exc).__name__, exc)
        outputs = failed_output(f"{type(exc).__name__}: {exc}")
    return {"inputs": record["inputs"], "outputs": outputs, "expectations": record["expectations"]}


def failed_output(reason: str) -> dict[str, Any]:
    """The output of a record that produced no result."""
    return {"error": reason}


def served_prompts(crew: str, rows: list[dict[str, Any]],
                   prompt_version: str | None = None) -> dict[str, Any]:
    """The prompts the rows' crew runs were served (``run_item``'s ``prompt``; the most common if they differ,
    with a warning), or, when no row ran, what ``prompt_version`` serves now."""
    from collections import Counter

    from crews.tracking.prompts import load_served

    seen = [row["outputs"]["prompt"] for row in rows
            if isinstance(row.get("outputs", {}).get("prompt"), dict)]
    if not seen:
        return load_served(crew, prompt_version).info()
    counts = Counter(json.dumps(p, sort_keys=True) for p in seen)
    if len(counts) > 1:
        log.warning("%s: the golden records were served different prompts (%s); the evaluation run names the "
                    "most common", crew, ", ".join(f"{json.loads(k)['version'] or 'yaml'} x{n}"
                                                   for k, n in counts.items()))
    return json.loads(counts.most_common(1)[0][0])


def prompt_tags(prompt: dict[str, Any]) -> dict[str, str]:
    """The run tags of a ``run_item`` ``prompt`` description (as :meth:`ServedPrompts.tags`)."""
    tags = {"prompt_hash": prompt["prompt_hash"], "prompt_source": prompt["source"],
            "prompt_requested": prompt["requested"]}
    if prompt.get("alias"):
        tags["prompt_alias"] = prompt["alias"]
    if prompt["source"] == "registry" and prompt.get("version"):
        tags["prompt_version"] = str(prompt["version"])
    if prompt.get("fallback"):
        tags["prompt_fallback"] = prompt["fallback"][:500]
    return tags


def log_crew_evaluation(crew: str, rows: list[dict[str, Any]], settings: LLMSettings,
                        judge_settings: LLMSettings | None = None,
                        context: dict[str, Any] | None = None, golden_set: str = "samples",
                        golden: Path | None = None, prompt_version: str | None = None) -> dict[str, Any]:
    """Score ``rows`` and log them as one MLflow evaluation run, tagged with the prompt version the rows were
    served; returns the run id, mean scores, notes, and the scores of the previous evaluation of another
    prompt version (same crew, golden set and model) under ``previous``."""
    from crews.evaluation.judge import JUDGE_SKIPPED, Judge
    from crews.tracking.evaluation_writer import log_evaluation

    contract = get_crew(crew)
    judge = None
    if judge_settings is not None:
        judge_model = Judge(judge_settings)
        judge = (lambda inputs, outputs, expectations: judge_model(crew, inputs, outputs, expectations),
                 judge_settings.model)
    failed = sum("error" in row["outputs"] for row in rows)
    golden = golden or golden_path(crew, golden_set)
    prompt = served_prompts(crew, rows, prompt_version)
    tags = {
        "kind": "evaluation", "crew": crew, "purpose": "evaluation",
        "provider": settings.provider, "model": settings.model,
        **prompt_tags(prompt),
        "golden_set": _shown(golden),
        "golden_hash": hashlib.sha256(golden.read_bytes()).hexdigest()[:16],
        "llm_judge": f"on ({judge_settings.model})" if judge_settings else JUDGE_SKIPPED,
        **{k: str(v) for k, v in (context or {}).items() if v is not None},
    }
    params = {"records": len(rows), "failed_records": failed,
              **{f"llm.{k}": v for k, v in settings.public_dict().items()}}
    shown = f"v{prompt['version']}" if prompt["source"] == "registry" else tags["prompt_hash"][:8]
    run_name = f"evaluation {crew} ({golden_set}) · {settings.model} · prompts {shown}"
    run_id, metrics, previous = log_evaluation(
        crew, run_name, rows, score_names(crew, rows), lambda name, o, e: score_value(crew, name, o, e),
        tags, params, prompt_template(contract.config_dir), judge,
    )
    if judge is None:
        log.info(JUDGE_SKIPPED)
    return {"crew": crew, "golden_set": golden_set, "mlflow_run_id": run_id, "records": len(rows),
            "failed": failed, "model": settings.model, "prompt_hash": tags["prompt_hash"],
            "prompt_version": tags.get("prompt_version"), "prompt_source": prompt["source"],
            "prompt_fallback": prompt.get("fallback"), "scores": metrics, "previous": previous,
            "score_changes": score_changes(metrics, previous), "notes": [] if judge else [JUDGE_SKIPPED]}


def score_changes(scores: dict[str, float], previous: dict[str, Any] | None) -> dict[str, float]:
    """Each score minus the previous evaluation's (scores both have)."""
    if not previous:
        return {}
    return {name: round(value - previous["scores"][name], 6) for name, value in sorted(scores.items())
            if name in previous["scores"]}


def comparison_lines(report: dict[str, Any]) -> list[str]:
    """The report's scores, each next to the previous evaluation of another prompt version when there is
    one."""
    previous = report.get("previous")
    this = (f"v{report['prompt_version']}" if report.get("prompt_version")
            else f"prompts {report['prompt_hash'][:8]}")
    head = [f"prompt {this} ({report.get('prompt_source', 'yaml')})"
            + (f", fell back: {report['prompt_fallback']}" if report.get("prompt_fallback") else "")]
    if previous:
        head.append(f"compared with the evaluation run {previous['mlflow_run_id']} of prompt "
                    f"v{previous['prompt_version']} (same golden set and model)")
    else:
        head.append("no earlier evaluation of another prompt version with this golden set and model")
    lines = []
    for name, value in sorted(report["scores"].items()):
        line = f"{name} = {value:.4f}"
        if previous and name in previous["scores"]:
            line += (f"  (v{previous['prompt_version']}: {previous['scores'][name]:.4f}, "
                     f"{value - previous['scores'][name]:+.4f})")
        lines.append(line)
    return head + lines


def _shown(golden: Path) -> str:
    """The golden file as a tag: relative to include/ when it is there."""
    from crews.paths import INCLUDE_DIR

    try:
        return str(golden.resolve().relative_to(INCLUDE_DIR.resolve()))
    except ValueError:
        return str(golden)


def evaluate_crew(crew: str, settings: LLMSettings, judge_settings: LLMSettings | None = None,
                  limit: int | None = None, golden_set: str = "samples", golden: Path | None = None,
                  prompt_version: str | None = None) -> dict[str, Any]:
    """Run and score one golden set of ``crew`` (or its first ``limit`` records); ``golden`` names a golden
    file of your own instead (its file references are relative to its folder); ``prompt_version`` selects
    the prompts (see :func:`crews.runner.run_item`)."""
    records = load_golden(crew, golden, golden_set=golden_set)[:limit]
    base_dir = golden.resolve().parent if golden else None
    label = "custom" if golden else golden_set
    rows = []
    for index, record in enumerate(records, 1):
        rows.append(run_record(crew, record, settings, golden_set=golden_set, base_dir=base_dir,
                               prompt_version=prompt_version))
        log.info("evaluated %s (%s) record %d/%d", crew, label, index, len(records))
    return log_crew_evaluation(crew, rows, settings, judge_settings,
                               golden_set=label if golden else golden_set, golden=golden,
                               prompt_version=prompt_version)
