"""Which facts of a fact sheet a piece of copy names.

A claim is about a fact when the fact's subject, an alias, a prohibited phrase,
its text value or its code shape (``IP54``: any ``IP`` + digits) occurs in it,
compared by word stem ("charges" finds "charge"). Never by unit alone. The
sheet's phrases are indexed by their rarest word stem, so a claim is compared
only with the few facts that could match it (bounded work on a 500-fact sheet).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, replace
from typing import Any

from crews.fact_check.quantities import COUNT, Quantity, Unit, find_quantities
from crews.fact_check.schemas import Fact, FactSheet
from crews.user_patterns import compile_user_pattern

TOKEN = re.compile(r"[a-z0-9]+")


@functools.cache
def stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=8192)
def _stems(text: str) -> tuple[str, ...]:
    return tuple(stemmer().stemWords(TOKEN.findall(text.lower().replace("'s", ""))))


def stems(text: str) -> list[str]:
    """Lower-cased word stems of ``text`` ("Charges in 4 hours" -> charg, in, 4, hour)."""
    return list(_stems(text))


def phrase_in(phrase: str, text: str) -> bool:
    """Whether the words of ``phrase`` occur in ``text`` in order, compared by stem."""
    needle, hay = _stems(phrase), _stems(text)
    if not needle or not set(needle) <= set(hay):
        return False
    return any(hay[i:i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


def mentions(fact: Fact, text: str) -> str | None:
    """The phrase by which ``text`` names the fact's subject (subject, alias, prohibited phrase, value), if
    any."""
    for phrase in [fact.subject, *fact.aliases, *fact.prohibited]:
        if phrase_in(phrase, text):
            return phrase
    pattern = code_pattern(fact)
    if pattern is not None and pattern.search(text):
        return pattern.pattern
    if isinstance(fact.value, str) and phrase_in(fact.value, text):
        return fact.value
    return None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CODE = re.compile(r"[A-Za-z-]*\d+[A-Za-z0-9-]*")


def code_pattern(fact: Fact) -> Any:
    """The fact's ``pattern`` (run by RE2: :mod:`crews.user_patterns`), or for a code-like value ("IP54",
    "4D") the same shape with any digits."""
    if fact.pattern:
        return compile_user_pattern(fact.pattern, ignore_case=True)
    if isinstance(fact.value, str) and len(fact.value) <= 12 and _CODE.fullmatch(fact.value):
        shape = "".join(r"\d+" if part.isdigit() else re.escape(part)
                        for part in re.split(r"(\d+)", fact.value) if part)
        return _compiled(rf"(?<![\w-]){shape}(?![\w-])")
    return None


@dataclass
class _SheetIndex:
    """Which facts a text can name, found by word stem instead of trying every phrase of every fact."""

    by_stem: dict[str, set[str]]
    always: set[str]  # facts with a pattern or code value: tried on every text
    phrases: re.Pattern[str] | None  # the sheet's multiword phrases, lower-cased
    allow: frozenset[str]
    counted: frozenset[str]  # one-word subjects and aliases of facts counted without a unit ("nights")


def _index(sheet: FactSheet) -> _SheetIndex:
    if sheet._lookup is None:
        by_stem: dict[str, set[str]] = {}
        multiword: set[str] = set()
        phrases = [(fact, phrase) for fact in sheet.facts for phrase in
                   [fact.subject, *fact.aliases, *fact.prohibited,
                    *([fact.value] if isinstance(fact.value, str) else [])]]
        frequency: dict[str, int] = {}
        for _, phrase in phrases:
            for stem in set(_stems(phrase)):
                frequency[stem] = frequency.get(stem, 0) + 1
        for fact, phrase in phrases:
            words = _stems(phrase)
            if words:  # filed under its rarest word: a text without that word cannot hold the phrase
                by_stem.setdefault(min(words, key=lambda w: frequency[w]), set()).add(fact.id)
            if len(phrase.split()) > 1:
                multiword.add(phrase.lower())
        always = {fact.id for fact in sheet.facts if code_pattern(fact) is not None}
        ordered = sorted(multiword, key=len, reverse=True)
        sheet._lookup = _SheetIndex(
            by_stem, always, re.compile("|".join(re.escape(p) for p in ordered)) if ordered else None,
            frozenset(f.unit.strip() for f in sheet.facts if f.unit and f.fact_unit is not None),
            frozenset(stem for f in sheet.facts if f.is_numeric and f.fact_unit is None
                      for phrase in (f.subject, *f.aliases) if len(words := _stems(phrase)) == 1
                      for stem in words))
    return sheet._lookup  # type: ignore[return-value]


def candidates(sheet: FactSheet, text: str) -> list[Fact]:
    """The facts whose phrases could occur in ``text`` (in sheet order)."""
    index = _index(sheet)
    ids = set(index.always)
    for stem in set(_stems(text)):
        ids |= index.by_stem.get(stem, set())
    return [f for f in sheet.facts if f.id in ids]


def find_facts(claim: str, sheet: FactSheet) -> list[Fact]:
    """Facts the claim names by subject, alias, prohibited phrase, value or pattern (never by unit alone)."""
    return [f for f in candidates(sheet, claim) if mentions(f, claim) is not None]


def compatible(fact_unit: Unit, claimed: Unit) -> bool:
    """Whether a claimed quantity measures what the fact does (a currency with or without a period)."""
    if fact_unit.kind == claimed.kind:
        return True
    if fact_unit.is_currency and claimed.is_currency:
        return fact_unit.kind.split("/")[0] == claimed.kind.split("/")[0] and (
            "/" not in claimed.kind or "/" not in fact_unit.kind)
    return False


def quantities_in(text: str, sheet: FactSheet) -> list[Quantity]:
    """The quantities of ``text``; a unit word that is also an ordinary word ("in") counts when the sheet uses
    it, and the number of a model name ("Thermostat 2" of "Calor Smart Thermostat 2") is no quantity."""
    index = _index(sheet)
    names = [(m.start(), m.end()) for code in _model_numbers(sheet.product)
             for m in re.finditer(rf"(?<!\w){re.escape(code)}(?!\w)", text, re.IGNORECASE)]
    found = [q for q in find_quantities(text, index.allow)
             if not any(s <= q.start and q.end <= e for s, e in names)]
    # "three nights" against a counted fact "nights: 2": a count
    return [replace(q, unit=COUNT) if q.unit.kind != "count" and _unit_word(q) in index.counted else q
            for q in found]


def _unit_word(quantity: Quantity) -> str:
    """The stem of the word a quantity ends with ("three nights" -> "night")."""
    word = re.search(r"[A-Za-z]+$", quantity.text)
    return _stems(word.group(0))[0] if word and _stems(word.group(0)) else ""



@functools.lru_cache(maxsize=256)
def _model_numbers(product: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in re.finditer(r"[A-Za-z]+[ -]?\d+[A-Za-z]*\b", product))


def fact_phrases(text: str, sheet: FactSheet) -> list[tuple[int, int]]:
    """Where the sheet's own phrases (values, subjects, aliases, prohibited words) occur: never cut inside
    them."""
    phrases = _index(sheet).phrases
    return [(m.start(), m.end()) for m in phrases.finditer(text.lower())] if phrases else []


def says_none(text: str, phrase: str) -> bool:
    """"no set-up fee", "free delivery", "zero fees": the phrase is said to be nothing."""
    words = text.lower().split()
    first = stems(phrase)[:1]
    for i in range(len(words)):
        if stems(words[i])[:1] == first:
            return bool(set(words[max(0, i - 3):i]) & {"no", "zero", "free", "without", "nil"})
    return False
