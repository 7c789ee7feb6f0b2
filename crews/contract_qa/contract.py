"""The contract Q&A crew's contract: how the runner, the CLI and the DAG drive it.

An input item is one (contract, question) pair::

    {"question_id": "nw_termination_fee", "contract_id": "northwind_msa",
     "question": "What fee is payable if the customer terminates for convenience?"}

Optional: ``document`` (the contract file; default: the file the register lists,
else ``contracts/<contract_id>.{md,txt,pdf,docx}``) and ``register_url`` (any
SQLAlchemy URL; default ``include/contract_qa/register.db``). Relative paths
are resolved against ``base_dir`` (the CLI passes the input file's folder) or
``include/contract_qa/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from crews.contract import CrewContract
from crews.contract_qa.request import QuestionRequest
from crews.contract_qa.schemas import ContractAnswer, QuestionInput
from crews.errors import InputError, validate_item
from crews.paths import INCLUDE_DIR, database_url, find_input_file

DATA_DIR = INCLUDE_DIR / "contract_qa"
CONTRACTS_DIR = DATA_DIR / "contracts"
MAX_PAIRS = 1000  # below Airflow's [core] max_map_length (1024)


def _document(payload: QuestionRequest, register: Any, base_dir: Path | None) -> Path:
    from crews.contract_qa.documents import SUFFIXES

    if payload.document:
        return find_input_file(payload.document, "document", (base_dir, DATA_DIR), (CONTRACTS_DIR,))
    listed = register.document(payload.contract_id) if register else None
    if listed:
        return find_input_file(listed, "document", (base_dir, DATA_DIR), (CONTRACTS_DIR,))
    for suffix in SUFFIXES:
        if (CONTRACTS_DIR / f"{payload.contract_id}{suffix}").is_file():
            return CONTRACTS_DIR / f"{payload.contract_id}{suffix}"
    raise InputError(f"unknown contract: no document given, none listed in the register "
                     f"and no {payload.contract_id}.{{md,txt,pdf,docx}} in {CONTRACTS_DIR}")


def _load(data: QuestionRequest, base_dir: Path | None) -> QuestionInput:
    from crews.contract_qa.documents import parse_contract
    from crews.contract_qa.register import ContractRegister

    if data.register_url:
        register = ContractRegister(database_url(data.register_url, "register_url", (base_dir, DATA_DIR)))
    else:
        register = (ContractRegister(f"sqlite:///{DATA_DIR / 'register.db'}")
                    if (DATA_DIR / "register.db").is_file() else None)
    contract = parse_contract(_document(data, register, base_dir), contract_id=data.contract_id)
    row = register.lookup(data.contract_id) if register else None
    return QuestionInput(question_id=data.question_id, question=data.question, contract=contract,
                         register_row=row)


def pair_id(contract_id: str, question_id: str) -> str:
    """The item id of a (contract, question) pair: ``northwind_msa.nw_termination_fee``."""
    return f"{contract_id}.{question_id}"


def question_pairs(questions: list[dict[str, Any]], contracts: list[str]) -> list[dict[str, Any]]:
    """One item per (contract, question): a question names its ``contract_id`` or
    ``contract_ids``, or is asked of every contract in ``contracts``.

    Raises :class:`InputError` for an invalid question, a pair asked twice,
    or more than :data:`MAX_PAIRS` pairs (Airflow maps at most ``max_map_length``).
    """
    pairs, seen = [], set()
    for question in questions:
        request = validate_item(QuestionRequest, question, "question", "question_id")
        targets = request.contract_ids or ([request.contract_id] if request.contract_id else contracts)
        if not targets:
            raise InputError(f"question {request.question_id!r} names no contract and no contracts were "
                             "given")
        for contract_id in targets:
            if (contract_id, request.question_id) in seen:
                raise InputError(f"question {request.question_id!r} is asked twice of contract "
                                 f"{contract_id!r}")
            seen.add((contract_id, request.question_id))
            pair = (request.model_dump(exclude_none=True, exclude={"contract_ids"})
                    | {"contract_id": contract_id})
            pairs.append(pair)
    if len(pairs) > MAX_PAIRS:
        raise InputError(f"{len(questions)} questions x their contracts make {len(pairs)} "
                         f"(contract, question) pairs; at most {MAX_PAIRS} run in one DAG run: split the "
                         "questions over several runs")
    return pairs


SET_KEYS = {"questions", "contracts", "register_url"}


def question_set(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The (contract, question) items of a whole question set, the shape the DAG's conf takes::

        {"questions": [{"question_id": ..., "question": ..., "contract_id" | "contract_ids": ...}],
         "contracts": ["northwind_msa", ...],          # asked every question that names no contract
         "register_url": "sqlite:///register.db"}      # one register for the whole set (optional)
    """
    if unknown := sorted(set(data) - SET_KEYS):
        raise InputError(f"question set: unknown field(s) {', '.join(unknown)} "
                         f"(allowed: {', '.join(sorted(SET_KEYS))})")
    questions, contracts = data.get("questions"), data.get("contracts") or []
    if not isinstance(questions, list) or not questions:
        raise InputError("question set: 'questions' must be a non-empty list")
    if not isinstance(contracts, list) or not all(isinstance(c, str) for c in contracts):
        raise InputError("question set: 'contracts' must be a list of contract ids")
    return ContractQA().expand(questions, contracts=contracts, register_url=data.get("register_url"))


