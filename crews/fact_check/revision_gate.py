"""The gate a rewrite must pass before it can be approved, decided in code.

The copywriter's rewrite is checked claim by claim like the draft was
(:func:`crews.fact_check.tools.check_copy`). It passes only when

* every claim in it is supported by the fact sheet (no unsupported claim added or left),
* every fact the draft stated correctly is still stated (no supported claim dropped),
* it contains no prompt text: no run of words from the crew's agent and task
  prompts or from CrewAI's own prompt wording that the draft does not have
  (a model that echoes "This is the expected criteria for your final answer: ...").
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from crews.fact_check.schemas import ClaimCheck, FactSheet
from crews.fact_check.tools import check_copy

CONFIG_DIR = Path(__file__).parent / "config"
SHINGLE = 6  # words in a row that count as an echo of the prompt
_WORD = re.compile(r"[a-z0-9]+")
_DELIMITERS = re.compile(r"<<<|>>>|\b(?:COPY|DRAFT)>>>|<<<(?:COPY|DRAFT)\b")


@dataclass
class GateResult:
    problems: list[str] = field(default_factory=list)
    unsupported: list[ClaimCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


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
def prompt_shingles(config_dir: Path = CONFIG_DIR) -> frozenset[tuple[str, ...]]:
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


def prompt_echo(text: str, *sources: str) -> str | None:
    """A run of prompt words in ``text`` that none of ``sources`` (the draft, the fixed copy) contains."""
    if _DELIMITERS.search(text):
        return _DELIMITERS.search(text).group(0)
    allowed: set[tuple[str, ...]] = set()
    for source in sources:
        allowed |= _shingles(source)
    for shingle in sorted(_shingles(text) - allowed):
        if shingle in prompt_shingles():
            return " ".join(shingle)
    return None


def check_revision(rewrite: str, draft_checks: list[ClaimCheck], sheet: FactSheet, *sources: str) -> GateResult:
    """Whether ``rewrite`` may be approved, and if not, why (see the module docstring)."""
    result = GateResult()
    if not rewrite.strip():
        result.problems.append("the rewrite is empty")
        return result
    echo = prompt_echo(rewrite, *sources)
    if echo:
        result.problems.append(f"the rewrite contains prompt text ({echo!r})")
    rechecked = check_copy(rewrite, sheet)
    result.unsupported = [c for c in rechecked if c.verdict != "supported"]
    for claim in result.unsupported:
        result.problems.append(f"{claim.verdict} claim in the rewrite: {claim.claim!r} ({claim.reason})")
    stated = {e.fact_id for c in rechecked if c.verdict == "supported" for e in c.evidence}
    for claim in draft_checks:
        facts = {e.fact_id for e in claim.evidence}
        if claim.verdict == "supported" and facts and not facts & stated:
            result.problems.append(f"the rewrite drops the supported claim {claim.claim!r}")
    return result
