"""What code can prove wrong about an analyst's answer, given the quotes it verified.

Each check names a problem in words a reviewer reads; an answer with any
problem is not sent out as confident. The checks compare the answer with the
question and the verified quotes only: numbers, dates and periods must occur in
the quotes, names in the quotes or the question, most of the answer's own words
in the quotes; a "how much / when" question needs a figure, a "how many hours"
question a number of hours, an "annual fee" question a yearly figure; a yes/no
answer must not contradict a negated clause; the quotes must address the question.
"""

from __future__ import annotations

import re

from crews.contract_qa.citations import (
    durations,
    numbers,
    unsupported_durations,
    unsupported_kinds,
    unsupported_names,
    unsupported_numbers,
)
from crews.contract_qa.retrieval import coverage, terms
from crews.contract_qa.schemas import Citation
from crews.tracking.steps import traced_step

MIN_COVERAGE = 0.25  # below this share of the question's topic words in the quotes: they do not address it
FIGURE_COVERAGE = 0.5  # the sentence stating the answer's figure, or the quotes behind a yes or no, must hold
# at least this share of the question's topic words
KEY_TERM_SHARE = 0.5  # more than this share of the answer's own terms missing from its quotes: review
QUANTITY_QUESTION = re.compile(
    r"\b(how (much|many|long|soon|quickly|often)|what (amount|date|percentage|fee|price|rate|interest)|when|"
    r"up to what|pay|owe|cost)\b", re.IGNORECASE)
MISSING_FIGURE = "the question asks for a figure or date and the answer gives none"
# "how long / how much notice / how far ahead ...": the answer must give a period ("90 days")
PERIOD_QUESTION = re.compile(r"\bhow (long|soon|quickly|far (ahead|in advance)|much (notice|time|warning)|"
                             r"many (days|weeks|months|years|hours))\b|\bwithin what (time|period)\b|"
                             r"\bwhat (notice )?period\b", re.IGNORECASE)
MISSING_PERIOD = "the question asks for a period and the answer gives none"
MISSING_COUNT = "the question asks how many"
RESTATED = "the answer only restates the question"
UNVERIFIED = "no citation could be verified against the contract text"
OFF_TOPIC = "the cited text does not address the question"
# problems that mean the quotes hold no answer at all: unless a verified quote answers, the crew abstains
NO_ANSWER = (UNVERIFIED, MISSING_FIGURE, MISSING_PERIOD, MISSING_COUNT, RESTATED, OFF_TOPIC)
# "how many hours / days / users ...": the answer must give a number of that unit
COUNTED = re.compile(r"\bhow many (?:\w+ )?(hours?|days?|weeks?|months?|years?|users?|seats?|units?|copies|"
                     r"people|employees|licen[cs]es|sites|locations|installments|instalments|payments|"
                     r"tonnes?|tons?|mt|kg|litres?|liters?)\b", re.IGNORECASE)
# a figure per period: "annual fee", "EUR 46 per user per month", "monthly rent", "a day"
_RATE = re.compile(r"\b(?:(annual(?:ly)?|yearly|per annum|p\.a\.)|(monthly)|(weekly)|(daily)|(hourly)|"
                   r"(?:per|each|every|a|an)\s+(?:\w+\s+(?:per\s+)?)?(year|month|week|day|hour)\b)",
                   re.IGNORECASE)
_PERIODS = ("year", "month", "week", "day", "hour")
YES_NO_QUESTION = re.compile(r"^\s*(is|are|does|do|did|can|could|may|might|must|will|shall|should|would|"
                             r"has|have)\b", re.IGNORECASE)
_NEGATION = re.compile(r"\b(not|no|never|neither|nor|cannot|prohibited|forbidden|excluded)\b|n't\b",
                       re.IGNORECASE)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)
_CONDITION = re.compile(r"\b(without|unless|except|subject to|only if|only with|provided that|"
                        r"if and only if)\b", re.IGNORECASE)


CLAUSE_REFERENCE = re.compile(r"\b(?:clauses?|sections?|articles?|paragraphs?|schedules?|annex(?:es)?|"
                              r"exhibits?|§)\s*\d+(?:\.\d+)*(?:\([a-z0-9]+\))*", re.IGNORECASE)


def figures(text: str) -> set[str]:
    """The numbers and dates of ``text``, clause references ("clause 9.2", "Section 4") left out."""
    return numbers(CLAUSE_REFERENCE.sub(" ", text))


def rates(text: str) -> set[str]:
    """The periods ``text`` prices or counts per ("annual" -> year, "per user per month" -> month)."""
    found = set()
    for match in _RATE.finditer(text):
        if match.group(6):
            found.add(match.group(6).lower())
        else:
            found.add(next(p for p, g in zip(_PERIODS, match.groups()[:5], strict=True) if g))
    return found


def figure_rates(text: str) -> set[str]:
    """The periods the figures of ``text`` are given per, read next to each figure ("EUR 46 per user per
    month", "an annual fee of EUR 84,000"), so a period the sentence only repeats from the question does not
    count."""
    found: set[str] = set()
    for match in re.finditer(r"\d[\d,.]{0,40}", CLAUSE_REFERENCE.sub(" ", text)):
        found |= rates(text[max(0, match.start() - 25):match.end() + 40])
    return found


