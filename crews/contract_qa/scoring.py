"""Scores of contract answers against a question set's expectations (code-based, no LLM).

``expected_answer`` strings match when their numbers and dates (normalised:
"25,000" == "25000", "30 September 2027" == "2027-09-30") all occur in the
answer, or, for strings without numbers, when they occur as whole words ("No"
is not found in "notice").
"""

from __future__ import annotations

import re
from typing import Any

from crews.contract_qa.citations import normalize, numbers
from crews.contract_qa.schemas import ContractAnswer


def answer_matches(answer: str, expected: list[str]) -> bool:
    found_numbers = numbers(answer)
    text = normalize(answer)
    for key in expected:
        wanted = numbers(key)
        words = re.compile(rf"(?<!\w){re.escape(normalize(key))}(?!\w)")
        if not (wanted <= found_numbers if wanted else words.search(text)):
            return False
    return True


def score(answer: ContractAnswer, expectation: dict[str, Any]) -> dict[str, float]:
    """Per-question scores: correctness, correctness with a citation of the right clause (or register
    field), abstention (and whether abstaining was right), wrong answers sent out without review,
    retrieval hit, citation validity."""
    expected_clauses = set(expectation.get("expected_clauses") or [])
    retrieved = {e.clause_id for e in answer.evidence if e.selected}
    cited = {c.clause_id for c in answer.citations}
    answerable = bool(expectation.get("answerable", True))
    if answerable:
        correct = answer.found and answer_matches(answer.answer, expectation.get("expected_answer") or [])
    else:
        correct = not answer.found
    if answerable and expected_clauses:
        correct_cited = correct and bool(expected_clauses & cited)
    elif answerable:
        correct_cited = correct and any(c.startswith("register.") for c in cited)
    else:
        correct_cited = correct
    result = {
        "correct": float(correct),
        "correct_cited": float(correct_cited),
        "wrong_unreviewed": float(not correct and not answer.needs_review),
        "abstained": float(not answer.found),
        "abstention_correct": float(answer.found == answerable),
        "grounded": float(answer.grounded),
        "needs_review": float(answer.needs_review),
    }
    given = len(answer.citations) + len(answer.rejected_citations)
    if given:
        result["citations_valid"] = len(answer.citations) / given
    if expected_clauses:
        result["retrieval_hit"] = float(expected_clauses <= retrieved)
        result["cited_expected_clause"] = float(bool(expected_clauses & cited))
    return result
