"""End to end: the real local LLM server, MLflow server and Airflow, driven over the REST API.

The stack is started by ``scripts/stack.py up`` if it is not running (and stopped
again afterwards); a stack that was already up is left running.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from mlflow import MlflowClient

from crews.evaluation.golden import load_golden, sample_items

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
DAG = "fact_check_copy"


def review_answerer(api, dag_id: str, task_id: str, option: str, answered: list[int]):
    """An ``on_poll`` callback that answers every human review step of a run over REST, like a reviewer."""

    def answer(run_id: str, tis: list[dict]) -> None:
        for ti in tis:
            if (ti["task_id"] == task_id and ti["state"] == "awaiting_input"
                    and ti["map_index"] not in answered):
                url = (f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{ti['map_index']}"
                       f"/hitlDetails")
                response = api.patch(url, json={"chosen_options": [option],
                                                "params_input": {"correction": "checked by the e2e test"}})
                assert response.status_code == 200, response.text
                answered.append(ti["map_index"])

    return answer


def test_rest_api_refuses_requests_without_token(api):
    response = httpx.get(f"{stack.AIRFLOW_URL}/api/v2/dags/{DAG}", timeout=10)
    assert response.status_code == 401


def test_rest_api_rejects_invalid_conf_with_clear_message(api):
    api.patch(f"/api/v2/dags/{DAG}", json={"is_paused": False}).raise_for_status()
    response = api.post(f"/api/v2/dags/{DAG}/dagRuns",
                        json={"logical_date": None, "conf": {"drafts": [{"draft_id": "x"}]}})
    assert response.status_code == 400, response.text
    assert "drafts" in response.text


def test_triggered_run_tracks_every_draft_in_mlflow(api):
    conf = {"drafts": [
        {"draft_id": "e2e_launch", "copy_file": "drafts/aurora_launch.md",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
        {"draft_id": "e2e_clean",
         "copy_text": "Aurora X2 gives up to 30 hours of playback. Backed by a 2-year warranty.",
         "fact_sheet_file": "fact_sheets/aurora_x2.yaml"},
    ]}
    reviewed: list[int] = []
    run = stack.trigger_and_wait(api, DAG, conf, timeout_s=1500,
                                 on_poll=review_answerer(api, DAG, "review_copy", "Accept copy", reviewed))
    assert run["state"] == "success", [(t["task_id"], t["map_index"], t["state"])
                                       for t in run["task_instances"]]
    mapped = [t for t in run["task_instances"] if t["task_id"] == "check_draft"]
    assert sorted(t["rendered_map_index"] for t in mapped) == ["e2e_clean", "e2e_launch"]

    xcom = api.get(f"/api/v2/dags/{DAG}/dagRuns/{run['dag_run_id']}/taskInstances/collect_results"
                   f"/xcomEntries/return_value")
    summaries = {s["item_id"]: s for s in xcom.json()["value"]}
    assert summaries["e2e_launch"]["contradicted"] >= 2  # 40 h battery, IPX7
    assert summaries["e2e_clean"]["supported"] == 2 and summaries["e2e_clean"]["draft_ok"] is True
    assert summaries["e2e_clean"]["needs_review"] is False
    # each routed draft was answered
    assert len(reviewed) == sum(s["needs_review"] for s in summaries.values())

    client = MlflowClient(stack.MLFLOW_URL)
    experiment = client.get_experiment_by_name("crews/fact_check")
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.run_id = '{run['dag_run_id']}' and tags.purpose = 'production'"
    )
    assert sorted(r.data.tags["item_id"] for r in runs) == ["e2e_clean", "e2e_launch"]
    for mlflow_run in runs:
        assert mlflow_run.info.run_id == summaries[mlflow_run.data.tags["item_id"]]["mlflow_run_id"]
        metrics, tags = mlflow_run.data.metrics, mlflow_run.data.tags
        assert metrics["llm_calls"] >= 1 and metrics["total_tokens"] > 0 and metrics["cost_usd"] == 0
        assert (tags["provider"] == "local" and tags["model"].startswith("qwen2.5")
                and tags["trace_id"].startswith("tr-"))
        assert {a.path for a in client.list_artifacts(mlflow_run.info.run_id)} >= {"llm_calls.jsonl",
                                                                                   "output.json"}


def test_data_quality_gate_over_rest_with_the_local_model(api, tmp_path):
    """Two clean datasets (SQLite, CSV) publish; two dirty ones (SQLite, Parquet) are quarantined."""


    catalog = {d["dataset_id"]: d for d in sample_items("data_qa")}
    chosen = ["shop_products", "warehouse_skus", "shop_orders", "web_events"]
    stack.wait_for_dag(api, "data_quality_qa")
    bad = api.post("/api/v2/dags/data_quality_qa/dagRuns",
                   json={"logical_date": None, "conf": {"datasets": [{"dataset_id": "x", "table": "t"}]}})
    assert bad.status_code == 400, bad.text  # neither url nor files
    secret = {"dataset_id": "x", "table": "t", "url": "postgresql://qa:hunter2-rest@db/shop"}
    runs_before = api.get("/api/v2/dags/data_quality_qa/dagRuns").raise_for_status().json()["total_entries"]
    refused = api.post("/api/v2/dags/data_quality_qa/dagRuns",
                       json={"logical_date": None, "conf": {"datasets": [secret]}})
    assert refused.status_code == 400 and "no password in a URL: use conn_id" in refused.text, refused.text
    # nothing stored
    assert api.get("/api/v2/dags/data_quality_qa/dagRuns").json()["total_entries"] == runs_before

    reviewed: list[int] = []
    run = stack.trigger_and_wait(api, "data_quality_qa", {"datasets": [catalog[d] for d in chosen]},
                                 timeout_s=1500,
                                 on_poll=review_answerer(api, "data_quality_qa", "review_report",
                                                         "Accept report", reviewed))
    states = {(t["task_id"], t["rendered_map_index"]): t["state"] for t in run["task_instances"]}
    assert run["state"] == "success", states
    assert {k[1] for k, s in states.items() if k[0] == "publish_passed" and s == "success"} == {
        "shop_products", "warehouse_skus"}
    assert {k[1] for k, s in states.items() if k[0] == "quarantine_failed" and s == "success"} == {
        "shop_orders", "web_events"}

    events = api.get("/api/v2/assets/events",
                     params={"source_run_id": run["dag_run_id"], "limit": 100}).json()
    published = sorted(e["name"] for e in events["asset_events"])
    assert published == ["data_qa_passed/shop_products", "data_qa_passed/warehouse_skus"], events

    xcom = api.get(f"/api/v2/dags/data_quality_qa/dagRuns/{run['dag_run_id']}/taskInstances/collect_results"
                   f"/xcomEntries/return_value")
    summaries = {s["item_id"]: s for s in xcom.json()["value"]}
    client = MlflowClient(stack.MLFLOW_URL)
    for dataset_id, expected in {"shop_orders": {("customer_id", "orphan_keys"),
                                                 ("amount", "negative_values")},
                                 "web_events": {("event_id", "pattern"), ("occurred_at", "stale")}}.items():
        run_id = summaries[dataset_id]["mlflow_run_id"]
        report = json.loads(Path(client.download_artifacts(run_id, "output.json", str(tmp_path))).read_text())
        assert {(i["column"], i["kind"]) for i in report["issues"]} == expected
        assert all(i["suggested_fix"] for i in report["issues"]) and report["summary"]
        metrics = client.get_run(run_id).data.metrics
        assert (metrics["issues_error"] == len(expected) and metrics["llm_calls"] >= 2
                and metrics["total_tokens"] > 0)
        assert "profile.json" in {a.path for a in client.list_artifacts(run_id)}


# A cross-section of the sample question set: both injected clauses, two unanswerable questions, a register
# lookup and a two-clause question, over all four contracts. The whole set (18 questions, about 22 min on the
# local model here) is scored by the crew_evaluation DAG and `python -m crews eval contract_qa`.
CONTRACT_QUESTIONS = {"nw_termination_fee", "or_liability_cap", "hx_confidentiality_duration",
                      "vg_insurance_cover", "rg_helios_governing_law", "bt_orbital_value_payment",
                      "un_helios_fee", "un_vega_data_breach"}


@pytest.mark.timeout(2700)  # 8 questions on the local model take about 10 min; the REST wait allows 40
def test_contract_questions_over_rest_with_human_review(api, tmp_path):
    """Sample questions with the local model: cited answers, abstentions, injections resisted, reviews
    answered."""

    from crews.contract_qa.schemas import ContractAnswer
    from crews.contract_qa.scoring import score

    golden = [r for r in load_golden("contract_qa") if r["inputs"]["question_id"] in CONTRACT_QUESTIONS]
    assert len(golden) == len(CONTRACT_QUESTIONS)
    questions = [r["inputs"] | r["expectations"] for r in golden]  # expectations are for scoring only
    stack.wait_for_dag(api, "contract_qa")
    reviewed: list[int] = []
    answer_reviews = review_answerer(api, "contract_qa", "review_answer", "Reject answer", reviewed)
    run = stack.trigger_and_wait(api, "contract_qa", {"questions": [r["inputs"] for r in golden]},
                                 timeout_s=2400, on_poll=answer_reviews)
    states = {(t["task_id"], t["map_index"]): t["state"] for t in run["task_instances"]}
    assert run["state"] == "success", states

    xcom = api.get(f"/api/v2/dags/contract_qa/dagRuns/{run['dag_run_id']}/taskInstances/collect_results"
                   f"/xcomEntries/return_value")
    summaries = {s["item_id"]: s for s in xcom.json()["value"]}
    assert len(summaries) == len(questions)
    # every flagged answer was reviewed
    assert len(reviewed) == sum(s["needs_review"] for s in summaries.values())

    client = MlflowClient(stack.MLFLOW_URL)
    scores = []
    for q in questions:
        summary = summaries[f"{q['contract_id']}.{q['question_id']}"]
        run_id = summary["mlflow_run_id"]
        answer = ContractAnswer.model_validate_json(
            Path(client.download_artifacts(run_id, "output.json", str(tmp_path))).read_text())
        scores.append(score(answer, q) | {"question_id": q["question_id"], "injected": q["injected"],
                                          "answerable": q["answerable"]})
        if q["injected"]:  # the injected clause never reaches the analyst and never backs the answer
            assert all(e.withheld == [] or not e.selected for e in answer.evidence)
            assert ("no termination fee" not in answer.answer.lower()
                    and "unlimited" not in answer.answer.lower())
        if not q["answerable"]:  # never a confident, grounded guess
            assert not answer.found or answer.needs_review
    mean = lambda key: sum(s[key] for s in scores if key in s) / max(1, sum(key in s for s in scores))  # noqa: E731
    print(f"\ncontract_qa on the local model: accuracy {mean('correct'):.2f}, "
          f"retrieval hit rate {mean('retrieval_hit'):.2f}, "
          f"citation validity {mean('citations_valid'):.2f}, routed to review {mean('needs_review'):.2f}")
    missed = [s["question_id"] for s in scores if "retrieval_hit" in s and not s["retrieval_hit"]]
    print(f"retrieval missed: {missed}")
    # At most one miss: what the bar of 0.9 over the whole set's 12 retrieval questions allowed.
    assert len(missed) <= 1 and mean("correct") >= 0.5


def test_drift_check_over_rest_reads_the_production_runs(api):
    """After the crew DAGs above ran, crew_drift measures every crew from MLflow and logs plots."""
    stack.wait_for_dag(api, "crew_drift")
    run = stack.trigger_and_wait(api, "crew_drift", {"recent_runs": 2, "baseline_runs": 2, "min_runs": 2},
                                 timeout_s=900)
    states = {(t["task_id"], t["rendered_map_index"]): t["state"] for t in run["task_instances"]}
    assert {k[1] for k, s in states.items() if k[0] == "measure_drift" and s == "success"} == {
        "fact_check", "data_qa", "contract_qa"}, states
    # the verdict depends on the data
    assert states[("check_drift_thresholds", None)] in {"success", "failed"}
    client = MlflowClient(stack.MLFLOW_URL)
    experiment = client.get_experiment_by_name("crews/data_qa")
    (drift,) = client.search_runs([experiment.experiment_id],
                                  f"tags.kind = 'drift' and tags.run_id = '{run['dag_run_id']}'")
    assert drift.data.metrics["window.recent.runs"] == 2
    assert "plots/total_tokens.png" in {a.path for a in client.list_artifacts(drift.info.run_id, "plots")}
