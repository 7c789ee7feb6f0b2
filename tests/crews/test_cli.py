import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cli(tmp_path, payload, crew="fact_check", script="tests.support.scripted_fact_check:respond"):
    path = tmp_path / "input.json"
    path.write_text(json.dumps(payload))
    env = {
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
        "CREWS_STATE_DIR": str(tmp_path / "state"), "CREWS_LLM_PROVIDER": "scripted",
        "CREWS_LLM_SCRIPT": script,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    return subprocess.run(
        [sys.executable, "-m", "crews", "run", crew, "--input", str(path)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )


def test_cli_runs_items_and_prints_json(tmp_path):
    good = {"draft_id": "ok", "copy_file": "drafts/aurora_spec_card.md",
            "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
    bad = {"draft_id": "bad", "copy_text": "x"}
    result = _cli(tmp_path, [good, bad])
    assert result.returncode == 1, result.stderr
    output = json.loads(result.stdout)
    assert output[0]["summary"]["draft_ok"] is True and output[0]["mlflow_run_id"]
    assert "fact_sheet: Field required" in output[1]["error"]
    assert "error: item 1" in result.stderr


def test_cli_single_item_exit_zero(tmp_path):
    item = {"draft_id": "ok", "copy_text": "Backed by a 2-year warranty.",
            "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}
    result = _cli(tmp_path, item)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["supported"] == 1


def test_cli_runs_every_crew(tmp_path):
    dataset = {"dataset_id": "skus", "files": {"skus": "files/sku_catalog.csv"}, "table": "skus",
               "key_columns": ["sku"]}
    result = _cli(tmp_path, dataset, "data_qa", "tests.support.scripted_data_qa:respond")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["summary"]["passed"] is True
    question = {"question_id": "cap", "contract_id": "orbital_supply",
                "question": "Up to what amount is each party's liability capped?"}
    result = _cli(tmp_path, question, "contract_qa", "tests.support.scripted_contract_qa:respond")
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert (output["summary"]["citations"] == ["orbital_supply:9.2"]
            and "500,000" in output["summary"]["answer"])


def _eval(tmp_path, args, script, judge=False):
    env = {
        "PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path),
        "CREWS_STATE_DIR": str(tmp_path / "state"), "CREWS_LLM_PROVIDER": "scripted",
        "CREWS_LLM_SCRIPT": script,
        "MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",
    }
    if judge:
        env |= {"CREWS_JUDGE_PROVIDER": "scripted",
                "CREWS_JUDGE_SCRIPT": "tests.support.scripted_judge:respond"}
    return subprocess.run([sys.executable, "-m", "crews", "eval", *args], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=600)


def test_cli_eval_logs_scores_linked_to_the_prompt_version(tmp_path):
    from mlflow import MlflowClient

    result = _eval(tmp_path, ["data_qa", "--set", "samples"], "tests.support.scripted_data_qa:respond")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["records"], report["failed"]) == (6, 0)
    assert report["scores"]["issue_recall/mean"] == report["scores"]["verdict_correct/mean"] == 1.0
    assert "note: LLM judge skipped: no judge model configured" in result.stderr

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("crews/data_qa")
    evaluation = client.get_run(report["mlflow_run_id"])
    assert evaluation.data.tags["kind"] == "evaluation" and evaluation.data.tags["model"] == "scripted"
    assert evaluation.data.metrics["issue_precision/mean"] == 1.0
    version = client.get_prompt_version("crews.data_qa", evaluation.data.tags["prompt_version"])
    assert version.tags["prompt_hash"] == evaluation.data.tags["prompt_hash"] == report["prompt_hash"]
    assert "explain_issues" in version.template
    runs = client.search_runs([experiment.experiment_id], "tags.purpose = 'evaluation'")
    items = [r for r in runs if r.info.run_id != evaluation.info.run_id]
    assert len(items) == 6 and {r.data.tags["prompt_version"] for r in items} == {str(version.version)}


def test_cli_eval_with_a_judge(tmp_path):
    result = _eval(tmp_path, ["contract_qa", "--limit", "2", "--set", "samples"],
                   "tests.support.scripted_contract_qa:respond", judge=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["records"] == 2 and report["notes"] == []
    assert report["scores"]["llm_judge/mean"] == 0.8 and "correct/mean" in report["scores"]


def test_cli_eval_runs_every_golden_set_of_the_crew_by_default(tmp_path):
    result = _eval(tmp_path, ["fact_check", "--limit", "1"], "tests.support.scripted_fact_check:respond")
    assert result.returncode == 0, result.stderr
    reports = json.loads(result.stdout)
    assert [(r["golden_set"], r["records"], r["failed"]) for r in reports] == [
        ("samples", 1, 0), ("extended", 1, 0), ("holdout", 1, 0)]
    assert "verdict_accuracy/mean" in reports[1]["scores"]


def test_cli_eval_of_a_golden_file_of_your_own(tmp_path):
    (tmp_path / "sheet.txt").write_text("Product: Velo\nRange: up to 80 km\n")
    (tmp_path / "mine.yaml").write_text(
        "records:\n- inputs: {draft_id: velo, copy_text: 'A range of 120 km.', fact_sheet_file: sheet.txt}\n"
        "  expectations: {draft_ok: false, claims: [{contains: 120 km, verdict: contradicted}]}\n")
    result = _eval(tmp_path, ["fact_check", "--golden", str(tmp_path / "mine.yaml")],
                   "tests.support.scripted_fact_check:respond")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["golden_set"] == "custom" and report["scores"]["verdict_accuracy/mean"] == 1.0


def test_cli_prints_a_crews_json_schema(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "crews", "schema", "fact_check"], capture_output=True,
                            text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "Fact sheet"
    result = subprocess.run([sys.executable, "-m", "crews", "schema", "contract_qa", "report"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "choose one of question, answer" in result.stderr


def test_cli_runs_a_whole_contract_question_set(tmp_path):
    question_set = {"contracts": ["orbital_supply"], "register_url": "sqlite:///register.db",
                    "questions": [{"question_id": "cap",
                                   "question": "Up to what amount is each party's liability capped?"},
                                  {"question_id": "law", "question": "Which law governs the agreement?",
                                   "contract_id": "helios_nda"}]}
    result = _cli(tmp_path, question_set, "contract_qa", "tests.support.scripted_contract_qa:respond")
    assert result.returncode == 0, result.stderr
    assert [r["item_id"] for r in json.loads(result.stdout)] == ["orbital_supply.cap", "helios_nda.law"]
    bad = _cli(tmp_path, {"questions": [], "registr": "x"}, "contract_qa",
               "tests.support.scripted_contract_qa:respond")
    assert bad.returncode == 2 and "unknown field(s) registr" in bad.stderr
