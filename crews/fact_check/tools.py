"""The fact-checking crew's CrewAI tool: compare the copy's claims with the fact sheet.

The pipeline calls it on every draft (:func:`crews.fact_check.pipeline.verify_claims`); a fact
checker whose LLM calls tools natively may call it on a claim of its own. The verdict rules are in
:mod:`crews.fact_check.claim_checks`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from crews.fact_check.claim_checks import check_copy
from crews.fact_check.request import MAX_COPY_CHARS
from crews.fact_check.schemas import ClaimCheck, FactSheet
from crews.runtime.tools import CrewTool, ToolResult

MAX_QUOTED_CLAIMS = 200


class CheckClaimsArgs(BaseModel):
    copy_text: str = Field(min_length=1, max_length=MAX_COPY_CHARS,
                           description="the marketing copy, or one claim of it")
    claims: list[str] = Field(default_factory=list, max_length=MAX_QUOTED_CLAIMS,
                              description="claims quoted from the copy, checked besides the ones code finds")


class ClaimChecks(ToolResult):
    """Every atomic claim of the copy with its verdict and the fact sheet's evidence."""

    checks: list[ClaimCheck]


class CheckClaimsTool(CrewTool):
    """Verdicts (supported, contradicted, unverifiable) on the claims of a text, from one fact sheet."""

    name: str = "check_claims"
    description: str = ("Check marketing copy against the product's fact sheet: every atomic claim comes "
                        "back with a verdict (supported, contradicted, unverifiable), the fact sheet's "
                        "evidence and, for a wrong value, the corrected claim.")
    args_schema: type[BaseModel] = CheckClaimsArgs
    sheet: FactSheet

    def _run(self, copy_text: str, claims: list[str] | None = None) -> ClaimChecks:
        return ClaimChecks(checks=check_copy(copy_text, self.sheet, [str(c) for c in claims or []]))
