"""Deterministic fact work: cut copy into atomic claims, find the facts each is about, compare.

No LLM here. The copy is cut into sentences and each sentence into atomic
claims (one fact each: "a 500 Wh battery, an 80 km range and a 4-hour charge"
is three claims), each with its character span. A claim is compared only with
facts about its subject: the fact's subject or an alias occurs in the claim
(word stems, so "charges" finds "charge"); a quantity is compared only with a
fact whose unit measures the same thing (:mod:`crews.fact_check.quantities`),
so sharing a unit is never enough and a price in another currency is never
converted. The verdict rules:

* a ``prohibited`` phrase, a value the fact sheet states differently, an
  option outside a fact's list, or a qualifier that overstates ("at least 80
  km" of "up to 80 km") -> ``contradicted``;
* else a value the fact confirms -> ``supported``;
* else (no fact about the subject, another currency, a superlative) -> ``unverifiable``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from crews.fact_check.quantities import Quantity, Unit, find_quantities, is_basis, judge, qualifier_start
from crews.fact_check.schemas import ClaimCheck, Evidence, Fact, FactSheet

# Words that make text a claim without a number: superlatives, rankings, endorsements, guarantees.
_CLAIM_MARKERS = re.compile(
    r"\b(most|best|fastest|longest|lightest|strongest|thinnest|leading|number one|no\.? ?1|#1|world'?s|"
    r"unbeatable|guaranteed?|proven|clinically|certified|award[- ]winning|recommended?|approved|"
    r"loved by|trusted by|only|first|lifetime|unlimited|free|\w+-free|\w+-safe|"
    r"safe|organic|vegan|handmade|hand-made|made in|patented|exclusive|instantly|in (?:seconds|minutes)|"
    r"\w{3,}iest|\w{3,}est)\b",
    re.IGNORECASE,
)
_NOT_SUPERLATIVE = frozenset({
    "interest", "forest", "honest", "latest", "modest", "request", "guest", "rest", "test", "nest", "west",
    "chest", "contest", "protest", "digest", "harvest", "suggest", "invest", "manifest", "arrest", "pest",
    "vest", "zest", "crest", "quest", "lest", "jest", "attest", "detest", "behest", "conquest", "earnest",
    "everest", "priest", "midwest", "northwest", "southwest", "northeast", "southeast", "feast",
    "beast", "least", "east", "yeast", "breast",
})
_SENTENCE_END = re.compile(r"(?<=[.!?])(?:\*\*|__)?\s+(?=[A-Z0-9\"'(€£$¥*])|\n+")
_LINE_MARKUP = re.compile(r"^\s*(?:#{1,6}\s+|[-*•>]\s+|\d{1,2}[.)]\s+)?")
# Where one atomic claim ends and the next begins inside a sentence.
_SEPARATOR = re.compile(r",\s+|;\s*|\s+(?:and|or|&|plus|with|but|while|whilst|so|yet)\s+|\s+[–—+=-]\s+|\s*\|\s*"
                        r"|\s*[()]\s*", re.IGNORECASE)
# words that lead into a quantity ("on a 12-month contract", "for just €39"): a claim cut keeps them with it
_LEAD_IN = re.compile(r"(?:\b(?:a|an|the|on|at|for|in|of|to|by|just|only|from|up|least|over|under|about|around|"
                      r"nearly|almost|approximately|roughly|more|less|than|all|way|is|are|it's|its|now)\s+)+$",
                      re.IGNORECASE)
_LEADING = re.compile(r"^(?:and|&|plus|with|but|while|whilst|so|yet|or)\s+", re.IGNORECASE)
_TRAILING = " \t.,;:!?-–—()\"'*_"
_OPTION_LINK = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+or\s+|\s+and\s+|\s*/\s*)", re.IGNORECASE)
_OPTION_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_TOKEN = re.compile(r"[a-z0-9]+")


@functools.cache
def _stemmer():  # noqa: ANN202
    import Stemmer

    return Stemmer.Stemmer("english")


@functools.lru_cache(maxsize=8192)
def _stems(text: str) -> tuple[str, ...]:
    return tuple(_stemmer().stemWords(_TOKEN.findall(text.lower().replace("'s", ""))))


def stems(text: str) -> list[str]:
    """Lower-cased word stems of ``text`` ("Charges in 4 hours" -> charg, in, 4, hour)."""
    return list(_stems(text))


def phrase_in(phrase: str, text: str) -> bool:
    """Whether the words of ``phrase`` occur in ``text`` in order, compared by stem."""
    needle, hay = _stems(phrase), _stems(text)
    if not needle or not set(needle) <= set(hay):
        return False
    return any(hay[i:i + len(needle)] == needle for i in range(len(hay) - len(needle) + 1))


@dataclass
class Span:
    """A piece of the copy: its text and where it is."""

    text: str
    start: int
    end: int


@dataclass
class ClaimSpan(Span):
    """An atomic claim: its span, the sentence it is part of and, for a list option, the fact and option."""

    sentence: Span = field(default_factory=lambda: Span("", 0, 0))
    option_of: Fact | None = None


def split_sentences(text: str) -> list[str]:
    """Split copy into sentences (and lines) without breaking decimals such as ``1.8``."""
    return [s.text for s in sentence_spans(text)]


def sentence_spans(text: str) -> list[Span]:
    """Sentences and lines of ``text`` with their offsets, without Markdown heading/bullet markers."""
    spans, position = [], 0
    for piece in _SENTENCE_END.split(text):
        start = text.find(piece, position)
        position = start + len(piece)
        markup = _LINE_MARKUP.match(piece)
        offset = markup.end() if markup else 0
        stripped = piece[offset:].rstrip()
        lead = len(stripped) - len(stripped.lstrip())
        if stripped.strip():
            spans.append(Span(stripped.strip(), start + offset + lead, start + offset + lead + len(stripped.strip())))
    return spans


# --- which facts a piece of copy is about ---------------------------------------


def mentions(fact: Fact, text: str) -> str | None:
    """The phrase by which ``text`` names the fact's subject (subject, alias, prohibited phrase, value), if any."""
    for phrase in [fact.subject, *fact.aliases, *fact.prohibited]:
        if phrase_in(phrase, text):
            return phrase
    pattern = _pattern(fact)
    if pattern is not None and pattern.search(text):
        return pattern.pattern
    if isinstance(fact.value, str) and phrase_in(fact.value, text):
        return fact.value
    return None


