"""Which crews exist: the one list of them. Contracts are imported lazily by name."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from crews.prompt_source import build_template, config_files, template_hash

if TYPE_CHECKING:
    from crews.contract import CrewContract

CREWS: dict[str, str] = {
    "fact_check": "crews.fact_check.contract:FactCheck",
    "data_qa": "crews.data_qa.contract:DataQA",
    "contract_qa": "crews.contract_qa.contract:ContractQA",
}


def crew_names() -> list[str]:
    """Every crew, in the order the project lists them."""
    return list(CREWS)


def _known(name: str) -> str:
    if name not in CREWS:
        raise KeyError(f"unknown crew {name!r}; known crews: {', '.join(sorted(CREWS))}")
    return CREWS[name]


@cache
def get_crew(name: str) -> CrewContract:
    """The crew's contract (:class:`crews.contract.CrewContract`)."""
    module_name, _, attr = _known(name).partition(":")
    return getattr(importlib.import_module(module_name), attr)()


def crew_config_dir(crew: str) -> Path:
    """The crew's ``config/`` folder (its contract's ``config_dir``), without importing the crew."""
    _known(crew)
    return Path(__file__).parent / crew / "config"


def prompt_template(config_dir: Path) -> str:
    """The crew's YAML config files as one text in the prompt registry's form (``# --- <file>`` before
    each file, placeholders as ``{{name}}``); :func:`crews.prompt_source.split_template` splits it back."""
    return build_template(config_files(config_dir))


def prompt_hash(config_dir: Path) -> str:
    """sha256 (first 16 hex digits) of :func:`prompt_template`: equal for the same prompts from the YAML
    files or from a registry version."""
    return template_hash(prompt_template(config_dir))
