"""Which sentence of the evidence answers a question, and which figure in it, found by code.

The analyst picks a sentence and a figure; code ranks the evidence sentences on
its own (the question's topic words, widened by the synonym groups, plus the
kind of value the question asks for: a period, money, a percentage, a date)
and reads which figure of a sentence stands next to the question's words. When
the two disagree, the answer goes to review: these are the answers a small
model gets wrong while quoting real text ("10 Business Days" for visible
defects when the question asks about latent ones).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crews.contract_qa.answer_checks import CLAUSE_REFERENCE
from crews.contract_qa.citations import CURRENCY, dates_as_iso, durations, kinds, numbers
from crews.contract_qa.retrieval import coverage, topic_terms, widened

KIND_WEIGHT = 1.5  # a sentence holding the kind of value asked for counts like this many more topic words
STRONG_COVERAGE = 0.5  # code offers its own best sentence only when it holds this share of the topic words
MARGIN = 1.0  # code's best sentence must beat every cited one by this much to send the answer to review
# words before and after a figure that count as next to it ("nor higher than USD 1,780 per MT")
BEFORE, AFTER = 5, 3

_PERIOD_Q = re.compile(r"\b(how (long|soon|quickly|far)|notice|period|within what|deadline|"
                       r"how many (days|weeks|months|years|hours))\b", re.IGNORECASE)
_MONEY_Q = re.compile(r"\b(fee|fees|price|cost|rent|pay|paid|value|amount|charge|worth|owe|sum|ceiling|cap|"
                      r"compensation|deposit|bonus|rate)\b", re.IGNORECASE)
_PERCENT_Q = re.compile(r"\b(percent|percentage|interest|rebate|discount|by how much|share)\b|%",
                        re.IGNORECASE)
_DATE_Q = re.compile(r"\b(what date|which date|when|until when|by when|from what date)\b", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.;:])\s+(?=[A-Z(\"'])")
_FIGURE = re.compile(r"\d{4}-\d\d-\d\d|\d[\d,.]{0,40}\d%?|\d%?")


@dataclass(frozen=True)
class Ranked:
    clause_id: str
    sentence: str
    score: float


def asked_kinds(question: str) -> set[str]:
    """The kinds of value the question asks for: ``period``, ``money``, ``percent``, ``date``."""
    asked = {kind for kind, pattern in (("period", _PERIOD_Q), ("money", _MONEY_Q), ("percent", _PERCENT_Q),
                                        ("date", _DATE_Q)) if pattern.search(question)}
    return asked


def _held_kinds(sentence: str) -> set[str]:
    held = {kind for _, kind in kinds(sentence)}
    if durations(sentence):
        held.add("period")
    if any(re.fullmatch(r"\d{4}-\d\d-\d\d", n) for n in numbers(sentence)):
        held.add("date")
    return held


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def score(question: str, sentence: str) -> float:
    """Topic words of the question (with their synonyms) in ``sentence``, plus a bonus per asked kind it
    holds."""
    wanted = widened(topic_terms(question))
    overlap = len(wanted & topic_terms(sentence))
    return overlap + KIND_WEIGHT * len(asked_kinds(question) & _held_kinds(sentence))


def rank(question: str, texts: dict[str, str]) -> list[Ranked]:
    """Every sentence of ``texts`` (clause id -> text), best first."""
    ranked = [Ranked(cid, s, score(question, s)) for cid, text in texts.items() for s in sentences(text)]
    return sorted(ranked, key=lambda r: -r.score)


def strongest_sentence(question: str, texts: dict[str, str], names: str = "") -> Ranked | None:
    """Code's best sentence when it covers at least :data:`STRONG_COVERAGE` of the question's topic words and
    holds every kind of value the question asks for; else None."""
    ranked = rank(question, texts)
    if not ranked:
        return None
    best = ranked[0]
    asked = asked_kinds(question)
    if (coverage(question, [best.sentence], names) < STRONG_COVERAGE
            or not asked <= _held_kinds(best.sentence)):
        return None
    return best


def better_sentence(question: str, texts: dict[str, str], quotes: dict[str, str],
                    answer: str = "") -> Ranked | None:
    """Code's best sentence when the answer does not rest on it and it beats, by :data:`MARGIN`, every
    quoted sentence stating the answer's figures (every quote, when the answer states none); else None."""
    ranked = rank(question, texts)
    if not ranked or not quotes:
        return None
    best = ranked[0]
    stated = numbers(answer)
    stating = [s for quote in quotes.values() for s in sentences(quote) if numbers(s) & stated]
    if stating:
        rests_on_best = any(_same(s, best.sentence) for s in stating)
        cited = max(score(question, s) for s in stating)
    else:
        rests_on_best = best.clause_id in quotes
        cited = max(score(question, quote) for quote in quotes.values())
    return best if not rests_on_best and best.score >= cited + MARGIN else None


