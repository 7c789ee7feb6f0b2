"""Which crews exist and how to run them; specs are imported lazily by name."""

from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

CREWS: dict[str, str] = {
    "fact_check": "crews.fact_check.spec:SPEC",
    "data_qa": "crews.data_qa.spec:SPEC",
    "contract_qa": "crews.contract_qa.spec:SPEC",
}


@dataclass(frozen=True)
class CrewSpec:
    """How the runner drives one crew.

    ``load_input`` turns a JSON payload (inline values or file references) into
    the crew's validated input; ``run`` executes the crew with an LLM;
    ``metrics`` and ``summary`` describe a result for MLflow and result tables;
    ``artifacts`` names extra files (JSON-able values) to attach to the MLflow run;
    ``output_model`` is the result's schema and ``score`` rates a result against a
    golden record's expectations (see :mod:`crews.evaluation`); ``schemas`` are the
    documents a user writes for the crew, published by ``python -m crews schema``.
    """

    name: str
    config_dir: Path
    load_input: Callable[..., BaseModel]
    item_id: Callable[[BaseModel], str]
    run: Callable[[BaseModel, Any], BaseModel]
    metrics: Callable[[BaseModel], dict[str, float]]
    summary: Callable[[BaseModel], dict[str, Any]]
    output_model: type[BaseModel]
    score: Callable[[Any, dict[str, Any]], dict[str, float]]
    artifacts: Callable[[BaseModel], dict[str, Any]] | None = None
    schemas: dict[str, type[BaseModel]] = field(default_factory=dict)


def get_spec(name: str) -> CrewSpec:
    if name not in CREWS:
        raise KeyError(f"unknown crew {name!r}; known crews: {', '.join(sorted(CREWS))}")
    module_name, _, attr = CREWS[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)


def _prompt_files(config_dir: Path) -> list[Path]:
    return sorted(config_dir.glob("*.y*ml"))


def prompt_hash(config_dir: Path) -> str:
    """sha256 (first 16 hex digits) over the crew's YAML prompt files, in name order."""
    digest = hashlib.sha256()
    for path in _prompt_files(config_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def prompt_template(config_dir: Path) -> str:
    """The crew's YAML prompt files as one text (what the prompt registry stores)."""
    return "\n".join(f"# --- {path.name}\n{path.read_text(encoding='utf-8')}" for path in _prompt_files(config_dir))