@functools.lru_cache(maxsize=512)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_CODE = re.compile(r"[A-Za-z-]*\d+[A-Za-z0-9-]*")


def _pattern(fact: Fact) -> re.Pattern[str] | None:
    """The fact's ``pattern``, or for a code-like value ("IP54", "4D") the same shape with any digits."""
    if fact.pattern:
        return _compiled(fact.pattern)
    if isinstance(fact.value, str) and len(fact.value) <= 12 and _CODE.fullmatch(fact.value):
        shape = "".join(r"\d+" if part.isdigit() else re.escape(part) for part in re.split(r"(\d+)", fact.value) if part)
        return _compiled(rf"(?<![\w-]){shape}(?![\w-])")
    return None


@dataclass
class _SheetIndex:
    """Which facts a text can name, found by word stem instead of trying every phrase of every fact."""

    by_stem: dict[str, set[str]]
    always: set[str]  # facts with a pattern or code value: tried on every text
    phrases: re.Pattern[str] | None  # the sheet's multiword phrases, lower-cased
    allow: frozenset[str]


def _index(sheet: FactSheet) -> _SheetIndex:
    if sheet._lookup is None:
        by_stem: dict[str, set[str]] = {}
        multiword: set[str] = set()
        phrases = [(fact, phrase) for fact in sheet.facts for phrase in
                   [fact.subject, *fact.aliases, *fact.prohibited, *([fact.value] if isinstance(fact.value, str) else [])]]
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
        always = {fact.id for fact in sheet.facts if _pattern(fact) is not None}
        ordered = sorted(multiword, key=len, reverse=True)
        sheet._lookup = _SheetIndex(
            by_stem, always, re.compile("|".join(re.escape(p) for p in ordered)) if ordered else None,
            frozenset(f.unit.strip() for f in sheet.facts if f.unit and f.fact_unit is not None))
    return sheet._lookup  # type: ignore[return-value]


