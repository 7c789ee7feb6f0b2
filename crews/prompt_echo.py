"""Prompt text echoed back in a model's answer ("This is the expected criteria for your final answer: ...").

A small model sometimes copies its task description into its answer. An echo is a
run of :data:`SHINGLE` words that occurs in the crew's agent and task prompts (or in
CrewAI's own prompt wording) and in none of the texts the answer may quote (the
draft, the findings), or a prompt delimiter such as ``<<<DRAFT``.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import yaml

SHINGLE = 6  # words in a row that count as an echo of the prompt
_WORD = re.compile(r"[a-z0-9]+")
_DELIMITERS = re.compile(r"<<<|>>>")


def _shingles(text: str, size: int = SHINGLE) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + size]) for i in range(len(words) - size + 1)}


def _strings(node: object) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


@functools.cache
def prompt_shingles(config_dir: Path) -> frozenset[tuple[str, ...]]:
    """Word runs of the crew's prompts (placeholders removed) and of CrewAI's prompt slices."""
    texts = []
    for name in ("agents.yaml", "tasks.yaml"):
        texts += _strings(yaml.safe_load((config_dir / name).read_text(encoding="utf-8")))
    try:
        import crewai

        slices = Path(crewai.__file__).parent / "translations" / "en.json"
        texts += _strings(json.loads(slices.read_text(encoding="utf-8")).get("slices", {}))
    except (ImportError, OSError, ValueError):  # the crew's own prompts still count
        pass
    shingles: set[tuple[str, ...]] = set()
    for text in texts:
        for part in re.split(r"\{[^}]*\}", text):
            shingles |= _shingles(part)
    return frozenset(shingles)


def prompt_echo(text: str, config_dir: Path, *sources: str) -> str | None:
    """A run of words of the prompts in ``config_dir`` in ``text`` that none of ``sources`` contains."""
    if delimiter := _DELIMITERS.search(text):
        return delimiter.group(0)
    allowed: set[tuple[str, ...]] = set()
    for source in sources:
        allowed |= _shingles(source)
    for shingle in sorted(_shingles(text) - allowed):
        if shingle in prompt_shingles(config_dir):
            return " ".join(shingle)
    return None


