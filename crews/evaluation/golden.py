"""Golden sets: per crew, input items with what a correct run yields.

``include/<crew>/golden.yaml`` holds ``records``, each ``{"inputs": ..., "expectations": ...}``:
the record shape ``mlflow.genai.evaluate`` takes. ``inputs`` is a crew input item
(file references are relative to ``include/<crew>/``); the DAGs use the inputs as
their default sample items.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from crews.errors import InputError
from crews.paths import INCLUDE_DIR
from crews.registry import CREWS


class GoldenRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inputs: dict[str, Any]
    expectations: dict[str, Any]


def golden_path(crew: str) -> Path:
    if crew not in CREWS:
        raise KeyError(f"unknown crew {crew!r}; known crews: {', '.join(sorted(CREWS))}")
    return INCLUDE_DIR / crew / "golden.yaml"


def load_golden(crew: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The validated records of a crew's golden set (plain dicts)."""
    path = path or golden_path(crew)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"golden set {path} cannot be read: {exc}") from exc
    records = data.get("records") if isinstance(data, dict) else None
    if not records:
        raise InputError(f"golden set {path} has no 'records'")
    try:
        return [GoldenRecord.model_validate(r).model_dump() for r in records]
    except ValidationError as exc:
        raise InputError(f"golden set {path}: {exc}") from exc


def sample_items(crew: str) -> list[dict[str, Any]]:
    """The golden set's input items: the DAGs' default items."""
    return [record["inputs"] for record in load_golden(crew)]
