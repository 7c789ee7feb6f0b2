"""Which crews exist and how to run them; specs are imported lazily by name."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from crews.prompt_source import build_template, config_files, template_hash

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


def crew_config_dir(crew: str) -> Path:
    """The crew's ``config/`` folder (its spec's ``config_dir``), without importing the crew."""
    if crew not in CREWS:
        raise KeyError(f"unknown crew {crew!r}; known crews: {', '.join(sorted(CREWS))}")
    return Path(__file__).parent / crew / "config"


def prompt_template(config_dir: Path) -> str:
    """The crew's YAML config files as one text in the prompt registry's form (``# --- <file>`` before
    each file, placeholders as ``{{name}}``); :func:`crews.prompt_source.split_template` splits it back."""
    return build_template(config_files(config_dir))


def prompt_hash(config_dir: Path) -> str:
    """sha256 (first 16 hex digits) of :func:`prompt_template`: equal for the same prompts from the YAML
    files or from a registry version."""
    return template_hash(prompt_template(config_dir))
