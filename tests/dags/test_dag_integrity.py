"""DagBag checks in the style of the Astro project template."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError

ROOT = Path(__file__).resolve().parents[2]
DAGS = ROOT / "dags"
DAG_FILES = sorted(p for p in DAGS.glob("*.py"))
HEAVY = ("crewai", "mlflow", "openai", "llama_cpp", "litellm", "anthropic")


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}, "\n".join(f"{k}: {v}" for k, v in dagbag.import_errors.items())


def test_every_dag_file_defines_a_dag(dagbag):
    assert {Path(d.fileloc).name for d in dagbag.dags.values()} == {p.name for p in DAG_FILES}
    assert {"fact_check_copy", "data_quality_qa"} <= set(dagbag.dags)


# The drift check's verdict is not transient, and an item its crew
# refused to load stays refused: no retries there.
NO_RETRIES = {"check_drift_thresholds", "refuse_drafts", "refuse_datasets", "refuse_pairs"}
ASK_AGAIN = {"review_answer", "review_copy", "review_report"}  # one retry re-asks a review Airflow lost
CREW_DAGS = ["fact_check_copy", "data_quality_qa", "contract_qa", "crew_evaluation"]


@pytest.mark.parametrize("dag_id", [*CREW_DAGS, "crew_drift", "fan_out_floor"])
def test_dag_conventions(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.tags, "DAG needs tags"
    assert dag.doc_md and dag.doc_md.strip(), "DAG needs doc_md"
    assert dag.catchup is False
    for task in dag.tasks:
        if task.task_id in NO_RETRIES:
            assert task.retries == 0, f"{task.task_id} must not retry"
        elif task.task_id in ASK_AGAIN:
            assert task.retries == 1, f"{task.task_id} retries={task.retries}"
        else:
            assert task.retries >= 2, f"{task.task_id} retries={task.retries}"
        assert task.execution_timeout is not None, f"{task.task_id} has no execution_timeout"
    if dag_id in CREW_DAGS:
        assert [t for t in dag.tasks if t.pool == "llm_pool"], "crew tasks must run in the llm_pool"
        assert "MLflow run" in dag.doc_md, "doc_md should point to the MLflow run button"
    # The UI's trigger form is generated from the Params: each field needs a type, a title and a help text.
    assert dag.params, "DAG needs Params (the trigger form and REST conf validation)"
    for name, param in dag.params.items():
        assert param.schema.get("type") and param.schema.get("title") and param.description, f"Param {name!r}"


def test_fact_check_params_validate_conf(dagbag):
    params = dagbag.dags["fact_check_copy"].params
    schema = params.get_param("drafts").schema
    assert schema["type"] == ["null", "array"] and schema["items"]["required"] == ["draft_id"]
    params.validate()  # the default is valid
    drafts = params.get_param("drafts")
    assert drafts.resolve([{"draft_id": "a", "copy_file": "drafts/a.md"}])
    for bad in ([{"draft_id": "x"}], [{"draft_id": "x", "copy_text": ""}],
                [{"draft_id": "x y", "copy_text": "c"}], [{"draft_id": "x", "copy_text": "c", "extra": 1}],
                "not a list"):
        with pytest.raises(ParamValidationError):
            drafts.resolve(bad)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_nothing_heavy(path):
    code = (
        "import json, runpy, sys, time\n"
        f"sys.path[:0] = [{str(DAGS)!r}, {str(ROOT)!r}]\n"
        "import airflow.sdk\n"
        "t = time.perf_counter()\n"
        f"runpy.run_path({str(path)!r})\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'modules': sorted(sys.modules)}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    loaded = [m for m in report["modules"] if m.split(".")[0] in HEAVY]
    assert loaded == [], f"{path.name} imports heavy modules at parse time: {loaded[:10]}"


def test_one_slow_llm_call_times_out_well_before_the_task_does():
    """A hung LLM request (client timeout x attempts) must end long before execution_timeout kills the
    task."""
    import yaml
    from crew_airflow.tasks import CREW_DEFAULT_ARGS

    from crews.runtime.settings import LLMSettings

    conn = yaml.safe_load((ROOT / "airflow_settings.yaml").read_text())["airflow"]["connections"][0]
    settings = LLMSettings.from_connection({"conn_type": conn["conn_type"], "host": conn["conn_host"],
                                            "extra": conn["conn_extra"]})
    worst_call_s = settings.timeout_s * (settings.max_retries + 1)
    assert worst_call_s * 2 <= CREW_DEFAULT_ARGS["execution_timeout"].total_seconds()


def _required_in_the_ui(schema: dict) -> bool:
    """The Airflow 3 trigger and review forms mark a field required (*) when its type does not allow null."""
    kind = schema.get("type")
    return bool(kind) and (not isinstance(kind, list) or "null" not in kind)


def test_params_that_may_be_left_empty_are_optional_in_the_forms(dagbag):
    """A Param whose default is empty ([], "", None) can be left empty, so the form must not mark it required;
    the HITL review forms' optional correction too (a required field kept Accept and Reject disabled)."""
    from crew_airflow.review import review_operator

    params = {f"{dag_id}.{name}": param for dag_id, dag in dagbag.dags.items()
              for name, param in dag.params.items()}
    params |= {f"{crew}.review.{name}": param for crew in ("fact_check", "data_qa", "contract_qa")
               for name, param in review_operator(crew, "review").params.items()}
    empty = {name: param for name, param in params.items() if param.value in ([], "", None)}
    assert len(empty) >= 10, sorted(empty)
    marked = [name for name, param in empty.items() if _required_in_the_ui(param.schema)]
    assert not marked, f"optional Params marked required in the forms: {marked}"
    for param in empty.values():  # and leaving them empty passes validation
        param.resolve(param.value)
