"""Deterministic fact work: the verdict on each atomic claim, and the copy with the fixes applied.

No LLM here. The copy is cut into atomic claims (:mod:`crews.fact_check.claims`);
a claim is compared only with facts about its subject (:mod:`crews.fact_check.facts`),
and a quantity only with a fact whose unit measures the same thing
(:mod:`crews.fact_check.quantities`), so sharing a unit is never enough and a
price in another currency is never converted. The verdict rules:

* a ``prohibited`` phrase, a value the fact sheet states differently, an
  option outside a fact's list, or a qualifier that overstates ("at least 80
  km" of "up to 80 km") -> ``contradicted``;
* else a value the fact confirms -> ``supported``;
* else (no fact about the subject, another currency, a superlative) -> ``unverifiable``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crews.fact_check.claims import ClaimSpan, Span, claim_spans, hint_covers, sentence_spans
from crews.fact_check.facts import (
    TOKEN,
    code_pattern,
    compatible,
    find_facts,
    mentions,
    phrase_in,
    quantities_in,
    says_none,
    stemmer,
    stems,
)
from crews.fact_check.quantities import Quantity, find_quantities, is_basis, judge, qualifier_start
from crews.fact_check.schemas import ClaimCheck, Evidence, Fact, FactSheet
from crews.tracking.steps import traced_step


@dataclass
class Finding:
    fact: Fact
    outcome: str  # supports | contradicts | unknown
    claimed: str | None
    quantity: Quantity | None = None


def _findings(claim: str, fact: Fact, quantities: list[Quantity]) -> list[Finding]:
    banned = [p for p in fact.prohibited if phrase_in(p, claim)]
    if banned:
        return [Finding(fact, "contradicts", banned[0])]
    pattern = code_pattern(fact)
    if pattern is not None and pattern.search(claim):
        claimed = [m.group(0) for m in pattern.finditer(claim)]
        if not claimed:
            return []
        wrong = [c for c in claimed if c.lower() != str(fact.value).lower()]
        return [Finding(fact, "contradicts", wrong[0])] if wrong else [Finding(fact, "supports", claimed[0])]
    if fact.pattern:
        return []
    if isinstance(fact.value, str):
        return [Finding(fact, "supports", fact.value)] if phrase_in(fact.value, claim) else []
    if isinstance(fact.value, list) and not fact.is_numeric:
        named = [str(o) for o in fact.value if phrase_in(str(o), claim)]
        counts = [q for q in quantities if q.unit.kind == "count"]
        if counts:
            ok = all(q.low == len(fact.value) for q in counts)
            return [Finding(fact, "supports" if ok else "contradicts", counts[0].text, counts[0])]
        return [Finding(fact, "supports", named[0])] if named else []
    if fact.value == 0 and (phrase := mentions(fact, claim)) and says_none(claim, phrase):
        return [Finding(fact, "supports", phrase)]  # "no set-up fee" of a EUR 0 fee
    references = fact.quantities()
    if references and references[0].unit.kind == "count":
        quantities = _nearest_count(claim, [q for q in quantities if q.unit.kind == "count"], fact)
    return [finding for q in quantities if (finding := _judge_quantity(fact, q, claim)) is not None]


def _nearest_count(text: str, counts: list[Quantity], fact: Fact) -> list[Quantity]:
    """Of several bare numbers, the one standing nearest the fact's name ("Bluetooth 5.3 ... two devices")."""
    if len(counts) < 2:
        return counts
    words = [(m.start(), stemmer().stemWord(m.group(0))) for m in TOKEN.finditer(text.lower())]
    places = []
    for phrase in [fact.subject, *fact.aliases]:
        needle = stems(phrase)
        places += [words[i][0] for i in range(len(words) - len(needle) + 1)
                   if needle and [w for _, w in words[i:i + len(needle)]] == needle]
    if not places:
        return []
    return [min(counts, key=lambda q: min(abs(q.start - place) for place in places))]


def _near(text: str, quantity: Quantity, fact: Fact, words: int = 3) -> bool:
    """Whether the fact's subject or an alias stands within ``words`` words of the quantity ("SPF 30",
    "sleeps two")."""
    before = " ".join(text[:quantity.start].split()[-words:])
    after = " ".join(text[quantity.end:].split()[:words])
    return any(phrase_in(p, before) or phrase_in(p, after) for p in [fact.subject, *fact.aliases])


def _judge_quantity(fact: Fact, quantity: Quantity, text: str | None = None) -> Finding | None:
    references = fact.quantities()
    if not references or not compatible(references[0].unit, quantity.unit):
        return None
    if references[0].unit.kind == "count" and text is not None and not _near(text, quantity, fact) and \
            sum(q.unit.kind == "count" for q in find_quantities(text)) > 1:
        # of several bare numbers, one is about a fact only when it stands next to the fact's name
        return None
    claimed = quantity.to(references[0].unit) if not quantity.unit.is_currency else quantity
    if claimed is None:
        return None
    outcomes = [judge(claimed, reference, fact.tolerance) for reference in references]
    outcome = ("supports" if "supports" in outcomes
               else ("contradicts" if "contradicts" in outcomes else "unknown"))
    return Finding(fact, outcome, quantity.text, quantity)