def period_mismatch(question: str, answer: str, quotes: list[str]) -> str | None:
    """The problem when the question asks for a figure per one period and the answer (or, when the answer
    names none, the quote stating its number) gives it per another: an annual fee answered by a monthly
    price."""
    asked = rates(question)
    if not asked or not numbers(answer):
        return None
    given = figure_rates(answer) or set().union(*(figure_rates(q) for q in quotes
                                                  if numbers(q) & numbers(answer)))
    if given and not asked & given:
        return (f"the question asks for a figure per {' or '.join(sorted(asked))}; the answer's is per "
                f"{' or '.join(sorted(given))}")
    return None


def polarity_conflict(question: str, answer: str, quotes: list[str]) -> str | None:
    """The problem when a yes/no answer contradicts its quotes: "yes" to a clause that says "not", "no" to one
    that negates nothing. Conditional clauses ("not without consent") land here too: a person decides."""
    said = _YES_NO.match(answer)
    if not YES_NO_QUESTION.match(question) or not said:
        return None
    if any(_CONDITION.search(q) for q in quotes):
        return f"the quoted clause is conditional; a plain {said.group(1).lower()} may not hold"
    negated = any(_NEGATION.search(q) for q in quotes)
    if said.group(1).lower() == "yes" and negated:
        return "the answer says yes, but the quoted clause is negated"
    if said.group(1).lower() == "no" and not negated:
        return "the answer says no, but the quoted clause negates nothing"
    return None


@traced_step("tool")
def answer_problems(question: str, answer: str, citations: list[Citation], names: str = "") -> list[str]:
    """Every problem code can prove about ``answer`` (empty when there is none); ``names`` is the
    preamble, whose party names count as known."""
    if not citations:
        return [UNVERIFIED]
    quotes = [c.quote for c in citations]
    problems = []
    unsupported = unsupported_numbers(answer, quotes)
    if unsupported:
        problems.append(f"numbers not in the cited text: {', '.join(sorted(unsupported))}")
    elif periods := unsupported_durations(answer, quotes):
        problems.append(f"periods not in the cited text: {', '.join(periods)}")
    elif amounts := unsupported_kinds(answer, quotes):
        problems.append(f"numbers not in the cited text as stated: {', '.join(amounts)}")
    if QUANTITY_QUESTION.search(question) and not figures(answer):
        problems.append(MISSING_FIGURE)
    elif (counted := COUNTED.search(question)) and not _counts(answer, counted.group(1)):
        problems.append(f"{MISSING_COUNT} {counted.group(1).lower()} and the answer gives no such number")
    elif PERIOD_QUESTION.search(question) and not durations(answer):
        problems.append(MISSING_PERIOD)
    elif mismatch := period_mismatch(question, answer, quotes):
        problems.append(mismatch)
    yes_no = bool(_YES_NO.match(answer)) and bool(YES_NO_QUESTION.match(question))
    new_terms = terms(answer) - terms(question) - terms("yes no not")
    if not new_terms and not figures(answer) and not yes_no:
        problems.append(RESTATED)
    elif names_missing := unsupported_names(answer, quotes + [question]):
        problems.append(f"names not in the cited text: {', '.join(names_missing)}")
    else:
        quoted = set().union(*(terms(q) for q in quotes))
        missing = sorted(new_terms - quoted)
        if new_terms and len(missing) > KEY_TERM_SHARE * len(new_terms):
            problems.append(f"the answer's key terms are not in the cited text: {', '.join(missing[:6])}")
    if conflict := polarity_conflict(question, answer, quotes):
        problems.append(conflict)
    elif yes_no and (held := coverage(question, quotes, names)) < FIGURE_COVERAGE:
        # a yes or no asserts the question
        problems.append(f"a yes or no needs quotes that state what the question asks; these hold {held:.0%} "
                        "of its topic words")
    if not any(c.clause_id.startswith("register.") for c in citations) and \
            coverage(question, quotes, names) < MIN_COVERAGE:
        problems.append(OFF_TOPIC)
    elif weak := figure_off_topic(question, answer, citations, names):
        problems.append(weak)
    return problems


def figure_off_topic(question: str, answer: str, citations: list[Citation], names: str = "") -> str | None:
    """The problem when the quoted sentences that state the answer's figures share under
    :data:`FIGURE_COVERAGE` of the question's topic words (the figure comes from a neighbouring provision)."""
    wanted = figures(answer)
    stating = [s for c in citations if not c.clause_id.startswith("register.")
               for s in re.split(r"(?<=[.;:])\s+", c.quote) if figures(s) & wanted]
    if not stating:
        return None
    best = max(coverage(question, [s], names) for s in stating)
    if best < FIGURE_COVERAGE:
        return (f"the sentence stating {', '.join(sorted(figures(answer)))} shares only {best:.0%} of the "
                "question's topic words")
    return None


def _counts(answer: str, unit: str) -> bool:
    """Whether ``answer`` states a number of ``unit`` ("12 hours", "twelve (12) hours")."""
    stem = terms(unit)
    for match in re.finditer(r"\d[\d,.]{0,40}\)?\s+(?:[a-z-]+\s+){0,2}?([a-z]+)", answer.lower()):
        if terms(match.group(1)) & stem:
            return True
    return False
