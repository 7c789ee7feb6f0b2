"""A scripted stand-in for the fact-check agents (unit and DAG tests only).

It answers like a diligent model would: every sentence of the copy is a claim,
the copywriter returns the fact-checked draft unchanged, the editor approves.
"""

from __future__ import annotations

import re
from typing import Any

from crews.fact_check.claims import split_sentences
from crews.fact_check.schemas import EditorReview, ExtractedClaims, RevisedCopy
from tests.support import user_prompt


def _between(text: str, marker: str) -> str:
    match = re.search(rf"<<<{marker}\s*(.*?)\s*{marker}>>>", text, re.DOTALL)
    if not match:
        raise AssertionError(f"prompt has no <<<{marker} ... {marker}>>> block")
    return match.group(1)


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    prompt = user_prompt(messages) or (messages[-1]["content"] if messages else "")
    if response_model is ExtractedClaims:
        return ExtractedClaims(claims=split_sentences(_between(prompt, "COPY")))
    if response_model is RevisedCopy:
        return RevisedCopy(revised_copy=_between(prompt, "DRAFT"),
                           changes=["applied the fact checker's fixes"])
    if response_model is EditorReview:
        return EditorReview(approved=True, notes="Every claim is now supported.")
    raise AssertionError(f"unexpected response model {response_model}")