def _candidates(sheet: FactSheet, text: str) -> list[Fact]:
    """The facts whose phrases could occur in ``text`` (in sheet order)."""
    index = _index(sheet)
    ids = set(index.always)
    for stem in set(_stems(text)):
        ids |= index.by_stem.get(stem, set())
    return [f for f in sheet.facts if f.id in ids]


def find_facts(claim: str, sheet: FactSheet) -> list[Fact]:
    """Facts the claim names by subject, alias, prohibited phrase, value or pattern (never by unit alone)."""
    return [f for f in _candidates(sheet, claim) if mentions(f, claim) is not None]


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
    allow = _index(sheet).allow
    names = [(m.start(), m.end()) for code in _model_numbers(sheet.product)
             for m in re.finditer(rf"(?<!\w){re.escape(code)}(?!\w)", text, re.IGNORECASE)]
    return [q for q in find_quantities(text, allow) if not any(s <= q.start and q.end <= e for s, e in names)]


@functools.lru_cache(maxsize=256)
def _model_numbers(product: str) -> tuple[str, ...]:
    return tuple(m.group(0) for m in re.finditer(r"[A-Za-z]+[ -]?\d+[A-Za-z]*\b", product))


# --- cutting copy into atomic claims -------------------------------------------


def claim_spans(copy_text: str, sheet: FactSheet, hints: list[str] | None = None) -> list[ClaimSpan]:
    """The atomic claims of ``copy_text``: one per fact stated, in copy order.

    A sentence is cut at commas, semicolons, "and", "with", dashes and brackets;
    each piece that states a quantity, names a fact, uses a claim word
    (superlative, endorsement, guarantee) or that the fact checker quoted
    (``hints``, when the quote is a phrase rather than a whole sentence) is a
    claim. A piece that names a fact but states no value leads into the next
    piece ("The battery lasts" | "up to 80 km"); a piece with none of these is
    no claim. Each option of a listed fact ("sage, charcoal or terracotta") is
    a claim of its own.
    """
    claims: list[ClaimSpan] = []
    sentences = sentence_spans(copy_text)
    whole = {_norm(s.text) for s in sentences}
    hints = [h for h in hints or [] if _norm(h) not in whole]  # a sentence quoted whole singles out nothing
    for sentence in sentences:
        options = _option_claims(sentence, sheet)
        taken = [(o.start, o.end) for o in options]
        pieces = _pieces(sentence, sheet)
        kept: list[ClaimSpan] = []
        lead: Span | None = None  # a piece that names a fact whose value the next piece states
        for piece in pieces:
            if any(s <= piece.start and piece.end <= e for s, e in taken):
                continue
            if _has_signal(piece.text, sheet, hints, skip_options=bool(options)):
                start = lead.start if lead else piece.start
                kept.append(ClaimSpan(copy_text[start:piece.end], start, piece.end, sentence))
                lead = None
            elif find_facts(piece.text, sheet) and not _only_option_text(piece, taken):
                lead = lead or piece  # "The battery lasts" | "up to 80 km"
            # a piece that states nothing and names nothing is not a claim
        claims += sorted(kept + options, key=lambda c: c.start)
    return claims


def _only_option_text(piece: Span, taken: list[tuple[int, int]]) -> bool:
    """Whether the piece overlaps a list option that is already a claim of its own."""
    return any(s < piece.end and piece.start < e for s, e in taken)


