"""Answer one question about one contract: route, retrieve, answer, verify, review.

:func:`run` takes the steps every crew takes (docs/crews.md): **ask** (1, 2, 4, 6), **tool**
(``search_clauses`` in 2, ``verify_quote`` in 5), **screen** (each clause found, 2), **verify**
(5) and **route_to_review** (the end: grounded and confident, or the reasons a person should
look).

1. the coordinator routes the question to the documents, the register or both;
2. BM25 finds candidate clauses (instruction-like sentences withheld; a clause
   with nothing else left is dropped); the retriever adds the clauses it finds
   relevant to the two best hits (at most three in all); when the evidence
   holds under a quarter of the question's topic words, the answer is "not
   found" without asking the analyst;
3. the register tool returns the requested fields (fixed query, no SQL from the
   model); a register-only question is answered from them by code;
4. the analyst quotes the evidence and answers, or says it is not found;
5. code verifies every quote against its clause (verbatim, or repaired to the
   exact sentence when nearly so) and checks the answer against the quotes and
   the question (:mod:`~crews.contract_qa.answer_checks`) and against its own
   reading of the evidence (:mod:`~crews.contract_qa.answer_sentence`); when the
   model's wording fails, a verified sentence that passes (its own quote, else
   the sentence code ranks best) is given for review, else the crew abstains
   for review; when the wording only lacks the figure, the verified quote itself
   becomes the answer;
6. the reviewer checks that the quotes support the answer.

An answer is grounded when it has at least one verified citation, passes the
checks of step 5 and the reviewer agrees. Ungrounded or low-confidence answers
are marked ``needs_review``. "Not found" answers cite nothing.
"""

from __future__ import annotations

import re
from typing import Any

from crewai.llms.base_llm import BaseLLM

from crews.contract_qa.answer_checks import MIN_COVERAGE, MISSING_FIGURE, NO_ANSWER, answer_problems
from crews.contract_qa.answer_sentence import sentence_problems, strongest_sentence
from crews.contract_qa.citations import numbers, unsupported_numbers
from crews.contract_qa.crew import ContractQACrew
from crews.contract_qa.register import FIELD_LABELS, FIELDS, fields_named_in, format_fact
from crews.contract_qa.retrieval import coverage
from crews.contract_qa.schemas import (
    NOT_FOUND,
    AnalystAnswer,
    Citation,
    ContractAnswer,
    EvidenceItem,
    QuestionInput,
    QuotedCitation,
    Routing,
)
from crews.contract_qa.tools import (
    MAX_CLAUSE_ID_CHARS,
    MAX_QUERY_CHARS,
    MAX_QUOTE_CHARS,
    SearchClausesTool,
    VerifyQuoteTool,
    cited_id,
    label,
)
from crews.review import review_settings
from crews.screening import WITHHELD, screen
from crews.tracking.steps import traced_step

SEARCH_K = 5
MAX_EVIDENCE = 3
ALWAYS_KEPT = 2  # the best search hits stay in the evidence whatever the retriever picks
# problems that mean the answer's value is not in the text: the answer becomes "not found" (and goes to
# review)
UNGROUNDED_VALUE = ("numbers not in the cited text", "periods not in the cited text",
                    "names not in the cited text")
# prompt delimiters echoed back
_MARKERS = re.compile(r"\s*(<<<|>>>)?\b(EVIDENCE|CLAUSES|QUOTES)\b(<<<|>>>)?\s*$|<<<|>>>"
                      r"|\[(?:preamble|register\.\w+|\d{1,3}(?:\.\d{1,3}){0,3})\]\s*")  # and evidence labels


def _kickoff(crew: ContractQACrew, step: str, inputs: dict[str, Any]) -> Any:
    """The structured output of the one-task crew ``step``, ``None`` when the model gave none."""
    return crew.ask(crew.step(step), inputs)[0]


@traced_step("retriever")
def retrieve(item: QuestionInput, search_terms: str) -> list[EvidenceItem]:
    """Search hits for the question, then for the coordinator's keywords
    (:class:`~crews.contract_qa.tools.SearchClausesTool`); screened for injected instructions."""
    search = SearchClausesTool(contract=item.contract)
    hits = search.run(query=item.question, k=SEARCH_K).hits
    seen = {h.clause_id for h in hits}
    return hits + [h for h in search.run(query=search_terms[:MAX_QUERY_CHARS], k=2).hits
                   if h.clause_id not in seen]


