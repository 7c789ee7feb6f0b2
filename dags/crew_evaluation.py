"""
### Crew evaluation

Runs every crew on a golden set (`samples`: `include/<crew>/golden.yaml`;
`extended`: `include/<crew>/eval/golden.yaml`, written apart from the samples and
the code, in other domains and layouts) with the
configured model and logs one MLflow **evaluation run** per crew (experiment
`crews/<crew>`, tag `kind=evaluation`), linked to the prompt registry version
(`crews.<crew>`) and the model, so a change in scores can be traced to a prompt
or model change.

**Inputs** (trigger form or REST `conf`): `crews`, the crews to evaluate (default
all); `golden_set`, `samples` (default) or `extended`; `limit`, the number of
golden records per crew (empty: all); `prompt_version`, the prompts to evaluate:
an alias (default `production`) or a version number of the prompt registry's
`crews.<crew>`, or `yaml` for the files shipped with the code.

**Flow**: `list_records` -> one mapped `run_record` per golden record (a normal
tracked crew run, tag `purpose=evaluation`, so the drift DAG leaves it out of the
production windows) -> one mapped `log_evaluation` per crew: code scorers
(schema validity, cost, latency, and per crew verdict accuracy, issue
recall/precision, citation validity, abstention correctness) and, when the
`llm_judge` connection or `CREWS_JUDGE_*` is set, an LLM judge, through
`mlflow.genai.evaluate`. A record whose task failed scores zero and is named in
the evaluation run; the others are still scored.

**Reading results**: the `log_evaluation` log prints the prompt version served and
the mean scores, each next to the previous evaluation run of another prompt
version with the same golden set and model (so *promote v3, then trigger
crew_evaluation* shows whether the scores moved); in MLflow open the evaluation
run (scores as `<name>/mean` metrics, per-record scores in its traces; tags
`prompt_version`, `prompt_source`, `previous_evaluation_run`) and compare runs by
`prompt_version` and `model`. Each `run_record`
task's *Details* tab has an **MLflow run** button that opens that record's run.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from crew_airflow.params import crews_param, prompt_version_param
from crew_airflow.tasks import CREW_DEFAULT_ARGS, LLM_POOL


@dag(
    dag_id="crew_evaluation",
    schedule="@weekly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["crews", "evaluation", "llm"],
    default_args=CREW_DEFAULT_ARGS,
    params={
        "crews": crews_param("Crews to evaluate on their golden sets."),
        "golden_set": Param("samples", type="string", enum=["samples", "extended"], title="Golden set",
                            description="samples: the small set the DAGs run by default; extended: the cases "
                                        "written apart from them, in other domains and layouts."),
        "limit": Param(None, type=["null", "integer"], minimum=1, title="Records per crew",
                       description="Evaluate only the first N golden records of each crew; empty for all."),
        "prompt_version": prompt_version_param(),
    },
)
def crew_evaluation():
    @task
    def list_records() -> list[dict]:
        """One (crew, golden record) pair per mapped task."""
        from crew_airflow.tasks import refuse_unknown_conf

        from crews.service import golden_records

        params = refuse_unknown_conf()["params"]
        golden_set = params["golden_set"]
        pairs = [{"crew": crew, "record": record, "golden_set": golden_set,
                  "prompt_version": params.get("prompt_version")} for crew in params["crews"]
                 for record in golden_records(crew, golden_set)[: params["limit"]]]
        print(f"{len(pairs)} golden records: " + ", ".join(
            f"{c} {sum(p['crew'] == c for p in pairs)}" for c in params["crews"]))
        return pairs

    @task
    def crews_to_score() -> list[str]:
        from crew_airflow.tasks import refuse_unknown_conf

        return list(refuse_unknown_conf()["params"]["crews"])

    @task(pool=LLM_POOL, map_index_template="{{ crew }}/{{ record_id }}")
    def run_record(crew: str, record: dict, golden_set: str = "samples",
                   prompt_version: str | None = None) -> dict:
        """Run one golden record as a tracked crew run (purpose `evaluation`) with the prompts
        `prompt_version` selects."""
        from crew_airflow.tasks import llm_settings, task_identity

        from crews.service import evaluate_record

        get_current_context()["record_id"] = next(iter(record["inputs"].values()), "?")
        return evaluate_record(crew, record, llm_settings(), task_identity(), golden_set,
                               prompt_version or None)

    @task(trigger_rule="all_done", map_index_template="{{ crew }}", execution_timeout=timedelta(minutes=30))
    def log_evaluation(crew: str, rows: list[dict], pairs: list[dict]) -> dict:
        """Score one crew's records and log its MLflow evaluation run."""
        from crew_airflow.params import prompt_selector
        from crew_airflow.tasks import judge_settings, llm_settings

        from crews.service import log_evaluation as log_crew_evaluation

        ctx = get_current_context()
        ctx["crew"] = crew
        records = [p["record"] for p in pairs if p["crew"] == crew]
        report = log_crew_evaluation(crew, records, rows, llm_settings(), judge_settings(),
                                     context={"dag_id": ctx["dag"].dag_id, "run_id": ctx["run_id"]},
                                     golden_set=ctx["params"]["golden_set"], prompt_version=prompt_selector())
        print(f"{crew}: {report['records']} records ({report['failed']} failed), MLflow evaluation run "
              f"{report['mlflow_run_id']}; prompt version {report['prompt_version']} "
              f"(hash {report['prompt_hash']}), model {report['model']}")
        for line in report.pop("lines"):
            print(f"  {line}")
        return report

    pairs = list_records()
    rows = run_record.expand_kwargs(pairs)
    log_evaluation.partial(rows=rows, pairs=pairs).expand(crew=crews_to_score())


crew_evaluation()
