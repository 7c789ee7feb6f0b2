"""Markdown for the Airflow UI's review pages, safe for values from users, documents and models.

Every value is escaped, so a draft or a contract cannot add links, images, headings or tables to
the page; long values are cut with a note saying so.
"""

from __future__ import annotations

import difflib
import re
import string
from collections.abc import Iterable
from typing import Any

MAX_CELL_CHARS = 300
MAX_BLOCK_CHARS = 6000
MAX_ROWS = 60
_PUNCTUATION = re.compile("([" + re.escape(string.punctuation) + "])")


def escape(text: Any, limit: int = MAX_CELL_CHARS) -> str:
    """``text`` as literal Markdown on one line: every ASCII punctuation character backslash-escaped
    (CommonMark allows that for all of them), whitespace runs folded, cut at ``limit`` characters."""
    flat = " ".join(str(text if text is not None else "").split())
    cut = len(flat) > limit
    flat = flat[:limit]
    return _PUNCTUATION.sub(r"\\\1", flat) + (" … (cut)" if cut else "")


def quote_block(text: Any, limit: int = MAX_BLOCK_CHARS) -> str:
    """``text`` as a Markdown block quote, line breaks kept, every line escaped."""
    body = str(text or "")
    cut = len(body) > limit
    lines = [escape(line, limit) if line.strip() else "" for line in body[:limit].splitlines()] or [""]
    if cut:
        lines.append(f"*… cut at {limit} characters; the MLflow run holds the whole text*")
    return "\n".join(f"> {line}".rstrip() for line in lines)


def word_diff(before: str, after: str, limit: int = MAX_BLOCK_CHARS) -> str:
    """One paragraph: words removed from ``before`` struck out, words added in ``after`` in bold."""
    old, new = str(before or "")[:limit].split(), str(after or "")[:limit].split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(escape(" ".join(old[i1:i2]), limit))
            continue
        if i2 > i1:
            parts.append(f"~~{escape(' '.join(old[i1:i2]), limit)}~~")
        if j2 > j1:
            parts.append(f"**{escape(' '.join(new[j1:j2]), limit)}**")
    return " ".join(parts) or "*(both empty)*"


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    """A Markdown table of escaped cells (at most ``MAX_ROWS`` rows; a note says how many were left out)."""
    rows = list(rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(escape(cell) for cell in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n*{len(rows) - MAX_ROWS} more rows are in the MLflow run.*")
    return "\n".join(lines)
