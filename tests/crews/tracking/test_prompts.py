"""The crews' prompts in MLflow's prompt registry: push, promote, show, and what a run is served."""

from __future__ import annotations

import logging

import pytest

from crews.__main__ import main
from crews.prompt_source import build_template, config_files
from crews.registry import crew_config_dir, prompt_hash, prompt_template
from crews.tracking import prompts
from crews.tracking.prompts import PromptRegistryError, load_served, promote, push, show, version_for_run

FOLDER = crew_config_dir("fact_check")


def _versions(client, crew="fact_check"):
    return sorted(int(v.version) for v in client.search_prompt_versions(prompts.prompt_name(crew)))


def _edited(old="List every factual claim", new="List EVERY claim, edited in the registry,") -> str:
    files = config_files(FOLDER)
    assert old in files["tasks.yaml"]
    files["tasks.yaml"] = files["tasks.yaml"].replace(old, new)
    return build_template(files)


def test_push_registers_one_version_and_pushing_again_none(registry):
    first = push(registry, "fact_check")
    assert first["registered"] and first["version"] == "1"
    assert (first["alias"], first["alias_version"], first["alias_was"]) == ("production", "1", None)
    again = push(registry, "fact_check")
    assert not again["registered"] and again["version"] == "1" and "alias_was" not in again
    assert _versions(registry) == [1]
    version = registry.get_prompt_version(prompts.prompt_name("fact_check"), 1)
    assert version.template == prompt_template(FOLDER) and "{{copy}}" in version.template
    assert version.tags["prompt_hash"] == prompt_hash(FOLDER) == first["prompt_hash"]
    assert "copy" in version.variables  # MLflow sees the placeholders


def test_push_finds_a_version_registered_by_hand_with_the_same_text(registry):
    registry.register_prompt(prompts.prompt_name("fact_check"), prompt_template(FOLDER))  # no prompt_hash tag
    assert not push(registry, "fact_check")["registered"] and _versions(registry) == [1]


def test_promote_moves_the_alias_and_push_leaves_an_existing_production_alone(registry):
    push(registry, "fact_check")
    edited = registry.register_prompt(prompts.prompt_name("fact_check"), _edited())
    moved = promote(registry, "fact_check", str(edited.version))
    assert (moved["version"], moved["alias_was"]) == ("2", "1")
    assert registry.get_prompt_version_by_alias(prompts.prompt_name("fact_check"), "production").version == 2
    kept = push(registry, "fact_check")
    assert kept["alias_version"] == "2" and not kept["registered"]
    assert show(registry, "fact_check")["version"] == "2" and not show(registry, "fact_check")["matches_yaml"]
    back = push(registry, "fact_check", alias="production")
    assert (back["alias_version"], back["alias_was"]) == ("1", "2")
    staged = promote(registry, "fact_check", "2", alias="staging")
    assert staged["alias_was"] is None
    shown = show(registry, "fact_check", "staging")
    assert (shown["version"], shown["alias"], shown["servable"]) == ("2", "staging", True)
    assert show(registry, "fact_check", "1")["matches_yaml"]


def test_promote_and_show_name_what_does_not_exist(registry):
    with pytest.raises(PromptRegistryError, match=r"is not registered \(python -m crews prompts push"):
        show(registry, "data_qa")
    push(registry, "data_qa")
    with pytest.raises(PromptRegistryError, match="has no version 9"):
        promote(registry, "data_qa", "9")
    with pytest.raises(PromptRegistryError, match="has no alias 'canary'"):
        show(registry, "data_qa", "canary")
    with pytest.raises(PromptRegistryError, match="not an alias name"):
        promote(registry, "data_qa", "1", alias="9lives")


