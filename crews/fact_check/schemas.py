"""Inputs, agent outputs and the final report of the fact-checking crew."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Verdict = Literal["supported", "contradicted", "unverifiable"]

MAX_COPY_CHARS = 20_000


class Fact(BaseModel):
    """One approved fact from a fact sheet."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    aliases: list[str] = Field(default_factory=list)
    value: float | int | str
    unit: str | None = None
    pattern: str | None = Field(
        default=None, description="regex that finds the claimed value of a non-numeric fact"
    )
    statement: str = Field(min_length=1)
    prohibited: list[str] = Field(
        default_factory=list, description="phrases the copy must not use about this fact (e.g. 'waterproof')"
    )
    tolerance: float = Field(default=0.0, ge=0, description="relative tolerance for numbers")


class FactSheet(BaseModel):
    """The approved specs and claims for one product."""

    model_config = ConfigDict(extra="forbid")

    product: str = Field(min_length=1)
    facts: list[Fact] = Field(min_length=1)

    @field_validator("facts")
    @classmethod
    def _unique_ids(cls, facts: list[Fact]) -> list[Fact]:
        ids = [f.id for f in facts]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"duplicate fact ids: {', '.join(duplicates)}")
        return facts


class DraftInput(BaseModel):
    """One draft to check: the copy and the fact sheet it must agree with."""

    model_config = ConfigDict(extra="forbid")

    draft_id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
    copy_text: str = Field(min_length=1, max_length=MAX_COPY_CHARS)
    fact_sheet: FactSheet

    @field_validator("copy_text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("copy_text is blank")
        return value


# --- what the agents answer -------------------------------------------------


class ExtractedClaims(BaseModel):
    """Fact checker: the factual claims made in the copy, quoted."""

    claims: list[str] = Field(description="each factual claim, copied word for word from the copy")


class RevisedCopy(BaseModel):
    """Copywriter: the copy rewritten so that every claim is supported."""

    revised_copy: str
    changes: list[str] = Field(default_factory=list, description="what was changed and why")


class EditorReview(BaseModel):
    """Editor: the publishing decision on the revised copy."""

    approved: bool
    notes: str = ""


# --- the result ---------------------------------------------------------------


class Evidence(BaseModel):
    fact_id: str
    statement: str
    reference_value: str
    claimed_value: str | None = None


class ClaimCheck(BaseModel):
    """One claim with the verdict reached by the deterministic tools."""

    claim_id: int
    claim: str
    verdict: Verdict
    evidence: list[Evidence] = Field(default_factory=list)
    reason: str
    corrected_claim: str | None = Field(default=None, description="the claim with the fact sheet's values")
    found_by: Literal["model", "tools"] = "model"


class FactCheckReport(BaseModel):
    """Everything the crew produced for one draft."""

    draft_id: str
    product: str
    claims: list[ClaimCheck]
    revised_copy: str
    fact_checked_copy: str = Field(
        description="the copy with the tools' fixes applied, before the copywriter's polish"
    )
    changes: list[str] = Field(default_factory=list)
    approved: bool
    approval_reason: str
    editor_notes: str = ""
    remaining_problems: list[ClaimCheck] = Field(
        default_factory=list, description="claims in the revised copy that are still not supported"
    )
    review_score: float = Field(default=1.0, description="share of claims the tools could verify")
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list)
    withheld: list[str] = Field(
        default_factory=list, description="sentences addressed to an AI system, withheld from the agents"
    )

    @property
    def verdict_counts(self) -> dict[str, int]:
        counts = {"supported": 0, "contradicted": 0, "unverifiable": 0}
        for claim in self.claims:
            counts[claim.verdict] += 1
        return counts