def _pieces(sentence: Span, sheet: FactSheet) -> list[Span]:
    """The sentence cut at separators that fall outside quantities ("2,499", "1 h and 30 min" stay whole),
    and between two quantities of different kinds ("a 750 g bag | for £4.50")."""
    found = quantities_in(sentence.text, sheet)
    protected = [(q.start, q.end) for q in found] + _fact_phrases(sentence.text, sheet)
    cuts, position = [], 0
    for match in _SEPARATOR.finditer(sentence.text):
        if any(s < match.end() and match.start() < e for s, e in protected):
            continue
        cuts.append((position, match.start()))
        position = match.end()
    cuts.append((position, len(sentence.text)))
    claims = [q for q in found if not is_basis(q, sentence.text)]
    for previous, quantity in zip(claims, claims[1:], strict=False):
        if _restates(previous, quantity) or previous.unit.kind == quantity.unit.kind == "count":
            continue  # "2,000 g (4.4 lb)": one claim in two units; bare numbers go by their neighbours
        head = sentence.text[previous.end:quantity.start]
        lead = _LEAD_IN.search(head)
        cut = previous.end + (lead.start() if lead else len(head))
        cut = min([cut] + [s for s, e in protected if s < cut < e])  # never inside "set any room up to"
        for i, (a, b) in enumerate(cuts):
            if a < cut < b and sentence.text[a:cut].strip(_TRAILING):
                cuts[i:i + 1] = [(a, cut), (cut, b)]
                break
    pieces = []
    for a, b in cuts:
        text = sentence.text[a:b]
        lead = _LEADING.match(text)
        a += lead.end() if lead else 0
        text = sentence.text[a:b]
        stripped = text.strip(_TRAILING)
        if not stripped:
            continue
        a += text.find(stripped)
        pieces.append(Span(stripped, sentence.start + a, sentence.start + a + len(stripped)))
    return pieces


def _restates(first: Quantity, second: Quantity) -> bool:
    """Whether ``second`` states ``first`` again in another unit ("2,000 g (4.4 lb)")."""
    if first.unit.kind != second.unit.kind:
        return False
    converted = first.to(second.unit)
    return converted is not None and abs(converted.low - second.low) <= max(second.precision, 0.02 * abs(second.low))


def _fact_phrases(text: str, sheet: FactSheet) -> list[tuple[int, int]]:
    """Where the sheet's own phrases (values, subjects, aliases, prohibited words) occur: never cut inside them."""
    phrases = _index(sheet).phrases
    return [(m.start(), m.end()) for m in phrases.finditer(text.lower())] if phrases else []


def _states(quantity: Quantity, text: str, sheet: FactSheet) -> bool:
    """Whether a quantity makes the text a claim: not a reference amount ("per 100 g"); a bare "one"
    ("One thermostat for every room") only when the text also names a fact."""
    if is_basis(quantity, text):
        return False
    if quantity.unit.kind == "count" and quantity.text.lower() == "one":
        return bool(find_facts(text, sheet))
    return True


# a spec-card line: a short label, a colon, a value ("Security: app-controlled anti-theft lock")
_SPEC_LINE = re.compile(r"^[A-Z][\w'’ /&-]{0,30}:\s+\S")


def _has_signal(text: str, sheet: FactSheet, hints: list[str] | None, skip_options: bool) -> bool:
    if any(_states(q, text, sheet) for q in quantities_in(text, sheet)) or is_claim_worded(text):
        return True
    if _SPEC_LINE.match(text):
        return True
    for fact in _candidates(sheet, text):
        if isinstance(fact.value, list) and not fact.is_numeric and skip_options:
            continue
        if fact.is_numeric:
            if any(phrase_in(p, text) for p in fact.prohibited):
                return True
            if fact.value == 0 and (phrase := mentions(fact, text)) and _says_none(text, phrase):
                return True  # "no set-up fee"
            continue  # naming a numeric subject without a value claims nothing ("long battery life")
        if mentions(fact, text) is not None:
            return True
    return any(_hint_covers(h, text) for h in hints or [])


