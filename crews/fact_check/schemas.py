"""Inputs, agent outputs and the final report of the fact-checking crew."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from crews.contract import ID_PATTERN, ItemId
from crews.fact_check.quantities import Qualifier, Quantity, Unit, find_quantities, parse_unit
from crews.fact_check.request import MAX_COPY_CHARS
from crews.text_safety import refuse_control_characters
from crews.user_patterns import PatternError, compile_user_pattern

Verdict = Literal["supported", "contradicted", "unverifiable"]
UNITLESS = ("count", "version")  # unit words of plain numbers (a count of seats, a Bluetooth version)



class ValueRange(BaseModel):
    """A range of values (sizes 38 to 46, an operating temperature of -20 to 40 °C)."""

    model_config = ConfigDict(extra="forbid")

    min: float = Field(description="the smallest value")
    max: float = Field(description="the largest value")

    @model_validator(mode="after")
    def _ordered(self) -> ValueRange:
        if self.max < self.min:
            raise ValueError(f"range min {self.min:g} is larger than max {self.max:g}")
        return self


class Fact(BaseModel):
    """One approved fact from a fact sheet: what it is about, its value and the approved wording."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=100, pattern=ID_PATTERN,
                    description="unique id of the fact within the sheet")
    subject: str = Field(min_length=1, max_length=200,
                         description="what the fact is about, as copy names it (e.g. 'battery life')")
    aliases: list[str] = Field(default_factory=list, max_length=50,
                               description="other words copy uses for the subject "
                                           "(e.g. 'battery', 'playback')")
    value: float | int | str | ValueRange | list[str | float] = Field(
        description="a number (with unit), a text or code (e.g. 'IPX4'), a range {min, max} or a list of "
                    "options (colours, sizes)")
    unit: str | None = Field(
        default=None, max_length=40,
        description="unit of a numeric value: any unit pint knows (h, min, km, mi, kg, lb, mAh, Wh, Mbps, "
                    "GB, m², sq ft, °C, kcal, %, ...) or an ISO 4217 currency code (EUR, GBP, USD, CHF, JPY, "
                    "...), optionally per period ('EUR/month'); 'count' or 'version' or none for plain "
                    "numbers")
    qualifier: Qualifier | None = Field(
        default=None,
        description="what the value means: exact, up_to (a maximum, 'up to 30 h'), at_least (a minimum), "
                    "about, from (a starting price), over, under; default: read from the statement's "
                    "wording, else exact")
    pattern: str | None = Field(
        default=None, max_length=200,
        description="regex (RE2 syntax, case-insensitive, run in linear time) that finds the claimed value "
                    "of a coded fact (e.g. 'IPX\\d' for a water rating)")
    statement: str = Field(min_length=1, max_length=1000, description="the approved wording of the fact")
    prohibited: list[str] = Field(
        default_factory=list, max_length=50,
        description="phrases the copy must never use about this subject (e.g. 'waterproof' for an IPX4 "
                    "rating); a claim that uses one is contradicted whatever else it says")
    tolerance: float = Field(default=0.0, ge=0, le=1,
                             description="relative tolerance for numbers (0.05 = 5 %)")

    @model_validator(mode="after")
    def _consistent(self) -> Fact:
        numeric = not isinstance(self.value, str) and not (
            isinstance(self.value, list) and all(isinstance(v, str) for v in self.value))
        if self.unit is not None and self.unit.strip().lower() not in UNITLESS and self.fact_unit is None:
            raise ValueError(f"fact {self.id!r}: unit {self.unit!r} is not a unit pint knows nor an ISO 4217 "
                             "currency code (examples: h, km, kg, Mbps, m², °C, %, EUR, EUR/month)")
        if self.unit is not None and not numeric:
            raise ValueError(f"fact {self.id!r}: has a unit ({self.unit!r}) but its value is text")
        if isinstance(self.value, list) and not self.value:
            raise ValueError(f"fact {self.id!r}: a list value needs at least one option")
        if self.pattern is not None:
            try:
                compile_user_pattern(self.pattern, ignore_case=True)
            except PatternError as exc:
                raise ValueError(f"fact {self.id!r}: pattern {exc}") from exc
        if (isinstance(self.value, list) and numeric
                and not all(isinstance(v, (int, float)) for v in self.value)):
            raise ValueError(f"fact {self.id!r}: a list value holds options of one kind "
                             "(all texts or all numbers)")
        return self

    @property
    def fact_unit(self) -> Unit | None:
        """The parsed unit (None for plain numbers and text values)."""
        if self.unit is None or self.unit.strip().lower() in UNITLESS:
            return None
        return parse_unit(self.unit.strip(), in_copy=False)

    @property
    def is_numeric(self) -> bool:
        if isinstance(self.value, list):
            return all(isinstance(v, (int, float)) for v in self.value)
        return not isinstance(self.value, str)

    def quantities(self) -> list[Quantity]:
        """The fact's value(s) as quantities (one per option of a numeric list)."""
        from crews.fact_check.quantities import COUNT

        if not self.is_numeric:
            return []
        unit = self.fact_unit or COUNT
        qualifier = self.qualifier or _stated_qualifier(self.statement)
        if isinstance(self.value, ValueRange):
            return [Quantity(self.value.min, self.value.max, unit, "exact")]
        values = self.value if isinstance(self.value, list) else [self.value]
        return [Quantity(float(v), float(v), unit, qualifier) for v in values]

    def display_value(self) -> str:
        if isinstance(self.value, ValueRange):
            value = f"{self.value.min:g}-{self.value.max:g}"
        elif isinstance(self.value, list):
            value = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in self.value)
        elif isinstance(self.value, float):
            value = f"{self.value:g}"
        else:
            value = str(self.value)
        return f"{value} {self.unit}" if self.unit else value


