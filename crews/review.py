"""Review thresholds: when a crew's output goes to a person (``include/review.yaml``, or the file
named by ``CREWS_REVIEW_CONFIG``)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from crews.paths import INCLUDE_DIR

REVIEW_CONFIG = INCLUDE_DIR / "review.yaml"
KNOWN = {"fact_check": {"min_score", "review_unapproved"}, "data_qa": {"min_score"}, "contract_qa": {"min_score"}}


@lru_cache(maxsize=4)
def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for crew, settings in data.items():
        unknown = set(settings or {}) - KNOWN.get(crew, set())
        if crew not in KNOWN or unknown:
            raise ValueError(f"{path}: unknown review setting {crew}.{sorted(unknown) or ''}".rstrip("."))
    return data


def review_settings(crew: str, path: Path | None = None) -> dict[str, Any]:
    """The crew's review settings (``min_score`` 0 and nothing else when the file does not name the crew)."""
    path = path or Path(os.environ.get("CREWS_REVIEW_CONFIG") or REVIEW_CONFIG)
    return {"min_score": 0.0, **(_load(path).get(crew) or {})}