def is_claim_worded(text: str) -> bool:
    """A superlative, ranking, endorsement or guarantee ("the thinnest body", "clinically proven")."""
    return any(m.group(0).lower() not in _NOT_SUPERLATIVE for m in _CLAIM_MARKERS.finditer(text))


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(_TRAILING)


def _hint_covers(hint: str, text: str) -> bool:
    """The fact checker's quoted claim is (mostly) this piece, not a whole sentence around it."""
    hint_n, text_n = _norm(hint), _norm(text)
    if not hint_n or not text_n:
        return False
    if hint_n in text_n:
        return True
    return text_n in hint_n and len(text_n) >= 0.6 * len(hint_n)


MAX_CHAIN = 100  # options looked for before a known one (the look-back is bounded; the look-ahead is linear)


def _option_claims(sentence: Span, sheet: FactSheet) -> list[ClaimSpan]:
    """One claim per option named in a chain with a known option of a list fact ("charcoal or terracotta")."""
    claims: list[ClaimSpan] = []
    for fact in sheet.facts:
        if not isinstance(fact.value, list) or fact.is_numeric:
            continue
        known = [str(o) for o in fact.value]
        pattern = re.compile("|".join(rf"(?<!\w){re.escape(o)}(?!\w)" for o in sorted(known, key=len, reverse=True)),
                             re.IGNORECASE)
        found: dict[int, ClaimSpan] = {}
        covered = -1
        for match in pattern.finditer(sentence.text):
            if match.start() < covered:
                continue  # already part of a chain
            chain = _option_chain(sentence.text, match.start(), match.end(), known)
            covered = chain[-1][1]
            for start, end in chain:
                found.setdefault(start, ClaimSpan(sentence.text[start:end], sentence.start + start,
                                                  sentence.start + end, sentence, option_of=fact))
        claims += found.values()
    return claims


_LINK_BEFORE = re.compile(r"(?:,\s*|\s+or\s+|\s+and\s+|\s*/\s*)$", re.IGNORECASE)
_WORD_BEFORE = re.compile(r"[A-Za-z][A-Za-z'’-]*$")


def _option_chain(text: str, start: int, end: int, known: list[str]) -> list[tuple[int, int]]:
    """The option at ``start:end`` and the options linked to it by commas, "or", "and" or "/":
    known options (of any length) or single words; at most :data:`MAX_CHAIN` before the known one."""
    chain = [(start, end)]
    position = end
    ordered = sorted(known, key=len, reverse=True)
    while link := _OPTION_LINK.match(text, position):  # each step moves on: linear in the sentence
        after = text[link.end():link.end() + 100].lower()
        option = next((o for o in ordered if after.startswith(o.lower()) and not after[len(o):len(o) + 1].isalnum()),
                      None)
        if option is not None:
            chain.append((link.end(), link.end() + len(option)))
        elif word := _OPTION_WORD.match(text, link.end()):
            chain.append((word.start(), word.end()))
        else:
            break
        position = chain[-1][1]
    position = start
    while len(chain) < MAX_CHAIN:
        window = max(0, position - 60)  # look back a bounded distance: linear in the sentence
        before = text[window:position]
        link = _LINK_BEFORE.search(before)
        word = _WORD_BEFORE.search(before[:link.start()]) if link else None
        if not link or not word:
            break
        chain.insert(0, (window + word.start(), window + word.end()))
        position = window + word.start()
    return chain


# --- comparing a claim with the facts about it ----------------------------------


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
    pattern = _pattern(fact)
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
    if fact.value == 0 and (phrase := mentions(fact, claim)) and _says_none(claim, phrase):
        return [Finding(fact, "supports", phrase)]  # "no set-up fee" of a EUR 0 fee
    references = fact.quantities()
    if references and references[0].unit.kind == "count":
        quantities = _nearest_count(claim, [q for q in quantities if q.unit.kind == "count"], fact)
    return [finding for q in quantities if (finding := _judge_quantity(fact, q, claim)) is not None]


