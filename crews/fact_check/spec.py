"""How the runner, the CLI and the DAG drive the fact-check crew.

An input item is a JSON object::

    {"draft_id": "aurora_launch",
     "copy_text": "..." | "copy_file": "drafts/aurora_launch.md",
     "fact_sheet": {...} | "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}

File references are resolved against ``base_dir`` (the CLI passes the input
file's folder) or ``include/fact_check/``, and must stay inside them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crews.errors import InputError, validate_item
from crews.fact_check.schemas import DraftInput, FactCheckReport
from crews.fact_check.scoring import score
from crews.paths import INCLUDE_DIR, find_input_file
from crews.registry import CrewSpec

DATA_DIR = INCLUDE_DIR / "fact_check"
MAX_FILE_BYTES = 1_000_000


def _read(reference: str, field: str, base_dir: Path | None) -> str:
    path = find_input_file(reference, field, (base_dir, DATA_DIR))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{field}: {reference!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{field}: {reference!r} is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


def load_input(payload: dict[str, Any], base_dir: Path | None = None) -> DraftInput:
    """Validate one item, reading referenced files; raises :class:`InputError`."""
    if not isinstance(payload, dict):
        raise InputError(f"a draft must be a JSON object, got {type(payload).__name__}")
    data = dict(payload)
    if "copy_file" in data:
        if "copy_text" in data:
            raise InputError("give either copy_text or copy_file, not both")
        data["copy_text"] = _read(str(data.pop("copy_file")), "copy_file", base_dir)
    if "fact_sheet_file" in data:
        if "fact_sheet" in data:
            raise InputError("give either fact_sheet or fact_sheet_file, not both")
        text = _read(str(data.pop("fact_sheet_file")), "fact_sheet_file", base_dir)
        try:
            data["fact_sheet"] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InputError(f"fact_sheet_file is not valid YAML: {exc}") from exc
    return validate_item(DraftInput, data, "draft", "draft_id")


def _run(item: DraftInput, llm: Any) -> FactCheckReport:
    from crews.fact_check.pipeline import check_draft

    return check_draft(item, llm)


def _metrics(report: FactCheckReport) -> dict[str, float]:
    counts = report.verdict_counts
    return {
        "claims": float(len(report.claims)),
        **{f"claims_{verdict}": float(n) for verdict, n in counts.items()},
        "claims_found_by_tools": float(sum(c.found_by == "tools" for c in report.claims)),
        "remaining_problems": float(len(report.remaining_problems)),
        "approved": float(report.approved),
        "review_score": report.review_score,
        "needs_review": float(report.needs_review),
    }


def _summary(report: FactCheckReport) -> dict[str, Any]:
    counts = report.verdict_counts
    return {
        "item_id": report.draft_id,
        "status": "approved" if report.approved else "needs changes",
        "claims": len(report.claims),
        "supported": counts["supported"],
        "contradicted": counts["contradicted"],
        "unverifiable": counts["unverifiable"],
        "approved": report.approved,
        "needs_review": report.needs_review,
        "review_reasons": report.review_reasons,
    }


SPEC = CrewSpec(
    name="fact_check",
    config_dir=Path(__file__).parent / "config",
    load_input=load_input,
    item_id=lambda item: item.draft_id,
    run=_run,
    metrics=_metrics,
    summary=_summary,
    output_model=FactCheckReport,
    score=score,
)
