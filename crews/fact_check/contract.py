"""The fact-check crew's contract: how the runner, the CLI and the DAG drive it.

An input item is a JSON object::

    {"draft_id": "aurora_launch",
     "copy_text": "..." | "copy_file": "drafts/aurora_launch.md",
     "fact_sheet": {...} | "Key: value lines" | "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}

File references are resolved against ``base_dir`` (the CLI passes the input
file's folder) or ``include/fact_check/``, and must stay inside them (absolute
paths may also name files under ``CREWS_DATA_ROOTS``; see :mod:`crews.paths`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from crews.contract import CrewContract
from crews.errors import InputError, validate_item
from crews.fact_check.plain_sheet import looks_plain, parse_plain_sheet
from crews.fact_check.request import MAX_COPY_CHARS, DraftRequest
from crews.fact_check.schemas import DraftInput, FactCheckReport, FactSheet
from crews.paths import INCLUDE_DIR, find_input_file

DATA_DIR = INCLUDE_DIR / "fact_check"
MAX_FILE_BYTES = 1_000_000


def _read(reference: str, field: str, base_dir: Path | None) -> str:
    """The text of the file ``field`` names: UTF-8, not binary, not empty, at most :data:`MAX_FILE_BYTES`."""
    path = find_input_file(reference, field, (base_dir, DATA_DIR))
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{field}: {reference!r} is larger than {MAX_FILE_BYTES} bytes")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{field}: {reference!r} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                         "save it as UTF-8") from exc
    if "\0" in text:
        raise InputError(f"{field}: {reference!r} is a binary file, not text")
    if not text.strip():
        raise InputError(f"{field}: {reference!r} is empty")
    return text


def _with_files(data: dict[str, Any], base_dir: Path | None) -> dict[str, Any]:
    """``data`` with ``copy_file`` and ``fact_sheet_file`` replaced by their contents; a plain
    ``Key: value`` sheet (a file, or text given as ``fact_sheet``) is converted
    (:mod:`crews.fact_check.plain_sheet`)."""
    if isinstance(data.get("fact_sheet"), str):
        data["fact_sheet"] = parse_plain_sheet(data["fact_sheet"], "fact_sheet")
        data["fact_sheet_format"] = "plain"
    if data.get("copy_file"):
        reference = data.pop("copy_file")
        data["copy_text"] = _read(reference, "copy_file", base_dir)
        if len(data["copy_text"]) > MAX_COPY_CHARS:
            raise InputError(f"copy_file: {reference!r} has {len(data['copy_text'])} characters; "
                             f"copy may have at most {MAX_COPY_CHARS}")
    if data.get("fact_sheet_file"):
        reference = data.pop("fact_sheet_file")
        text = _read(reference, "fact_sheet_file", base_dir)
        if looks_plain(text):
            data["fact_sheet"] = parse_plain_sheet(text, f"fact_sheet_file {reference!r}")
            data["fact_sheet_format"] = "plain"
            return data
        try:
            data["fact_sheet"] = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
            raise InputError(f"fact_sheet_file: {reference!r} is not valid YAML "
                             f"({getattr(exc, 'problem', None) or 'parse error'}{where})") from exc
    return data


class FactCheck(CrewContract):
    """Fact checker, copywriter and editor over one draft; code decides each claim's verdict."""

    name = "fact_check"
    request_model = DraftRequest
    output_model = FactCheckReport
    id_field = "draft_id"
    items_param = "drafts"
    noun = "copy"
    decision_help = ("Accept publishes the proposed copy, or your corrected copy when you give one. Reject "
                     "publishes nothing; a correction given with it is stored with the decision.")
    review_settings = frozenset({"min_score", "review_unapproved"})
    schemas = {"fact_sheet": FactSheet, "draft": DraftRequest, "report": FactCheckReport}

    def load_input(self, payload: dict[str, Any], base_dir: Path | None = None) -> DraftInput:
        """Validate one draft, reading referenced files; raises :class:`InputError` naming the draft."""
        request = validate_item(DraftRequest, payload, "draft", "draft_id")
        data = {name: value for name, value in request if value is not None}
        try:
            return validate_item(DraftInput, _with_files(data, base_dir), "draft", "draft_id")
        except InputError as exc:
            if str(exc).startswith("draft "):
                raise
            raise InputError(f"draft {request.draft_id!r}: {exc}") from exc

    def item_id(self, item: DraftInput) -> str:
        return item.draft_id

    def run(self, item: DraftInput, llm: Any) -> FactCheckReport:
        from crews.fact_check import pipeline

        return pipeline.run(item, llm)

    def metrics(self, report: FactCheckReport) -> dict[str, float]:
        counts = report.verdict_counts
        return {
            "claims": float(len(report.claims)),
            **{f"claims_{verdict}": float(n) for verdict, n in counts.items()},
            "claims_found_by_tools": float(sum(c.found_by == "tools" for c in report.claims)),
            "remaining_problems": float(len(report.remaining_problems)),
            "draft_ok": float(report.draft_ok),
            "revision_approved": float(bool(report.revision_approved)),
            "publishable": float(report.publishable),
            "review_score": report.review_score,
            "needs_review": float(report.needs_review),
            "withheld_sentences": float(len(report.withheld)),
        }

    def summary(self, report: FactCheckReport) -> dict[str, Any]:
        counts = report.verdict_counts
        return {
            "item_id": report.draft_id,
            "status": report.status,
            "claims": len(report.claims),
            "supported": counts["supported"],
            "contradicted": counts["contradicted"],
            "unverifiable": counts["unverifiable"],
            "draft_ok": report.draft_ok,
            "revision_approved": report.revision_approved,
            "passed": report.publishable,
            "needs_review": report.needs_review,
            "review_reasons": report.review_reasons,
            "withheld": len(report.withheld),
        }

    def score(self, report: FactCheckReport, expected: dict[str, Any]) -> dict[str, float]:
        from crews.fact_check.scoring import score

        return score(report, expected)

    def text_to_publish(self, result: dict[str, Any], review: dict[str, Any], status: str) -> str:
        """The reviewer's correction when they accepted with one, else the crew's revised copy."""
        if status == "accepted" and review.get("correction"):
            return review["correction"]
        return result["revised_copy"]

    def review_sections(self, result: dict[str, Any]) -> list[str]:
        from crews.fact_check.review_page import sections

        return sections(result)