def _same(quote_sentence: str, sentence: str) -> bool:
    return (quote_sentence.strip(" .").lower() in sentence.lower()
            or sentence.strip(" .").lower() in quote_sentence.lower())


def figure_kind(words: list[str], i: int) -> str:
    """What the figure at ``words[i]`` is: ``date``, ``percent``, ``money``, ``period`` or ``number``."""
    word, after = words[i], " ".join(words[i + 1:i + 3]).lower()
    before = words[i - 1] if i else ""
    if re.search(r"\d{4}-\d\d-\d\d", word):
        return "date"
    if "%" in word or after.startswith(("per cent", "percent")):
        return "percent"
    if re.search(CURRENCY, word + " " + before + " " + after.split(" ")[0], re.IGNORECASE):
        return "money"
    if durations(f"{word.strip('()')} {after}"):
        return "period"
    return "number"


def nearest_figure(question: str, sentence: str, answer_figure: str) -> str | None:
    """Of the figures in ``sentence`` of the same kind as ``answer_figure`` (percent, money, period...), the
    one with most of the question's topic words next to it (:data:`BEFORE`, :data:`AFTER`), when one stands
    out; else None."""
    wanted = widened(topic_terms(question))
    words = re.findall(r"\S+", dates_as_iso(CLAUSE_REFERENCE.sub(" ", sentence)))
    figures = [(i, _plain(m.group(0)), figure_kind(words, i)) for i, w in enumerate(words)
               for m in [_FIGURE.search(w)] if m]
    kinds_of_answer = {kind for _, figure, kind in figures if figure == answer_figure}
    figures = [(i, figure) for i, figure, kind in figures if kind in kinds_of_answer]
    if len({f for _, f in figures}) < 2:
        return None
    near: dict[str, int] = {}
    for i, figure in figures:
        window = " ".join(words[max(0, i - BEFORE):i + AFTER + 1])
        near[figure] = max(near.get(figure, 0), len(wanted & topic_terms(window)))
    best = sorted(near.items(), key=lambda item: -item[1])
    return best[0][0] if best[0][1] > best[1][1] else None


def _plain(figure: str) -> str:
    return (figure if re.fullmatch(r"\d{4}-\d\d-\d\d", figure)
            else figure.replace(",", "").rstrip(".%").removesuffix(".0"))


def sentence_problems(question: str, answer: str, quotes: dict[str, str], texts: dict[str, str]) -> list[str]:
    """Where code's reading of the evidence disagrees with the answer: another clause's sentence fits the
    question clearly better, or the answer's figure is not the one its sentence puts next to the question's
    words."""
    problems = []
    if better := better_sentence(question, texts, quotes, answer):
        label = better.clause_id.split(":", 1)[-1]
        problems.append(f"clause {label} fits the question better than the quoted text: {better.sentence!r}")
    answer_figures = numbers(answer)
    for quote in quotes.values():
        for sentence in sentences(quote):
            for figure in sorted(numbers(sentence) & answer_figures):
                nearest = nearest_figure(question, sentence, figure)
                if nearest and nearest not in answer_figures:
                    problems.append(f"the answer gives {figure}, but its sentence puts {nearest} next to the "
                                    "question's words")
    return problems
