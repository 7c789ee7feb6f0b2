from crews.results import fetch_results, upsert_results


def _row(item_id, approved, run_id="mlflow-1"):
    return {"crew": "fact_check", "item_id": item_id, "mlflow_run_id": run_id,
            "summary": {"status": "revision approved" if approved else "needs changes", "passed": approved},
            "result": {"revised_copy": f"copy {item_id}"}}


def test_upsert_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upsert_results([_row("a", True), _row("b", False)], "dag", "run1", url)
    upsert_results([_row("a", True), _row("b", True, "mlflow-2")], "dag", "run1", url)  # retry
    rows = fetch_results("fact_check", "run1", url)
    assert [(r.item_id, r.passed, r.mlflow_run_id) for r in rows] == [("a", True, "mlflow-1"),
                                                                      ("b", True, "mlflow-2")]


def test_new_dag_run_adds_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    upsert_results([_row("a", True)], "dag", "run1", url)
    upsert_results([_row("a", False)], "dag", "run2", url)
    assert len(fetch_results("fact_check", url=url)) == 2
    assert fetch_results("fact_check", "run2", url)[0].passed is False


def test_the_stored_summary_carries_the_items_llm_usage(tmp_path):
    import json

    url = f"sqlite:///{tmp_path / 'r.db'}"
    usage = {"llm_calls": 3, "total_tokens": 1572, "cost_usd": 0.0021}
    upsert_results([_row("a", True) | {"usage": usage}, _row("b", True)], "dag", "run1", url)
    a, b = fetch_results("fact_check", "run1", url)
    assert json.loads(a.summary_json)["usage"] == usage and "usage" not in json.loads(b.summary_json)