@traced_step("tool")
def verify_citations(
    answer: AnalystAnswer, contract_id: str, texts: dict[str, str]
) -> tuple[list[Citation], list[QuotedCitation]]:
    """Split the analyst's citations into verified and rejected ones
    (:class:`~crews.contract_qa.tools.VerifyQuoteTool`).

    ``texts`` maps each citable id to its original text (withheld sentences included,
    so a quote of the withheld marker is rejected). A quote that is not in the
    clause it names (or names no clause) but occurs in another clause of
    ``texts`` is attributed to that clause.
    """
    verify = VerifyQuoteTool(contract_id=contract_id, texts=texts)
    verified, rejected = [], []
    for cited in answer.citations:
        citation = verify.run(clause_id=cited.clause_id[:MAX_CLAUSE_ID_CHARS],
                              quote=cited.quote[:MAX_QUOTE_CHARS]).citation
        if citation is None:
            rejected.append(cited)
        elif all(c.clause_id != citation.clause_id or c.quote != citation.quote for c in verified):
            verified.append(citation)
    return verified, rejected


def route(crew: ContractQACrew, item: QuestionInput, common: dict[str, Any]) -> Routing:
    """The coordinator's decision, checked by code: a register field the question names by a
    :data:`~crews.contract_qa.register.FIELD_WORDS` word adds the register (a question about what "the
    register" holds goes to the register alone); no register row removes it."""
    routing = _kickoff(crew, "route_question", {**common, "title": item.contract.title,
                                                "register_fields": ", ".join(FIELDS)})
    routing = routing or Routing(route="both", register_fields=list(FIELDS))
    if item.register_row is None and asks_register(item.question):
        return Routing(register_fields=[], route="register", search_terms=routing.search_terms)
    if item.register_row is None:
        return Routing(register_fields=[], route="documents", search_terms=routing.search_terms)
    named = list(routing.register_fields)
    if len(named) == len(FIELDS):
        named = []  # "all fields" is the model not choosing
    asked = fields_named_in(item.question, about_register=asks_register(item.question))
    named += [f for f in asked if f not in named]
    if asked and asks_register(item.question):  # "what does the register record"
        return routing.model_copy(update={"route": "register", "register_fields": asked})
    if routing.route == "documents" and named:
        return routing.model_copy(update={"route": "both", "register_fields": named})
    return routing.model_copy(update={"register_fields": named})


