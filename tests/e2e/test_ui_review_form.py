"""In a real browser: a reviewer can accept an output without typing a correction, and optional fields of the
trigger forms are not marked required.

Headless Chromium signs in to the local Airflow. A draft is triggered over REST and routed to human review
(the real local model; `aurora_launch` goes to review). On the review page, Accept and Reject must be
enabled while the optional correction is empty: a required correction field kept them disabled. The test
accepts, then reads the decision back over REST and from the results table. The trigger forms of the crew
DAGs must show no required marker (*) on Params that may be left empty.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from tests.support.browser import browser_context, require_tools

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import stack  # noqa: E402

pytestmark = pytest.mark.e2e
DAG = "fact_check_copy"
ITEM = f"uireview_{int(time.time())}"  # its own review, whatever earlier runs left pending


def _sign_in(page) -> None:
    password = json.loads((stack.AIRFLOW_HOME / stack.PASSWORDS_FILE).read_text())["admin"]
    page.goto(f"{stack.AIRFLOW_URL}/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/auth/login" not in url, timeout=30_000)


@pytest.fixture(scope="module")
def awaiting_review(api):
    conf = {"drafts": [{"draft_id": ITEM, "copy_file": "drafts/aurora_launch.md",
                        "fact_sheet_file": "fact_sheets/aurora_x2.yaml"}]}
    run = stack.trigger_and_wait(api, DAG, conf, timeout_s=900, stop_at_review=True)
    assert run["state"] == "awaiting_review", run
    return run["dag_run_id"]


def test_a_reviewer_accepts_without_a_correction_in_the_browser(api, awaiting_review, tmp_path):
    require_tools()
    run_id = awaiting_review
    with browser_context(viewport={"width": 1400, "height": 1100}) as context:
        page = context.new_page()
        _sign_in(page)
        page.goto(f"{stack.AIRFLOW_URL}/required_actions?response_received=false")
        page.get_by_text(f"Review copy {ITEM}", exact=True).first.click()
        accept = page.get_by_role("button", name="Accept copy")
        accept.wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "review.png"), full_page=True)
        labels = page.locator("label").all_inner_texts()
        assert "Corrected copy (optional)" in labels, labels  # shown, empty, and not marked required
        assert accept.is_enabled() and page.get_by_role("button", name="Reject copy").is_enabled()
        accept.click()
        details = f"/api/v2/dags/{DAG}/dagRuns/{run_id}/taskInstances/review_copy/0/hitlDetails"
        for _ in range(60):
            detail = api.get(details).json()
            if detail.get("response_received"):
                break
            time.sleep(1)
    assert detail["response_received"] and detail["chosen_options"] == ["Accept copy"], detail
    for _ in range(180):
        if api.get(f"/api/v2/dags/{DAG}/dagRuns/{run_id}").json()["state"] in ("success", "failed"):
            break
        time.sleep(2)
    with sqlite3.connect(stack.STATE / "results.db") as db:  # record_reviews stored the decision
        status, summary = db.execute("SELECT status, summary_json FROM crew_results WHERE dag_run_id = ? AND "
                                     "item_id = ?", (run_id, ITEM)).fetchone()
    review = json.loads(summary)["review"]
    assert status == "accepted" and review["chosen"] == ["Accept copy"] and review["correction"] is None


@pytest.mark.parametrize(("dag_id", "titles"), [
    ("fact_check_copy", ["Drafts"]), ("data_quality_qa", ["Datasets"]),
    ("contract_qa", ["Questions", "Contracts", "Register connection"]),
])
def test_trigger_forms_mark_no_optional_field_required(api, dag_id, titles):
    require_tools()
    stack.wait_for_dag(api, dag_id)
    with browser_context(viewport={"width": 1400, "height": 1100}) as context:
        page = context.new_page()
        _sign_in(page)
        page.goto(f"{stack.AIRFLOW_URL}/dags/{dag_id}")
        page.get_by_role("button", name="Trigger").first.click()
        page.get_by_text("Run Parameters").first.wait_for(timeout=30_000)
        labels = [label.strip() for label in page.locator("label").all_inner_texts()]
    for title in titles:
        assert title in labels, labels  # the label alone: a required field's label ends with "*"
