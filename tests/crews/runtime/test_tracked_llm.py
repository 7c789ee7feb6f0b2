"""TrackedLLM as CrewAI drives it: the context-window check before each call."""

import logging
from pathlib import Path

import yaml
from crewai.llms.base_llm import BaseLLM

from crews.fact_check.pipeline import run as check_draft
from crews.fact_check.schemas import DraftInput, FactSheet

SHEET = FactSheet.model_validate(yaml.safe_load(
    (Path(__file__).resolve().parents[3] / "include/fact_check/fact_sheets/aurora_x2.yaml").read_text()))
COPY = "Enjoy up to 40 hours of battery life. Backed by a 2-year warranty."


def test_a_crew_run_logs_no_warning_per_llm_call(scripted_llm, caplog):
    caplog.set_level(logging.DEBUG, logger="crewai")
    check_draft(DraftInput(draft_id="d1", copy_text=COPY, fact_sheet=SHEET), scripted_llm)
    assert scripted_llm.calls >= 2  # the agents did call the LLM
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno >= logging.WARNING and r.name.startswith("crewai")]
    assert not warnings


def test_the_estimate_is_crewais_four_characters_per_token(scripted_llm):
    messages = [{"role": "system", "content": "x" * 10}, {"role": "user", "content": "y" * 31}]
    assert (scripted_llm.get_input_tokens_count(messages) == 11
            == BaseLLM.get_input_tokens_count(scripted_llm, messages))
    assert scripted_llm.get_input_tokens_count("z" * 8) == 2
