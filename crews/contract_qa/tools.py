"""The contract Q&A crew's CrewAI tools: clause search and quote verification over one contract.

The pipeline calls both on every question (:mod:`crews.contract_qa.pipeline`); a retriever or
analyst whose LLM calls tools natively may call them itself. Search hits come screened for
instructions addressed to an AI system (:mod:`crews.screening`); a quote is verified against the
clause's original text (:mod:`crews.contract_qa.citations`).
"""

from __future__ import annotations

from pydantic import BaseModel, Field, PrivateAttr

from crews.contract_qa.citations import REPAIR_OVERLAP, best_sentence, is_verbatim, normalize, numbers
from crews.contract_qa.documents import Contract
from crews.contract_qa.retrieval import ClauseIndex
from crews.contract_qa.schemas import Citation, EvidenceItem
from crews.runtime.tools import CrewTool, ToolResult
from crews.screening import screen

MAX_QUERY_CHARS = 2000
MAX_HITS = 20
MAX_QUOTE_CHARS = 20_000  # far above what a model writes in one answer; an agent cannot send a book
MAX_CLAUSE_ID_CHARS = 300


class SearchArgs(BaseModel):
    query: str = Field(max_length=MAX_QUERY_CHARS, description="words to look for (a question, key terms)")
    k: int = Field(default=5, ge=1, le=MAX_HITS, description="how many clauses at most")


class ClauseHits(ToolResult):
    """Clauses by descending BM25 score; sentences addressed to an AI system are withheld."""

    hits: list[EvidenceItem]


class SearchClausesTool(CrewTool):
    """BM25 search over the clauses of one contract (:class:`~crews.contract_qa.retrieval.ClauseIndex`)."""

    name: str = "search_clauses"
    description: str = ("Search the contract's clauses for words or a question. Returns the best clauses "
                        "with their ids (such as 'msa:9.3'), scores and text.")
    args_schema: type[BaseModel] = SearchArgs
    contract: Contract
    _index: ClauseIndex | None = PrivateAttr(default=None)

    def _run(self, query: str, k: int = 5) -> ClauseHits:
        if self._index is None:
            self._index = ClauseIndex(self.contract.clauses)
        hits = []
        for hit in self._index.search(query, k=k):
            text, withheld = screen(hit.clause.text)
            hits.append(EvidenceItem(clause_id=hit.clause.clause_id, score=hit.score, text=text,
                                     selected=False, withheld=withheld))
        return ClauseHits(hits=hits)


class QuoteArgs(BaseModel):
    clause_id: str = Field(max_length=MAX_CLAUSE_ID_CHARS,
                           description="the clause quoted, as shown ('9.3', 'msa:9.3', 'register.end_date')")
    quote: str = Field(max_length=MAX_QUOTE_CHARS, description="the words quoted from it")


class QuoteCheck(ToolResult):
    """The verified citation of a quote, or ``None`` with the reason it was refused."""

    citation: Citation | None
    reason: str = ""


class VerifyQuoteTool(CrewTool):
    """Whether a quote is in the clause it names: verbatim, repaired to the clause sentence it nearly
    is, or found in another clause it was shown (attributed to that one)."""

    name: str = "verify_quote"
    description: str = ("Check that a quote really is in the clause it cites. Returns the verified "
                        "citation (the exact sentence when the quote was nearly verbatim) or the reason it "
                        "is refused.")
    args_schema: type[BaseModel] = QuoteArgs
    contract_id: str
    texts: dict[str, str] = Field(description="citable id -> its original text (withheld sentences included)")

    def _run(self, clause_id: str, quote: str) -> QuoteCheck:
        cited = cited_id(clause_id, self.texts)
        citation = self._in_clause(quote, cited) if cited else None
        if citation is None and normalize(quote):
            citation = self._elsewhere(quote, cited)
        if citation is not None:
            return QuoteCheck(citation=citation)
        where = f"clause {clause_id!r}" if cited else f"{clause_id!r}, which is not a clause shown,"
        return QuoteCheck(citation=None, reason=f"the quote is not in {where} nor in another clause shown")

    def _in_clause(self, quote: str, clause_id: str) -> Citation | None:
        text = self.texts[clause_id]
        if clause_id.startswith("register.") and numbers(quote) and numbers(quote) == numbers(text):
            return Citation(contract_id=self.contract_id, clause_id=clause_id, quote=text,
                            repaired=not is_verbatim(quote, text))  # "30 September 2027" == 2027-09-30
        if is_verbatim(quote, text):
            return Citation(contract_id=self.contract_id, clause_id=clause_id, quote=quote)
        sentence, share = best_sentence(quote, text)
        if share >= REPAIR_OVERLAP and normalize(quote):
            return Citation(contract_id=self.contract_id, clause_id=clause_id, quote=sentence, repaired=True)
        return None

    def _elsewhere(self, quote: str, cited: str | None) -> Citation | None:
        """The clause (other than ``cited``) that holds ``quote`` verbatim, else the one it best repairs
        to."""
        others = [key for key in self.texts if key != cited and not key.startswith("register.")]
        for key in others:
            if is_verbatim(quote, self.texts[key]):
                return Citation(contract_id=self.contract_id, clause_id=key, quote=quote, attributed=True)
        scored = [(best_sentence(quote, self.texts[key]), key) for key in others]
        if scored:
            (sentence, share), key = max(scored, key=lambda item: item[0][1])
            if share >= REPAIR_OVERLAP:
                return Citation(contract_id=self.contract_id, clause_id=key, quote=sentence, repaired=True,
                                attributed=True)
        return None


def label(clause_id: str) -> str:
    """How a clause is shown to the model: ``9.3`` for ``northwind_msa:9.3``."""
    return clause_id.split(":", 1)[1] if ":" in clause_id else clause_id


def cited_id(raw: str, texts: dict[str, str]) -> str | None:
    """The evidence id a model-written reference means (``[9.3]``, ``northwind_msa:9.3``,
    ``register:end_date``)."""
    raw = raw.strip("[] ").replace("register:", "register.")
    for key in texts:
        if raw in (key, label(key)):
            return key
    return None
