"""
### Data quality gate

Profiles each dataset through a read-only SQLAlchemy connection, decides pass/fail
from severity rules, and lets an analyst and a reviewer agent explain the verdict.
Only passing datasets are published downstream; failing ones are quarantined with
their report and do not block the others.

**Inputs** (trigger form or REST `conf`): `datasets`, a list of dataset
declarations: `dataset_id`, one of a SQLAlchemy `url` (without a password), `conn_id`
(an Airflow connection holding the database and its credentials, resolved inside the
mapped task so no URL reaches XCom or the logs) or `files` (table name -> CSV/Parquet
file), `table`, `key_columns`, `columns` rules (`pattern`, `regex`,
`min`/`max`, `not_null`, `not_negative`, `not_future`, `max_age_hours`),
`foreign_keys`, optional `baseline` profile (default: the profile from the
dataset's previous run). An empty list checks the catalog in
`include/data_qa/golden.yaml`.
`prompt_version` (optional): the prompts the crew is served, an alias or a version
number of the prompt registry's `crews.data_qa` (default `production`; `yaml` = the
files shipped with the code; see docs/mlflow.md, *Prompts*).

**Flow**: `list_datasets` (loads every declaration; one the crew cannot load fails in
its own `refuse_datasets` task, outside the LLM pool) -> one mapped `check_dataset` per
dataset (one MLflow run each, experiment `crews/data_qa`) -> `collect_results` (upsert
into `crew_results`)
-> reports whose explanation scored below `include/review.yaml`'s threshold wait
in `review_report` for a person (Airflow UI: Required actions; the gate does not
wait) -> `publish_passed` runs once per passing dataset and emits an asset
`data_qa://<dataset_id>` through the `data_qa_passed` alias -> `quarantine_failed`
records each failing dataset's report -> `all_datasets_checked` fails the run if a
dataset could not be checked at all.

**Reading results**: each `check_dataset` log ends with the verdict, the issues by
column, kind and severity, and the MLflow run (experiment `crews/data_qa`) whose
`output.json` holds the full report (evidence and suggested fixes per issue) and
`profile.json` the dataset profile. Each crew task's *Details* tab has an **MLflow run**
button that opens its run (`collect_results` opens the DAG run's batch summary: items,
failures, tokens, cost).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import AssetAlias, dag, task
from crew_airflow.params import items_param, items_per_task_param, prompt_version_param
from crew_airflow.review import human_review
from crew_airflow.screening import screening_steps
from crew_airflow.tasks import CREW_DEFAULT_ARGS, LLM_POOL

PASSED = AssetAlias("data_qa_passed")

@dag(
    dag_id="data_quality_qa",
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["crews", "data_qa", "llm"],
    default_args=CREW_DEFAULT_ARGS,
    params={
        "datasets": items_param("data_qa", max_items=200,
                                description="Dataset declarations; leave empty for "
                                            "include/data_qa/golden.yaml."),
        "prompt_version": prompt_version_param(),
        "items_per_task": items_per_task_param(),
    },
)
def data_quality_qa():
    @task
    def list_datasets() -> dict:
        """The datasets from `conf`, or the sample catalog when none are given, each loaded here (a dataset
        the crew refuses fails in `refuse_datasets`, outside the LLM pool); passes on ids only, so no URL
        reaches XCom."""
        from crew_airflow.connections import with_connection_url
        from crew_airflow.tasks import conf_items, screen_items

        screened = screen_items("data_qa", conf_items("data_qa"), prepare=with_connection_url)
        return screened | {"accepted": [d["dataset_id"] for d in screened["accepted"]]}

    @task(pool=LLM_POOL, map_index_template="{{ item_ids }}")
    def check_dataset(dataset_ids: list[str]) -> list[dict]:
        """Profile one dataset (or `items_per_task` in turn) and run the data-QA crew on it (one MLflow run
        each); a `conn_id` is resolved here."""
        from crew_airflow.connections import with_connection_url
        from crew_airflow.tasks import item_by_id, run_crew_items

        return run_crew_items("data_qa", dataset_ids,
                              lambda dataset_id: with_connection_url(item_by_id("data_qa", dataset_id)))

    @task(trigger_rule="all_done")
    def collect_results(results: list[list[dict]], datasets: list[str]) -> list[dict]:
        """Upsert every checked dataset's report into the results table."""
        from crew_airflow.tasks import collect_results as collect

        return collect("data_qa", results, datasets)

    @task
    def passed(summaries: list[dict]) -> list[dict]:
        return [s for s in summaries if s["passed"]]

    @task
    def failed(summaries: list[dict]) -> list[dict]:
        return [s for s in summaries if not s["passed"]]

    @task(outlets=[PASSED], map_index_template="{{ summary['item_id'] }}")
    def publish_passed(summary: dict) -> str:
        """Runs only for passing datasets: emits the dataset's asset event."""
        from crew_airflow.tasks import publish_dataset

        return publish_dataset(summary, PASSED)

    @task(map_index_template="{{ summary['item_id'] }}")
    def quarantine_failed(summary: dict) -> str:
        """Records a failing dataset's report in the quarantine folder."""
        from crew_airflow.tasks import quarantine_item

        return quarantine_item("data_qa", summary)

    @task(trigger_rule="all_done")
    def all_datasets_checked(summaries: list[dict], datasets: list[str]) -> None:
        """Fail the run (after the others were handled) if any dataset could not be checked."""
        from crew_airflow.tasks import require_all_items

        require_all_items(summaries, datasets)

    listed = list_datasets()
    accepted, refused = screening_steps(listed, "datasets")
    summaries = collect_results(check_dataset.expand(dataset_ids=accepted), listed["ids"])
    published = publish_passed.expand(summary=passed(summaries))
    quarantined = quarantine_failed.expand(summary=failed(summaries))
    recorded = human_review("data_qa", "review_report", summaries)
    [published, quarantined, recorded, refused] >> all_datasets_checked(summaries, listed["ids"])


data_quality_qa()
