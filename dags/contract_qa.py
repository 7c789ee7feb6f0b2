"""
### Contract Q&A with verified citations

Answers questions about contracts from the contract documents (Markdown, text,
PDF, DOCX) and the contract register, citing the exact clause text. A
coordinator routes each question (documents, register or both), a retriever
picks clauses found by BM25, an analyst answers with quotes, and a reviewer
checks groundedness. Code verifies every quote verbatim against its clause.

**Inputs** (trigger form or REST `conf`):
- `questions`: objects with `question_id`, `question` and optionally
  `contract_id` / `contract_ids`; empty = the sample set in
  `include/contract_qa/golden.yaml`.
- `contracts`: contract ids asked every question that names no contract.
- `register_conn_id`: the Airflow connection of the contract register's
  database, given once for the whole run (empty = the sample register
  `include/contract_qa/register.db`). Credentials stay in the connection; the
  tasks pass only its id.
- `items_per_task`: pairs per mapped task (default 1), for large fan-outs.
- `prompt_version`: the prompts the crew is served, an alias or a version number of
  the prompt registry's `crews.contract_qa` (empty = `production`; `yaml` = the files
  shipped with the code; see docs/mlflow.md, *Prompts*).

**Flow**: `list_pairs` (loads every pair; one the crew cannot load fails in its own
`refuse_pairs` task, outside the LLM pool) -> one mapped `answer_question` per (contract, question)
pair, or per `items_per_task` pairs (one MLflow run each, experiment `crews/contract_qa`, with
the retrieved evidence as `evidence.json`) -> `collect_results` (upsert into
`crew_results`) -> `review_answer`: one human review per low-confidence or
ungrounded answer (Airflow UI, *Required actions*) -> `record_reviews` stores
the decisions -> `all_questions_answered` fails the run if a pair could not be
answered at all (the others are kept).

**Reading results**: an answer is *answered* (grounded, cited), *not found*
(the sources do not say; never a guess) or *needs review*. Contract text is
treated as data: instruction-like sentences are withheld from the prompts and
listed in the evidence artifact. Each crew task's *Details* tab has an **MLflow run**
button that opens its run (`collect_results` opens the DAG run's batch summary: items,
failures, tokens, cost).
"""

from __future__ import annotations

import pendulum
from airflow.sdk import Param, dag, get_current_context, task
from crew_airflow.params import ID, OPTIONAL_ID, items_param, items_per_task_param, prompt_version_param
from crew_airflow.review import human_review
from crew_airflow.screening import screening_steps
from crew_airflow.tasks import CREW_DEFAULT_ARGS, LLM_POOL


@dag(
    dag_id="contract_qa",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=16,  # runs waiting for human review stay active; llm_pool paces the LLM
    doc_md=__doc__,
    tags=["crews", "contract_qa", "llm", "human-review"],
    default_args=CREW_DEFAULT_ARGS,
    params={
        "questions": items_param("contract_qa", max_items=500,
                                 description="Questions to answer; leave empty for "
                                             "include/contract_qa/golden.yaml."),
        "contracts": Param([], type=["null", "array"], items=ID, maxItems=100, title="Contracts",
                           description="Contract ids asked every question that names no contract."),
        "register_conn_id": Param("", type=["null", "string"], pattern=OPTIONAL_ID, maxLength=250,
                                  title="Register connection",
                                  description="Airflow connection of the contract register database "
                                              "(postgres, mysql, sqlite; schema = database or file); empty = "
                                              "the sample register include/contract_qa/register.db."),
        "prompt_version": prompt_version_param(),
        "items_per_task": items_per_task_param(),
    },
)
def contract_qa():
    @task
    def list_pairs() -> dict:
        """One (contract, question) pair per mapped task, each loaded here: a pair the crew refuses (an
        unknown contract, an unreadable document) fails in `refuse_pairs`, outside the LLM pool."""
        from crew_airflow.connections import connection_database_url
        from crew_airflow.tasks import conf_items, screen_items

        questions = conf_items("contract_qa")
        params = get_current_context()["params"]
        register = {}
        if params["register_conn_id"]:  # fail now, not per pair; the URL stays in this process
            register = {"register_url": connection_database_url(params["register_conn_id"],
                                                                "register_conn_id")}
        screened = screen_items("contract_qa", questions, prepare=lambda pair: pair | register,
                                contracts=params["contracts"] or [])
        print(f"{len(screened['ids'])} (contract, question) pairs")
        return screened

    @task(pool=LLM_POOL, map_index_template="{{ item_ids }}")
    def answer_question(pairs: list[dict]) -> list[dict]:
        """Answer one question about one contract, or `items_per_task` pairs in turn (one MLflow run each)."""
        from crew_airflow.connections import connection_database_url
        from crew_airflow.tasks import run_crew_items

        register = {}
        if conn_id := get_current_context()["params"]["register_conn_id"]:  # here: the URL never reaches XCom
            register = {"register_url": connection_database_url(conn_id, "register_conn_id")}
        return run_crew_items("contract_qa", pairs, lambda pair: pair | register)

    @task(trigger_rule="all_done")
    def collect_results(results: list[list[dict]], pairs: list[str]) -> list[dict]:
        """Upsert every answer into the results table."""
        from crew_airflow.tasks import collect_results as collect

        return collect("contract_qa", results, pairs)

    @task(trigger_rule="all_done")
    def all_questions_answered(summaries: list[dict], pairs: list[str]) -> None:
        """Fail the run (after the others were stored) if any pair could not be answered."""
        from crew_airflow.tasks import require_all_items

        require_all_items(summaries, pairs)

    listed = list_pairs()
    accepted, refused = screening_steps(listed, "pairs")
    summaries = collect_results(answer_question.expand(pairs=accepted), listed["ids"])
    ([human_review("contract_qa", "review_answer", summaries), refused]
     >> all_questions_answered(summaries, listed["ids"]))


contract_qa()
