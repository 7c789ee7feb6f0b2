"""The gate a rewrite must pass before it can be approved, decided in code.

The copywriter's rewrite is checked claim by claim like the draft was
(:func:`crews.fact_check.claim_checks.check_copy`). It passes only when

* every claim in it is supported by the fact sheet (no unsupported claim added or left),
* every fact the draft stated correctly is still stated (no supported claim dropped),
* it contains no prompt text: no run of words from the crew's agent and task
  prompts or from CrewAI's own prompt wording that the draft does not have
  (a model that echoes "This is the expected criteria for your final answer: ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from crews.fact_check.claim_checks import check_copy
from crews.fact_check.schemas import ClaimCheck, FactSheet
from crews.prompt_echo import prompt_echo as echoed
from crews.tracking.steps import traced_step

CONFIG_DIR = Path(__file__).parent / "config"


@dataclass
class GateResult:
    problems: list[str] = field(default_factory=list)
    unsupported: list[ClaimCheck] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems


def prompt_echo(text: str, *sources: str) -> str | None:
    """A run of the crew's prompt words in ``text`` that none of ``sources`` (the draft, the fixed copy)
    contains."""
    return echoed(text, CONFIG_DIR, *sources)


@traced_step("tool")
def check_revision(rewrite: str, draft_checks: list[ClaimCheck], sheet: FactSheet,
                   *sources: str) -> GateResult:
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
