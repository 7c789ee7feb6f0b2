"""A scripted stand-in for the contract Q&A agents (tests only).

It behaves like a careful model: routes questions that name a register field
to the register, keeps the top search hit, quotes the first sentence of the first
evidence item verbatim, and abstains when that evidence shares fewer than two
content words with the question.
"""

from __future__ import annotations

import re
from typing import Any

from crews.contract_qa.register import fields_named_in
from crews.contract_qa.schemas import (
    AnalystAnswer,
    EvidenceSelection,
    GroundednessReview,
    Routing,
)
from tests.support import user_prompt


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 4}


def respond(messages: list[dict[str, Any]], response_model: Any) -> Any:
    prompt = user_prompt(messages)
    if response_model is Routing:
        question = prompt.split(": ", 1)[-1].split("\n")[0].lower()
        fields = fields_named_in(question)
        return Routing(route="register" if fields else "documents", register_fields=fields, search_terms="")
    if response_model is EvidenceSelection:
        return EvidenceSelection(clause_ids=re.findall(r"^\[([^\]]+)\]", prompt, re.M)[:1])
    if issubclass(response_model, AnalystAnswer):  # the per-question schema with the clause ids as an enum
        question = re.search(r"Question about contract \S+: (.*)", prompt)[1]
        items = re.findall(r"^\[([^\]]+)\] (.*)$", prompt, re.M)
        clause_id, text = items[0]
        if not clause_id.startswith("register.") and len(_words(question) & _words(text)) < 2:
            return response_model.model_validate({"citations": [{"clause_id": "none", "quote": ""}],
                                                  "answer": "", "confidence": 0.9})
        quote = re.split(r"(?<=[.;])\s", text)[0]
        return response_model.model_validate({"citations": [{"clause_id": clause_id, "quote": quote}],
                                              "answer": f"The contract says: {quote}", "confidence": 0.9})
    if response_model is GroundednessReview:
        return GroundednessReview(grounded=True, reason="The quote states the answer.")
    raise AssertionError(f"unexpected response model {response_model}")


def respond_unsure_about_hours(messages: list[dict[str, Any]], response_model: Any) -> Any:
    """As :func:`respond`, but unsure (confidence 0.3) of any answer to a question about hours."""
    answer = respond(messages, response_model)
    question = re.search(r"Question about contract \S+: (.*)", user_prompt(messages))
    if isinstance(answer, AnalystAnswer) and question and "hours" in question[1]:
        return answer.model_copy(update={"confidence": 0.3})
    return answer
