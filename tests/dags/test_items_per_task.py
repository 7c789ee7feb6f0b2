"""fact_check_copy with ``items_per_task``: chunks of drafts per mapped task, run with dag.test() and the
scripted LLM; one draft's model fails once, another's always."""

from collections import Counter

import diskcache
import pytest
from mlflow import MlflowClient

from crews.results import fetch_results
from tests.dags.dagtest_support import run_dag_test

pytestmark = pytest.mark.integration

SHEET = "fact_sheets/aurora_x2.yaml"
DRAFTS = {  # in chunks of two: [a, flaky], [c, broken], [e]
    "a": "Backed by a 2-year warranty.",
    "flaky": "FLAKY Backed by a 2-year warranty.",
    "c": "Backed by a 2-year warranty.",
    "broken": "BROKEN Backed by a 2-year warranty.",
    "e": "Backed by a 2-year warranty.",
}


@pytest.fixture(scope="module")
def dag_run(tmp_path_factory):
    conf = {"items_per_task": 2, "prompt_version": "yaml",
            "drafts": [{"draft_id": k, "copy_text": v, "fact_sheet_file": SHEET} for k, v in DRAFTS.items()]}
    return run_dag_test("fact_check_copy", conf, "tests.support.scripted_flaky:respond",
                        tmp_path_factory.mktemp("chunks"))


def production_runs(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/fact_check")
    return client.search_runs([experiment.experiment_id], "tags.purpose = 'production'", max_results=100)


def test_the_failing_draft_fails_alone_and_the_run_names_it(dag_run):
    out = dag_run["stdout"] + dag_run["stderr"]
    assert "DAGRUN_STATE=failed" in dag_run["stdout"], out[-4000:]
    assert "1 of 5 items produced no result: broken" in out
    assert "1 of 2 items of this task failed (broken: " in out


def test_one_result_row_per_finished_draft_including_the_failed_tasks_other_draft(dag_run, monkeypatch):
    monkeypatch.setenv("CREWS_STATE_DIR", str(dag_run["tmp"] / "state"))
    rows = {r.item_id: r for r in fetch_results("fact_check")}
    assert sorted(rows) == ["a", "c", "e", "flaky"]  # c shares its task with broken, which failed
    assert all(r.passed and r.mlflow_run_id for r in rows.values())


def test_a_retry_reruns_only_the_drafts_without_a_result(dag_run):
    runs = Counter(r.data.tags["item_id"] for r in production_runs(dag_run))
    # a and c finished in their task's first try: stored, not run again by its retries
    assert runs["a"] == runs["c"] == runs["e"] == 1
    assert runs["flaky"] == 2  # failed once, then passed
    assert runs["broken"] == 3  # every try
    done = {r.data.tags["item_id"]: r for r in production_runs(dag_run) if r.info.status == "FINISHED"}
    assert (done["c"].data.tags["map_index"], done["c"].data.tags["items_in_task"]) == ("1", "2")
    assert done["flaky"].data.tags["try_number"] == "2"


def test_each_draft_of_a_chunk_has_its_own_cache_scope(dag_run):
    with diskcache.Cache(str(dag_run["tmp"] / "state" / "llm_cache")) as cache:
        scopes = {str(key).split("|", 1)[0].split("/check_draft/", 1)[1] for key in cache.iterkeys()}
    # e is alone in its task: the task instance's scope, as without items_per_task
    assert scopes == {"0/a", "0/flaky", "1/c", "2"}  # broken never got an answer


def test_the_batch_counts_every_draft(dag_run):
    client = MlflowClient(dag_run["env"]["MLFLOW_TRACKING_URI"])
    experiment = client.get_experiment_by_name("crews/fact_check")
    (batch,) = client.search_runs([experiment.experiment_id], "tags.kind = 'batch'")
    assert (batch.data.metrics["items"], batch.data.metrics["items_failed"]) == (5, 1)


def test_each_task_is_named_by_its_chunk_in_the_ui(dag_run):
    import sqlite3

    with sqlite3.connect(dag_run["tmp"] / "airflow" / "airflow.db") as db:
        names = dict(db.execute("SELECT map_index, rendered_map_index FROM task_instance "
                                "WHERE task_id = 'check_draft'"))
    assert names == {0: "a … flaky (2 items)", 1: "c … broken (2 items)", 2: "e"}