def _stated_qualifier(statement: str) -> Qualifier:
    """The qualifier the statement gives its first quantity ("Up to 30 hours ..." -> ``up_to``)."""
    found = find_quantities(statement)
    return found[0].qualifier if found else "exact"


class FactSheet(BaseModel):
    """The approved specs and claims for one product: what marketing copy may state about it."""

    model_config = ConfigDict(extra="forbid", title="Fact sheet")

    product: str = Field(min_length=1, max_length=300, description="the product the copy is about")
    facts: list[Fact] = Field(min_length=1, max_length=500, description="the approved facts")
    _lookup: object = PrivateAttr(default=None)  # the tools' word index of the facts, built on first use

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

    draft_id: ItemId
    copy_text: str = Field(min_length=1, max_length=MAX_COPY_CHARS)
    fact_sheet: FactSheet
    fact_sheet_format: Literal["structured", "plain"] = Field(
        default="structured", description="plain: converted from 'Key: value' lines (the converted sheet is "
                                          "stored with the run's inputs in MLflow)")

    @field_validator("copy_text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("copy_text is blank")
        return refuse_control_characters(value)


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
    """One atomic claim (one fact) with the verdict reached by the deterministic tools."""

    claim_id: int
    claim: str
    start: int = Field(default=-1,
                       description="character offset of the claim in the checked copy (-1: not located)")
    end: int = Field(default=-1, description="end offset (exclusive) of the claim in the checked copy")
    sentence: str = Field(default="", description="the sentence of the copy the claim is part of")
    verdict: Verdict
    evidence: list[Evidence] = Field(default_factory=list)
    reason: str
    corrected_claim: str | None = Field(default=None, description="the claim with the fact sheet's values")
    found_by: Literal["model", "tools"] = "model"


class FactCheckReport(BaseModel):
    """Everything the crew produced for one draft.

    Two verdicts: ``draft_ok`` is about the draft (every claim in it is supported);
    ``revision_approved`` is about the rewrite (None when the draft needed none).
    """

    draft_id: str
    product: str
    draft_copy: str = Field(default="", description="the draft as submitted, for the reviewer's comparison")
    claims: list[ClaimCheck]
    draft_ok: bool = Field(description="every claim of the draft is supported (and nothing was withheld)")
    revision_approved: bool | None = Field(
        default=None,
        description="the rewrite passed the revision gate and the editor; None when no rewrite was needed")
    revised_copy: str = Field(
        description="the approved rewrite, or the tools' corrected copy when it was rejected")
    fact_checked_copy: str = Field(
        description="the copy with the tools' fixes applied, before the copywriter's polish"
    )
    rejected_rewrite: str | None = Field(default=None,
                                         description="the copywriter's rewrite, when the gate refused it")
    revision_problems: list[str] = Field(default_factory=list, description="why the gate refused the rewrite")
    changes: list[str] = Field(default_factory=list)
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
    def publishable(self) -> bool:
        """The draft is right as it is, or its rewrite was approved."""
        return self.draft_ok or bool(self.revision_approved)

    @property
    def status(self) -> str:
        if self.draft_ok:
            return "draft ok"
        return "revision approved" if self.revision_approved else "needs changes"

    @property
    def verdict_counts(self) -> dict[str, int]:
        counts = {"supported": 0, "contradicted": 0, "unverifiable": 0}
        for claim in self.claims:
            counts[claim.verdict] += 1
        return counts
