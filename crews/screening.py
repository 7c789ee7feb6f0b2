"""Untrusted text (contract clauses, marketing copy): find sentences that try to instruct the model.

Flagged sentences are withheld from the prompt (replaced by a marker, or
dropped) and reported; the rest of the text stays usable. The prompts also
delimit all untrusted text and say it is data, so this is the second line of
defence, not the only one.
"""

from __future__ import annotations

import re

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(\s+)")
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instruction|prompt|above|previous|prior|rule)s?\b"
    r"|\b(ai|language model|llm|assistant|chatbot)\b.{0,60}\b(answer|say|state|respond|reply|must|should)\b"
    r"|^\s*(system|assistant|user)\s*:"
    r"|\byou are now\b|\bnew instructions?\b",
    re.IGNORECASE,
)
WITHHELD = "[withheld: text addressed to an AI system]"


def screen(text: str, replacement: str = WITHHELD) -> tuple[str, list[str]]:
    """(``text`` with instruction-like sentences replaced by ``replacement``, the flagged sentences).

    The whitespace between sentences is kept; with ``replacement=""`` a flagged
    sentence is dropped together with the whitespace after it.
    """
    parts = _SENTENCE_BREAK.split(text)  # sentence, break, sentence, break, ..., sentence
    kept, flagged = [], []
    for i in range(0, len(parts), 2):
        sentence, brk = parts[i], parts[i + 1] if i + 1 < len(parts) else ""
        if _INSTRUCTION.search(sentence):
            flagged.append(sentence)
            kept.append(replacement + brk if replacement else "")
        else:
            kept.append(sentence + brk)
    return ("".join(kept).rstrip() if flagged and not replacement else "".join(kept)), flagged
