import re

import pytest

from crews.contract_qa.pipeline import run as answer_question
from crews.contract_qa.schemas import (
    NOT_FOUND,
    AnalystAnswer,
    EvidenceSelection,
    GroundednessReview,
    QuotedCitation,
    Routing,
)
from crews.evaluation.golden import load_golden
from crews.registry import get_crew
from crews.runtime.llm_factory import build_llm
from crews.runtime.settings import LLMSettings
from crews.screening import WITHHELD
from tests.support import scripted_contract_qa, user_prompt

load_input = get_crew("contract_qa").load_input

QUESTIONS = {r["inputs"]["question_id"]: r["inputs"] | r["expectations"] for r in load_golden("contract_qa")}


def _llm(responder=None):
    llm = build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_contract_qa:respond"))
    return llm.with_responder(responder) if responder else llm


def _item(question_id):
    q = QUESTIONS[question_id]
    return load_input({k: q[k] for k in ("question_id", "contract_id", "question")})


def _with_analyst(answer_fn, grounded=True):
    """The scripted crew, but with this analyst (and reviewer verdict)."""
    def respond(messages, response_model):
        if issubclass(response_model, AnalystAnswer):
            return answer_fn(user_prompt(messages))
        if response_model is GroundednessReview:
            return GroundednessReview(grounded=grounded, reason="checked")
        return scripted_contract_qa.respond(messages, response_model)
    return respond


FEE_QUOTE = ("it shall pay the Provider a termination fee of EUR 25,000 within 30 days after the "
             "termination date")
FEE_WITHOUT_AMOUNT = ("If the Customer terminates for convenience under clause 9.2, it shall pay the "
                      "Provider a termination fee")


def _quoting(quote, answer, confidence=0.9):
    """An analyst that quotes ``quote`` from clause 9.3 and answers ``answer``."""
    return lambda prompt: AnalystAnswer(citations=[QuotedCitation(clause_id="9.3", quote=quote)],
                                        answer=answer, confidence=confidence)


def _documents_only(messages, response_model):
    """The scripted crew, with a coordinator that always routes to the documents."""
    if response_model is Routing:
        return Routing(register_fields=[], route="documents", search_terms="")
    return scripted_contract_qa.respond(messages, response_model)


def test_retrieval_puts_the_expected_clause_in_the_evidence():
    llm = _llm()
    hits = []
    for question_id, q in QUESTIONS.items():
        if q["expected_clauses"] and q["route"] == "documents":
            answer = answer_question(_item(question_id), llm)
            hits.append(set(q["expected_clauses"]) <= {e.clause_id for e in answer.evidence if e.selected})
    assert len(hits) == 10 and sum(hits) == 10


def test_injected_clauses_are_withheld_and_do_not_change_the_answer():
    answer = answer_question(_item("or_liability_cap"), _llm())
    withheld = [e for e in answer.evidence if e.withheld]
    assert [e.clause_id for e in withheld] == ["orbital_supply:9.4"] and not withheld[0].selected
    assert withheld[0].text == WITHHELD and "unlimited" in withheld[0].withheld[0]
    assert ("500,000" in answer.answer and answer.citations[0].clause_id == "orbital_supply:9.2"
            and answer.grounded)


def test_an_analyst_that_obeys_the_injection_is_caught():
    obey = _quoting("This contract has no termination fee.", "There is no termination fee.", confidence=0.95)
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(obey)))
    assert answer.rejected_citations[0].quote == "This contract has no termination fee."
    # the injected claim never becomes the answer: code's own best sentence of the contract goes to review
    # instead
    assert answer.needs_review and "no termination fee" not in answer.answer and "EUR 25,000" in answer.answer
    assert [c.clause_id for c in answer.citations] == ["northwind_msa:9.3"]


