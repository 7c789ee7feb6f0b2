"""Golden sets: per crew, input items with what a correct run yields.

Each set is a YAML file of ``records``, each ``{"inputs": ..., "expectations": ...}``:
the record shape ``mlflow.genai.evaluate`` takes. ``inputs`` is a crew input item
whose file references are relative to the set's folder. Two sets per crew:

* ``samples`` (``include/<crew>/golden.yaml``): the small set the DAGs use as their
  default items and ``make run`` runs;
* ``extended`` (``include/<crew>/eval/golden.yaml``): cases written independently of
  the samples and of the code, in other domains and layouts, to measure the crews on
  documents nobody tuned them for;
* ``holdout`` (``include/<crew>/holdout/golden.yaml``, where a crew has one): cases
  kept apart to measure a change before anyone tunes on them.
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


GOLDEN_SETS: dict[str, str] = {"samples": "golden.yaml", "extended": "eval/golden.yaml",
                                "holdout": "holdout/golden.yaml"}


def golden_sets(choice: str) -> list[str]:
    """The set names ``choice`` stands for (``all`` is every set)."""
    if choice == "all":
        return list(GOLDEN_SETS)
    if choice not in GOLDEN_SETS:
        raise KeyError(f"unknown golden set {choice!r}; known sets: {', '.join(GOLDEN_SETS)}, all")
    return [choice]


def golden_path(crew: str, golden_set: str = "samples") -> Path:
    if crew not in CREWS:
        raise KeyError(f"unknown crew {crew!r}; known crews: {', '.join(sorted(CREWS))}")
    if golden_set not in GOLDEN_SETS:
        raise KeyError(f"unknown golden set {golden_set!r}; known sets: {', '.join(GOLDEN_SETS)}")
    return INCLUDE_DIR / crew / GOLDEN_SETS[golden_set]


def load_golden(crew: str, path: Path | None = None, golden_set: str = "samples") -> list[dict[str, Any]]:
    """The validated records of a crew's golden set (plain dicts)."""
    path = path or golden_path(crew, golden_set)
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