class ContractQA(CrewContract):
    """Coordinator, clause retriever, analyst and reviewer over one (contract, question) pair; code verifies
    every quote."""

    name = "contract_qa"
    request_model = QuestionRequest
    output_model = ContractAnswer
    id_field = "question_id"
    items_param = "questions"
    noun = "answer"
    decision_help = ("Accept marks the answer right (status accepted in the results table); Reject marks it "
                     "wrong. A corrected answer, when you give one, is stored with the decision.")
    schemas = {"question": QuestionRequest, "answer": ContractAnswer}

    def request_id(self, request: dict[str, Any]) -> str:
        """A pair's id once expanded (``<contract>.<question>``), else the question's."""
        if isinstance(request, dict) and request.get("contract_id") and request.get("question_id"):
            return pair_id(str(request["contract_id"]), str(request["question_id"]))
        return super().request_id(request)

    def expand(self, requests: list[dict[str, Any]], contracts: list[str] | None = None,
               register_url: str | None = None, **_: Any) -> list[dict[str, Any]]:
        """One item per (contract, question) pair (:func:`question_pairs`)."""
        pairs = question_pairs(requests, contracts or [])
        return [pair | {"register_url": register_url} for pair in pairs] if register_url else pairs

    def load_input(self, payload: dict[str, Any], base_dir: Path | None = None) -> QuestionInput:
        """Validate one pair and load its contract and register row; raises :class:`InputError`."""
        data = validate_item(QuestionRequest, payload, "question", "question_id")
        if not data.contract_id or data.contract_ids:
            raise InputError(f"question {data.question_id!r}: a crew item asks one contract: give "
                             "contract_id (a question set with contract_ids or contracts is split into pairs "
                             "first)")
        try:
            return _load(data, base_dir)
        except InputError as exc:
            raise InputError(f"question {data.question_id!r} about contract {data.contract_id!r}: "
                             f"{exc}") from exc

    def item_id(self, item: QuestionInput) -> str:
        return pair_id(item.contract.contract_id, item.question_id)

    def run(self, item: QuestionInput, llm: Any) -> ContractAnswer:
        from crews.contract_qa import pipeline

        return pipeline.run(item, llm)

    def metrics(self, answer: ContractAnswer) -> dict[str, float]:
        return {
            "found": float(answer.found),
            "grounded": float(answer.grounded),
            "needs_review": float(answer.needs_review),
            "confidence": answer.confidence,
            "review_score": answer.confidence,
            "answer_chars": float(len(answer.answer)),
            "citations": float(len(answer.citations)),
            "citations_repaired": float(sum(c.repaired for c in answer.citations)),
            "citations_rejected": float(len(answer.rejected_citations)),
            "evidence_clauses": float(sum(e.selected for e in answer.evidence)),
            "withheld_sentences": float(sum(len(e.withheld) for e in answer.evidence)),
        }

    def summary(self, answer: ContractAnswer) -> dict[str, Any]:
        status = "needs review" if answer.needs_review else ("answered" if answer.found else "not found")
        return {
            "item_id": pair_id(answer.contract_id, answer.question_id),
            "status": status,
            "passed": not answer.needs_review,
            "question": answer.question,
            "answer": answer.answer,
            "citations": [c.clause_id for c in answer.citations],
            "confidence": round(answer.confidence, 2),
            "grounded": answer.grounded,
            "needs_review": answer.needs_review,
            "review_reasons": answer.review_reasons,
        }

    def artifacts(self, answer: ContractAnswer) -> dict[str, Any]:
        return {"evidence.json": {"route": answer.route,
                                  "evidence": [e.model_dump() for e in answer.evidence],
                                  "register_facts": answer.register_facts,
                                  "rejected_citations": [c.model_dump() for c in answer.rejected_citations]}}

    def score(self, answer: ContractAnswer, expected: dict[str, Any]) -> dict[str, float]:
        from crews.contract_qa.scoring import score

        return score(answer, expected)

    def review_sections(self, result: dict[str, Any]) -> list[str]:
        from crews.contract_qa.review_page import sections

        return sections(result)