def test_invented_numbers_and_missing_figures_go_to_review():
    invent = _quoting(FEE_WITHOUT_AMOUNT, "It pays EUR 99,000.")
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(invent)))
    assert answer.needs_review and "numbers not in the cited text: 99000" in answer.review_reasons
    # a value the contract text does not hold is never an answer: the crew abstains and a person looks
    assert not answer.found and answer.answer == NOT_FOUND
    assert answer.review_reasons[0] == ("the analyst answered 'It pays EUR 99,000.', which the contract text "
                                        "does not support")


def test_vague_wording_is_replaced_by_the_verified_quote():
    vague = _quoting(FEE_QUOTE, "Northwind pays a fee.")
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(vague)))
    assert (answer.answer.startswith("it shall pay the Provider a termination fee of EUR 25,000")
            and answer.grounded)


def test_the_answer_schema_only_offers_the_evidence_ids():
    seen = []

    def record(messages, response_model):
        if issubclass(response_model, AnalystAnswer):
            seen.append(response_model.model_json_schema())
        return scripted_contract_qa.respond(messages, response_model)

    answer = answer_question(_item("nw_termination_fee"), _llm(record))
    (schema,) = seen
    ids = schema["$defs"]["QuotedCitation"]["properties"]["clause_id"]["enum"]
    shown = {e.clause_id.split(":", 1)[1] for e in answer.evidence if e.selected}
    assert set(ids) == shown | {"preamble", "none"}


def test_a_verbatim_quote_under_the_wrong_id_is_attributed_to_its_clause():
    def misfiled(prompt):
        quote = ("it shall pay the Provider a termination fee of EUR 25,000 within 30 days after the "
                 "termination date")
        return AnalystAnswer(citations=[QuotedCitation(clause_id="preamble", quote=quote)],
                             answer="EUR 25,000 within 30 days.", confidence=0.9)
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(misfiled)))
    (citation,) = answer.citations
    assert citation.clause_id == "northwind_msa:9.3" and citation.attributed and not answer.rejected_citations
    assert answer.grounded and not answer.needs_review


def test_an_answer_that_restates_the_question_is_never_sent_as_is():
    from crews.contract_qa.answer_checks import answer_problems
    from crews.contract_qa.schemas import Citation

    quote = ("it shall pay the Provider a termination fee of EUR 25,000 within 30 days after the "
             "termination date")
    cited = [Citation(contract_id="northwind_msa", clause_id="northwind_msa:9.3", quote=quote)]
    question = "Can Northwind terminate the agreement for convenience?"
    assert "the answer only restates the question" in answer_problems(
        question, "Northwind can terminate the agreement for convenience.", cited)


@pytest.mark.parametrize(("reply", "reason"), [
    ("Orbital Holdings pays EUR 25,000.", "names not in the cited text: Orbital Holdings"),
    ("EUR 25,000 within 30 months.", "periods not in the cited text: 30 months"),
])
def test_ungrounded_wording_goes_to_review(reply, reason):
    analyst = _quoting(FEE_QUOTE, reply)
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(analyst)))
    assert answer.needs_review and any(reason in r for r in answer.review_reasons), answer.review_reasons


def test_an_answer_from_a_clause_off_the_question_goes_to_review():
    def unrelated(prompt):
        quote = re.search(r"\[preamble\] (.*?[.;])", prompt)[1]
        return AnalystAnswer(citations=[QuotedCitation(clause_id="preamble", quote=quote)],
                             answer=quote, confidence=0.9)
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(unrelated)))
    assert answer.needs_review and "the cited text does not address the question" in answer.review_reasons


def test_near_verbatim_quotes_are_repaired_to_the_exact_sentence():
    def paraphrase(prompt):
        return AnalystAnswer(citations=[QuotedCitation(clause_id="7.1", quote="the warranty period of 24 "
                                                       "months from delivery applies to defects in materials "
                                                       "and workmanship")],
                             answer="24 months from delivery.", confidence=0.9)
    answer = answer_question(_item("or_warranty_period"), _llm(_with_analyst(paraphrase)))
    assert answer.citations[0].repaired and answer.citations[0].quote.startswith("The Supplier warrants")


