"""Clause search: BM25 (bm25s, English stop words, Snowball stemming) over one contract's clauses.

Each clause is indexed with its section heading, so "termination fee" finds
``9.3`` under "9. Termination" even when the clause itself says "terminate".
A question's words are widened by the synonym groups of ``config/synonyms.yaml``
("kick-off" also looks for "commencement"), for the search and for the topic
coverage. Everything runs in-process from PyPI packages; nothing is downloaded
at run time.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

import bm25s
import Stemmer
import yaml

from crews.contract_qa.documents import Clause

_STEMMER = Stemmer.Stemmer("english")
SYNONYMS_FILE = Path(__file__).parent / "config" / "synonyms.yaml"


@dataclass(frozen=True)
class Hit:
    clause: Clause
    score: float


def _tokens(texts: list[str]) -> bm25s.tokenization.Tokenized:
    return bm25s.tokenize(texts, stopwords="en", stemmer=_STEMMER, show_progress=False)


def terms(text: str) -> set[str]:
    """The stemmed content words of ``text`` (the same analysis as the index)."""
    return set(bm25s.tokenize([text], stopwords="en", stemmer=_STEMMER, show_progress=False,
                              return_ids=False)[0])


@functools.cache
def _groups() -> list[list[str]]:
    """The synonym groups of :data:`SYNONYMS_FILE`, read once."""
    return [[str(word) for word in group]
            for group in yaml.safe_load(SYNONYMS_FILE.read_text(encoding="utf-8"))["groups"]]


@functools.cache
def _synonyms() -> dict[str, frozenset[str]]:
    """Each stem of a synonym group -> every stem of the groups it belongs to."""
    groups = _groups()
    related: dict[str, set[str]] = {}
    for group in groups:
        stems = set().union(*(terms(re.sub(r"[\s-]+", "", word)) for word in group))
        for stem in stems:
            related.setdefault(stem, set()).update(stems)
    return {stem: frozenset(others) for stem, others in related.items()}


@functools.cache
def _phrases() -> re.Pattern[str] | None:
    """The multi-word entries of the synonym groups ("kick off", "roll over"), as one pattern."""
    phrases = sorted({w for group in _groups() for w in group if " " in w}, key=len, reverse=True)
    words = [r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases]
    return re.compile(rf"\b(?:{'|'.join(words)})\b", re.IGNORECASE) if words else None


def _joined(text: str) -> str:
    """Hyphenated words and the synonym groups' phrases as one word: "kick-off", "kick off" -> "kickoff"."""
    text = re.sub(r"(?<=\w)-(?=\w)", "", text)
    phrases = _phrases()
    return phrases.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text) if phrases else text


def topic_terms(text: str) -> set[str]:
    """The stemmed content words of ``text``, hyphenated words also read as one ("kick", "off", "kickoff")."""
    return terms(text) | terms(_joined(text))


def widened(stems: set[str]) -> set[str]:
    """``stems`` and the stems of their synonym groups."""
    table = _synonyms()
    return set(stems).union(*(table.get(stem, ()) for stem in stems))


# Words every contract question uses; they say nothing about whether a clause covers the topic.
_GENERIC = terms("agreement contract party parties under must does do have what which how long much many "
                 "soon quickly shall may will the terms about be once nda msa lease when where who whom "
                 "whose why is are it its up out")


def coverage(question: str, evidence: list[str], names: str = "") -> float:
    """Share of the question's topic words (generic words and the parties' ``names`` left out) found in
    ``evidence``."""
    topic = terms(_joined(question)) - _GENERIC - topic_terms(names)
    if not topic:
        return 1.0
    found = set().union(*(topic_terms(text) for text in evidence)) if evidence else set()
    return sum(bool(widened({stem}) & found) for stem in topic) / len(topic)


class ClauseIndex:
    """BM25 index over clauses (headings-only clauses and the preamble are searchable too)."""

    def __init__(self, clauses: list[Clause]) -> None:
        self.clauses = [c for c in clauses if c.text.strip()]
        self._bm25 = bm25s.BM25()
        self._bm25.index(_tokens([f"{c.heading} {c.text}" for c in self.clauses]), show_progress=False)

    def search(self, query: str, k: int = 5) -> list[Hit]:
        """Up to ``k`` clauses by descending score; clauses sharing no term with the query are left out."""
        k = min(k, len(self.clauses))
        if k == 0 or not query.strip():
            return []
        tokens = [sorted(widened(topic_terms(query)))]
        if not tokens[0]:
            return []
        ids, scores = self._bm25.retrieve(tokens, k=k, show_progress=False)
        return [Hit(self.clauses[i], round(float(s), 4))
                for i, s in zip(ids[0], scores[0], strict=True) if s > 0]