def run(item: QuestionInput, llm: BaseLLM) -> ContractAnswer:
    """Answer one question about one contract."""
    contract = item.contract
    crew = ContractQACrew(llm, tools={
        "retriever": [SearchClausesTool(contract=contract)],
        "analyst": [VerifyQuoteTool(contract_id=contract.contract_id,
                                    texts={c.clause_id: c.text for c in contract.clauses})],
    })
    common = {"contract_id": contract.contract_id, "question": item.question}
    routing = route(crew, item, common)

    evidence: list[EvidenceItem] = []
    if routing.route in ("documents", "both"):
        evidence = retrieve(item, routing.search_terms)
        candidates = [e for e in evidence if e.text.replace(WITHHELD, "").strip()]
        if candidates:
            listing = "\n".join(f"[{label(e.clause_id)}] {e.text}" for e in candidates)
            picked = _kickoff(crew, "select_evidence", {**common, "candidates": listing})
            chosen = {cited_id(c, {e.clause_id: "" for e in candidates})
                      for c in (picked.clause_ids if picked else [])}
            kept = candidates[:ALWAYS_KEPT] + [e for e in candidates[ALWAYS_KEPT:] if e.clause_id in chosen]
            for e in kept[:MAX_EVIDENCE]:
                e.selected = True
    register_facts: dict[str, Any] = {}
    if routing.route in ("register", "both") and item.register_row is not None:
        fields = routing.register_fields or list(FIELDS)
        register_facts = {f: item.register_row[f] for f in fields if item.register_row.get(f) is not None}

    if routing.route == "register" and register_facts:
        return _register_answer(item, routing, register_facts)
    if routing.route == "register" and item.register_row is None and asks_register(item.question):
        return _not_found(item, routing, evidence, register_facts, confidence=1.0,
                          reasons=["the question asks what the contract register records, and the register "
                                   f"has no row for contract {contract.contract_id!r}"])
    texts = {e.clause_id: e.text for e in evidence if e.selected}
    texts |= {f"register.{field}": format_fact(field, value) for field, value in register_facts.items()}
    preamble = contract.clause(f"{contract.contract_id}:preamble")
    names = preamble.text if preamble else ""
    covered = coverage(item.question, list(texts.values()), names)
    if not register_facts and covered < MIN_COVERAGE:  # the text never names the topic, or barely
        anywhere = covered or coverage(item.question, [c.text for c in contract.clauses], names)
        partly = ([f"only {covered:.0%} of the question's topic words occur in the retrieved clauses (and "
                   f"{anywhere:.0%} anywhere in the contract); the contract may say it in other words"]
                  if anywhere else [])
        return _not_found(item, routing, evidence, register_facts, confidence=1.0, reasons=partly)
    parties = f"[preamble] {screen(names)[0]}\n" if preamble and preamble.clause_id not in texts else ""
    listing = parties + "\n".join(f"[{label(key)}] {text}" for key, text in texts.items())
    labels = tuple(dict.fromkeys([*(["preamble"] if parties else []), *(label(key) for key in texts)]))
    (answer,) = crew.ask(crew.answer_step(labels), {**common, "evidence": listing})
    if answer is None:
        raise ValueError("the analyst returned no answer")
    if not answer.found:
        return _not_found(item, routing, evidence, register_facts, confidence=answer.confidence,
                          reasons=["the analyst found no answer in clauses that share the question's topic"])

    originals = {key: text for key, text in texts.items() if key.startswith("register.")}
    originals |= {e.clause_id: contract.clause(e.clause_id).text for e in evidence if e.selected}
    if parties:
        originals[preamble.clause_id] = preamble.text
    citations, rejected = verify_citations(answer, contract.contract_id, originals)
    text = _MARKERS.sub("", answer.answer).strip()
    if citations:
        citations += cite_values(text, citations, originals, contract.contract_id)
    reasons = answer_problems(item.question, text, citations, names)
    if any(r.startswith(UNGROUNDED_VALUE) for r in reasons):  # a value the contract text lacks: abstain
        return _not_found(item, routing, evidence, register_facts, confidence=answer.confidence,
                          reasons=[f"the analyst answered {text!r}, which the contract text does not support",
                                   *reasons],
                          rejected=rejected)
    shown = {e.clause_id: originals[e.clause_id] for e in evidence if e.selected}
    reasons = reasons or sentence_problems(item.question, text, _quoted(citations), shown)
    alternative = (_alternative(item.question, citations, shown, names, contract.contract_id)
                   if reasons else None)
    if alternative and alternative in citations and reasons == [MISSING_FIGURE]:
        # the model's wording lost the figure; its verified quote has it
        text, reasons = alternative.quote, []
    elif alternative:  # the model's wording does not hold; a verified sentence does: give that, for review
        source = "its verified quote" if alternative in citations else \
            f"the sentence of clause {label(alternative.clause_id)} that code finds answers the question"
        reasons = [f"the analyst's answer {text!r} did not hold up; {source} is given instead", *reasons]
        text = alternative.quote
        citations = [alternative, *(c for c in citations
                                    if c is not alternative and c.clause_id.startswith("register."))]
    elif any(r.startswith(NO_ANSWER) for r in reasons):  # nothing verified answers the question: abstain
        return _not_found(item, routing, evidence, register_facts, confidence=answer.confidence,
                          reasons=[f"the analyst answered {text!r}, which no verified quote answers",
                                   *reasons],
                          rejected=rejected)
    review = None
    if citations:
        quotes = "\n".join(f"[{c.clause_id}] {c.quote}" for c in citations)
        review = _kickoff(crew, "check_grounding", {**common, "answer": text, "quotes": quotes})
        if review is not None and not review.grounded:
            reasons.append(f"reviewer: {review.reason}")
    grounded = not reasons
    min_confidence = review_settings("contract_qa")["min_score"]
    if answer.confidence < min_confidence:
        reasons.append(f"confidence {answer.confidence:.2f} below {min_confidence}")
    used = {"register" if c.clause_id.startswith("register.") else "documents" for c in citations}
    return ContractAnswer(
        question_id=item.question_id, contract_id=contract.contract_id, question=item.question,
        answer=text, found=True, citations=citations,
        source_used="both" if len(used) == 2 else (used.pop() if used else "none"), route=routing.route,
        confidence=answer.confidence, grounded=grounded, needs_review=bool(reasons), review_reasons=reasons,
        rejected_citations=rejected, evidence=evidence, register_facts=register_facts,
        reviewer_note=review.reason if review else "",
    )


