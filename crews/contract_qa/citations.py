"""Checks that an answer is backed by the exact contract text it cites.

A quote is verified when it occurs verbatim in the cited clause, ignoring case,
runs of whitespace and typographic quotes/dashes. A quote that is close but not
verbatim is replaced by the clause sentence it best matches when the overlap is
high (``repaired``), otherwise the citation is invalid. Every number in the
answer must occur in a verified quote or register value.
"""

from __future__ import annotations

import re

_TRANSLATE = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                            "\u2014": "-"})
_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"\d[\d,.]{0,40}\d|\d")
REPAIR_OVERLAP = 0.7


def normalize(text: str) -> str:
    return " ".join(text.translate(_TRANSLATE).lower().split()).strip(" .\"'")


def is_verbatim(quote: str, clause_text: str) -> bool:
    quote = normalize(quote)
    return bool(quote) and quote in normalize(clause_text)


def best_sentence(quote: str, clause_text: str) -> tuple[str, float]:
    """The clause sentence sharing most words with ``quote``, and that share (0..1)."""
    words = set(_WORD.findall(normalize(quote)))
    best, share = "", 0.0
    for sentence in re.split(r"(?<=[.;])\s+", clause_text):
        overlap = len(words & set(_WORD.findall(normalize(sentence)))) / max(len(words), 1)
        if overlap > share:
            best, share = sentence.strip(), overlap
    return best, share


_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"], 1)}
_MONTH = "(" + "|".join(_MONTHS) + ")"
_DATES = [
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), lambda m: (m[1], m[2], m[3])),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}\s+(\d{{4}})\b", re.I),
     lambda m: (m[3], _MONTHS[m[2].lower()], m[1])),
    (re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I),
     lambda m: (m[3], _MONTHS[m[1].lower()], m[2])),
]


def dates_as_iso(text: str) -> str:
    """``text`` with every date written as ``YYYY-MM-DD`` ("1 March 2025" -> "2025-03-01")."""
    for pattern, parts in _DATES:
        text = pattern.sub(lambda m, parts=parts: "{:04d}-{:02d}-{:02d}".format(*map(int, parts(m))), text)
    return text


def numbers(text: str) -> set[str]:
    """Dates (as ``YYYY-MM-DD``) and numbers without thousands separators ("25,000." -> "25000") in
    ``text``."""
    found = set()
    for pattern, parts in _DATES:
        for match in pattern.finditer(text):
            year, month, day = parts(match)
            found.add(f"{int(year):04d}-{int(month):02d}-{int(day):02d}")
        text = pattern.sub(" ", text)
    found |= {n.replace(",", "").rstrip(".") for n in _NUMBER.findall(text)}
    return {n.removesuffix(".0") for n in found}


def unsupported_numbers(answer: str, evidence: list[str]) -> set[str]:
    """Numbers stated in the answer that occur in none of the evidence texts."""
    supported: set[str] = set()
    for text in evidence:
        supported |= numbers(text)
    return numbers(answer) - supported


_DURATION = re.compile(r"(\d[\d,.]{0,40})\)?\s+(?:[a-z]+\s+)?(day|week|month|year|hour|minute)s?\b",
                       re.IGNORECASE)


def durations(text: str) -> set[tuple[str, str]]:
    """(number, unit) of every period in ``text``: "thirty (30) business days" -> ("30", "day")."""
    return {(n.replace(",", "").rstrip("."), unit.lower()) for n, unit in _DURATION.findall(text)}


def unsupported_durations(answer: str, evidence: list[str]) -> list[str]:
    """Periods in the answer whose number the evidence gives in another unit ("30 days" for "30 months")."""
    stated = set().union(*(durations(text) for text in evidence)) if evidence else set()
    return [f"{n} {unit}s" for n, unit in sorted(durations(answer) - stated)]


_PERCENT = re.compile(r"(\d[\d,.]{0,40})\)?\s*(?:%|per ?cent\b|percent\b)", re.IGNORECASE)
CURRENCY = r"(?:EUR|USD|GBP|CHF|SEK|NOK|DKK|JPY|CAD|AUD|[€$£¥])"
_MONEY = re.compile(rf"{CURRENCY}\s?(\d[\d,.]{{0,40}})"
                    rf"|(\d[\d,.]{{0,40}})\s?(?:{CURRENCY}|euros?|dollars?|pounds?)", re.IGNORECASE)


def _plain(number: str) -> str:
    return number.replace(",", "").rstrip(".").removesuffix(".0")


def kinds(text: str) -> set[tuple[str, str]]:
    """(number, kind) of every percentage and money amount in ``text``: "4%" -> ("4", "percent")."""
    found = {(_plain(n), "percent") for n in _PERCENT.findall(text)}
    return found | {(_plain(a or b), "money") for a, b in _MONEY.findall(text)}


def unsupported_kinds(answer: str, evidence: list[str]) -> list[str]:
    """Percentages and amounts of money in the answer that the evidence never states as such
    ("10%" when the clause says "ten (10) Business Days")."""
    stated = set().union(*(kinds(text) for text in evidence)) if evidence else set()
    return [f"{n}{'%' if kind == 'percent' else ' (money)'}" for n, kind in sorted(kinds(answer) - stated)]


_NAME = re.compile(r"\b([A-Z][a-zA-Z&'-]+(?:\s+(?:(?:of|&)\s+)?[A-Z][a-zA-Z&'-]+)*)")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+)$")
_NOT_NAMES = {"The", "This", "That", "These", "It", "Its", "A", "An", "Yes", "No", "Not", "According",
              "Under", "If", "Each", "Either", "Both", "Any", "All", "Clause", "Section", "Article",
              "Agreement", "Contract",
              *(m.capitalize() for m in _MONTHS),
              "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"}


def unsupported_names(answer: str, evidence: list[str]) -> list[str]:
    """Capitalised names in the answer (parties, places, laws) that none of the evidence texts contains."""
    known = normalize(" ".join(evidence))
    missing = []
    for match in _NAME.finditer(answer):
        name = match.group(1)
        if " " not in name and _SENTENCE_START.search(answer[:match.start()]):
            continue  # one capitalised word opening a sentence is not known to be a name
        words = [w for w in name.split()
                 if w not in _NOT_NAMES and not re.fullmatch(r"[A-Z]{2,4}", w)]  # EUR, VAT
        if words and normalize(" ".join(words)) not in known and name not in missing:
            missing.append(name)
    return missing
