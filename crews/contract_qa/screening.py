"""Contract text is untrusted data: find sentences that try to instruct the model.

Flagged sentences are withheld from the prompt (replaced by a marker) and
reported; the rest of the clause stays usable as evidence. The prompts also
delimit all contract text and say it is data, so this is the second line of
defence, not the only one.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|above|previous|prior|rule)s?\b"
    r"|\b(ai|language model|llm|assistant|chatbot)\b.{0,60}\b(answer|say|state|respond|reply|must|should)\b"
    r"|^\s*(system|assistant|user)\s*:"
    r"|\byou are now\b|\bnew instructions?\b",
    re.IGNORECASE,
)
WITHHELD = "[withheld: text addressed to an AI system]"


def screen(text: str) -> tuple[str, list[str]]:
    """(text with instruction-like sentences replaced by :data:`WITHHELD`, the flagged sentences)."""
    kept, flagged = [], []
    for sentence in _SENTENCE.split(text):
        if _INSTRUCTION.search(sentence):
            flagged.append(sentence)
            kept.append(WITHHELD)
        else:
            kept.append(sentence)
    return " ".join(kept), flagged