def check_claim(claim_id: int, claim: str | ClaimSpan, sheet: FactSheet,
                found_by: str = "model") -> ClaimCheck:
    """The verdict on one atomic claim, with the facts that decided it as evidence."""
    span = claim if isinstance(claim, ClaimSpan) else ClaimSpan(claim, -1, -1, Span(claim, -1, -1))
    text = span.text
    if span.option_of is not None:
        findings = [_option_finding(span.option_of, text)]
    else:
        findings = _claim_findings(text, span.sentence.text if span.start >= 0 else text, sheet)
    contradicting = [f for f in findings if f.outcome == "contradicts"]
    supporting = [f for f in findings if f.outcome == "supports"]
    if contradicting:
        verdict, deciding = "contradicted", contradicting
        reason = "; ".join(f"claims {f.claimed}, fact sheet says: {f.fact.statement}" for f in contradicting)
    elif supporting:
        verdict, deciding = "supported", supporting
        reason = "; ".join(f"matches: {f.fact.statement}" for f in supporting)
    else:
        verdict, deciding = "unverifiable", []
        reason = _unverifiable_reason(text, sheet)
    evidence = [Evidence(fact_id=f.fact.id, statement=f.fact.statement,
                         reference_value=f.fact.display_value(), claimed_value=f.claimed) for f in deciding]
    corrected = _corrected(text, contradicting) if contradicting else None
    return ClaimCheck(
        claim_id=claim_id, claim=text, start=span.start, end=span.end,
        sentence=span.sentence.text if span.start >= 0 else "", verdict=verdict, evidence=evidence,
        reason=reason, found_by=found_by, corrected_claim=corrected,
    )


def _option_finding(fact: Fact, option: str) -> Finding:
    known = {str(o).lower() for o in fact.value} if isinstance(fact.value, list) else set()
    return Finding(fact, "supports" if option.lower() in known else "contradicts", option)


def _claim_findings(text: str, sentence: str, sheet: FactSheet) -> list[Finding]:
    quantities = [q for q in quantities_in(text, sheet) if not is_basis(q, text)]
    named = {f.id: f for f in find_facts(text, sheet)}
    # facts named elsewhere in the sentence may own a quantity here that no fact named here measures
    nearby = [f for f in find_facts(sentence, sheet) if f.id not in named]
    findings: list[Finding] = []
    for fact in named.values():
        findings += [f for f in _findings(text, fact, quantities) if f.outcome != "unknown" or f.quantity]
    judged = {id(f.quantity) for f in findings if f.quantity is not None}
    for quantity in quantities:
        if id(quantity) in judged or quantity.unit.kind == "count":
            continue  # a bare number belongs to the fact named next to it, never to one named elsewhere
        candidates = [f for f in nearby if f.is_numeric and f.quantities()
                      and compatible(f.quantities()[0].unit, quantity.unit)]
        if not candidates and len(implied := _implied_subject(quantity, sheet)) == 1:
            candidates = implied
        if len(candidates) == 1:
            finding = _judge_quantity(candidates[0], quantity, None if candidates[0] in nearby else text)
            if finding is not None:
                findings.append(finding)
    return _best(findings)


def _implied_subject(quantity: Quantity, sheet: FactSheet) -> list[Fact]:
    """Facts a quantity is about by what it measures, where that names the subject: an amount of money
    is a price, a mass is a weight. Only when the sheet has exactly one such fact; never for durations,
    counts or percentages, which many subjects share."""
    if quantity.unit.is_currency:
        prices = _price_facts(sheet)
        exact = [f for f in prices if f.fact_unit is not None and f.fact_unit.kind == quantity.unit.kind]
        return exact if len(prices) > 1 and exact else prices
    if quantity.unit.kind == "gram":
        return [f for f in sheet.facts if f.fact_unit is not None and f.fact_unit.kind == "gram"]
    return []


def _price_facts(sheet: FactSheet) -> list[Fact]:
    return [f for f in sheet.facts if f.fact_unit is not None and f.fact_unit.is_currency]


def _best(findings: list[Finding]) -> list[Finding]:
    """Per quantity, a fact that confirms it wins over one that does not (two facts about "battery")."""
    by_quantity: dict[int, list[Finding]] = {}
    others = []
    for finding in findings:
        if finding.quantity is None:
            others.append(finding)
        else:
            by_quantity.setdefault(id(finding.quantity), []).append(finding)
    kept = list(others)
    for group in by_quantity.values():
        supported = [f for f in group if f.outcome == "supports"]
        kept += supported[:1] if supported else [f for f in group if f.outcome == "contradicts"][:1]
    return kept


def _unverifiable_reason(text: str, sheet: FactSheet) -> str:
    quantities = quantities_in(text, sheet)
    named = find_facts(text, sheet)
    currencies = [q for q in quantities if q.unit.is_currency]
    for fact in named + _price_facts(sheet):
        unit = fact.fact_unit
        if unit and unit.is_currency and currencies and not compatible(unit, currencies[0].unit):
            return (f"states a price in {currencies[0].unit.name}; the fact sheet states "
                    f"{fact.display_value()} (currencies are not converted)")
    if named:
        return ("mentions " + ", ".join(f.subject for f in named)
                + " but states no value the fact sheet confirms")
    return "no fact in the fact sheet covers this claim"


