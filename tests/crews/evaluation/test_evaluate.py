"""An evaluation runs with the prompts served and compares its scores with the last evaluation of another
version."""

from __future__ import annotations

import os
import uuid

import pytest

from crews.evaluation.evaluate import comparison_lines, evaluate_crew
from crews.prompt_source import build_template, config_files
from crews.registry import crew_config_dir
from crews.runtime.settings import LLMSettings
from crews.tracking import prompts


@pytest.fixture(autouse=True)
def _no_active_experiment_left_behind():
    """mlflow.set_experiment (the evaluation writer's) sets MLFLOW_EXPERIMENT_ID process-wide; later tests in
    this process (and their subprocesses) must not inherit it."""
    import mlflow.tracking.fluent as fluent

    before = os.environ.get("MLFLOW_EXPERIMENT_ID")
    yield
    if before is None:
        os.environ.pop("MLFLOW_EXPERIMENT_ID", None)
    else:
        os.environ["MLFLOW_EXPERIMENT_ID"] = before
    fluent._active_experiment_id = None


OLD = "For every problem, by its number, suggest one concrete fix"
NEW = "For every problem, by its number, suggest exactly one concrete fix"


def test_an_evaluation_names_its_prompt_version_and_the_scores_of_the_previous_one(registry):
    # A model name of its own: the comparison looks at evaluations of the same golden set and model only.
    settings = LLMSettings(provider="scripted", model=f"scripted-{uuid.uuid4().hex[:6]}",
                           script="tests.support.scripted_data_qa:respond")
    prompts.push(registry, "data_qa")
    first = evaluate_crew("data_qa", settings, limit=2, golden_set="samples")
    assert (first["prompt_version"], first["prompt_source"], first["previous"]) == ("1", "registry", None)
    assert "no earlier evaluation of another prompt version" in "\n".join(comparison_lines(first))

    files = config_files(crew_config_dir("data_qa"))
    assert OLD in files["tasks.yaml"]
    files["tasks.yaml"] = files["tasks.yaml"].replace(OLD, NEW)
    edited = registry.register_prompt(prompts.prompt_name("data_qa"), build_template(files))
    prompts.promote(registry, "data_qa", str(edited.version))

    second = evaluate_crew("data_qa", settings, limit=2, golden_set="samples")
    assert second["prompt_version"] == str(edited.version) == "2"
    previous = second["previous"]
    assert (previous["mlflow_run_id"], previous["prompt_version"]) == (first["mlflow_run_id"], "1")
    assert previous["scores"]["verdict_correct/mean"] == first["scores"]["verdict_correct/mean"]
    assert second["score_changes"]["verdict_correct/mean"] == (second["scores"]["verdict_correct/mean"]
                                                                - first["scores"]["verdict_correct/mean"])
    lines = "\n".join(comparison_lines(second))
    assert f"compared with the evaluation run {first['mlflow_run_id']} of prompt v1" in lines
    assert "verdict_correct/mean = " in lines and "(v1: " in lines
    run = registry.get_run(second["mlflow_run_id"])
    assert run.data.tags["prompt_version"] == "2" and run.data.tags["prompt_source"] == "registry"
    assert run.data.tags["previous_evaluation_run"] == first["mlflow_run_id"]
    items = [r for r in registry.search_runs([run.info.experiment_id],
                                             f"tags.purpose = 'evaluation' and "
                                             f"tags.model = '{settings.model}'")
             if r.data.tags.get("kind") != "evaluation"]  # the golden records' crew runs
    assert sorted(r.data.tags["prompt_version"] for r in items) == ["1", "1", "2", "2"]

    again = evaluate_crew("data_qa", settings, limit=1, golden_set="samples", prompt_version="2")
    assert again["previous"]["mlflow_run_id"] == first["mlflow_run_id"]  # the last run of *another* version
    pinned = evaluate_crew("data_qa", settings, limit=1, golden_set="samples", prompt_version="1")
    assert pinned["prompt_version"] == "1" and pinned["previous"]["mlflow_run_id"] == again["mlflow_run_id"]
