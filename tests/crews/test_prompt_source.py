"""The registry form of the crews' prompts (exact round trip) and how a served text reaches a crew."""

from __future__ import annotations

import itertools
import re

import pytest
import yaml

from crews import prompt_source
from crews.prompt_source import (
    PromptTemplateError,
    build_template,
    check_fits,
    config_files,
    from_registry,
    selector,
    serving,
    split_template,
    template_hash,
    to_registry,
    yaml_prompts,
)
from crews.registry import CREWS, crew_config_dir, get_crew, prompt_hash, prompt_template

CONFIG_FILES = [(crew, path.name) for crew in sorted(CREWS)
                for path in sorted(crew_config_dir(crew).glob("*.y*ml"))]


def test_our_placeholder_pattern_is_crewais():
    from crewai.utilities.string_utils import _VARIABLE_PATTERN

    assert prompt_source.CREWAI_VARIABLE.pattern == _VARIABLE_PATTERN.pattern


@pytest.mark.parametrize(("crew", "name"), CONFIG_FILES, ids=lambda v: v)
def test_every_config_file_round_trips_exactly(crew, name):
    text = (crew_config_dir(crew) / name).read_text(encoding="utf-8")
    registry = to_registry(text)
    assert from_registry(registry) == text
    assert not prompt_source.CREWAI_VARIABLE.findall(registry.replace("{{", "").replace("}}", "")), \
        "a CrewAI placeholder was left in the registry form"
    assert sorted(re.findall(r"\{\{(\w+)}}", registry)) == sorted(prompt_source.CREWAI_VARIABLE.findall(text))


@pytest.mark.parametrize("crew", sorted(CREWS))
def test_a_crews_template_splits_back_into_its_files(crew):
    from mlflow.entities.model_registry import PromptVersion

    folder = crew_config_dir(crew)
    template = prompt_template(folder)
    assert split_template(template) == config_files(folder)
    assert template.startswith("# --- agents.yaml\n") and "\n# --- tasks.yaml\n" in template
    disk_variables = {v for text in config_files(folder).values()
                      for v in prompt_source.CREWAI_VARIABLE.findall(text)}
    assert disk_variables and PromptVersion(f"crews.{crew}", 1, template).variables == disk_variables
    assert prompt_hash(folder) == template_hash(template) and len(prompt_hash(folder)) == 16
    assert get_crew(crew).config_dir == folder


@pytest.mark.parametrize("text", [
    "", "{copy}", "{{copy}}", "{{{copy}}}", "{a-b} {_x1}", '{"json": {"a": 1}}', "{ spaced }", "{1abc}",
    "{a}}{b}", "{{a}", "{a}}", "}{a}{", "price: {price}\n  - {items}\n",
])
def test_tricky_texts_round_trip(text):
    assert from_registry(to_registry(text)) == text
    files = {"agents.yaml": text, "tasks.yaml": text + "\n", "z.yml": ""}
    assert split_template(build_template(files)) == files


def test_every_short_brace_text_round_trips():
    for n in range(1, 8):
        for chars in itertools.product("{}a-1", repeat=n):
            text = "".join(chars)
            assert from_registry(to_registry(text)) == text, text


@pytest.mark.parametrize(("template", "problem"), [
    ("agents: {}\n", "does not start with"),
    ("# --- agents.yaml\na: 1\n# --- notes about it\nb: 2\n", "does not name a YAML file"),
    ("# --- agents.yaml\na: 1\n\n# --- agents.yaml\nb: 2\n", "appears twice"),
])
def test_texts_that_are_not_config_files_are_refused(template, problem):
    with pytest.raises(PromptTemplateError, match=problem):
        split_template(template)


def _fact_check_files() -> dict[str, str]:
    return config_files(crew_config_dir("fact_check"))


def test_a_version_fits_the_crew_only_with_every_entry_and_known_placeholders():
    disk = _fact_check_files()
    check_fits(dict(disk), disk)
    tasks = yaml.safe_load(disk["tasks.yaml"])
    without = {**disk, "tasks.yaml": yaml.safe_dump({k: v for k, v in tasks.items() if k != "review_copy"})}
    with pytest.raises(PromptTemplateError, match="tasks.yaml lacks review_copy"):
        check_fits(without, disk)
    unknown = {**disk, "tasks.yaml": disk["tasks.yaml"].replace("{copy}", "{copy} {brand_voice}")}
    with pytest.raises(PromptTemplateError, match=r"\{brand_voice\}"):
        check_fits(unknown, disk)
    with pytest.raises(PromptTemplateError, match="no agents.yaml"):
        check_fits({"tasks.yaml": disk["tasks.yaml"]}, disk)
    with pytest.raises(PromptTemplateError, match="not valid YAML"):
        check_fits({**disk, "agents.yaml": "a: [1\n"}, disk)


def test_selector_prefers_the_request_then_version_then_alias(monkeypatch):
    monkeypatch.delenv("CREWS_PROMPT_VERSION", raising=False)
    monkeypatch.delenv("CREWS_PROMPT_ALIAS", raising=False)
    assert selector().alias == "production"
    monkeypatch.setenv("CREWS_PROMPT_ALIAS", "staging")
    assert selector().alias == "staging"
    monkeypatch.setenv("CREWS_PROMPT_VERSION", "4")
    assert (selector().version, selector().alias) == ("4", None)
    assert selector("canary").alias == "canary" and selector(7).version == "7"
    assert selector("yaml").is_yaml and not selector("1.5").valid and not selector("-x").valid


def test_a_crew_built_while_prompts_are_served_reads_them_and_else_its_files(scripted_llm):
    from crews.fact_check.crew import FactCheckCrew

    folder = crew_config_dir("fact_check")
    on_disk = FactCheckCrew(scripted_llm).tasks_config["extract_claims"]["description"]
    files = _fact_check_files()
    files["tasks.yaml"] = files["tasks.yaml"].replace("List every factual claim", "List EVERY served claim")
    template = build_template(files)
    served = yaml_prompts("fact_check", folder, "production")
    served = type(served)("fact_check", folder, template, template_hash(template), "registry", "production",
                          version="9", alias="production", files=split_template(template))
    with serving(served):
        crew = FactCheckCrew(scripted_llm)
    assert "List EVERY served claim" in crew.tasks_config["extract_claims"]["description"]
    assert "List every factual claim" in on_disk and "EVERY served" not in on_disk
    assert crew.agents_config["fact_checker"]["role"]  # agents come from the served text too
    assert prompt_source.current() is None  # reset after the block
    after = FactCheckCrew(scripted_llm).tasks_config["extract_claims"]["description"]
    assert after == on_disk


def test_served_prompts_of_another_crew_leave_a_crews_files_alone(scripted_llm):
    from crews.fact_check.crew import FactCheckCrew

    other = yaml_prompts("data_qa", crew_config_dir("data_qa"), "production")
    with serving(other):
        crew = FactCheckCrew(scripted_llm)
    assert "extract_claims" in crew.tasks_config


def test_yaml_prompts_tag_the_fallback_reason():
    served = yaml_prompts("data_qa", crew_config_dir("data_qa"), "production",
                          fallback="MLflow unreachable: x")
    assert served.tags() == {"prompt_hash": prompt_hash(crew_config_dir("data_qa")), "prompt_source": "yaml",
                             "prompt_requested": "production", "prompt_fallback": "MLflow unreachable: x"}
    assert served.info()["version"] is None and served.info()["fallback"] == "MLflow unreachable: x"
