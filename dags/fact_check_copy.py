"""
### Fact-check marketing copy

Checks every claim in marketing drafts against the product's approved fact sheet,
one fact per claim, rewrites the copy, and publishes copy that is right.

**Inputs** (trigger form or REST `conf`): `drafts`, a list of objects with
`draft_id` plus the copy (`copy_text`, or `copy_file` under `include/fact_check/`)
and the fact sheet (`fact_sheet` object or plain `Key: value` text, or
`fact_sheet_file`; format in `docs/fact_sheets.md`). An empty list checks the
samples in `include/fact_check/golden.yaml`.
`prompt_version` (optional): the prompts the crew is served, an alias or a version
number of the prompt registry's `crews.fact_check` (default `production`; `yaml` = the
files shipped with the code; see docs/mlflow.md, *Prompts*).
`items_per_task` (optional, default 1): drafts per mapped task, for large fan-outs.

**Two verdicts per draft**: `draft_ok` (every claim of the draft is supported)
and `revision_approved` (the rewrite passed the code's revision gate and the
editor); a draft is published when either holds, or when a reviewer accepts it.

**Flow**: `list_drafts` (loads every draft; one the crew cannot load fails in its own
`refuse_drafts` task, outside the LLM pool) -> one mapped `check_draft` per draft, or per
`items_per_task` drafts (the CrewAI crew:
fact checker, copywriter, editor; deterministic tools decide each verdict) ->
`collect_results` upserts into the `crew_results` table -> drafts the gate did not
approve, or whose claims the tools could not verify (`include/review.yaml`), wait
in `review_copy` for a person (Airflow UI: Required actions) -> `record_reviews`
-> `publish_approved` writes approved and accepted copy and updates the
`fact_check_approved_copy` asset ->
`all_drafts_checked` fails the run if any draft failed (the others are kept).

**Reading results**: each `check_draft` log ends with the item's status, LLM calls,
tokens, cost and its MLflow run (experiment `crews/fact_check`), where the trace
shows every agent prompt and answer. An invalid draft fails its own task only.
Each crew task's *Details* tab has an **MLflow run** button that opens its run
(`collect_results` opens the DAG run's batch summary: items, failures, tokens, cost).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Asset, dag, task
from crew_airflow.params import items_param, items_per_task_param, prompt_version_param
from crew_airflow.review import human_review
from crew_airflow.screening import screening_steps
from crew_airflow.tasks import CREW_DEFAULT_ARGS, LLM_POOL

APPROVED_COPY = Asset("fact_check_approved_copy")

@dag(
    dag_id="fact_check_copy",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=16,  # runs waiting for human review stay active; llm_pool paces the LLM
    doc_md=__doc__,
    tags=["crews", "fact_check", "llm"],
    default_args=CREW_DEFAULT_ARGS,
    params={
        "drafts": items_param("fact_check", max_items=500,
                              description="Drafts to check; leave empty for the samples in "
                                          "include/fact_check."),
        "prompt_version": prompt_version_param(),
        "items_per_task": items_per_task_param(),
    },
)
def fact_check_copy():
    @task
    def list_drafts() -> dict:
        """The drafts from `conf`, or the sample catalog when none are given; each is loaded here, so a draft
        the crew refuses fails in `refuse_draft`, outside the LLM pool."""
        from crew_airflow.tasks import conf_items, screen_items

        return screen_items("fact_check", conf_items("fact_check"))

    @task(pool=LLM_POOL, map_index_template="{{ item_ids }}")
    def check_draft(drafts: list[dict]) -> list[dict]:
        """Run the fact-check crew on one draft, or `items_per_task` drafts in turn (one MLflow run each)."""
        from crew_airflow.tasks import run_crew_items

        return run_crew_items("fact_check", drafts)

    @task(trigger_rule="all_done")
    def collect_results(results: list[list[dict]], drafts: list[str]) -> list[dict]:
        """Upsert every finished draft's report into the results table."""
        from crew_airflow.tasks import collect_results as collect

        return collect("fact_check", results, drafts)

    @task(outlets=[APPROVED_COPY], trigger_rule="all_done")
    def publish_approved(summaries: list[dict]) -> list[str]:
        """Publish approved (and reviewer-accepted) copy as the `fact_check_approved_copy` asset."""
        from crew_airflow.tasks import publish_approved as publish

        return publish("fact_check", APPROVED_COPY)

    @task(trigger_rule="all_done")
    def all_drafts_checked(summaries: list[dict], drafts: list[str]) -> None:
        """Fail the run (after the others were stored) if any draft's crew task failed."""
        from crew_airflow.tasks import require_all_items

        require_all_items(summaries, drafts)

    listed = list_drafts()
    accepted, refused = screening_steps(listed, "drafts")
    summaries = collect_results(check_draft.expand(drafts=accepted), listed["ids"])
    reviewed = human_review("fact_check", "review_copy", summaries)
    [reviewed, refused] >> publish_approved(summaries) >> all_drafts_checked(summaries, listed["ids"])


fact_check_copy()
