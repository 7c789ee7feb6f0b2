"""Deterministic fact work: find the facts a claim is about and compare the values.

No LLM here. A claim is matched to facts by subject/alias phrases and by the
units of the quantities it states; numbers are compared after unit conversion,
coded values (such as ``IPX4``) with the fact's regex. The verdict rules:

* any matched fact whose value differs from the claimed one, or whose
  ``prohibited`` phrases the claim uses -> ``contradicted``;
* else any matched fact whose value equals the claimed one -> ``supported``;
* else (no fact, or a fact mentioned without a value) -> ``unverifiable``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from crews.fact_check.schemas import ClaimCheck, Evidence, Fact, FactSheet

# unit name -> the words that name it
_UNITS: dict[str, tuple[str, ...]] = {
    "hours": ("h", "hr", "hrs", "hour", "hours"),
    "minutes": ("min", "mins", "minute", "minutes"),
    "seconds": ("s", "sec", "secs", "second", "seconds"),
    "g": ("g", "gram", "grams"),
    "kg": ("kg", "kilogram", "kilograms"),
    "db": ("db", "decibel", "decibels"),
    "bar": ("bar",),
    "l": ("l", "liter", "liters", "litre", "litres"),
    "ml": ("ml", "milliliter", "milliliters", "millilitre", "millilitres"),
    "w": ("w", "watt", "watts"),
    "years": ("year", "years", "yr", "yrs"),
    "months": ("month", "months"),
    "usd": ("usd", "dollar", "dollars"),
    "percent": ("%", "percent"),
    "mah": ("mah",),
}
# units that convert into another canonical unit
_CONVERT = {"kg": ("g", 1000.0), "ml": ("l", 0.001), "months": ("years", 1 / 12)}
_ALIAS_TO_UNIT = {alias: unit for unit, aliases in _UNITS.items() for alias in aliases}
# units a claim may leave implicit ("Bluetooth 5.3", "six presets")
_UNITLESS = {"version", "count", None}
_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_QUANTITY = re.compile(
    r"(?P<cur>\$)?(?<![\w.])(?P<num>\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|(?:"
    + "|".join(_NUMBER_WORDS)
    + r")\b)(?:\s*-\s*|\s*)(?P<unit>%|[a-z]+)?",
    re.IGNORECASE,
)
# Words that make a sentence a claim even without a number: superlatives, rankings,
# endorsements and guarantees ("the most loved brand", "recommended by baristas").
_CLAIM_MARKERS = re.compile(
    r"\b(most|best|fastest|longest|lightest|strongest|leading|number one|#1|world'?s|"
    r"unbeatable|guaranteed?|proven|clinically|certified|award[- ]winning|recommended?|"
    r"loved by|trusted by|only|first|never|always|every|all)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")


@dataclass(frozen=True)
class Quantity:
    value: float
    unit: str | None
    text: str


def canonical_unit(unit: str | None) -> str | None:
    """The canonical name of ``unit`` (``"hrs"`` -> ``"hours"``), or the lower-cased word."""
    return _to_canonical(0.0, unit)[1]


def _to_canonical(value: float, unit: str | None) -> tuple[float, str | None]:
    if unit is None:
        return value, None
    name = _ALIAS_TO_UNIT.get(unit.lower(), unit.lower())
    target, factor = _CONVERT.get(name, (name, 1.0))
    return value * factor, target


def split_sentences(text: str) -> list[str]:
    """Split copy into sentences without breaking decimals such as ``1.8``."""
    parts = _SENTENCE_END.split(" ".join(text.split()))
    return [p.strip() for p in parts if p.strip()]


def extract_quantities(text: str) -> list[Quantity]:
    """Numbers stated in ``text`` with their canonical units."""
    found = []
    for match in _QUANTITY.finditer(text):
        raw = match.group("num").lower()
        value = float(_NUMBER_WORDS[raw]) if raw in _NUMBER_WORDS else float(raw.replace(",", ""))
        unit = "usd" if match.group("cur") else match.group("unit")
        if unit and unit.lower() not in _ALIAS_TO_UNIT:
            unit = None  # "40 countries", "two devices": a count, not a unit
        value, canon = _to_canonical(value, unit)
        text = match.group(0) if unit or match.group("cur") else match.group("num")
        found.append(Quantity(value=value, unit=canon, text=text.strip()))
    return found


def _phrase_in(phrase: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase.lower())}(?!\w)", text.lower()) is not None


def find_facts(claim: str, sheet: FactSheet) -> list[Fact]:
    """Facts the claim is about: by subject or alias phrase, by the fact's value pattern,
    or by a unit that only one fact uses."""
    matched = [
        f
        for f in sheet.facts
        if any(_phrase_in(p, claim) for p in [f.subject, *f.aliases])
        or (f.pattern and re.search(f.pattern, claim, re.IGNORECASE))
    ]
    units = {q.unit for q in extract_quantities(claim)} - _UNITLESS
    for unit in units:
        owners = [f for f in sheet.facts if canonical_unit(f.unit) == unit]
        if len(owners) == 1 and owners[0] not in matched:
            matched.append(owners[0])
    return matched


_NUMBER_TEXT = re.compile(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b", re.I)


def corrected_value(claimed: str, fact: Fact) -> str:
    """``claimed`` rewritten to the fact's value, keeping the claim's own wording of the unit."""
    if fact.pattern or isinstance(fact.value, str):
        return str(fact.value)
    value = f"{fact.value:g}" if isinstance(fact.value, float) else str(fact.value)
    match = _QUANTITY.search(claimed)
    claimed_unit = "usd" if match and match.group("cur") else _ALIAS_TO_UNIT.get((match and match.group("unit") or "").lower())
    fact_unit = _ALIAS_TO_UNIT.get((fact.unit or "").lower(), fact.unit)
    if match and (claimed_unit == fact_unit or (claimed_unit is None and fact_unit in _UNITLESS)):
        return _NUMBER_TEXT.sub(value, claimed, count=1)
    return f"{value} {fact.unit}" if fact.unit and fact.unit not in _UNITLESS else value


def compare_fact(claim: str, fact: Fact) -> tuple[str, str | None]:
    """``("supports"|"contradicts"|"mentions", claimed value)`` for one fact."""
    banned = [p for p in fact.prohibited if _phrase_in(p, claim)]
    if banned:
        return "contradicts", banned[0]
    if fact.pattern:
        claimed = [m.group(0) for m in re.finditer(fact.pattern, claim, re.IGNORECASE)]
        if not claimed:
            return "mentions", None
        wrong = [c for c in claimed if c.lower() != str(fact.value).lower()]
        return ("contradicts", wrong[0]) if wrong else ("supports", claimed[0])
    if isinstance(fact.value, str):
        return ("supports", fact.value) if _phrase_in(fact.value, claim) else ("mentions", None)
    reference, unit = _to_canonical(float(fact.value), fact.unit)
    candidates = [
        q for q in extract_quantities(claim)
        if q.unit == unit or (q.unit is None and unit in _UNITLESS)
    ]
    if not candidates:
        return "mentions", None
    tolerance = max(abs(reference) * fact.tolerance, 1e-9)
    for quantity in candidates:
        if abs(quantity.value - reference) <= tolerance:
            return "supports", quantity.text
    return "contradicts", candidates[0].text


def check_claim(claim_id: int, claim: str, sheet: FactSheet, found_by: str = "model") -> ClaimCheck:
    """The verdict on one claim, with the facts that decided it as evidence."""
    facts = find_facts(claim, sheet)
    results = [(fact, *compare_fact(claim, fact)) for fact in facts]
    contradicting = [r for r in results if r[1] == "contradicts"]
    supporting = [r for r in results if r[1] == "supports"]
    if contradicting:
        verdict, deciding = "contradicted", contradicting
        reason = "; ".join(
            f"claims {claimed}, fact sheet says: {fact.statement}" for fact, _, claimed in contradicting
        )
    elif supporting:
        verdict, deciding = "supported", supporting
        reason = "; ".join(f"matches: {fact.statement}" for fact, _, _ in supporting)
    elif results:
        verdict, deciding = "unverifiable", results
        reason = "mentions " + ", ".join(f.subject for f, _, _ in results) + " but states no value the fact sheet confirms"
    else:
        verdict, deciding = "unverifiable", []
        reason = "no fact in the fact sheet covers this claim"
    evidence = [
        Evidence(
            fact_id=fact.id,
            statement=fact.statement,
            reference_value=f"{fact.value}{' ' + fact.unit if fact.unit else ''}",
            claimed_value=claimed,
        )
        for fact, _, claimed in deciding
    ]
    corrected = None
    if verdict == "contradicted" and not any(claimed in fact.prohibited for fact, _, claimed in contradicting):
        corrected = claim
        for fact, _, claimed in contradicting:
            if claimed:
                corrected = corrected.replace(claimed, corrected_value(claimed, fact), 1)
    return ClaimCheck(
        claim_id=claim_id,
        claim=claim,
        verdict=verdict,
        evidence=evidence,
        reason=reason,
        found_by=found_by,
        corrected_claim=corrected,
    )


def is_checkable(sentence: str, sheet: FactSheet) -> bool:
    """A sentence the tools can judge: it names a fact or states a quantity."""
    return bool(find_facts(sentence, sheet)) or bool(extract_quantities(sentence))


def looks_like_claim(sentence: str, sheet: FactSheet) -> bool:
    """Checkable, or worded as a claim (superlative, ranking, endorsement, guarantee)."""
    return is_checkable(sentence, sheet) or bool(_CLAIM_MARKERS.search(sentence))


def resembles_any(sentence: str, claims: list[str], threshold: float = 0.85) -> bool:
    """Whether ``sentence`` contains one of ``claims`` or is worded almost like one."""
    low = sentence.lower()
    return any(
        c.lower() in low or difflib.SequenceMatcher(None, c.lower(), low).ratio() >= threshold
        for c in claims
    )


def ground_claims(claims: list[str], copy_text: str, threshold: float = 0.75) -> list[str]:
    """Keep the model's claims that really occur in the copy, snapped to the copy's wording.

    Claims are split into sentences first; each is replaced by the copy's sentence
    that contains it, or by the sentence it matches with a difflib ratio of at
    least ``threshold``. Claims found nowhere in the copy are dropped.
    """
    sentences = split_sentences(copy_text)
    grounded: list[str] = []
    pieces = [piece for claim in claims for piece in split_sentences(str(claim))]
    for text in pieces:
        low = text.lower()
        containing = [s for s in sentences if low in s.lower()]
        if containing:
            candidate = containing[0]
        else:
            scored = [(difflib.SequenceMatcher(None, low, s.lower()).ratio(), s) for s in sentences]
            best = max(scored, default=(0.0, ""))
            if best[0] < threshold:
                continue
            candidate = best[1]
        if candidate not in grounded:
            grounded.append(candidate)
    return grounded


def missed_claims(grounded: list[str], copy_text: str, sheet: FactSheet) -> list[str]:
    """Claim-like sentences that none of the grounded claims covers (recall safety net)."""
    missing = []
    for sentence in split_sentences(copy_text):
        low = sentence.lower()
        covered = any(c.lower() in low or low in c.lower() for c in grounded)
        if not covered and looks_like_claim(sentence, sheet):
            missing.append(sentence)
    return missing


def apply_fixes(copy_text: str, checks: list[ClaimCheck]) -> str:
    """The copy with contradicted claims corrected and the rest of the unsupported ones removed."""
    text = " ".join(copy_text.split())
    for check in checks:
        if check.verdict == "contradicted" and check.corrected_claim:
            text = text.replace(check.claim, check.corrected_claim, 1)
        elif check.verdict != "supported":
            text = text.replace(check.claim, "", 1)
    return " ".join(text.split())
