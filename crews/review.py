"""Review thresholds: when a crew's output goes to a person (``include/review.yaml``, or the file
named by ``CREWS_REVIEW_CONFIG``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from crews.paths import INCLUDE_DIR
from crews.text_safety import control_character_problem

REVIEW_CONFIG = INCLUDE_DIR / "review.yaml"
MAX_CORRECTION_CHARS = 20_000  # a corrected copy is at most as long as a draft may be


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    from crews.registry import crew_names, get_crew

    known = {crew: get_crew(crew).review_settings for crew in crew_names()}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for crew, settings in data.items():
        unknown = set(settings or {}) - known.get(crew, set())
        if crew not in known or unknown:
            raise ValueError(f"{path}: unknown review setting {crew}.{sorted(unknown) or ''}".rstrip("."))
    return data


def review_settings(crew: str, path: Path | None = None) -> dict[str, Any]:
    """The crew's review settings (``min_score`` 0 and nothing else when the file does not name the crew)."""
    path = path or Path(os.environ.get("CREWS_REVIEW_CONFIG") or REVIEW_CONFIG)
    return {"min_score": 0.0, **(_load(path).get(crew) or {})}


def correction_problem(correction: Any) -> str | None:
    """Why a reviewer's correction cannot be stored (not text, too long, control characters), or None."""
    if correction is None or correction == "":
        return None
    if not isinstance(correction, str):
        return f"the correction must be text, not {type(correction).__name__}"
    if len(correction) > MAX_CORRECTION_CHARS:
        return (f"the correction has {len(correction):,} characters; at most {MAX_CORRECTION_CHARS:,} are "
                "allowed")
    if problem := control_character_problem(correction):
        return f"the correction {problem}"
    return None
