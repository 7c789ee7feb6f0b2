"""run_item serves the crew its prompts from the registry: promoting a version changes what the next run
sends."""

from __future__ import annotations

import json
from typing import Any

from crews.prompt_source import build_template, config_files
from crews.registry import crew_config_dir, prompt_hash
from crews.runner import run_item
from crews.runtime.settings import LLMSettings
from crews.tracking import prompts, spool
from tests.support.scripted_crews import respond

DRAFT = {"draft_id": "served", "fact_sheet_file": "fact_sheets/aurora_x2.yaml",
         "copy_text": "Enjoy up to 40 hours of battery life. Backed by a 2-year warranty."}
SENT: list[str] = []  # every message the scripted LLM was sent
ORIGINAL = "List every factual claim it makes"
EDITED = "List every factual claim it makes (prompt v2: quote units exactly as written)"


def capture(messages: list[dict[str, Any]], response_model: Any) -> Any:
    SENT.extend(str(m.get("content", "")) for m in messages)
    return respond(messages, response_model)


SETTINGS = LLMSettings(provider="scripted", script=f"{__name__}:capture")


def _run(**kwargs: Any) -> dict[str, Any]:
    SENT.clear()
    result = run_item("fact_check", DRAFT, SETTINGS, **kwargs)
    assert SENT, "the crew sent nothing"
    return result


def _linked(client, result: dict[str, Any]) -> list[tuple[str, str]]:
    """The prompt versions linked to the item's MLflow run (MLflow keeps them in the run tag
    mlflow.linkedPrompts)."""
    tag = client.get_run(result["mlflow_run_id"]).data.tags.get("mlflow.linkedPrompts", "[]")
    return [(p["name"], str(p["version"])) for p in json.loads(tag)]


def test_promoting_a_prompt_changes_what_the_next_run_sends(registry):
    name = prompts.prompt_name("fact_check")
    pushed = prompts.push(registry, "fact_check")
    first = _run()
    assert any(ORIGINAL in m for m in SENT) and not any(EDITED in m for m in SENT)
    assert first["prompt"] | {"fallback": None} == {"source": "registry", "version": pushed["version"],
                                                    "alias": "production", "requested": "production",
                                                    "prompt_hash": pushed["prompt_hash"], "fallback": None}

    files = config_files(crew_config_dir("fact_check"))
    files["tasks.yaml"] = files["tasks.yaml"].replace(ORIGINAL, EDITED)
    edited = registry.register_prompt(name, build_template(files), commit_message="quote units exactly")
    assert first["summary"]["claims"] == 2  # (an unpromoted version changes nothing)
    prompts.promote(registry, "fact_check", str(edited.version))

    second = _run()
    assert any(EDITED in m for m in SENT), "the promoted task description was not sent"
    assert second["prompt"]["version"] == str(edited.version) and second["summary"]["claims"] == 2
    tags = registry.get_run(second["mlflow_run_id"]).data.tags
    assert tags["prompt_version"] == str(edited.version) and tags["prompt_source"] == "registry"
    assert tags["prompt_alias"] == "production" and "prompt_fallback" not in tags
    assert (tags["prompt_hash"] == second["prompt"]["prompt_hash"]
            != prompt_hash(crew_config_dir("fact_check")))
    assert _linked(registry, second) == [(name, str(edited.version))]
    assert _linked(registry, first) == [(name, pushed["version"])]

    pinned = _run(prompt_version=pushed["version"])  # a DAG run's Param: an older version by number
    assert not any(EDITED in m for m in SENT)
    assert registry.get_run(pinned["mlflow_run_id"]).data.tags["prompt_version"] == pushed["version"]


def test_a_run_falls_back_to_the_yaml_files_and_says_why(registry):
    """No prompt registered under the alias asked for: the crew still runs, on its YAML files, and the
    run records the YAML's version (registered as before) with the reason."""
    result = _run(prompt_version="canary")
    assert any(ORIGINAL in m for m in SENT) and result["summary"]["claims"] == 2
    assert result["prompt"]["source"] == "yaml" and "is not registered" in result["prompt"]["fallback"]
    tags = registry.get_run(result["mlflow_run_id"]).data.tags
    assert tags["prompt_source"] == "yaml" and tags["prompt_requested"] == "canary"
    assert "is not registered" in tags["prompt_fallback"] and "prompt_alias" not in tags
    yaml_version = registry.get_prompt_version(prompts.prompt_name("fact_check"), tags["prompt_version"])
    assert (yaml_version.tags["prompt_hash"] == prompt_hash(crew_config_dir("fact_check"))
            == tags["prompt_hash"])


def test_mlflow_down_never_fails_the_item(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:9")
    result = _run()
    assert result["summary"]["claims"] == 2 and result["mlflow_run_id"] is None
    assert result["prompt"]["source"] == "yaml" and "MLflow unreachable" in result["prompt"]["fallback"]
    (path,) = spool.spool_dir().glob("*.json")
    record = json.loads(path.read_text())
    assert record["tags"]["prompt_source"] == "yaml" and "unreachable" in record["tags"]["prompt_fallback"]
    assert record["tags"]["prompt_hash"] == prompt_hash(crew_config_dir("fact_check"))