def test_cli_exit_status_and_messages(registry, capsys, monkeypatch):
    assert main(["prompts", "push", "contract_qa"]) == 0
    assert '"registered": true' in capsys.readouterr().out
    assert main(["prompts", "promote", "contract_qa", "5"]) == 2
    assert "error: prompt crews.contract_qa" in capsys.readouterr().err
    assert main(["prompts", "show", "contract_qa", "--version", "1"]) == 0
    assert '"version": "1"' in capsys.readouterr().out
    with pytest.raises(SystemExit) as unknown:
        main(["prompts", "show", "nope"])
    assert unknown.value.code == 2 and "invalid choice: 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    assert main(["prompts", "push", "all"]) == 1
    assert "unreachable" in capsys.readouterr().err


# --- what a run is served ------------------------------------------------------------------------------


def _fell_back(served, reason: str) -> None:
    assert served.source == "yaml" and reason in served.fallback, served.fallback
    assert served.prompt_hash == prompt_hash(served.config_dir) and served.version is None
    assert served.tags()["prompt_fallback"] == served.fallback and served.tags()["prompt_source"] == "yaml"


def test_serving_falls_back_to_the_yaml_when_mlflow_is_down(monkeypatch, caplog):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    with caplog.at_level(logging.WARNING, logger="crews.tracking.prompts"):
        served = load_served("fact_check")
    _fell_back(served, "MLflow unreachable")
    assert (served.requested == "production" and "unreachable" in caplog.text
            and "YAML prompt files" in caplog.text)


def test_serving_falls_back_when_the_prompt_alias_or_version_is_missing(registry, caplog):
    with caplog.at_level(logging.WARNING, logger="crews.tracking.prompts"):
        _fell_back(load_served("data_qa"), "is not registered")
        prompts.ensure_prompt_version(registry, "data_qa", prompt_template(crew_config_dir("data_qa")),
                                      prompt_hash(crew_config_dir("data_qa")))  # a version, no alias
        _fell_back(load_served("data_qa"), "has no alias 'production'")
        _fell_back(load_served("data_qa", "7"), "has no version 7")
        _fell_back(load_served("data_qa", "no.such"), "neither an alias name nor a version number")
    assert "has no alias 'production'" in caplog.text


def test_a_version_that_does_not_fit_the_crew_is_not_served(registry):
    push(registry, "fact_check")
    broken = registry.register_prompt(prompts.prompt_name("fact_check"), "Check the copy: {{copy}}")
    _fell_back(load_served("fact_check", str(broken.version)), "does not fit the crew")
    unknown_variable = registry.register_prompt(prompts.prompt_name("fact_check"),
                                                _edited("{copy}", "{copy} {tone}"))
    _fell_back(load_served("fact_check", str(unknown_variable.version)), "{tone}")


def test_the_alias_or_a_version_is_served_from_the_registry(registry, monkeypatch):
    push(registry, "fact_check")
    edited = registry.register_prompt(prompts.prompt_name("fact_check"), _edited())
    served = load_served("fact_check")
    assert (served.source, served.version, served.alias, served.fallback) == ("registry", "1", "production",
                                                                              None)
    assert served.files == config_files(FOLDER) and served.prompt_hash == prompt_hash(FOLDER)
    by_number = load_served("fact_check", str(edited.version))
    assert (by_number.version, by_number.alias, by_number.requested) == ("2", None, "2")
    assert "List EVERY claim, edited in the registry," in by_number.files["tasks.yaml"]
    assert by_number.prompt_hash != prompt_hash(FOLDER)
    monkeypatch.setenv("CREWS_PROMPT_VERSION", "2")
    assert load_served("fact_check").version == "2"
    on_disk = load_served("fact_check", "yaml")
    assert (on_disk.source, on_disk.fallback) == ("yaml", None)


def test_a_run_is_linked_to_the_version_served_or_to_its_yamls(registry):
    push(registry, "fact_check")
    edited = registry.register_prompt(prompts.prompt_name("fact_check"), _edited())
    served = load_served("fact_check", "2")
    assert version_for_run(registry, "fact_check", served.tags(), served.template).version == edited.version
    fallback = load_served("fact_check", "8")
    assert version_for_run(registry, "fact_check", fallback.tags(), fallback.template).version == 1
    assert _versions(registry) == [1, 2]