def cite_values(answer: str, citations: list[Citation], texts: dict[str, str],
                contract_id: str) -> list[Citation]:
    """Citations for the answer's numbers that its quotes lack but another clause it was shown states:
    the sentence of that clause holding the number, attributed to it ("GBP 15,000" in 4.1, "30 days" in
    4.2)."""
    missing = unsupported_numbers(answer, [c.quote for c in citations])
    added: list[Citation] = []
    for number in sorted(missing):
        for key, text in texts.items():
            if key.startswith("register."):
                continue
            sentence = next((s for s in re.split(r"(?<=[.;])\s+", text) if number in numbers(s)), None)
            if sentence:
                added.append(Citation(contract_id=contract_id, clause_id=key, quote=sentence.strip(),
                                      attributed=True))
                break
    return added


def asks_register(question: str) -> bool:
    """Whether the question asks what the contract register itself records."""
    return bool(re.search(r"\bregister\b", question, re.IGNORECASE))


def _quoted(citations: list[Citation]) -> dict[str, str]:
    """Clause id -> quote of the document citations."""
    return {c.clause_id: c.quote for c in citations if not c.clause_id.startswith("register.")}


def _answers(question: str, citation: Citation, shown: dict[str, str], names: str) -> bool:
    """Whether a verified sentence, given as the answer, passes every check of code."""
    return not answer_problems(question, citation.quote, [citation], names) and \
        not sentence_problems(question, citation.quote, {citation.clause_id: citation.quote}, shown)


def _alternative(question: str, citations: list[Citation], shown: dict[str, str], names: str,
                 contract_id: str) -> Citation | None:
    """A verified sentence that answers ``question`` when the analyst's wording does not: its own quote
    first, else the evidence sentence code ranks best, when that one covers at least
    :data:`~crews.contract_qa.answer_sentence.STRONG_COVERAGE` of the question's topic words and holds
    the kind of value asked for."""
    for citation in citations:
        if not citation.clause_id.startswith("register.") and _answers(question, citation, shown, names):
            return citation
    best = strongest_sentence(question, shown, names)
    if best is None:
        return None
    citation = Citation(contract_id=contract_id, clause_id=best.clause_id, quote=best.sentence)
    return citation if _answers(question, citation, shown, names) else None


def _not_found(item: QuestionInput, routing: Routing, evidence: list[EvidenceItem],
               register_facts: dict[str, Any], confidence: float, reasons: list[str] | None = None,
               rejected: list[QuotedCitation] | None = None) -> ContractAnswer:
    """"Not found in the contract.", sent to review with ``reasons`` when the contract may answer after
    all."""
    return ContractAnswer(
        question_id=item.question_id, contract_id=item.contract.contract_id, question=item.question,
        answer=NOT_FOUND, found=False, citations=[], source_used="none", route=routing.route,
        confidence=confidence, grounded=True, needs_review=bool(reasons), review_reasons=reasons or [],
        rejected_citations=rejected or [], evidence=evidence, register_facts=register_facts,
    )


def _register_answer(item: QuestionInput, routing: Routing, facts: dict[str, Any]) -> ContractAnswer:
    """A register-only question: the answer is the register's values, cited field by field."""
    contract_id = item.contract.contract_id
    citations = [Citation(contract_id=contract_id, clause_id=f"register.{field}",
                          quote=format_fact(field, value))
                 for field, value in facts.items()]
    answer = "; ".join(f"{FIELD_LABELS[field]}: {format_fact(field, value)}"
                       for field, value in facts.items())
    return ContractAnswer(
        question_id=item.question_id, contract_id=contract_id, question=item.question,
        answer=f"According to the contract register, {answer}.", found=True, citations=citations,
        source_used="register", route=routing.route, confidence=1.0, grounded=True, needs_review=False,
        register_facts=facts,
    )
