"""Cutting copy into atomic claims: one fact each, with its character span.

A sentence is cut at commas, semicolons, "and", "or", "with", dashes and
brackets, and between two quantities of different kinds ("a 750 g bag | for
£4.50"); never inside a quantity ("2,499", "1 h and 30 min") or a phrase of the
fact sheet. A piece that states a quantity, names a fact with a checkable value,
uses a claim word (superlative, endorsement, guarantee), is a spec-card line
("Security: anti-theft lock") or that the fact checker quoted as a phrase is a
claim; a piece that only names a fact leads into the next one ("The battery
lasts" | "up to 80 km"); anything else is no claim. Each option of a listed fact
("sage, charcoal or terracotta") is a claim of its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crews.fact_check.facts import (
    candidates,
    fact_phrases,
    find_facts,
    mentions,
    phrase_in,
    quantities_in,
    says_none,
)
from crews.fact_check.quantities import Quantity, is_basis
from crews.fact_check.schemas import Fact, FactSheet

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
_SEPARATOR = re.compile(r",\s+|;\s*|\s+(?:and|or|&|plus|with|but|while|whilst|so|yet)\s+|\s+[–—+=-]\s+"
                        r"|\s*\|\s*|\s*[()]\s*", re.IGNORECASE)


# words that lead into a quantity ("on a 12-month contract", "for just €39"): a claim cut keeps them with it
_LEAD_IN = re.compile(r"(?:\b(?:a|an|the|on|at|for|in|of|to|by|just|only|from|up|least|over|under|about|"
                      r"around|nearly|almost|approximately|roughly|more|less|than|all|way|is|are|it's|its|"
                      r"now)\s+)+$", re.IGNORECASE)


_LEADING = re.compile(r"^(?:and|&|plus|with|but|while|whilst|so|yet|or)\s+", re.IGNORECASE)


_TRAILING = " \t.,;:!?-–—()\"'*_"


_OPTION_LINK = re.compile(r"\s*(?:,\s*(?:and\s+|or\s+)?|\s+or\s+|\s+and\s+|\s*/\s*)", re.IGNORECASE)


_OPTION_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")


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
            spans.append(Span(stripped.strip(), start + offset + lead,
                              start + offset + lead + len(stripped.strip())))
    return spans


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
    protected = [(q.start, q.end) for q in found] + fact_phrases(sentence.text, sheet)
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
        _cut_before(quantity, previous.end, sentence.text, cuts, protected)
    # "The zero-VOC formula dries to a 5% sheen": the banned word is a claim of its own
    for quantity in claims:
        piece = next(((a, b) for a, b in cuts if a <= quantity.start < b), None)
        if piece and _prohibited_in(sentence.text[piece[0]:quantity.start], sheet):
            _cut_before(quantity, piece[0], sentence.text, cuts, protected)
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


def _cut_before(quantity: Quantity, after: int, text: str, cuts: list[tuple[int, int]],
                protected: list[tuple[int, int]]) -> None:
    """Cut ``cuts`` before the words that lead into ``quantity`` ("for just"), not before ``after``."""
    head = text[max(after, quantity.start - 80):quantity.start]  # a few words: bounded work
    lead = _LEAD_IN.search(head)
    cut = quantity.start - len(head) + (lead.start() if lead else len(head))
    cut = min([cut] + [s for s, e in protected if s < cut < e])  # never inside "set any room up to"
    for i, (a, b) in enumerate(cuts):
        if a < cut < b and text[a:cut].strip(_TRAILING):
            cuts[i:i + 1] = [(a, cut), (cut, b)]
            return


def _prohibited_in(text: str, sheet: FactSheet) -> bool:
    """Whether ``text`` uses a phrase the sheet prohibits."""
    return any(phrase_in(phrase, text) for fact in candidates(sheet, text) for phrase in fact.prohibited)


def _restates(first: Quantity, second: Quantity) -> bool:
    """Whether ``second`` states ``first`` again in another unit ("2,000 g (4.4 lb)")."""
    if first.unit.kind != second.unit.kind:
        return False
    converted = first.to(second.unit)
    return (converted is not None
            and abs(converted.low - second.low) <= max(second.precision, 0.02 * abs(second.low)))


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
    for fact in candidates(sheet, text):
        if isinstance(fact.value, list) and not fact.is_numeric and skip_options:
            continue
        if fact.is_numeric:
            if any(phrase_in(p, text) for p in fact.prohibited):
                return True
            if fact.value == 0 and (phrase := mentions(fact, text)) and says_none(text, phrase):
                return True  # "no set-up fee"
            continue  # naming a numeric subject without a value claims nothing ("long battery life")
        if mentions(fact, text) is not None:
            return True
    return any(hint_covers(h, text) for h in hints or [])


def is_claim_worded(text: str) -> bool:
    """A superlative, ranking, endorsement or guarantee ("the thinnest body", "clinically proven")."""
    return any(m.group(0).lower() not in _NOT_SUPERLATIVE for m in _CLAIM_MARKERS.finditer(text))


def _norm(text: str) -> str:
    return " ".join(text.lower().split()).strip(_TRAILING)


def hint_covers(hint: str, text: str) -> bool:
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
        pattern = re.compile("|".join(rf"(?<!\w){re.escape(o)}(?!\w)"
                                      for o in sorted(known, key=len, reverse=True)),
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
        option = next((o for o in ordered
                       if after.startswith(o.lower()) and not after[len(o):len(o) + 1].isalnum()),
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