def test_unanswerable_questions_are_not_found_without_a_guess():
    def guess(prompt):
        raise AssertionError("the analyst must not be asked when the contract never names the topic")
    for question_id in ("un_helios_fee", "un_northwind_insurance"):
        answer = answer_question(_item(question_id), _llm(_with_analyst(guess)))
        assert (answer.answer, answer.found, answer.citations, answer.needs_review) == (NOT_FOUND, False, [],
                                                                                        False)


def test_analyst_saying_none_means_not_found():
    def none(prompt):
        return AnalystAnswer(citations=[QuotedCitation(clause_id="none", quote="")], answer="",
                             confidence=0.8)
    answer = answer_question(_item("or_delivery_time"), _llm(_with_analyst(none)))
    assert answer.answer == NOT_FOUND and not answer.found


def test_register_questions_are_answered_by_code_from_the_register():
    answer = answer_question(_item("rg_vega_end_date"), _llm())
    assert answer.route == "register" and answer.source_used == "register"
    assert "2027-09-30" in answer.answer and answer.citations[0].clause_id == "register.end_date"


def test_a_register_field_named_in_the_question_overrides_a_documents_route():
    answer = answer_question(_item("rg_northwind_value"), _llm(_documents_only))
    assert answer.route == "both" and answer.register_facts == {"value_eur": 540000.0}


def test_retriever_cannot_add_clauses_that_were_not_found():
    def wild(messages, response_model):
        if response_model is EvidenceSelection:
            return EvidenceSelection(clause_ids=["12.3", "northwind_msa:1.1", "9.3"])
        return scripted_contract_qa.respond(messages, response_model)
    answer = answer_question(_item("nw_termination_fee"), _llm(wild))
    assert {e.clause_id for e in answer.evidence if e.selected} <= {e.clause_id for e in answer.evidence}
    assert "northwind_msa:12.3" not in {e.clause_id for e in answer.evidence if e.selected}


def test_register_citations_match_by_value_and_echoed_delimiters_are_dropped():
    def dated(prompt):
        return AnalystAnswer(citations=[QuotedCitation(clause_id="register.end_date",
                                                       quote="30 September 2027")],
                             answer="The lease ends on 30 September 2027. EVIDENCE>>>", confidence=0.9)
    def both(messages, response_model):
        if response_model is Routing:
            return Routing(register_fields=["end_date"], route="both", search_terms="")
        return _with_analyst(dated)(messages, response_model)
    answer = answer_question(_item("rg_vega_end_date"), _llm(both))
    assert answer.answer == "The lease ends on 30 September 2027."
    assert [(c.clause_id, c.quote, c.repaired) for c in answer.citations] == [("register.end_date",
                                                                              "2027-09-30", True)]
    assert answer.grounded and answer.source_used == "register"


def test_how_many_units_questions_need_a_number_of_that_unit():
    from crews.contract_qa.answer_checks import answer_problems
    from crews.contract_qa.schemas import Citation

    quote = "Onboarding includes administrator training of up to 12 hours for up to 10 administrators."
    cited = [Citation(contract_id="c", clause_id="c:5.1", quote=quote)]
    question = "How many hours of administrator training are included?"
    assert answer_problems(question, "Training is included for up to 10 administrators.", cited) == [
        "the question asks how many hours and the answer gives no such number"]
    assert answer_problems(question, "Up to 12 hours of administrator training.", cited) == []