def _nearest_count(text: str, counts: list[Quantity], fact: Fact) -> list[Quantity]:
    """Of several bare numbers, the one standing nearest the fact's name ("Bluetooth 5.3 ... two devices")."""
    if len(counts) < 2:
        return counts
    words = [(m.start(), _stemmer().stemWord(m.group(0))) for m in _TOKEN.finditer(text.lower())]
    places = []
    for phrase in [fact.subject, *fact.aliases]:
        needle = stems(phrase)
        places += [words[i][0] for i in range(len(words) - len(needle) + 1)
                   if needle and [w for _, w in words[i:i + len(needle)]] == needle]
    if not places:
        return []
    return [min(counts, key=lambda q: min(abs(q.start - place) for place in places))]


def _says_none(text: str, phrase: str) -> bool:
    """"no set-up fee", "free delivery", "zero fees": the phrase is said to be nothing."""
    words = text.lower().split()
    first = stems(phrase)[:1]
    for i in range(len(words)):
        if stems(words[i])[:1] == first:
            return bool(set(words[max(0, i - 3):i]) & {"no", "zero", "free", "without", "nil"})
    return False


def _near(text: str, quantity: Quantity, fact: Fact, words: int = 3) -> bool:
    """Whether the fact's subject or an alias stands within ``words`` words of the quantity ("SPF 30", "sleeps two")."""
    before = " ".join(text[:quantity.start].split()[-words:])
    after = " ".join(text[quantity.end:].split()[:words])
    return any(phrase_in(p, before) or phrase_in(p, after) for p in [fact.subject, *fact.aliases])


def _judge_quantity(fact: Fact, quantity: Quantity, text: str | None = None) -> Finding | None:
    references = fact.quantities()
    if not references or not compatible(references[0].unit, quantity.unit):
        return None
    if references[0].unit.kind == "count" and text is not None and not _near(text, quantity, fact) and \
            sum(q.unit.kind == "count" for q in find_quantities(text)) > 1:
        return None  # of several bare numbers, one is about a fact only when it stands next to the fact's name
    claimed = quantity.to(references[0].unit) if not quantity.unit.is_currency else quantity
    if claimed is None:
        return None
    outcomes = [judge(claimed, reference, fact.tolerance) for reference in references]
    outcome = "supports" if "supports" in outcomes else ("contradicts" if "contradicts" in outcomes else "unknown")
    return Finding(fact, outcome, quantity.text, quantity)


def check_claim(claim_id: int, claim: str | ClaimSpan, sheet: FactSheet, found_by: str = "model") -> ClaimCheck:
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
    evidence = [Evidence(fact_id=f.fact.id, statement=f.fact.statement, reference_value=f.fact.display_value(),
                         claimed_value=f.claimed) for f in deciding]
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
            return (f"states a price in {currencies[0].unit.name}; the fact sheet states {fact.display_value()} "
                    "(currencies are not converted)")
    if named:
        return "mentions " + ", ".join(f.subject for f in named) + " but states no value the fact sheet confirms"
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
        value = f"{reference.low:,.0f}" if "," in quantity.text and reference.low.is_integer() else f"{reference.low:g}"
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


# --- the pipeline's helpers -----------------------------------------------------------


def check_copy(copy_text: str, sheet: FactSheet, hints: list[str] | None = None) -> list[ClaimCheck]:
    """Every atomic claim of the copy with its verdict; ``found_by`` says whether the fact checker quoted it."""
    checks = []
    for number, span in enumerate(claim_spans(copy_text, sheet, hints), 1):
        quoted = any(_hint_covers(h, span.text) or _hint_covers(span.text, h) for h in hints or [])
        checks.append(check_claim(number, span, sheet, "model" if quoted else "tools"))
    return checks


def looks_like_claim(sentence: str, sheet: FactSheet) -> bool:
    """Text that states a quantity, names a fact with a checkable value, or is worded as a claim."""
    return _has_signal(sentence, sheet, None, skip_options=False)


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
        fixed = {id(c): c.corrected_claim for c in inside if c.verdict == "contradicted" and c.corrected_claim}
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
