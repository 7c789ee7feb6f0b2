"""Refuse text that carries invisible control characters: NUL and other C0/C1 controls, and the
bidirectional overrides that make text read differently from what it says (U+202E "Trojan Source").

Tabs and line breaks are ordinary text; emoji and every other printable character are allowed.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def control_character_problem(text: str) -> str | None:
    """What is wrong with ``text`` (the first control character, named, and where), or None."""
    match = _CONTROL.search(text)
    if match is None:
        return None
    char = match.group(0)
    name = unicodedata.name(char, "a control character")
    return (f"contains U+{ord(char):04X} ({name.lower()}) at character {match.start() + 1}; control "
            "characters and bidirectional overrides are not allowed")


def refuse_control_characters(text: str) -> str:
    """``text`` unchanged, or a ValueError (for pydantic validators) naming the character."""
    if problem := control_character_problem(text):
        raise ValueError(problem)
    return text
