"""PII redaction of what the crews log and track: emails, phone numbers, IBANs, payment cards.

Regexes find candidates; code decides. IBANs must pass the ISO 13616 checksum
and cards (13-19 digits, first digit 2-6) the Luhn check, both with
python-stdnum; phone numbers need 9-15 digits and an international (``+``,
``00``), trunk (``0``), bracketed or North American shape, so prices, dates,
years, percentages and SKU codes stay. Matches become ``<EMAIL>``, ``<PHONE>``,
``<IBAN>``, ``<CARD>``. Boundaries also hold inside JSON text (``\\n4111 ...``).

``include/redaction.yaml`` (or ``CREWS_REDACTION_FILE``) switches kinds on;
``CREWS_REDACT_PII=false`` switches it all off.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from crews.paths import INCLUDE_DIR

TOKENS = {"email": "<EMAIL>", "iban": "<IBAN>", "phone": "<PHONE>", "card": "<CARD>",
          "credentials": "<CREDENTIALS>"}
OFF_VALUES = {"0", "false", "no", "off"}


def _left(extra: str = "") -> str:
    """Not inside a word (or after ``extra``), except right after a JSON escape like ``\\n``."""
    return rf"(?:(?<=\\[nrt])|(?<![\\\w{extra}]))"


_EMAIL = re.compile(_left(".%+-") + r"[\w.%+-]{1,64}@(?:[\w-]{1,63}\.){1,8}[^\W\d_]{2,24}(?![\w-])")
_IBAN = re.compile(_left() + r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?!\w)", re.IGNORECASE)
_PHONE = re.compile(_left("+./-") + r"(?:\+|\(\+?)?\d[\d ()./-]{6,24}\d(?!\w)")
_CARD = re.compile(_left("+.-") + r"\d(?:[ -]?\d){12,18}(?![\w-])")
_CREDENTIALS = re.compile(r"(?<=://)[^/\s:@]*:[^@\s/]+(?=@)")  # user:password in a URL
_WORD = re.compile(r"\S+")
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_PHONE_SHAPE = re.compile(r"\+|\(?0\d|\(\d{2,5}\)|(?:1[ .-])?\d{3}[ .-]\d{3}[ .-]\d{4}$")


def _is_iban(text: str) -> bool:
    from stdnum import iban

    return iban.is_valid(text)


def _is_card(text: str) -> bool:
    from stdnum import luhn

    digits = re.sub(r"[ -]", "", text)
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn.is_valid(digits)


def _is_phone(text: str) -> bool:
    digits = sum(ch.isdigit() for ch in text)
    if not 9 <= digits <= 15 or any(_DATE.fullmatch(word) for word in text.split()):
        return False
    return bool(_PHONE_SHAPE.match(text))


_KINDS: dict[str, tuple[re.Pattern[str], Callable[[str], bool] | None]] = {  # applied in this order
    "credentials": (_CREDENTIALS, None),
    "email": (_EMAIL, None),
    "iban": (_IBAN, _is_iban),
    "phone": (_PHONE, _is_phone),
    "card": (_CARD, _is_card),
}


@lru_cache(maxsize=4)
def _load_cached(path: str) -> tuple[str, ...]:
    data = yaml.safe_load(Path(path).read_text()) or {}
    kinds = tuple(data.get("kinds") or ())
    unknown = set(kinds) - set(_KINDS)
    if unknown:
        raise ValueError(f"{path}: unknown redaction kinds {sorted(unknown)}; known: {list(_KINDS)}")
    return tuple(k for k in _KINDS if k in kinds) if data.get("enabled", True) else ()


def active_kinds() -> tuple[str, ...]:
    """The kinds redacted now, from ``CREWS_REDACTION_FILE`` or include/redaction.yaml.

    Credentials in URLs (``scheme://user:password@host``) are secrets, not PII: always redacted.
    """
    if os.environ.get("CREWS_REDACT_PII", "").strip().lower() in OFF_VALUES:
        return ("credentials",)
    configured = _load_cached(os.environ.get("CREWS_REDACTION_FILE", str(INCLUDE_DIR / "redaction.yaml")))
    return ("credentials", *(k for k in configured if k != "credentials"))


def _valid_spans(match: re.Match[str], valid: Callable[[str], bool]) -> Iterator[tuple[int, int]]:
    """The longest valid runs of whole words inside a candidate, left to right."""
    text, base = match.group(), match.start()
    words = [(w.start(), w.end()) for w in _WORD.finditer(text)]
    i = 0
    while i < len(words):
        for j in range(len(words) - 1, i - 1, -1):
            start, end = words[i][0], words[j][1]
            if valid(text[start:end]):
                yield base + start, base + end
                i = j + 1
                break
        else:
            i += 1


def _redact_str(text: str, kinds: tuple[str, ...]) -> str:
    for kind in kinds:
        pattern, valid = _KINDS[kind]
        if (kind == "email" and "@" not in text) or (kind == "credentials" and "://" not in text):
            continue
        parts, pos = [], 0
        for match in pattern.finditer(text):
            spans = _valid_spans(match, valid) if valid else [match.span()]
            for start, end in spans:
                parts += [text[pos:start], TOKENS[kind]]
                pos = end
        if parts:
            text = "".join(parts) + text[pos:]
    return text


def _walk(value: Any, kinds: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return _redact_str(value, kinds)
    if isinstance(value, dict):
        return {key: _walk(item, kinds) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(item, kinds) for item in value)
    return value


def redact_text(text: str) -> str:
    """``text`` with every configured kind of PII replaced by its token."""
    kinds = active_kinds()
    return _redact_str(text, kinds) if kinds else text


def redact(value: Any) -> Any:
    """A copy of ``value`` with every string (in dicts, lists, tuples) redacted; dict keys are kept."""
    kinds = active_kinds()
    return _walk(value, kinds) if kinds else value


# Run-record fields that are numbers, identifiers or project YAML (the prompts): left as they are.
_KEEP = {"record_id", "experiment", "metrics", "start_ms", "end_ms", "status", "prompt_template",
         "prompt_hash", "trace_id"}
_KEEP_TAGS = {"prompt_hash", "record_id", "trace_id", "dag_id", "run_id", "task_id", "map_index",
              "try_number", "items_in_task"}
_KEEP_SPAN = {"span_id", "parent_id", "kind", "start_ns", "end_ns", "ok"}
_KEEP_ATTRIBUTES = {"call_id", "task_id"}


def _artifact(name: str, text: Any, kinds: tuple[str, ...]) -> Any:
    """JSON artifacts are redacted value by value (numbers stay numbers), anything else as text."""
    if not isinstance(text, str):
        return _walk(text, kinds)
    try:
        if name.endswith(".jsonl"):
            return "".join(
                json.dumps(_walk(json.loads(line), kinds), default=str, ensure_ascii=False) + "\n"
                if line.strip() else line
                for line in text.splitlines(keepends=True)
            )
        if name.endswith(".json"):
            return json.dumps(_walk(json.loads(text), kinds), indent=2, default=str, ensure_ascii=False)
    except ValueError:
        pass
    return _redact_str(text, kinds)


def _span(span: dict[str, Any], kinds: tuple[str, ...]) -> dict[str, Any]:
    out = {key: value if key in _KEEP_SPAN else _walk(value, kinds)
           for key, value in span.items() if key != "attributes"}
    if "attributes" in span:
        out["attributes"] = {key: value if key in _KEEP_ATTRIBUTES else _walk(value, kinds)
                             for key, value in (span["attributes"] or {}).items()}
    return out


def redact_record(record: dict[str, Any]) -> dict[str, Any]:
    """A redacted copy of a tracking run record (see :meth:`CrewRunTracker.build_record`).

    Metrics, ids, timestamps and the prompt template stay; tags, params, spans,
    trace inputs/outputs, the run name and the artifacts are redacted.
    """
    kinds = active_kinds()
    if not kinds:
        return record
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in _KEEP:
            out[key] = value
        elif key == "tags":
            out[key] = {k: v if k in _KEEP_TAGS else _walk(v, kinds) for k, v in (value or {}).items()}
        elif key == "spans":
            out[key] = [_span(span, kinds) if isinstance(span, dict) else _walk(span, kinds)
                        for span in value or []]
        elif key == "artifacts":
            out[key] = {name: _artifact(name, text, kinds) for name, text in (value or {}).items()}
        else:
            out[key] = _walk(value, kinds)
    return out


class RedactingFilter(logging.Filter):
    """Redacts PII in a log record's message and exception text; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        kinds = active_kinds()
        if not kinds:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: logging reports it when the record is emitted
            return True
        redacted = _redact_str(message, kinds)
        if record.exc_info and record.exc_info[0] is not None:
            trace = logging.Formatter().formatException(record.exc_info)
            clean = _redact_str(trace, kinds)
            if clean != trace:  # the traceback goes into the message, redacted
                redacted, record.exc_info, record.exc_text = f"{redacted}\n{clean}", None, None
        if redacted != message:
            record.msg, record.args = redacted, None
        return True
