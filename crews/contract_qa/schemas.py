"""Inputs, agent outputs and the final answer of the contract Q&A crew."""

from __future__ import annotations

import functools
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from crews.contract_qa.citations import normalize as normalize_text
from crews.contract_qa.documents import Contract

RegisterField = Literal[
    "counterparty", "contract_type", "value_eur", "start_date", "end_date",
    "auto_renewal", "notice_days", "governing_law",
]

Route = Literal["documents", "register", "both"]
NOT_FOUND = "Not found in the contract."


class QuestionInput(BaseModel):
    """One (contract, question) pair, with the parsed contract and its register row."""

    question_id: str
    question: str
    contract: Contract
    register_row: dict[str, Any] | None = None


class Routing(BaseModel):
    """Coordinator: where the answer is and what to look up."""

    register_fields: list[RegisterField]
    route: Route
    search_terms: str = Field(default="", description="extra keywords for the clause search")


class EvidenceSelection(BaseModel):
    """Retriever: the candidate clauses that bear on the question."""

    clause_ids: list[str] = Field(default_factory=list)


class QuotedCitation(BaseModel):
    clause_id: str
    quote: str


class AnalystAnswer(BaseModel):
    """Analyst: quotes first, then the answer they support (or :data:`NOT_FOUND`)."""

    citations: list[QuotedCitation] = Field(min_length=1)
    answer: str
    confidence: float = Field(ge=0, le=1)

    @property
    def found(self) -> bool:
        """False when the analyst cites nothing real ("none") or still says it is not found."""
        cited = any(c.clause_id.strip("[] ").lower() not in ("", "none") for c in self.citations)
        return cited and bool(self.answer.strip()) and not normalize_text(self.answer).startswith("not found")


@functools.lru_cache(maxsize=256)
def answer_model(labels: tuple[str, ...]) -> type[AnalystAnswer]:
    """:class:`AnalystAnswer` whose citations can only name ``labels`` (the evidence shown) or ``"none"``.

    The JSON schema carries the ids as an ``enum``: llama.cpp turns it into a
    grammar and other providers get it as ``json_schema``, so the model cannot
    cite a clause that does not exist or its position in the list.
    """
    label = Literal[tuple(dict.fromkeys([*labels, "none"]))]  # type: ignore[valid-type]
    citation = create_model("QuotedCitation", __base__=QuotedCitation,
                            clause_id=(label, Field(description="the id in square brackets, or none")))
    return create_model("AnalystAnswer", __base__=AnalystAnswer,
                        citations=(list[citation], Field(min_length=1)))  # type: ignore[valid-type]


class GroundednessReview(BaseModel):
    """Reviewer: does the quoted text support the answer?"""

    grounded: bool
    reason: str


class Citation(BaseModel):
    contract_id: str
    clause_id: str
    quote: str
    repaired: bool = Field(default=False,
                           description="the quote was nearly verbatim and was replaced by the exact sentence")
    attributed: bool = Field(default=False,
                             description="the quote was found in another clause than the one cited")


class EvidenceItem(BaseModel):
    clause_id: str
    score: float
    text: str
    selected: bool
    withheld: list[str] = Field(default_factory=list)


class ContractAnswer(BaseModel):
    question_id: str
    contract_id: str
    question: str
    answer: str
    found: bool
    citations: list[Citation]
    source_used: Literal["documents", "register", "both", "none"]
    route: Route
    confidence: float
    grounded: bool
    needs_review: bool
    review_reasons: list[str] = Field(default_factory=list)
    rejected_citations: list[QuotedCitation] = Field(default_factory=list)
    evidence: list[EvidenceItem] = Field(default_factory=list)
    register_facts: dict[str, Any] = Field(default_factory=dict)
    reviewer_note: str = ""