def corrected_value(claimed: str, fact: Fact) -> str:
    """``claimed`` rewritten to the fact's value: in the claim's unit when they share one, else the fact's."""
    found = find_quantities(claimed)
    references = fact.quantities()
    if not found or not references:
        return fact.display_value()
    quantity, reference = found[0], references[0]
    words = {"up_to": "up to ", "at_least": "at least ", "about": "about ", "from": "from "}
    qualifier = words.get(reference.qualifier, "") if reference.qualifier != quantity.qualifier else ""
    if quantity.unit.kind == reference.unit.kind and quantity.unit.name == reference.unit.name and \
            not reference.is_range:
        value = (f"{reference.low:,.0f}" if "," in quantity.text and reference.low.is_integer()
                 else f"{reference.low:g}")
        number = re.search(r"\d[\d,.]*|\b[a-z]+\b", quantity.text)
        if number:
            return qualifier + quantity.text[:number.start()] + value + quantity.text[number.end():]
    return qualifier + fact.display_value()


def _corrected(text: str, contradicting: list[Finding]) -> str | None:
    """The claim with the fact sheet's values; None when a prohibited phrase or a wrong option must go."""
    edits = []
    for finding in contradicting:
        if finding.quantity is None or finding.claimed is None:
            return None
        quantity = finding.quantity
        edits.append((qualifier_start(text, quantity.start), quantity.end,
                      corrected_value(quantity.text, finding.fact)))
    corrected = text
    for start, end, replacement in sorted(set(edits), reverse=True):
        corrected = corrected[:start] + replacement + corrected[end:]
    return corrected


def check_copy(copy_text: str, sheet: FactSheet, hints: list[str] | None = None) -> list[ClaimCheck]:
    """Every atomic claim of the copy with its verdict; ``found_by`` says whether the fact checker quoted
    it."""
    checks = []
    for number, span in enumerate(claim_spans(copy_text, sheet, hints), 1):
        quoted = any(hint_covers(h, span.text) or hint_covers(span.text, h) for h in hints or [])
        checks.append(check_claim(number, span, sheet, "model" if quoted else "tools"))
    return checks


@traced_step("tool")
def apply_fixes(copy_text: str, checks: list[ClaimCheck]) -> str:
    """The copy with contradicted claims corrected and the other unsupported claims removed (by span).

    A removed claim takes the words that joined it to its sentence with it; a
    sentence whose claims are all removed goes as a whole.
    """
    located = sorted((c for c in checks if c.start >= 0), key=lambda c: c.start)
    edits: list[tuple[int, int, str]] = []
    for sentence in sentence_spans(copy_text):
        inside = [c for c in located if sentence.start <= c.start and c.end <= sentence.end]
        if not inside:
            continue
        fixed = {id(c): c.corrected_claim for c in inside
                 if c.verdict == "contradicted" and c.corrected_claim}
        dropped = [c for c in inside if c.verdict != "supported" and id(c) not in fixed]
        if len(dropped) == len(inside):
            edits.append((sentence.start, sentence.end, ""))
            continue
        end = len(sentence.text.rstrip(".!?")) + sentence.start
        for i, check in enumerate(inside):
            if id(check) in fixed:
                edits.append((check.start, check.end, fixed[id(check)]))
            elif check in dropped:
                before = next((c.end for c in reversed(inside[:i]) if c not in dropped), None)
                after = next((c.start for c in inside[i + 1:] if c not in dropped), None)
                if before is not None:
                    edits.append((before, check.end if after is not None else end, ""))
                else:
                    edits.append((sentence.start, after if after is not None else end, ""))
    text = copy_text
    for start, end, replacement in _merge_edits(edits):
        text = text[:start] + replacement + text[end:]
    return _tidy(text)


def _merge_edits(edits: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Edits from last to first; a removal that covers another edit absorbs it."""
    merged: list[tuple[int, int, str]] = []
    for start, end, replacement in sorted(edits, key=lambda e: (e[0], -e[1])):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            if last[2] == "" or replacement == "":
                merged[-1] = (min(last[0], start), max(last[1], end), "")
            continue
        merged.append((start, end, replacement))
    return list(reversed(merged))


def _tidy(text: str) -> str:
    """Whitespace and punctuation left over where claims were removed."""
    text = re.sub(r"[ \t]+", " ", text)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r"([,;:])(?:\s*[,;:])+", r"\1", text)
    text = re.sub(r"(?:,|;|\band|\bwith|\bplus)\s*([.!?])", r"\1", text)
    text = re.sub(r"(^|[.!?]\s+|\n)[,;]\s*", r"\1", text)
    text = re.sub(r"(^|\n)\s*[.!?]\s*", r"\1", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    text = re.sub(r"(^|[.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), text)
    return "\n".join(line.strip() for line in text.splitlines()).strip()
