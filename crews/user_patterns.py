"""Regular expressions that users supply (a column's ``regex``, a fact's ``pattern``), run by RE2.

RE2 matches in time linear in the text, so a pattern such as ``^(.|.|.|.)*X$``
cannot hold a worker (and the one LLM slot) for minutes the way Python's
backtracking ``re`` can. RE2 refuses what it cannot run in linear time
(look-arounds, back-references), repetitions whose product is too large and
programs over :data:`MAX_MEMORY`; that
refusal is a clear input error, raised when the input is loaded, before any
LLM call.
"""

from __future__ import annotations

import functools
from typing import Any

import re2

MAX_LENGTH = 500  # characters of a user pattern
MAX_MEMORY = 1 << 20  # bytes RE2 may use for one compiled pattern ("(a{999}){999}" is refused)


class PatternError(ValueError):
    """A user pattern RE2 cannot compile; the message says why."""


@functools.lru_cache(maxsize=512)
def compile_user_pattern(pattern: str, ignore_case: bool = False) -> Any:
    """The RE2 program of ``pattern`` (``search``/``match``/``fullmatch`` like :mod:`re`)."""
    if len(pattern) > MAX_LENGTH:
        raise PatternError(f"pattern has {len(pattern)} characters; at most {MAX_LENGTH}")
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_MEMORY
    options.case_sensitive = not ignore_case
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = (exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes)
                  else str(exc))
        hint = "; look-arounds and back-references are not supported" if "perl operator" in reason or \
            "escape" in reason else ""
        raise PatternError(f"{pattern!r} is not a regular expression RE2 can run ({reason}){hint}") from exc
