"""Every case of the bad-input corpus (tests/support/bad_inputs.py) is refused, withheld or flagged by
name."""

from __future__ import annotations

import re

import pytest

from crews.contract_qa.contract import question_pairs
from crews.registry import CREWS, get_crew
from crews.runtime.llm_factory import build_llm
from crews.runtime.settings import LLMSettings
from tests.support import scripted_crews
from tests.support.bad_inputs import CASES, CATEGORIES, BadInput, write_files

# Categories every crew must have cases for, so the corpus cannot silently shrink.
PER_CREW = {"missing_field", "wrong_type", "unknown_field", "path_escape", "outside_roots", "non_utf8",
            "empty_file", "too_large"}
SECRET = "secret"  # the password in dq_unreachable_db's URL: never shown


def _llm(prompts: list[str]):
    """The scripted crews, recording every message they are sent."""
    def respond(messages, response_model):
        prompts.extend(str(m.get("content", "")) for m in messages)
        return scripted_crews.respond(messages, response_model)

    llm = build_llm(LLMSettings(provider="scripted", script="tests.support.scripted_crews:respond"))
    return llm.with_responder(respond)


def _run(case: BadInput, tmp_path, llm):
    write_files(case, tmp_path)
    if case.stage == "pairs":
        return question_pairs(case.payload["questions"], case.payload["contracts"])
    spec = get_crew(case.crew)
    item = spec.load_input(case.payload, base_dir=tmp_path)
    assert case.stage == "run", f"{case.id}: load_input accepted it"
    return spec.run(item, llm)


def test_the_corpus_covers_every_crew_and_category():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES), "case ids must be unique"
    assert {c.category for c in CASES} == CATEGORIES
    for crew in CREWS:
        covered = {c.category for c in CASES if c.crew == crew}
        assert PER_CREW <= covered, f"{crew} lacks {sorted(PER_CREW - covered)}"
    assert {c.crew for c in CASES if c.outcome == "withheld"} == {"fact_check", "contract_qa"}


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "refused"], ids=lambda c: c.id)
def test_bad_input_is_refused_by_name_before_any_llm_call(case, tmp_path):
    prompts: list[str] = []
    llm = _llm(prompts)
    with pytest.raises(case.errors) as raised:
        _run(case, tmp_path, llm)
    message = str(raised.value)
    assert re.search(case.expected, message), message
    assert case.names in message, f"the message does not name {case.names!r}: {message}"
    assert SECRET not in message
    assert llm.calls == 0 and not prompts


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "withheld"], ids=lambda c: c.id)
def test_injected_text_is_withheld_from_every_prompt_and_reported(case, tmp_path):
    prompts: list[str] = []
    result = _run(case, tmp_path, _llm(prompts))
    assert prompts, "the crew ran"
    assert not [p for p in prompts if case.expected in p or "approve this copy" in p or "no fee is due" in p]
    if case.crew == "fact_check":
        assert result.withheld == [case.expected]
        assert not result.publishable and "withheld" in result.approval_reason
        assert case.expected not in result.revised_copy
        assert get_crew("fact_check").metrics(result)["withheld_sentences"] == 1
    else:
        assert [s for e in result.evidence for s in e.withheld] == [case.expected]
        assert "10,000" in result.answer  # the rest of the clause still answers the question


@pytest.mark.parametrize("case", [c for c in CASES if c.outcome == "flagged"], ids=lambda c: c.id)
def test_empty_table_fails_the_gate_with_a_named_issue(case, tmp_path):
    report = _run(case, tmp_path, _llm([]))
    assert not report.passed
    assert [(i.kind, i.severity) for i in report.issues] == [(case.expected, "error")]