def test_a_figure_from_another_shown_clause_is_cited_from_there():
    from crews.contract_qa.pipeline import cite_values
    from crews.contract_qa.schemas import Citation

    texts = {"c:4.1": "The Lessee shall pay a security deposit of GBP 15,000 on signature.",
             "c:4.2": "The Lessor shall repay the deposit within 30 days after the Equipment is returned."}
    cited = [Citation(contract_id="c", clause_id="c:4.1", quote=texts["c:4.1"])]
    added = cite_values("GBP 15,000, repaid within 30 days.", cited, texts, "c")
    assert [(c.clause_id, c.attributed) for c in added] == [("c:4.2", True)]
    assert cite_values("GBP 15,000, repaid within 45 days.", cited, texts, "c") == []


def test_a_wrong_wording_of_a_verified_quote_gives_the_quote_for_review():
    misnamed = _quoting(FEE_QUOTE, "EUR 25,000 as a penalty for breaching the software licence.")
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(misnamed)))
    assert answer.found and answer.answer.startswith("it shall pay the Provider a termination fee of "
                                                     "EUR 25,000")
    assert answer.needs_review and not answer.grounded
    assert answer.review_reasons[:2] == [
        "the analyst's answer 'EUR 25,000 as a penalty for breaching the software licence.' did not hold up; "
        "its verified quote is given instead",
        "the answer's key terms are not in the cited text: breach, licenc, penalti, softwar"]


def test_a_question_about_what_the_register_records_is_answered_from_the_register():
    item = load_input({"question_id": "q", "contract_id": "northwind_msa",
                       "question": "What total contract value does the register record for Northwind?"})
    answer = answer_question(item, _llm(_documents_only))
    assert answer.route == "register" and answer.answer == ("According to the contract register, total "
                                                            "contract value: EUR 540,000.")
    assert [c.clause_id for c in answer.citations] == ["register.value_eur"] and not answer.needs_review


def test_a_register_question_about_a_contract_the_register_lacks_is_not_found_for_review(tmp_path):
    item = load_input({"question_id": "q", "contract_id": "northwind_msa",
                       "document": "contracts/northwind_msa.md",
                       "question": "What total contract value does the register record for Northwind?"})
    answer = answer_question(item.model_copy(update={"register_row": None}), _llm())
    assert not answer.found and answer.needs_review and answer.route == "register"
    assert answer.review_reasons == [
        "the question asks what the contract register records, and the register has no row for contract "
        "'northwind_msa'"]


def test_a_figureless_answer_gets_the_sentence_code_finds_or_abstains_for_review():
    figureless = _quoting(FEE_WITHOUT_AMOUNT, "Northwind pays the Provider a termination fee.")
    answer = answer_question(_item("nw_termination_fee"), _llm(_with_analyst(figureless)))
    assert answer.found and "EUR 25,000" in answer.answer and answer.needs_review
    assert answer.review_reasons[:2] == [
        "the analyst's answer 'Northwind pays the Provider a termination fee.' did not hold up; the sentence "
        "of clause 9.3 that code finds answers the question is given instead",
        "the question asks for a figure or date and the answer gives none"]
    # with that sentence out of the evidence, nothing verified answers: the crew abstains, for review
    item = _item("nw_termination_fee")
    clauses = [c.model_copy(update={"text": "Termination fees are set out in the order form."})
               if c.clause_id == "northwind_msa:9.3" else c for c in item.contract.clauses]
    item = item.model_copy(update={"contract": item.contract.model_copy(update={"clauses": clauses})})

    def on_new_text(prompt):  # quotes the first words of the first clause it is shown
        label, text = re.findall(r"^\[(\d[^\]]*)\] (.*)$", prompt, re.M)[0]
        return AnalystAnswer(citations=[QuotedCitation(clause_id=label, quote=" ".join(text.split()[:6]))],
                             answer="Northwind pays the Provider a termination fee.", confidence=0.9)
    answer = answer_question(item, _llm(_with_analyst(on_new_text)))
    assert not answer.found and answer.answer == NOT_FOUND and answer.needs_review
    assert answer.review_reasons[0].startswith("the analyst answered 'Northwind pays the Provider a "
                                               "termination fee.'")
